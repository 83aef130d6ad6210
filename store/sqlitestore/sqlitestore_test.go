package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/axonflow/axonflow-sync/mapping"
	"github.com/axonflow/axonflow-sync/store"
	"github.com/axonflow/axonflow-sync/store/storetest"
)

func openTB(tb testing.TB, path string) *Store {
	tb.Helper()
	s, err := Open(context.Background(), path, zerolog.Nop())
	if err != nil {
		tb.Fatalf("Open(%s): %v", path, err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

// TestConformance runs the shared suite, each subtest on a fresh file.
func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.State {
		return openTB(t, filepath.Join(t.TempDir(), "data", "state.db"))
	})
}

// TestConformanceSharedFile runs the suite again with every subtest on one
// file, as the suite expects of backends that share a server.
func TestConformanceSharedFile(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	s := openTB(t, filepath.Join(t.TempDir(), "state.db"))
	storetest.Run(t, func(*testing.T) store.State { return s })
}

func TestOpenReopen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "a", "b", "state.db")
	s, err := Open(ctx, path, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.EnsureTenant(ctx, "acme", time.Unix(1, 2)); err != nil {
		t.Fatal(err)
	}
	u := &mapping.User{ID: "u1", Attrs: mapping.Attrs{"userName": "x"}, Created: time.Unix(1, 2)}
	if err := s.CreateUser(ctx, "acme", u); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Ping(ctx); !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("Ping after Close = %v; want ErrUnavailable", err)
	}
	if _, err := s.GetUser(ctx, "acme", "u1"); !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("GetUser after Close = %v; want ErrUnavailable", err)
	}

	s = openTB(t, path)
	var v int
	if err := s.r.QueryRowContext(ctx, `SELECT version FROM schema_version`).Scan(&v); err != nil || v != SchemaVersion {
		t.Errorf("schema version = %d, %v; want %d", v, err, SchemaVersion)
	}
	var mode string
	if err := s.w.QueryRowContext(ctx, `PRAGMA journal_mode`).Scan(&mode); err != nil || mode != "wal" {
		t.Errorf("journal_mode = %q, %v; want wal", mode, err)
	}
	// The read-only connections (pool and snapshots) map the file; the
	// writer does not.
	for name, db := range map[string]*sql.DB{"read pool": s.r, "snapshots": s.snaps.db} {
		var n int64
		if err := db.QueryRowContext(ctx, `PRAGMA mmap_size`).Scan(&n); err != nil || n != ReadMmapSize {
			t.Errorf("%s: mmap_size = %d, %v; want %d", name, n, err, ReadMmapSize)
		}
	}
	var wm int64
	if err := s.w.QueryRowContext(ctx, `PRAGMA mmap_size`).Scan(&wm); err != nil || wm != 0 {
		t.Errorf("writer: mmap_size = %d, %v; want 0", wm, err)
	}
	got, err := s.GetUser(ctx, "acme", "u1")
	if err != nil || got.UserName() != "x" || !got.Created.Equal(time.Unix(1, 2)) {
		t.Errorf("after reopen: %+v, %v", got, err)
	}
	if _, err := s.w.ExecContext(ctx, `UPDATE schema_version SET version = 99`); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(ctx, path, zerolog.Nop()); err == nil {
		t.Error("Open of a newer schema succeeded")
	}
	if _, err := Open(ctx, "bad?path", zerolog.Nop()); err == nil {
		t.Error("Open of a path with '?' succeeded")
	}
}

// TestContextCancelled checks that a cancelled call reports ErrUnavailable.
func TestContextCancelled(t *testing.T) {
	s := openTB(t, filepath.Join(t.TempDir(), "state.db"))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.EnsureTenant(ctx, "t", time.Now()); !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("EnsureTenant(cancelled) = %v; want ErrUnavailable", err)
	}
}

// writeLoad creates n users named prefix-i in tenant and adds each to the
// group gid; it is what each of several writers runs against one file.
func writeLoad(ctx context.Context, s store.State, tenant, gid, prefix string, n int) error {
	for i := range n {
		u := &mapping.User{ID: fmt.Sprintf("%s-%d", prefix, i), Attrs: mapping.Attrs{"userName": fmt.Sprintf("%s-%d", prefix, i)}, Created: time.Now()}
		if err := s.CreateUser(ctx, tenant, u); err != nil {
			return fmt.Errorf("create %s: %w", u.ID, err)
		}
		if _, err := s.UpdateGroup(ctx, tenant, gid, store.GroupChange{Add: []string{u.ID}, At: time.Now()}); err != nil {
			return fmt.Errorf("add %s: %w", u.ID, err)
		}
		// Everyone also races for one shared userName: exactly one wins.
		shared := &mapping.User{ID: fmt.Sprintf("%s-shared-%d", prefix, i), Attrs: mapping.Attrs{"userName": fmt.Sprintf("shared-%d", i)}}
		var ce *store.ConflictError
		if err := s.CreateUser(ctx, tenant, shared); err != nil && !errors.As(err, &ce) {
			return fmt.Errorf("create %s: %w", shared.ID, err)
		}
	}
	return nil
}

func setupShared(t *testing.T, s store.State) {
	ctx := context.Background()
	if _, err := s.EnsureTenant(ctx, "shared", time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateGroup(ctx, "shared", &mapping.Group{ID: "g", Attrs: mapping.Attrs{"displayName": "G"}}, nil); err != nil {
		t.Fatal(err)
	}
}

func checkShared(t *testing.T, s store.State, writers, n int) {
	ctx := context.Background()
	m, err := s.GroupMembers(ctx, "shared", "g")
	if err != nil || len(m) != writers*n {
		t.Errorf("GroupMembers = %d, %v; want %d", len(m), err, writers*n)
	}
	g, err := s.GetGroup(ctx, "shared", "g")
	if err != nil || g.Version != int64(writers*n+1) {
		t.Errorf("group Version = %v, %v; want %d", g, err, writers*n+1)
	}
	p, err := s.ListUsers(ctx, "shared", 0, 0)
	if err != nil || p.Total != writers*n+n {
		t.Errorf("users = %d, %v; want %d", p.Total, err, writers*n+n)
	}
}

// TestTwoStoresOneFile opens the file twice (two connection pools, as two
// processes would) and writes through both at once.
func TestTwoStoresOneFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	a, b := openTB(t, path), openTB(t, path)
	setupShared(t, a)
	const n = 30
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, s := range []store.State{a, b} {
		wg.Go(func() { errs[i] = writeLoad(context.Background(), s, "shared", "g", fmt.Sprintf("w%d", i), n) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	checkShared(t, a, 2, n)
	checkShared(t, b, 2, n)
}

const helperEnv = "SQLITESTORE_HELPER"

// TestHelperProcess is the body of the child processes of
// TestTwoProcesses; it does nothing in a normal run.
func TestHelperProcess(t *testing.T) {
	spec := os.Getenv(helperEnv)
	if spec == "" {
		t.Skip("helper process only")
	}
	var path, prefix string
	var n int
	if _, err := fmt.Sscanf(spec, "%s %s %d", &path, &prefix, &n); err != nil {
		t.Fatal(err)
	}
	s := openTB(t, path)
	if err := writeLoad(context.Background(), s, "shared", "g", prefix, n); err != nil {
		t.Fatal(err)
	}
}

// TestTwoProcesses runs two processes (this test binary re-executed)
// writing to one file at once, as `serve` and `token create` do.
func TestTwoProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	path := filepath.Join(t.TempDir(), "state.db")
	s := openTB(t, path)
	setupShared(t, s)
	const writers, n = 2, 30
	var wg sync.WaitGroup
	for i := range writers {
		wg.Go(func() {
			cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1")
			cmd.Env = append(os.Environ(), helperEnv+"="+path+" p"+strconv.Itoa(i)+" "+strconv.Itoa(n))
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Errorf("helper %d: %v\n%s", i, err, out)
			}
		})
	}
	wg.Wait()
	checkShared(t, s, writers, n)
}

// TestMigrateFromV1 opens a file left at schema version 1 and checks that
// Open applies the later steps and keeps the data.
func TestMigrateFromV1(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "state.db")
	s, err := Open(ctx, path, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.EnsureTenant(ctx, "acme", time.Unix(5, 0)); err != nil {
		t.Fatal(err)
	}
	for _, q := range append(undoV5, `DROP TABLE leases`, `DROP TABLE runs`, `DROP TABLE role_mappings`, `DROP TABLE role_assignments`,
		`DROP TABLE role_defaults`, `DROP TABLE provisioning_log`, `UPDATE schema_version SET version = 1`) {
		if _, err := s.w.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	s = openTB(t, path)
	if ok, _, err := s.AcquireLease(ctx, "acme", "reconcile", "me", time.Minute); err != nil || !ok {
		t.Fatalf("AcquireLease after migration = %v, %v", ok, err)
	}
	if ts, err := s.ListTenants(ctx); err != nil || len(ts) != 1 || ts[0].ID != "acme" {
		t.Errorf("tenants after migration = %v, %v", ts, err)
	}
}

// TestMigrateFromV2 opens a file left at schema version 2 (before roles)
// and checks that Open adds the role tables and keeps the users.
func TestMigrateFromV2(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "state.db")
	s, err := Open(ctx, path, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	u := &mapping.User{ID: "u1", Attrs: mapping.Attrs{"userName": "x"}, Created: time.Unix(1, 2)}
	if err := s.CreateUser(ctx, "acme", u); err != nil {
		t.Fatal(err)
	}
	for _, q := range append(undoV5, `DROP TABLE role_mappings`, `DROP TABLE role_assignments`, `DROP TABLE role_defaults`,
		`DROP TABLE provisioning_log`, `UPDATE schema_version SET version = 2`) {
		if _, err := s.w.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	s = openTB(t, path)
	if err := s.AssignRole(ctx, "acme", "u1", "admin", "manual"); err != nil {
		t.Fatalf("AssignRole after migration: %v", err)
	}
	if rs, err := s.UserRoles(ctx, "acme", []string{"u1"}); err != nil || len(rs["u1"]) != 1 {
		t.Errorf("UserRoles after migration = %v, %v", rs, err)
	}
	if err := s.DeleteUser(ctx, "acme", "u1"); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := s.r.QueryRowContext(ctx, `SELECT count(*) FROM role_assignments`).Scan(&n); err != nil || n != 0 {
		t.Errorf("role_assignments rows after DeleteUser = %d, %v; want 0", n, err)
	}
}
