package mapping

import (
	"errors"
	"testing"
)

func TestFoldKeySameIdentity(t *testing.T) {
	base := "josé@example.com"
	for _, v := range []string{
		"josé@example.com",             // NFC
		"jose\u0301@example.com",       // NFD
		"JOSÉ@EXAMPLE.COM",             // upper case
		"jose\u0301@example.com\u200b", // trailing zero-width space
		" josé@example.com",            // leading space
		"josé@example.com  ",           // trailing spaces
		"ｊｏｓé＠ｅｘａｍｐｌｅ．ｃｏｍ",             // fullwidth
		"jos\u00ade\u0301@example.com", // soft hyphen
		"\ufeffjosé@example.com",       // BOM
		"josé@example.com\u00a0",       // no-break space
	} {
		if got, want := FoldKey(v), FoldKey(base); got != want {
			t.Errorf("FoldKey(%q) = %q, want %q", v, got, want)
		}
	}
	for _, c := range []struct{ a, b string }{
		{"AxonFlow  Admins", "axonflow admins"},
		{"Straße", "STRASSE"},
		{"ＡＢＣ", "abc"},
	} {
		if FoldKey(c.a) != FoldKey(c.b) {
			t.Errorf("FoldKey(%q) = %q != FoldKey(%q) = %q", c.a, FoldKey(c.a), c.b, FoldKey(c.b))
		}
	}
	for _, c := range []struct{ a, b string }{
		{"ada@example.com", "ada2@example.com"},
		{"josé", "jose"},
		{"a b", "ab"},
	} {
		if FoldKey(c.a) == FoldKey(c.b) {
			t.Errorf("FoldKey(%q) == FoldKey(%q)", c.a, c.b)
		}
	}
}

func TestFoldKeyIdempotent(t *testing.T) {
	for _, s := range []string{"", " ", "ADA", "Ǆ", "ΣΑΣ", "ﬁ", "İstanbul", "jose\u0301", "ｶﾞ", "ὒ", "\u1e9e", "a\u200db", "名前 ＡＢ"} {
		k := FoldKey(s)
		if k2 := FoldKey(k); k2 != k {
			t.Errorf("FoldKey(FoldKey(%q)) = %q, want %q", s, k2, k)
		}
	}
}

func TestCheckFoldable(t *testing.T) {
	for _, ok := range []string{"ada@example.com", "josé", "名前@example.com", "AxonFlow Admins", "a😀b"} {
		if err := CheckFoldable("userName", ok); err != nil {
			t.Errorf("CheckFoldable(%q): %v", ok, err)
		}
	}
	for _, bad := range []string{"", "   ", "\u200b", "\u200b\u200c", "a\ufdd0", "a\u0378"} {
		err := CheckFoldable("userName", bad)
		var me *Error
		if !errors.As(err, &me) || me.Status != 400 || me.ScimType != ScimInvalidValue {
			t.Errorf("CheckFoldable(%q) = %v, want 400 invalidValue", bad, err)
		}
	}
}
