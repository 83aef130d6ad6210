package doctor

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/axonflow/axonflow-sync/scimserver"
	"github.com/axonflow/axonflow-sync/store"
	"github.com/axonflow/axonflow-sync/store/sqlitestore"
)

// ours is AxonFlow's real SCIM server on an embedded store, over loopback.
type ours struct {
	srv    *httptest.Server
	st     store.State
	secret string // a valid token of tenant acme
	tokID  string
}

func newOurs(t *testing.T) *ours { return newOursWrapped(t, nil) }

// newOursWrapped is newOurs with wrap (if not nil) around the SCIM handler.
func newOursWrapped(t *testing.T, wrap func(http.Handler) http.Handler) *ours {
	t.Helper()
	st, err := sqlitestore.Open(context.Background(), filepath.Join(t.TempDir(), "axonflow-sync.db"), zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	secret, tok, err := store.IssueToken(context.Background(), st, "acme", "okta", 0, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	var h http.Handler = scimserver.New(scimserver.Options{Store: st})
	if wrap != nil {
		h = wrap(h)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &ours{srv: srv, st: st, secret: secret, tokID: tok.ID}
}

func (o *ours) url() string { return o.srv.URL + "/scim/v2" }

// seedUser creates one complete user through the API.
func (o *ours) seedUser(t *testing.T) {
	t.Helper()
	body := `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"ada@example.com",
		"name":{"givenName":"Ada","familyName":"Okafor"},"emails":[{"primary":true,"value":"ada@example.com","type":"work"}],"active":true}`
	req, _ := http.NewRequest(http.MethodPost, o.url()+"/Users", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+o.secret)
	req.Header.Set("Content-Type", "application/scim+json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 201 {
		t.Fatalf("seeding a user: %d", res.StatusCode)
	}
}

func (o *ours) counts(t *testing.T, tenant string) (users, groups int) {
	t.Helper()
	u, err := o.st.ListUsers(context.Background(), tenant, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	g, err := o.st.ListGroups(context.Background(), tenant, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	return u.Total, g.Total
}

func run(t *testing.T, opts Options) *Report {
	t.Helper()
	if opts.Timeout == 0 {
		opts.Timeout = 5 * time.Second
	}
	rep := Run(context.Background(), opts)
	if t.Failed() || testing.Verbose() {
		var b bytes.Buffer
		rep.WriteText(&b)
		t.Logf("report:\n%s", b.String())
	}
	return rep
}

// want asserts that check name has severity sev and that its detail and
// fix together contain every substring.
func want(t *testing.T, rep *Report, name string, sev Severity, subs ...string) {
	t.Helper()
	c, ok := rep.Check(name)
	if !ok {
		t.Errorf("no check %q; report:\n%s", name, text(rep))
		return
	}
	if c.Severity != sev || c.OK != (sev != SeverityError) {
		t.Errorf("check %s: severity %s ok=%v, want %s:\n%s", name, c.Severity, c.OK, sev, text(rep))
	}
	all := c.Detail + "\n" + c.Fix
	for _, s := range subs {
		if !strings.Contains(all, s) {
			t.Errorf("check %s does not say %q:\n  detail: %s\n  fix: %s", name, s, c.Detail, c.Fix)
		}
	}
}

// wantOK asserts the verdict: whether Okta would succeed.
func wantOK(t *testing.T, rep *Report, ok bool) {
	t.Helper()
	if rep.OK() != ok {
		t.Errorf("report OK = %v, want %v:\n%s", rep.OK(), ok, text(rep))
	}
}

// onlyFailures asserts that exactly the named checks failed.
func onlyFailures(t *testing.T, rep *Report, names ...string) {
	t.Helper()
	var got []string
	for _, c := range rep.Checks {
		if c.Severity == SeverityError {
			got = append(got, c.Name)
		}
	}
	if strings.Join(got, ",") != strings.Join(names, ",") {
		t.Errorf("failed checks %v, want %v:\n%s", got, names, text(rep))
	}
}

func text(rep *Report) string {
	var b bytes.Buffer
	rep.WriteText(&b)
	return b.String()
}

func TestHealthyOurServer(t *testing.T) {
	o := newOurs(t)
	o.seedUser(t)
	rep := run(t, Options{URL: o.url(), Authorization: "Bearer " + o.secret, Tenant: "acme"})
	wantOK(t, rep, true)
	onlyFailures(t, rep)
	if rep.Tenant != "acme" {
		t.Errorf("tenant %q, want acme", rep.Tenant)
	}
	for _, n := range []string{"base-url", "connection", "service-provider-config", "resource-types", "schemas", "authentication", "tenant",
		"users-list", "users-first-user", "users-get-by-id", "users-filter-unknown", "users-unknown-id", "bad-token", "groups-list", "content-type"} {
		want(t, rep, n, SeverityOK)
	}
	// Plain http on loopback: warned about, still tested.
	want(t, rep, "https", SeverityWarning, "Okta requires HTTPS")
	want(t, rep, "hostname", SeverityWarning, "cannot reach")
	if rep.Summary.Failed != 0 || rep.Summary.Skipped != 0 || rep.Summary.Passed != 15 || rep.Summary.Warnings != 2 {
		t.Errorf("summary %+v", rep.Summary)
	}
	if _, ok := rep.Check("users-create"); ok {
		t.Error("a read-only run wrote")
	}
	if u, g := o.counts(t, "acme"); u != 1 || g != 0 {
		t.Errorf("read-only run left %d users, %d groups", u, g)
	}
}

func TestHealthyOurServerEmptyDirectory(t *testing.T) {
	o := newOurs(t)
	rep := run(t, Options{URL: o.url(), Authorization: "Bearer " + o.secret})
	wantOK(t, rep, true)
	want(t, rep, "users-first-user", SeverityWarning, "no users yet", "SPEC test needs one complete user")
	if _, ok := rep.Check("tenant"); !ok {
		t.Error("the tenant is not reported")
	}
}

func TestHealthyOurServerWriteTest(t *testing.T) {
	// Record what doctor sends.
	var mu sync.Mutex
	var seen []string
	var jsonPost bool
	o := newOursWrapped(t, func(inner http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("User-Agent") == "Go-http-client/1.1" { // seedUser
				inner.ServeHTTP(w, r)
				return
			}
			mu.Lock()
			seen = append(seen, r.Method+" "+r.URL.Path)
			if r.Header.Get("User-Agent") != OktaUserAgent || r.Header.Get("Accept") != OktaAccept {
				t.Errorf("%s %s: User-Agent %q Accept %q", r.Method, r.URL.Path, r.Header.Get("User-Agent"), r.Header.Get("Accept"))
			}
			if ct := r.Header.Get("Content-Type"); r.ContentLength > 0 && ct != OktaContentType {
				if r.Method == http.MethodPost && r.URL.Path == "/scim/v2/Users" && ct == "application/json" {
					jsonPost = true
				} else {
					t.Errorf("%s %s: Content-Type %q", r.Method, r.URL.Path, ct)
				}
			}
			mu.Unlock()
			inner.ServeHTTP(w, r)
		})
	})
	o.seedUser(t)
	rep := run(t, Options{URL: o.url(), Authorization: "Bearer " + o.secret, WriteTest: true})
	wantOK(t, rep, true)
	onlyFailures(t, rep)
	for _, n := range writeChecks {
		want(t, rep, n, SeverityOK)
	}
	if rep.Summary.Skipped != 0 {
		t.Errorf("summary %+v", rep.Summary)
	}
	mu.Lock()
	defer mu.Unlock()
	if !jsonPost {
		t.Error("no POST /Users with Content-Type application/json (SPEC step 6)")
	}
	joined := strings.Join(seen, "\n")
	for _, s := range []string{"PUT /scim/v2/Users/", "PATCH /scim/v2/Users/", "POST /scim/v2/Groups", "PATCH /scim/v2/Groups/", "DELETE /scim/v2/Groups/", "DELETE /scim/v2/Users/"} {
		if !strings.Contains(joined, s) {
			t.Errorf("doctor never sent %s", s)
		}
	}
	// Cleanup leaves only the seeded user.
	if u, g := o.counts(t, "acme"); u != 1 || g != 0 {
		t.Errorf("write test left %d users and %d groups (want the 1 seeded user, 0 groups)", u, g)
	}
}

func TestWrongPath(t *testing.T) {
	o := newOurs(t)
	o.seedUser(t)
	for _, tc := range []struct {
		path, check string
		sev         Severity
		says        []string
		failed      []string
	}{
		{"/scim/v1", "base-url", SeverityWarning, []string{`"/scim/v1"`, "/scim/v2"}, []string{"users-list"}},
		{"/scim/v2/Users", "base-url", SeverityError, []string{`"/Users" after /scim/v2`, "enter exactly https://" + o.srv.Listener.Addr().String() + "/scim/v2"}, []string{"base-url", "users-list"}},
		{"/scim/v2/", "base-url", SeverityError, []string{"ends with a slash", "//Users", "remove the trailing slash"}, []string{"base-url"}},
		{"", "base-url", SeverityWarning, []string{`"/"`}, []string{"users-list"}},
	} {
		t.Run(tc.path, func(t *testing.T) {
			rep := run(t, Options{URL: o.srv.URL + tc.path, Authorization: "Bearer " + o.secret})
			wantOK(t, rep, false)
			want(t, rep, tc.check, tc.sev, tc.says...)
			onlyFailures(t, rep, tc.failed...)
			if slices.Contains(tc.failed, "users-list") {
				want(t, rep, "users-list", SeverityError, "404", "SCIM Base URL is wrong", "/scim/v2")
				if rep.Summary.Skipped == 0 {
					t.Error("checks after a wrong base URL were not skipped")
				}
			}
		})
	}
}

func TestNoBearer(t *testing.T) {
	o := newOurs(t)
	o.seedUser(t)
	// A bare scim_ token: the value pasted into Okta; sent as typed the
	// server refuses it, so Okta's connection test would fail: an error,
	// quoting the server's answer. doctor goes on with the corrected value.
	rep := run(t, Options{URL: o.url(), Authorization: o.secret})
	want(t, rep, "authorization-format", SeverityError, `no "Bearer "`, "Bearer scheme", "Test API Credentials", `"Bearer scim_..."`)
	want(t, rep, "authentication", SeverityOK)
	wantOK(t, rep, false)

	// Another scheme: sent as typed, and the server rejects it.
	rep = run(t, Options{URL: o.url(), Authorization: "Token " + o.secret})
	want(t, rep, "authorization-format", SeverityWarning, `uses the scheme "Token"`)
	want(t, rep, "authentication", SeverityError, "401", "must use the Bearer scheme", "does not use the Bearer scheme")
	wantOK(t, rep, false)
}

func TestBearerDoubled(t *testing.T) {
	o := newOurs(t)
	rep := run(t, Options{URL: o.url(), Authorization: "Bearer Bearer " + o.secret})
	want(t, rep, "authorization-format", SeverityError, `"Bearer" twice`, `\"Bearer\" appears twice`, "Bearer only once")
	want(t, rep, "authentication", SeverityOK) // doctor goes on with the corrected value
	onlyFailures(t, rep, "authorization-format")
	wantOK(t, rep, false)
}

func TestQuotesAndSpacesAroundToken(t *testing.T) {
	o := newOurs(t)
	rep := run(t, Options{URL: o.url(), Authorization: `"Bearer ` + o.secret + `"`})
	want(t, rep, "authorization-format", SeverityError, "wrapped in quotes", "401")
	wantOK(t, rep, false)

	rep = run(t, Options{URL: o.url(), Authorization: "  Bearer " + o.secret + " "})
	want(t, rep, "authorization-format", SeverityWarning, "spaces before or after")
	wantOK(t, rep, true)
}

func TestRevokedToken(t *testing.T) {
	o := newOurs(t)
	if err := o.st.RevokeToken(context.Background(), "acme", o.tokID, time.Now()); err != nil {
		t.Fatal(err)
	}
	rep := run(t, Options{URL: o.url(), Authorization: "Bearer " + o.secret})
	want(t, rep, "authentication", SeverityError, "401", "was revoked at", "the token was revoked", "axonflow-sync token create", "Test API Credentials")
	onlyFailures(t, rep, "authentication")
	wantOK(t, rep, false)
	if rep.Summary.Skipped == 0 {
		t.Errorf("summary %+v: nothing skipped after the authentication failure", rep.Summary)
	}
}

func TestExpiredToken(t *testing.T) {
	o := newOurs(t)
	secret, _, err := store.IssueToken(context.Background(), o.st, "acme", "old", time.Hour, time.Now().Add(-2*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	rep := run(t, Options{URL: o.url(), Authorization: "Bearer " + secret})
	want(t, rep, "authentication", SeverityError, "401", "expired at", "the token has expired", "--expires-in")
	wantOK(t, rep, false)
}

func TestUnknownToken(t *testing.T) {
	o := newOurs(t)
	rep := run(t, Options{URL: o.url(), Authorization: "Bearer scim_" + strings.Repeat("x", 43)})
	want(t, rep, "authentication", SeverityError, "not known", "does not know the token")
	wantOK(t, rep, false)
}

func TestOtherTenant(t *testing.T) {
	o := newOurs(t)
	secret, _, err := store.IssueToken(context.Background(), o.st, "globex", "okta", 0, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	rep := run(t, Options{URL: o.url(), Authorization: "Bearer " + secret, Tenant: "acme"})
	want(t, rep, "tenant", SeverityError, "belongs to tenant globex, not acme", "token create --tenant acme")
	onlyFailures(t, rep, "tenant")
	if rep.Tenant != "globex" {
		t.Errorf("report tenant %q", rep.Tenant)
	}
	wantOK(t, rep, false)

	rep = run(t, Options{URL: o.url(), Authorization: "Bearer " + secret, Tenant: "globex"})
	want(t, rep, "tenant", SeverityOK, "globex")
	wantOK(t, rep, true)
}

// loopbackDialer sends every connection to addr, whatever the URL's host.
func loopbackDialer(addr string) func(ctx context.Context, network, _ string) (net.Conn, error) {
	return func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}
}

func TestUnderscoreHost(t *testing.T) {
	o := newOurs(t)
	o.seedUser(t)
	opts := Options{URL: "http://scim_prod.example.com/scim/v2", Authorization: "Bearer " + o.secret,
		dial: loopbackDialer(o.srv.Listener.Addr().String())}
	rep := run(t, opts)
	want(t, rep, "hostname", SeverityError, "underscore", "Okta rejects", "scim-prod.example.com")
	onlyFailures(t, rep, "hostname")
	wantOK(t, rep, false)
}

func TestConnectionRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	rep := run(t, Options{URL: "https://" + addr + "/scim/v2", Authorization: "Bearer scim_x"})
	want(t, rep, "connection", SeverityError, "connection refused", addr, "axonflow-sync serve")
	wantOK(t, rep, false)
	if rep.Summary.Skipped == 0 {
		t.Error("nothing skipped after a refused connection")
	}
}

func TestDNSFailure(t *testing.T) {
	rep := run(t, Options{URL: "https://scim.acme.example/scim/v2", Authorization: "Bearer scim_x",
		dial: func(ctx context.Context, network, addr string) (net.Conn, error) {
			return nil, &net.DNSError{Err: "no such host", Name: "scim.acme.example", IsNotFound: true}
		}})
	want(t, rep, "connection", SeverityError, "DNS", "scim.acme.example does not exist", "enterprise hostname")
	wantOK(t, rep, false)
}

func TestTLSSelfSigned(t *testing.T) {
	o := newOurs(t)
	srv := httptest.NewUnstartedServer(o.srv.Config.Handler)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the handshake errors doctor causes
	srv.StartTLS()
	defer srv.Close()
	rep := run(t, Options{URL: srv.URL + "/scim/v2", Authorization: "Bearer " + o.secret})
	want(t, rep, "connection", SeverityError, "TLS", "self-signed", "public certificate authority")
	onlyFailures(t, rep, "connection")
	wantOK(t, rep, false)
}

func TestJSONFieldNames(t *testing.T) {
	o := newOurs(t)
	rep := run(t, Options{URL: o.url(), Authorization: "Bearer " + o.secret})
	var b bytes.Buffer
	if err := rep.WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"checks", "summary", "tenant"} {
		if _, ok := doc[k]; !ok {
			t.Errorf("JSON report lacks %q: %s", k, b.String())
		}
	}
	sum := doc["summary"].(map[string]any)
	for _, k := range []string{"passed", "failed", "warnings"} {
		if _, ok := sum[k]; !ok {
			t.Errorf("summary lacks %q", k)
		}
	}
	c := doc["checks"].([]any)[0].(map[string]any)
	for _, k := range []string{"name", "ok", "severity", "detail", "fix", "status", "durationMs"} {
		if _, ok := c[k]; !ok {
			t.Errorf("check lacks %q: %v", k, c)
		}
	}
	if doc["tenant"] != "acme" {
		t.Errorf("tenant %v", doc["tenant"])
	}
}

func TestProxyStripsAuthorization(t *testing.T) {
	o := newOursWrapped(t, func(inner http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			r.Header.Del("Authorization")
			inner.ServeHTTP(w, r)
		})
	})
	rep := run(t, Options{URL: o.url(), Authorization: "Bearer " + o.secret})
	want(t, rep, "authentication", SeverityError, "missing Authorization header", "no Authorization header", "strips")
	wantOK(t, rep, false)
}

// TestInterruptedWriteTestCleansUp: cancelling mid-way (Ctrl-C) still
// removes the test user.
func TestInterruptedWriteTestCleansUp(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	o := newOursWrapped(t, func(inner http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodPut {
				cancel()
			}
			inner.ServeHTTP(w, r)
		})
	})
	rep := Run(ctx, Options{URL: o.url(), Authorization: "Bearer " + o.secret, WriteTest: true, Timeout: 5 * time.Second})
	want(t, rep, "interrupted", SeverityError)
	want(t, rep, "cleanup-users", SeverityOK)
	if _, ok := rep.Check("groups-create"); ok {
		t.Error("doctor went on after the interruption")
	}
	if u, _ := o.counts(t, "acme"); u != 0 {
		t.Errorf("%d test users left after an interrupted run", u)
	}
	wantOK(t, rep, false)
}

// TestRedirectDiagnosed: behind an http.ServeMux (as serve wires the API),
// /scim/v2//Users is answered with a 307 redirect; doctor names it.
func TestRedirectDiagnosed(t *testing.T) {
	o := newOursWrapped(t, func(inner http.Handler) http.Handler {
		mux := http.NewServeMux()
		mux.Handle("/scim/v2/", inner)
		return mux
	})
	rep := run(t, Options{URL: o.url() + "/", Authorization: "Bearer " + o.secret})
	want(t, rep, "base-url", SeverityError, "ends with a slash")
	want(t, rep, "users-list", SeverityError, "307", "redirect")
	onlyFailures(t, rep, "base-url", "users-list") // not content-type: a redirect's body is not a SCIM answer
	wantOK(t, rep, false)
}
