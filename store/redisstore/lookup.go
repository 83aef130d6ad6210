package redisstore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/axonflow/axonflow-sync/mapping"
	"github.com/axonflow/axonflow-sync/store"
)

// luaUserContext defines the Lua function userctx(km, kd, b, ids,
// withUsers) shared by the user-context scripts: for each id of ids, HMGET
// b..'user:'..id userFields (when withUsers), SMEMBERS memberof, SMEMBERS
// roles:user; HMGET b..'group:'..g groupFields once per distinct group g of
// those memberships; then HGETALL km (role mappings) and GET kd (default
// role). It returns {users, memberof, mappings, default, roles, groups}:
// users, memberof and roles are arrays in the order of ids (users empty
// unless withUsers), groups is a flat array {id, HMGET reply, ...} of the
// groups that exist. Its cost is O(ids + their memberships + distinct
// groups) commands, run inside one script. The field lists are part of the
// script's text (luaFields), so a call sends only the key base and the ids.
//
// The user and group keys depend on the ids (and on the memberships the
// script reads), so they are built from the tenant's key base b instead of
// being passed in KEYS (the exception the package doc states): they carry
// the tenant's hash tag, so on a Cluster they are in the slot of KEYS and
// on the node the script runs on.
var luaUserContext = `
local UF = {` + luaFields(userFields) + `}
local GF = {` + luaFields(groupFields) + `}
local function userctx(km, kd, b, ids, withUsers)
  local users, memberof, roles, groups, seen = {}, {}, {}, {}, {}
  for i, id in ipairs(ids) do
    if withUsers then users[i] = redis.call('HMGET', b .. 'user:' .. id, unpack(UF)) end
    local m = redis.call('SMEMBERS', b .. 'memberof:' .. id)
    memberof[i] = m
    for _, g in ipairs(m) do
      if not seen[g] then
        seen[g] = true
        local v = redis.call('HMGET', b .. 'group:' .. g, unpack(GF))
        if v[1] then
          groups[#groups + 1] = g
          groups[#groups + 1] = v
        end
      end
    end
    roles[i] = redis.call('SMEMBERS', b .. 'roles:user:' .. id)
  end
  return {users, memberof, redis.call('HGETALL', km), redis.call('GET', kd), roles, groups}
end
`

// luaFields renders field names (plain identifiers) as the elements of a
// Lua table constructor.
func luaFields(fields []string) string {
	var b strings.Builder
	for i, f := range fields {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(strconv.Quote(f))
	}
	return b.String()
}

// scriptUserContext (tenant slot, read-only): KEYS roles:mappings,
// roles:default; ARGV the tenant's key base (prefix t:{T}:), "1" to read
// the users (else "0"), then the user ids. It returns userctx's reply; see
// luaUserContext.
var scriptUserContext = redis.NewScript(luaUserContext + `
local ids = {}
for i = 3, #ARGV do ids[#ids + 1] = ARGV[i] end
return userctx(KEYS[1], KEYS[2], ARGV[1], ids, ARGV[2] == '1')
`)

// scriptLookupUser (tenant slot, read-only): KEYS index hash,
// roles:mappings, roles:default; ARGV index field, the tenant's key base.
// It resolves the index and returns {id, userctx reply} for the user found
// (see luaUserContext), or nil when the index or the record has no such
// user.
var scriptLookupUser = redis.NewScript(luaUserContext + `
local id = redis.call('HGET', KEYS[1], ARGV[1])
if not id then return false end
local r = userctx(KEYS[2], KEYS[3], ARGV[2], {id}, true)
if not r[1][1][1] then return false end
return {id, r}
`)

// decodeUserContext decodes a userctx reply r for ids (see luaUserContext).
func decodeUserContext(ids []string, withUsers bool, r any) (store.UserContext, error) {
	a, ok := r.([]any)
	if !ok || len(a) != 6 {
		return store.UserContext{}, fmt.Errorf("redisstore: unexpected user context reply %T", r)
	}
	users, _ := a[0].([]any)
	memberOf, _ := a[1].([]any)
	roles, _ := a[4].([]any)
	groups, _ := a[5].([]any)
	if (withUsers && len(users) != len(ids)) || len(memberOf) != len(ids) || len(roles) != len(ids) || len(groups)%2 != 0 {
		return store.UserContext{}, fmt.Errorf("redisstore: malformed user context reply for %d users", len(ids))
	}
	var uc store.UserContext
	for i, v := range users {
		fields, _ := v.([]any)
		u, err := decodeUser(ids[i], fields)
		if err != nil {
			return store.UserContext{}, err
		}
		if u != nil {
			uc.Users = append(uc.Users, u)
		}
	}
	uc.MemberOf = make(map[string][]string, len(ids))
	sets := make([][]string, len(ids))
	for i, id := range ids {
		uc.MemberOf[id] = strs(memberOf[i])
		sets[i] = strs(roles[i])
	}
	uc.Groups = make(map[string]*mapping.Group, len(groups)/2)
	for i := 0; i < len(groups); i += 2 {
		id := str(groups[i])
		fields, _ := groups[i+1].([]any)
		g, err := decodeGroup(id, fields)
		if err != nil {
			return store.UserContext{}, err
		}
		if g != nil {
			uc.Groups[id] = g
		}
	}
	flat := strs(a[2])
	var h map[string]string // none for a tenant without mappings (most)
	if len(flat) > 0 {
		h = make(map[string]string, len(flat)/2)
		for i := 0; i+1 < len(flat); i += 2 {
			h[flat[i]] = flat[i+1]
		}
	}
	var err error
	if uc.Mappings, err = parseMappings(h); err != nil {
		return store.UserContext{}, err
	}
	if d, ok := a[3].(string); ok {
		uc.DefaultRole, uc.DefaultSet = d, true
	}
	if uc.Assigned, err = parseAssignmentSets(ids, sets); err != nil {
		return store.UserContext{}, err
	}
	return uc, nil
}

// LookupUserContext finds the user whose userName (folded) or externalId
// equals value and returns what UserContext(tenant, []string{id}, true)
// returns for it, groups included; store.ErrNotFound when no user has that
// value (an empty value costs no round trip). One round trip: one
// read-only script (EVALSHA) of O(the user's memberships) commands.
func (s *Store) LookupUserContext(ctx context.Context, tenant string, idx store.Index, value string) (store.UserContext, error) {
	uk := s.userCtx(tenant)
	var head []any
	var field string
	switch idx {
	case store.IndexUserName:
		head, field = uk.lookupUserName, mapping.FoldKey(value)
	case store.IndexExternalID:
		head, field = uk.lookupExternalID, value
	default:
		return store.UserContext{}, fmt.Errorf("redisstore: LookupUserContext: index %q not supported", idx)
	}
	if field == "" {
		return store.UserContext{}, store.ErrNotFound
	}
	ctx, cancel := s.op(ctx)
	defer cancel()
	cmd := make([]any, len(head), len(head)+2)
	copy(cmd, head)
	r, err := s.runScript(ctx, scriptLookupUser, append(cmd, field, uk.base), 1+len(uk.keys)).Result()
	if errors.Is(err, redis.Nil) {
		return store.UserContext{}, store.ErrNotFound
	}
	if err != nil {
		return store.UserContext{}, wrap(err)
	}
	a, ok := r.([]any)
	if !ok || len(a) != 2 {
		return store.UserContext{}, fmt.Errorf("redisstore: unexpected lookup reply %T", r)
	}
	id := str(a[0])
	uc, err := decodeUserContext([]string{id}, true, a[1])
	if err != nil {
		return store.UserContext{}, err
	}
	if len(uc.Users) == 0 {
		return store.UserContext{}, store.ErrNotFound
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
