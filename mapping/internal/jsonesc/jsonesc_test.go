package jsonesc

import "testing"

func TestDecode(t *testing.T) {
	for _, c := range []struct {
		in       string
		r        rune
		n        int
		lone, ok bool
	}{
		{`\"`, '"', 2, false, true}, {`\\`, '\\', 2, false, true}, {`\/`, '/', 2, false, true},
		{`\b`, '\b', 2, false, true}, {`\f`, '\f', 2, false, true}, {`\n`, '\n', 2, false, true},
		{`\r`, '\r', 2, false, true}, {`\t`, '\t', 2, false, true}, {`\u00E9`, 'é', 6, false, true},
		{`\ud83d\ude42`, '🙂', 12, false, true}, {`\ud83dx`, 0xFFFD, 6, true, true}, {`\ud83d\u0041`, 0xFFFD, 6, true, true},
		{`\udc00`, 0xFFFD, 6, true, true}, {`\ud83d\ud83d`, 0xFFFD, 6, true, true},
		{`\x`, 0, 0, false, false}, {`\u12`, 0, 0, false, false}, {`\u12g4`, 0, 0, false, false}, {`\`, 0, 0, false, false},
	} {
		r, n, lone, ok := Decode(c.in, 0)
		if r != c.r || n != c.n || lone != c.lone || ok != c.ok {
			t.Errorf("Decode(%s) = %q %d %v %v; want %q %d %v %v", c.in, r, n, lone, ok, c.r, c.n, c.lone, c.ok)
		}
		if r2, n2, lone2, ok2 := Decode([]byte(c.in), 0); r2 != r || n2 != n || lone2 != lone || ok2 != ok {
			t.Errorf("Decode([]byte(%s)) differs from the string form", c.in)
		}
	}
}
