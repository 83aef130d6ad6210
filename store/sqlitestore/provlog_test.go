package sqlitestore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/axonflow/axonflow-sync/mapping"
	"github.com/axonflow/axonflow-sync/store"
)

// TestMigrateFromV3 opens a file left at schema version 3 (before the
// provisioning log) and checks that Open adds the log table.
func TestMigrateFromV3(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "state.db")
	s, err := Open(ctx, path, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.EnsureTenant(ctx, "acme", time.Unix(5, 0)); err != nil {
		t.Fatal(err)
	}
	for _, q := range append(undoV5, `DROP TABLE provisioning_log`, `UPDATE schema_version SET version = 3`) {
		if _, err := s.w.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	s = openTB(t, path)
	e := store.LogEntry{Actor: store.ActorOperator, ActorID: "cli:test", ResourceType: "Token", Operation: "create_token", Status: 201}
	if err := s.AppendLog(ctx, "acme", e); err != nil {
		t.Fatalf("AppendLog after migration: %v", err)
	}
	if es, err := s.QueryLog(ctx, "acme", store.LogQuery{}); err != nil || len(es) != 1 {
		t.Errorf("QueryLog after migration = %v, %v", es, err)
	}
}

// TestMigrateRejectionsApart opens a file left at schema version 5 (one
// log table) holding accepted and rejected entries, and checks that the
// rejections move to their own table in order, the log reads the same,
// and new rejections no longer count against the changes' budget.
func TestMigrateRejectionsApart(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "state.db")
	s, err := Open(ctx, path, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range append(undoV6, `UPDATE schema_version SET version = 5`) {
		if _, err := s.w.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	base := time.Now().Add(-time.Hour).UTC()
	for i, status := range []int{201, 400, 200, 409, 401} {
		e := store.LogEntry{Time: base.Add(time.Duration(i) * time.Second), Actor: store.ActorOktaPush, RequestID: fmt.Sprint(i),
			ResourceType: "User", Name: "ada", Operation: "create", Status: status}
		b, _ := json.Marshal(e)
		if _, err := s.w.ExecContext(ctx, `INSERT INTO provisioning_log (tenant, n, at, name_key, resource_type, actor, status, entry) VALUES ('acme', ?, ?, 'ada', 'User', 'okta-push', ?, ?)`,
			i+1, e.Time.UnixNano(), status, string(b)); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	s = openTB(t, path)
	es, err := s.QueryLog(ctx, "acme", store.LogQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if got := logIDs(es); got != "4 3 2 1 0" {
		t.Fatalf("after migration: %s; want 4 3 2 1 0", got)
	}
	var nRej, nAcc int
	if err := s.r.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM provisioning_log_rejected WHERE tenant = 'acme'), (SELECT count(*) FROM provisioning_log WHERE tenant = 'acme')`).Scan(&nRej, &nAcc); err != nil {
		t.Fatal(err)
	}
	if nRej != 3 || nAcc != 2 {
		t.Fatalf("%d rejected and %d accepted rows; want 3 and 2", nRej, nAcc)
	}
	s.SetLogRetention(store.LogRetention{MaxEntries: 2, MaxRejections: 3})
	if err := s.AppendLog(ctx, "acme", store.LogEntry{Time: base.Add(10 * time.Second), Actor: store.ActorOktaPush, RequestID: "5",
		ResourceType: "User", Name: "ada", Operation: "read", Status: 404}); err != nil {
		t.Fatal(err)
	}
	es, _ = s.QueryLog(ctx, "acme", store.LogQuery{})
	if got := logIDs(es); got != "5 4 3 2 0" {
		t.Fatalf("after one more rejection: %s; want 5 4 3 2 0 (the oldest rejection goes, no change)", got)
	}
}

func logIDs(es []store.LogEntry) string {
	ids := make([]string, len(es))
	for i, e := range es {
		ids[i] = e.RequestID
	}
	return strings.Join(ids, " ")
}

// TestLogRetentionDefaults checks the retention a new Store uses.
func TestLogRetentionDefaults(t *testing.T) {
	s := openTB(t, filepath.Join(t.TempDir(), "state.db"))
	want := store.LogRetention{MaxEntries: store.DefaultLogMaxEntries, MaxRejections: store.DefaultLogMaxRejections, MaxAge: store.DefaultLogMaxAge}
	if got := s.LogRetention(); got != want {
		t.Errorf("LogRetention() = %+v; want %+v", got, want)
	}
	s.SetLogRetention(store.LogRetention{MaxEntries: 5})
	if got := s.LogRetention(); got.MaxEntries != 5 || got.MaxAge != store.DefaultLogMaxAge {
		t.Errorf("after SetLogRetention: %+v", got)
	}
}

// TestWriteWithItsLogEntryIsAtomic: a write through store.Logged whose log
// entry cannot be inserted fails as a whole (one transaction): the user is
// not created; once the log takes entries again, the write leaves exactly
// one entry.
func TestWriteWithItsLogEntryIsAtomic(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "state.db"), zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.EnsureTenant(ctx, "acme", time.Now()); err != nil {
		t.Fatal(err)
	}
	var recorded []store.LogEntry
	w := store.Logged(s, func(_ context.Context, _ string, e store.LogEntry) { recorded = append(recorded, e) })
	wctx := store.WithWriter(ctx, store.Writer{Actor: store.ActorOktaPush, ID: "tok", OwnRejections: true})
	if _, err := s.w.ExecContext(ctx, `CREATE TRIGGER log_full BEFORE INSERT ON provisioning_log BEGIN SELECT RAISE(ABORT, 'log full'); END`); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	u := &mapping.User{ID: "u1", Attrs: mapping.Attrs{"userName": "ada@example.com"}, Created: now, LastModified: now}
	if err := w.CreateUser(wctx, "acme", u); err == nil {
		t.Fatal("CreateUser succeeded although its log entry could not be stored")
	}
	if _, err := s.GetUser(ctx, "acme", "u1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("GetUser after the failed create: %v; want ErrNotFound (rolled back)", err)
	}
	if _, err := s.w.ExecContext(ctx, `DROP TRIGGER log_full`); err != nil {
		t.Fatal(err)
	}
	if err := w.CreateUser(wctx, "acme", u); err != nil {
		t.Fatal(err)
	}
	es, err := s.QueryLog(ctx, "acme", store.LogQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 1 || es[0].Operation != "create" || es[0].ResourceID != "u1" || es[0].ActorID != "tok" || len(recorded) != 0 {
		t.Fatalf("log after one create: %+v (recorded apart: %v); want its one entry", es, recorded)
	}
}
