package scimserver_test

// The HTTP-level test harness: every test runs against both store backends
// (SQLite in t.TempDir(), Redis from internal/testredis with a fresh tenant
// per test), through a real loopback server, with requests shaped exactly
// as Okta sends them.

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/axonflow/axonflow-sync/internal/testredis"
	"github.com/axonflow/axonflow-sync/mapping"
	"github.com/axonflow/axonflow-sync/scimserver"
	"github.com/axonflow/axonflow-sync/store"
	"github.com/axonflow/axonflow-sync/store/redisstore"
	"github.com/axonflow/axonflow-sync/store/sqlitestore"
)

func TestMain(m *testing.M) { os.Exit(testredis.Main(m)) }

// What Okta sends on every request.
const (
	oktaUA = "Okta SCIM Client 1.0.0"
	oktaCT = "application/scim+json; charset=utf-8"
)

// backend opens a fresh store.State for one test (cleanup registered on tb).
type backend struct {
	name string
	open func(tb testing.TB) store.State
}

var backends = []backend{
	{"sqlite", openSQLite},
	{"redis", openRedis},
}

// sqlitePaths maps each SQLite store opened by openSQLite to its file.
var sqlitePaths sync.Map

func openSQLite(tb testing.TB) store.State {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "axonflow-sync.db")
	st, err := sqlitestore.Open(context.Background(), path, zerolog.Nop())
	if err != nil {
		tb.Fatalf("sqlitestore.Open: %v", err)
	}
	sqlitePaths.Store(store.State(st), path)
	tb.Cleanup(func() { st.Close() })
	return st
}

func openRedis(tb testing.TB) store.State {
	tb.Helper()
	st, err := redisstore.Open(context.Background(), testredis.URL(tb), redisstore.Options{})
	if err != nil {
		tb.Fatalf("redisstore.Open: %v", err)
	}
	tb.Cleanup(func() { st.Close() })
	return st
}

// eachBackend runs fn once per backend, as parallel subtests "sqlite" and
// "redis", each with its own server, tenant and token.
func eachBackend(t *testing.T, fn func(t *testing.T, e *env)) {
	t.Helper()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			fn(t, newEnv(t, b.open(t)))
		})
	}
}

// uniqueID returns prefix plus 12 random hex characters.
func uniqueID(prefix string) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

// clock is the server's Now: real time unless a test fixes it.
type clock struct {
	mu  sync.Mutex
	at  time.Time
	set bool
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.set {
		return c.at
	}
	return time.Now()
}

// Set fixes the clock at t; the zero time restores real time.
func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.at, c.set = t, !t.IsZero()
}

// env is one server on one backend with one tenant and its token.
type env struct {
	st     store.State
	srv    *httptest.Server
	clock  *clock
	tenant string
	secret string // the bearer token secret, "scim_..."
	token  store.Token
	base   string // srv.URL + "/scim/v2"
	client *http.Client
	events *eventLog
}

// eventLog is an Observer that keeps every event.
type eventLog struct {
	mu sync.Mutex
	ev []scimserver.Event
}

func (l *eventLog) ObserveSCIM(ev scimserver.Event) {
	l.mu.Lock()
	l.ev = append(l.ev, ev)
	l.mu.Unlock()
}

func (l *eventLog) all() []scimserver.Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.ev)
}

// newEnv serves st; tests that send many bad tokens on purpose get a high
// authentication-failure burst unless an option says otherwise.
func newEnv(tb testing.TB, st store.State, opts ...func(*scimserver.Options)) *env {
	tb.Helper()
	e := &env{st: st, clock: &clock{}, events: &eventLog{}}
	o := scimserver.Options{
		Store: st, Logger: zerolog.Nop(), Now: e.clock.Now, Observer: e.events, AuthFailBurst: 1_000_000,
	}
	for _, f := range opts {
		f(&o)
	}
	e.srv = httptest.NewServer(scimserver.New(o))
	tb.Cleanup(e.srv.Close)
	e.base = e.srv.URL + scimserver.BasePath
	e.client = e.srv.Client()
	e.tenant = uniqueID("tenant-")
	e.secret, e.token = e.issue(tb, e.tenant)
	return e
}

// issue creates tenant (if new) and a token for it.
func (e *env) issue(tb testing.TB, tenant string) (string, store.Token) {
	tb.Helper()
	secret, tok, err := store.IssueToken(context.Background(), e.st, tenant, "okta", 0, time.Now())
	if err != nil {
		tb.Fatalf("IssueToken: %v", err)
	}
	return secret, tok
}

// as returns a copy of e that authenticates as another tenant (a new one
// with a fresh token when tenant is "").
func (e *env) as(tb testing.TB, tenant string) *env {
	tb.Helper()
	if tenant == "" {
		tenant = uniqueID("tenant-")
	}
	cp := *e
	cp.tenant = tenant
	cp.secret, cp.token = e.issue(tb, tenant)
	return &cp
}

// reqOpt adjusts an outgoing request.
type reqOpt func(*http.Request)

// withAuth sets the Authorization header to v exactly ("" removes it).
func withAuth(v string) reqOpt {
	return func(r *http.Request) {
		if v == "" {
			r.Header.Del("Authorization")
		} else {
			r.Header.Set("Authorization", v)
		}
	}
}

// withCT sets the Content-Type header to v exactly ("" removes it).
func withCT(v string) reqOpt {
	return func(r *http.Request) {
		if v == "" {
			r.Header.Del("Content-Type")
		} else {
			r.Header.Set("Content-Type", v)
		}
	}
}

// withURL sends the request to an absolute URL instead of base+path.
func withURL(u string) reqOpt {
	return func(r *http.Request) {
		pu, err := url.Parse(u)
		if err != nil {
			panic(err)
		}
		r.URL = pu
	}
}

// response is a received response with its body decoded (numbers as
// json.Number) when it is a JSON object.
type response struct {
	Status int
	Header http.Header
	Raw    []byte
	Body   map[string]any
	Method string
	Path   string
}

func (r *response) String() string {
	return fmt.Sprintf("%s %s → %d %s", r.Method, r.Path, r.Status, truncate(string(r.Raw), 600))
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n/2] + "…" + s[len(s)-n/2:]
}

// do sends an Okta-shaped request to base+path. body is nil (no body), a
// string or []byte (sent as is), or any other value (JSON-encoded).
func (e *env) do(tb testing.TB, method, path string, body any, opts ...reqOpt) *response {
	tb.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		buf, err := json.Marshal(b)
		if err != nil {
			tb.Fatalf("marshal body: %v", err)
		}
		rd = bytes.NewReader(buf)
	}
	req, err := http.NewRequest(method, e.base+path, rd)
	if err != nil {
		tb.Fatalf("NewRequest: %v", err)
	}
	req.Header.Set("User-Agent", oktaUA)
	req.Header.Set("Accept", "application/scim+json")
	if body != nil {
		req.Header.Set("Content-Type", oktaCT)
	}
	req.Header.Set("Authorization", "Bearer "+e.secret)
	for _, o := range opts {
		o(req)
	}
	res, err := e.client.Do(req)
	if err != nil {
		tb.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		tb.Fatalf("%s %s: reading body: %v", method, path, err)
	}
	out := &response{Status: res.StatusCode, Header: res.Header, Raw: raw, Method: method, Path: req.URL.Path}
	if len(bytes.TrimSpace(raw)) > 0 && raw[0] == '{' {
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		if err := dec.Decode(&out.Body); err != nil {
			tb.Fatalf("%s: body is not JSON: %v", out, err)
		}
	}
	return out
}

func (e *env) get(tb testing.TB, path string, opts ...reqOpt) *response {
	tb.Helper()
	return e.do(tb, http.MethodGet, path, nil, opts...)
}

func (e *env) post(tb testing.TB, path string, body any, opts ...reqOpt) *response {
	tb.Helper()
	return e.do(tb, http.MethodPost, path, body, opts...)
}

func (e *env) put(tb testing.TB, path string, body any, opts ...reqOpt) *response {
	tb.Helper()
	return e.do(tb, http.MethodPut, path, body, opts...)
}

func (e *env) delete(tb testing.TB, path string, opts ...reqOpt) *response {
	tb.Helper()
	return e.do(tb, http.MethodDelete, path, nil, opts...)
}

// patch sends a PatchOp with the given operations.
func (e *env) patch(tb testing.TB, path string, ops ...map[string]any) *response {
	tb.Helper()
	return e.do(tb, http.MethodPatch, path, patchBody(ops...))
}

func patchBody(ops ...map[string]any) map[string]any {
	l := make([]any, len(ops))
	for i, o := range ops {
		l[i] = o
	}
	return map[string]any{"schemas": []any{mapping.SchemaPatchOp}, "Operations": l}
}

// op builds one PATCH operation; path "" and value nil are left out.
func op(name, path string, value any) map[string]any {
	m := map[string]any{"op": name}
	if path != "" {
		m["path"] = path
	}
	if value != nil {
		m["value"] = value
	}
	return m
}

// filterQS returns "?filter=..." encoded as Okta does (%20 for spaces).
func filterQS(f string) string {
	return "?filter=" + strings.ReplaceAll(url.QueryEscape(f), "+", "%20")
}

// oktaUser is the body Okta POSTs on assignment.
func oktaUser(login, externalID string) map[string]any {
	return map[string]any{
		"schemas":     []any{mapping.SchemaUser},
		"userName":    login,
		"name":        map[string]any{"givenName": "Ada", "familyName": "Okafor"},
		"emails":      []any{map[string]any{"primary": true, "value": login, "type": "work"}},
		"displayName": "Ada Okafor",
		"locale":      "en-US",
		"externalId":  externalID,
		"groups":      []any{},
		"password":    "Pw-" + externalID + "-Secret!",
		"active":      true,
	}
}

// mustStatus fails the test unless r has status code want.
func mustStatus(tb testing.TB, r *response, want int) {
	tb.Helper()
	if r.Status != want {
		tb.Fatalf("want status %d, got %s", want, r)
	}
}

// mustSCIMError checks that r is an RFC 7644 §3.12 error with the given
// status and scimType ("" means no scimType) and a non-empty detail; it
// returns the detail.
func mustSCIMError(tb testing.TB, r *response, status int, scimType string) string {
	tb.Helper()
	mustStatus(tb, r, status)
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/scim+json") {
		tb.Errorf("%s: Content-Type %q, want application/scim+json", r, ct)
	}
	if r.Body == nil {
		tb.Fatalf("%s: error body is not a JSON object", r)
	}
	if s := r.Body["schemas"]; !jsonEqual(s, []any{mapping.SchemaError}) {
		tb.Errorf("%s: schemas %v, want [%s]", r, s, mapping.SchemaError)
	}
	if s, ok := r.Body["status"].(string); !ok || s != fmt.Sprint(status) {
		tb.Errorf("%s: status %#v, want the string %q", r, r.Body["status"], fmt.Sprint(status))
	}
	got, _ := r.Body["scimType"].(string)
	if got != scimType {
		tb.Errorf("%s: scimType %q, want %q", r, got, scimType)
	}
	d, _ := r.Body["detail"].(string)
	if d == "" {
		tb.Errorf("%s: no detail", r)
	}
	return d
}

// jget walks a decoded JSON value by object keys (string) and array
// indexes (int); it returns nil when the path does not exist.
func jget(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				return nil
			}
			v = m[k]
		case int:
			l, ok := v.([]any)
			if !ok || k >= len(l) {
				return nil
			}
			v = l[k]
		}
	}
	return v
}

// jstr is jget for a string value ("" when absent or not a string).
func jstr(v any, path ...any) string {
	s, _ := jget(v, path...).(string)
	return s
}

// jint returns an integer JSON number at path; it fails the test if the
// value is absent or not written as an integer.
func jint(tb testing.TB, v any, path ...any) int {
	tb.Helper()
	n, ok := jget(v, path...).(json.Number)
	if !ok {
		tb.Fatalf("%v: want an integer at %v, got %#v", truncate(fmt.Sprint(v), 300), path, jget(v, path...))
	}
	i, err := n.Int64()
	if err != nil || strings.ContainsAny(n.String(), ".eE") {
		tb.Fatalf("%v: %v = %s is not a JSON integer", truncate(fmt.Sprint(v), 300), path, n)
	}
	return int(i)
}

// jsonEqual compares two JSON-shaped values by their encoding.
func jsonEqual(a, b any) bool {
	x, err1 := json.Marshal(a)
	y, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && bytes.Equal(x, y)
}

// createUser POSTs oktaUser(login) (plus extra attributes) and returns the id.
func (e *env) createUser(tb testing.TB, login string, extra ...map[string]any) string {
	tb.Helper()
	body := oktaUser(login, uniqueID("00u"))
	for _, x := range extra {
		for k, v := range x {
			if v == nil {
				delete(body, k)
			} else {
				body[k] = v
			}
		}
	}
	r := e.post(tb, "/Users", body)
	mustStatus(tb, r, http.StatusCreated)
	id := jstr(r.Body, "id")
	if id == "" {
		tb.Fatalf("%s: no id", r)
	}
	return id
}

// createGroup POSTs a group with the given members and returns its id.
func (e *env) createGroup(tb testing.TB, name string, members ...string) string {
	tb.Helper()
	ml := make([]any, len(members))
	for i, m := range members {
		ml[i] = map[string]any{"value": m}
	}
	r := e.post(tb, "/Groups", map[string]any{
		"schemas": []any{mapping.SchemaGroup}, "displayName": name, "members": ml,
	})
	mustStatus(tb, r, http.StatusCreated)
	id := jstr(r.Body, "id")
	if id == "" {
		tb.Fatalf("%s: no id", r)
	}
	return id
}

// members returns the sorted member ids of group gid read over HTTP.
func (e *env) members(tb testing.TB, gid string) []string {
	tb.Helper()
	r := e.get(tb, "/Groups/"+gid)
	mustStatus(tb, r, http.StatusOK)
	return memberIDs(tb, r.Body)
}

// memberIDs extracts the sorted members[].value of a group resource.
func memberIDs(tb testing.TB, g map[string]any) []string {
	tb.Helper()
	l, ok := g["members"].([]any)
	if !ok && g["members"] != nil {
		tb.Fatalf("members is %#v, not an array", g["members"])
	}
	ids := make([]string, 0, len(l))
	for _, m := range l {
		ids = append(ids, jstr(m, "value"))
	}
	slices.Sort(ids)
	return ids
}

// sorted returns a sorted copy.
func sorted(l ...string) []string {
	l = slices.Clone(l)
	slices.Sort(l)
	if l == nil {
		l = []string{}
	}
	return l
}

// resources returns the Resources array of a ListResponse, failing if it is
// missing or not an array.
func resources(tb testing.TB, r *response) []any {
	tb.Helper()
	mustStatus(tb, r, http.StatusOK)
	if !jsonEqual(r.Body["schemas"], []any{mapping.SchemaListResponse}) {
		tb.Errorf("%s: schemas %v, want ListResponse", r, r.Body["schemas"])
	}
	l, ok := r.Body["Resources"].([]any)
	if !ok {
		tb.Fatalf("%s: Resources is %#v, not an array", r, r.Body["Resources"])
	}
	if n := jint(tb, r.Body, "itemsPerPage"); n != len(l) {
		tb.Errorf("%s: itemsPerPage %d but %d Resources", r, n, len(l))
	}
	jint(tb, r.Body, "startIndex")
	jint(tb, r.Body, "totalResults")
	return l
}

// userNames lists the userName of each resource, sorted.
func userNames(l []any) []string {
	out := make([]string, 0, len(l))
	for _, u := range l {
		out = append(out, jstr(u, "userName"))
	}
	slices.Sort(out)
	return out
}

// countingState counts the store calls whose cost grows with a group's size.
type countingState struct {
	store.State
	groupMembers atomic.Int64
}

func (c *countingState) GroupMembers(ctx context.Context, tenant, id string) ([]string, error) {
	c.groupMembers.Add(1)
	return c.State.GroupMembers(ctx, tenant, id)
}

// seedUsers creates n users named prefix+i directly in the store, in
// batches of concurrent writes, and returns their ids in creation order of i.
func seedUsers(tb testing.TB, st store.State, tenant, prefix string, n int) []string {
	tb.Helper()
	ids := make([]string, n)
	now := time.Now().UTC()
	const workers = 8
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += workers {
				login := fmt.Sprintf("%s%d@example.com", prefix, i)
				u := &mapping.User{ID: uniqueID("u-"), Origin: mapping.OriginOktaPush, Created: now, LastModified: now,
					Attrs: mapping.Attrs{"userName": login, "active": true,
						"name": map[string]any{"givenName": "Seed", "familyName": fmt.Sprint(i)}}}
				if err := st.CreateUser(context.Background(), tenant, u); err != nil {
					errs <- err
					return
				}
				ids[i] = u.ID
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		tb.Fatalf("seeding users: %v", err)
	}
	return ids
}

// seedGroup creates a group in the store and adds members in batches.
func seedGroup(tb testing.TB, st store.State, tenant, name string, members []string) string {
	tb.Helper()
	ctx := context.Background()
	now := time.Now().UTC()
	g := &mapping.Group{ID: uniqueID("g-"), Attrs: mapping.Attrs{"displayName": name}, Origin: mapping.OriginOktaPush, Created: now, LastModified: now}
	if err := st.CreateGroup(ctx, tenant, g, nil); err != nil {
		tb.Fatalf("CreateGroup: %v", err)
	}
	const batch = 5000
	for i := 0; i < len(members); i += batch {
		if _, err := st.UpdateGroup(ctx, tenant, g.ID, store.GroupChange{Add: members[i:min(i+batch, len(members))], At: now}); err != nil {
			tb.Fatalf("UpdateGroup add batch %d: %v", i/batch, err)
		}
	}
	return g.ID
}
