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
// a member to a group 3 (read, membership snapshot, script).
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
			if n > 3 {
				t.Errorf("PATCH /Groups/{id}: %d round trips besides the token's (%v); want <= 3", n, sent)
			}
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
