package mapping

import (
	"errors"
	"testing"
)

// TestDecodeJSONLoneSurrogate: an unpaired UTF-16 surrogate escape is 400
// invalidSyntax (encoding/json would store U+FFFD); pairs, escaped
// backslashes before a "u" and ordinary escapes are accepted.
func TestDecodeJSONLoneSurrogate(t *testing.T) {
	for _, b := range []string{`{"a":"\ud800"}`, `{"a":"\uDBFFx"}`, `{"a":"\udc00"}`, `{"a":"\ud83d\u0041"}`,
		`{"a":"\ud83d\ud83d"}`, `{"\ud800":1}`, `{"a":"x\\\ud800"}`, `{"a":"\ud83d\"}`} {
		_, err := DecodeJSON([]byte(b))
		var e *Error
		if !errors.As(err, &e) || e.ScimType != ScimInvalidSyntax {
			t.Errorf("%s: %v; want invalidSyntax", b, err)
		}
	}
	for _, b := range []string{`{"a":"\ud83d\ude42"}`, `{"a":"\\ud800"}`, `{"a":"\\\\ud800"}`, `{"a":"\u00e9\n\"\/"}`, `{"a":"\uffff"}`} {
		if _, err := DecodeJSON([]byte(b)); err != nil {
			t.Errorf("%s: %v", b, err)
		}
	}
}
