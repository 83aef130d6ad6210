package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/axonflow/axonflow-sync/mapping"
	"github.com/axonflow/axonflow-sync/store/sqlitestore"
)

// seedRoles creates tenant acme in the embedded store of dataDir with ann
// (member of "AxonFlow Admins") and bob (in no group); it returns the
// group's id.
func seedRoles(t *testing.T, dataDir string) (annID, groupID string) {
	t.Helper()
	ctx := context.Background()
	st, err := sqlitestore.Open(ctx, filepath.Join(dataDir, DBFile), zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.EnsureTenant(ctx, "acme", time.Now()); err != nil {
		t.Fatal(err)
	}
	for _, u := range []*mapping.User{
		{ID: "u-ann", Attrs: mapping.Attrs{"userName": "ann@example.com"}, Created: time.Now()},
		{ID: "u-bob", Attrs: mapping.Attrs{"userName": "bob@example.com"}, Created: time.Now()},
	} {
		if err := st.CreateUser(ctx, "acme", u); err != nil {
			t.Fatal(err)
		}
	}
	g := &mapping.Group{ID: "g-admins", Attrs: mapping.Attrs{"displayName": "AxonFlow Admins"}, Created: time.Now()}
	if err := st.CreateGroup(ctx, "acme", g, []string{"u-ann"}); err != nil {
		t.Fatal(err)
	}
	return "u-ann", g.ID
}

func TestRolesCLI(t *testing.T) {
	dataDir := t.TempDir()
	env := []string{"AXONFLOW_SYNC_DATA_DIR=" + dataDir}
	ann, gid := seedRoles(t, dataDir)
	run := func(wantCode int, args ...string) string {
		t.Helper()
		out, stderr, code := cli(t, env, append([]string{"roles"}, args...)...)
		if code != wantCode {
			t.Fatalf("roles %v: exit %d, want %d\nstdout: %s\nstderr: %s", args, code, wantCode, out, stderr)
		}
		return out + stderr
	}

	// Map by displayName (any case): ann changes.
	if out := run(0, "map", "--tenant", "acme", "--group", "axonflow admins", "--by-name", "--role", "admin"); !strings.Contains(out, "1 user updated") {
		t.Errorf("roles map printed %q; want 1 user updated", out)
	}
	out := run(0, "list", "--tenant", "acme", "--output", "json")
	var ms []mapping.RoleMapping
	if err := json.Unmarshal([]byte(out), &ms); err != nil {
		t.Fatalf("roles list json: %v %q", err, out)
	}
	if want := []mapping.RoleMapping{{Group: "axonflow admins", ByName: true, Role: "admin", Source: "api"}}; !reflect.DeepEqual(ms, want) {
		t.Errorf("roles list = %+v; want %+v", ms, want)
	}
	if out := run(0, "list", "--tenant", "acme"); !strings.Contains(out, "displayName") || !strings.Contains(out, "default role") || !strings.Contains(out, "viewer") {
		t.Errorf("roles list table:\n%s", out)
	}

	// show: by userName, json, with sources.
	out = run(0, "show", "--tenant", "acme", "--user", "ANN@example.com", "--output", "json")
	var v struct {
		UserID   string `json:"userId"`
		UserName string `json:"userName"`
		Roles    []map[string]string
	}
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("roles show json: %v %q", err, out)
	}
	wantRoles := []map[string]string{{"role": "admin", "source": "scim", "group": gid, "groupName": "AxonFlow Admins"}}
	if v.UserID != ann || v.UserName != "ann@example.com" || !reflect.DeepEqual(v.Roles, wantRoles) {
		t.Errorf("roles show = %+v; want ann with %v", v, wantRoles)
	}
	if out := run(0, "show", "--tenant", "acme", "--user", "u-bob"); !strings.Contains(out, "viewer") || !strings.Contains(out, "default") {
		t.Errorf("roles show (bob) table:\n%s", out)
	}

	// A manual role survives unmapping: ann loses admin, keeps owner.
	run(0, "assign", "--tenant", "acme", "--user", "ann@example.com", "--role", "owner")
	if out := run(0, "unmap", "--tenant", "acme", "--group", "AxonFlow Admins", "--by-name"); !strings.Contains(out, "1 user updated") {
		t.Errorf("roles unmap printed %q; want 1 user updated", out)
	}
	if out := run(0, "show", "--tenant", "acme", "--user", ann); !strings.Contains(out, "owner") || !strings.Contains(out, "manual") || strings.Contains(out, "admin") {
		t.Errorf("roles show after unmap:\n%s", out)
	}
	run(0, "unassign", "--tenant", "acme", "--user", ann, "--role", "owner")
	run(0, "default", "--tenant", "acme", "--role", "none")
	if out := run(0, "show", "--tenant", "acme", "--user", ann); !strings.Contains(out, "no roles") {
		t.Errorf("roles show with default none:\n%s", out)
	}
	// By id: the group must exist.
	if out := run(0, "map", "--tenant", "acme", "--group", gid, "--role", "developer", "--output", "json"); !strings.Contains(out, `"usersUpdated": 1`) {
		t.Errorf("roles map by id json: %s", out)
	}

	// Errors.
	for _, tc := range []struct {
		code int
		args []string
		msg  string
	}{
		{2, []string{"map", "--tenant", "acme", "--group", "G", "--by-name", "--role", "superuser"}, "unknown role"},
		{2, []string{"map", "--tenant", "acme", "--role", "admin"}, "--group is required"},
		{2, []string{"list", "--tenant", "Bad Tenant"}, "--tenant"},
		{2, []string{"frob", "--tenant", "acme"}, "unknown subcommand"},
		{1, []string{"map", "--tenant", "acme", "--group", "no-such-id", "--role", "admin"}, "--by-name"},
		{1, []string{"show", "--tenant", "acme", "--user", "nobody"}, "no user"},
		{1, []string{"unmap", "--tenant", "acme", "--group", "Nope", "--by-name"}, "no role mapping"},
	} {
		if out := run(tc.code, tc.args...); !strings.Contains(out, tc.msg) {
			t.Errorf("roles %v: output %q does not mention %q", tc.args, out, tc.msg)
		}
	}
}

// TestServeAppliesConfigRoles: tenants.<id>.roles from the YAML file is in
// the store once serve runs, as source config, and an API mapping of the
// same group is replaced (and logged).
func TestServeAppliesConfigRoles(t *testing.T) {
	dataDir := t.TempDir()
	ann, _ := seedRoles(t, dataDir)
	cfgFile := filepath.Join(t.TempDir(), "config.yaml")
	yaml := "tenants:\n  acme:\n    roles:\n      default: none\n      mappings:\n        - group: AxonFlow Admins\n          role: admin\n"
	if err := os.WriteFile(cfgFile, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	env := []string{"AXONFLOW_SYNC_DATA_DIR=" + dataDir, "AXONFLOW_SYNC_CONFIG=" + cfgFile}
	if _, stderr, code := cli(t, env, "roles", "map", "--tenant", "acme", "--group", "axonflow ADMINS", "--by-name", "--role", "owner"); code != 0 {
		t.Fatalf("roles map: %d %s", code, stderr)
	}
	d := startServe(t, env)
	if log := d.stderr.String(); !strings.Contains(log, "role mapping applied from the configuration") || !strings.Contains(log, `"replaced_source":"api"`) {
		t.Errorf("serve log does not report the applied mapping:\n%s", log)
	}
	out, stderr, code := cli(t, env, "roles", "list", "--tenant", "acme", "--output", "json")
	if code != 0 {
		t.Fatalf("roles list: %d %s", code, stderr)
	}
	var ms []mapping.RoleMapping
	if err := json.Unmarshal([]byte(out), &ms); err != nil {
		t.Fatal(err)
	}
	if want := []mapping.RoleMapping{{Group: "AxonFlow Admins", ByName: true, Role: "admin", Source: "config"}}; !reflect.DeepEqual(ms, want) {
		t.Errorf("mappings after serve = %+v; want %+v", ms, want)
	}
	out, _, _ = cli(t, env, "roles", "show", "--tenant", "acme", "--user", "u-bob")
	if !strings.Contains(out, "no roles") {
		t.Errorf("bob (no group, default none):\n%s", out)
	}
	out, _, _ = cli(t, env, "roles", "show", "--tenant", "acme", "--user", ann)
	if !strings.Contains(out, "admin") || !strings.Contains(out, "scim") {
		t.Errorf("ann (AxonFlow Admins):\n%s", out)
	}
}
