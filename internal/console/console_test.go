package console_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	gosync "sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/axonflow/axonflow-sync/config"
	"github.com/axonflow/axonflow-sync/internal/admin"
	"github.com/axonflow/axonflow-sync/internal/console"
	"github.com/axonflow/axonflow-sync/internal/testredis"
	"github.com/axonflow/axonflow-sync/store"
	"github.com/axonflow/axonflow-sync/store/redisstore"
	"github.com/axonflow/axonflow-sync/store/sqlitestore"
)

// longToken returns a high-entropy admin token (43 base64url characters).
func longToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func backends(t *testing.T) map[string]func(t *testing.T) store.State {
	return map[string]func(t *testing.T) store.State{
		"sqlite": func(t *testing.T) store.State {
			st, err := sqlitestore.Open(context.Background(), t.TempDir()+"/db", zerolog.Nop())
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			return st
		},
		"redis": func(t *testing.T) store.State {
			st, err := redisstore.Open(context.Background(), testredis.URL(t), redisstore.Options{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			return st
		},
	}
}

// clock is a settable clock for session timeouts.
type clock struct {
	mu gosync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// fixture is a console over one store, served by httptest.
type fixture struct {
	t      *testing.T
	st     store.State
	token  string
	srv    *httptest.Server
	clock  *clock
	tenant string
}

func newFixture(t *testing.T, st store.State, cc config.ConsoleConfig) *fixture {
	t.Helper()
	return newFixtureWith(t, st, cc, nil)
}

// newFixtureWith is newFixture with more options set by opt.
func newFixtureWith(t *testing.T, st store.State, cc config.ConsoleConfig, opt func(*console.Options)) *fixture {
	t.Helper()
	f := &fixture{t: t, st: st, token: longToken(), clock: &clock{t: time.Now()}, tenant: fmt.Sprintf("acme-%d", time.Now().UnixNano())}
	if _, ok := st.(*sqlitestore.Store); ok {
		f.tenant = "acme" // a database of its own (and a readable name in the screenshots)
	}
	if _, err := st.EnsureTenant(context.Background(), f.tenant, time.Now()); err != nil {
		t.Fatal(err)
	}
	o := console.Options{Store: st, AdminToken: f.token, Console: cc, Logger: zerolog.Nop(), Now: f.clock.now}
	if opt != nil {
		opt(&o)
	}
	c, err := console.New(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/ui/", c)
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

// client is a browser-like client with a cookie jar that does not follow
// redirects.
func (f *fixture) client() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

var csrfRe = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// get returns the status and body of GET path.
func (f *fixture) get(c *http.Client, path string) (*http.Response, string) {
	f.t.Helper()
	res, err := c.Get(f.srv.URL + path)
	if err != nil {
		f.t.Fatal(err)
	}
	defer res.Body.Close()
	var b strings.Builder
	buf := make([]byte, 32<<10)
	for {
		n, err := res.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			break
		}
	}
	if res.Header.Get("Content-Security-Policy") == "" || !strings.Contains(res.Header.Get("Content-Security-Policy"), "frame-ancestors 'none'") {
		f.t.Errorf("GET %s: no CSP with frame-ancestors 'none': %q", path, res.Header.Get("Content-Security-Policy"))
	}
	return res, b.String()
}

func (f *fixture) post(c *http.Client, path string, form url.Values) *http.Response {
	f.t.Helper()
	res, err := c.PostForm(f.srv.URL+path, form)
	if err != nil {
		f.t.Fatal(err)
	}
	res.Body.Close()
	return res
}

// signIn signs c in with the admin token and returns the session's CSRF token.
func (f *fixture) signIn(c *http.Client) string {
	f.t.Helper()
	_, body := f.get(c, "/ui/")
	m := csrfRe.FindStringSubmatch(body)
	if m == nil {
		f.t.Fatalf("sign-in page has no CSRF field:\n%s", body)
	}
	res := f.post(c, "/ui/login", url.Values{"csrf": {m[1]}, "token": {f.token}})
	if res.StatusCode != http.StatusSeeOther {
		f.t.Fatalf("POST /ui/login = %d, want 303", res.StatusCode)
	}
	_, body = f.get(c, "/ui/")
	m = csrfRe.FindStringSubmatch(body)
	if m == nil || !strings.Contains(body, "Overview") {
		f.t.Fatalf("after sign-in, /ui/ is not the overview:\n%s", body)
	}
	return m[1]
}

func (f *fixture) tokens() []store.Token {
	f.t.Helper()
	ts, err := f.st.ListTokens(context.Background(), f.tenant)
	if err != nil {
		f.t.Fatal(err)
	}
	return ts
}

// TestTokenSignInAndRefusals: the token form signs in; a wrong token, a
// form without its CSRF token, a POST without the session's CSRF token and
// a POST after the idle or absolute timeout are refused and change nothing.
func TestTokenSignInAndRefusals(t *testing.T) {
	for name, open := range backends(t) {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t, open(t), config.ConsoleConfig{SessionIdleTimeout: 30 * time.Minute, SessionMaxAge: 2 * time.Hour})
			c := f.client()

			// Not signed in: pages send the browser to the sign-in form.
			res, _ := f.get(c, "/ui/tenants/"+f.tenant+"/tokens")
			if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/ui/?") {
				t.Fatalf("unsigned GET = %d %s", res.StatusCode, res.Header.Get("Location"))
			}
			_, body := f.get(c, "/ui/")
			pre := csrfRe.FindStringSubmatch(body)[1]
			if res := f.post(c, "/ui/login", url.Values{"csrf": {pre}, "token": {f.token + "x"}}); res.StatusCode != http.StatusUnauthorized {
				t.Errorf("wrong token: %d, want 401", res.StatusCode)
			}
			_, body = f.get(c, "/ui/")
			pre = csrfRe.FindStringSubmatch(body)[1]
			if res := f.post(c, "/ui/login", url.Values{"token": {f.token}}); res.StatusCode != http.StatusForbidden {
				t.Errorf("sign-in without CSRF token: %d, want 403", res.StatusCode)
			}
			other := f.client() // a form posted from another site has no pre-session cookie
			if res := f.post(other, "/ui/login", url.Values{"csrf": {pre}, "token": {f.token}}); res.StatusCode != http.StatusForbidden {
				t.Errorf("sign-in without the pre-session cookie: %d, want 403", res.StatusCode)
			}

			csrf := f.signIn(c)
			for _, ck := range c.Jar.Cookies(mustURL(f.srv.URL + "/ui/")) {
				if ck.Name == "axonflow_console" && strings.Contains(ck.Value, f.token) {
					t.Error("the session cookie holds the admin token")
				}
			}
			if res := f.post(c, "/ui/tenants/"+f.tenant+"/tokens", url.Values{"name": {"okta"}}); res.StatusCode != http.StatusForbidden {
				t.Errorf("POST without CSRF: %d, want 403", res.StatusCode)
			}
			if res := f.post(c, "/ui/tenants/"+f.tenant+"/tokens", url.Values{"name": {"okta"}, "csrf": {csrf + "x"}}); res.StatusCode != http.StatusForbidden {
				t.Errorf("POST with a wrong CSRF token: %d, want 403", res.StatusCode)
			}
			if n := len(f.tokens()); n != 0 {
				t.Fatalf("refused POSTs created %d tokens", n)
			}
			if res := f.post(c, "/ui/tenants/"+f.tenant+"/tokens", url.Values{"name": {"okta"}, "csrf": {csrf}}); res.StatusCode != http.StatusOK {
				t.Fatalf("create token: %d", res.StatusCode)
			}
			if n := len(f.tokens()); n != 1 {
				t.Fatalf("tokens after create = %d", n)
			}
			lr, err := admin.QueryLog(context.Background(), f.st, f.tenant, admin.LogParams{Actor: store.ActorOperator})
			if err != nil || len(lr.Entries) == 0 || lr.Entries[0].ActorID != "console:token" || lr.Entries[0].Operation != "create_token" {
				t.Errorf("operator entry = %+v, %v; want create_token by console:token", lr.Entries, err)
			}

			// Idle timeout: 31 minutes without a request.
			f.clock.add(31 * time.Minute)
			if res := f.post(c, "/ui/tenants/"+f.tenant+"/tokens", url.Values{"name": {"late"}, "csrf": {csrf}}); res.StatusCode != http.StatusUnauthorized {
				t.Errorf("POST after the idle timeout: %d, want 401", res.StatusCode)
			}
			if res, _ := f.get(c, "/ui/tenants/"+f.tenant); res.StatusCode != http.StatusSeeOther || !strings.Contains(res.Header.Get("Location"), "expired=1") {
				t.Errorf("GET after the idle timeout: %d %s", res.StatusCode, res.Header.Get("Location"))
			}
			// Absolute timeout: active every 20 minutes, still ends after 2 h.
			csrf = f.signIn(c)
			for range 5 {
				f.clock.add(20 * time.Minute)
				if res, _ := f.get(c, "/ui/tenants/"+f.tenant); res.StatusCode != http.StatusOK {
					t.Fatalf("active session refused early: %d", res.StatusCode)
				}
			}
			f.clock.add(21 * time.Minute)
			if res := f.post(c, "/ui/tenants/"+f.tenant+"/tokens", url.Values{"name": {"late"}, "csrf": {csrf}}); res.StatusCode != http.StatusUnauthorized {
				t.Errorf("POST after the absolute timeout: %d, want 401", res.StatusCode)
			}
			if n := len(f.tokens()); n != 1 {
				t.Errorf("tokens after the refused POSTs = %d, want 1", n)
			}

			// Sign-out ends the session, also for a copy of its cookie
			// taken before (a stolen or replayed cookie).
			csrf = f.signIn(c)
			copied := f.client()
			copied.Jar.SetCookies(mustURL(f.srv.URL+"/ui/"), c.Jar.Cookies(mustURL(f.srv.URL+"/ui/")))
			if res, _ := f.get(copied, "/ui/tenants/"+f.tenant); res.StatusCode != http.StatusOK {
				t.Fatalf("copied cookie before sign-out: %d, want 200", res.StatusCode)
			}
			if res := f.post(c, "/ui/logout", url.Values{"csrf": {csrf}}); res.StatusCode != http.StatusSeeOther {
				t.Errorf("logout: %d", res.StatusCode)
			}
			if res, _ := f.get(c, "/ui/tenants/"+f.tenant); res.StatusCode != http.StatusSeeOther {
				t.Errorf("GET after sign-out: %d, want 303 to the sign-in form", res.StatusCode)
			}
			if res := f.post(copied, "/ui/tenants/"+f.tenant+"/tokens", url.Values{"name": {"replayed"}, "csrf": {csrf}}); res.StatusCode != http.StatusUnauthorized {
				t.Errorf("POST with a copy of the signed-out cookie: %d, want 401", res.StatusCode)
			}
			if n := len(f.tokens()); n != 1 {
				t.Errorf("tokens after the replayed POST = %d, want 1", n)
			}
		})
	}
}

func mustURL(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}

// TestNoAdminToken: without an admin token or OIDC nobody signs in.
func TestNoAdminToken(t *testing.T) {
	st := backends(t)["sqlite"](t)
	c, err := console.New(context.Background(), console.Options{Store: st, Logger: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(c)
	defer srv.Close()
	res, err := http.PostForm(srv.URL+"/ui/login", url.Values{"token": {""}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusForbidden {
		t.Errorf("POST /ui/login without an admin token: %d, want 403", res.StatusCode)
	}
}

// TestPages renders every page on both stores (200 with the expected text)
// and answers bad paths and values with a clear error page, never a 500.
func TestPages(t *testing.T) {
	for name, open := range backends(t) {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t, open(t), config.ConsoleConfig{})
			f.seed()
			c := f.client()
			f.signIn(c)
			tp := "/ui/tenants/" + f.tenant
			for _, tc := range []struct {
				path   string
				status int
				want   string
			}{
				{"/ui/", 200, "Last Okta push"},
				{tp, 200, "Run history"},
				{tp + "?q=nothing", 200, "Latest report"},
				{tp + "/roles", 200, "AxonFlow Admins"},
				{tp + "/roles/preview?group=Developers&byName=true&role=developer", 200, "carl@example.com"},
				{tp + "/roles/preview?group=Developers&byName=true&role=emperor", 400, "emperor"},
				{tp + "/roles/preview?group=Developers&byName=true&remove=1", 404, "no mapping"},
				{tp + "/users", 200, "userName or id"},
				{tp + "/users?q=nobody@example.com", 200, "never_pushed"},
				{tp + "/users/ann@example.com", 200, "Effective roles"},
				{tp + "/users/nobody", 404, "no user"},
				{tp + "/log", 200, "entries, newest first"},
				{tp + "/log?user=ann@example.com&outcome=accepted&actor=operator&since=24h", 200, "entries"},
				{tp + "/log?since=yesterday", 400, "since"},
				{tp + "/log?outcome=maybe", 400, "outcome"},
				{tp + "/tokens", 200, "okta"},
				{"/ui/tenants/nope", 404, "does not exist"},
				{"/ui/tenants/Bad!/tokens", 400, "must match"},
				{"/ui/tenants/nope/plans/p1", 404, "not available"},
				{"/ui/nothing", 404, "No such page"},
			} {
				res, body := f.get(c, tc.path)
				if res.StatusCode != tc.status || !strings.Contains(body, tc.want) {
					t.Errorf("GET %s = %d, want %d with %q:\n%s", tc.path, res.StatusCode, tc.status, tc.want, body)
				}
			}
			// Complex attribute values (name, emails) read as JSON, not Go's map syntax.
			if _, body := f.get(c, tp+"/users/ann@example.com"); strings.Contains(body, "map[") || !strings.Contains(body, "givenName&#34;:&#34;Ann") {
				t.Errorf("user page shows complex values as Go values:\n%s", body)
			}
		})
	}
}

// TestSignInNext: after sign-in the browser returns to the page it asked
// for, never to another site.
func TestSignInNext(t *testing.T) {
	f := newFixture(t, backends(t)["sqlite"](t), config.ConsoleConfig{})
	for next, want := range map[string]string{"/ui/tenants/acme/log": "/ui/tenants/acme/log", "//evil.example/ui/": "/ui/",
		"https://evil.example/ui/": "/ui/", "/admin/v1/tenants": "/ui/"} {
		c := f.client()
		_, body := f.get(c, "/ui/")
		pre := csrfRe.FindStringSubmatch(body)[1]
		res := f.post(c, "/ui/login", url.Values{"csrf": {pre}, "token": {f.token}, "next": {next}})
		if got := res.Header.Get("Location"); got != want {
			t.Errorf("next %q: Location %q, want %q", next, got, want)
		}
	}
}

// TestSignInThrottle: failed token sign-ins from one address are answered
// 429 with Retry-After once its budget is spent; the right token still
// signs in.
func TestSignInThrottle(t *testing.T) {
	f := newFixture(t, backends(t)["sqlite"](t), config.ConsoleConfig{})
	c := f.client()
	_, body := f.get(c, "/ui/")
	pre := csrfRe.FindStringSubmatch(body)[1]
	var last *http.Response
	for range 25 {
		last = f.post(c, "/ui/login", url.Values{"csrf": {pre}, "token": {"wrong"}})
		_, body = f.get(c, "/ui/") // every sign-in page renews the pre-session token
		pre = csrfRe.FindStringSubmatch(body)[1]
	}
	if last.StatusCode != http.StatusTooManyRequests || last.Header.Get("Retry-After") == "" {
		t.Fatalf("25th wrong token: %d Retry-After %q, want 429 with Retry-After", last.StatusCode, last.Header.Get("Retry-After"))
	}
	f.signIn(c)
}

// TestOIDCCodeRefusedByProvider: when the provider refuses the sign-in code
// at its token endpoint (400 invalid_grant: a replayed callback, an expired
// code), the callback answers 400 with "Start again" (was 502, as if the
// provider were down); a provider answering 500 is still 502.
func TestOIDCCodeRefusedByProvider(t *testing.T) {
	tokenStatus := http.StatusBadRequest
	op := httptest.NewUnstartedServer(nil)
	issuer := "http://" + op.Listener.Addr().String()
	op.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/.well-known/openid-configuration":
			fmt.Fprintf(w, `{"issuer": %q, "authorization_endpoint": %q, "token_endpoint": %q, "jwks_uri": %q,
				"response_types_supported": ["code"], "subject_types_supported": ["public"], "id_token_signing_alg_values_supported": ["RS256"]}`,
				issuer, issuer+"/authorize", issuer+"/token", issuer+"/keys")
		case "/token":
			w.WriteHeader(tokenStatus)
			fmt.Fprint(w, `{"error": "invalid_grant", "error_description": "code already used"}`)
		default:
			http.NotFound(w, r)
		}
	})
	op.Start()
	t.Cleanup(op.Close)
	f := newFixture(t, backends(t)["sqlite"](t), config.ConsoleConfig{OIDC: config.ConsoleOIDCConfig{Issuer: issuer,
		ClientID: "axonflow-console", ClientSecret: "console-secret", RedirectURL: "http://127.0.0.1/ui/oidc/callback",
		ViewerGroups: []string{"v"}, ApproverGroups: []string{"a"}}})
	for _, c := range []struct {
		tokenStatus, want int
		text              string
	}{{400, 400, "already used or has expired"}, {500, 502, "did not accept the sign-in code"}} {
		tokenStatus = c.tokenStatus
		cl := f.client()
		res, _ := f.get(cl, "/ui/login/oidc")
		loc, err := url.Parse(res.Header.Get("Location"))
		if res.StatusCode != http.StatusFound || err != nil || loc.Query().Get("state") == "" {
			t.Fatalf("start: %d %q", res.StatusCode, res.Header.Get("Location"))
		}
		res, body := f.get(cl, "/ui/oidc/callback?code=used&state="+url.QueryEscape(loc.Query().Get("state")))
		if res.StatusCode != c.want || !strings.Contains(body, c.text) {
			t.Errorf("provider token status %d: callback %d, want %d with %q", c.tokenStatus, res.StatusCode, c.want, c.text)
		}
	}
}

// sessionsDown is a store whose sign-out records cannot be read.
type sessionsDown struct{ store.State }

func (sessionsDown) SessionEnded(context.Context, string) (bool, error) {
	return false, fmt.Errorf("%w: test", store.ErrUnavailable)
}

// TestSignOutAcrossReplicas: Sign out on one replica ends the session on
// every replica sharing the store, also one started afterwards, for a copy
// of the cookie taken before; when the store cannot say, the request is
// refused with 503 and nothing changes.
func TestSignOutAcrossReplicas(t *testing.T) {
	for name, open := range backends(t) {
		t.Run(name, func(t *testing.T) {
			cc := config.ConsoleConfig{SessionIdleTimeout: 30 * time.Minute, SessionMaxAge: 2 * time.Hour}
			f := newFixture(t, open(t), cc)
			replica := func(st store.State) *httptest.Server {
				c, err := console.New(context.Background(), console.Options{Store: st, AdminToken: f.token, Console: cc,
					Logger: zerolog.Nop(), Now: f.clock.now})
				if err != nil {
					t.Fatal(err)
				}
				srv := httptest.NewServer(c)
				t.Cleanup(srv.Close)
				return srv
			}
			b := replica(f.st)
			c := f.client()
			csrf := f.signIn(c)
			copied := f.client()
			copied.Jar.SetCookies(mustURL(f.srv.URL+"/ui/"), c.Jar.Cookies(mustURL(f.srv.URL+"/ui/")))
			get := func(cl *http.Client, srv *httptest.Server) int {
				res, err := cl.Get(srv.URL + "/ui/tenants/" + f.tenant)
				if err != nil {
					t.Fatal(err)
				}
				res.Body.Close()
				return res.StatusCode
			}
			if code := get(copied, b); code != http.StatusOK {
				t.Fatalf("replica B before sign-out: %d, want 200", code)
			}
			down := replica(sessionsDown{f.st})
			if code := get(copied, down); code != http.StatusServiceUnavailable {
				t.Errorf("replica whose store cannot answer: %d, want 503", code)
			}
			if res := f.post(c, "/ui/logout", url.Values{"csrf": {csrf}}); res.StatusCode != http.StatusSeeOther {
				t.Fatalf("logout on A: %d", res.StatusCode)
			}
			if code := get(copied, b); code != http.StatusSeeOther {
				t.Errorf("replica B after sign-out on A: %d, want 303 to the sign-in form", code)
			}
			later := replica(f.st) // started after the sign-out
			if code := get(copied, later); code != http.StatusSeeOther {
				t.Errorf("a replica started after the sign-out: %d, want 303", code)
			}
			form := url.Values{"name": {"replayed"}, "csrf": {csrf}}
			res, err := copied.PostForm(b.URL+"/ui/tenants/"+f.tenant+"/tokens", form)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != http.StatusUnauthorized || len(f.tokens()) != 0 {
				t.Errorf("POST on B with the signed-out cookie: %d, %d tokens; want 401 and none", res.StatusCode, len(f.tokens()))
			}
		})
	}
}
