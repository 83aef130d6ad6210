package filter

import (
	"strconv"
	"unicode/utf8"
)

// Format returns the canonical text of a filter tree (RFC 7644 §3.4.2.2
// syntax), for logs and tests. Input: any tree built by Parse or by hand;
// a nil Expr (or nil node) gives "<nil>". It never fails.
//
// The canonical form has single spaces between tokens, lowercase
// operators, keywords and literals, attribute names and URNs as written,
// strings re-encoded as JSON (only `"`, `\` and control characters
// escaped; invalid UTF-8 written as \ufffd), numbers as written, "not (x)",
// "attr[filter]", and parentheses only where the tree needs them ("or"
// under "and", and a right operand with the same operator, since chains
// associate to the left). For every tree t from Parse,
// Parse(Format(t)) returns a tree equal to t.
func Format(e Expr) string {
	return string(AppendFormat(nil, e))
}

// AppendFormat appends the canonical text of e (see Format) to dst and
// returns the extended buffer, for allocation-free logging.
func AppendFormat(dst []byte, e Expr) []byte {
	switch e := e.(type) {
	case *Compare:
		if e != nil {
			return e.appendTo(dst)
		}
	case *Logical:
		if e != nil {
			return e.appendTo(dst)
		}
	case *Not:
		if e != nil {
			dst = append(dst, "not ("...)
			dst = AppendFormat(dst, e.X)
			return append(dst, ')')
		}
	case *ValuePath:
		if e != nil {
			dst = e.Path.appendTo(dst)
			dst = append(dst, '[')
			dst = AppendFormat(dst, e.Filter)
			return append(dst, ']')
		}
	}
	return append(dst, "<nil>"...)
}

func (c *Compare) appendTo(dst []byte) []byte {
	dst = c.Path.appendTo(dst)
	dst = append(dst, ' ')
	dst = append(dst, c.Op.String()...)
	if c.Op != Pr {
		dst = append(dst, ' ')
		dst = c.Value.appendTo(dst)
	}
	return dst
}

func (l *Logical) appendTo(dst []byte) []byte {
	// Left operand: only "or" under "and" needs parentheses.
	left, _ := l.Left.(*Logical)
	paren := left != nil && !left.And && l.And
	dst = appendOperand(dst, l.Left, paren)
	if l.And {
		dst = append(dst, " and "...)
	} else {
		dst = append(dst, " or "...)
	}
	// Right operand: everything but "and" under "or" needs them.
	right, _ := l.Right.(*Logical)
	paren = right != nil && !(right.And && !l.And)
	return appendOperand(dst, l.Right, paren)
}

func appendOperand(dst []byte, e Expr, paren bool) []byte {
	if !paren {
		return AppendFormat(dst, e)
	}
	dst = append(dst, '(')
	dst = AppendFormat(dst, e)
	return append(dst, ')')
}

// String returns the canonical text of the comparison (see Format), e.g.
// `userName eq "bjensen"` or `title pr`.
func (c *Compare) String() string { return Format(c) }

// String returns the canonical text of the logical expression (see Format).
func (l *Logical) String() string { return Format(l) }

// String returns the canonical text "not (x)" (see Format).
func (n *Not) String() string { return Format(n) }

// String returns the canonical text "attr[filter]" (see Format).
func (v *ValuePath) String() string { return Format(v) }

// String returns the attribute path as [URN ":"] name ["." sub]
// (RFC 7644 §3.4.2.2 attrPath), names in the case they were written.
func (a AttrPath) String() string {
	return string(a.appendTo(make([]byte, 0, len(a.URN)+len(a.Name)+len(a.Sub)+2)))
}

func (a AttrPath) appendTo(dst []byte) []byte {
	if a.URN != "" {
		dst = append(dst, a.URN...)
		dst = append(dst, ':')
	}
	dst = append(dst, a.Name...)
	if a.Sub != "" {
		dst = append(dst, '.')
		dst = append(dst, a.Sub...)
	}
	return dst
}

// String returns the PATCH path in canonical form (RFC 7644 §3.5.2):
// attrPath, or attrPath "[" filter "]" ["." sub], the filter as by Format.
// ParsePath(p.String()) returns a Path equal to p for every p from
// ParsePath.
func (p Path) String() string {
	dst := p.Attr.appendTo(nil)
	if p.Filter != nil {
		dst = append(dst, '[')
		dst = AppendFormat(dst, p.Filter)
		dst = append(dst, ']')
	}
	if p.Sub != "" {
		dst = append(dst, '.')
		dst = append(dst, p.Sub...)
	}
	return string(dst)
}

var opNames = [...]string{Eq: "eq", Ne: "ne", Co: "co", Sw: "sw", Ew: "ew", Pr: "pr", Gt: "gt", Ge: "ge", Lt: "lt", Le: "le"}

// String returns the lowercase operator as written in a filter ("eq",
// "pr", ...; RFC 7644 Table 3), or "Op(n)" for a value that is not one of
// the constants.
func (o Op) String() string {
	if int(o) < len(opNames) && opNames[o] != "" {
		return opNames[o]
	}
	return "Op(" + strconv.Itoa(int(o)) + ")"
}

// String returns the kind's name: "string", "number", "bool", "null", or
// "ValueKind(n)" for the zero value and unknown kinds.
func (k ValueKind) String() string {
	switch k {
	case KindString:
		return "string"
	case KindNumber:
		return "number"
	case KindBool:
		return "bool"
	case KindNull:
		return "null"
	}
	return "ValueKind(" + strconv.Itoa(int(k)) + ")"
}

// String returns the value as a JSON compValue (RFC 7644 §3.4.2.2): a
// quoted, escaped string, the number's literal text, true, false or null.
// The zero Value (the value of a "pr" comparison) gives "".
func (v Value) String() string { return string(v.appendTo(nil)) }

func (v Value) appendTo(dst []byte) []byte {
	switch v.Kind {
	case KindString:
		return appendQuoted(dst, v.Str)
	case KindNumber:
		return append(dst, v.Str...)
	case KindBool:
		return strconv.AppendBool(dst, v.Bool)
	case KindNull:
		return append(dst, "null"...)
	}
	return dst
}

// appendQuoted appends s as a JSON string.
func appendQuoted(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r != utf8.RuneError || size != 1 {
				i += size
				continue
			}
		}
		dst = append(dst, s[start:i]...)
		switch c {
		case '"', '\\':
			dst = append(dst, '\\', c)
		case '\b':
			dst = append(dst, '\\', 'b')
		case '\f':
			dst = append(dst, '\\', 'f')
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		case '\t':
			dst = append(dst, '\\', 't')
		default:
			if c < 0x20 {
				dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
			} else {
				dst = append(dst, `\ufffd`...) // invalid UTF-8 byte
			}
		}
		i++
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
