package admin_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/axonflow/axonflow-sync/internal/admin"
	"github.com/axonflow/axonflow-sync/internal/testredis"
	"github.com/axonflow/axonflow-sync/scimserver"
	"github.com/axonflow/axonflow-sync/store"
	"github.com/axonflow/axonflow-sync/store/redisstore"
	"github.com/axonflow/axonflow-sync/store/sqlitestore"
)

func TestMain(m *testing.M) { os.Exit(testredis.Main(m)) }

const adminToken = "Vq3xK9pLm2Zt7Rw4Ys8Nb1Hc6Jd0Fg5Qe3Ua9Io2Lk4="

// backends returns a fresh State per backend.
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

type client struct {
	t    *testing.T
	base string
}

func (c client) do(method, path, token, body string) (int, map[string]any) {
	c.t.Helper()
	req, _ := http.NewRequest(method, c.base+path, strings.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if len(b) > 0 {
		if err := json.Unmarshal(b, &m); err != nil {
			c.t.Fatalf("%s %s: non-JSON body %q", method, path, b)
		}
	}
	return resp.StatusCode, m
}

func errCode(m map[string]any) string {
	e, _ := m["error"].(map[string]any)
	s, _ := e["code"].(string)
	return s
}

func TestAdminAPI(t *testing.T) {
	for name, open := range backends(t) {
		t.Run(name, func(t *testing.T) {
			st := open(t)
			now := time.Now()
			clock := func() time.Time { return now }
			api := admin.New(admin.Options{Store: st, Token: adminToken, Logger: zerolog.Nop(), Now: clock})
			srv := httptest.NewServer(api)
			defer srv.Close()
			scim := httptest.NewServer(scimserver.New(scimserver.Options{Store: st, Now: clock}))
			defer scim.Close()
			c := client{t, srv.URL}
			tenant := fmt.Sprintf("t-%d", time.Now().UnixNano())

			// Auth: no token, wrong token, a SCIM token.
			if code, m := c.do("GET", "/admin/v1/tenants", "", ""); code != 401 || errCode(m) != admin.CodeUnauthorized {
				t.Fatalf("no token: %d %v", code, m)
			}
			scimTok, _, err := store.IssueToken(context.Background(), st, tenant, "okta", 0, now)
			if err != nil {
				t.Fatal(err)
			}
			for _, route := range []string{"GET /admin/v1/tenants", "POST /admin/v1/tenants", "GET /admin/v1/tenants/" + tenant + "/tokens",
				"POST /admin/v1/tenants/" + tenant + "/tokens", "POST /admin/v1/tenants/" + tenant + "/tokens/x/rotate", "GET /admin/v1/nope"} {
				m, p, _ := strings.Cut(route, " ")
				if code, _ := c.do(m, p, scimTok, ""); code != 401 && code != 403 {
					t.Errorf("SCIM token on %s: %d, want 401/403", route, code)
				}
			}

			// Tenants.
			if code, m := c.do("POST", "/admin/v1/tenants", adminToken, `{"id":"Bad Tenant"}`); code != 400 || errCode(m) != admin.CodeInvalid {
				t.Errorf("bad tenant id: %d %v", code, m)
			}
			if code, _ := c.do("POST", "/admin/v1/tenants", adminToken, `{"id":"`+tenant+`-2"}`); code != 201 {
				t.Errorf("create tenant: %d", code)
			}
			if code, _ := c.do("POST", "/admin/v1/tenants", adminToken, `{"id":"`+tenant+`-2"}`); code != 200 {
				t.Errorf("create existing tenant: %d, want 200", code)
			}
			code, m := c.do("GET", "/admin/v1/tenants", adminToken, "")
			if code != 200 || !strings.Contains(fmt.Sprint(m["tenants"]), tenant+"-2") {
				t.Errorf("list tenants: %d %v", code, m)
			}

			// Tokens: create returns the secret once; list never shows it.
			code, m = c.do("POST", "/admin/v1/tenants/"+tenant+"/tokens", adminToken, `{"name":"okta-prod","expiresIn":"720h"}`)
			secret, _ := m["token"].(string)
			if code != 201 || !strings.HasPrefix(secret, "scim_") || m["expiresAt"] == nil {
				t.Fatalf("create token: %d %v", code, m)
			}
			oldID := m["id"].(string)
			code, m = c.do("GET", "/admin/v1/tenants/"+tenant+"/tokens", adminToken, "")
			raw, _ := json.Marshal(m)
			if code != 200 || strings.Contains(string(raw), secret) || strings.Contains(string(raw), store.HashToken(secret)) {
				t.Fatalf("list tokens leaks the secret or failed: %d %s", code, raw)
			}
			for _, k := range []string{"id", "name", "prefix", "created", "expiresAt", "active"} {
				if !strings.Contains(string(raw), `"`+k+`"`) {
					t.Errorf("token list lacks %q: %s", k, raw)
				}
			}

			// Rotation: both tokens work during the grace period; the old one fails after it.
			scimGet := func(tok string) int {
				req, _ := http.NewRequest("GET", scim.URL+"/scim/v2/Users", nil)
				req.Header.Set("Authorization", "Bearer "+tok)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				return resp.StatusCode
			}
			code, m = c.do("POST", "/admin/v1/tenants/"+tenant+"/tokens/"+oldID+"/rotate", adminToken, `{"grace":"1h"}`)
			if code != 201 {
				t.Fatalf("rotate: %d %v", code, m)
			}
			newSecret := m["new"].(map[string]any)["token"].(string)
			if scimGet(secret) != 200 || scimGet(newSecret) != 200 {
				t.Fatal("a token fails during the grace period")
			}
			now = now.Add(59 * time.Minute)
			if scimGet(secret) != 200 {
				t.Fatal("old token fails before the grace period ends")
			}
			now = now.Add(2 * time.Minute)
			if scimGet(secret) != 401 || scimGet(newSecret) != 200 {
				t.Fatal("after the grace period: want old 401, new 200")
			}
			if code, m := c.do("POST", "/admin/v1/tenants/"+tenant+"/tokens/"+oldID+"/rotate", adminToken, ""); code != 409 {
				t.Errorf("rotating an expired token: %d %v, want 409", code, m)
			}

			// Revocation via the API takes effect at once.
			newID := ""
			_, m = c.do("GET", "/admin/v1/tenants/"+tenant+"/tokens", adminToken, "")
			for _, tk := range m["tokens"].([]any) {
				tm := tk.(map[string]any)
				if tm["id"] != oldID && tm["name"] == "okta-prod" {
					newID = tm["id"].(string)
				}
			}
			if code, _ := c.do("DELETE", "/admin/v1/tenants/"+tenant+"/tokens/"+newID, adminToken, ""); code != 200 {
				t.Fatalf("revoke: %d", code)
			}
			if scimGet(newSecret) != 401 {
				t.Fatal("revoked token still works")
			}
			if code, m := c.do("DELETE", "/admin/v1/tenants/other/tokens/"+newID, adminToken, ""); code != 404 || errCode(m) != admin.CodeNotFound {
				t.Errorf("revoke across tenants: %d %v", code, m)
			}
		})
	}
}

func TestAdminAPIDisabled(t *testing.T) {
	st := backends(t)["sqlite"](t)
	srv := httptest.NewServer(admin.New(admin.Options{Store: st}))
	defer srv.Close()
	code, m := client{t, srv.URL}.do("GET", "/admin/v1/tenants", "anything", "")
	if code != 403 || errCode(m) != admin.CodeDisabled {
		t.Fatalf("disabled admin API: %d %v", code, m)
	}
}

func TestAdminAPIErrors(t *testing.T) {
	st := backends(t)["sqlite"](t)
	srv := httptest.NewServer(admin.New(admin.Options{Store: st, Token: adminToken, Logger: zerolog.Nop()}))
	defer srv.Close()
	c := client{t, srv.URL}
	if code, m := c.do("GET", "/admin/v1/tenants/nope/tokens", adminToken, ""); code != 404 || errCode(m) != admin.CodeNotFound {
		t.Errorf("tokens of an unknown tenant: %d %v, want 404 not_found", code, m)
	}
	if _, _, err := store.IssueToken(context.Background(), st, "acme", "okta", 0, time.Now()); err != nil {
		t.Fatal(err)
	}
	code, m := c.do("DELETE", "/admin/v1/tenants/acme/tokens/tok_nope", adminToken, "")
	if e, _ := m["error"].(map[string]any); code != 404 || !strings.Contains(fmt.Sprint(e["message"]), "tenant acme has no token tok_nope") {
		t.Errorf("revoking an unknown token: %d %v", code, m)
	}
	big := `{"name":"` + strings.Repeat("x", 128<<10) + `"}`
	if code, m := c.do("POST", "/admin/v1/tenants/acme/tokens", adminToken, big); code != 413 {
		t.Errorf("oversized body: %d %v, want 413", code, m)
	}
}

// TestAdminAuthThrottle: failed admin authentications from one address
// get 429 throttled with Retry-After once the burst is spent (and no
// longer 401), while the right token keeps working from that address.
func TestAdminAuthThrottle(t *testing.T) {
	st := backends(t)["sqlite"](t)
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	srv := httptest.NewServer(admin.New(admin.Options{Store: st, Token: adminToken, Logger: zerolog.Nop(),
		AuthFailBurst: 5, AuthFailRefill: time.Minute, Now: func() time.Time { return now }}))
	defer srv.Close()
	c := client{t, srv.URL}
	for i := 1; i <= 5; i++ {
		if code, m := c.do("GET", "/admin/v1/tenants", "guess", ""); code != 401 || errCode(m) != admin.CodeUnauthorized {
			t.Fatalf("failure %d: %d %v, want 401", i, code, m)
		}
	}
	req, _ := http.NewRequest("GET", srv.URL+"/admin/v1/tenants", nil)
	req.Header.Set("Authorization", "Bearer guess-again")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 429 || res.Header.Get("Retry-After") == "" {
		t.Fatalf("after the burst: %d (Retry-After %q), want 429 with Retry-After", res.StatusCode, res.Header.Get("Retry-After"))
	}
	if code, m := c.do("GET", "/admin/v1/tenants", "", ""); code != 429 || errCode(m) != admin.CodeThrottled {
		t.Fatalf("no token after the burst: %d %v", code, m)
	}
	for i := 0; i < 3; i++ {
		if code, m := c.do("GET", "/admin/v1/tenants", adminToken, ""); code != 200 {
			t.Fatalf("the admin token while the address is throttled: %d %v", code, m)
		}
	}
	now = now.Add(time.Minute)
	if code, _ := c.do("GET", "/admin/v1/tenants", "guess", ""); code != 401 {
		t.Fatalf("after the refill interval: %d, want 401", code)
	}
}
