package sqlitestore

import (
	"sync"

	"github.com/axonflow/axonflow-sync/store"
)

// tokenCacheMax bounds the token cache: when a new token would exceed it,
// the cache starts over.
const tokenCacheMax = 10000

// tokenCache holds the token records TokenByHash found (see walCache): a
// token revoked, expired or deleted by another process (`axonflow-sync
// token revoke`) is refused by the next request, with no delay and no
// message to lose.
type tokenCache = walCache[string, store.Token]

func newTokenCache(wal *walIndex) *tokenCache {
	return newWALCache[string, store.Token](wal, tokenCacheMax)
}

// walCache holds values read from the database, valid as long as nothing
// has been committed to the database file since they were read, by any
// connection of any process: every commit rewrites the header of the
// file's WAL-index (see walIndex), this Store's writer's and every other
// process's alike, and an entry is used only while the header is the one
// it was read under. A lookup therefore costs a comparison of the header
// while nothing is committed, and any commit empties the cache. When the
// header cannot be read (no mapping, or a commit is rewriting it) the cache
// is bypassed. At most max entries are kept: one more starts it over.
type walCache[K comparable, V any] struct {
	wal *walIndex
	max int

	mu sync.Mutex
	// ver is the header every entry was read under.
	ver     walHeader
	entries map[K]V
}

func newWALCache[K comparable, V any](wal *walIndex, max int) *walCache[K, V] {
	return &walCache[K, V]{wal: wal, max: max, entries: make(map[K]V)}
}

// get returns the cached value of k if nothing was committed since it was
// read. Otherwise ver is the header read before the lookup (the one a
// value read next will be put under) and cacheable whether it could be
// read.
func (c *walCache[K, V]) get(k K) (v V, hit bool, ver walHeader, cacheable bool) {
	ver, cacheable = c.wal.header()
	if !cacheable {
		return v, false, ver, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ver == ver {
		v, hit = c.entries[k]
	}
	return v, hit, ver, true
}

// current reports whether the header is still ver: nothing was committed
// since it was read.
func (c *walCache[K, V]) current(ver walHeader) bool {
	now, ok := c.wal.header()
	return ok && now == ver
}

// put stores v, read after header ver was read, if the header is still
// ver (so v is the database's state at ver); entries of another header
// are dropped first.
func (c *walCache[K, V]) put(k K, v V, ver walHeader) {
	if !c.current(ver) {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ver != ver || len(c.entries) >= c.max {
		clear(c.entries)
		c.ver = ver
	}
	c.entries[k] = v
}
