package filter

// Differential testing against github.com/scim2/filter-parser/v2 (the
// "oracle"). Both parsers must accept and reject the same inputs and, when
// both accept, produce the same tree (compared through Format).
//
// Known, deliberate differences — each one checked by a narrow predicate
// below, never by skipping whole inputs:
//
// We accept, the oracle rejects:
//
//  1. \uXXXX escapes with lowercase hex digits ("\u00e9"). JSON (RFC 8259
//     §7) allows a-f; the oracle's Escaped rule only allows A-F. Checked by
//     upper-casing the escapes and requiring the oracle to then agree.
//  2. Value filters beyond the oracle's subset. RFC 7644 §3.4.2.2 says
//     valFilter = attrExp / logExp / *1"not" "(" valFilter ")", and logExp
//     is FILTER SP ("and" / "or") SP FILTER, so
//     emails[type eq "work" and value co "x" and primary eq true] and
//     emails[type eq "a" and (value co "b" or value co "c")] are valid. The
//     oracle implements only attrExp, one attrExp and/or attrExp pair, and
//     not(...) around those (the Errata 4690 reading). Checked on our tree:
//     some value filter has a shape the oracle cannot produce.
//  3. Redundant grouping parentheses inside a value filter,
//     emails[(type eq "work")]: same RFC rule, FILTER includes "(" FILTER
//     ")". Checked by requiring the oracle to agree on our canonical form.
//  4. "_" in a schema URN (urn:okta:onprem_app:1.0:user:custom:dept, the
//     URN Okta uses for custom attributes of on-premises provisioning
//     apps). RFC 8141 NSS allows "_"; the oracle's URI rule only allows
//     ALPHA / DIGIT / "-" / ".". Checked on our tree.
//
// The oracle accepts, we reject:
//
//  5. "and"/"or" without the surrounding spaces inside brackets,
//     emails[type eq "work"and value pr] or emails[a pr ornot pr]: the
//     oracle's valLogExp uses *SP where the RFC requires SP. Checked by
//     finding such a keyword in a bracket and requiring that we accept the
//     oracle's reading once spelled canonically.
//  6. Attribute names "$" ATTRNAME other than "$ref" ($foo): RFC 7643 §2.1
//     names are ALPHA *nameChar; "$ref" is the only reserved exception.
//     Checked on the oracle's tree.
//  7. A sub-attribute before "[" (name.givenName[value eq "x"]): SCIM has
//     no multi-valued sub-attributes (RFC 7643 §2.4), and our AST has no
//     place for it. Checked on the oracle's tree.
//  8. Invalid UTF-8 inside a quoted string: JSON text must be UTF-8
//     (RFC 8259 §8.1); the oracle decodes bytes to U+FFFD and accepts.
//     Checked with utf8.ValidString.
//  9. Nesting deeper than MaxDepth (a resource limit; the oracle has none).
//     Checked on our error message.
//
// Oracle panics are recovered and reported as test failures (none is known:
// fuzzing found none, although its parser.LookBack looks fragile around
// utf8.RuneError); a new one has to be investigated and documented here.

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	oracle "github.com/scim2/filter-parser/v2"
)

var oracleOps = map[oracle.CompareOperator]Op{
	oracle.EQ: Eq, oracle.NE: Ne, oracle.CO: Co, oracle.SW: Sw, oracle.EW: Ew,
	oracle.PR: Pr, oracle.GT: Gt, oracle.GE: Ge, oracle.LT: Lt, oracle.LE: Le,
}

// fromOracle converts an oracle tree (parsed with json.Number numbers) to
// ours.
func fromOracle(e oracle.Expression) (Expr, error) {
	switch e := e.(type) {
	case *oracle.AttributeExpression:
		op, ok := oracleOps[e.Operator]
		if !ok {
			return nil, fmt.Errorf("unknown oracle operator %q", e.Operator)
		}
		c := &Compare{Path: fromOracleAttrPath(e.AttributePath), Op: op}
		switch v := e.CompareValue.(type) {
		case nil:
			if op != Pr {
				c.Value = Value{Kind: KindNull}
			}
		case bool:
			c.Value = Value{Kind: KindBool, Bool: v}
		case json.Number:
			c.Value = Value{Kind: KindNumber, Str: string(v)}
		case string:
			// The oracle keeps the raw text between the quotes.
			var dec string
			if err := json.Unmarshal([]byte(`"`+v+`"`), &dec); err != nil {
				return nil, fmt.Errorf("oracle string %q: %v", v, err)
			}
			c.Value = Value{Kind: KindString, Str: dec}
		default:
			return nil, fmt.Errorf("unknown oracle value %T", v)
		}
		if op == Pr && c.Value.Kind != 0 {
			return nil, fmt.Errorf("oracle pr with value %v", e.CompareValue)
		}
		return c, nil
	case *oracle.LogicalExpression:
		if e.Operator != oracle.AND && e.Operator != oracle.OR {
			return nil, fmt.Errorf("unknown oracle logical operator %q", e.Operator)
		}
		l, err := fromOracle(e.Left)
		if err != nil {
			return nil, err
		}
		r, err := fromOracle(e.Right)
		if err != nil {
			return nil, err
		}
		return &Logical{And: e.Operator == oracle.AND, Left: l, Right: r}, nil
	case *oracle.NotExpression:
		x, err := fromOracle(e.Expression)
		if err != nil {
			return nil, err
		}
		return &Not{X: x}, nil
	case *oracle.ValuePath:
		f, err := fromOracle(e.ValueFilter)
		if err != nil {
			return nil, err
		}
		return &ValuePath{Path: fromOracleAttrPath(e.AttributePath), Filter: f}, nil
	}
	return nil, fmt.Errorf("unknown oracle node %T", e)
}

func fromOracleAttrPath(a oracle.AttributePath) AttrPath {
	return AttrPath{URN: a.URI(), Name: a.AttributeName, Sub: a.SubAttributeName()}
}

func fromOraclePath(p oracle.Path) (Path, error) {
	out := Path{Attr: fromOracleAttrPath(p.AttributePath), Sub: p.SubAttributeName()}
	if p.ValueExpression != nil {
		f, err := fromOracle(p.ValueExpression)
		if err != nil {
			return Path{}, err
		}
		out.Filter = f
	}
	return out, nil
}

// errOraclePanic marks an input on which the oracle panicked.
var errOraclePanic = errors.New("oracle panicked")

// errConvert marks a failure to convert the oracle's tree: a test bug or an
// oracle bug, never an exception.
type errConvert struct{ error }

func oracleParse(s string) (e Expr, err error) {
	defer func() {
		if r := recover(); r != nil {
			e, err = nil, fmt.Errorf("%w: %v", errOraclePanic, r)
		}
	}()
	oe, err := oracle.ParseFilterNumber([]byte(s))
	if err != nil {
		return nil, err
	}
	e, err = fromOracle(oe)
	if err != nil {
		return nil, errConvert{err}
	}
	return e, nil
}

func oracleParsePath(s string) (p Path, err error) {
	defer func() {
		if r := recover(); r != nil {
			p, err = Path{}, fmt.Errorf("%w: %v", errOraclePanic, r)
		}
	}()
	op, err := oracle.ParsePathNumber([]byte(s))
	if err != nil {
		return Path{}, err
	}
	p, err = fromOraclePath(op)
	if err != nil {
		return Path{}, errConvert{err}
	}
	return p, nil
}

// normalize returns a copy of e with number exponents written "e", as the
// oracle's json.Number spells them.
func normalize(e Expr) Expr {
	switch e := e.(type) {
	case *Compare:
		c := *e
		if c.Value.Kind == KindNumber {
			c.Value.Str = strings.ReplaceAll(c.Value.Str, "E", "e")
		}
		return &c
	case *Logical:
		return &Logical{And: e.And, Left: normalize(e.Left), Right: normalize(e.Right)}
	case *Not:
		return &Not{X: normalize(e.X)}
	case *ValuePath:
		return &ValuePath{Path: e.Path, Filter: normalize(e.Filter)}
	}
	return e
}

func normalizePath(p Path) Path {
	if p.Filter != nil {
		p.Filter = normalize(p.Filter)
	}
	return p
}

// walk calls fn for every node of e.
func walk(e Expr, fn func(Expr)) {
	if e == nil {
		return
	}
	fn(e)
	switch e := e.(type) {
	case *Logical:
		walk(e.Left, fn)
		walk(e.Right, fn)
	case *Not:
		walk(e.X, fn)
	case *ValuePath:
		walk(e.Filter, fn)
	}
}

// attrPaths returns all attribute paths in e (and in p, if given).
func attrPaths(e Expr) []AttrPath {
	var out []AttrPath
	walk(e, func(x Expr) {
		switch x := x.(type) {
		case *Compare:
			out = append(out, x.Path)
		case *ValuePath:
			out = append(out, x.Path)
		}
	})
	return out
}

func pathAttrPaths(p Path) []AttrPath {
	return append(attrPaths(p.Filter), p.Attr)
}

// Exception 4.
func hasUnderscoreURN(paths []AttrPath) bool {
	for _, a := range paths {
		if strings.Contains(a.URN, "_") {
			return true
		}
	}
	return false
}

// Exception 6.
func hasDollarName(paths []AttrPath, extra ...string) bool {
	bad := func(n string) bool { return strings.HasPrefix(n, "$") && !strings.EqualFold(n, "$ref") }
	for _, a := range paths {
		if bad(a.Name) || bad(a.Sub) {
			return true
		}
	}
	for _, n := range extra {
		if bad(n) {
			return true
		}
	}
	return false
}

// valueFilters returns the filters of all value paths in e.
func valueFilters(e Expr) []Expr {
	var out []Expr
	walk(e, func(x Expr) {
		if vp, ok := x.(*ValuePath); ok {
			out = append(out, vp.Filter)
		}
	})
	return out
}

// inOracleSubset reports whether the oracle can produce value filter f:
// attrExp, attrExp (and|or) attrExp, or not (one of those).
func inOracleSubset(f Expr) bool {
	isCmp := func(x Expr) bool { _, ok := x.(*Compare); return ok }
	isPair := func(x Expr) bool {
		l, ok := x.(*Logical)
		return ok && isCmp(l.Left) && isCmp(l.Right)
	}
	if n, ok := f.(*Not); ok {
		f = n.X
	}
	return isCmp(f) || isPair(f)
}

// Exception 2.
func beyondOracleValFilter(filters []Expr) bool {
	for _, f := range filters {
		if !inOracleSubset(f) {
			return true
		}
	}
	return false
}

// checkValFiltersAsFilters backs exception 2: outside brackets the oracle
// supports the full FILTER grammar, so it must read the canonical text of
// each of our value filters as the same tree.
func checkValFiltersAsFilters(t *testing.T, s string, filters []Expr) {
	t.Helper()
	for _, vf := range filters {
		canon := Format(vf)
		theirs, err := oracleParse(canon)
		if err != nil || Format(theirs) != Format(normalize(vf)) {
			t.Errorf("%q: the oracle reads value filter %q as %s (%v)", s, canon, fmtExpr(theirs), err)
		}
	}
}

// Exception 7.
func hasSubBeforeBracket(e Expr) bool {
	found := false
	walk(e, func(x Expr) {
		if vp, ok := x.(*ValuePath); ok && vp.Path.Sub != "" {
			found = true
		}
	})
	return found
}

// bracketSpans calls fn for each byte of s that is inside "[...]" and
// outside a quoted string, with its index.
func bracketSpans(s string, fn func(i int)) {
	depth, inStr := 0, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case inStr:
			if c == '\\' {
				i++
			} else if c == '"' {
				inStr = false
			}
			continue
		case c == '"':
			inStr = true
			continue
		case c == '[':
			depth++
			continue
		case c == ']':
			depth--
			continue
		}
		if depth > 0 {
			fn(i)
		}
	}
}

// Exception 5: an "and"/"or" inside brackets not surrounded by spaces.
func hasTightValLogOp(s string) bool {
	found := false
	bracketSpans(s, func(i int) {
		for _, kw := range []string{"and", "or"} {
			if !hasPrefixFold(s[i:], kw) {
				continue
			}
			end := i + len(kw)
			if i == 0 || s[i-1] != ' ' || end >= len(s) || s[end] != ' ' {
				found = true
			}
		}
	})
	return found
}

// Exception 3: a "(" inside brackets.
func hasParenInBrackets(s string) bool {
	found := false
	bracketSpans(s, func(i int) {
		if s[i] == '(' {
			found = true
		}
	})
	return found
}

// Exception 1: upper-case the hex digits of \u escapes.
func upperHexEscapes(s string) string {
	b := []byte(s)
	for i := 0; i+1 < len(b); i++ {
		if b[i] != '\\' {
			continue
		}
		if b[i+1] == 'u' {
			for k := i + 2; k < i+6 && k < len(b); k++ {
				if b[k] >= 'a' && b[k] <= 'f' {
					b[k] -= 'a' - 'A'
				}
			}
		}
		i++ // skip the escaped character
	}
	return string(b)
}

// checkOracle compares Parse and the oracle on one input. It returns ""
// when they agree, or the name of the documented exception that applies;
// it calls t.Errorf on an undocumented disagreement.
func checkOracle(t *testing.T, s string) string {
	t.Helper()
	ours, ourErr := Parse(s)
	theirs, theirErr := oracleParse(s)
	var ce errConvert
	if errors.As(theirErr, &ce) {
		t.Errorf("%q: converting the oracle's tree: %v", s, ce.error)
		return ""
	}
	if errors.Is(theirErr, errOraclePanic) {
		t.Errorf("%q: %v (undocumented); ours: %s %v", s, theirErr, fmtExpr(ours), ourErr)
		return ""
	}
	switch {
	case ourErr != nil && theirErr != nil:
		return ""
	case ourErr == nil && theirErr == nil:
		if a, b := Format(normalize(ours)), Format(theirs); a != b {
			t.Errorf("%q: trees differ\n ours   %s\n oracle %s", s, a, b)
		}
		return ""
	case ourErr == nil: // we accept, the oracle rejects
		if fixed := upperHexEscapes(s); fixed != s {
			again, err := Parse(fixed)
			if err != nil || !reflect.DeepEqual(again, ours) {
				t.Errorf("%q: upper-casing \\u escapes changed our result: %v %v", s, fmtExpr(again), err)
			}
			if why := checkOracle(t, fixed); why != "" {
				return why
			}
			return "1: lowercase \\u hex"
		}
		if hasUnderscoreURN(attrPaths(ours)) {
			return "4: _ in URN"
		}
		if beyondOracleValFilter(valueFilters(ours)) {
			checkValFiltersAsFilters(t, s, valueFilters(ours))
			return "2: valFilter beyond oracle subset"
		}
		if hasParenInBrackets(s) {
			canon := Format(ours)
			theirs, err := oracleParse(canon)
			if err != nil || Format(theirs) != Format(normalize(ours)) {
				t.Errorf("%q: the oracle disagrees on our canonical form %q: %v %v", s, canon, fmtExpr(theirs), err)
			}
			return "3: grouping in valFilter"
		}
		t.Errorf("%q: we accept (%s), the oracle rejects: %v", s, Format(ours), theirErr)
		return ""
	default: // the oracle accepts, we reject
		if !utf8.ValidString(s) {
			return "8: invalid UTF-8"
		}
		var se *SyntaxError
		if errors.As(ourErr, &se) && se.Msg == "expression nested too deeply" {
			return "9: depth limit"
		}
		if hasDollarName(attrPaths(theirs)) {
			return "6: $name"
		}
		if hasSubBeforeBracket(theirs) {
			return "7: sub-attribute before ["
		}
		if len(valueFilters(theirs)) > 0 && hasTightValLogOp(s) {
			canon := Format(theirs)
			again, err := Parse(canon)
			if err != nil || Format(normalize(again)) != canon {
				t.Errorf("%q: we reject the oracle's reading %q: %v", s, canon, err)
			}
			return "5: and/or without SP in valFilter"
		}
		t.Errorf("%q: the oracle accepts (%s), we reject: %v", s, Format(theirs), ourErr)
		return ""
	}
}

// checkOraclePath is checkOracle for ParsePath.
func checkOraclePath(t *testing.T, s string) string {
	t.Helper()
	ours, ourErr := ParsePath(s)
	theirs, theirErr := oracleParsePath(s)
	var ce errConvert
	if errors.As(theirErr, &ce) {
		t.Errorf("path %q: converting the oracle's tree: %v", s, ce.error)
		return ""
	}
	if errors.Is(theirErr, errOraclePanic) {
		t.Errorf("path %q: %v (undocumented); ours: %v %v", s, theirErr, ours, ourErr)
		return ""
	}
	switch {
	case ourErr != nil && theirErr != nil:
		return ""
	case ourErr == nil && theirErr == nil:
		if a, b := normalizePath(ours).String(), theirs.String(); a != b {
			t.Errorf("path %q: trees differ\n ours   %s\n oracle %s", s, a, b)
		}
		return ""
	case ourErr == nil:
		if fixed := upperHexEscapes(s); fixed != s {
			again, err := ParsePath(fixed)
			if err != nil || !reflect.DeepEqual(again, ours) {
				t.Errorf("path %q: upper-casing \\u escapes changed our result: %v %v", s, again, err)
			}
			if why := checkOraclePath(t, fixed); why != "" {
				return why
			}
			return "1: lowercase \\u hex"
		}
		if hasUnderscoreURN(pathAttrPaths(ours)) {
			return "4: _ in URN"
		}
		filters := valueFilters(ours.Filter)
		if ours.Filter != nil {
			filters = append(filters, ours.Filter)
		}
		if beyondOracleValFilter(filters) {
			checkValFiltersAsFilters(t, s, filters)
			return "2: valFilter beyond oracle subset"
		}
		if hasParenInBrackets(s) {
			canon := ours.String()
			theirs, err := oracleParsePath(canon)
			if err != nil || theirs.String() != normalizePath(ours).String() {
				t.Errorf("path %q: the oracle disagrees on our canonical form %q: %v %v", s, canon, theirs, err)
			}
			return "3: grouping in valFilter"
		}
		t.Errorf("path %q: we accept (%s), the oracle rejects: %v", s, ours, theirErr)
		return ""
	default:
		if !utf8.ValidString(s) {
			return "8: invalid UTF-8"
		}
		var se *SyntaxError
		if errors.As(ourErr, &se) && se.Msg == "expression nested too deeply" {
			return "9: depth limit"
		}
		if hasDollarName(pathAttrPaths(theirs), theirs.Sub) {
			return "6: $name"
		}
		if theirs.Filter != nil && theirs.Attr.Sub != "" || hasSubBeforeBracket(theirs.Filter) {
			return "7: sub-attribute before ["
		}
		if theirs.Filter != nil && hasTightValLogOp(s) {
			canon := theirs.String()
			again, err := ParsePath(canon)
			if err != nil || normalizePath(again).String() != canon {
				t.Errorf("path %q: we reject the oracle's reading %q: %v", s, canon, err)
			}
			return "5: and/or without SP in valFilter"
		}
		t.Errorf("path %q: the oracle accepts (%s), we reject: %v", s, theirs, ourErr)
		return ""
	}
}

func fmtExpr(e Expr) string {
	if e == nil {
		return "<nil>"
	}
	return Format(e)
}

// FuzzParseOracle checks Parse against the oracle: same acceptance, same
// tree, except for the documented exceptions above.
func FuzzParseOracle(f *testing.F) {
	for _, s := range seedFilters {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		checkOracle(t, s)
	})
}

// TestOracleExceptions pins each documented exception to an example, so
// that the list stays accurate: if the oracle (or we) change, the
// exception has to be revisited.
func TestOracleExceptions(t *testing.T) {
	tests := []struct{ in, why string }{
		{`a eq ""`, ""},
		{`userName eq "bjensen"`, ""},
		{`a eq "\u00e9"`, "1: lowercase \\u hex"},
		{`emails[type eq "work" and value co "x" and primary eq true]`, "2: valFilter beyond oracle subset"},
		{`emails[not (type eq "a") and value pr]`, "2: valFilter beyond oracle subset"},
		{`emails[(type eq "work")]`, "3: grouping in valFilter"},
		{`emails[not ((type eq "work"))]`, "3: grouping in valFilter"},
		{`urn:okta:onprem_app:1.0:user:custom:dept eq "x"`, "4: _ in URN"},
		{`emails[type eq "work"and value pr]`, "5: and/or without SP in valFilter"},
		{`emails[a pr ornot pr]`, "5: and/or without SP in valFilter"},
		{`$foo pr`, "6: $name"},
		{`name.givenName[value eq "x"]`, "7: sub-attribute before ["},
		{"a eq \"\xff\"", "8: invalid UTF-8"},
		{strings.Repeat("(", MaxDepth+1) + "a pr" + strings.Repeat(")", MaxDepth+1), "9: depth limit"},
		{"a eq \"\uFFFD\"", ""},
	}
	for _, tt := range tests {
		if why := checkOracle(t, tt.in); why != tt.why {
			t.Errorf("%q: exception %q, want %q", tt.in, why, tt.why)
		}
	}
	paths := []struct{ in, why string }{
		{`members[value eq "x"].display`, ""},
		{`members[value eq "\u00e9"]`, "1: lowercase \\u hex"},
		{`members[value eq "x" or value eq "y" or value eq "z"]`, "2: valFilter beyond oracle subset"},
		{`members[(value eq "x")]`, "3: grouping in valFilter"},
		{`urn:okta:onprem_app:1.0:user:custom:dept`, "4: _ in URN"},
		{`members[value eq "x"or value pr]`, "5: and/or without SP in valFilter"},
		{`members[value eq "x"].$display`, "6: $name"},
		{`name.givenName[value eq "x"]`, "7: sub-attribute before ["},
	}
	for _, tt := range paths {
		if why := checkOraclePath(t, tt.in); why != tt.why {
			t.Errorf("path %q: exception %q, want %q", tt.in, why, tt.why)
		}
	}
}
