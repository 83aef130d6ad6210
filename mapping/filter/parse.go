package filter

import (
	"strconv"
	"unicode/utf8"

	"github.com/axonflow/axonflow-sync/mapping/internal/jsonesc"
)

// MaxDepth is the deepest nesting of parentheses, "not (...)" and value
// path brackets that Parse and ParsePath accept. RFC 7644 sets no limit;
// this one bounds the parser's recursion so that a hostile filter such as
// "((((…" cannot exhaust memory. Real Okta and Entra filters nest at most
// two or three levels.
const MaxDepth = 64

// Parse parses a SCIM filter expression, the value of the "filter" query
// parameter (RFC 7644 §3.4.2.2, ABNF in Figure 1):
//
//	userName eq "bjensen"
//	emails[type eq "work" and value co "@example.com"] or title pr
//	urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "26118915-6090-4610-87e4-49d8ca9f808d"
//	userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")
//
// Input is the filter text after URL decoding. Operators (eq ne co sw ew pr
// gt ge lt le), logical keywords (and, or, not) and the literals true,
// false and null are case-insensitive, as ABNF literals are (RFC 5234
// §2.3). "and" binds tighter than "or"; chains associate to the left.
// Tokens are separated by one or more spaces (SP, 0x20 only); spaces are
// optional after "not", inside "( )" and "[ ]" and before "[", and not
// allowed before the first or after the last token.
//
// Comparison values are JSON (RFC 8259): a double-quoted string with the
// JSON escapes (\" \\ \/ \b \f \n \r \t \uXXXX, surrogate pairs combined,
// lone surrogates decoded as U+FFFD as encoding/json does), a JSON number
// (kept as its literal text), true, false or null. Unquoted strings are
// rejected, and so is invalid UTF-8 inside a string.
//
// Attribute names are ALPHA *(ALPHA / DIGIT / "-" / "_") or "$ref"
// (RFC 7643 §2.1), optionally prefixed by a schema URN (everything up to
// the last ':' before the name, made of ALPHA / DIGIT / "-" / "." / "_"
// segments) and followed by one ".subAttr". A value path attr[filter]
// contains any filter except another value path; its attribute may not
// have a sub-attribute, and it may not be followed by ".subAttr" (that form
// is a PATCH path only, see ParsePath).
//
// On success Parse returns a non-nil tree of *Compare, *Logical, *Not and
// *ValuePath nodes whose strings are sliced from s (a string value is
// copied only if it contains escapes). Otherwise it returns a nil Expr and a
// *SyntaxError. Nesting deeper than MaxDepth is a *SyntaxError too.
func Parse(s string) (Expr, error) {
	p := parser{s: s}
	if s == "" {
		return nil, p.fail(0, "empty filter")
	}
	e, err := p.orExpr(false)
	if err != nil {
		return nil, err
	}
	if p.i != len(s) {
		return nil, p.unexpected("end of filter")
	}
	return e, nil
}

// ParsePath parses the "path" of a SCIM PATCH operation (RFC 7644 §3.5.2):
//
//	PATH = attrPath / valuePath [subAttr]
//
// e.g. `name.givenName`, `members[value eq "2819c223"]`,
// `emails[type eq "work"].value`,
// `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value`.
//
// Attribute paths, value filters, values and spacing follow the same rules
// as Parse. For a plain attrPath the result has Filter == nil and the
// sub-attribute in Attr.Sub; for a valuePath Attr.Sub is "", Filter is the
// bracketed filter and Sub the optional trailing sub-attribute. On failure
// it returns the zero Path and a *SyntaxError (its Error text says
// "invalid path").
func ParsePath(s string) (Path, error) {
	p := parser{s: s, path: true}
	if s == "" {
		return Path{}, p.fail(0, "empty path")
	}
	start := p.i
	ap, err := p.attrPath()
	if err != nil {
		return Path{}, err
	}
	j := p.skipSpaces(p.i)
	if j < len(s) && s[j] == '[' {
		if ap.Sub != "" {
			return Path{}, p.fail(start, "the attribute of a value path cannot have a sub-attribute")
		}
		p.i = j
		f, err := p.bracket()
		if err != nil {
			return Path{}, err
		}
		path := Path{Attr: ap, Filter: f}
		if p.i < len(s) && s[p.i] == '.' {
			p.i++
			if path.Sub, err = p.attrName(); err != nil {
				return Path{}, err
			}
		}
		if p.i != len(s) {
			return Path{}, p.unexpected("end of path")
		}
		return path, nil
	}
	if p.i != len(s) {
		return Path{}, p.unexpected("'[' or end of path")
	}
	return Path{Attr: ap}, nil
}

// parser is a recursive-descent parser over the input string. Each method
// starts at p.i and, on success, leaves p.i just after what it consumed.
type parser struct {
	s     string
	i     int
	depth int
	path  bool // parsing a PATCH path (changes the error text only)
}

func (p *parser) fail(off int, msg string) error {
	return &SyntaxError{Msg: msg, Offset: off, path: p.path}
}

// unexpected reports what is at p.i when want was expected there.
func (p *parser) unexpected(want string) error {
	s, i := p.s, p.i
	if i >= len(s) {
		return p.fail(i, "expected "+want+" but the input ended")
	}
	if s[i] == ' ' {
		j := p.skipSpaces(i)
		if j == len(s) {
			return p.fail(i, "unexpected trailing space")
		}
		i = j
	}
	return p.fail(i, "unexpected "+snippet(s[i:])+", expected "+want)
}

// snippet quotes the start of s for an error message.
func snippet(s string) string {
	n := 0
	for i := range s {
		if n == 12 {
			return strconv.Quote(s[:i]) + "…"
		}
		n++
	}
	return strconv.Quote(s)
}

func (p *parser) skipSpaces(i int) int {
	for i < len(p.s) && p.s[i] == ' ' {
		i++
	}
	return i
}

// keyword consumes SP+ kw SP* (kw a lowercase ASCII word, matched
// case-insensitively and followed by SP or the end of input) if that is
// what follows p.i.
func (p *parser) keyword(kw string) bool {
	s := p.s
	j := p.skipSpaces(p.i)
	if j == p.i || !hasPrefixFold(s[j:], kw) {
		return false
	}
	// The keyword must end at a space, or at the end of the input (which
	// the operand that must follow then reports).
	if e := j + len(kw); e < len(s) && s[e] != ' ' {
		return false
	}
	p.i = p.skipSpaces(j + len(kw))
	return true
}

// hasPrefixFold reports whether s starts with kw (lowercase ASCII letters)
// ignoring ASCII case.
func hasPrefixFold(s, kw string) bool {
	if len(s) < len(kw) {
		return false
	}
	for k := 0; k < len(kw); k++ {
		if s[k]|0x20 != kw[k] {
			return false
		}
	}
	return true
}

// orExpr: andExpr *(SP+ "or" SP+ andExpr), left-associative.
func (p *parser) orExpr(inVP bool) (Expr, error) {
	left, err := p.andExpr(inVP)
	if err != nil {
		return nil, err
	}
	for p.keyword("or") {
		right, err := p.andExpr(inVP)
		if err != nil {
			return nil, err
		}
		left = &Logical{Left: left, Right: right}
	}
	return left, nil
}

// andExpr: unary *(SP+ "and" SP+ unary), left-associative.
func (p *parser) andExpr(inVP bool) (Expr, error) {
	left, err := p.unary(inVP)
	if err != nil {
		return nil, err
	}
	for p.keyword("and") {
		right, err := p.unary(inVP)
		if err != nil {
			return nil, err
		}
		left = &Logical{And: true, Left: left, Right: right}
	}
	return left, nil
}

// unary: "not" SP* group / group / valuePath / attrExp.
func (p *parser) unary(inVP bool) (Expr, error) {
	s, i := p.s, p.i
	if i >= len(s) {
		return nil, p.fail(i, "expected an attribute path, '(' or \"not\" but the input ended")
	}
	switch c := s[i]; {
	case c == '(':
		return p.group(inVP)
	case c|0x20 == 'n' && hasPrefixFold(s[i:], "not"):
		// "not" followed by "(" is the operator; otherwise it is an
		// attribute that happens to be called "not" (or "notes", ...).
		if j := p.skipSpaces(i + 3); j < len(s) && s[j] == '(' {
			p.i = j
			x, err := p.group(inVP)
			if err != nil {
				return nil, err
			}
			return &Not{X: x}, nil
		}
	case c == ' ':
		return nil, p.fail(i, "unexpected space")
	}

	ap, err := p.attrPath()
	if err != nil {
		return nil, err
	}
	j := p.skipSpaces(p.i)
	if j < len(s) && s[j] == '[' {
		if inVP {
			return nil, p.fail(j, "nested value paths are not allowed")
		}
		if ap.Sub != "" {
			return nil, p.fail(i, "the attribute of a value path cannot have a sub-attribute")
		}
		p.i = j
		f, err := p.bracket()
		if err != nil {
			return nil, err
		}
		if p.i < len(s) && s[p.i] == '.' {
			return nil, p.fail(p.i, "a sub-attribute after a value path is only allowed in a PATCH path")
		}
		return &ValuePath{Path: ap, Filter: f}, nil
	}
	if j == p.i {
		if j == len(s) {
			return nil, p.fail(j, "expected a space and an operator after the attribute path")
		}
		return nil, p.fail(j, "unexpected "+snippet(s[j:])+" after the attribute path")
	}
	if j == len(s) {
		return nil, p.fail(p.i, "unexpected trailing space, expected an operator")
	}
	p.i = j

	// compareOp: a run of ASCII letters.
	k := j
	for k < len(s) && charClass[s[k]]&cAlpha != 0 {
		k++
	}
	op := opFromWord(s[j:k])
	if op == 0 {
		if k == j {
			return nil, p.fail(j, "expected an operator (eq, ne, co, sw, ew, gt, ge, lt, le or pr)")
		}
		return nil, p.fail(j, "unknown operator "+strconv.Quote(s[j:k]))
	}
	p.i = k
	if op == Pr {
		if j := p.skipSpaces(k); j > k && j < len(s) && (s[j] == '"' || s[j] == '-' || s[j] >= '0' && s[j] <= '9') {
			return nil, p.fail(j, `"pr" takes no value`)
		}
		return &Compare{Path: ap, Op: Pr}, nil
	}
	if k == len(s) || s[k] != ' ' {
		if k == len(s) {
			return nil, p.fail(k, "expected a space and a value after the operator")
		}
		return nil, p.fail(k, "expected a space after the operator")
	}
	p.i = p.skipSpaces(k)
	v, err := p.value()
	if err != nil {
		return nil, err
	}
	return &Compare{Path: ap, Op: op, Value: v}, nil
}

// group: "(" SP* orExpr SP* ")" with p.i at "(".
func (p *parser) group(inVP bool) (Expr, error) {
	if p.depth++; p.depth > MaxDepth {
		return nil, p.fail(p.i, "expression nested too deeply")
	}
	p.i = p.skipSpaces(p.i + 1)
	x, err := p.orExpr(inVP)
	if err != nil {
		return nil, err
	}
	p.i = p.skipSpaces(p.i)
	if p.i >= len(p.s) || p.s[p.i] != ')' {
		return nil, p.unexpected("\"and\", \"or\" or ')'")
	}
	p.i++
	p.depth--
	return x, nil
}

// bracket: "[" SP* valFilter SP* "]" with p.i at "[".
func (p *parser) bracket() (Expr, error) {
	if p.depth++; p.depth > MaxDepth {
		return nil, p.fail(p.i, "expression nested too deeply")
	}
	p.i = p.skipSpaces(p.i + 1)
	x, err := p.orExpr(true)
	if err != nil {
		return nil, err
	}
	p.i = p.skipSpaces(p.i)
	if p.i >= len(p.s) || p.s[p.i] != ']' {
		return nil, p.unexpected("\"and\", \"or\" or ']'")
	}
	p.i++
	p.depth--
	return x, nil
}

// attrPath: [URN ":"] ATTRNAME ["." ATTRNAME].
func (p *parser) attrPath() (AttrPath, error) {
	s, start := p.s, p.i
	// The URN is the longest run of "segment:" prefixes.
	k := start
	urnEnd := -1
	for {
		m := k
		for m < len(s) && charClass[s[m]]&cURN != 0 {
			m++
		}
		if m == k || m >= len(s) || s[m] != ':' {
			break
		}
		urnEnd = m
		k = m + 1
	}
	var ap AttrPath
	if urnEnd >= 0 {
		ap.URN = s[start:urnEnd]
	}
	p.i = k
	var err error
	if ap.Name, err = p.attrName(); err != nil {
		return AttrPath{}, err
	}
	if p.i < len(s) && s[p.i] == '.' {
		p.i++
		if ap.Sub, err = p.attrName(); err != nil {
			return AttrPath{}, err
		}
	}
	return ap, nil
}

// attrName: ALPHA *nameChar, or "$ref" (any case).
func (p *parser) attrName() (string, error) {
	s, i := p.s, p.i
	j := i
	if j < len(s) && s[j] == '$' {
		j++
	}
	if j >= len(s) || charClass[s[j]]&cAlpha == 0 {
		if j == len(s) {
			return "", p.fail(j, "expected an attribute name but the input ended")
		}
		return "", p.fail(j, "expected an attribute name, got "+snippet(s[j:]))
	}
	for j++; j < len(s) && charClass[s[j]]&cName != 0; j++ {
	}
	if s[i] == '$' && (j-i != 4 || !hasPrefixFold(s[i+1:j], "ref")) {
		return "", p.fail(i, `only "$ref" may begin with '$'`)
	}
	p.i = j
	return s[i:j], nil
}

// value: compValue = false / null / true / number / string.
func (p *parser) value() (Value, error) {
	s, i := p.s, p.i
	if i >= len(s) {
		return Value{}, p.fail(i, "expected a value but the input ended")
	}
	c := s[i]
	switch {
	case c == '"':
		str, err := p.str()
		if err != nil {
			return Value{}, err
		}
		return Value{Kind: KindString, Str: str}, nil
	case c == '-' || c >= '0' && c <= '9':
		return p.number()
	case charClass[c]&cAlpha != 0:
		j := i + 1
		for j < len(s) && charClass[s[j]]&cName != 0 {
			j++
		}
		switch w := s[i:j]; {
		case len(w) == 4 && hasPrefixFold(w, "true"):
			p.i = j
			return Value{Kind: KindBool, Bool: true}, nil
		case len(w) == 5 && hasPrefixFold(w, "false"):
			p.i = j
			return Value{Kind: KindBool}, nil
		case len(w) == 4 && hasPrefixFold(w, "null"):
			p.i = j
			return Value{Kind: KindNull}, nil
		}
		return Value{}, p.fail(i, "expected a value: strings must be quoted, e.g. \""+s[i:j]+"\"")
	}
	return Value{}, p.fail(i, "expected a value: a quoted string, number, true, false or null")
}

// number: JSON number, RFC 8259 §6: [ "-" ] int [ frac ] [ exp ].
func (p *parser) number() (Value, error) {
	s, i := p.s, p.i
	j := i
	if s[j] == '-' {
		j++
	}
	digits := func(j int) int {
		for j < len(s) && s[j] >= '0' && s[j] <= '9' {
			j++
		}
		return j
	}
	switch {
	case j < len(s) && s[j] == '0':
		j++
	case j < len(s) && s[j] >= '1' && s[j] <= '9':
		j = digits(j + 1)
	default:
		return Value{}, p.fail(i, "invalid number")
	}
	if j < len(s) && s[j] == '.' {
		k := digits(j + 1)
		if k == j+1 {
			return Value{}, p.fail(i, "invalid number: expected a digit after '.'")
		}
		j = k
	}
	if j < len(s) && s[j]|0x20 == 'e' {
		j++
		if j < len(s) && (s[j] == '+' || s[j] == '-') {
			j++
		}
		k := digits(j)
		if k == j {
			return Value{}, p.fail(i, "invalid number: expected a digit in the exponent")
		}
		j = k
	}
	if j < len(s) && (charClass[s[j]]&cName != 0 || s[j] == '.') {
		return Value{}, p.fail(i, "invalid number")
	}
	p.i = j
	return Value{Kind: KindNumber, Str: s[i:j]}, nil
}

// str parses a JSON string (RFC 8259 §7) with p.i at the opening quote and
// returns its decoded value. Without escapes the result is a substring of
// the input.
func (p *parser) str() (string, error) {
	s := p.s
	start := p.i + 1
	for i := start; i < len(s); {
		c := s[i]
		switch {
		case c == '"':
			p.i = i + 1
			return s[start:i], nil
		case c == '\\':
			return p.strEscaped(start, i)
		case c < 0x20:
			return "", p.fail(i, "control character in string, it must be escaped")
		case c < utf8.RuneSelf:
			i++
		default:
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				return "", p.fail(i, "invalid UTF-8 in string")
			}
			i += size
		}
	}
	return "", p.fail(p.i, "unterminated string")
}

// strEscaped continues str from the first backslash at i, decoding into a
// new buffer.
func (p *parser) strEscaped(start, i int) (string, error) {
	s := p.s
	buf := make([]byte, 0, len(s)-start)
	buf = append(buf, s[start:i]...)
	for i < len(s) {
		c := s[i]
		switch {
		case c == '"':
			p.i = i + 1
			return string(buf), nil
		case c == '\\':
			if i+1 >= len(s) {
				return "", p.fail(p.i, "unterminated string")
			}
			r, n, _, ok := jsonesc.Decode(s, i)
			switch {
			case !ok && s[i+1] == 'u':
				return "", p.fail(i, `invalid \u escape, expected four hex digits`)
			case !ok:
				return "", p.fail(i, "invalid escape sequence "+snippet(s[i:i+2]))
			}
			buf = utf8.AppendRune(buf, r) // U+FFFD for a lone surrogate, as encoding/json
			i += n
		case c < 0x20:
			return "", p.fail(i, "control character in string, it must be escaped")
		case c < utf8.RuneSelf:
			buf = append(buf, c)
			i++
		default:
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				return "", p.fail(i, "invalid UTF-8 in string")
			}
			buf = append(buf, s[i:i+size]...)
			i += size
		}
	}
	return "", p.fail(p.i, "unterminated string")
}

// opFromWord maps a two-letter operator (any case) to its Op, or 0.
func opFromWord(w string) Op {
	if len(w) != 2 {
		return 0
	}
	switch uint16(w[0]|0x20)<<8 | uint16(w[1]|0x20) {
	case 'e'<<8 | 'q':
		return Eq
	case 'n'<<8 | 'e':
		return Ne
	case 'c'<<8 | 'o':
		return Co
	case 's'<<8 | 'w':
		return Sw
	case 'e'<<8 | 'w':
		return Ew
	case 'p'<<8 | 'r':
		return Pr
	case 'g'<<8 | 't':
		return Gt
	case 'g'<<8 | 'e':
		return Ge
	case 'l'<<8 | 't':
		return Lt
	case 'l'<<8 | 'e':
		return Le
	}
	return 0
}

// Character classes.
const (
	cAlpha = 1 << iota // ALPHA
	cName              // nameChar: ALPHA / DIGIT / "-" / "_"
	cURN               // URN segment: ALPHA / DIGIT / "-" / "." / "_"
)

var charClass = func() (t [256]uint8) {
	for c := 'a'; c <= 'z'; c++ {
		t[c] |= cAlpha | cName | cURN
		t[c-'a'+'A'] |= cAlpha | cName | cURN
	}
	for c := '0'; c <= '9'; c++ {
		t[c] |= cName | cURN
	}
	t['-'] |= cName | cURN
	t['_'] |= cName | cURN
	t['.'] |= cURN
	return t
}()
