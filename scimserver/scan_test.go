package scimserver_test

// Non-indexed filters (issue 12 item 10) stream the tenant page by page
// and keep only the requested page; a tenant larger than MaxFilterScan is
// refused with 400 tooMany instead of being scanned.

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/axonflow/axonflow-sync/scimserver"
)

func eachBackendScan(t *testing.T, max int, fn func(t *testing.T, e *env)) {
	t.Helper()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			fn(t, newEnv(t, b.open(t), func(o *scimserver.Options) { o.MaxFilterScan = max }))
		})
	}
}

func TestFilterScanPagesAndBound(t *testing.T) {
	const max = 1200 // more than two store pages of 500
	eachBackendScan(t, max, func(t *testing.T, e *env) {
		seedUsers(t, e.st, e.tenant, "scan", max)
		// Within the bound: totalResults counts every match, Resources is
		// the requested page, in creation order.
		r := e.get(t, "/Users"+filterQS(`userName pr`)+"&startIndex=1001&count=150")
		mustStatus(t, r, http.StatusOK)
		if n := jint(t, r.Body, "totalResults"); n != max {
			t.Errorf("totalResults = %d, want %d", n, max)
		}
		if l := resources(t, r); len(l) != 150 || jint(t, r.Body, "startIndex") != 1001 {
			t.Errorf("page: %d resources, startIndex %v", len(l), r.Body["startIndex"])
		}
		r = e.get(t, "/Users"+filterQS(`userName sw "scan11"`)+"&count=5")
		if n := jint(t, r.Body, "totalResults"); n != 111 || len(resources(t, r)) != 5 {
			t.Errorf("sw: totalResults %d, %d resources; want 111, 5", n, len(resources(t, r)))
		}
		r = e.get(t, "/Users"+filterQS(`userName co "no-such"`))
		if n := jint(t, r.Body, "totalResults"); n != 0 || len(resources(t, r)) != 0 {
			t.Errorf("co no match: %s", r)
		}
		// An indexed eq is not a scan: it works whatever the tenant size.
		e.createUser(t, "one-more@example.com")
		r = e.get(t, "/Users"+filterQS(`userName eq "scan7@example.com"`))
		if n := jint(t, r.Body, "totalResults"); n != 1 {
			t.Errorf("eq after the bound: %s", r)
		}
		// One more user than the bound: every scanning filter is 400 tooMany.
		for _, f := range []string{`userName pr`, `userName co "scan"`, `name.familyName sw "1"`, `active eq true`} {
			d := mustSCIMError(t, e.get(t, "/Users"+filterQS(f)), http.StatusBadRequest, "tooMany")
			if want := fmt.Sprint(max + 1); !contains(d, want) {
				t.Errorf("detail %q does not say how many users (%s)", d, want)
			}
		}
		// Without a filter, paging is not a scan.
		mustStatus(t, e.get(t, "/Users?startIndex=1&count=10"), http.StatusOK)
	})
}

func TestGroupFilterScanBound(t *testing.T) {
	eachBackendScan(t, 3, func(t *testing.T, e *env) {
		for i := range 3 {
			e.createGroup(t, fmt.Sprintf("Team %d", i))
		}
		r := e.get(t, "/Groups"+filterQS(`displayName sw "team"`)+"&startIndex=2&count=1")
		if n := jint(t, r.Body, "totalResults"); n != 3 || len(resources(t, r)) != 1 || jstr(resources(t, r)[0], "displayName") != "Team 1" {
			t.Errorf("groups page: %s", r)
		}
		e.createGroup(t, "Team 3")
		mustSCIMError(t, e.get(t, "/Groups"+filterQS(`displayName sw "team"`)), http.StatusBadRequest, "tooMany")
		mustStatus(t, e.get(t, "/Groups"+filterQS(`displayName eq "Team 3"`)), http.StatusOK)
	})
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}
