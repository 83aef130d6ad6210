package filter

import "strconv"

// SyntaxError reports a malformed filter (RFC 7644 §3.4.2.2) or PATCH path
// (RFC 7644 §3.5.2). It is the only error type returned by Parse and
// ParsePath; a SCIM server maps it to status 400 with scimType
// "invalidFilter" (filters) or "invalidPath" (PATCH paths), RFC 7644 §3.12.
type SyntaxError struct {
	// Msg says what was wrong, e.g. "expected a quoted string value".
	Msg string
	// Offset is the byte offset into the input at which the problem was
	// detected (0 for an empty input; len(input) when input ended too early).
	Offset int

	path bool // the input was a PATCH path, not a filter
}

// Error returns e.g. `invalid filter at offset 9: expected a value: a
// quoted string, number, true, false or null`. For inputs given to
// ParsePath it says "invalid path" instead of "invalid filter".
func (e *SyntaxError) Error() string {
	what := "invalid filter at offset "
	if e.path {
		what = "invalid path at offset "
	}
	return what + strconv.Itoa(e.Offset) + ": " + e.Msg
}
