package oktatest

import (
	"sync"
	"time"
)

const unlimited = 1 << 30

// bucket is a fixed-window rate limit: limit requests per window, windows
// aligned to multiples of window (so X-Rate-Limit-Reset is exact in seconds).
type bucket struct {
	name   string
	limit  int
	window time.Duration

	mu    sync.Mutex
	start time.Time
	used  int
	peak  int
}

type bucketState struct {
	ok        bool
	limit     int
	remaining int
	reset     time.Time
}

func (b *bucket) roll(now time.Time) {
	if b.start.IsZero() || !now.Before(b.start.Add(b.window)) {
		b.start = now.Truncate(b.window)
		b.used = 0
	}
}

func (b *bucket) state() bucketState {
	rem := b.limit - b.used
	if rem < 0 {
		rem = 0
	}
	return bucketState{ok: true, limit: b.limit, remaining: rem, reset: b.start.Add(b.window)}
}

// take counts one request. When the window is exhausted it returns ok=false;
// with restart the window then starts afresh (the 429's reset lies in the past).
func (b *bucket) take(now time.Time, restart bool) bucketState {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.roll(now)
	if b.used >= b.limit {
		st := b.state()
		st.ok = false
		if restart {
			b.start = now
			b.used = 0
		}
		return st
	}
	b.used++
	if b.used > b.peak {
		b.peak = b.used
	}
	return b.state()
}

// peek reports the bucket without counting a request.
func (b *bucket) peek(now time.Time) bucketState {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.roll(now)
	return b.state()
}
