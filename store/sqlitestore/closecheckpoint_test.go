package sqlitestore

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/axonflow/axonflow-sync/mapping"
	"github.com/axonflow/axonflow-sync/store"
)

// TestCloseDuringTokenReads: requests still in flight while the Store is
// closed (a shutdown that does not drain every caller) must get errors,
// not fault on the unmapped WAL-index (it did: SIGSEGV in walIndex.header).
// It runs in a child process, so a fault fails the test instead of the
// package.
func TestCloseDuringTokenReads(t *testing.T) {
	if os.Getenv("AXONFLOW_SQLITESTORE_TEST_CHILD") == "" {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCloseDuringTokenReads$", "-test.count=1")
		cmd.Env = append(os.Environ(), "AXONFLOW_SQLITESTORE_TEST_CHILD=1")
		out, err := cmd.CombinedOutput()
		if err != nil {
			n := len(out)
			if n > 1500 {
				out = out[:1500]
			}
			t.Fatalf("child died: %v (%d bytes of output)\n%s", err, n, out)
		}
		return
	}
	for round := range 30 {
		path := filepath.Join(t.TempDir(), fmt.Sprintf("state%d.db", round))
		s, err := Open(context.Background(), path, nopLog())
		if err != nil {
			t.Fatal(err)
		}
		cachedToken(t, s)
		snapUser(t, s)
		var wg sync.WaitGroup
		stop := make(chan struct{})
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					select {
					case <-stop:
						return
					default:
					}
					_, _ = s.TokenByHash(context.Background(), "h1")
				}
			}()
		}
		time.Sleep(20 * time.Millisecond)
		s.Close()
		time.Sleep(5 * time.Millisecond)
		close(stop)
		wg.Wait()
	}
}

// TestHotReadAfterCloseUnavailable: "Calls after Close fail with an error
// wrapping store.ErrUnavailable" - the hot reads (GET's user context, the
// lookup) must not block, and must honour the caller's deadline.
func TestHotReadAfterCloseUnavailable(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	s, err := Open(context.Background(), path, nopLog())
	if err != nil {
		t.Fatal(err)
	}
	snapUser(t, s)
	s.Close()
	done := make(chan error, 2)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		defer cancel()
		_, err := s.UserContext(ctx, "acme", []string{"u1"}, true)
		done <- err
	}()
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		defer cancel()
		_, err := s.LookupUserContext(ctx, "acme", store.IndexUserName, "ada@example.com")
		done <- err
	}()
	for range 2 {
		select {
		case err := <-done:
			if !errors.Is(err, store.ErrUnavailable) {
				t.Errorf("hot read after Close: %v; want ErrUnavailable", err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("hot read after Close still blocked after 5 s (caller deadline 500 ms)")
		}
	}
}

// TestTwoStoresOneClosedSeesOtherProcess: two Stores of one process
// on one file, one closed; another process then writes (and closes, as
// `token revoke` does). The remaining Store must see it, and its token
// cache must not serve the revoked token.
func TestTwoStoresOneClosedSeesOtherProcess(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	a := openTB(t, path)
	b, err := Open(context.Background(), path, nopLog())
	if err != nil {
		t.Fatal(err)
	}
	cachedToken(t, a)
	if _, err := b.TokenByHash(context.Background(), "h1"); err != nil {
		t.Fatal(err)
	}
	b.Close()
	// a's first-ever mapping must still be the live -shm file.
	before, _, _ := walFileInfo(path + "-shm")
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperRevoke$", "-test.count=1")
	cmd.Env = append(os.Environ(), revokeHelperEnv+"="+path)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("helper: %v\n%s", err, out)
	}
	after, _, _ := walFileInfo(path + "-shm")
	if before != after {
		t.Errorf("-shm file replaced while a Store had it open: %v -> %v", before, after)
	}
	wantRevoked(t, a, "another process after a second Store closed")
}

// TestCheckpointTruncateFromOtherStore: another Store truncates the WAL
// (wal_checkpoint(TRUNCATE)) between reads held on a snapshot, and then
// commits; the held reader and the token cache see every commit.
func TestCheckpointTruncateFromOtherStore(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "state.db")
	s, other := openTB(t, path), openTB(t, path)
	snapUser(t, s)
	cachedToken(t, s)
	for i := range 5 {
		holdSnapshot(t, s, roleName(i-1))
		// Wait for the release so that the checkpoint can complete.
		deadline := time.Now().Add(3 * time.Second)
		var busy, lf, ck int
		for {
			if _, err := other.w.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
				t.Fatal(err)
			}
			if err := other.w.QueryRowContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)").Scan(&busy, &lf, &ck); err != nil {
				t.Fatal(err)
			}
			if busy == 0 || time.Now().After(deadline) {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		if err := other.SetDefaultRole(ctx, "acme", roleName(i)); err != nil {
			t.Fatal(err)
		}
		wantDefaultRole(t, s, roleName(i), fmt.Sprintf("truncate %d (busy %d) then another Store's write", i, busy))
	}
	if err := other.RevokeToken(ctx, "acme", "t1", time.Unix(100, 0)); err != nil {
		t.Fatal(err)
	}
	wantRevoked(t, s, "other after truncates")
}

func roleName(i int) string {
	if i < 0 {
		return ""
	}
	return fmt.Sprintf("r%d", i)
}

// TestReadYourWritesConcurrent: many goroutines each update their own
// user and GET it back at once through the same Store; every GET sees the
// write just made, including while snapshots are being held by others.
func TestReadYourWritesConcurrent(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "state.db")
	s := openTB(t, path)
	other := openTB(t, path)
	if _, err := s.EnsureTenant(ctx, "acme", time.Unix(1, 0)); err != nil {
		t.Fatal(err)
	}
	const n = 6
	for i := range n {
		u := &mapping.User{ID: fmt.Sprintf("u%d", i), Attrs: mapping.Attrs{"userName": fmt.Sprintf("n%d@x", i)}, Created: time.Unix(2, 0), LastModified: time.Unix(2, 0)}
		if err := s.CreateUser(ctx, "acme", u); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for g := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st := s
			if g%2 == 1 {
				st = other
			}
			id := fmt.Sprintf("u%d", g)
			for k := range 60 {
				name := fmt.Sprintf("n%d-%d@x", g, k)
				u := &mapping.User{ID: id, Attrs: mapping.Attrs{"userName": name, "displayName": name}, LastModified: time.Unix(3, 0)}
				if err := st.UpdateUser(ctx, "acme", u, 0); err != nil {
					errs <- err
					return
				}
				// read on both stores: own (at once) and other (within 1 s; at once in practice)
				uc, err := s.LookupUserContext(ctx, "acme", store.IndexUserName, name)
				if err != nil || len(uc.Users) != 1 || uc.Users[0].ID != id {
					errs <- fmt.Errorf("g%d k%d: lookup of own new name: %+v %v", g, k, uc, err)
					return
				}
				uc, err = s.UserContext(ctx, "acme", []string{id}, true)
				if err != nil || len(uc.Users) != 1 || uc.Users[0].UserName() != name {
					errs <- fmt.Errorf("g%d k%d: GET after write: %+v %v", g, k, uc, err)
					return
				}
				if k%15 == 0 {
					time.Sleep(snapshotQuiet + 5*time.Millisecond)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func nopLog() zerolog.Logger { return zerolog.Nop() }

// TestIdleSnapshotAllowsCheckpoint: README (Storage) says a held
// snapshot holds back a WAL checkpoint no longer than about 1 s. With no
// commit at all after the read, the transaction is still current, yet it
// must end within snapshotIdle, so another process's
// wal_checkpoint(TRUNCATE) completes (it was busy for as long as nothing
// was committed).
func TestIdleSnapshotAllowsCheckpoint(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "state.db")
	s, other := openTB(t, path), openTB(t, path)
	snapUser(t, s)
	holdSnapshot(t, s, "")
	time.Sleep(3 * snapshotIdle)
	var busy, lf, ck int
	if err := other.w.QueryRowContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)").Scan(&busy, &lf, &ck); err != nil {
		t.Fatal(err)
	}
	if busy != 0 {
		t.Errorf("wal_checkpoint(TRUNCATE) %v after the last read (and %v busy wait): busy=%d log=%d checkpointed=%d; open snapshot transactions %d",
			3*snapshotIdle, BusyTimeout, busy, lf, ck, openSnapshots(s))
	}
}
