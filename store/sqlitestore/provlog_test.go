package sqlitestore

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/rs/zerolog"

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

// TestLogRetentionDefaults checks the retention a new Store uses.
func TestLogRetentionDefaults(t *testing.T) {
	s := openTB(t, filepath.Join(t.TempDir(), "state.db"))
	want := store.LogRetention{MaxEntries: store.DefaultLogMaxEntries, MaxAge: store.DefaultLogMaxAge}
	if got := s.LogRetention(); got != want {
		t.Errorf("LogRetention() = %+v; want %+v", got, want)
	}
	s.SetLogRetention(store.LogRetention{MaxEntries: 5})
	if got := s.LogRetention(); got.MaxEntries != 5 || got.MaxAge != store.DefaultLogMaxAge {
		t.Errorf("after SetLogRetention: %+v", got)
	}
}
