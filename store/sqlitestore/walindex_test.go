package sqlitestore

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

const touchHelperEnv = "SQLITESTORE_TOUCH_HELPER"

// TestHelperTouch is the body of the child process of
// TestWALIndexHeader: it commits one change; it does nothing in a normal
// run.
func TestHelperTouch(t *testing.T) {
	path := os.Getenv(touchHelperEnv)
	if path == "" {
		t.Skip("helper process only")
	}
	s := openTB(t, path)
	if _, err := s.EnsureTenant(context.Background(), "from-child", time.Unix(1, 0)); err != nil {
		t.Fatal(err)
	}
}

// header reads s's WAL-index header, failing the test when it cannot.
func header(t *testing.T, s *Store) walHeader {
	t.Helper()
	h, ok := s.wal.header()
	if !ok {
		t.Fatal("WAL-index header not readable")
	}
	return h
}

// TestWALIndexHeader: the header stays the same across reads and changes
// with every commit: the Store's own, another Store's on the same file,
// another process's, and one after a checkpoint that truncated the WAL
// (the WAL restarts from frame 1, so its frame count alone would repeat).
func TestWALIndexHeader(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "state.db")
	s, other := openTB(t, path), openTB(t, path)
	if s.wal != other.wal {
		t.Fatal("two Stores on one file map its WAL-index twice; want one shared mapping")
	}
	h := header(t, s)
	if _, err := s.ListTenants(ctx); err != nil {
		t.Fatal(err)
	}
	if h2 := header(t, s); h2 != h {
		t.Fatalf("a read changed the header: %v -> %v", h, h2)
	}
	steps := []struct {
		name   string
		commit func() error
	}{
		{"own write", func() error { _, err := s.EnsureTenant(ctx, "a", time.Unix(1, 0)); return err }},
		{"other Store's write", func() error { _, err := other.EnsureTenant(ctx, "b", time.Unix(1, 0)); return err }},
		{"other process's write", func() error {
			cmd := exec.Command(os.Args[0], "-test.run=^TestHelperTouch$", "-test.count=1")
			cmd.Env = append(os.Environ(), touchHelperEnv+"="+path)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Logf("helper output:\n%s", out)
				return err
			}
			return nil
		}},
		{"checkpoint (no data change)", nil},
		{"write after the WAL was truncated", func() error { _, err := s.EnsureTenant(ctx, "c", time.Unix(1, 0)); return err }},
	}
	for _, st := range steps {
		if st.commit == nil {
			if _, err := s.exec(ctx, "PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
				t.Fatal(err)
			}
			h = header(t, s)
			continue
		}
		if err := st.commit(); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		h2 := header(t, s)
		if h2 == h {
			t.Errorf("%s: WAL-index header unchanged (%v); every commit must change it", st.name, h)
		}
		h = h2
	}
	if ts, err := s.ListTenants(ctx); err != nil || len(ts) != 4 {
		t.Fatalf("tenants = %v, %v; want a, b, c and from-child", ts, err)
	}
}

// TestWALIndexSharedClose: closing one of two Stores on a file keeps the
// shared mapping (and its descriptor, whose close would drop the other
// Store's SQLite locks) until the second closes; the second's token cache
// still sees commits.
func TestWALIndexSharedClose(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	a, err := Open(context.Background(), path, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	b := openTB(t, path)
	w := b.wal
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	walIndexes.mu.Lock()
	refs, registered := w.refs, walIndexes.m[w.key] == w
	walIndexes.mu.Unlock()
	if refs != 1 || !registered || w.mem == nil {
		t.Fatalf("after closing one of two Stores: refs %d, registered %v, mapped %v; want 1, true, true", refs, registered, w.mem != nil)
	}
	cachedToken(t, b)
	c := openTB(t, path)
	if err := c.RevokeToken(context.Background(), "acme", "t1", time.Unix(100, 0)); err != nil {
		t.Fatal(err)
	}
	wantRevoked(t, b, "a Store opened after another closed")
	c.Close()
	b.Close()
	walIndexes.mu.Lock()
	_, still := walIndexes.m[w.key]
	walIndexes.mu.Unlock()
	if still || w.mem != nil {
		t.Fatal("the mapping outlived the last Store of its file")
	}
}
