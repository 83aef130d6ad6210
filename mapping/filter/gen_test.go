package filter

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// gen produces random filter text from the grammar, with perturbations
// (spacing, case, odd names and values, dropped or doubled tokens) so that
// both valid and almost-valid inputs are common. Fuzzing mutates bytes and
// rarely reaches deep valid filters; this complements it.
type gen struct {
	r     *rand.Rand
	depth int
}

func (g *gen) pick(xs ...string) string { return xs[g.r.IntN(len(xs))] }

func (g *gen) sp() string {
	switch g.r.IntN(20) {
	case 0:
		return ""
	case 1:
		return "  "
	}
	return " "
}

func (g *gen) optSp() string {
	if g.r.IntN(4) == 0 {
		return " "
	}
	return ""
}

func (g *gen) kw(s string) string {
	switch g.r.IntN(6) {
	case 0:
		return strings.ToUpper(s)
	case 1:
		return strings.ToUpper(s[:1]) + s[1:]
	}
	return s
}

func (g *gen) name() string {
	return g.pick("userName", "emails", "value", "type", "a", "b", "x-y_z9", "not", "and", "or", "pr", "eq",
		"$ref", "$REF", "$x", "members", "name", "title", "Not", "notes", "1a", "")
}

func (g *gen) attrPath(allowSub bool) string {
	var b strings.Builder
	if g.r.IntN(5) == 0 {
		b.WriteString(g.pick(enterprise, coreUser, "urn:okta:onprem_app:1.0:user:custom", "a:b", "a.b", "x::y", "urn:x:"))
		b.WriteByte(':')
	}
	b.WriteString(g.name())
	if allowSub && g.r.IntN(4) == 0 {
		b.WriteString("." + g.name())
	}
	return b.String()
}

func (g *gen) value() string {
	switch g.r.IntN(12) {
	case 0:
		return g.kw(g.pick("true", "false", "null"))
	case 1:
		return g.pick("0", "-0", "42", "-1.5e3", "1.5E+3", "2e-07", "01", "1.", ".5", "1e", "123456789012345678901234567890", "1e400", "-")
	case 2:
		return g.pick("bob", "'x'", "truex", "nul")
	case 3:
		return g.pick(`"\u00e9"`, `"\u00E9"`, `"\uD83D\uDE00"`, `"\ud83d"`, `"\x"`, `"\u12"`, `"a\"b"`, `"\\"`, `"\/\b\f\n\r\t"`, "\"\xff\"", "\"\uFFFD\"", "\"日本\"", `"unterminated`, "\"tab\t\"")
	}
	return `"` + g.pick("x", "work", "jdoe@example.com", "", "a b", "(x) [y]", " and ", "2819c223") + `"`
}

func (g *gen) attrExp(inVP bool) string {
	p := g.attrPath(true)
	if g.r.IntN(4) == 0 {
		s := p + g.sp() + g.kw("pr")
		if g.r.IntN(15) == 0 {
			s += " " + g.value()
		}
		return s
	}
	op := g.kw(g.pick("eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le", "eq", "eq"))
	if g.r.IntN(40) == 0 {
		op = g.pick("equals", "=", "")
	}
	return p + g.sp() + op + g.sp() + g.value()
}

func (g *gen) filter(inVP bool) string {
	g.depth++
	defer func() { g.depth-- }()
	n := g.r.IntN(10)
	if g.depth > 4 {
		n = 9
	}
	switch n {
	case 0:
		return g.kw("not") + g.optSp() + "(" + g.optSp() + g.filter(inVP) + g.optSp() + ")"
	case 1:
		return "(" + g.optSp() + g.filter(inVP) + g.optSp() + ")"
	case 2, 3:
		sep := g.sp() + g.kw(g.pick("and", "or")) + g.sp()
		return g.filter(inVP) + sep + g.filter(inVP)
	case 4:
		if !inVP || g.r.IntN(10) == 0 {
			s := g.attrPath(g.r.IntN(10) == 0) + g.optSp() + "[" + g.optSp() + g.filter(true) + g.optSp() + "]"
			if g.r.IntN(15) == 0 {
				s += "." + g.name()
			}
			return s
		}
	}
	return g.attrExp(inVP)
}

func (g *gen) path() string {
	if g.r.IntN(3) == 0 {
		return g.attrPath(true)
	}
	s := g.attrPath(g.r.IntN(10) == 0) + g.optSp() + "[" + g.optSp() + g.filter(true) + g.optSp() + "]"
	if g.r.IntN(2) == 0 {
		s += "." + g.name()
	}
	return s
}

// mutate sometimes breaks the text at the token level.
func (g *gen) mutate(s string) string {
	switch g.r.IntN(8) {
	case 0:
		if len(s) > 0 {
			i := g.r.IntN(len(s))
			return s[:i] + s[i+1:]
		}
	case 1:
		i := g.r.IntN(len(s) + 1)
		return s[:i] + g.pick("(", ")", "[", "]", " ", `"`, ".", ":", "\\") + s[i:]
	case 2:
		return g.pick("", " ") + s + g.pick("", " ", ")", "]")
	}
	return s
}

// TestOracleGenerated runs the differential check on generated filters
// and paths (fixed seed, so failures reproduce).
func TestOracleGenerated(t *testing.T) {
	n := 4000
	if testing.Short() {
		n = 500
	}
	g := &gen{r: rand.New(rand.NewPCG(1, 2))}
	tally := map[string]int{}
	for i := 0; i < n && !t.Failed(); i++ {
		s := g.mutate(g.filter(false))
		_, err := Parse(s)
		tally[map[bool]string{true: "accepted", false: "rejected"}[err == nil]+" "+checkOracle(t, s)]++
		p := g.mutate(g.path())
		_, err = ParsePath(p)
		tally["path "+map[bool]string{true: "accepted", false: "rejected"}[err == nil]+" "+checkOraclePath(t, p)]++
	}
	for k, v := range tally {
		t.Logf("%-60s %d", k, v)
	}
}
