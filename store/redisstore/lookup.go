package redisstore

import (
	"context"
	"errors"
	"fmt"

	"github.com/redis/go-redis/v9"

	"github.com/axonflow/axonflow-sync/mapping"
	"github.com/axonflow/axonflow-sync/store"
)

// scriptLookupUser (tenant slot, read-only): KEYS index hash, roles:mappings,
// roles:default; ARGV index field, the tenant's key base (prefix t:{T}:),
// userFields. It resolves the index and reads what UserContext reads for
// the user found: {id, HMGET user, SMEMBERS memberof, HGETALL mappings, GET
// default, SMEMBERS roles:user}, or nil when the index or the record has no
// such user. The user's keys depend on the id it reads, so they are built
// from the key base instead of being passed in KEYS (the one exception to
// that rule): they carry the tenant's hash tag, so on a Cluster they are in
// the slot of KEYS and on the node the script runs on.
var scriptLookupUser = redis.NewScript(`
local id = redis.call('HGET', KEYS[1], ARGV[1])
if not id then return false end
local b = ARGV[2]
local u = redis.call('HMGET', b .. 'user:' .. id, unpack(ARGV, 3))
if not u[1] then return false end
return {id, u, redis.call('SMEMBERS', b .. 'memberof:' .. id), redis.call('HGETALL', KEYS[2]),
  redis.call('GET', KEYS[3]), redis.call('SMEMBERS', b .. 'roles:user:' .. id)}
`)

// LookupUserContext finds the user whose userName (folded) or externalId
// equals value and returns what UserContext(tenant, []string{id}, true)
// returns for it; store.ErrNotFound when no user has that value (an empty
// value costs no round trip). One round trip: one read-only script.
func (s *Store) LookupUserContext(ctx context.Context, tenant string, idx store.Index, value string) (store.UserContext, error) {
	k := s.tk(tenant)
	var key, field string
	switch idx {
	case store.IndexUserName:
		key, field = k.idxUserName(), mapping.FoldKey(value)
	case store.IndexExternalID:
		key, field = k.idxUserExternalID(), value
	default:
		return store.UserContext{}, fmt.Errorf("redisstore: LookupUserContext: index %q not supported", idx)
	}
	if field == "" {
		return store.UserContext{}, store.ErrNotFound
	}
	ctx, cancel := s.op(ctx)
	defer cancel()
	args := make([]any, 0, 2+len(userFields))
	args = append(args, field, k.base)
	for _, f := range userFields {
		args = append(args, f)
	}
	r, err := scriptLookupUser.Run(ctx, s.c, []string{key, k.roleMappings(), k.defaultRole()}, args...).Result()
	if errors.Is(err, redis.Nil) {
		return store.UserContext{}, store.ErrNotFound
	}
	if err != nil {
		return store.UserContext{}, wrap(err)
	}
	a, ok := r.([]any)
	if !ok || len(a) != 6 {
		return store.UserContext{}, fmt.Errorf("redisstore: unexpected lookup reply %T", r)
	}
	id := str(a[0])
	fields, _ := a[1].([]any)
	u, err := decodeUser(id, fields)
	if err != nil {
		return store.UserContext{}, err
	}
	if u == nil {
		return store.UserContext{}, store.ErrNotFound
	}
	uc := store.UserContext{
		Users:    []*mapping.User{u},
		MemberOf: map[string][]string{id: strs(a[2])},
	}
	flat := strs(a[3])
	h := make(map[string]string, len(flat)/2)
	for i := 0; i+1 < len(flat); i += 2 {
		h[flat[i]] = flat[i+1]
	}
	if uc.Mappings, err = parseMappings(h); err != nil {
		return store.UserContext{}, err
	}
	if d, ok := a[4].(string); ok {
		uc.DefaultRole, uc.DefaultSet = d, true
	}
	if uc.Assigned, err = parseAssignmentSets([]string{id}, [][]string{strs(a[5])}); err != nil {
		return store.UserContext{}, err
	}
	return uc, nil
}

// strs returns a reply array of strings as a []string (empty, not nil, for
// none, like go-redis's StringSliceCmd).
func strs(v any) []string {
	a, _ := v.([]any)
	out := make([]string, 0, len(a))
	for _, x := range a {
		out = append(out, str(x))
	}
	return out
}
