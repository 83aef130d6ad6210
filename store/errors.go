package store

import (
	"fmt"
	"strings"

	"github.com/axonflow/axonflow-sync/mapping"
)

// The typed errors every backend returns. Each carries a code of the one
// error vocabulary (mapping.ErrorCode, mapping.ErrorMessage); the edges
// (SCIM, admin API, CLI) map codes to their wire formats. Check them with
// errors.Is / errors.As: backends wrap them with context.

// Error is a store failure with a code (mapping.CodeNotFound, ...) and a
// message, which is also its Error text. The sentinel errors below are
// *Error values; compare with errors.Is.
type Error struct {
	Code    string
	Message string
}

func (e *Error) Error() string { return e.Message }

// ErrorCode returns e.Code.
func (e *Error) ErrorCode() string { return e.Code }

// ErrorMessage returns e.Message.
func (e *Error) ErrorMessage() string { return e.Message }

// ErrNotFound is returned when a tenant, token, user or group does not exist
// in the tenant asked about. Code mapping.CodeNotFound.
var ErrNotFound error = &Error{Code: mapping.CodeNotFound, Message: "store: not found"}

// ErrVersionMismatch is returned by an update whose expected version is not
// the stored one (a concurrent writer won); callers re-read and retry.
// Code mapping.CodeConcurrentChange.
var ErrVersionMismatch error = &Error{Code: mapping.CodeConcurrentChange, Message: "store: version mismatch"}

// ErrUnavailable wraps backend failures (connection refused, timeouts) so
// callers can answer 503 instead of 500. Check with errors.Is. Code
// mapping.CodeUnavailable.
var ErrUnavailable error = &Error{Code: mapping.CodeUnavailable, Message: "store: unavailable"}

// ErrTokenReplaced is returned by SetTokenExpiry recording a replacement
// for a token that already has one (a concurrent rotation won); nothing
// was changed. Code mapping.CodeConcurrentChange.
var ErrTokenReplaced error = &Error{Code: mapping.CodeConcurrentChange, Message: "store: the token was already replaced"}

// ErrLeaseLost is returned by RenewLease when the caller no longer holds the
// lease: it expired, another owner acquired it, or it was released. Code
// mapping.CodeConcurrentChange.
var ErrLeaseLost error = &Error{Code: mapping.CodeConcurrentChange, Message: "store: lease lost"}

// ConflictError is returned when a write would break a uniqueness rule of the
// tenant: Attr is "userName", "externalId" or "displayName", Value the
// offending value as given. Code mapping.CodeConflict.
type ConflictError struct {
	Attr  string
	Value string
}

func (e *ConflictError) Error() string {
	return fmt.Sprintf("store: %s %q is already taken", e.Attr, e.Value)
}

// ErrorCode returns mapping.CodeConflict.
func (e *ConflictError) ErrorCode() string { return mapping.CodeConflict }

// ErrorMessage returns e.Error().
func (e *ConflictError) ErrorMessage() string { return e.Error() }

// UnknownMembersError is returned when a membership change names user ids
// that do not exist in the tenant; nothing was changed. Code
// mapping.CodeInvalid.
type UnknownMembersError struct{ IDs []string }

func (e *UnknownMembersError) Error() string {
	return "store: unknown member ids: " + strings.Join(e.IDs, ", ")
}

// ErrorCode returns mapping.CodeInvalid.
func (e *UnknownMembersError) ErrorCode() string { return mapping.CodeInvalid }

// ErrorMessage returns e.Error().
func (e *UnknownMembersError) ErrorMessage() string { return e.Error() }

// MembersChangedError is returned by UpdateGroup under a MembersGuard
// (MembersGuardOf) that does not hold: Members are the ids of the change's
// Add and Remove that are members of the group at the time of the write
// (any order). Nothing was changed. Logged, which sets the guard, retries
// with the membership it reports; it reaches other callers only wrapped,
// when the membership kept changing. Code mapping.CodeConcurrentChange.
type MembersChangedError struct{ Members []string }

func (e *MembersChangedError) Error() string {
	return fmt.Sprintf("store: the group's membership changed concurrently (%d of the change's ids are members)", len(e.Members))
}

// ErrorCode returns mapping.CodeConcurrentChange.
func (e *MembersChangedError) ErrorCode() string { return mapping.CodeConcurrentChange }

// ErrorMessage returns e.Error().
func (e *MembersChangedError) ErrorMessage() string { return e.Error() }
