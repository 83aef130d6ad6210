package oktatest

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// get performs an authenticated GET (SSWS with the server's token unless auth
// is given) and returns the response with its body read.
func get(t *testing.T, s *Server, pathOrURL string, auth ...string) (*http.Response, []byte) {
	t.Helper()
	u := pathOrURL
	if strings.HasPrefix(u, "/") {
		u = s.URL + u
	}
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(auth) > 0 {
		if auth[0] != "" {
			req.Header.Set("Authorization", auth[0])
		}
	} else {
		req.Header.Set("Authorization", "SSWS "+s.Token)
	}
	resp, err := s.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

func decodeList(t *testing.T, body []byte) []map[string]any {
	t.Helper()
	var out []map[string]any
	if err := json.Unmarshal(body, &out); err != nil {
		t.Fatalf("decode %q: %v", body, err)
	}
	return out
}

var linkRE = regexp.MustCompile(`^<([^>]+)>; rel="(self|next)"$`)

// links returns the self and next URLs, failing unless each Link header line
// holds exactly one link.
func links(t *testing.T, resp *http.Response) (self, next string) {
	t.Helper()
	for _, l := range resp.Header.Values("Link") {
		m := linkRE.FindStringSubmatch(l)
		if m == nil {
			t.Fatalf("malformed Link line %q", l)
		}
		if m[2] == "self" {
			self = m[1]
		} else {
			next = m[1]
		}
	}
	return self, next
}

func checkError(t *testing.T, resp *http.Response, body []byte, status int, code string) {
	t.Helper()
	if resp.StatusCode != status {
		t.Fatalf("status %d, want %d (%s)", resp.StatusCode, status, body)
	}
	var e struct {
		ErrorCode, ErrorSummary, ErrorLink, ErrorID string
		ErrorCauses                                 []any
	}
	if err := json.Unmarshal(body, &e); err != nil {
		t.Fatalf("error body %q: %v", body, err)
	}
	if e.ErrorCode != code || e.ErrorSummary == "" || e.ErrorID == "" || e.ErrorCauses == nil {
		t.Fatalf("error body %s, want errorCode %s with summary, id and causes", body, code)
	}
}

func TestPagingLinksHeadersAndCursors(t *testing.T) {
	s := New()
	defer s.Close()
	res := s.Seed(GenOptions{Users: 120, Groups: 4, Memberships: 200})

	resp, body := get(t, s, "/api/v1/apps/"+res.AppID+"/users")
	for _, h := range []string{"Date", "X-Okta-Request-Id", "X-Rate-Limit-Limit", "X-Rate-Limit-Remaining", "X-Rate-Limit-Reset"} {
		if resp.Header.Get(h) == "" {
			t.Errorf("missing header %s", h)
		}
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
	if n := len(resp.Header.Values("Link")); n != 2 {
		t.Fatalf("%d Link lines, want separate self and next lines", n)
	}
	first := decodeList(t, body)
	if len(first) != AppUsersDefaultLimit {
		t.Fatalf("first page has %d items, want default limit %d", len(first), AppUsersDefaultLimit)
	}
	created, _ := first[0]["created"].(string)
	if !regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`).MatchString(created) {
		t.Errorf("timestamp %q not in Okta format", created)
	}

	seen := map[string]bool{}
	var ids []string
	next := s.URL + "/api/v1/apps/" + res.AppID + "/users"
	pages := 0
	for next != "" {
		resp, body := get(t, s, next)
		pages++
		_, nx := links(t, resp)
		if nx != "" {
			u, _ := url.Parse(nx)
			after := u.Query().Get("after")
			if after == "" || seen[after] {
				t.Fatalf("bad or repeated after cursor %q", after)
			}
			for _, id := range res.UserIDs {
				if after == id {
					t.Fatalf("cursor %q is a plain id, want opaque", after)
				}
			}
			seen[after] = true
		} else if len(resp.Header.Values("Link")) != 1 {
			t.Fatalf("last page: want only the self link, got %q", resp.Header.Values("Link"))
		}
		for _, it := range decodeList(t, body) {
			ids = append(ids, it["id"].(string))
		}
		next = nx
	}
	if pages != 3 || len(ids) != 120 {
		t.Fatalf("%d pages, %d ids; want 3 pages, 120 ids", pages, len(ids))
	}
	for i := 1; i < len(ids); i++ {
		if ids[i] <= ids[i-1] {
			t.Fatalf("ids not strictly increasing at %d: %s, %s", i, ids[i-1], ids[i])
		}
	}
	if got := s.Calls(RouteAppUsers); got != 4 {
		t.Errorf("Calls(RouteAppUsers) = %d, want 4", got)
	}
}

func TestLimits(t *testing.T) {
	s := New(WithoutRateLimits())
	defer s.Close()
	res := s.Seed(GenOptions{Users: 1200, Groups: 250, Memberships: 1500})
	cases := []struct {
		path string
		want int
	}{
		{"/api/v1/apps/" + res.AppID + "/users?limit=1000", AppUsersMaxLimit},
		{"/api/v1/apps/" + res.AppID + "/users?limit=7", 7},
		{"/api/v1/apps/" + res.AppID + "/groups", AppGroupsDefaultLimit},
		{"/api/v1/apps/" + res.AppID + "/groups?limit=500", AppGroupsMaxLimit},
		{"/api/v1/users", UsersDefaultLimit},
		{"/api/v1/users?limit=1000", UsersMaxLimit},
	}
	for _, c := range cases {
		_, body := get(t, s, c.path)
		if n := len(decodeList(t, body)); n != c.want {
			t.Errorf("%s: %d items, want %d", c.path, n, c.want)
		}
	}
	resp, body := get(t, s, "/api/v1/apps/"+res.AppID+"/users?limit=abc")
	checkError(t, resp, body, http.StatusBadRequest, "E0000001")
	resp, body = get(t, s, "/api/v1/apps/"+res.AppID+"/users?after=notacursor")
	checkError(t, resp, body, http.StatusBadRequest, "E0000001")
}

func TestAppGroupsExpandAndGroupScope(t *testing.T) {
	s := New()
	defer s.Close()
	alice := s.AddUser(User{Email: "alice@example.com", FirstName: "Alice", LastName: "A"})
	bob := s.AddUser(User{Email: "bob@example.com", FirstName: "Bob", LastName: "B"})
	carol := s.AddUser(User{Email: "carol@example.com", FirstName: "Carol", LastName: "C"})
	eng := s.AddGroup(Group{Name: "Engineering"})
	s.AddGroupMember(eng, alice)
	s.AddGroupMember(eng, bob)
	s.AssignUser("0oaapp", alice, ScopeUser, StatusProvisioned, WithExternalID("scim-1"))
	s.AssignGroup("0oaapp", eng)

	_, body := get(t, s, "/api/v1/apps/0oaapp/users?expand=user")
	got := map[string]map[string]any{}
	for _, u := range decodeList(t, body) {
		got[u["id"].(string)] = u
	}
	if len(got) != 2 || got[alice]["scope"] != ScopeUser || got[bob]["scope"] != ScopeGroup {
		t.Fatalf("app users %v: want alice USER, bob GROUP", got)
	}
	if got[alice]["externalId"] != "scim-1" || got[alice]["status"] != StatusProvisioned || got[bob]["externalId"] != nil {
		t.Errorf("alice %v / bob %v", got[alice], got[bob])
	}
	emb := got[bob]["_embedded"].(map[string]any)["user"].(map[string]any)
	if emb["profile"].(map[string]any)["login"] != "bob@example.com" {
		t.Errorf("embedded user %v", emb)
	}
	if got[bob]["credentials"].(map[string]any)["userName"] != "bob@example.com" {
		t.Errorf("credentials %v", got[bob]["credentials"])
	}

	// A member added later shows up as a GROUP-scope app user.
	s.AddGroupMember(eng, carol)
	_, body = get(t, s, "/api/v1/apps/0oaapp/users")
	if n := len(decodeList(t, body)); n != 3 {
		t.Fatalf("%d app users after adding carol, want 3", n)
	}

	_, body = get(t, s, "/api/v1/apps/0oaapp/groups?expand=group")
	gs := decodeList(t, body)
	if len(gs) != 1 || gs[0]["id"] != eng {
		t.Fatalf("app groups %v", gs)
	}
	name := gs[0]["_embedded"].(map[string]any)["group"].(map[string]any)["profile"].(map[string]any)["name"]
	if name != "Engineering" {
		t.Errorf("embedded group name %v", name)
	}
	_, body = get(t, s, "/api/v1/apps/0oaapp/groups")
	if _, has := decodeList(t, body)[0]["_embedded"]; has {
		t.Error("_embedded present without expand=group")
	}

	_, body = get(t, s, "/api/v1/groups/"+eng+"/users")
	if n := len(decodeList(t, body)); n != 3 {
		t.Errorf("%d members, want 3", n)
	}
	resp, body := get(t, s, "/api/v1/groups/"+eng)
	if resp.StatusCode != 200 || !bytes.Contains(body, []byte(`"name":"Engineering"`)) {
		t.Errorf("GET group: %d %s", resp.StatusCode, body)
	}
	resp, body = get(t, s, "/api/v1/users/bob@example.com")
	if resp.StatusCode != 200 || !bytes.Contains(body, []byte(bob)) {
		t.Errorf("GET user by login: %d %s", resp.StatusCode, body)
	}
}

func TestAuthAndNotFound(t *testing.T) {
	s := New()
	defer s.Close()
	s.AddApp("0oaapp")
	resp, body := get(t, s, "/api/v1/apps/0oaapp/users", "SSWS wrong")
	checkError(t, resp, body, http.StatusUnauthorized, "E0000011")
	if resp.Header.Get("X-Rate-Limit-Limit") == "" {
		t.Error("401 without rate-limit headers")
	}
	resp, body = get(t, s, "/api/v1/apps/0oaapp/users", "")
	checkError(t, resp, body, http.StatusUnauthorized, "E0000011")
	resp, body = get(t, s, "/api/v1/apps/0oaapp/users", "Bearer nope")
	checkError(t, resp, body, http.StatusUnauthorized, "E0000011")
	for _, p := range []string{"/api/v1/apps/0oanope/users", "/api/v1/apps/0oanope/groups",
		"/api/v1/groups/00gnope", "/api/v1/groups/00gnope/users", "/api/v1/users/00unope", "/api/v1/nothing"} {
		resp, body := get(t, s, p)
		checkError(t, resp, body, http.StatusNotFound, "E0000007")
	}
	resp, body = get(t, s, "/api/v1/apps/0oaapp/users")
	if resp.StatusCode != 200 || string(body) != "[]" {
		t.Errorf("empty app: %d %s", resp.StatusCode, body)
	}
}

func TestRateLimitBuckets(t *testing.T) {
	var mu sync.Mutex
	now := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	s := New(WithClock(clock), WithRateLimit(BucketApps, 3, time.Minute))
	defer s.Close()
	s.AddApp("0oaapp")
	s.AddGroup(Group{Name: "g"})
	for i := 1; i <= 3; i++ {
		resp, _ := get(t, s, "/api/v1/apps/0oaapp/users")
		if resp.StatusCode != 200 || resp.Header.Get("X-Rate-Limit-Remaining") != strconv.Itoa(3-i) {
			t.Fatalf("request %d: %d remaining %s", i, resp.StatusCode, resp.Header.Get("X-Rate-Limit-Remaining"))
		}
	}
	// The apps bucket is shared by app users and app groups; groups are separate.
	resp, body := get(t, s, "/api/v1/apps/0oaapp/groups")
	checkError(t, resp, body, http.StatusTooManyRequests, "E0000047")
	if resp.Header.Get("X-Rate-Limit-Reset") != strconv.FormatInt(now.Add(time.Minute).Unix(), 10) {
		t.Errorf("reset %s, want window end", resp.Header.Get("X-Rate-Limit-Reset"))
	}
	if resp.Header.Get("Date") != now.Format(http.TimeFormat) {
		t.Errorf("Date %q does not follow the clock", resp.Header.Get("Date"))
	}
	if resp, _ := get(t, s, "/api/v1/groups"); resp.StatusCode != 200 {
		t.Errorf("groups bucket affected: %d", resp.StatusCode)
	}
	mu.Lock()
	now = now.Add(time.Minute)
	mu.Unlock()
	if resp, _ := get(t, s, "/api/v1/apps/0oaapp/users"); resp.StatusCode != 200 {
		t.Errorf("after the window: %d", resp.StatusCode)
	}
	if s.BucketPeak(BucketApps) != 3 || s.Served429() != 1 {
		t.Errorf("peak %d, 429s %d", s.BucketPeak(BucketApps), s.Served429())
	}

	// WithResetInPast: the 429's reset lies before Date and an immediate retry succeeds.
	f := New(WithClock(clock), WithRateLimit(BucketApps, 1, time.Minute), WithResetInPast())
	defer f.Close()
	f.AddApp("0oaapp")
	get(t, f, "/api/v1/apps/0oaapp/users")
	resp, _ = get(t, f, "/api/v1/apps/0oaapp/users")
	date, _ := http.ParseTime(resp.Header.Get("Date"))
	reset, _ := strconv.ParseInt(resp.Header.Get("X-Rate-Limit-Reset"), 10, 64)
	if resp.StatusCode != 429 || reset != date.Unix()-1 {
		t.Fatalf("status %d reset %d date %d", resp.StatusCode, reset, date.Unix())
	}
	if resp, _ := get(t, f, "/api/v1/apps/0oaapp/users"); resp.StatusCode != 200 {
		t.Errorf("retry after past reset: %d", resp.StatusCode)
	}
}

func TestFaults(t *testing.T) {
	s := New(WithoutRateLimits())
	defer s.Close()
	res := s.Seed(GenOptions{Users: 150, Groups: 2, Memberships: 200})
	base := "/api/v1/apps/" + res.AppID + "/users?limit=50"

	t.Run("FailNth", func(t *testing.T) {
		defer s.FailNth(RouteAppUsers, 2, 2, 502)()
		codes := []int{}
		for range 4 {
			resp, _ := get(t, s, base)
			codes = append(codes, resp.StatusCode)
		}
		if codes[0] != 200 || codes[1] != 502 || codes[2] != 502 || codes[3] != 200 {
			t.Errorf("statuses %v, want 200 502 502 200", codes)
		}
	})
	t.Run("Storm429", func(t *testing.T) {
		defer s.Storm429("", 2)()
		r1, b1 := get(t, s, base)
		checkError(t, r1, b1, 429, "E0000047")
		r2, _ := get(t, s, "/api/v1/groups")
		r3, _ := get(t, s, base)
		if r2.StatusCode != 429 || r3.StatusCode != 200 {
			t.Errorf("storm: %d %d", r2.StatusCode, r3.StatusCode)
		}
	})
	t.Run("RepeatCursor", func(t *testing.T) {
		defer s.RepeatCursorFrom(RouteAppUsers, 2)()
		resp, _ := get(t, s, base)
		_, next := links(t, resp)
		resp, _ = get(t, s, next)
		self, next2 := links(t, resp)
		if next2 != self || next2 != next {
			t.Errorf("page 2 next %q, self %q, want the same URL", next2, self)
		}
	})
	t.Run("EndlessPaging", func(t *testing.T) {
		defer s.EndlessPaging(RouteAppUsers)()
		next, n := s.URL+base, 0
		for ; next != "" && n < 8; n++ {
			resp, _ := get(t, s, next)
			_, next = links(t, resp)
		}
		if next == "" {
			t.Error("paging ended")
		}
	})
	t.Run("EmptyPageAndDropNext", func(t *testing.T) {
		stop := s.EmptyPageAt(RouteAppUsers, 2)
		total, next, pages := 0, s.URL+base, 0
		for next != "" {
			resp, body := get(t, s, next)
			pages++
			total += len(decodeList(t, body))
			_, next = links(t, resp)
		}
		stop()
		if total != 150 || pages != 4 {
			t.Errorf("empty page: %d items in %d pages, want 150 in 4", total, pages)
		}
		defer s.DropNextAt(RouteAppUsers, 1)()
		resp, _ := get(t, s, base)
		if _, next := links(t, resp); next != "" {
			t.Error("next link not dropped")
		}
	})
	t.Run("DisconnectAndDelay", func(t *testing.T) {
		stop := s.DisconnectNth(RouteGroups, 1, 2) // the transport retries a broken reused connection once
		req, _ := http.NewRequest(http.MethodGet, s.URL+"/api/v1/groups", nil)
		req.Header.Set("Authorization", "SSWS "+s.Token)
		if resp, err := s.Client().Do(req); err == nil {
			resp.Body.Close()
			t.Error("disconnect fault answered")
		}
		stop()
		defer s.SlowDown(RouteGroups, 50*time.Millisecond)()
		start := time.Now()
		get(t, s, "/api/v1/groups")
		if d := time.Since(start); d < 50*time.Millisecond {
			t.Errorf("slow response took %v", d)
		}
	})
	t.Run("TruncateBody", func(t *testing.T) {
		defer s.TruncateBodyNth(RouteGroups, 1, 2)()
		req, _ := http.NewRequest(http.MethodGet, s.URL+"/api/v1/groups", nil)
		req.Header.Set("Authorization", "SSWS "+s.Token)
		resp, err := s.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if _, err := io.ReadAll(resp.Body); err == nil {
			t.Error("truncated body read without error")
		}
	})
	t.Run("MatchAndConcurrency", func(t *testing.T) {
		g := res.GroupIDs[0]
		defer s.AddFault(Fault{Route: RouteGroupUsers, Kind: FaultStatus, Times: -1,
			Match: func(r *http.Request) bool { return r.PathValue("groupId") == g }})()
		if resp, _ := get(t, s, "/api/v1/groups/"+g+"/users"); resp.StatusCode != 503 {
			t.Errorf("matched group: %d", resp.StatusCode)
		}
		if resp, _ := get(t, s, "/api/v1/groups/"+res.GroupIDs[1]+"/users"); resp.StatusCode != 200 {
			t.Errorf("other group: %d", resp.StatusCode)
		}
		s.ResetCounters()
		defer s.SlowDown(RouteUsers, 40*time.Millisecond)()
		var wg sync.WaitGroup
		for range 5 {
			wg.Go(func() { get(t, s, "/api/v1/users") })
		}
		wg.Wait()
		if m := s.MaxConcurrent(); m < 2 || m > 5 {
			t.Errorf("MaxConcurrent = %d", m)
		}
	})
}

func TestConcurrencyLimit(t *testing.T) {
	s := New(WithConcurrencyLimit(1))
	defer s.Close()
	s.AddApp("0oaapp")
	defer s.SlowDown(RouteAppUsers, 300*time.Millisecond)()
	codes := make(chan int, 2)
	var wg sync.WaitGroup
	for i := range 2 {
		wg.Go(func() {
			resp, _ := get(t, s, "/api/v1/apps/0oaapp/users")
			codes <- resp.StatusCode
		})
		for i == 0 && s.MaxConcurrent() < 1 { // the first request is in flight
			time.Sleep(time.Millisecond)
		}
	}
	wg.Wait()
	close(codes)
	n429 := 0
	for c := range codes {
		if c == 429 {
			n429++
		}
	}
	if n429 != 1 {
		t.Errorf("%d of 2 concurrent requests got 429, want 1 (max concurrent %d)", n429, s.MaxConcurrent())
	}
}

func TestSearchGroups(t *testing.T) {
	s := New()
	defer s.Close()
	s.AddGroup(Group{Name: "Admins"})
	s.AddGroup(Group{Name: "admins-eu"})
	s.AddGroup(Group{Name: "Users"})
	_, body := get(t, s, "/api/v1/groups?q=adm")
	if n := len(decodeList(t, body)); n != 2 {
		t.Errorf("q=adm: %d groups, want 2", n)
	}
	_, body = get(t, s, "/api/v1/groups?search="+url.QueryEscape(`profile.name eq "Admins"`))
	if l := decodeList(t, body); len(l) != 1 {
		t.Errorf("search eq: %v", l)
	}
	resp, body := get(t, s, "/api/v1/groups?search="+url.QueryEscape(`profile.name lt "x"`))
	checkError(t, resp, body, 400, "E0000031")
}

func signJWT(t *testing.T, key *rsa.PrivateKey, kid string, claims map[string]any) string {
	t.Helper()
	hdr := map[string]any{"alg": "RS256", "typ": "JWT"}
	if kid != "" {
		hdr["kid"] = kid
	}
	enc := func(v any) string {
		b, _ := json.Marshal(v)
		return base64.RawURLEncoding.EncodeToString(b)
	}
	input := enc(hdr) + "." + enc(claims)
	sum := sha256.Sum256([]byte(input))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
	if err != nil {
		t.Fatal(err)
	}
	return input + "." + base64.RawURLEncoding.EncodeToString(sig)
}

func TestOAuthTokenEndpoint(t *testing.T) {
	s := New()
	defer s.Close()
	s.AddApp("0oaapp")
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	other, _ := rsa.GenerateKey(rand.Reader, 2048)
	s.RegisterServiceApp("0oaclient", &key.PublicKey, "kid1", "okta.apps.read")
	aud := s.URL + "/oauth2/v1/token"
	claims := func(mod func(map[string]any)) map[string]any {
		c := map[string]any{"iss": "0oaclient", "sub": "0oaclient", "aud": aud,
			"iat": time.Now().Unix(), "exp": time.Now().Add(time.Hour).Unix()}
		if mod != nil {
			mod(c)
		}
		return c
	}
	token := func(assertion, scope string) (int, map[string]any) {
		q := url.Values{"grant_type": {"client_credentials"}, "scope": {scope},
			"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"},
			"client_assertion":      {assertion}}
		resp, err := s.Client().Post(aud+"?"+q.Encode(), "application/x-www-form-urlencoded", nil)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out
	}

	code, out := token(signJWT(t, key, "kid1", claims(nil)), "okta.apps.read")
	if code != 200 || out["token_type"] != "Bearer" || out["access_token"] == "" {
		t.Fatalf("token: %d %v", code, out)
	}
	bearer := "Bearer " + out["access_token"].(string)
	if resp, body := get(t, s, "/api/v1/apps/0oaapp/users", bearer); resp.StatusCode != 200 {
		t.Errorf("API with access token: %d %s", resp.StatusCode, body)
	}
	resp, body := get(t, s, "/api/v1/groups", bearer)
	checkError(t, resp, body, 403, "E0000006")
	if !strings.Contains(resp.Header.Get("WWW-Authenticate"), `error="insufficient_scope"`) {
		t.Errorf("WWW-Authenticate %q", resp.Header.Get("WWW-Authenticate"))
	}

	bad := []struct {
		name, jwt, scope, wantErr string
	}{
		{"wrong key", signJWT(t, other, "kid1", claims(nil)), "okta.apps.read", "invalid_client"},
		{"wrong kid", signJWT(t, key, "kid2", claims(nil)), "okta.apps.read", "invalid_client"},
		{"wrong aud", signJWT(t, key, "kid1", claims(func(c map[string]any) { c["aud"] = "https://x/oauth2/v1/token" })), "okta.apps.read", "invalid_client"},
		{"expired", signJWT(t, key, "kid1", claims(func(c map[string]any) { c["exp"] = time.Now().Add(-time.Minute).Unix() })), "okta.apps.read", "invalid_client"},
		{"unknown client", signJWT(t, key, "kid1", claims(func(c map[string]any) { c["iss"], c["sub"] = "0oaother", "0oaother" })), "okta.apps.read", "invalid_client"},
		{"scope not granted", signJWT(t, key, "kid1", claims(nil)), "okta.apps.read okta.users.manage", "invalid_scope"},
		{"garbage", "a.b.c", "okta.apps.read", "invalid_client"},
	}
	for _, b := range bad {
		if code, out := token(b.jwt, b.scope); code < 400 || out["error"] != b.wantErr {
			t.Errorf("%s: %d %v, want error %s", b.name, code, out, b.wantErr)
		}
	}
	if s.TokensIssued() != 1 {
		t.Errorf("TokensIssued = %d", s.TokensIssued())
	}
	s.RevokeAccessTokens()
	resp, body = get(t, s, "/api/v1/apps/0oaapp/users", bearer)
	checkError(t, resp, body, 401, "E0000011")
}

func TestSeedDeterministicAndExact(t *testing.T) {
	opts := GenOptions{Users: 3000, Groups: 60, AssignedGroups: 50, Memberships: 9000, ExtraUsers: 100, Seed: 7}
	a, b := New(), New()
	defer a.Close()
	defer b.Close()
	ra, rb := a.Seed(opts), b.Seed(opts)
	if got := len(a.AppUsers(ra.AppID)); got != opts.Users {
		t.Fatalf("%d app users, want exactly %d", got, opts.Users)
	}
	if ra.Memberships != opts.Memberships || len(a.AppGroups(ra.AppID)) != 50 {
		t.Errorf("%d memberships, %d app groups", ra.Memberships, len(a.AppGroups(ra.AppID)))
	}
	if ra.DirectUsers < 1200 || ra.DirectUsers > 1800 {
		t.Errorf("%d direct users, want about half", ra.DirectUsers)
	}
	for i, g := range ra.GroupIDs {
		if strings.Join(a.GroupMembers(g), ",") != strings.Join(b.GroupMembers(rb.GroupIDs[i]), ",") {
			t.Fatalf("group %d differs between identical seeds", i)
		}
	}
	_, pa := get(t, a, "/api/v1/apps/"+ra.AppID+"/users?limit=500&expand=user")
	_, pb := get(t, b, "/api/v1/apps/"+rb.AppID+"/users?limit=500&expand=user")
	if !bytes.Equal(bytes.ReplaceAll(pa, []byte(a.URL), nil), bytes.ReplaceAll(pb, []byte(b.URL), nil)) {
		t.Error("identical seeds serve different app users")
	}
	// Extra users are in no assigned group, so they are not app users.
	app := map[string]bool{}
	for _, id := range a.AppUsers(ra.AppID) {
		app[id] = true
	}
	for _, id := range ra.ExtraUserIDs {
		if app[id] {
			t.Fatalf("extra user %s is an app user", id)
		}
	}
}

// BenchmarkSeed100k measures generating the benchmark org (100,000 app users,
// 2,000 groups, 300,000 memberships) and building its index.
func BenchmarkSeed100k(b *testing.B) {
	for b.Loop() {
		s := New()
		res := s.Seed(GenOptions{Users: 100_000, Groups: 2_000, Memberships: 300_000})
		if len(s.AppUsers(res.AppID)) != 100_000 {
			b.Fatal("wrong app user count")
		}
		s.Close()
	}
}
