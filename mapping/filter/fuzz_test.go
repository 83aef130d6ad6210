package filter

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

// seedFilters is the seed corpus of the filter fuzz targets: realistic Okta
// and Entra ID (Azure AD) provisioning filters, the RFC 7644 examples, and
// tricky or invalid inputs. Seeds run in every plain `go test`.
var seedFilters = []string{
	// Okta.
	`userName eq "jdoe@example.com"`,
	`userName eq "Isaiah.Brown@example.okta.com"`,
	`userName eq "x"`,
	`displayName eq "Okta Admins"`,
	`externalId eq "00u1abcd2EFGH3ijk4l5"`,
	`id eq "2819c223-7f76-453a-919d-413861904646"`,
	`emails[type eq "work" and value eq "jdoe@example.com"]`,
	`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "701984"`,
	`meta.lastModified gt "2023-01-01T00:00:00Z"`,
	`urn:okta:onprem_app:1.0:user:custom:department eq "R&D"`,
	// Entra ID.
	`userName eq "AdeleV@contoso.onmicrosoft.com"`,
	`externalId eq "9a4e1b7c-0d3f-4a2b-8c6e-5f1d2e3a4b5c"`,
	`displayName eq "Sales Team"`,
	`members[value eq "2819c223-7f76-453a-919d-413861904646"]`,
	`id eq "1" and members[value eq "2"]`,
	`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "26118915-6090-4610-87e4-49d8ca9f808d"`,
	`active eq true`,
	`emails[type eq "work"]`,
	`addresses[type eq "work" and postalCode eq "98052"]`,
	`phoneNumbers[type eq "mobile"]`,
	// RFC 7644 §3.4.2.2.
	`userName Eq "john"`,
	`Username eq "john"`,
	`name.familyName co "O'Malley"`,
	`urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J"`,
	`title pr`,
	`meta.lastModified ge "2011-05-13T04:42:34Z"`,
	`title pr and userType eq "Employee"`,
	`title pr or userType eq "Intern"`,
	`schemas eq "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"`,
	`userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")`,
	`userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")`,
	`userType eq "Employee" and (emails.type eq "work")`,
	`userType eq "Employee" and emails[type eq "work" and value co "@example.com"]`,
	`emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]`,
	// Precedence, grouping, spacing, case.
	`a pr or b pr and c pr`,
	`(a pr or b pr) and c pr`,
	`a pr and (b pr and c pr)`,
	`a pr or (b pr or c pr)`,
	`not (not (a pr))`,
	`not(a pr)`,
	`( a pr )`,
	`a  pr   AND b PR`,
	`emails [ type eq "work" ]`,
	`emails[not (type eq "work")]`,
	`emails[type eq "work" or type eq "home"]`,
	`not pr`,
	`and pr and or pr`,
	`members.$ref eq "https://example.com/v2/Users/1"`,
	// Values.
	`a eq -1.5E+3`,
	`a eq 0`,
	`a eq 123456789012345678901234567890`,
	`a eq 1e400`,
	`a eq TRUE`,
	`a ne null`,
	`a eq "W/\"990-6468886345120203448\""`,
	`a eq "\\ \/ \b \f \n \r \t"`,
	`a eq "\u00E9\uD83D\uDE00"`,
	`a eq "\u00e9"`,
	`a eq "\uD83D"`,
	"a eq \"日本語\"",
	// Invalid.
	``,
	` `,
	`userName eq bob`,
	`userName eq`,
	`title pr "x"`,
	`a pr and`,
	`(a pr`,
	`a pr)`,
	`emails[type eq "work"`,
	`emails[type eq "work"].value eq "x"`,
	`a[b[c eq 1]]`,
	`name.givenName[value eq "x"]`,
	`a eq "\x"`,
	`a eq 01`,
	`a eq "x" b`,
	`userName eq "x" `,
	`$foo pr`,
	`emails[type eq "work"and value pr]`,
	`emails[(type eq "work")]`,
	`emails[type eq "a" and value co "b" and primary eq true]`,
	"a eq \"\xff\"",
	"a eq \"\uFFFD\"",
}

// seedPaths is the seed corpus of FuzzParsePath.
var seedPaths = []string{
	`userName`,
	`name.givenName`,
	`emails`,
	`members`,
	`active`,
	`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber`,
	`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value`,
	`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager`,
	`urn:ietf:params:scim:schemas:core:2.0:User:name.familyName`,
	`members[value eq "2819c223-7f76-453a-919d-413861904646"]`,
	`members[value eq "x"].display`,
	`emails[type eq "work"].value`,
	`emails[type eq "work" and primary eq true].value`,
	`addresses[type eq "work"].streetAddress`,
	`phoneNumbers[type eq "mobile"].value`,
	`members[value eq "x"].$ref`,
	`emails [ type eq "work" ]`,
	`urn:okta:onprem_app:1.0:user:custom:department`,
	``,
	`name.`,
	`emails[type eq "work"].`,
	`emails[type eq "work"]x`,
	`emails[type eq work]`,
	`name.givenName[value eq "x"]`,
	`members[value[x eq 1]]`,
	`members[value eq "x"or value pr]`,
	`userName eq "x"`,
}

func checkSyntaxError(t *testing.T, in string, err error) {
	t.Helper()
	var se *SyntaxError
	if !errors.As(err, &se) {
		t.Fatalf("%q: error %T %v is not a *SyntaxError", in, err, err)
	}
	if se.Offset < 0 || se.Offset > len(in) {
		t.Fatalf("%q: offset %d out of range", in, se.Offset)
	}
	if se.Msg == "" {
		t.Fatalf("%q: empty message", in)
	}
}

// FuzzParse checks that Parse never panics, fails only with a
// *SyntaxError, accepts only valid UTF-8, and that Format is a fixed point:
// Parse(Format(t)) gives t back.
func FuzzParse(f *testing.F) {
	for _, s := range seedFilters {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e, err := Parse(s)
		if err != nil {
			if e != nil {
				t.Fatalf("%q: tree and error", s)
			}
			checkSyntaxError(t, s, err)
			return
		}
		if e == nil {
			t.Fatalf("%q: nil tree without error", s)
		}
		if !utf8.ValidString(s) {
			t.Fatalf("%q: accepted invalid UTF-8", s)
		}
		text := Format(e)
		if strings.Contains(text, "<nil>") {
			t.Fatalf("%q: tree has nil nodes: %s", s, text)
		}
		e2, err := Parse(text)
		if err != nil {
			t.Fatalf("%q: Format gave %q which does not parse: %v", s, text, err)
		}
		if !reflect.DeepEqual(e, e2) {
			t.Fatalf("%q: Format gave %q which parses to a different tree %s", s, text, Format(e2))
		}
	})
}

// FuzzParsePath checks that ParsePath never panics, that Path.String is a
// fixed point, and that ParsePath agrees with the oracle (see
// oracle_test.go for the documented exceptions).
func FuzzParsePath(f *testing.F) {
	for _, s := range seedPaths {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePath(s)
		if err != nil {
			if !reflect.DeepEqual(p, Path{}) {
				t.Fatalf("%q: non-zero Path and error", s)
			}
			checkSyntaxError(t, s, err)
		} else {
			text := p.String()
			p2, err := ParsePath(text)
			if err != nil {
				t.Fatalf("%q: String gave %q which does not parse: %v", s, text, err)
			}
			if !reflect.DeepEqual(p, p2) {
				t.Fatalf("%q: String gave %q which parses to a different path %s", s, text, p2)
			}
		}
		checkOraclePath(t, s)
	})
}
