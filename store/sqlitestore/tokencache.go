package sqlitestore

import (
	"context"
	"database/sql"
	"sync"

	"github.com/axonflow/axonflow-sync/store"
)

// tokenCacheMax bounds the token cache: when a new token would exceed it,
// the cache starts over.
const tokenCacheMax = 10000

// tokenCache holds the token records TokenByHash found, valid as long as
// nothing has been committed to the database file since they were read,
// by any connection of any process: SQLite's PRAGMA data_version, read on
// a connection of its own that never writes, changes with every commit
// made by any other connection (this Store's writer and every other
// process's included; SQLite reads it from the WAL index in shared
// memory), and stays the same otherwise. Every TokenByHash reads it (one
// statement without table access, cheaper than the token's point read)
// and answers from the cache only when it is the one the entry was read
// under; any commit thus empties the cache, so a token revoked, expired
// or deleted by another process (`axonflow-sync token revoke`) is refused
// by the next request, with no delay and no message to lose. When the
// version cannot be read, the cache is bypassed.
type tokenCache struct {
	db *sql.DB // query_only: the cache's connection comes from it

	mu   sync.Mutex
	conn *sql.Conn // one connection, held: data_version is per connection
	stmt *sql.Stmt // qDataVersion on conn
	// ver is the connection generation and data_version every entry was
	// read under (a new connection counts from 1 again, hence gen).
	ver     dataVersion
	gen     uint64
	entries map[string]store.Token
}

// dataVersion is a data_version read on the cache's connection number gen.
type dataVersion struct {
	gen, v uint64
}

func newTokenCache(db *sql.DB) *tokenCache {
	return &tokenCache{db: db, entries: make(map[string]store.Token)}
}

// version reads PRAGMA data_version on the cache's connection (opening
// one if needed); ok is false when it could not be read (the connection
// is dropped then, and the cache with it).
func (c *tokenCache) version(ctx context.Context) (ver dataVersion, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.conn == nil {
		conn, err := c.db.Conn(ctx)
		if err != nil {
			return dataVersion{}, false
		}
		st, err := conn.PrepareContext(ctx, qDataVersion)
		if err != nil {
			conn.Close()
			return dataVersion{}, false
		}
		c.conn, c.stmt = conn, st
		c.gen++
		clear(c.entries)
	}
	var v int64
	if err := c.stmt.QueryRowContext(ctx).Scan(&v); err != nil {
		c.drop()
		return dataVersion{}, false
	}
	return dataVersion{gen: c.gen, v: uint64(v)}, true
}

// drop closes the connection and empties the cache; c.mu is held.
func (c *tokenCache) drop() {
	if c.conn != nil {
		c.stmt.Close()
		c.conn.Close()
		c.conn, c.stmt = nil, nil
	}
	clear(c.entries)
}

// get returns the cached token of hash if it was read under ver.
func (c *tokenCache) get(hash string, ver dataVersion) (store.Token, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ver != ver {
		return store.Token{}, false
	}
	t, ok := c.entries[hash]
	return t, ok
}

// put stores t, read after ver was read. An entry of a newer version
// empties the cache first (a connection's data_version only grows); one
// of an older version or another connection is dropped.
func (c *tokenCache) put(hash string, t store.Token, ver dataVersion) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case ver.gen != c.gen || ver.v < c.ver.v && ver.gen == c.ver.gen:
		return
	case ver != c.ver || len(c.entries) >= tokenCacheMax:
		clear(c.entries)
		c.ver = ver
	}
	c.entries[hash] = t
}

// close releases the cache's connection.
func (c *tokenCache) close() error {
	c.mu.Lock()
	c.drop()
	c.mu.Unlock()
	return c.db.Close()
}
