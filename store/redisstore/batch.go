package redisstore

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/redis/go-redis/v9"
)

// Read batching. The read-only script calls of concurrent requests
// (EVALSHA_RO: UserContext and LookupUserContext, so every SCIM GET by id
// and every userName or externalId lookup) are sent to Redis together: a
// call is queued, and each of batchSenders sender goroutines takes whatever
// is queued (up to batchMax calls) and sends it as one pipeline. N requests
// waiting at once then cost one write and one read system call on each
// side, not N each; a call alone is sent alone (one round trip, as before,
// plus a hand-off between two goroutines). Writes are never batched: each
// keeps its own round trip, deadline and error.
//
// A batch runs under a deadline of its own (Options.Timeout from when it is
// sent). A caller whose context ends while its call is still queued
// withdraws it and returns at once; one whose call is already being sent
// waits for that batch, which its deadline bounds.
const (
	// batchSenders is the number of batches in flight at once.
	batchSenders = 4
	// batchMax is the largest batch (calls per pipeline).
	batchMax = 128
)

// The states of a batchCall.
const (
	callQueued    int32 = iota // in the queue: the caller may still withdraw it
	callTaken                  // a sender (or Close) owns it and will signal done
	callWithdrawn              // its caller has gone: senders drop it
)

// batchCall is one queued read: its command, its state, and where its
// sender signals that cmd has its reply (buffered, one signal).
type batchCall struct {
	cmd   *redis.Cmd
	state atomic.Int32
	done  chan struct{}
}

// batcher is the queue of read calls and its senders, started on first use.
type batcher struct {
	ready  atomic.Bool // queue and quit are made (under mu, once)
	mu     sync.Mutex
	closed bool
	queue  chan *batchCall
	quit   chan struct{} // closed by Close
	wg     sync.WaitGroup
	pool   sync.Pool // *batchCall no sender holds
}

// channels returns the queue and the quit channel, starting the senders on
// the first call (unless the Store is closed: then quit is closed already).
func (s *Store) channels() (chan *batchCall, chan struct{}) {
	b := &s.batch
	if b.ready.Load() {
		return b.queue, b.quit
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.queue == nil {
		b.queue = make(chan *batchCall, batchMax*batchSenders)
		b.quit = make(chan struct{})
		if b.closed {
			close(b.quit)
		} else {
			for range batchSenders {
				b.wg.Add(1)
				go s.sendBatches()
			}
		}
		b.ready.Store(true)
	}
	return b.queue, b.quit
}

// batchedProcess sends cmd, a read-only script call, in a batch and returns
// the command holding its reply: cmd itself, or, when ctx ended first, a
// command holding ctx's error (cmd may still be sent; nobody reads it).
// After Close the error is redis.ErrClosed.
func (s *Store) batchedProcess(ctx context.Context, cmd *redis.Cmd) *redis.Cmd {
	queue, quit := s.channels()
	b := &s.batch
	bc, _ := b.pool.Get().(*batchCall)
	if bc == nil {
		bc = &batchCall{done: make(chan struct{}, 1)}
	}
	bc.cmd = cmd
	bc.state.Store(callQueued)
	failed := func(err error) *redis.Cmd {
		c := redis.NewCmd(ctx)
		c.SetErr(err)
		return c
	}
	select {
	case queue <- bc:
	case <-ctx.Done():
		b.pool.Put(bc)
		return failed(context.Cause(ctx))
	case <-quit:
		b.pool.Put(bc)
		return failed(redis.ErrClosed)
	}
	select {
	case <-bc.done:
		bc.cmd = nil
		b.pool.Put(bc)
		return cmd
	case <-ctx.Done():
		if bc.state.CompareAndSwap(callQueued, callWithdrawn) {
			return failed(context.Cause(ctx)) // bc stays in the queue: not reused
		}
	case <-quit:
		if bc.state.CompareAndSwap(callQueued, callWithdrawn) {
			return failed(redis.ErrClosed)
		}
	}
	<-bc.done // taken: its batch ends by its own deadline
	bc.cmd = nil
	b.pool.Put(bc)
	return cmd
}

// stopBatcher stops the senders (each after its batch in flight), waits for
// them, and fails the calls still queued with redis.ErrClosed.
func (s *Store) stopBatcher() {
	b := &s.batch
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return
	}
	b.closed = true
	if b.queue == nil {
		b.mu.Unlock()
		return
	}
	close(b.quit)
	b.mu.Unlock()
	b.wg.Wait()
	for {
		select {
		case bc := <-b.queue:
			if bc.state.CompareAndSwap(callQueued, callTaken) {
				bc.cmd.SetErr(redis.ErrClosed)
				bc.done <- struct{}{}
			}
		default:
			return
		}
	}
}

// sendBatches is a sender: it waits for a call, takes every call queued
// behind it (up to batchMax), and sends them as one pipeline (a call alone
// as one command), until Close.
func (s *Store) sendBatches() {
	b := &s.batch
	defer b.wg.Done()
	calls := make([]*batchCall, 0, batchMax)
	take := func(bc *batchCall) {
		if bc.state.CompareAndSwap(callQueued, callTaken) {
			calls = append(calls, bc)
		}
	}
	for {
		calls = calls[:0]
		select {
		case bc := <-b.queue:
			take(bc)
		case <-b.quit:
			return
		}
	fill:
		for len(calls) < batchMax {
			select {
			case bc := <-b.queue:
				take(bc)
			default:
				break fill
			}
		}
		if len(calls) == 0 {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), s.timeout)
		if len(calls) == 1 {
			_ = s.c.Process(ctx, calls[0].cmd)
		} else {
			pipe := s.c.Pipeline()
			for _, bc := range calls {
				_ = pipe.Process(ctx, bc.cmd)
			}
			_, _ = pipe.Exec(ctx)
		}
		cancel()
		for _, bc := range calls {
			bc.done <- struct{}{}
		}
		clear(calls)
	}
}
