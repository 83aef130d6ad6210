package redisstore

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/axonflow/axonflow-sync/store"
)

// The token cache (see "Token cache" in the package doc): its bounds.
const (
	tokenPingInterval = 250 * time.Millisecond
	tokenLease        = time.Second
	tokenMaxAge       = 10 * time.Second
	tokenCacheMax     = 10000
	// tokenFlushAll is the message that empties every replica's cache.
	tokenFlushAll = "*"
	// tokenSubMaxBackoff bounds the wait between failed subscription attempts.
	tokenSubMaxBackoff = time.Second
)

// tokenChannel is the pub/sub channel of token invalidations.
func (s *Store) tokenChannel() string { return s.prefix + "tokens:invalidate" }

// tokenCache is the cache of token records by hash; see above.
type tokenCache struct {
	mu      sync.RWMutex
	entries map[string]tokenEntry
	// epoch changes with every invalidation and reset: a read that began in
	// another epoch is not stored.
	epoch uint64
	// trustedUntil: the cache may answer before this time (zero: never).
	trustedUntil time.Time
}

type tokenEntry struct {
	tok store.Token
	at  time.Time // when the read that produced it began
}

func newTokenCache() *tokenCache {
	return &tokenCache{entries: make(map[string]tokenEntry)}
}

// get returns the cached token of hash if the cache is trusted at now and
// the entry is younger than tokenMaxAge.
func (c *tokenCache) get(hash string, now time.Time) (store.Token, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if !now.Before(c.trustedUntil) {
		return store.Token{}, false
	}
	e, ok := c.entries[hash]
	if !ok || now.Sub(e.at) >= tokenMaxAge {
		return store.Token{}, false
	}
	return e.tok, true
}

// begin starts a read from Redis at now: it returns the epoch to hand to put
// and whether the result may be cached at all.
func (c *tokenCache) begin(now time.Time) (uint64, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.epoch, now.Before(c.trustedUntil)
}

// put stores tok (read from Redis by a read that began at at in epoch) if
// no invalidation or reset happened since and the cache is still trusted.
func (c *tokenCache) put(hash string, tok store.Token, epoch uint64, at time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.epoch != epoch || !time.Now().Before(c.trustedUntil) {
		return
	}
	if _, ok := c.entries[hash]; !ok && len(c.entries) >= tokenCacheMax {
		for h, e := range c.entries { // drop the aged entries, else any one
			if at.Sub(e.at) >= tokenMaxAge {
				delete(c.entries, h)
			}
		}
		for h := range c.entries {
			if len(c.entries) < tokenCacheMax {
				break
			}
			delete(c.entries, h)
		}
	}
	c.entries[hash] = tokenEntry{tok: tok, at: at}
}

// invalidate drops the entry of hash, or every entry for tokenFlushAll.
func (c *tokenCache) invalidate(hash string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.epoch++
	if hash == tokenFlushAll {
		clear(c.entries)
		return
	}
	delete(c.entries, hash)
}

// reset empties the cache and distrusts it until the next renew: the
// subscription was lost or (re)established, so messages may have been
// missed.
func (c *tokenCache) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.epoch++
	clear(c.entries)
	c.trustedUntil = time.Time{}
}

// renew trusts the cache until until (a pong proved the subscription live).
func (c *tokenCache) renew(until time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if until.After(c.trustedUntil) {
		c.trustedUntil = until
	}
}

// tokenSub is the state of a Store's subscriber goroutine.
type tokenSub struct {
	running atomic.Bool // set once started: TokenByHash's lock-free check
	mu      sync.Mutex
	started bool
	closed  bool
	cancel  context.CancelFunc
	ps      *redis.PubSub // the current subscription, closed by stop
	done    chan struct{}
}

// startTokenSub starts the subscriber goroutine once (not after Close).
func (s *Store) startTokenSub() {
	sub := &s.sub
	if sub.running.Load() {
		return
	}
	sub.mu.Lock()
	defer sub.mu.Unlock()
	if sub.started || sub.closed {
		return
	}
	sub.started = true
	sub.running.Store(true)
	ctx, cancel := context.WithCancel(context.Background())
	sub.cancel, sub.done = cancel, make(chan struct{})
	go s.runTokenSub(ctx, sub.done)
}

// stopTokenSub stops the subscriber goroutine and waits for it; later
// TokenByHash calls read Redis (and fail, the client being closed).
func (s *Store) stopTokenSub() {
	sub := &s.sub
	sub.mu.Lock()
	sub.closed = true
	started, done := sub.started, sub.done
	if started {
		sub.cancel()
		if sub.ps != nil {
			sub.ps.Close() // unblocks a pending receive
		}
	}
	sub.mu.Unlock()
	if started {
		<-done
	}
	if s.tc != nil {
		s.tc.reset()
	}
}

// setPS records the current subscription so that stopTokenSub can close
// it; false if the Store is closing (the caller then closes ps itself).
func (s *Store) setPS(ps *redis.PubSub) bool {
	s.sub.mu.Lock()
	defer s.sub.mu.Unlock()
	if s.sub.closed && ps != nil {
		return false
	}
	s.sub.ps = ps
	return true
}

// runTokenSub keeps a subscription to the token channel until ctx ends,
// resubscribing after a failure with a backoff that doubles from
// tokenPingInterval up to tokenSubMaxBackoff (reset by a confirmed
// subscription).
func (s *Store) runTokenSub(ctx context.Context, done chan struct{}) {
	defer close(done)
	backoff := tokenPingInterval
	for ctx.Err() == nil {
		confirmed := s.subscribeTokens(ctx)
		s.tc.reset()
		if confirmed {
			backoff = tokenPingInterval
		} else {
			backoff = min(2*backoff, tokenSubMaxBackoff)
		}
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// subscribeTokens runs one subscription until it fails or ctx ends and
// reports whether it was ever confirmed. It applies invalidations, resets
// the cache on every subscription confirmation, and renews the cache's
// trust with every pong.
func (s *Store) subscribeTokens(ctx context.Context) (confirmed bool) {
	channel := s.tokenChannel()
	ps := s.c.Subscribe(ctx, channel)
	if !s.setPS(ps) {
		ps.Close()
		return false
	}
	defer func() {
		s.setPS(nil)
		ps.Close()
	}()
	start := time.Now()
	var pingAt time.Time // when the outstanding ping was sent (zero: none)
	var lastPing time.Time
	for ctx.Err() == nil {
		now := time.Now()
		if confirmed && pingAt.IsZero() && now.Sub(lastPing) >= tokenPingInterval {
			if err := ps.Ping(ctx); err != nil {
				return confirmed
			}
			pingAt, lastPing = now, now
		}
		msg, err := ps.ReceiveTimeout(ctx, tokenPingInterval)
		if err != nil {
			var ne net.Error
			if !errors.As(err, &ne) || !ne.Timeout() {
				if s.warn != nil && strings.Contains(err.Error(), "NOPERM") && s.warned != err.Error() {
					s.warned = err.Error()
					s.warn(fmt.Errorf("token cache off: the Redis user may not SUBSCRIBE to %s (grant it: ACL SETUSER <user> &%s); every request reads its token from Redis, and this user cannot revoke or re-expire tokens: %w", channel, channel, err))
				}
				return confirmed
			}
			now = time.Now()
			if (!pingAt.IsZero() && now.Sub(pingAt) >= tokenLease) || (!confirmed && now.Sub(start) >= s.timeout) {
				return confirmed // the connection answers nothing
			}
			continue
		}
		switch m := msg.(type) {
		case *redis.Subscription:
			if m.Kind == "subscribe" && m.Channel == channel {
				// (Re)subscribed: what was published before is lost.
				s.tc.reset()
				confirmed, pingAt, lastPing = true, time.Time{}, time.Time{}
			}
		case *redis.Pong:
			if !pingAt.IsZero() {
				s.tc.renew(pingAt.Add(tokenLease))
				pingAt = time.Time{}
			}
		case *redis.Message:
			if m.Channel == channel {
				s.tc.invalidate(m.Payload)
			}
		}
	}
	return confirmed
}

// publishTokenChange tells every replica's cache that the token of hash
// changed, beyond the PUBLISH the changing script made: on a Cluster the
// script's node relays the message over the cluster bus, so it is also
// published on the node the subscriptions live on (the master of the
// channel's slot), where it is ordered with the subscribers' pings. The
// local cache forgets the token at once. A failure of that extra PUBLISH
// is ignored: the bus still delivers the script's.
func (s *Store) publishTokenChange(ctx context.Context, hash string) {
	if s.tc != nil {
		s.tc.invalidate(hash)
	}
	if cc, ok := s.c.(*redis.ClusterClient); ok {
		if node, err := cc.MasterForKey(ctx, s.tokenChannel()); err == nil {
			_ = node.Publish(ctx, s.tokenChannel(), hash).Err()
		}
	}
}

// InvalidateTokens empties the token cache of every Store sharing this
// Redis (and KeyPrefix), e.g. after token records were changed or deleted
// outside this package. One round trip (PUBLISH "*"). Errors wrap
// store.ErrUnavailable; even then every replica stops trusting its cache
// within a second of losing its subscription.
func (s *Store) InvalidateTokens(ctx context.Context) error {
	if s.tc != nil {
		s.tc.invalidate(tokenFlushAll)
	}
	ctx, cancel := s.op(ctx)
	defer cancel()
	return wrap(s.c.Publish(ctx, s.tokenChannel(), tokenFlushAll).Err())
}
