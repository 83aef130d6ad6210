package sqlitestore

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/axonflow/axonflow-sync/mapping"
)

const roleHelperEnv = "SQLITESTORE_ROLE_HELPER"

// TestHelperDefaultRole is the body of the child process of
// TestSnapshotSeesCommits: it sets tenant acme's default role to
// "from-child"; it does nothing in a normal run.
func TestHelperDefaultRole(t *testing.T) {
	path := os.Getenv(roleHelperEnv)
	if path == "" {
		t.Skip("helper process only")
	}
	s := openTB(t, path)
	if err := s.SetDefaultRole(context.Background(), "acme", "from-child"); err != nil {
		t.Fatal(err)
	}
}

// snapUser creates tenant acme and its user u1 in s.
func snapUser(t *testing.T, s *Store) {
	t.Helper()
	ctx := context.Background()
	if _, err := s.EnsureTenant(ctx, "acme", time.Unix(1, 0)); err != nil {
		t.Fatal(err)
	}
	u := &mapping.User{ID: "u1", Attrs: mapping.Attrs{"userName": "ada@example.com"}, Created: time.Unix(2, 0), LastModified: time.Unix(2, 0)}
	if err := s.CreateUser(ctx, "acme", u); err != nil {
		t.Fatal(err)
	}
}

// wantDefaultRole reads u1's user context through s (a snapshot
// connection) and checks the tenant's default role in it.
func wantDefaultRole(t *testing.T, s *Store, role, after string) {
	t.Helper()
	uc, err := s.UserContext(context.Background(), "acme", []string{"u1"}, true)
	if err != nil || len(uc.Users) != 1 {
		t.Fatalf("UserContext: %+v, %v", uc, err)
	}
	if uc.DefaultRole != role {
		t.Errorf("after %s: default role %q; want %q (a snapshot connection must see every commit)", after, uc.DefaultRole, role)
	}
}

// holdSnapshot reads through s (which notices the last commit), waits out
// snapshotQuiet and reads again, which leaves a snapshot transaction
// open, and checks that it did.
func holdSnapshot(t *testing.T, s *Store, role string) {
	t.Helper()
	wantDefaultRole(t, s, role, "the last commit")
	time.Sleep(snapshotQuiet + 10*time.Millisecond)
	wantDefaultRole(t, s, role, "a quiet time")
	if n := openSnapshots(s); n != 1 {
		t.Fatalf("%d snapshot transactions open after a read in a quiet time; want 1", n)
	}
}

// TestSnapshotSeesCommits: the hot reads, which keep a read transaction
// open between statements once nothing has been committed for a while,
// see the Store's own commits, another Store's on the same file, and
// another process's at the next read.
func TestSnapshotSeesCommits(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "state.db")
	s, other := openTB(t, path), openTB(t, path)
	if s.snaps == nil {
		t.Fatal("no snapshot connections")
	}
	snapUser(t, s)
	holdSnapshot(t, s, "")
	if err := s.SetDefaultRole(ctx, "acme", "own"); err != nil {
		t.Fatal(err)
	}
	wantDefaultRole(t, s, "own", "the Store's own write")
	holdSnapshot(t, s, "own")
	if err := other.SetDefaultRole(ctx, "acme", "other-store"); err != nil {
		t.Fatal(err)
	}
	wantDefaultRole(t, s, "other-store", "another Store's write")
	holdSnapshot(t, s, "other-store")
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperDefaultRole$", "-test.count=1")
	cmd.Env = append(os.Environ(), roleHelperEnv+"="+path)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("helper: %v\n%s", err, out)
	}
	wantDefaultRole(t, s, "from-child", "another process's write")
}

// openSnapshots counts the snapshot connections of s with a read
// transaction open (none may be in use).
func openSnapshots(s *Store) (n int) {
	for range cap(s.snaps.free) {
		sc := <-s.snaps.free
		if sc.open {
			n++
		}
		s.snaps.free <- sc
	}
	return n
}

// TestSnapshotReleased: a snapshot connection's read transaction, which
// would keep SQLite from checkpointing past it, ends at the Store's next
// commit, and within about snapshotIdle after another connection's; right
// after a commit, reads keep none open.
func TestSnapshotReleased(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "state.db")
	s, other := openTB(t, path), openTB(t, path)
	snapUser(t, s)
	holdSnapshot(t, s, "")
	if err := s.SetDefaultRole(ctx, "acme", "own"); err != nil {
		t.Fatal(err)
	}
	if n := openSnapshots(s); n != 0 {
		t.Errorf("%d snapshot transactions open after the Store's own commit; want 0", n)
	}
	wantDefaultRole(t, s, "own", "the Store's own write")
	if n := openSnapshots(s); n != 0 {
		t.Errorf("%d snapshot transactions open after a read right after a commit; want 0", n)
	}
	holdSnapshot(t, s, "own")
	if err := other.SetDefaultRole(ctx, "acme", "other"); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(3 * snapshotIdle)
	for openSnapshots(s) != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("a snapshot transaction stayed open %v after another Store's commit", 3*snapshotIdle)
		}
		time.Sleep(50 * time.Millisecond)
	}
	var busy, logFrames, done int
	if err := s.queryRow(ctx, "PRAGMA wal_checkpoint(TRUNCATE)").Scan(&busy, &logFrames, &done); err != nil || busy != 0 {
		t.Errorf("checkpoint after the snapshots were released: busy %d, %v; want 0", busy, err)
	}
}
