package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"

	"github.com/axonflow/axonflow-sync/internal/testredis"
	"github.com/axonflow/axonflow-sync/mapping"
	"github.com/axonflow/axonflow-sync/store/sqlitestore"
)

// scimJSON sends a SCIM request and decodes a JSON answer (nil for none).
func scimJSON(t *testing.T, method, url, token, body string) (int, map[string]any) {
	t.Helper()
	resp, b := scimReq(t, method, url, token, body)
	var m map[string]any
	if len(b) > 0 {
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("%s %s: %d, not JSON: %s", method, url, resp.StatusCode, b)
		}
	}
	return resp.StatusCode, m
}

// verifyJSON runs `store verify --output json` plus args and decodes it.
func verifyJSON(t *testing.T, env []string, args ...string) (verifyOutput, int) {
	t.Helper()
	out, stderr, code := cli(t, env, append([]string{"store", "verify", "--output", "json"}, args...)...)
	var v verifyOutput
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("store verify %v: exit %d, output %q, stderr %s", args, code, out, stderr)
	}
	return v, code
}

func TestStoreVerifyEmbedded(t *testing.T) {
	dir := t.TempDir()
	env := []string{"AXONFLOW_SYNC_DATA_DIR=" + dir}
	ctx := context.Background()
	if _, stderr, code := cli(t, env, "token", "create", "--tenant", "acme"); code != 0 {
		t.Fatalf("token create: %d %s", code, stderr)
	}
	st, err := sqlitestore.Open(ctx, filepath.Join(dir, DBFile), zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	for _, id := range []string{"u1", "u2"} {
		if err := st.CreateUser(ctx, "acme", &mapping.User{ID: id, Attrs: mapping.Attrs{"userName": id + "@example.com"}, Created: now}); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.CreateGroup(ctx, "acme", &mapping.Group{ID: "g1", Attrs: mapping.Attrs{"displayName": "Admins"}, Created: now}, []string{"u1", "u2"}); err != nil {
		t.Fatal(err)
	}
	st.Close()

	out, stderr, code := cli(t, env, "store", "verify")
	if code != 0 || !strings.Contains(out, "tenant acme: 2 users, 1 groups, 2 memberships: clean") || !strings.Contains(out, "verdict: clean") {
		t.Fatalf("verify clean store: exit %d\n%s%s", code, out, stderr)
	}

	// A hand-edited file: foreign keys off, a membership of a deleted user
	// and a renamed index column.
	db, err := sql.Open("sqlite", filepath.Join(dir, DBFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`PRAGMA foreign_keys = OFF`,
		`INSERT INTO memberships (tenant, group_id, user_id) VALUES ('acme', 'g1', 'u-gone')`,
		`UPDATE scim_users SET user_name_key = 'stale@example.com' WHERE tenant = 'acme' AND id = 'u2'`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	db.Close()

	out, _, code = cli(t, env, "store", "verify", "--tenant", "acme")
	if code != 1 || !strings.Contains(out, "member-dangling") || !strings.Contains(out, "index-mismatch") ||
		!strings.Contains(out, "group g1 has member u-gone: no such user") || !strings.Contains(out, "run with --repair") {
		t.Fatalf("verify corrupted store: exit %d\n%s", code, out)
	}
	v, code := verifyJSON(t, env)
	if code != 1 || v.Found != 2 || v.Remaining != 2 || v.Clean || len(v.Tenants) != 1 || v.Tenants[0].Get("member-dangling").Count != 1 {
		t.Fatalf("verify --output json: exit %d %+v", code, v)
	}
	v, code = verifyJSON(t, env, "--repair")
	if code != 0 || v.Found != 2 || v.Repaired != 2 || v.Remaining != 0 || !v.Clean {
		t.Fatalf("verify --repair: exit %d %+v", code, v)
	}
	out, _, code = cli(t, env, "store", "verify")
	if code != 0 || !strings.Contains(out, "verdict: clean") {
		t.Fatalf("verify after repair: exit %d\n%s", code, out)
	}

	// Usage errors are 2; an unknown tenant is 1.
	for _, args := range [][]string{
		{"store"}, {"store", "frob"}, {"store", "verify", "extra"}, {"store", "verify", "--tenant", ""},
		{"store", "verify", "--output", "yaml"}, {"store", "verify", "--bogus"},
	} {
		if _, stderr, code := cli(t, env, args...); code != exitConfig {
			t.Errorf("%v: exit %d, want 2 (%s)", args, code, stderr)
		}
	}
	if _, stderr, code := cli(t, env, "store", "verify", "--tenant", "nope"); code != 1 || !strings.Contains(stderr, `tenant "nope" not found`) {
		t.Errorf("unknown tenant: exit %d %s", code, stderr)
	}
	if out, _, code := cli(t, env, "store", "help"); code != 0 || !strings.Contains(out, "--repair") {
		t.Errorf("store help: %d %s", code, out)
	}
}

// TestServeOnRedisCluster runs `serve` against a 3-master Redis Cluster
// configured by AXONFLOW_SYNC_REDIS_CLUSTER_ADDRS and drives Okta's flows
// through it in two tenants (user create, lookup, deactivate; group push
// with member add and remove), then `store verify` (clean, a corruption
// found and repaired) through the same configuration.
func TestServeOnRedisCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("short: no cluster")
	}
	c := testredis.StartCluster(t, 3)
	env := []string{"AXONFLOW_SYNC_REDIS_CLUSTER_ADDRS=" + strings.Join(c.Addrs(), ","), "AXONFLOW_SYNC_REDIS_TIMEOUT=1s"}
	tokens := map[string]string{}
	for _, tn := range []string{"acme", "globex"} {
		out, stderr, code := cli(t, env, "token", "create", "--tenant", tn, "--name", "okta")
		if code != 0 {
			t.Fatalf("token create on the cluster: %d %s", code, stderr)
		}
		tokens[tn] = strings.TrimSpace(out)
	}
	d := startServe(t, env)
	if !strings.Contains(d.stderr.String(), "redis cluster") {
		t.Errorf("serve does not log the cluster store:\n%s", d.stderr.String())
	}
	base := "http://" + d.api + "/scim/v2"
	for tn, tok := range tokens {
		t.Run(tn, func(t *testing.T) { oktaFlow(t, base, tok, tn) })
	}
	// Tenants are isolated on the cluster too.
	code, m := scimJSON(t, "GET", base+"/Users?filter="+urlq(`userName eq "ada@example.com"`), tokens["acme"], "")
	if code != 200 || m["totalResults"].(float64) != 1 {
		t.Fatalf("acme lookup: %d %v", code, m)
	}

	v, code := verifyJSON(t, env)
	if code != 0 || len(v.Tenants) != 2 || !v.Clean || v.Tenants[0].Users != 2 || v.Tenants[0].Memberships != 1 {
		t.Fatalf("verify on the cluster: exit %d %+v", code, v)
	}
	// A dangling index entry, written straight into the cluster.
	cc := redis.NewClusterClient(&redis.ClusterOptions{Addrs: c.Addrs()})
	defer cc.Close()
	if err := cc.HSet(context.Background(), "t:{acme}:idx:userName", "ghost@example.com", "u-ghost").Err(); err != nil {
		t.Fatal(err)
	}
	if v, code := verifyJSON(t, env, "--tenant", "acme"); code != 1 || v.Tenants[0].Get("index-dangling").Count != 1 {
		t.Fatalf("verify a corrupted tenant: exit %d %+v", code, v)
	}
	if v, code := verifyJSON(t, env, "--repair"); code != 0 || v.Repaired != 1 {
		t.Fatalf("verify --repair: exit %d %+v", code, v)
	}
	if _, _, code := cli(t, env, "store", "verify"); code != 0 {
		t.Fatalf("verify after repair: exit %d", code)
	}
}

// oktaFlow is what Okta does to a tenant: look a user up and create it,
// look it up again (any letter case), deactivate it with a path-less
// PATCH, then push a group: look it up by displayName, create it, add two
// members, remove one with a members[value eq] path.
func oktaFlow(t *testing.T, base, tok, tenant string) {
	t.Helper()
	users := base + "/Users"
	filter := func(attr, v string) string { return "?filter=" + urlq(attr+` eq "`+v+`"`) }
	code, m := scimJSON(t, "GET", users+filter("userName", "ada@example.com"), tok, "")
	if code != 200 || m["totalResults"].(float64) != 0 {
		t.Fatalf("lookup before create: %d %v", code, m)
	}
	var ids []string
	for _, name := range []string{"ada@example.com", "bob@example.com"} {
		resp, b := scimReq(t, "POST", users, tok, fmt.Sprintf(userBody, name, name))
		if resp.StatusCode != 201 || resp.Header.Get("X-AxonFlow-Tenant") != tenant {
			t.Fatalf("POST /Users %s: %d %s", name, resp.StatusCode, b)
		}
		var u map[string]any
		_ = json.Unmarshal(b, &u)
		ids = append(ids, u["id"].(string))
	}
	code, m = scimJSON(t, "GET", users+filter("userName", "ADA@EXAMPLE.COM"), tok, "")
	if code != 200 || m["totalResults"].(float64) != 1 || m["Resources"].([]any)[0].(map[string]any)["id"] != ids[0] {
		t.Fatalf("lookup after create: %d %v", code, m)
	}
	code, m = scimJSON(t, "PATCH", users+"/"+ids[0], tok,
		`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","value":{"active":false}}]}`)
	if code != 200 || m["active"] != false {
		t.Fatalf("deactivate: %d %v", code, m)
	}

	groups := base + "/Groups"
	code, m = scimJSON(t, "GET", groups+filter("displayName", "AxonFlow Pilot"), tok, "")
	if code != 200 || m["totalResults"].(float64) != 0 {
		t.Fatalf("group lookup: %d %v", code, m)
	}
	code, m = scimJSON(t, "POST", groups, tok, `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"AxonFlow Pilot","members":[]}`)
	if code != 201 {
		t.Fatalf("POST /Groups: %d %v", code, m)
	}
	gid := m["id"].(string)
	patch := func(ops string) {
		t.Helper()
		resp, b := scimReq(t, "PATCH", groups+"/"+gid, tok, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[`+ops+`]}`)
		if resp.StatusCode != 204 {
			t.Fatalf("PATCH group %s: %d %s", ops, resp.StatusCode, b)
		}
	}
	patch(fmt.Sprintf(`{"op":"add","path":"members","value":[{"value":%q},{"value":%q}]}`, ids[0], ids[1]))
	patch(fmt.Sprintf(`{"op":"remove","path":"members[value eq \"%s\"]"}`, ids[0]))
	code, m = scimJSON(t, "GET", groups+"/"+gid, tok, "")
	if code != 200 {
		t.Fatalf("GET group: %d %v", code, m)
	}
	members, _ := m["members"].([]any)
	if len(members) != 1 || members[0].(map[string]any)["value"] != ids[1] {
		t.Fatalf("members after add and remove: %v", m["members"])
	}
	code, m = scimJSON(t, "GET", users+"/"+ids[1], tok, "")
	if gs, _ := m["groups"].([]any); code != 200 || len(gs) != 1 || gs[0].(map[string]any)["value"] != gid {
		t.Fatalf("bob's groups: %d %v", code, m["groups"])
	}
}

// urlq query-escapes a filter.
func urlq(s string) string {
	r := strings.NewReplacer(" ", "%20", `"`, "%22")
	return r.Replace(s)
}

// TestStoreOnSentinel: the CLI reaches the store through Redis Sentinel
// (AXONFLOW_SYNC_REDIS_SENTINEL_MASTER/ADDRS).
func TestStoreOnSentinel(t *testing.T) {
	if testing.Short() {
		t.Skip("short: no sentinel")
	}
	master := testredis.Start(t)
	sentinel := testredis.StartSentinel(t, "axf", master)
	env := []string{"AXONFLOW_SYNC_REDIS_SENTINEL_MASTER=axf", "AXONFLOW_SYNC_REDIS_SENTINEL_ADDRS=" + sentinel.Addr()}
	if _, stderr, code := cli(t, env, "token", "create", "--tenant", "acme"); code != 0 {
		t.Fatalf("token create via sentinel: %d %s", code, stderr)
	}
	out, stderr, code := cli(t, env, "store", "verify")
	if code != 0 || !strings.Contains(out, "store: redis sentinel axf via "+sentinel.Addr()) || !strings.Contains(out, "tenant acme") {
		t.Fatalf("store verify via sentinel: %d\n%s%s", code, out, stderr)
	}
	// The token landed on the master the sentinel names.
	mc := redis.NewClient(&redis.Options{Addr: master.Addr()})
	defer mc.Close()
	if n, err := mc.HLen(context.Background(), "tenants").Result(); err != nil || n != 1 {
		t.Fatalf("tenants on the master: %d, %v", n, err)
	}
	// A sentinel nobody answers: the CLI fails, naming the key.
	_, port, _ := net.SplitHostPort(freeAddr(t))
	_, stderr, code = cli(t, []string{"AXONFLOW_SYNC_REDIS_SENTINEL_MASTER=axf", "AXONFLOW_SYNC_REDIS_SENTINEL_ADDRS=127.0.0.1:" + port, "AXONFLOW_SYNC_REDIS_TIMEOUT=300ms"}, "store", "verify")
	if code != 1 || !strings.Contains(stderr, "redis.sentinelMaster") {
		t.Fatalf("unreachable sentinel: exit %d %s", code, stderr)
	}
}
