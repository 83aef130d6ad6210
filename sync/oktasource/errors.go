package oktasource

import (
	"fmt"
	"strings"
)

// Reason classifies why a read from Okta did not complete.
type Reason string

// Reasons an IncompleteError carries.
const (
	// ReasonUnauthorized: HTTP 401 (E0000011, bad or expired API token) or the
	// OAuth token request was rejected (invalid_client, invalid_scope).
	ReasonUnauthorized Reason = "unauthorized"
	// ReasonForbidden: HTTP 403 (E0000006): the token lacks a scope or admin role.
	ReasonForbidden Reason = "forbidden"
	// ReasonNotFound: HTTP 404 (E0000007), or no group has the requested name.
	ReasonNotFound Reason = "not_found"
	// ReasonAmbiguous: several groups match a name case-insensitively.
	ReasonAmbiguous Reason = "ambiguous"
	// ReasonRateLimited: still HTTP 429 (E0000047) after all retries.
	ReasonRateLimited Reason = "rate_limited"
	// ReasonServerError: still HTTP 5xx after all retries.
	ReasonServerError Reason = "server_error"
	// ReasonTransport: network error or timeout after all retries.
	ReasonTransport Reason = "transport"
	// ReasonRepeatedCursor: Okta linked to a page already read (a paging loop).
	ReasonRepeatedCursor Reason = "repeated_cursor"
	// ReasonPageCap: the listing had more pages than Config.PageCap allows.
	ReasonPageCap Reason = "page_cap"
	// ReasonCanceled: the caller's context was canceled or its deadline passed.
	ReasonCanceled Reason = "canceled"
	// ReasonBadRequest: another HTTP 4xx (e.g. 400 E0000001 validation error).
	ReasonBadRequest Reason = "bad_request"
	// ReasonBadResponse: a response that could not be decoded or made no sense.
	ReasonBadResponse Reason = "bad_response"
	// ReasonInvalidInput: the caller passed an unusable argument (e.g. a group
	// id with characters Okta ids never contain).
	ReasonInvalidInput Reason = "invalid_input"
)

// IncompleteError reports a read from Okta (a listing, a lookup, or a whole
// Pull) that did not produce a complete, trustworthy result. Whatever was read
// before the failure has been discarded; the caller must not act on it.
// Match it with errors.As; Reason says why, Listing says what.
type IncompleteError struct {
	// Listing names the read, e.g. `app users of app 0oa…`,
	// `members of group 00g…`, `group 00g…`, `group named "Admins"`.
	Listing string
	Reason  Reason
	// Pages and Items count what had been read before the failure.
	Pages int
	Items int
	// StatusCode is the HTTP status of the failed response (0 if none).
	StatusCode int
	// ErrorCode is Okta's errorCode (E0000047, …) or the OAuth error
	// (invalid_client, …) when the response carried one.
	ErrorCode string
	// RequestID is the failed response's X-Okta-Request-Id, for Okta support.
	RequestID string
	// Attempts is how many times the failed request was sent (1 + retries),
	// when known.
	Attempts int
	// Err is the underlying error (often a *RequestError or an *okta.Error).
	Err error
}

// Error describes what was read, why it stopped and what to check.
func (e *IncompleteError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "oktasource: incomplete read of %s: %s", e.Listing, e.Reason)
	if e.Pages > 0 || e.Items > 0 {
		fmt.Fprintf(&b, " after %d page(s), %d item(s)", e.Pages, e.Items)
	}
	if e.StatusCode != 0 {
		fmt.Fprintf(&b, " (HTTP %d", e.StatusCode)
		if e.ErrorCode != "" {
			fmt.Fprintf(&b, " %s", e.ErrorCode)
		}
		if e.RequestID != "" {
			fmt.Fprintf(&b, ", request id %s", e.RequestID)
		}
		if e.Attempts > 1 {
			fmt.Fprintf(&b, ", %d attempts", e.Attempts)
		}
		b.WriteString(")")
	} else if e.ErrorCode != "" {
		fmt.Fprintf(&b, " (%s)", e.ErrorCode)
	}
	switch e.Reason {
	case ReasonUnauthorized:
		b.WriteString("; check the API token, or the OAuth client id, private key, key id and granted scopes")
	case ReasonForbidden:
		b.WriteString("; the token lacks a scope (okta.apps.read, okta.groups.read, okta.users.read) or admin role")
	}
	if e.Err != nil {
		fmt.Fprintf(&b, ": %v", e.Err)
	}
	return b.String()
}

// Unwrap returns the underlying error.
func (e *IncompleteError) Unwrap() error { return e.Err }

// RequestError is the transport's verdict on one HTTP request that failed for
// good: retries exhausted on 429, 5xx or a network error, or a non-retryable
// network error. It is found in the chain of an IncompleteError.
type RequestError struct {
	Method string
	Path   string
	// StatusCode of the last response (0: no response, see Err).
	StatusCode int
	// ErrorCode and ErrorSummary from Okta's error body, when present.
	ErrorCode    string
	ErrorSummary string
	RequestID    string
	// Attempts is how many times the request was sent.
	Attempts int
	// Err is the last network error, if any.
	Err error
}

// Error describes the request, its last status and the attempts made.
func (e *RequestError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s", e.Method, e.Path)
	if e.StatusCode != 0 {
		fmt.Fprintf(&b, ": HTTP %d", e.StatusCode)
		if e.ErrorCode != "" {
			fmt.Fprintf(&b, " %s", e.ErrorCode)
		}
		if e.ErrorSummary != "" {
			fmt.Fprintf(&b, " %q", e.ErrorSummary)
		}
	}
	if e.Err != nil {
		fmt.Fprintf(&b, ": %v", e.Err)
	}
	fmt.Fprintf(&b, " (gave up after %d attempt(s))", e.Attempts)
	return b.String()
}

// Unwrap returns the last network error, if any.
func (e *RequestError) Unwrap() error { return e.Err }
