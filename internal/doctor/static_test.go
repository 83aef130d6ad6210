package doctor

import (
	"strings"
	"testing"
)

func TestCheckURL(t *testing.T) {
	for _, tc := range []struct {
		url   string
		check string
		sev   Severity
		says  string
		base  string // what requests are built on ("" when none can be)
	}{
		{"https://scim.acme.com/scim/v2", "base-url", SeverityOK, "has the form", "https://scim.acme.com/scim/v2"},
		{"https://scim.acme.com/portal/scim/v2", "base-url", SeverityOK, "has the form", "https://scim.acme.com/portal/scim/v2"},
		{"https://scim.acme.com/scim/v2/", "base-url", SeverityError, "ends with a slash", "https://scim.acme.com/scim/v2/"},
		{"https://scim.acme.com/scim/v2/Users", "base-url", SeverityError, `"/Users" after /scim/v2`, "https://scim.acme.com/scim/v2/Users"},
		{"https://scim.acme.com/scim/v2?tenant=a", "base-url", SeverityError, "query string", "https://scim.acme.com/scim/v2"},
		{"https://scim.acme.com/api/scim", "base-url", SeverityWarning, `"/api/scim"`, "https://scim.acme.com/api/scim"},
		{"scim.acme.com/scim/v2", "base-url", SeverityError, "no scheme", "https://scim.acme.com/scim/v2"},
		{"ftp://scim.acme.com/scim/v2", "base-url", SeverityError, "not an http(s) URL", ""},
		{"https://user:pw@scim.acme.com/scim/v2", "base-url", SeverityError, "user name or password", "https://scim.acme.com/scim/v2"},
		{" https://scim.acme.com/scim/v2", "base-url", SeverityWarning, "spaces around", "https://scim.acme.com/scim/v2"},
		{"http://scim.acme.com/scim/v2", "https", SeverityWarning, "Okta requires HTTPS", "http://scim.acme.com/scim/v2"},
		{"https://scim_prod.acme.com/scim/v2", "hostname", SeverityError, "underscore", "https://scim_prod.acme.com/scim/v2"},
		{"https://10.1.2.3/scim/v2", "hostname", SeverityWarning, "private address", "https://10.1.2.3/scim/v2"},
		{"https://localhost:8443/scim/v2", "hostname", SeverityWarning, "local", "https://localhost:8443/scim/v2"},
		{"https://scim.acme.com/scim/v2", "hostname", SeverityOK, "accepts", "https://scim.acme.com/scim/v2"},
	} {
		r := &runner{opts: Options{URL: tc.url}, rep: &Report{}}
		ok := r.checkURL()
		if ok != (tc.base != "") || r.base != tc.base {
			t.Errorf("%q: ok=%v base %q, want %q", tc.url, ok, r.base, tc.base)
		}
		c, found := r.rep.Check(tc.check)
		if !found || c.Severity != tc.sev || !strings.Contains(c.Detail, tc.says) {
			t.Errorf("%q: %s = %+v, want %s saying %q", tc.url, tc.check, c, tc.sev, tc.says)
		}
	}
}

func TestCheckAuthorization(t *testing.T) {
	const tok = "scim_abcdefghijklmnop"
	for _, tc := range []struct {
		in    string
		sends string
		sev   Severity
		says  string
	}{
		{"Bearer " + tok, "Bearer " + tok, SeverityOK, ""},
		{tok, "Bearer " + tok, SeverityWarning, `no "Bearer "`},
		{"Bearer Bearer " + tok, "Bearer " + tok, SeverityError, `"Bearer" twice`},
		{"bearer bearer " + tok, "Bearer " + tok, SeverityError, `"Bearer" twice`},
		{"bearer " + tok, "Bearer " + tok, SeverityWarning, `starts with "bearer"`},
		{" Bearer " + tok + "\t", "Bearer " + tok, SeverityWarning, "spaces before or after"},
		{`"Bearer ` + tok + `"`, "Bearer " + tok, SeverityError, "wrapped in quotes"},
		{`'Bearer ` + tok + `'`, "Bearer " + tok, SeverityError, "wrapped in quotes"},
		{`Bearer "` + tok + `"`, "Bearer " + tok, SeverityError, "token wrapped in quotes"},
		{"Bearer  " + tok, "Bearer " + tok, SeverityWarning, "more than one space"},
		{"Bearer " + tok + "\n", "Bearer " + tok, SeverityError, "line break"},
		{"Bearer", "Bearer", SeverityError, "only the word"},
		{"Token " + tok, "Token " + tok, SeverityWarning, `scheme "Token"`},
		{"Bearer " + tok + " extra", "Bearer " + tok + " extra", SeverityError, "more than one space-separated part"},
	} {
		r := &runner{opts: Options{Authorization: tc.in}, rep: &Report{}}
		typed, prob, fix, sev := r.checkAuthorization()
		if r.auth != tc.sends || sev != tc.sev || !strings.Contains(prob, tc.says) {
			t.Errorf("%q: sends %q, severity %s, problem %q; want %q, %s, %q", tc.in, r.auth, sev, prob, tc.sends, tc.sev, tc.says)
		}
		if (sev == SeverityOK) != (fix == "") {
			t.Errorf("%q: severity %s with fix %q", tc.in, sev, fix)
		}
		if typed != "" && typed == r.auth {
			t.Errorf("%q: typed value returned although it is what doctor sends", tc.in)
		}
	}
}

func TestRedactAuth(t *testing.T) {
	if got := redactAuth("Bearer scim_abcdefghijklmnopqrstuvwxyz"); got != "Bearer scim_abcdef…" {
		t.Errorf("redactAuth = %q", got)
	}
}
