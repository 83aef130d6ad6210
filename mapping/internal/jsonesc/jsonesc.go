// Package jsonesc decodes the escape sequences of JSON strings (RFC 8259
// §7) for the hand-written JSON scanners of package mapping: the stored
// attribute decoder, the SCIM filter parser and the request body check for
// unpaired surrogates. It is the one copy of these rules.
package jsonesc

// Text is the input of the decoders: a string or a byte slice.
type Text interface{ ~string | ~[]byte }

// Decode decodes the escape sequence that starts at s[i] (a backslash):
// \" \\ \/ \b \f \n \r \t, or \uXXXX, where a high surrogate followed by an
// escaped low surrogate is combined into one rune (RFC 8259 §7). It returns
// the rune, the number of bytes consumed (2, 6 or 12), lone true for a
// surrogate without its pair (r is then U+FFFD, as encoding/json decodes
// it), and ok false when the sequence is malformed (n is then 0).
func Decode[S Text](s S, i int) (r rune, n int, lone, ok bool) {
	if i+1 >= len(s) || s[i] != '\\' {
		return 0, 0, false, false
	}
	switch e := s[i+1]; e {
	case '"', '\\', '/':
		return rune(e), 2, false, true
	case 'b':
		return '\b', 2, false, true
	case 'f':
		return '\f', 2, false, true
	case 'n':
		return '\n', 2, false, true
	case 'r':
		return '\r', 2, false, true
	case 't':
		return '\t', 2, false, true
	case 'u':
	default:
		return 0, 0, false, false
	}
	r, ok = Hex4(s, i+2)
	switch {
	case !ok:
		return 0, 0, false, false
	case r >= 0xDC00 && r < 0xE000:
		return 0xFFFD, 6, true, true
	case r >= 0xD800 && r < 0xDC00:
		if j := i + 6; j+1 < len(s) && s[j] == '\\' && s[j+1] == 'u' {
			if lo, ok := Hex4(s, j+2); ok && lo >= 0xDC00 && lo < 0xE000 {
				return 0x10000 + (r-0xD800)<<10 + (lo - 0xDC00), 12, false, true
			}
		}
		return 0xFFFD, 6, true, true
	}
	return r, 6, false, true
}

// Hex4 decodes the four hex digits (either case) at s[i:i+4]; ok is false
// when there are fewer than four or one is not a hex digit.
func Hex4[S Text](s S, i int) (r rune, ok bool) {
	if i < 0 || i+4 > len(s) {
		return 0, false
	}
	for k := i; k < i+4; k++ {
		c := s[k]
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c -= 'a' - 10
		case c >= 'A' && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}
