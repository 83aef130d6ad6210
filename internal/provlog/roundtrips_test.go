package provlog_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/axonflow/axonflow-sync/internal/testredis"
	"github.com/axonflow/axonflow-sync/mapping"
	"github.com/axonflow/axonflow-sync/store"
	"github.com/axonflow/axonflow-sync/store/redisstore"
)

// tenantTrips counts the round trips that touch a tenant's keys: those
// that only read the global token records (authentication, which the token
// cache serves) are left out.
func tenantTrips(prefix string) *testredis.Trips {
	return &testredis.Trips{Skip: func(cmds []redis.Cmder) bool {
		for _, cmd := range cmds {
			for _, a := range cmd.Args()[1:] {
				if s, ok := a.(string); ok && strings.HasPrefix(s, prefix+"t:") {
					return false
				}
			}
		}
		return true
	}}
}

// TestWriteRoundTrips: on Redis, a PUT and a PATCH of a user cost at
// most 3 round trips besides the token's: the read, the write script
// (which also appends the provisioning log entry) and the response's
// store.UserContext (a user in groups adds one: the groups' names); the
// entry is in the log. POST /Users costs 2, POST /Groups 1, a PATCH adding
// members to a group 2 whether it adds one or a batch of 100 (the read,
// then the script, which checks the membership the log entry assumes:
// store.MembersGuard), and one re-sending an add 3 (the guard does not
// hold: the script runs again with the membership it reported).
func TestWriteRoundTrips(t *testing.T) {
	prefix := fmt.Sprintf("rt%d:", time.Now().UnixNano())
	st, err := redisstore.Open(context.Background(), testredis.URL(t), redisstore.Options{KeyPrefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ctr := tenantTrips(prefix)
	st.Client().AddHook(ctr)
	e := newEnv(t, st)

	res := e.do(t, "", "POST", "/Users", userBody("rt@example.com", "Ada", true))
	if res.status != 201 {
		t.Fatalf("POST /Users: %d %v", res.status, res.body)
	}
	id, _ := res.body["id"].(string)
	// Warm up every script the requests below run (the first EVALSHA of a
	// script on a server adds an EVAL).
	for _, b := range []map[string]any{userBody("rt@example.com", "Adah", true), userBody("rt@example.com", "Ada", true)} {
		if res := e.do(t, "", "PUT", "/Users/"+id, b); res.status != 200 {
			t.Fatalf("PUT: %d %v", res.status, res.body)
		}
	}
	ctr.Reset()

	for _, tc := range []struct {
		method string
		body   any
	}{
		{"PUT", userBody("rt@example.com", "Adah", true)},
		{"PATCH", map[string]any{"schemas": []string{mapping.SchemaPatchOp},
			"Operations": []any{map[string]any{"op": "replace", "path": "title", "value": "Engineer"}}}},
	} {
		res := e.do(t, "", tc.method, "/Users/"+id, tc.body)
		if res.status != 200 {
			t.Fatalf("%s: %d %v", tc.method, res.status, res.body)
		}
		n, sent := ctr.Reset()
		t.Logf("%s /Users/{id}: %d round trips besides the token's: %v", tc.method, n, sent)
		if n > 3 {
			t.Errorf("%s /Users/{id}: %d round trips besides the token's (%v); want <= 3", tc.method, n, sent)
		}
		es, err := st.QueryLog(context.Background(), e.tenant, store.LogQuery{Limit: 1})
		if err != nil {
			t.Fatal(err)
		}
		if len(es) != 1 || es[0].ResourceID != id || es[0].Actor != store.ActorOktaPush || es[0].ActorID != e.token.ID || es[0].RequestID != res.reqID {
			t.Errorf("%s: newest log entry %+v; want the request's", tc.method, es)
		}
		ctr.Reset() // not the QueryLog above
	}

	// The other writes, as the package doc of redisstore counts them,
	// after one of each to load their scripts.
	warm := e.do(t, "", "POST", "/Groups", map[string]any{"schemas": []string{mapping.SchemaGroup}, "displayName": "Warm"})
	if warm.status != 201 {
		t.Fatalf("POST /Groups: %d %v", warm.status, warm.body)
	}
	wid, _ := warm.body["id"].(string)
	if res := e.do(t, "", "PATCH", "/Groups/"+wid, map[string]any{"schemas": []string{mapping.SchemaPatchOp},
		"Operations": []any{map[string]any{"op": "add", "path": "members", "value": []any{map[string]any{"value": id}}}}}); res.status != 204 {
		t.Fatalf("PATCH /Groups: %d %v", res.status, res.body)
	}
	ctr.Reset()
	for _, tc := range []struct {
		method, path string
		body         any
		status, max  int
	}{
		{"POST", "/Users", userBody("rt2@example.com", "Bo", true), 201, 2},
		{"POST", "/Groups", map[string]any{"schemas": []string{mapping.SchemaGroup}, "displayName": "RT"}, 201, 1},
	} {
		res := e.do(t, "", tc.method, tc.path, tc.body)
		if res.status != tc.status {
			t.Fatalf("%s %s: %d %v", tc.method, tc.path, res.status, res.body)
		}
		n, sent := ctr.Reset()
		t.Logf("%s %s: %d round trips besides the token's: %v", tc.method, tc.path, n, sent)
		if n > tc.max {
			t.Errorf("%s %s: %d round trips besides the token's (%v); want <= %d", tc.method, tc.path, n, sent, tc.max)
		}
		if tc.path == "/Groups" {
			gid, _ := res.body["id"].(string)
			patch := map[string]any{"schemas": []string{mapping.SchemaPatchOp},
				"Operations": []any{map[string]any{"op": "add", "path": "members", "value": []any{map[string]any{"value": id}}}}}
			if res := e.do(t, "", "PATCH", "/Groups/"+gid, patch); res.status != 204 {
				t.Fatalf("PATCH /Groups: %d %v", res.status, res.body)
			}
			n, sent := ctr.Reset()
			t.Logf("PATCH /Groups/{id} (add a member): %d round trips besides the token's: %v", n, sent)
			if n > 2 {
				t.Errorf("PATCH /Groups/{id}: %d round trips besides the token's (%v); want <= 2", n, sent)
			}
			// A batched add of 100 members (Okta's group push), then the
			// same add again (every id already a member: nothing changes).
			var batch []any
			for i := range 100 {
				u := &mapping.User{ID: fmt.Sprintf("batch-%d", i), Attrs: mapping.Attrs{"userName": fmt.Sprintf("batch-%d@example.com", i)},
					Created: time.Now(), LastModified: time.Now()}
				if err := st.CreateUser(context.Background(), e.tenant, u); err != nil {
					t.Fatal(err)
				}
				batch = append(batch, map[string]any{"value": u.ID, "display": u.UserName()})
			}
			patch = map[string]any{"schemas": []string{mapping.SchemaPatchOp},
				"Operations": []any{map[string]any{"op": "add", "path": "members", "value": batch}}}
			ctr.Reset()
			for _, want := range []int{2, 3} {
				if res := e.do(t, "", "PATCH", "/Groups/"+gid, patch); res.status != 204 {
					t.Fatalf("PATCH /Groups (100 members): %d %v", res.status, res.body)
				}
				n, sent := ctr.Reset()
				t.Logf("PATCH /Groups/{id} (add 100 members): %d round trips besides the token's: %v", n, sent)
				if n > want {
					t.Errorf("PATCH /Groups/{id} (add 100 members): %d round trips besides the token's (%v); want <= %d", n, sent, want)
				}
			}
			es, err := st.QueryLog(context.Background(), e.tenant, store.LogQuery{Name: "RT"})
			if err != nil {
				t.Fatal(err)
			}
			if len(es) < 1 || es[0].Operation != "add_members" || len(es[0].Changes) != 1 || es[0].Changes[0].AddedCount != 100 {
				t.Errorf("newest entry of group RT: %+v; want add_members of the 100 (the re-sent add records nothing)", es[:min(len(es), 1)])
			}
			ctr.Reset()
		}
	}
	tmp := e.do(t, "", "POST", "/Users", userBody("tmp@example.com", "T", true))
	tmpID, _ := tmp.body["id"].(string)
	if res := e.do(t, "", "DELETE", "/Users/"+tmpID, nil); res.status != 204 { // loads the script
		t.Fatalf("DELETE /Users: %d %v", res.status, res.body)
	}
	ctr.Reset()
	if res := e.do(t, "", "DELETE", "/Users/"+id, nil); res.status != 204 {
		t.Fatalf("DELETE /Users: %d %v", res.status, res.body)
	}
	n, sent := ctr.Reset()
	t.Logf("DELETE /Users/{id}: %d round trips besides the token's: %v", n, sent)
	if n > 3 {
		t.Errorf("DELETE /Users/{id}: %d round trips besides the token's (%v); want <= 3", n, sent)
	}
}
