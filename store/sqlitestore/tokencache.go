package sqlitestore

import (
	"sync"

	"github.com/axonflow/axonflow-sync/store"
)

// tokenCacheMax bounds the token cache: when a new token would exceed it,
// the cache starts over.
const tokenCacheMax = 10000

// tokenCache holds the token records TokenByHash found, valid as long as
// nothing has been committed to the database file since they were read,
// by any connection of any process: every commit rewrites the header of
// the file's WAL-index (see walIndex), this Store's writer's and every
// other process's alike, and an entry is used only while the header is
// the one it was read under. TokenByHash therefore costs a comparison of
// the header while nothing is committed, and any commit empties the cache,
// so a token revoked, expired or deleted by another process
// (`axonflow-sync token revoke`) is refused by the next request, with no
// delay and no message to lose. When the header cannot be read (no
// mapping, or a commit is rewriting it) the cache is bypassed.
type tokenCache struct {
	wal *walIndex

	mu sync.Mutex
	// ver is the header every entry was read under.
	ver     walHeader
	entries map[string]store.Token
}

func newTokenCache(wal *walIndex) *tokenCache {
	return &tokenCache{wal: wal, entries: make(map[string]store.Token)}
}

// get returns the cached token of hash if nothing was committed since it
// was read. Otherwise ver is the header read before the lookup (the one a
// token read next will be put under) and cacheable whether it could be
// read.
func (c *tokenCache) get(hash string) (t store.Token, hit bool, ver walHeader, cacheable bool) {
	ver, cacheable = c.wal.header()
	if !cacheable {
		return store.Token{}, false, ver, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ver == ver {
		t, hit = c.entries[hash]
	}
	return t, hit, ver, true
}

// put stores t, read after header ver was read, if the header is still
// ver (so t is the database's state at ver); entries of another header
// are dropped first.
func (c *tokenCache) put(hash string, t store.Token, ver walHeader) {
	if now, ok := c.wal.header(); !ok || now != ver {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ver != ver || len(c.entries) >= tokenCacheMax {
		clear(c.entries)
		c.ver = ver
	}
	c.entries[hash] = t
}
