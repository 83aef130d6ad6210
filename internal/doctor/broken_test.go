package doctor

import (
	"net/http/httptest"
	"strings"
	"testing"
)

const fakeToken = "scim_fake-token-for-the-broken-server"

func newFakeServer(t *testing.T, f faults) (*fakeSCIM, string) {
	t.Helper()
	s := newFake(fakeToken, f)
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return s, srv.URL + "/scim/v2"
}

// TestHealthyFakeServer: a correct SCIM server that is not AxonFlow passes
// (no tenant header, so no tenant check), read-only and with --write-test.
func TestHealthyFakeServer(t *testing.T) {
	s, url := newFakeServer(t, faults{})
	rep := run(t, Options{URL: url, Authorization: "Bearer " + fakeToken, WriteTest: true})
	wantOK(t, rep, true)
	onlyFailures(t, rep)
	if _, ok := rep.Check("tenant"); ok || rep.Tenant != "" {
		t.Errorf("tenant reported for a server without %s", TenantHeader)
	}
	for _, n := range append(append([]string{}, readChecks...), writeChecks...) {
		want(t, rep, n, SeverityOK)
	}
	if u, g := s.counts(); u != 1 || g != 0 {
		t.Errorf("left %d users, %d groups", u, g)
	}

	// --tenant against a server that does not report tenants: a warning.
	rep = run(t, Options{URL: url, Authorization: "Bearer " + fakeToken, Tenant: "acme"})
	want(t, rep, "tenant", SeverityWarning, "does not report the tenant")
	wantOK(t, rep, true)
}

func TestBrokenServer(t *testing.T) {
	for _, tc := range []struct {
		name  string
		f     faults
		write bool
		check string // the check that must fail
		says  []string
		sev   Severity // default SeverityError
	}{
		{"numeric status", faults{numericStatus: true}, false, "users-unknown-id", []string{`"status" is the number 404`, `the string "404"`}, ""},
		{"numeric status 401", faults{numericStatus: true}, false, "bad-token", []string{`"status" is the number 401`}, ""},
		{"no error schema", faults{noErrorSchema: true}, false, "users-unknown-id", []string{"Error schema"}, ""},
		{"missing Resources", faults{noResources: true}, false, "users-list", []string{`no "Resources" array`, "Okta cannot read this list"}, ""},
		{"wrong content type", faults{wrongCT: true}, false, "content-type", []string{"text/html", "application/scim+json"}, ""},
		{"string totalResults", faults{stringTotal: true}, false, "users-list", []string{`"totalResults" is the string "1", not a JSON integer`}, ""},
		{"200 for unknown ids", faults{unknownID200: true}, false, "users-unknown-id", []string{"answers 200 instead of 404"}, ""},
		{"filter returns everything", faults{filterAll: true}, false, "users-filter-unknown", []string{"ignores the filter", "ada@example.com"}, ""},
		{"incomplete first user", faults{incompleteUser: true}, false, "users-first-user", []string{"name.givenName, name.familyName", "Attribute Mappings", "user.firstName → name.givenName"}, ""},
		{"any token accepted", faults{anyToken: true}, false, "bad-token", []string{"does not check tokens"}, ""},
		{"500 on groups", faults{groups500: true}, false, "groups-list", []string{"500", "database exploded", "server log"}, ""},
		{"slow groups", faults{slowGroups: true}, false, "groups-list", []string{"600 ms"}, SeverityWarning},
		{"case-sensitive userName filter", faults{caseSensitive: true}, true, "users-filter-case", []string{"case-sensitive", "AXONFLOW-DOCTOR-"}, ""},
		{"duplicate POST not 409", faults{dupCreate: true}, true, "users-duplicate", []string{"instead of 409", "creates duplicates"}, ""},
		{"users cannot be deleted", faults{noUserDelete: true}, true, "cleanup-users", []string{"left deactivated", "405"}, SeverityWarning},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, url := newFakeServer(t, tc.f)
			rep := run(t, Options{URL: url, Authorization: "Bearer " + fakeToken, WriteTest: tc.write})
			sev := tc.sev
			if sev == "" {
				sev = SeverityError
			}
			want(t, rep, tc.check, sev, tc.says...)
			wantOK(t, rep, sev != SeverityError)
			if tc.write && !tc.f.noUserDelete {
				if u, g := s.counts(); u != 1 || g != 0 {
					t.Errorf("cleanup left %d users, %d groups", u, g)
				}
			}
		})
	}
}

// TestBrokenServerFailsTestAPICredentials: a list Okta cannot read makes the
// verdict name "Test API Credentials".
func TestBrokenServerVerdict(t *testing.T) {
	_, url := newFakeServer(t, faults{noResources: true})
	rep := run(t, Options{URL: url, Authorization: "Bearer " + fakeToken})
	if !strings.Contains(rep.Verdict, "Test API Credentials") || !strings.Contains(rep.Verdict, "would fail") {
		t.Errorf("verdict %q", rep.Verdict)
	}
	_, url = newFakeServer(t, faults{groups500: true})
	rep = run(t, Options{URL: url, Authorization: "Bearer " + fakeToken})
	if !strings.Contains(rep.Verdict, "Group Push") {
		t.Errorf("verdict %q", rep.Verdict)
	}
}
