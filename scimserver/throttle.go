package scimserver

import (
	"net"
	"net/http"
	"strings"
	gosync "sync"
	"time"

	"github.com/axonflow/axonflow-sync/store"
)

// Defaults of the authentication-failure throttle.
const (
	DefaultAuthFailBurst  = 20              // failures a client address may make at once
	DefaultAuthFailRefill = 3 * time.Second // one more failure allowed per interval
	goodTokenMemory       = 10 * time.Minute
	maxThrottleEntries    = 100_000
)

// authThrottle limits repeated authentication failures per client address
// (a token bucket per address, in process memory). A throttled address gets
// 429 with Retry-After before its token is even looked up, so a brute-force
// loop costs the store nothing — except for a token that authenticated
// successfully in the last 10 minutes: that one is still looked up (and so
// still fails at once if it was revoked or expired meanwhile), so a valid
// client behind the same address is never slowed.
type authThrottle struct {
	burst  float64
	refill time.Duration

	mu    gosync.Mutex
	addrs map[string]*bucket
	good  map[string]time.Time // token hash → last successful authentication
}

type bucket struct {
	tokens float64
	at     time.Time
}

func newAuthThrottle(burst int, refill time.Duration) *authThrottle {
	if burst <= 0 {
		burst = DefaultAuthFailBurst
	}
	if refill <= 0 {
		refill = DefaultAuthFailRefill
	}
	return &authThrottle{burst: float64(burst), refill: refill, addrs: map[string]*bucket{}, good: map[string]time.Time{}}
}

// level refills b up to now (call with mu held).
func (t *authThrottle) level(b *bucket, now time.Time) {
	if el := now.Sub(b.at); el > 0 {
		b.tokens = min(t.burst, b.tokens+float64(el)/float64(t.refill))
		b.at = now
	}
}

// retryAfter returns how long addr must wait before a failing request is
// admitted again (0: admitted), unless hash authenticated recently.
func (t *authThrottle) retryAfter(addr, hash string, now time.Time) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	b := t.addrs[addr]
	if b == nil {
		return 0
	}
	t.level(b, now)
	if b.tokens >= 1 {
		return 0
	}
	if at, ok := t.good[hash]; ok && now.Sub(at) < goodTokenMemory {
		return 0
	}
	return time.Duration((1 - b.tokens) * float64(t.refill))
}

// failed records an authentication failure from addr.
func (t *authThrottle) failed(addr string, now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	b := t.addrs[addr]
	if b == nil {
		if len(t.addrs) >= maxThrottleEntries {
			t.sweep(now)
		}
		b = &bucket{tokens: t.burst, at: now}
		t.addrs[addr] = b
	}
	t.level(b, now)
	b.tokens = max(0, b.tokens-1)
}

// succeeded remembers that the token with this hash authenticated.
func (t *authThrottle) succeeded(hash string, now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, ok := t.good[hash]; !ok && len(t.good) >= maxThrottleEntries {
		t.sweep(now)
	}
	t.good[hash] = now
}

// sweep drops full buckets and stale good-token entries (mu held).
func (t *authThrottle) sweep(now time.Time) {
	for a, b := range t.addrs {
		t.level(b, now)
		if b.tokens >= t.burst {
			delete(t.addrs, a)
		}
	}
	for h, at := range t.good {
		if now.Sub(at) >= goodTokenMemory {
			delete(t.good, h)
		}
	}
}

// clientAddr is the client's IP address (without port) from RemoteAddr.
// Forwarded headers are not trusted: behind a proxy all clients share the
// proxy's address, and valid tokens still pass (see authThrottle).
func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// credentialHash is the hash of the presented bearer credential ("" when
// there is none), used only to recognise recently valid tokens.
func credentialHash(r *http.Request) string {
	_, cred, ok := strings.Cut(strings.TrimSpace(r.Header.Get("Authorization")), " ")
	if !ok {
		return ""
	}
	return store.HashToken(strings.TrimSpace(cred))
}
