package oktasource

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"unicode/utf8"
)

// A single-pass reader for Okta list pages (a JSON array of objects). The
// SDK's decoding reads each body into memory three times and scans it twice
// (readValue, then the decode proper) through reflection; a page is instead
// read once by scanner, which copies out only the strings the listing keeps
// and checks everything else (syntax, nesting, member types) without
// allocating. It is as strict as encoding/json about syntax and member types
// and stricter in one place: only whitespace may follow the array.
//
// Member names are matched as encoding/json matches them into the SDK's
// types (okta.AppUser, okta.User): escapes in names are decoded; a member
// of an SDK struct (an app user's id, status, credentials, …; a
// credentials' userName; a group member's id, status, profile) matches its
// name exactly or else case-insensitively (field); a member of what the SDK
// decodes as a map (profiles, _embedded and its user) matches exactly only,
// so a custom profile attribute EMAIL is not the email.

// maxDepth is the deepest nesting scanner accepts (encoding/json's limit).
const maxDepth = 10000

// scanner reads one JSON document held in b.
type scanner struct {
	b     []byte
	i     int
	depth int
}

// pageError is a syntax or member type error in a page body.
type pageError struct {
	off int
	msg string
}

func (e *pageError) Error() string {
	return fmt.Sprintf("invalid page JSON at byte %d: %s", e.off, e.msg)
}

func (s *scanner) errorf(format string, a ...any) error {
	return &pageError{off: s.i, msg: fmt.Sprintf(format, a...)}
}

// ws skips whitespace and returns the next byte (0 at the end, which only
// s.i == len(s.b) tells from a NUL byte).
func (s *scanner) ws() byte {
	for s.i < len(s.b) {
		switch c := s.b[s.i]; c {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return c
		}
	}
	return 0
}

// kind names the JSON type of a value starting with c, for messages.
func kind(c byte) string {
	switch c {
	case '"':
		return "string"
	case '{':
		return "object"
	case '[':
		return "array"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	case 0:
		return "nothing"
	}
	return "number"
}

// literal consumes the literal lit (true, false or null).
func (s *scanner) literal(lit string) error {
	if len(s.b)-s.i < len(lit) || string(s.b[s.i:s.i+len(lit)]) != lit {
		return s.errorf("invalid literal")
	}
	s.i += len(lit)
	return nil
}

// null consumes `null` when it comes next and reports whether it did.
func (s *scanner) null() (bool, error) {
	if s.ws() != 'n' {
		return false, nil
	}
	return true, s.literal("null")
}

// open consumes the opening bracket c ('[' or '{') and reports false for a
// `null` instead; any other value is a type error naming what.
func (s *scanner) open(c byte, what string) (bool, error) {
	switch s.ws() {
	case c:
		s.i++
		if s.depth++; s.depth > maxDepth {
			return false, s.errorf("nested too deeply")
		}
		return true, nil
	case 'n':
		return false, s.literal("null")
	}
	want := "an object"
	if c == '[' {
		want = "an array"
	}
	return false, s.errorf("%s is a %s, not %s", what, kind(s.ws()), want)
}

// next moves to the next element of the array or object being read (close
// is ']' or '}'): false at its end, which it consumes. first is true before
// the first element and is cleared.
func (s *scanner) next(close byte, first *bool) (bool, error) {
	c := s.ws()
	if c == close {
		s.i++
		s.depth--
		return false, nil
	}
	if !*first {
		if c != ',' {
			return false, s.errorf("expected ',' or '%c'", close)
		}
		s.i++
		s.ws()
	}
	*first = false
	return true, nil
}

// key reads an object member name and its colon. The name is decoded as
// encoding/json decodes it (escapes; invalid UTF-8 and lone surrogates
// become U+FFFD); only a name with escapes is copied.
func (s *scanner) key() ([]byte, error) {
	if s.ws() != '"' {
		return nil, s.errorf("expected a member name")
	}
	raw, dec, err := s.stringRaw()
	if err != nil {
		return nil, err
	}
	if dec && hasBackslash(raw) {
		raw = []byte(jstr{raw: raw, decode: true}.String())
	}
	if s.ws() != ':' {
		return nil, s.errorf("expected ':' after a member name")
	}
	s.i++
	return raw, nil
}

// foldField returns the index of the name in names that encoding/json
// matches member name k to, when names are the JSON names of a struct's
// fields and none is k itself (the caller checks exact names first, as
// encoding/json does): the one k equals under Unicode simple case folding
// (encoding/json's foldName: ASCII letters ignoring case, and also U+017F ſ
// for s and U+212A K for k), else -1. names must be ASCII and differ from
// each other under folding. Only a non-ASCII k allocates.
func foldField(k []byte, names []string) int {
	for _, c := range k {
		if c >= utf8.RuneSelf {
			for i, n := range names {
				if bytes.EqualFold(k, []byte(n)) {
					return i
				}
			}
			return -1
		}
	}
	for i, n := range names {
		if len(n) == len(k) && asciiEqualFold(k, n) {
			return i
		}
	}
	return -1
}

// asciiEqualFold reports whether ASCII k and name, of the same length, are
// equal ignoring the case of letters.
func asciiEqualFold(k []byte, name string) bool {
	for i, c := range k {
		if d := name[i]; c != d {
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			if 'A' <= d && d <= 'Z' {
				d += 'a' - 'A'
			}
			if c != d || c < 'a' || c > 'z' {
				return false
			}
		}
	}
	return true
}

// strSafe marks the bytes that stand for themselves inside a JSON string.
var strSafe = func() (t [256]bool) {
	for c := 0x20; c < 256; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// stringRaw reads a JSON string at s.i (which is '"') and returns its raw
// content and whether it needs decoding (escapes or bytes above 0x7f).
func (s *scanner) stringRaw() (raw []byte, decode bool, err error) {
	start := s.i + 1
	i := start
	b := s.b
	for i < len(b) {
		c := b[i]
		if strSafe[c] {
			if c >= 0x80 {
				decode = true
			}
			i++
			continue
		}
		switch c {
		case '"':
			s.i = i + 1
			return b[start:i], decode, nil
		case '\\':
			decode = true
			if i+1 >= len(b) {
				s.i = i
				return nil, false, s.errorf("unterminated string")
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(b) || !isHex(b[i+2]) || !isHex(b[i+3]) || !isHex(b[i+4]) || !isHex(b[i+5]) {
					s.i = i
					return nil, false, s.errorf("invalid \\u escape")
				}
				i += 6
			default:
				s.i = i
				return nil, false, s.errorf("invalid escape in string")
			}
		default:
			s.i = i
			return nil, false, s.errorf("control character in string")
		}
	}
	s.i = i
	return nil, false, s.errorf("unterminated string")
}

func isHex(c byte) bool { return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F' }

// jstr is a string (or null) member of a page item as it appears in the page
// body: it is only valid while that page is being read. Set says whether
// the member was present (null included).
type jstr struct {
	raw    []byte
	decode bool
	Set    bool
}

// String returns the member's value (null is ""), decoded as encoding/json
// decodes strings (escapes; invalid UTF-8 becomes U+FFFD).
func (v jstr) String() string {
	if !v.decode || (utf8.Valid(v.raw) && !hasBackslash(v.raw)) {
		return string(v.raw)
	}
	var out string
	q := make([]byte, 0, len(v.raw)+2)
	q = append(append(append(q, '"'), v.raw...), '"')
	if err := json.Unmarshal(q, &out); err != nil {
		return string(v.raw) // not reached: the scanner checked the string
	}
	return out
}

func hasBackslash(b []byte) bool {
	for _, c := range b {
		if c == '\\' {
			return true
		}
	}
	return false
}

// Empty reports whether the value is "" (or null or absent). Every escape
// decodes to at least one byte, so the raw length decides.
func (v jstr) Empty() bool { return len(v.raw) == 0 }

// Equal reports whether v and o hold the same string.
func (v jstr) Equal(o jstr) bool {
	if !v.decode && !o.decode {
		return string(v.raw) == string(o.raw)
	}
	return v.String() == o.String()
}

// is reports whether v holds s.
func (v jstr) is(s string) bool {
	if !v.decode {
		return string(v.raw) == s
	}
	return v.String() == s
}

// readStr reads a member that must be a string or null into the string
// field of an SDK struct v (what names the member, for the type error): as
// with encoding/json, null leaves the field as it was.
func (s *scanner) readStr(v *jstr, what string) error {
	return s.readString(v, false, "", what)
}

// readEntry reads a member that must be a string or null into v, an entry
// of what the SDK decodes as a map: null replaces the value (the entry is
// present and "").
func (s *scanner) readEntry(v *jstr, what string) error {
	return s.readString(v, true, "", what)
}

// readEntryIn is readEntry for member name of the object what.
func (s *scanner) readEntryIn(v *jstr, what, name string) error {
	return s.readString(v, true, what, name)
}

// readString is readStr (nullSets false) and readEntry (true); the type
// error names the member in, "." and name, or name alone when in is "".
func (s *scanner) readString(v *jstr, nullSets bool, in, name string) error {
	switch c := s.ws(); c {
	case '"':
		raw, dec, err := s.stringRaw()
		if err != nil {
			return err
		}
		*v = jstr{raw: raw, decode: dec, Set: true}
		return nil
	case 'n':
		if nullSets {
			*v = jstr{Set: true}
		}
		return s.literal("null")
	default:
		if in != "" {
			name = in + "." + name
		}
		return s.errorf("%s is a %s, not a string or null", name, kind(c))
	}
}

// skip reads and checks any JSON value.
func (s *scanner) skip() error {
	switch c := s.ws(); c {
	case '"':
		_, _, err := s.stringRaw()
		return err
	case '{':
		s.i++
		if s.depth++; s.depth > maxDepth {
			return s.errorf("nested too deeply")
		}
		for first := true; ; {
			ok, err := s.next('}', &first)
			if err != nil || !ok {
				return err
			}
			if _, err := s.key(); err != nil {
				return err
			}
			if err := s.skip(); err != nil {
				return err
			}
		}
	case '[':
		s.i++
		if s.depth++; s.depth > maxDepth {
			return s.errorf("nested too deeply")
		}
		for first := true; ; {
			ok, err := s.next(']', &first)
			if err != nil || !ok {
				return err
			}
			if err := s.skip(); err != nil {
				return err
			}
		}
	case 't':
		return s.literal("true")
	case 'f':
		return s.literal("false")
	case 'n':
		return s.literal("null")
	default:
		return s.number()
	}
}

// number reads a JSON number: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
func (s *scanner) number() error {
	b, i := s.b, s.i
	digits := func() bool {
		j := i
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			i++
		}
		return i > j
	}
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && '1' <= b[i] && b[i] <= '9':
		digits()
	default:
		return s.errorf("invalid value")
	}
	if i < len(b) && b[i] == '.' {
		i++
		if !digits() {
			s.i = i
			return s.errorf("invalid number")
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if !digits() {
			s.i = i
			return s.errorf("invalid number")
		}
	}
	s.i = i
	return nil
}

// readPage reads a page body: a JSON array (or null, or an empty body: no
// items) whose items item reads in order, each an object or null (item gets
// null true). An error from item ends the read.
func readPage(body []byte, item func(s *scanner, null bool) error) error {
	s := &scanner{b: body}
	if s.ws(); s.i == len(s.b) {
		return nil
	}
	ok, err := s.open('[', "the page")
	if err != nil {
		return err
	}
	if ok {
		for first := true; ; {
			more, err := s.next(']', &first)
			if err != nil {
				return err
			}
			if !more {
				break
			}
			null, err := s.null()
			if err != nil {
				return err
			}
			if err := item(s, null); err != nil {
				return err
			}
		}
	}
	if s.ws(); s.i != len(s.b) {
		return s.errorf("data after the page's array")
	}
	return nil
}

// object reads an object member (or null, for which it returns false) and
// calls member for each of its members; member must read the value.
func (s *scanner) object(what string, member func(key []byte) error) (bool, error) {
	ok, err := s.open('{', what)
	if err != nil || !ok {
		return false, err
	}
	for first := true; ; {
		more, err := s.next('}', &first)
		if err != nil {
			return false, err
		}
		if !more {
			return true, nil
		}
		k, err := s.key()
		if err != nil {
			return false, err
		}
		if err := member(k); err != nil {
			return false, err
		}
	}
}

var errNotDiverted = errors.New("okta page body was not handed to the lister (not a 2xx JSON response)")
