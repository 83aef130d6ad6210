package scimserver_test

import (
	"net/http"
	"net/netip"
	"strings"
	"testing"

	"github.com/axonflow/axonflow-sync/scimserver"
)

// withForwarded sets the forwarded headers a proxy (or an attacker) sends.
func withForwarded(proto, host string) reqOpt {
	return func(r *http.Request) {
		r.Header.Set("X-Forwarded-Proto", proto)
		r.Header.Set("X-Forwarded-Host", host)
	}
}

// locations returns the absolute URLs a discovery response, a created
// user's Location and its meta.location hold.
func locations(t *testing.T, e *env) []string {
	t.Helper()
	fwd := withForwarded("https", "evil.example")
	var out []string
	for _, p := range []string{"/ServiceProviderConfig", "/ResourceTypes/User", "/Schemas/urn:ietf:params:scim:schemas:core:2.0:User"} {
		r := e.get(t, p, fwd, withAuth("")) // unauthenticated discovery
		mustStatus(t, r, http.StatusOK)
		out = append(out, jstr(r.Body, "meta", "location"))
	}
	r := e.post(t, "/Users", oktaUser(uniqueID("fwd")+"@example.com", uniqueID("00u")), fwd)
	mustStatus(t, r, http.StatusCreated)
	return append(out, r.Header.Get("Location"), jstr(r.Body, "meta", "location"))
}

// TestForwardedHeadersTrustedOnlyFromProxies: X-Forwarded-Proto/Host shape
// Location and meta.location (also on unauthenticated discovery, which a
// cache in front may keep) only when the peer is a configured trusted
// proxy; by default they are ignored, and ExternalURL beats both.
func TestForwardedHeadersTrustedOnlyFromProxies(t *testing.T) {
	eachBackend(t, func(t *testing.T, shared *env) {
		t.Run("default trusts none", func(t *testing.T) {
			e := newEnv(t, shared.st)
			for _, loc := range locations(t, e) {
				if !strings.HasPrefix(loc, e.base+"/") {
					t.Errorf("location %q; want under %s (the forwarded headers ignored)", loc, e.base)
				}
			}
		})
		t.Run("another network is not trusted", func(t *testing.T) {
			e := newEnv(t, shared.st, func(o *scimserver.Options) {
				o.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
			})
			for _, loc := range locations(t, e) {
				if !strings.HasPrefix(loc, e.base+"/") {
					t.Errorf("location %q; want under %s", loc, e.base)
				}
			}
		})
		t.Run("trusted proxy", func(t *testing.T) {
			e := newEnv(t, shared.st, func(o *scimserver.Options) {
				o.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
			})
			for _, loc := range locations(t, e) {
				if !strings.HasPrefix(loc, "https://evil.example"+scimserver.BasePath+"/") {
					t.Errorf("location %q; want the trusted proxy's https://evil.example", loc)
				}
			}
		})
		t.Run("externalURL", func(t *testing.T) {
			e := newEnv(t, shared.st, func(o *scimserver.Options) {
				o.ExternalURL = "https://scim.example.com/"
				o.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
			})
			for _, loc := range locations(t, e) {
				if !strings.HasPrefix(loc, "https://scim.example.com"+scimserver.BasePath+"/") {
					t.Errorf("location %q; want under the external URL", loc)
				}
			}
		})
	})
}
