package mapping

import (
	"context"
	"errors"
	"fmt"
)

// scimType values (RFC 7644 §3.12, Table 9).
const (
	ScimInvalidFilter = "invalidFilter"
	ScimTooMany       = "tooMany"
	ScimUniqueness    = "uniqueness"
	ScimMutability    = "mutability"
	ScimInvalidSyntax = "invalidSyntax"
	ScimInvalidPath   = "invalidPath"
	ScimNoTarget      = "noTarget"
	ScimInvalidValue  = "invalidValue"
	ScimInvalidVers   = "invalidVers"
	ScimSensitive     = "sensitive"
)

// Error is a request the SCIM rules reject. Status is the HTTP status
// (400, 404, 409, ...), ScimType the RFC 7644 §3.12 scimType ("" for none)
// and Detail a human-readable explanation that names the attribute.
type Error struct {
	Status   int
	ScimType string
	Detail   string
}

func (e *Error) Error() string {
	if e.ScimType != "" {
		return fmt.Sprintf("%d %s: %s", e.Status, e.ScimType, e.Detail)
	}
	return fmt.Sprintf("%d: %s", e.Status, e.Detail)
}

// badRequest returns a 400 Error with the given scimType.
func badRequest(scimType, format string, args ...any) *Error {
	return &Error{Status: 400, ScimType: scimType, Detail: fmt.Sprintf(format, args...)}
}

// Error codes: the one vocabulary of failures (after WTF Dial's error.go).
// mapping and store errors carry one (ErrorCode); each edge maps codes to
// its wire format in one table: SCIM (SCIMStatus, scimserver/errors.go),
// the admin API (internal/admin/admin.go), CLI exit codes
// (cmd/axonflow-sync/main.go).
const (
	// CodeInvalid: the request or value breaks a rule (SCIM 400).
	CodeInvalid = "invalid"
	// CodeNotFound: the tenant, token, user, group or run does not exist.
	CodeNotFound = "not_found"
	// CodeConflict: the write would break a uniqueness rule.
	CodeConflict = "conflict"
	// CodeConcurrentChange: the object changed since it was read, or a
	// lease was lost; re-read and retry.
	CodeConcurrentChange = "concurrent_change"
	// CodeUnavailable: the store cannot be reached or did not answer in
	// time (a context deadline); retry later.
	CodeUnavailable = "unavailable"
	// CodeInternal: anything else: a bug or an unexpected failure.
	CodeInternal = "internal"
)

// coded is an error that carries a code and a human message.
type coded interface {
	error
	ErrorCode() string
	ErrorMessage() string
}

// ErrorCode returns the code of err: "" for nil; the code of the first
// error in err's chain that carries one (*Error, the store's errors);
// CodeUnavailable for a context deadline; else CodeInternal.
func ErrorCode(err error) string {
	var c coded
	switch {
	case err == nil:
		return ""
	case errors.As(err, &c):
		return c.ErrorCode()
	case errors.Is(err, context.DeadlineExceeded):
		return CodeUnavailable
	}
	return CodeInternal
}

// ErrorMessage returns the human message of err: "" for nil; the message
// of the first error in err's chain that carries a code; else err's text.
// Edges show it only for codes whose messages are meant for clients (not
// CodeInternal, whose text may hold internals).
func ErrorMessage(err error) string {
	var c coded
	switch {
	case err == nil:
		return ""
	case errors.As(err, &c):
		return c.ErrorMessage()
	}
	return err.Error()
}

// ErrorCode returns the code of a SCIM rule violation: CodeNotFound for
// status 404, CodeConflict for 409, CodeInternal for 5xx, else
// CodeInvalid (400, 413, 415, ...).
func (e *Error) ErrorCode() string {
	switch {
	case e.Status == 404:
		return CodeNotFound
	case e.Status == 409:
		return CodeConflict
	case e.Status >= 500:
		return CodeInternal
	}
	return CodeInvalid
}

// ErrorMessage returns e.Detail.
func (e *Error) ErrorMessage() string { return e.Detail }

// scimStatus is the SCIM wire form (RFC 7644 §3.12) of each code: the
// HTTP status and the scimType. scimserver renders errors with it and the
// provisioning log records it for failed writes.
var scimStatus = map[string]struct {
	status   int
	scimType string
}{
	CodeInvalid:          {400, ScimInvalidValue},
	CodeNotFound:         {404, ""},
	CodeConflict:         {409, ScimUniqueness},
	CodeConcurrentChange: {409, ""},
	CodeUnavailable:      {503, ""},
	CodeInternal:         {500, ""},
}

// SCIMStatus returns the HTTP status and SCIM scimType ("" for none) of a
// SCIM request failing with err: an *Error in err's chain gives its own
// Status and ScimType; otherwise the code of err (ErrorCode) decides:
// invalid 400 invalidValue, not_found 404, conflict 409 uniqueness,
// concurrent_change 409, unavailable 503, anything else 500.
func SCIMStatus(err error) (status int, scimType string) {
	var me *Error
	if errors.As(err, &me) {
		return me.Status, me.ScimType
	}
	s, ok := scimStatus[ErrorCode(err)]
	if !ok {
		s = scimStatus[CodeInternal]
	}
	return s.status, s.scimType
}
