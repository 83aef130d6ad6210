package provlog_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"

	"github.com/axonflow/axonflow-sync/internal/provlog"
	"github.com/axonflow/axonflow-sync/internal/testredis"
	"github.com/axonflow/axonflow-sync/mapping"
	"github.com/axonflow/axonflow-sync/scimserver"
	"github.com/axonflow/axonflow-sync/store"
	"github.com/axonflow/axonflow-sync/store/redisstore"
	"github.com/axonflow/axonflow-sync/store/sqlitestore"
)

func TestMain(m *testing.M) { os.Exit(testredis.Main(m)) }

// password is sent in every user body and PATCH; it must never be stored.
const password = "Pa55-never-stored-7f3c"

// backend is one store under test plus a way to read every byte it stored.
type backend struct {
	st  store.State
	raw func(t *testing.T) []byte
}

func openSQLite(t *testing.T) backend {
	path := filepath.Join(t.TempDir(), "axonflow-sync.db")
	st, err := sqlitestore.Open(context.Background(), path, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return backend{st: st, raw: func(t *testing.T) []byte {
		var all []byte
		for _, p := range []string{path, path + "-wal", path + "-shm", path + "-journal"} {
			b, err := os.ReadFile(p)
			if err != nil && !errors.Is(err, os.ErrNotExist) {
				t.Fatal(err)
			}
			all = append(all, b...)
		}
		return all
	}}
}

func openRedis(t *testing.T) backend {
	prefix := fmt.Sprintf("pl%d:", time.Now().UnixNano())
	st, err := redisstore.Open(context.Background(), testredis.URL(t), redisstore.Options{KeyPrefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return backend{st: st, raw: func(t *testing.T) []byte { return redisBytes(t, st.Client(), prefix) }}
}

// redisBytes returns every key and value under prefix, read by type.
func redisBytes(t *testing.T, c redis.UniversalClient, prefix string) []byte {
	ctx := context.Background()
	var buf bytes.Buffer
	iter := c.Scan(ctx, 0, prefix+"*", 1000).Iterator()
	n := 0
	for iter.Next(ctx) {
		key := iter.Val()
		n++
		buf.WriteString(key + "\n")
		typ, err := c.Type(ctx, key).Result()
		if err != nil {
			t.Fatal(err)
		}
		var v any
		switch typ {
		case "string":
			v, err = c.Get(ctx, key).Result()
		case "hash":
			v, err = c.HGetAll(ctx, key).Result()
		case "set":
			v, err = c.SMembers(ctx, key).Result()
		case "zset":
			v, err = c.ZRangeWithScores(ctx, key, 0, -1).Result()
		case "list":
			v, err = c.LRange(ctx, key, 0, -1).Result()
		case "stream":
			v, err = c.XRange(ctx, key, "-", "+").Result()
		default:
			t.Fatalf("key %s has unexpected type %s", key, typ)
		}
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&buf, "%v\n", v)
	}
	if err := iter.Err(); err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Fatal("no Redis keys under the test prefix")
	}
	return buf.Bytes()
}

var backends = []struct {
	name string
	open func(t *testing.T) backend
}{{"sqlite", openSQLite}, {"redis", openRedis}}

// env is a SCIM server whose observer chain ends in a provlog.Recorder.
type env struct {
	st     store.State
	base   string
	tenant string
	secret string
	token  store.Token
	reg    *prometheus.Registry
}

func newEnv(t *testing.T, st store.State) *env {
	e := &env{st: st, reg: prometheus.NewRegistry()}
	rec := provlog.New(st, provlog.Options{Logger: zerolog.Nop(), Registerer: e.reg})
	srv := httptest.NewServer(scimserver.New(scimserver.Options{Store: rec.Wrap(st), Logger: zerolog.Nop(), Observer: rec}))
	t.Cleanup(srv.Close)
	e.base = srv.URL + scimserver.BasePath
	e.tenant = fmt.Sprintf("pl-%d", time.Now().UnixNano())
	e.secret, e.token = e.issue(t, e.tenant)
	return e
}

func (e *env) issue(t *testing.T, tenant string) (string, store.Token) {
	secret, tok, err := store.IssueToken(context.Background(), e.st, tenant, "okta", 0, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return secret, tok
}

type response struct {
	status int
	reqID  string
	body   map[string]any
}

// do sends a SCIM request with the given secret ("" for e.secret).
func (e *env) do(t *testing.T, secret, method, path string, body any) response {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, e.base+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if secret == "" {
		secret = e.secret
	}
	req.Header.Set("Authorization", "Bearer "+secret)
	req.Header.Set("Content-Type", "application/scim+json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	r := response{status: res.StatusCode, reqID: res.Header.Get("X-Request-Id")}
	if raw, _ := io.ReadAll(res.Body); len(raw) > 0 {
		_ = json.Unmarshal(raw, &r.body)
	}
	return r
}

func userBody(userName, given string, active bool) map[string]any {
	return map[string]any{
		"schemas":  []string{mapping.SchemaUser},
		"userName": userName, "externalId": "00u-" + userName,
		"name":     map[string]any{"givenName": given, "familyName": "Okafor"},
		"emails":   []any{map[string]any{"primary": true, "value": userName, "type": "work"}},
		"active":   active,
		"password": password,
	}
}

// createdUser is the Changes of creating userBody(userName, given, true).
func createdUser(userName, given string) []mapping.AttrChange {
	return []mapping.AttrChange{
		{Attr: "active", After: true},
		{Attr: "emails", After: []any{map[string]any{"primary": true, "value": userName, "type": "work"}}},
		{Attr: "externalId", After: "00u-" + userName},
		{Attr: "name.familyName", After: "Okafor"},
		{Attr: "name.givenName", After: given},
		{Attr: "userName", After: userName},
	}
}

func patchOps(ops ...map[string]any) map[string]any {
	return map[string]any{"schemas": []string{mapping.SchemaPatchOp}, "Operations": ops}
}

// step is one request of the scenario and the entry it must leave (nil:
// none).
type step struct {
	res  response
	want *store.LogEntry
}

// TestRecordsRequests drives Okta-shaped requests through the server and
// checks the log entry each one left (or that it left none), on both
// backends; then that the password sent in every user request is nowhere
// in the stored bytes.
func TestRecordsRequests(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			be := b.open(t)
			e := newEnv(t, be.st)
			tok := e.token.ID
			var steps []step
			expect := func(res response, wantStatus int, want *store.LogEntry) {
				t.Helper()
				if res.status != wantStatus {
					t.Fatalf("status %d; want %d (%v)", res.status, wantStatus, res.body)
				}
				if want != nil {
					want.RequestID = res.reqID
					if want.Actor == "" {
						want.Actor, want.ActorID = store.ActorOktaPush, tok
					}
					want.Status = wantStatus
				}
				steps = append(steps, step{res, want})
			}

			// A user: create (with a password), read, update, deactivate, reactivate.
			ada := "ada@example.com"
			res := e.do(t, "", "POST", "/Users", userBody(ada, "Ada", true))
			uid, _ := res.body["id"].(string)
			expect(res, 201, &store.LogEntry{ResourceType: "User", ResourceID: uid, Name: ada, Operation: "create",
				Changes: createdUser(ada, "Ada")})
			expect(e.do(t, "", "GET", "/Users/"+uid, nil), 200, nil)
			expect(e.do(t, "", "GET", "/Users?filter="+strings.ReplaceAll(`userName eq "ADA@example.com"`, " ", "%20"), nil), 200, nil)
			expect(e.do(t, "", "PUT", "/Users/"+uid, userBody(ada, "Adah", true)), 200, &store.LogEntry{
				ResourceType: "User", ResourceID: uid, Name: ada, Operation: "replace",
				Changes: []mapping.AttrChange{{Attr: "name.givenName", Before: "Ada", After: "Adah"}}})
			// A PUT that changes nothing (Okta re-sends the profile) is not recorded.
			expect(e.do(t, "", "PUT", "/Users/"+uid, userBody(ada, "Adah", true)), 200, nil)
			expect(e.do(t, "", "PATCH", "/Users/"+uid, patchOps(
				map[string]any{"op": "replace", "value": map[string]any{"active": false, "password": password}},
				map[string]any{"op": "replace", "path": "password", "value": password})), 200, &store.LogEntry{
				ResourceType: "User", ResourceID: uid, Name: ada, Operation: "deactivate",
				Changes: []mapping.AttrChange{{Attr: "active", Before: true, After: false}}})
			expect(e.do(t, "", "PATCH", "/Users/"+uid, patchOps(
				map[string]any{"op": "replace", "value": map[string]any{"active": true}},
				map[string]any{"op": "replace", "path": "title", "value": "Engineer"})), 200, &store.LogEntry{
				ResourceType: "User", ResourceID: uid, Name: ada, Operation: "reactivate",
				Changes: []mapping.AttrChange{{Attr: "active", Before: false, After: true}, {Attr: "title", After: "Engineer"}}})
			expect(e.do(t, "", "PATCH", "/Users/"+uid, patchOps(
				map[string]any{"op": "replace", "path": "name.familyName", "value": "Okafor-Lee"})), 200, &store.LogEntry{
				ResourceType: "User", ResourceID: uid, Name: ada, Operation: "patch",
				Changes: []mapping.AttrChange{{Attr: "name.familyName", Before: "Okafor", After: "Okafor-Lee"}}})

			// Rejections: a duplicate, an invalid body (found by its userName), an unknown id.
			expect(e.do(t, "", "POST", "/Users", userBody("ADA@example.com", "Other", true)), 409, &store.LogEntry{
				ResourceType: "User", Name: "ADA@example.com", Operation: "create", ScimType: "uniqueness",
				Detail: `userName "ADA@example.com" is already in use in this tenant`})
			bad := userBody("bob@example.com", "Bob", true)
			bad["active"] = "maybe"
			res = e.do(t, "", "POST", "/Users", bad)
			expect(res, 400, &store.LogEntry{ResourceType: "User", Name: "bob@example.com", Operation: "create",
				ScimType: "invalidValue", Detail: fmt.Sprint(res.body["detail"])})
			expect(e.do(t, "", "GET", "/Users/no-such-id", nil), 404, &store.LogEntry{ResourceType: "User", ResourceID: "no-such-id",
				Operation: "read", Detail: "User no-such-id not found"})
			res = e.do(t, "", "PATCH", "/Users/"+uid, patchOps(map[string]any{"op": "replace", "path": "nope", "value": "x"}))
			expect(res, 400, &store.LogEntry{ResourceType: "User", ResourceID: uid, Name: ada, Operation: "patch",
				ScimType: "invalidPath", Detail: fmt.Sprint(res.body["detail"])})

			// A group: create with a member, add, remove, replace, rename, delete.
			res = e.do(t, "", "POST", "/Users", userBody("cy@example.com", "Cy", true))
			uid2, _ := res.body["id"].(string)
			expect(res, 201, &store.LogEntry{ResourceType: "User", ResourceID: uid2, Name: "cy@example.com", Operation: "create",
				Changes: createdUser("cy@example.com", "Cy")})
			// A replace of an unknown id is filed under the name asked for.
			res = e.do(t, "", "PUT", "/Users/no-such-id", userBody("ghost@example.com", "Ghost", true))
			expect(res, 404, &store.LogEntry{ResourceType: "User", ResourceID: "no-such-id", Name: "ghost@example.com", Operation: "replace",
				Detail: "User no-such-id not found"})
			// A replace refused for another user's userName is filed under
			// the user's own name, not the one asked for.
			res = e.do(t, "", "PUT", "/Users/"+uid2, userBody("ADA@example.com", "Cy", true))
			expect(res, 409, &store.LogEntry{ResourceType: "User", ResourceID: uid2, Name: "cy@example.com", Operation: "replace",
				ScimType: "uniqueness", Detail: fmt.Sprint(res.body["detail"])})
			res = e.do(t, "", "POST", "/Groups", map[string]any{"schemas": []string{mapping.SchemaGroup}, "displayName": "Admins",
				"members": []any{map[string]any{"value": uid}}})
			gid, _ := res.body["id"].(string)
			expect(res, 201, &store.LogEntry{ResourceType: "Group", ResourceID: gid, Name: "Admins", Operation: "create",
				Changes: []mapping.AttrChange{{Attr: "displayName", After: "Admins"},
					{Attr: "members", Added: []string{uid}, AddedCount: 1}}})
			expect(e.do(t, "", "PATCH", "/Groups/"+gid, patchOps(map[string]any{"op": "add", "path": "members",
				"value": []any{map[string]any{"value": uid2}, map[string]any{"value": uid}}})), 204, &store.LogEntry{
				ResourceType: "Group", ResourceID: gid, Name: "Admins", Operation: "add_members",
				Changes: []mapping.AttrChange{{Attr: "members", Added: []string{uid2}, AddedCount: 1}}})
			expect(e.do(t, "", "PATCH", "/Groups/"+gid, patchOps(map[string]any{"op": "remove",
				"path": fmt.Sprintf(`members[value eq "%s"]`, uid)})), 204, &store.LogEntry{
				ResourceType: "Group", ResourceID: gid, Name: "Admins", Operation: "remove_members",
				Changes: []mapping.AttrChange{{Attr: "members", Removed: []string{uid}, RemovedCount: 1}}})
			expect(e.do(t, "", "PUT", "/Groups/"+gid, map[string]any{"schemas": []string{mapping.SchemaGroup}, "displayName": "Admins EU",
				"members": []any{map[string]any{"value": uid}}}), 200, &store.LogEntry{
				ResourceType: "Group", ResourceID: gid, Name: "Admins EU", Operation: "replace",
				Changes: []mapping.AttrChange{{Attr: "displayName", Before: "Admins", After: "Admins EU"},
					{Attr: "members", Added: []string{uid}, Removed: []string{uid2}, AddedCount: 1, RemovedCount: 1}}})
			res = e.do(t, "", "PATCH", "/Groups/"+gid, patchOps(map[string]any{"op": "add", "path": "members",
				"value": []any{map[string]any{"value": "ghost"}}}))
			expect(res, 400, &store.LogEntry{ResourceType: "Group", ResourceID: gid, Name: "Admins EU", Operation: "patch",
				ScimType: "invalidValue", Detail: fmt.Sprint(res.body["detail"])})
			// The same for a group.
			res = e.do(t, "", "POST", "/Groups", map[string]any{"schemas": []string{mapping.SchemaGroup}, "displayName": "Ops"})
			gid2, _ := res.body["id"].(string)
			expect(res, 201, &store.LogEntry{ResourceType: "Group", ResourceID: gid2, Name: "Ops", Operation: "create",
				Changes: []mapping.AttrChange{{Attr: "displayName", After: "Ops"}}})
			res = e.do(t, "", "PUT", "/Groups/"+gid2, map[string]any{"schemas": []string{mapping.SchemaGroup}, "displayName": "admins eu"})
			expect(res, 409, &store.LogEntry{ResourceType: "Group", ResourceID: gid2, Name: "Ops", Operation: "replace",
				ScimType: "uniqueness", Detail: fmt.Sprint(res.body["detail"])})
			expect(e.do(t, "", "DELETE", "/Groups/"+gid, nil), 204, &store.LogEntry{ResourceType: "Group", ResourceID: gid,
				Name: "Admins EU", Operation: "delete"})

			// Authentication: a revoked token is known (its tenant's log has the 401);
			// an unknown one is in no log.
			oldSecret, old := e.issue(t, e.tenant)
			if err := e.st.RevokeToken(context.Background(), e.tenant, old.ID, time.Now()); err != nil {
				t.Fatal(err)
			}
			res = e.do(t, oldSecret, "POST", "/Users", userBody("dee@example.com", "Dee", true))
			expect(res, 401, &store.LogEntry{Actor: store.ActorOktaPush, ActorID: old.ID, ResourceType: "User", Operation: "create",
				Detail: fmt.Sprint(res.body["detail"])})
			expect(e.do(t, "scim_unknown_token_value", "POST", "/Users", userBody("eve@example.com", "Eve", true)), 401, nil)

			got, err := e.st.QueryLog(context.Background(), e.tenant, store.LogQuery{Limit: 1000})
			if err != nil {
				t.Fatal(err)
			}
			var want []store.LogEntry
			for _, s := range steps {
				if s.want != nil {
					want = append([]store.LogEntry{*s.want}, want...) // newest first
				}
			}
			if len(got) != len(want) {
				for _, g := range got {
					t.Logf("got %s %s %q %d", g.Operation, g.ResourceType, g.Name, g.Status)
				}
				t.Fatalf("%d entries; want %d", len(got), len(want))
			}
			for i := range want {
				g, w := got[i], want[i]
				if g.Time.IsZero() || time.Since(g.Time) > time.Minute {
					t.Errorf("entry %d (%s) time %v", i, g.Operation, g.Time)
				}
				g.Time, g.Tenant = time.Time{}, ""
				if !reflect.DeepEqual(jsonOf(t, g), jsonOf(t, w)) {
					t.Errorf("entry %d:\n got %s\nwant %s", i, jsonOf(t, g), jsonOf(t, w))
				}
			}
			if n := testutil.ToFloat64(counter(t, e.reg, "axonflow_provisioning_log_entries_total", "rejected")); n != 9 {
				t.Errorf("rejected entries metric = %v; want 9", n)
			}

			// The password is in no stored byte (and neither is the token secret).
			raw := be.raw(t)
			for _, secret := range []string{password, e.secret, oldSecret} {
				if bytes.Contains(raw, []byte(secret)) {
					t.Errorf("a secret (%.6s...) is in the stored bytes", secret)
				}
			}
			if !bytes.Contains(raw, []byte("Okafor-Lee")) {
				t.Error("the raw store dump does not contain a logged value: the search is not looking at the right bytes")
			}
		})
	}
}

// jsonOf renders v as canonical JSON (maps sorted) for comparison.
func jsonOf(t *testing.T, v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var x any
	if err := json.Unmarshal(b, &x); err != nil {
		t.Fatal(err)
	}
	b, _ = json.Marshal(x)
	return string(b)
}

// counter finds one labelled series of a counter vector on reg (label "":
// the series of a counter without labels).
func counter(t *testing.T, reg *prometheus.Registry, name, label string) prometheus.Collector {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if label == "" && len(m.GetLabel()) == 0 {
				return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "x", Help: "x"},
					func() float64 { return m.GetCounter().GetValue() })
			}
			for _, lp := range m.GetLabel() {
				if lp.GetValue() == label {
					return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "x", Help: "x"},
						func() float64 { return m.GetCounter().GetValue() })
				}
			}
		}
	}
	t.Fatalf("no %s{%s}", name, label)
	return nil
}

// failingLog is a store whose AppendLog always fails.
type failingLog struct{ store.State }

func (failingLog) AppendLog(context.Context, string, store.LogEntry) error {
	return fmt.Errorf("%w: disk on fire", store.ErrUnavailable)
}

// TestAppendFailureDoesNotFailRequest: a rejected SCIM request is
// answered as it would be, the failed write of its entry is counted. (An
// accepted change's entry is written in the same atomic change as the
// change: it cannot fail on its own.)
func TestAppendFailureDoesNotFailRequest(t *testing.T) {
	be := openSQLite(t)
	e := newEnv(t, failingLog{be.st})
	res := e.do(t, "", "POST", "/Users", map[string]any{"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:User"}})
	if res.status != 400 {
		t.Fatalf("POST /Users without userName, with a failing log: %d %v", res.status, res.body)
	}
	want := "\n# HELP axonflow_provisioning_log_errors_total Provisioning log entries that could not be written (the SCIM request itself was answered).\n# TYPE axonflow_provisioning_log_errors_total counter\naxonflow_provisioning_log_errors_total 1\n"
	if err := testutil.GatherAndCompare(e.reg, strings.NewReader(want), "axonflow_provisioning_log_errors_total"); err != nil {
		t.Error(err)
	}
}

func TestEntryAndOperation(t *testing.T) {
	at := time.Now()
	for _, tc := range []struct {
		name   string
		ev     scimserver.Event
		tenant string
		op     string
	}{
		{"successful read", scimserver.Event{Tenant: "a", Method: "GET", Resource: "Users", Status: 200}, "", ""},
		{"no-op PUT", scimserver.Event{Tenant: "a", Method: "PUT", Resource: "Users", Status: 200}, "", ""},
		{"unknown token", scimserver.Event{Method: "POST", Resource: "Users", Status: 401, AuthFail: "unknown"}, "", ""},
		{"throttled", scimserver.Event{Method: "POST", Resource: "Users", Status: 429, AuthFail: "throttled"}, "", ""},
		{"expired token", scimserver.Event{TokenTenant: "a", TokenID: "t", Method: "PATCH", Resource: "Users", Status: 401}, "a", "patch"},
		{"create", scimserver.Event{Tenant: "a", Method: "POST", Resource: "Groups", Status: 201, Changed: true}, "a", "create"},
		{"failed read", scimserver.Event{Tenant: "a", Method: "GET", Resource: "other", Status: 404}, "a", "read"},
		{"deactivate by PUT", scimserver.Event{Tenant: "a", Method: "PUT", Resource: "Users", Status: 200, Changed: true,
			Changes: []mapping.AttrChange{{Attr: "active", Before: true, After: false}, {Attr: "title", After: "x"}}}, "a", "deactivate"},
		{"members both ways", scimserver.Event{Tenant: "a", Method: "PATCH", Resource: "Groups", Status: 204, Changed: true,
			Changes: []mapping.AttrChange{{Attr: "members", AddedCount: 1, RemovedCount: 2}}}, "a", "update_members"},
		{"delete", scimserver.Event{Tenant: "a", Method: "DELETE", Resource: "Users", Status: 204, Changed: true}, "a", "delete"},
	} {
		tenant, e, ok := provlog.Entry(tc.ev, at)
		if ok != (tc.tenant != "") || tenant != tc.tenant || (ok && e.Operation != tc.op) {
			t.Errorf("%s: Entry = %q, %q, %v; want %q, %q", tc.name, tenant, e.Operation, ok, tc.tenant, tc.op)
		}
	}
}

// slowLog is a store whose AppendLog takes delay and records the entries.
type slowLog struct {
	store.State
	delay   time.Duration
	written chan store.LogEntry
}

func (s *slowLog) AppendLog(ctx context.Context, _ string, e store.LogEntry) error {
	select {
	case <-time.After(s.delay):
	case <-ctx.Done():
		return ctx.Err()
	}
	s.written <- e
	return nil
}

// TestUnavailableWrittenInBackground: the entry of a 503 does not make the
// request wait for a second store call; at most MaxPendingUnavailable are
// in flight, the rest are dropped and counted. Other entries are written
// before ObserveSCIM returns.
func TestUnavailableWrittenInBackground(t *testing.T) {
	st := &slowLog{delay: 300 * time.Millisecond, written: make(chan store.LogEntry, 100)}
	reg := prometheus.NewRegistry()
	rec := provlog.New(st, provlog.Options{Logger: zerolog.Nop(), Registerer: reg})
	start := time.Now()
	for i := range provlog.MaxPendingUnavailable + 2 {
		rec.ObserveSCIM(scimserver.Event{Tenant: "a", RequestID: fmt.Sprint(i), Method: "POST", Resource: "Users", Status: 503,
			Detail: "the directory store is unavailable; retry later"})
	}
	if d := time.Since(start); d > 200*time.Millisecond {
		t.Errorf("503 events took %v to observe; want no wait for the store", d)
	}
	for range provlog.MaxPendingUnavailable {
		select {
		case e := <-st.written:
			if e.Status != 503 || e.Detail == "" {
				t.Errorf("background entry %+v", e)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("background entries not written")
		}
	}
	if n := testutil.ToFloat64(counter(t, reg, "axonflow_provisioning_log_errors_total", "")); n != 2 {
		t.Errorf("dropped entries counted %v; want 2", n)
	}
	start = time.Now()
	rec.ObserveSCIM(scimserver.Event{Tenant: "a", Method: "POST", Resource: "Users", Status: 409, ScimType: "uniqueness"})
	if d := time.Since(start); d < st.delay {
		t.Errorf("a 409 was observed in %v; want its entry written first", d)
	}
	if e := <-st.written; e.Status != 409 {
		t.Errorf("entry %+v", e)
	}
}

// TestRecordFailureIsReported: an operator action's entry that cannot be
// written (store.Record through the wrapped store) is logged as a warning
// naming it and counted; the caller is not failed.
func TestRecordFailureIsReported(t *testing.T) {
	be := openSQLite(t)
	var logged bytes.Buffer
	reg := prometheus.NewRegistry()
	rec := provlog.New(failingLog{be.st}, provlog.Options{Logger: zerolog.New(&logged), Registerer: reg})
	st := rec.Wrap(failingLog{be.st})
	ctx := store.WithWriter(context.Background(), store.Writer{Actor: store.ActorOperator, ID: "cli:ada"})
	store.Record(ctx, st, "acme", store.LogEntry{ResourceType: "Token", ResourceID: "tok_1", Name: "okta", Operation: "revoke_token", Status: 200})
	if n := testutil.ToFloat64(counter(t, reg, "axonflow_provisioning_log_errors_total", "")); n != 1 {
		t.Errorf("errors counted %v; want 1", n)
	}
	if out := logged.String(); !strings.Contains(out, `"level":"warn"`) || !strings.Contains(out, "revoke_token") || !strings.Contains(out, "cli:ada") {
		t.Errorf("warning %q; want one naming the operation and the operator", out)
	}
}
