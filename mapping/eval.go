package mapping

import (
	"strconv"
	"strings"
	"time"

	"github.com/axonflow/axonflow-sync/mapping/filter"
)

// Matcher reports whether a rendered SCIM resource (as built by
// UserResource or GroupResource) satisfies a compiled filter.
type Matcher func(res map[string]any) bool

// CompileFilter checks a parsed filter against resource type rt and returns
// a Matcher (RFC 7644 §3.4.2.2). Attribute names and operators are
// case-insensitive; string comparisons honour caseExact; dateTime values are
// compared chronologically; a multi-valued complex attribute without a
// sub-attribute compares its "value" sub-attribute. Unknown attributes,
// operators that do not apply to an attribute's type, and values of the wrong
// type are a 400 invalidFilter *Error.
func CompileFilter(rt *ResourceType, e filter.Expr) (Matcher, error) {
	return compileExpr(e, compiler{rt: rt, resolve: func(p filter.AttrPath) (*Attribute, getter, error) { return resolveTop(rt, p) }})
}

// ParseFilter parses and compiles a filter string for rt; parse errors are
// 400 invalidFilter *Error values.
func ParseFilter(rt *ResourceType, s string) (filter.Expr, Matcher, error) {
	e, err := filter.Parse(s)
	if err != nil {
		return nil, nil, badRequest(ScimInvalidFilter, "%v", err)
	}
	m, err := CompileFilter(rt, e)
	if err != nil {
		return nil, nil, err
	}
	return e, m, nil
}

// getter returns the values of an attribute in a resource (or element):
// nil when absent, several for multi-valued attributes.
type getter func(res map[string]any) []any

type resolver func(p filter.AttrPath) (*Attribute, getter, error)

// compiler carries the resource type (nil inside a value filter) and the
// attribute resolver of the current scope.
type compiler struct {
	rt      *ResourceType
	resolve resolver
}

func resolveTop(rt *ResourceType, p filter.AttrPath) (*Attribute, getter, error) {
	a, ext, ok := rt.lookup(p.URN, p.Name)
	if !ok {
		return nil, nil, badRequest(ScimInvalidFilter, "unknown attribute %q in filter", pathString(p))
	}
	container := func(res map[string]any) map[string]any { return res }
	if ext != nil {
		id := ext.ID
		container = func(res map[string]any) map[string]any { m, _ := res[id].(map[string]any); return m }
	}
	name := a.Name
	top := func(res map[string]any) any {
		c := container(res)
		if c == nil {
			return nil
		}
		return c[name]
	}
	if p.Sub == "" && a.Type != TypeComplex {
		return a, func(res map[string]any) []any { return flatten(top(res)) }, nil
	}
	var s *Attribute
	if p.Sub != "" {
		if a.Type != TypeComplex {
			return nil, nil, badRequest(ScimInvalidFilter, "attribute %q has no sub-attributes", a.Name)
		}
		if s = a.Sub(p.Sub); s == nil {
			return nil, nil, badRequest(ScimInvalidFilter, "unknown attribute %q in filter", pathString(p))
		}
	} else {
		if !a.MultiValued || a.Sub("value") == nil {
			// A complex attribute without a "value" sub-attribute (name,
			// addresses, manager) is only tested as a whole: "name pr".
			// comparePredicate rejects any other operator on it.
			return a, func(res map[string]any) []any { return flatten(top(res)) }, nil
		}
		s = a.Sub("value")
	}
	sub := s.Name
	return s, func(res map[string]any) []any {
		var out []any
		for _, el := range flatten(top(res)) {
			if m, ok := el.(map[string]any); ok {
				if v, ok := m[sub]; ok {
					out = append(out, v)
				}
			}
		}
		return out
	}, nil
}

func flatten(v any) []any {
	switch x := v.(type) {
	case nil:
		return nil
	case []any:
		return x
	default:
		return []any{x}
	}
}

func pathString(p filter.AttrPath) string {
	s := p.Name
	if p.URN != "" {
		s = p.URN + ":" + s
	}
	if p.Sub != "" {
		s += "." + p.Sub
	}
	return s
}

// scoped resolves paths inside a value filter against the sub-attributes
// of the multi-valued complex attribute a.
func scoped(a *Attribute) resolver {
	return func(p filter.AttrPath) (*Attribute, getter, error) {
		if p.URN != "" || p.Sub != "" {
			return nil, nil, badRequest(ScimInvalidFilter, "value filter of %q may only name its sub-attributes", a.Name)
		}
		s := a.Sub(p.Name)
		if s == nil {
			return nil, nil, badRequest(ScimInvalidFilter, "unknown sub-attribute %q of %q in filter", p.Name, a.Name)
		}
		name := s.Name
		return s, func(el map[string]any) []any { return flatten(el[name]) }, nil
	}
}

func compileExpr(e filter.Expr, c compiler) (Matcher, error) {
	switch x := e.(type) {
	case *filter.Logical:
		l, err := compileExpr(x.Left, c)
		if err != nil {
			return nil, err
		}
		r, err := compileExpr(x.Right, c)
		if err != nil {
			return nil, err
		}
		if x.And {
			return func(res map[string]any) bool { return l(res) && r(res) }, nil
		}
		return func(res map[string]any) bool { return l(res) || r(res) }, nil
	case *filter.Not:
		m, err := compileExpr(x.X, c)
		if err != nil {
			return nil, err
		}
		return func(res map[string]any) bool { return !m(res) }, nil
	case *filter.ValuePath:
		if c.rt == nil {
			return nil, badRequest(ScimInvalidFilter, "value filters cannot be nested")
		}
		a, elems, err := resolveElements(c.rt, x.Path)
		if err != nil {
			return nil, err
		}
		inner, err := compileExpr(x.Filter, compiler{resolve: scoped(a)})
		if err != nil {
			return nil, err
		}
		return func(res map[string]any) bool {
			for _, el := range elems(res) {
				if m, ok := el.(map[string]any); ok && inner(m) {
					return true
				}
			}
			return false
		}, nil
	case *filter.Compare:
		a, get, err := c.resolve(x.Path)
		if err != nil {
			return nil, err
		}
		pred, err := comparePredicate(a, x)
		if err != nil {
			return nil, err
		}
		if x.Op == filter.Ne || (x.Op == filter.Eq && x.Value.Kind == filter.KindNull) {
			// ne: no value equals; eq null: absent.
			return func(res map[string]any) bool {
				for _, v := range get(res) {
					if !pred(v) {
						return false
					}
				}
				return true
			}, nil
		}
		return func(res map[string]any) bool {
			for _, v := range get(res) {
				if pred(v) {
					return true
				}
			}
			return false
		}, nil
	}
	return nil, badRequest(ScimInvalidFilter, "unsupported filter expression")
}

// resolveElements resolves the multi-valued complex attribute named by a
// value path (e.g. emails in emails[type eq "work"]) and returns a getter
// for its elements.
func resolveElements(rt *ResourceType, p filter.AttrPath) (*Attribute, getter, error) {
	a, ext, ok := rt.lookup(p.URN, p.Name)
	if !ok {
		return nil, nil, badRequest(ScimInvalidFilter, "unknown attribute %q in filter", pathString(p))
	}
	if !a.MultiValued || a.Type != TypeComplex {
		return nil, nil, badRequest(ScimInvalidFilter, "attribute %q is not multi-valued complex: it cannot take a value filter", a.Name)
	}
	name := a.Name
	if ext != nil {
		id := ext.ID
		return a, func(res map[string]any) []any {
			m, _ := res[id].(map[string]any)
			return flatten(m[name])
		}, nil
	}
	return a, func(res map[string]any) []any { return flatten(res[name]) }, nil
}

// comparePredicate returns a function that tests one attribute value
// against the comparison. For Ne it returns "not equal"; for eq null it
// returns "false" (every value present disproves absence).
func comparePredicate(a *Attribute, c *filter.Compare) (func(v any) bool, error) {
	fv := c.Value
	if c.Op == filter.Pr {
		return func(v any) bool {
			switch x := v.(type) {
			case nil:
				return false
			case string:
				return x != ""
			case []any:
				return len(x) > 0
			case map[string]any:
				return len(x) > 0
			}
			return true
		}, nil
	}
	if fv.Kind == filter.KindNull {
		switch c.Op {
		case filter.Eq:
			return func(v any) bool { return v == nil }, nil
		case filter.Ne:
			// "ne null" is "present": handled as "no value is nil"... but an
			// absent attribute has no values and would match; use pr logic.
			return nil, badRequest(ScimInvalidFilter, "use \"%s pr\" instead of \"ne null\"", a.Name)
		default:
			return nil, badRequest(ScimInvalidFilter, "operator cannot compare with null")
		}
	}
	switch a.Type {
	case TypeString, TypeReference, TypeBinary:
		if fv.Kind != filter.KindString {
			return nil, badRequest(ScimInvalidFilter, "attribute %q is a string: compare it with a quoted string", a.Name)
		}
		want := fv.Str
		fold := !a.CaseExact
		foldFn := FoldKey // eq, ne and ordering compare identity keys
		if c.Op == filter.Co || c.Op == filter.Sw || c.Op == filter.Ew {
			foldFn = FoldText // substrings: the same folding, spaces kept
		}
		if fold {
			want = foldFn(want)
		}
		var test func(s string) bool
		switch c.Op {
		case filter.Eq:
			test = func(s string) bool { return s == want }
		case filter.Ne:
			test = func(s string) bool { return s != want }
		case filter.Co:
			test = func(s string) bool { return strings.Contains(s, want) }
		case filter.Sw:
			test = func(s string) bool { return strings.HasPrefix(s, want) }
		case filter.Ew:
			test = func(s string) bool { return strings.HasSuffix(s, want) }
		case filter.Gt:
			test = func(s string) bool { return s > want }
		case filter.Ge:
			test = func(s string) bool { return s >= want }
		case filter.Lt:
			test = func(s string) bool { return s < want }
		case filter.Le:
			test = func(s string) bool { return s <= want }
		default:
			return nil, badRequest(ScimInvalidFilter, "unsupported operator")
		}
		return func(v any) bool {
			s, ok := v.(string)
			if !ok {
				return c.Op == filter.Ne
			}
			if fold {
				s = foldFn(s)
			}
			return test(s)
		}, nil
	case TypeBoolean:
		var want bool
		switch {
		case fv.Kind == filter.KindBool:
			want = fv.Bool
		case fv.Kind == filter.KindString && strings.EqualFold(fv.Str, "true"):
			want = true
		case fv.Kind == filter.KindString && strings.EqualFold(fv.Str, "false"):
			want = false
		default:
			return nil, badRequest(ScimInvalidFilter, "attribute %q is a boolean: compare it with true or false", a.Name)
		}
		switch c.Op {
		case filter.Eq:
			return func(v any) bool { b, ok := v.(bool); return ok && b == want }, nil
		case filter.Ne:
			return func(v any) bool { b, ok := v.(bool); return !ok || b != want }, nil
		}
		return nil, badRequest(ScimInvalidFilter, "attribute %q is a boolean: only eq, ne and pr apply", a.Name)
	case TypeInteger, TypeDecimal:
		if fv.Kind != filter.KindNumber {
			return nil, badRequest(ScimInvalidFilter, "attribute %q is a number: compare it with a number", a.Name)
		}
		want, err := strconv.ParseFloat(fv.Str, 64)
		if err != nil {
			return nil, badRequest(ScimInvalidFilter, "invalid number %q", fv.Str)
		}
		cmp, err := ordering(c.Op, a.Name)
		if err != nil {
			return nil, err
		}
		return func(v any) bool {
			var f float64
			switch x := v.(type) {
			case float64:
				f = x
			case interface{ Float64() (float64, error) }:
				var err error
				if f, err = x.Float64(); err != nil {
					return c.Op == filter.Ne
				}
			default:
				return c.Op == filter.Ne
			}
			return cmp(compareFloat(f, want))
		}, nil
	case TypeDateTime:
		if fv.Kind != filter.KindString {
			return nil, badRequest(ScimInvalidFilter, "attribute %q is a dateTime: compare it with a quoted xsd:dateTime", a.Name)
		}
		want, err := time.Parse(time.RFC3339Nano, fv.Str)
		if err != nil {
			return nil, badRequest(ScimInvalidFilter, "%q is not an xsd:dateTime such as 2026-01-02T03:04:05Z", fv.Str)
		}
		cmp, err := ordering(c.Op, a.Name)
		if err != nil {
			return nil, err
		}
		return func(v any) bool {
			var t time.Time
			switch x := v.(type) {
			case time.Time:
				t = x
			case string:
				var err error
				if t, err = time.Parse(time.RFC3339Nano, x); err != nil {
					return c.Op == filter.Ne
				}
			default:
				return c.Op == filter.Ne
			}
			return cmp(t.Compare(want))
		}, nil
	}
	if a.Type == TypeComplex {
		return nil, badRequest(ScimInvalidFilter, "attribute %q is complex: name a sub-attribute (only pr applies to it as a whole)", a.Name)
	}
	return nil, badRequest(ScimInvalidFilter, "attribute %q cannot be compared", a.Name)
}

func compareFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// ordering maps an operator to a test on a three-way comparison result.
func ordering(op filter.Op, name string) (func(int) bool, error) {
	switch op {
	case filter.Eq:
		return func(c int) bool { return c == 0 }, nil
	case filter.Ne:
		return func(c int) bool { return c != 0 }, nil
	case filter.Gt:
		return func(c int) bool { return c > 0 }, nil
	case filter.Ge:
		return func(c int) bool { return c >= 0 }, nil
	case filter.Lt:
		return func(c int) bool { return c < 0 }, nil
	case filter.Le:
		return func(c int) bool { return c <= 0 }, nil
	}
	return nil, badRequest(ScimInvalidFilter, "operator does not apply to %q (co, sw and ew are for strings)", name)
}
