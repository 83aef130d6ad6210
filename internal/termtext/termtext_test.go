package termtext

import (
	"errors"
	"strings"
	"testing"
)

func TestSafe(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"ada@example.com", "ada@example.com"},
		{"josé 名前", "josé 名前"},
		{"a\x1b[2Jb", `a\x1b[2Jb`},
		{"nul\x00", `nul\x00`},
		{"tab\there\nline\r", `tab\x09here\x0aline\x0d`},
		{"del\x7f", `del\x7f`},
		{"c1\u009b31m", `c1\x9b31m`},
		{"evil\u202etxt.exe", `evil\u202etxt.exe`},
		{"iso\u2066x\u2069", `iso\u2066x\u2069`},
		{"mark\u200f", `mark\u200f`},
		{"zw\u200b", `zw\u200b`},
		{"sep\u2028", `sep\u2028`},
		{"bad\xff", `bad\xff`},
	} {
		if got := Safe(c.in); got != c.want {
			t.Errorf("Safe(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	if Cell("") != "-" || Cell("\x1b") != `\x1b` {
		t.Errorf("Cell: %q %q", Cell(""), Cell("\x1b"))
	}
}

type stringer string

func (s stringer) String() string { return string(s) }

func TestFprintf(t *testing.T) {
	var b strings.Builder
	Fprintf(&b, "%s\t%v\t%d\t%q\n", "a\x1bb", errors.New("e\u202e"), 7, "q\x07")
	Fprintln(&b, stringer("s\x9b"), 3)
	want := "a\\x1bb\te\\u202e\t7\t\"q\\\\x07\"\ns\\x9b 3\n"
	if b.String() != want {
		t.Errorf("got %q, want %q", b.String(), want)
	}
}
