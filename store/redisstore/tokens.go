package redisstore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/axonflow/axonflow-sync/store"
)

// EnsureTenant creates tenant id (created at at) if it does not exist and
// reports whether it did; an existing tenant keeps its creation time. It also
// files the tenant in the global registry that ListTenants reads, repairing
// a registry entry lost by a crash. An empty id is an error. One round trip
// (a pipeline of the tenant script and HSETNX on the registry); two when a
// lost registry entry is repaired.
func (s *Store) EnsureTenant(ctx context.Context, id string, at time.Time) (bool, error) {
	if id == "" {
		return false, errors.New("redisstore: empty tenant id")
	}
	ctx, cancel := s.op(ctx)
	defer cancel()
	k := s.tk(id)
	created := fmtTime(at)
	if created == "" {
		created = fmtTime(time.Unix(0, 0))
	}
	pipe := s.c.Pipeline()
	// EVAL, not EVALSHA: a pipeline cannot fall back on NOSCRIPT, and the
	// script is tiny.
	ens := scriptEnsureTenant.Eval(ctx, pipe, []string{k.tenant()}, created)
	reg := pipe.HSetNX(ctx, s.tenantsKey(), id, created)
	if _, err := pipe.Exec(ctx); err != nil {
		return false, wrap(err)
	}
	res, ok := ens.Val().([]any)
	if !ok || len(res) != 2 {
		return false, fmt.Errorf("redisstore: unexpected EnsureTenant reply %v", ens.Val())
	}
	isNew, stored := num(res[0]) == 1, str(res[1])
	if !isNew && reg.Val() && stored != created {
		// The registry entry was missing (crash between the two writes of an
		// earlier call): file the tenant's real creation time.
		if err := s.c.HSet(ctx, s.tenantsKey(), id, stored).Err(); err != nil {
			return false, wrap(err)
		}
	}
	return isNew, nil
}

// ListTenants returns all tenants ordered by id. One round trip (HGETALL of
// the registry).
func (s *Store) ListTenants(ctx context.Context) ([]store.Tenant, error) {
	ctx, cancel := s.op(ctx)
	defer cancel()
	m, err := s.c.HGetAll(ctx, s.tenantsKey()).Result()
	if err != nil {
		return nil, wrap(err)
	}
	ts := make([]store.Tenant, 0, len(m))
	for id, c := range m {
		t, err := parseTime(c)
		if err != nil {
			return nil, err
		}
		ts = append(ts, store.Tenant{ID: id, Created: t})
	}
	slices.SortFunc(ts, func(a, b store.Tenant) int { return strings.Compare(a.ID, b.ID) })
	return ts, nil
}

// CreateToken stores a new token of t.Tenant, which must exist
// (store.ErrNotFound otherwise). t.ID and t.Hash must be set; an id or hash
// already used by another token gives *store.ConflictError (Attr "id" or
// "hash"). LastUsedAt and RevokedAt are not stored. Two round trips: the
// tenant's id → hash index first, then the global record (on a hash clash a
// third removes the index entry again).
func (s *Store) CreateToken(ctx context.Context, t store.Token) error {
	if t.ID == "" || t.Hash == "" {
		return errors.New("redisstore: token without id or hash")
	}
	ctx, cancel := s.op(ctx)
	defer cancel()
	k := s.tk(t.Tenant)
	values := map[string]string{"id": t.ID, "hash": t.Hash}
	r, err := scriptRegisterToken.Run(ctx, s.c, []string{k.tenant(), k.tokens()}, t.ID, t.Hash).Result()
	if err != nil {
		return wrap(err)
	}
	if err := scriptStatus(r, values); err != nil {
		return err
	}
	r, err = scriptCreateToken.Run(ctx, s.c, []string{s.tokenKey(t.Hash)},
		t.Tenant, t.ID, t.Name, t.Prefix, fmtTime(t.Created), fmtTime(t.ExpiresAt)).Result()
	if err != nil {
		return wrap(err)
	}
	if err := scriptStatus(r, values); err != nil {
		s.c.HDel(ctx, k.tokens(), t.ID) // undo the index entry; the error is reported either way
		return err
	}
	return nil
}

// scriptStatus maps a script reply to nil or its error.
func scriptStatus(r any, values map[string]string) error {
	st, rest, err := scriptResult(r)
	if err != nil {
		return err
	}
	return statusErr(st, rest, values)
}

var tokenFields = []string{"tenant", "id", "name", "prefix", "created", "exp", "used", "revoked", "repl"}

// decodeToken builds a Token from an HMGET of tokenFields; ok is false if
// the record does not exist.
func decodeToken(hash string, v []any) (store.Token, bool, error) {
	if len(v) != len(tokenFields) || v[0] == nil {
		return store.Token{}, false, nil
	}
	t := store.Token{Tenant: str(v[0]), ID: str(v[1]), Name: str(v[2]), Prefix: str(v[3]), Hash: hash}
	var err error
	for i, p := range []*time.Time{&t.Created, &t.ExpiresAt, &t.LastUsedAt, &t.RevokedAt} {
		if *p, err = parseTime(str(v[4+i])); err != nil {
			return store.Token{}, false, err
		}
	}
	t.ReplacedBy = str(v[8])
	return t, true, nil
}

// TokenByHash returns the token whose secret hashes to hash (lower-case hex
// SHA-256), or store.ErrNotFound. It does not check validity (Token.Valid).
// The first call starts the token cache (see the package doc): while its
// pub/sub subscription is confirmed and live, a token found before is
// answered without a round trip, else it is one round trip (HMGET of
// tokens:<hash>). A cached record reflects every revocation and expiry
// change made through any Store on this Redis more than a second ago (at
// once for changes made through this Store); its LastUsedAt may be up to
// 10 s old when another Store touched it. Unknown hashes are never cached.
func (s *Store) TokenByHash(ctx context.Context, hash string) (store.Token, error) {
	var epoch uint64
	var cacheable bool
	var at time.Time
	if s.tc != nil {
		s.startTokenSub()
		at = time.Now()
		if t, ok := s.tc.get(hash, at); ok {
			return t, nil
		}
		epoch, cacheable = s.tc.begin(at)
	}
	hash = strings.Clone(hash) // the cache keeps it; hash may share the caller's buffer
	ctx, cancel := s.op(ctx)
	defer cancel()
	v, err := s.c.HMGet(ctx, s.tokenKey(hash), tokenFields...).Result()
	if err != nil {
		return store.Token{}, wrap(err)
	}
	t, ok, err := decodeToken(hash, v)
	if err != nil {
		return store.Token{}, err
	}
	if !ok {
		return store.Token{}, store.ErrNotFound
	}
	if cacheable {
		s.tc.put(hash, t, epoch, at)
	}
	return t, nil
}

// ListTokens returns the tenant's tokens ordered by Created (then ID); an
// unknown tenant has none. Two round trips: HGETALL of t:{T}:tokens, then
// one pipeline of HMGETs of the records.
func (s *Store) ListTokens(ctx context.Context, tenant string) ([]store.Token, error) {
	ctx, cancel := s.op(ctx)
	defer cancel()
	m, err := s.c.HGetAll(ctx, s.tk(tenant).tokens()).Result()
	if err != nil {
		return nil, wrap(err)
	}
	if len(m) == 0 {
		return []store.Token{}, nil
	}
	pipe := s.c.Pipeline()
	hashes := make([]string, 0, len(m))
	for _, h := range m {
		hashes = append(hashes, h)
	}
	for _, h := range hashes {
		pipe.HMGet(ctx, s.tokenKey(h), tokenFields...)
	}
	cmds, err := pipe.Exec(ctx)
	if err != nil {
		return nil, wrap(err)
	}
	ts := make([]store.Token, 0, len(m))
	for i, c := range cmds {
		v, _ := c.(interface{ Val() []any })
		t, ok, err := decodeToken(hashes[i], v.Val())
		if err != nil {
			return nil, err
		}
		if ok && t.Tenant == tenant { // skip index entries whose record a crash lost
			ts = append(ts, t)
		}
	}
	slices.SortFunc(ts, func(a, b store.Token) int {
		if c := a.Created.Compare(b.Created); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return ts, nil
}

// RevokeToken marks the tenant's token revoked at at; a token already
// revoked keeps its first revocation time. store.ErrNotFound if the tenant
// has no such token. The change is published to every Store's token cache
// (TokenByHash). Two round trips (three on a Cluster: see
// publishTokenChange).
func (s *Store) RevokeToken(ctx context.Context, tenant, tokenID string, at time.Time) error {
	return s.updateToken(ctx, tenant, tokenID, "revoke", fmtTime(at), "")
}

// SetTokenExpiry sets the token's expiry (zero: never expires) and its
// ReplacedBy ("": none), in one script; with replacedBy set, only if the
// token has no replacement yet (store.ErrTokenReplaced). store.ErrNotFound if the tenant has no such token. The change is
// published to every Store's token cache (TokenByHash). Two round trips
// (three on a Cluster: see publishTokenChange).
func (s *Store) SetTokenExpiry(ctx context.Context, tenant, tokenID string, at time.Time, replacedBy string) error {
	return s.updateToken(ctx, tenant, tokenID, "expiry", fmtTime(at), replacedBy)
}

// TouchToken records that the token was used at at. store.ErrNotFound if the
// tenant has no such token. It drops the token from this Store's cache but
// publishes nothing: other Stores may answer the previous LastUsedAt for up
// to 10 s. Two round trips (HGET of the id's hash, then the
// update of tokens:<hash>); callers on the request path should throttle it.
func (s *Store) TouchToken(ctx context.Context, tenant, tokenID string, at time.Time) error {
	return s.updateToken(ctx, tenant, tokenID, "touch", fmtTime(at), "")
}

func (s *Store) updateToken(ctx context.Context, tenant, id, op, value, replacedBy string) error {
	ctx, cancel := s.op(ctx)
	defer cancel()
	hash, err := s.c.HGet(ctx, s.tk(tenant).tokens(), id).Result()
	if err != nil {
		return wrap(err)
	}
	r, err := scriptUpdateToken.Run(ctx, s.c, []string{s.tokenKey(hash)}, tenant, id, op, value, s.tokenChannel(), hash, replacedBy).Result()
	if err != nil {
		return wrap(err)
	}
	if err := scriptStatus(r, nil); err != nil {
		return err
	}
	if op != "touch" {
		s.publishTokenChange(ctx, hash)
	} else if s.tc != nil {
		s.tc.invalidate(hash) // this Store reads its own LastUsedAt back
	}
	return nil
}
