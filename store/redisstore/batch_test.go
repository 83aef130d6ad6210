package redisstore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/axonflow/axonflow-sync/internal/testredis"
	"github.com/axonflow/axonflow-sync/mapping"
	"github.com/axonflow/axonflow-sync/store"
)

// batchFixture opens a Store (5 s timeout) on a private redis-server with
// tenant acme holding n users, b0..b<n-1>, whose userNames are
// user<i>@example.com, and returns it with a way to send a command to the
// server on a connection of its own.
func batchFixture(t *testing.T, n int) (*Store, func(ctx context.Context, args ...any) error) {
	t.Helper()
	srv := testredis.Start(t)
	ctx := context.Background()
	s := openOn(t, srv.URL(), Options{Timeout: 5 * time.Second})
	if _, err := s.EnsureTenant(ctx, "acme", time.Now()); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		u := &mapping.User{ID: fmt.Sprintf("b%d", i), Attrs: mapping.Attrs{"userName": fmt.Sprintf("user%d@example.com", i)}, Created: time.Now()}
		if err := s.CreateUser(ctx, "acme", u); err != nil {
			t.Fatal(err)
		}
	}
	c := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	t.Cleanup(func() { c.Close() })
	return s, func(ctx context.Context, args ...any) error { return c.Do(ctx, args...).Err() }
}

// readBack reads user i by id and by userName and checks that both answers
// are user i's: a reply given to the wrong caller of a batch shows here.
func readBack(ctx context.Context, s *Store, i int) error {
	id := fmt.Sprintf("b%d", i)
	uc, _, err := s.UserDocContext(ctx, "acme", id)
	if err != nil {
		return fmt.Errorf("GET %s: %w", id, err)
	}
	if len(uc.Users) != 1 || uc.Users[0].ID != id {
		return fmt.Errorf("GET %s answered %v", id, uc.Users)
	}
	uc, err = s.LookupUserContext(ctx, "acme", store.IndexUserName, fmt.Sprintf("USER%d@example.com", i))
	if err != nil {
		return fmt.Errorf("lookup of %s: %w", id, err)
	}
	if len(uc.Users) != 1 || uc.Users[0].ID != id {
		return fmt.Errorf("lookup of %s found %v", id, uc.Users)
	}
	return nil
}

// TestBatchedReadsConcurrent: many goroutines reading different users at
// once each get their own user's answer, whatever batch their read went in.
func TestBatchedReadsConcurrent(t *testing.T) {
	const users, workers, reads = 200, 64, 40
	s, _ := batchFixture(t, users)
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range reads {
				if err := readBack(context.Background(), s, (w*reads+r*7)%users); err != nil {
					errs <- err
					return
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

// TestBatchedReadsShareRoundTrips: reads made while Redis is not answering
// (CLIENT PAUSE ALL) wait in the queue, and go in a few pipelines once it
// answers: at most two round trips per sender (the batch each had in flight,
// then one more), not one per read. Each read still gets its own user.
func TestBatchedReadsShareRoundTrips(t *testing.T) {
	const readers = 60
	s, do := batchFixture(t, readers)
	trips := &testredis.Trips{}
	s.Client().AddHook(trips)
	ctx := context.Background()
	if err := readBack(ctx, s, 0); err != nil { // the scripts are loaded, the senders started
		t.Fatal(err)
	}
	trips.Reset()
	if err := do(ctx, "client", "pause", 1500, "all"); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, readers)
	for i := range readers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id := fmt.Sprintf("b%d", i)
			uc, _, err := s.UserDocContext(ctx, "acme", id)
			switch {
			case err != nil:
				errs <- err
			case len(uc.Users) != 1 || uc.Users[0].ID != id:
				errs <- fmt.Errorf("GET %s answered %v", id, uc.Users)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	n, sent := trips.Reset()
	if n > 2*batchSenders {
		t.Errorf("%d reads made while Redis was paused took %d round trips, want at most %d: %v", readers, n, 2*batchSenders, sent)
	}
	t.Logf("%d reads, %d round trips", readers, n)
}

// TestBatchedReadCancelled: a caller whose context ends while its read is
// still queued (here no sender runs yet) gets the context's error at its
// deadline, and the read it withdrew is dropped, not sent, once senders run.
func TestBatchedReadCancelled(t *testing.T) {
	s, _ := batchFixture(t, 1)
	trips := &testredis.Trips{}
	s.Client().AddHook(trips)
	b := &s.batch
	b.mu.Lock()
	b.queue, b.quit = make(chan *batchCall, 8), make(chan struct{})
	b.ready.Store(true) // and no senders: every call stays queued
	b.mu.Unlock()

	ctx := context.Background()
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, _, err := s.UserDocContext(short, "acme", "b0")
	if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("read with a 50 ms deadline that no sender takes: %v, want ErrUnavailable and DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("the cancelled read returned after %v, not at its deadline", d)
	}
	if len(b.queue) != 1 {
		t.Fatalf("%d calls queued, want the withdrawn one", len(b.queue))
	}

	b.wg.Add(1)
	go s.sendBatches()
	trips.Reset()
	if err := readBack(ctx, s, 0); err != nil {
		t.Fatalf("read after a cancelled one: %v", err)
	}
	// Each read is one EVALSHA_RO (then EVAL_RO: the scripts were never
	// loaded); the withdrawn read would be a third.
	if _, sent := trips.Reset(); !slices.Equal(slices.DeleteFunc(sent, func(c string) bool { return c == "eval_ro" }), []string{"evalsha_ro", "evalsha_ro"}) {
		t.Errorf("a GET and a lookup after a withdrawn read sent %v, want the two reads alone", sent)
	}
}

// TestBatchedReadsAfterClose: reads after Close fail with ErrUnavailable
// instead of waiting for senders that have stopped.
func TestBatchedReadsAfterClose(t *testing.T) {
	s, _ := batchFixture(t, 1)
	ctx := context.Background()
	if err := readBack(ctx, s, 0); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { _, _, err := s.UserDocContext(ctx, "acme", "b0"); done <- err }()
	select {
	case err := <-done:
		if !errors.Is(err, store.ErrUnavailable) {
			t.Fatalf("read after Close: %v, want ErrUnavailable", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a read after Close is still waiting after 5 s")
	}
}
