package filter

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

const (
	enterprise = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
	coreUser   = "urn:ietf:params:scim:schemas:core:2.0:User"
)

// TestParseValid checks that valid filters parse to the expected canonical
// form, and that the canonical form parses back to the same tree.
func TestParseValid(t *testing.T) {
	tests := []struct{ in, want string }{
		// RFC 7644 §3.4.2.2 examples.
		{`userName eq "bjensen"`, `userName eq "bjensen"`},
		{`name.familyName co "O'Malley"`, `name.familyName co "O'Malley"`},
		{`userName sw "J"`, `userName sw "J"`},
		{`urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J"`, `urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J"`},
		{`title pr`, `title pr`},
		{`meta.lastModified gt "2011-05-13T04:42:34Z"`, `meta.lastModified gt "2011-05-13T04:42:34Z"`},
		{`meta.lastModified ge "2011-05-13T04:42:34Z"`, `meta.lastModified ge "2011-05-13T04:42:34Z"`},
		{`meta.lastModified lt "2011-05-13T04:42:34Z"`, `meta.lastModified lt "2011-05-13T04:42:34Z"`},
		{`meta.lastModified le "2011-05-13T04:42:34Z"`, `meta.lastModified le "2011-05-13T04:42:34Z"`},
		{`title pr and userType eq "Employee"`, `title pr and userType eq "Employee"`},
		{`title pr or userType eq "Intern"`, `title pr or userType eq "Intern"`},
		{`schemas eq "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"`, `schemas eq "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"`},
		{`userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")`, `userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")`},
		{`userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")`, `userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")`},
		{`userType eq "Employee" and (emails.type eq "work")`, `userType eq "Employee" and emails.type eq "work"`},
		{`userType eq "Employee" and emails[type eq "work" and value co "@example.com"]`, `userType eq "Employee" and emails[type eq "work" and value co "@example.com"]`},
		{`emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]`, `emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]`},
		// Okta / Entra provisioning.
		{`userName eq "jdoe@example.com"`, `userName eq "jdoe@example.com"`},
		{`externalId eq "00u1abcd2EFGH3ijk4l5"`, `externalId eq "00u1abcd2EFGH3ijk4l5"`},
		{`displayName eq "Engineering"`, `displayName eq "Engineering"`},
		{`members[value eq "2819c223-7f76-453a-919d-413861904646"]`, `members[value eq "2819c223-7f76-453a-919d-413861904646"]`},
		{enterprise + `:employeeNumber eq "701984"`, enterprise + `:employeeNumber eq "701984"`},
		{enterprise + `:manager.value eq "26118915"`, enterprise + `:manager.value eq "26118915"`},
		{`urn:okta:onprem_app:1.0:user:custom:department eq "R&D"`, `urn:okta:onprem_app:1.0:user:custom:department eq "R&D"`},
		{`emails[type eq "work" and primary eq true]`, `emails[type eq "work" and primary eq true]`},
		{`active eq false`, `active eq false`},
		{`id eq "a" or id eq "b" or id eq "c"`, `id eq "a" or id eq "b" or id eq "c"`},
		// Case-insensitive keywords, operators and literals.
		{`userName EQ "x"`, `userName eq "x"`},
		{`title PR AND userType Ne "x" Or active eQ TRUE`, `title pr and userType ne "x" or active eq true`},
		{`NOT (a pr)`, `not (a pr)`},
		{`a eq False`, `a eq false`},
		{`a eq NULL`, `a eq null`},
		// Whitespace.
		{`userName  eq   "x"`, `userName eq "x"`},
		{`a pr   and    b pr`, `a pr and b pr`},
		{`not(a pr)`, `not (a pr)`},
		{`not   (a pr)`, `not (a pr)`},
		{`(  a pr  )`, `a pr`},
		{`emails[ type eq "work" ]`, `emails[type eq "work"]`},
		{`emails  [type eq "work"]`, `emails[type eq "work"]`},
		// Precedence and grouping.
		{`a pr or b pr and c pr`, `a pr or b pr and c pr`},
		{`a pr and b pr or c pr`, `a pr and b pr or c pr`},
		{`(a pr or b pr) and c pr`, `(a pr or b pr) and c pr`},
		{`a pr and (b pr or c pr)`, `a pr and (b pr or c pr)`},
		{`a pr and (b pr and c pr)`, `a pr and (b pr and c pr)`},
		{`(a pr and b pr) and c pr`, `a pr and b pr and c pr`},
		{`a pr or (b pr or c pr)`, `a pr or (b pr or c pr)`},
		{`a pr or (b pr and c pr)`, `a pr or b pr and c pr`},
		{`((a pr))`, `a pr`},
		{`not (not (a pr))`, `not (not (a pr))`},
		{`not (a pr) and not (b pr)`, `not (a pr) and not (b pr)`},
		// Value filters: full filter grammar except nested value paths.
		{`emails[not (type eq "work")]`, `emails[not (type eq "work")]`},
		{`emails[type eq "work" and (value co "a" or value co "b")]`, `emails[type eq "work" and (value co "a" or value co "b")]`},
		{`emails[type eq "a" or type eq "b" or type eq "c"]`, `emails[type eq "a" or type eq "b" or type eq "c"]`},
		{`emails[(primary eq true)]`, `emails[primary eq true]`},
		{`not (emails[type eq "work"])`, `not (emails[type eq "work"])`},
		{enterprise + `:manager[value eq "x"]`, enterprise + `:manager[value eq "x"]`},
		// Attribute names that look like keywords.
		{`not pr`, `not pr`},
		{`not[a pr]`, `not[a pr]`},
		{`notes eq "x"`, `notes eq "x"`},
		{`and pr and or pr`, `and pr and or pr`},
		{`pr pr`, `pr pr`},
		{`eq eq "eq"`, `eq eq "eq"`},
		{`a-b_c9 pr`, `a-b_c9 pr`},
		{`members.$ref eq "https://example.com/Users/1"`, `members.$ref eq "https://example.com/Users/1"`},
		{`$ref pr`, `$ref pr`},
		{`$REF pr`, `$REF pr`},
		{`a:b pr`, `a:b pr`},
		{`a.b:c.d pr`, `a.b:c.d pr`},
		{`1:b pr`, `1:b pr`},
		// Numbers.
		{`a eq 0`, `a eq 0`},
		{`a eq -0`, `a eq -0`},
		{`a gt 42`, `a gt 42`},
		{`a lt -1.5e3`, `a lt -1.5e3`},
		{`a lt 1.5E+3`, `a lt 1.5E+3`},
		{`a lt 2e-07`, `a lt 2e-07`},
		{`a eq 123456789012345678901234567890`, `a eq 123456789012345678901234567890`},
		{`a eq 1e400`, `a eq 1e400`},
		// Strings and escapes.
		{`a eq ""`, `a eq ""`},
		{`a eq "W/\"990-6468886345120203448\""`, `a eq "W/\"990-6468886345120203448\""`},
		{`a eq "\\ \/ \b \f \n \r \t"`, `a eq "\\ / \b \f \n \r \t"`},
		{`a eq "\u00e9\u00E9"`, `a eq "éé"`},
		{`a eq "\ud83d\ude00"`, `a eq "😀"`},
		{`a eq "\uD83D\uDE00"`, `a eq "😀"`},
		{`a eq "\ud83d"`, "a eq \"\uFFFD\""},
		{`a eq "\ude00\ud83d x"`, "a eq \"\uFFFD\uFFFD x\""},
		{`a eq "\u0001\u001f"`, `a eq "\u0001\u001f"`},
		{`a eq "\u0000"`, `a eq "\u0000"`},
		{"a eq \"日本語 ü\"", "a eq \"日本語 ü\""},
		{"a eq \"\x7f\"", "a eq \"\x7f\""},
		{`a eq "(x) [y] and or not"`, `a eq "(x) [y] and or not"`},
	}
	for _, tt := range tests {
		e, err := Parse(tt.in)
		if err != nil {
			t.Errorf("Parse(%q): unexpected error %v", tt.in, err)
			continue
		}
		got := Format(e)
		if got != tt.want {
			t.Errorf("Format(Parse(%q))\n got  %s\n want %s", tt.in, got, tt.want)
		}
		e2, err := Parse(got)
		if err != nil {
			t.Errorf("Parse(Format(Parse(%q))) = %q: %v", tt.in, got, err)
			continue
		}
		if !reflect.DeepEqual(e, e2) {
			t.Errorf("round trip of %q changed the tree: %s", tt.in, Format(e2))
		}
	}
}

// TestParseTree checks the tree itself, not only its canonical text.
func TestParseTree(t *testing.T) {
	tests := []struct {
		in   string
		want Expr
	}{
		{`userName eq "bjensen"`, &Compare{Path: AttrPath{Name: "userName"}, Op: Eq, Value: Value{Kind: KindString, Str: "bjensen"}}},
		{`title pr`, &Compare{Path: AttrPath{Name: "title"}, Op: Pr}},
		{enterprise + `:manager.value ne null`, &Compare{Path: AttrPath{URN: enterprise, Name: "manager", Sub: "value"}, Op: Ne, Value: Value{Kind: KindNull}}},
		{coreUser + `:name.givenName sw "B"`, &Compare{Path: AttrPath{URN: coreUser, Name: "name", Sub: "givenName"}, Op: Sw, Value: Value{Kind: KindString, Str: "B"}}},
		{`a ge -1.5E3`, &Compare{Path: AttrPath{Name: "a"}, Op: Ge, Value: Value{Kind: KindNumber, Str: "-1.5E3"}}},
		{`a le TRUE`, &Compare{Path: AttrPath{Name: "a"}, Op: Le, Value: Value{Kind: KindBool, Bool: true}}},
		{`a co "x\"y"`, &Compare{Path: AttrPath{Name: "a"}, Op: Co, Value: Value{Kind: KindString, Str: `x"y`}}},
		{`a ew "x" or b gt 1 and c lt 2`, &Logical{
			Left: &Compare{Path: AttrPath{Name: "a"}, Op: Ew, Value: Value{Kind: KindString, Str: "x"}},
			Right: &Logical{And: true,
				Left:  &Compare{Path: AttrPath{Name: "b"}, Op: Gt, Value: Value{Kind: KindNumber, Str: "1"}},
				Right: &Compare{Path: AttrPath{Name: "c"}, Op: Lt, Value: Value{Kind: KindNumber, Str: "2"}}}}},
		{`a pr and b pr and c pr`, &Logical{And: true,
			Left:  &Logical{And: true, Left: &Compare{Path: AttrPath{Name: "a"}, Op: Pr}, Right: &Compare{Path: AttrPath{Name: "b"}, Op: Pr}},
			Right: &Compare{Path: AttrPath{Name: "c"}, Op: Pr}}},
		{`not (emails[type eq "work"])`, &Not{X: &ValuePath{Path: AttrPath{Name: "emails"},
			Filter: &Compare{Path: AttrPath{Name: "type"}, Op: Eq, Value: Value{Kind: KindString, Str: "work"}}}}},
	}
	for _, tt := range tests {
		got, err := Parse(tt.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.in, err)
			continue
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Parse(%q)\n got  %#v\n want %#v", tt.in, got, tt.want)
		}
	}
}

// TestParseInvalid checks that malformed filters are rejected with a
// *SyntaxError at the expected offset (-1: any offset).
func TestParseInvalid(t *testing.T) {
	tests := []struct {
		in     string
		offset int
	}{
		{``, 0},
		{` `, 0},
		{`userName eq bob`, 12},
		{`userName eq 'bob'`, 12},
		{`userName eq`, 11},
		{`userName eq `, 12},
		{`userName "x"`, 9},
		{`userName`, 8},
		{`userName equals "x"`, 9},
		{`userName eq"x"`, 11},
		{`userName =  "x"`, 9},
		{`eq "x"`, 3},
		{`"x" eq userName`, 0},
		{` userName eq "x"`, 0},
		{`userName eq "x" `, 15},
		{`userName	eq "x"`, 8},
		{`title pr "x"`, 9},
		{`title pr true`, 9},
		{`title prx`, 6},
		{`a pr and`, 8},
		{`a pr and `, 9},
		{`a pr or`, 7},
		{`and a pr`, 4},
		{`a pr and and`, 12},
		{`a pr andb pr`, 5},
		{`a pr and(b pr)`, 5},
		{`(a pr)and b pr`, 6},
		{`a pr xor b pr`, 5},
		{`a pr b pr`, 5},
		{`(a pr`, 5},
		{`(a pr or b pr`, 13},
		{`a pr)`, 4},
		{`((a pr)`, 7},
		{`()`, 1},
		{`not ()`, 5},
		{`not a pr`, 4},
		{`not`, 3},
		{`not (a pr`, 9},
		{`emails[type eq "work"`, 21},
		{`emails[type eq "work"]]`, 22},
		{`emails]`, 6},
		{`emails[]`, 7},
		{`emails[type eq "work").`, 21},
		{`emails[type eq "work"].value eq "x"`, 22},
		{`emails[type eq "work"].value`, 22},
		{`a[b[c eq 1]]`, 3},
		{`a[(b[c eq 1])]`, 4},
		{`a[not (b[c eq 1])]`, 8},
		{`name.givenName[value eq "x"]`, 0},
		{`a eq "x" [b pr]`, 9},
		{`a.b.c pr`, 3},
		{`a. pr`, 2},
		{`.a pr`, 0},
		{`1a pr`, 0},
		{`-a pr`, 0},
		{`a:b: pr`, 4},
		{`a::b pr`, 2},
		{`:a pr`, 0},
		{`urn:x:1a pr`, 6},
		{`$foo pr`, 0},
		{`$ pr`, 1},
		{`a.$refs pr`, 2},
		{`a eq "unterminated`, 5},
		{`a eq "x\"`, 5},
		{`a eq "\x"`, 6},
		{`a eq "\u12"`, 6},
		{`a eq "\u12G4"`, 6},
		{`a eq "\U1234"`, 6},
		{`a eq "\'"`, 6},
		{"a eq \"tab\there\"", 9},
		{"a eq \"nl\nhere\"", 8},
		{"a eq \"\xff\"", 6},
		{"a eq \"\xed\xa0\x80\"", 6},
		{`a eq 01`, 5},
		{`a eq 1.`, 5},
		{`a eq .5`, 5},
		{`a eq 1e`, 5},
		{`a eq 1e+`, 5},
		{`a eq +1`, 5},
		{`a eq -`, 5},
		{`a eq 0x10`, 5},
		{`a eq 1a`, 5},
		{`a eq 1.5.5`, 5},
		{`a eq truex`, 5},
		{`a eq tru`, 5},
		{`a eq nil`, 5},
		{`a eq true1`, 5},
		{`a eq "x""y"`, 8},
		{`a eq "x" b`, 9},
		{"a eq \"x\"\x00", 8},
		{`a eq "x" and`, 12},
		{"userName eq \"x\"\n", 15},
		{strings.Repeat("(", MaxDepth+1) + "a pr" + strings.Repeat(")", MaxDepth+1), MaxDepth},
	}
	for _, tt := range tests {
		e, err := Parse(tt.in)
		if err == nil {
			t.Errorf("Parse(%q) = %s, want an error", tt.in, Format(e))
			continue
		}
		if e != nil {
			t.Errorf("Parse(%q) returned a tree with error %v", tt.in, err)
		}
		var se *SyntaxError
		if !errors.As(err, &se) {
			t.Errorf("Parse(%q): error %T is not a *SyntaxError", tt.in, err)
			continue
		}
		if tt.offset >= 0 && se.Offset != tt.offset {
			t.Errorf("Parse(%q): offset %d, want %d (%v)", tt.in, se.Offset, tt.offset, err)
		}
		if !strings.HasPrefix(err.Error(), "invalid filter at offset ") {
			t.Errorf("Parse(%q): error text %q", tt.in, err)
		}
	}
}

// TestMaxDepth checks that nesting up to MaxDepth is accepted.
func TestMaxDepth(t *testing.T) {
	in := strings.Repeat("not (", MaxDepth-1) + `emails[type eq "work"]` + strings.Repeat(")", MaxDepth-1)
	if _, err := Parse(in); err != nil {
		t.Fatalf("depth %d: %v", MaxDepth, err)
	}
	in = strings.Repeat("not (", MaxDepth) + `emails[type eq "work"]` + strings.Repeat(")", MaxDepth)
	if _, err := Parse(in); err == nil {
		t.Fatalf("depth %d accepted", MaxDepth+1)
	}
}

func TestSyntaxErrorText(t *testing.T) {
	_, err := Parse(`userName eq bob`)
	const want = `invalid filter at offset 12: expected a value: strings must be quoted, e.g. "bob"`
	if err == nil || err.Error() != want {
		t.Errorf("got %v, want %s", err, want)
	}
	_, err = ParsePath(`emails[type eq work]`)
	const wantPath = `invalid path at offset 15: expected a value: strings must be quoted, e.g. "work"`
	if err == nil || err.Error() != wantPath {
		t.Errorf("got %v, want %s", err, wantPath)
	}
	_, err = Parse(`title pr "x"`)
	const wantPr = `invalid filter at offset 9: "pr" takes no value`
	if err == nil || err.Error() != wantPr {
		t.Errorf("got %v, want %s", err, wantPr)
	}
	_, err = Parse(`a pr or b pr)`)
	const wantTrail = `invalid filter at offset 12: unexpected ")", expected end of filter`
	if err == nil || err.Error() != wantTrail {
		t.Errorf("got %v, want %s", err, wantTrail)
	}
}

func TestParsePathValid(t *testing.T) {
	tests := []struct {
		in   string
		want Path
		text string
	}{
		{`userName`, Path{Attr: AttrPath{Name: "userName"}}, `userName`},
		{`name.givenName`, Path{Attr: AttrPath{Name: "name", Sub: "givenName"}}, `name.givenName`},
		{enterprise + `:employeeNumber`, Path{Attr: AttrPath{URN: enterprise, Name: "employeeNumber"}}, enterprise + `:employeeNumber`},
		{enterprise + `:manager.value`, Path{Attr: AttrPath{URN: enterprise, Name: "manager", Sub: "value"}}, enterprise + `:manager.value`},
		{`members[value eq "2819c223"]`, Path{Attr: AttrPath{Name: "members"},
			Filter: &Compare{Path: AttrPath{Name: "value"}, Op: Eq, Value: Value{Kind: KindString, Str: "2819c223"}}}, `members[value eq "2819c223"]`},
		{`emails[type eq "work"].value`, Path{Attr: AttrPath{Name: "emails"},
			Filter: &Compare{Path: AttrPath{Name: "type"}, Op: Eq, Value: Value{Kind: KindString, Str: "work"}}, Sub: "value"}, `emails[type eq "work"].value`},
		{`members[value eq "x"].$ref`, Path{Attr: AttrPath{Name: "members"},
			Filter: &Compare{Path: AttrPath{Name: "value"}, Op: Eq, Value: Value{Kind: KindString, Str: "x"}}, Sub: "$ref"}, `members[value eq "x"].$ref`},
		{coreUser + `:emails[type EQ "work" AND primary eq TRUE].display`, Path{Attr: AttrPath{URN: coreUser, Name: "emails"},
			Filter: &Logical{And: true,
				Left:  &Compare{Path: AttrPath{Name: "type"}, Op: Eq, Value: Value{Kind: KindString, Str: "work"}},
				Right: &Compare{Path: AttrPath{Name: "primary"}, Op: Eq, Value: Value{Kind: KindBool, Bool: true}}},
			Sub: "display"}, coreUser + `:emails[type eq "work" and primary eq true].display`},
		{`addresses [ type eq "work" ]`, Path{Attr: AttrPath{Name: "addresses"},
			Filter: &Compare{Path: AttrPath{Name: "type"}, Op: Eq, Value: Value{Kind: KindString, Str: "work"}}}, `addresses[type eq "work"]`},
		{`members[not (value pr)]`, Path{Attr: AttrPath{Name: "members"},
			Filter: &Not{X: &Compare{Path: AttrPath{Name: "value"}, Op: Pr}}}, `members[not (value pr)]`},
		{`not`, Path{Attr: AttrPath{Name: "not"}}, `not`},
		{`$ref`, Path{Attr: AttrPath{Name: "$ref"}}, `$ref`},
	}
	for _, tt := range tests {
		got, err := ParsePath(tt.in)
		if err != nil {
			t.Errorf("ParsePath(%q): %v", tt.in, err)
			continue
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParsePath(%q)\n got  %#v\n want %#v", tt.in, got, tt.want)
		}
		if s := got.String(); s != tt.text {
			t.Errorf("ParsePath(%q).String() = %s, want %s", tt.in, s, tt.text)
		}
		again, err := ParsePath(got.String())
		if err != nil || !reflect.DeepEqual(again, got) {
			t.Errorf("round trip of %q: %v %v", tt.in, again, err)
		}
	}
}

func TestParsePathInvalid(t *testing.T) {
	tests := []struct {
		in     string
		offset int
	}{
		{``, 0},
		{` `, 0},
		{`userName `, 8},
		{` userName`, 0},
		{`name.`, 5},
		{`name.givenName.x`, 14},
		{`name..x`, 5},
		{`urn:x:`, 6},
		{`emails[`, 7},
		{`emails[]`, 7},
		{`emails[type eq "work"`, 21},
		{`emails[type eq "work"].`, 23},
		{`emails[type eq "work"]value`, 22},
		{`emails[type eq "work"] .value`, 23},
		{`emails[type eq "work"].value.x`, 28},
		{`emails[type eq "work"][primary eq true]`, 22},
		{`emails[type eq work]`, 15},
		{`emails[type pr "x"]`, 15},
		{`members[value[x eq 1]]`, 13},
		{`name.givenName[value eq "x"]`, 0},
		{`userName eq "x"`, 9},
		{`a pr`, 2},
		{`(a)`, 0},
		{`$x`, 0},
		{`emails[type eq "work"].$x`, 23},
	}
	for _, tt := range tests {
		got, err := ParsePath(tt.in)
		if err == nil {
			t.Errorf("ParsePath(%q) = %s, want an error", tt.in, got)
			continue
		}
		if !reflect.DeepEqual(got, Path{}) {
			t.Errorf("ParsePath(%q) returned a non-zero Path with error %v", tt.in, err)
		}
		var se *SyntaxError
		if !errors.As(err, &se) {
			t.Errorf("ParsePath(%q): error %T is not a *SyntaxError", tt.in, err)
			continue
		}
		if tt.offset >= 0 && se.Offset != tt.offset {
			t.Errorf("ParsePath(%q): offset %d, want %d (%v)", tt.in, se.Offset, tt.offset, err)
		}
		if !strings.HasPrefix(err.Error(), "invalid path at offset ") {
			t.Errorf("ParsePath(%q): error text %q", tt.in, err)
		}
	}
}

func TestFormatHandBuilt(t *testing.T) {
	a := &Compare{Path: AttrPath{Name: "a"}, Op: Pr}
	b := &Compare{Path: AttrPath{Name: "b"}, Op: Pr}
	tests := []struct {
		e    Expr
		want string
	}{
		{nil, "<nil>"},
		{(*Compare)(nil), "<nil>"},
		{&Logical{And: true, Left: &Logical{Left: a, Right: b}, Right: &Logical{Left: a, Right: b}}, "(a pr or b pr) and (a pr or b pr)"},
		{&Logical{Left: &Logical{And: true, Left: a, Right: b}, Right: &Logical{And: true, Left: a, Right: b}}, "a pr and b pr or a pr and b pr"},
		{&Logical{Left: a, Right: &Logical{Left: a, Right: b}}, "a pr or (a pr or b pr)"},
		{&Compare{Path: AttrPath{Name: "a"}, Op: Eq, Value: Value{Kind: KindString, Str: "\xff\"\\\x01"}}, `a eq "\ufffd\"\\\u0001"`},
		{&Compare{Path: AttrPath{Name: "a"}, Op: Op(99), Value: Value{Kind: KindNull}}, `a Op(99) null`},
	}
	for _, tt := range tests {
		if got := Format(tt.e); got != tt.want {
			t.Errorf("Format = %s, want %s", got, tt.want)
		}
	}
	if s := a.String(); s != "a pr" {
		t.Errorf("Compare.String() = %q", s)
	}
	if s := (Value{}).String(); s != "" {
		t.Errorf("zero Value.String() = %q", s)
	}
	if s := KindNumber.String(); s != "number" {
		t.Errorf("KindNumber.String() = %q", s)
	}
}
