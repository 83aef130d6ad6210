// Package auththrottle limits failed authentications per client address:
// a token bucket per address, in process memory, shared by the SCIM API
// (scimserver) and the admin API (internal/admin).
//
// Only failures are charged, and a caller asks the throttle only about a
// request that has already failed to authenticate: a well-formed
// credential is checked first (one hash and one index read), so a valid
// credential is never refused, whoever else fails from the same address
// (behind a proxy or load balancer every client has the proxy's address).
// A throttled failure is answered 429 with Retry-After instead of 401.
package auththrottle

import (
	"net"
	"net/http"
	gosync "sync"
	"time"
)

// Defaults of a Throttle.
const (
	DefaultBurst  = 20              // failures an address may make at once
	DefaultRefill = 3 * time.Second // one more failure allowed per interval
	// MaxAddresses bounds the buckets kept; beyond it, full buckets are
	// swept, and if none is full the new address shares no bucket (it is
	// admitted: memory stays bounded, throttling degrades, never refuses
	// more).
	MaxAddresses = 100_000
)

// Throttle is a per-address token bucket of authentication failures. The
// zero value is not usable; create one with New. Safe for concurrent use.
type Throttle struct {
	burst  float64
	refill time.Duration

	mu    gosync.Mutex
	addrs map[string]*bucket
}

type bucket struct {
	tokens float64
	at     time.Time
}

// New returns a Throttle admitting burst failures at once per address and
// one more every refill (a non-positive value takes its default).
func New(burst int, refill time.Duration) *Throttle {
	if burst <= 0 {
		burst = DefaultBurst
	}
	if refill <= 0 {
		refill = DefaultRefill
	}
	return &Throttle{burst: float64(burst), refill: refill, addrs: map[string]*bucket{}}
}

// level refills b up to now (mu held).
func (t *Throttle) level(b *bucket, now time.Time) {
	if el := now.Sub(b.at); el > 0 {
		b.tokens = min(t.burst, b.tokens+float64(el)/float64(t.refill))
		b.at = now
	}
}

// Fail charges one authentication failure from addr at now. It returns 0
// when the failure is within the address's budget (answer it 401), or
// how long the address must wait before its next failure is admitted
// (answer it 429 with Retry-After; the failure is then not charged, so an
// address failing without pause is admitted once per refill interval).
func (t *Throttle) Fail(addr string, now time.Time) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	b := t.addrs[addr]
	if b == nil {
		if len(t.addrs) >= MaxAddresses {
			t.sweep(now)
			if len(t.addrs) >= MaxAddresses {
				return 0
			}
		}
		b = &bucket{tokens: t.burst, at: now}
		t.addrs[addr] = b
	}
	t.level(b, now)
	if b.tokens < 1 {
		return time.Duration((1 - b.tokens) * float64(t.refill))
	}
	b.tokens--
	return 0
}

// sweep drops full buckets (mu held).
func (t *Throttle) sweep(now time.Time) {
	for a, b := range t.addrs {
		t.level(b, now)
		if b.tokens >= t.burst {
			delete(t.addrs, a)
		}
	}
}

// RetryAfterSeconds is the Retry-After value (whole seconds, at least 1)
// for a wait returned by Fail.
func RetryAfterSeconds(wait time.Duration) int {
	return int(wait/time.Second) + 1
}

// ClientAddr is the client's IP address (without port) from RemoteAddr.
// Forwarded headers are not used: behind a proxy every client shares the
// proxy's address, which is why only failures are charged.
func ClientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
