package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/axonflow/axonflow-sync/mapping"
	"github.com/axonflow/axonflow-sync/store"
	"github.com/axonflow/axonflow-sync/store/sqlitestore"
)

// hostile holds what a pushed name could carry to attack the operator's
// terminal: clear screen (ESC), a C1 CSI, a bidi override, a NUL and a
// newline that would forge a table row.
const hostile = "evil\x1b[2J\u009b31m\u202eexe.txt\x00\nFAKE ROW"

// TestCLITablesEscapeUntrustedText stores hostile names as data from
// before the identifier rule would be (token name, role mapping group, log
// entry name, detail and operator id), then checks that `token list`,
// `roles list` and `log` print them escaped, never raw (issue 12 item 4).
func TestCLITablesEscapeUntrustedText(t *testing.T) {
	dir := t.TempDir()
	env := []string{"AXONFLOW_SYNC_DATA_DIR=" + dir, "USER=tester"}
	ctx := context.Background()
	st, err := sqlitestore.Open(ctx, filepath.Join(dir, DBFile), zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	if _, _, err := store.IssueToken(ctx, st, "acme", hostile, 0, now); err != nil {
		t.Fatal(err)
	}
	if err := st.PutRoleMapping(ctx, "acme", mapping.RoleMapping{Group: hostile, ByName: true, Role: "admin", Source: mapping.SourceAPI}); err != nil {
		t.Fatal(err)
	}
	if err := st.AppendLog(ctx, "acme", store.LogEntry{Time: now, Actor: store.ActorOperator, ActorID: "admin-api:" + hostile,
		ResourceType: "User", Name: hostile, Operation: "create", Status: 400, ScimType: "invalidValue", Detail: "bad " + hostile}); err != nil {
		t.Fatal(err)
	}
	st.Close()

	for _, args := range [][]string{
		{"token", "list", "--tenant", "acme"},
		{"roles", "list", "--tenant", "acme"},
		{"log", "--tenant", "acme"},
		{"log", "--tenant", "acme", "--user", strings.ReplaceAll(hostile, "\x00", "")},
	} {
		out, stderr, code := cli(t, env, args...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s %s", args, code, out, stderr)
		}
		for _, raw := range []string{"\x1b", "\u009b", "\u202e", "\x00", "\nFAKE ROW"} {
			if strings.Contains(out+stderr, raw) {
				t.Errorf("%v prints %q raw:\n%q", args, raw, out+stderr)
			}
		}
		if !strings.Contains(out, `evil\x1b[2J\x9b31m\u202eexe.txt`) {
			t.Errorf("%v: the escaped name is missing:\n%s", args, out)
		}
	}
}
