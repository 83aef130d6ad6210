package redisstore

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
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
// groups that exist. The scripts return it flattened by flat(o, r) into
// one string (see decodeUserContext for the format): go-redis decodes a
// nested reply into an interface value per element, a GET's cost of a
// dozen allocations and more, and one string into one. Its cost is O(ids + their memberships + distinct
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
local function put(o, s)
  if s then o[#o + 1] = #s; o[#o + 1] = ':'; o[#o + 1] = s else o[#o + 1] = '-' end
end
local function putl(o, l)
  o[#o + 1] = #l; o[#o + 1] = '*'
  for _, s in ipairs(l) do put(o, s) end
end
local function putll(o, l)
  o[#o + 1] = #l; o[#o + 1] = '*'
  for _, x in ipairs(l) do putl(o, x) end
end
local function flat(o, r)
  putll(o, r[1]); putll(o, r[2]); putl(o, r[3]); put(o, r[4]); putll(o, r[5])
  local g = r[6]
  o[#o + 1] = #g / 2; o[#o + 1] = '*'
  for i = 1, #g, 2 do put(o, g[i]); putl(o, g[i + 1]) end
  return table.concat(o)
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
// the users (else "0"), then the user ids. It returns userctx's reply
// flattened into one string; see luaUserContext.
var scriptUserContext = redis.NewScript(luaUserContext + `
local ids = {}
for i = 3, #ARGV do ids[#ids + 1] = ARGV[i] end
return flat({}, userctx(KEYS[1], KEYS[2], ARGV[1], ids, ARGV[2] == '1'))
`)

// scriptLookupUser (tenant slot, read-only): KEYS index hash,
// roles:mappings, roles:default; ARGV index field, the tenant's key base.
// It resolves the index and returns, for the user found, its id then
// userctx's reply in one string (the id as flat encodes a string, see
// luaUserContext), or nil when the index or the record has no such user.
var scriptLookupUser = redis.NewScript(luaUserContext + `
local id = redis.call('HGET', KEYS[1], ARGV[1])
if not id then return false end
local r = userctx(KEYS[2], KEYS[3], ARGV[2], {id}, true)
if not r[1][1][1] then return false end
local o = {}
put(o, id)
return flat(o, r)
`)

// decodeUserContext decodes a userctx reply r for ids, flattened by the
// script's flat (see luaUserContext) into one string of tokens: a string
// is its length in decimal, ':' and its bytes; a nil (a missing field or
// key) is '-'; a list is its length, '*' and its elements. In order: the
// users (a list of HMGET lists), memberof (a list of lists), the role
// mappings (HGETALL's flat list), the default role (a string or nil), the
// roles (a list of lists), then the groups: their count, '*', and per
// group its id and its HMGET list.
//
// With docs (len(ids) of them, withUsers), the users' attributes are not
// decoded: uc.Users[i] has Attrs nil and docs[i] is its document.
func decodeUserContext(ids []string, withUsers bool, r any, docs []string) (store.UserContext, error) {
	s, ok := r.(string)
	if !ok {
		return store.UserContext{}, fmt.Errorf("redisstore: unexpected user context reply %T", r)
	}
	fr := flatReader{s: s}
	uc, err := fr.userContext(ids, withUsers, docs)
	if err == nil && fr.s != "" {
		err = errMalformedFlat
	}
	if err != nil {
		return store.UserContext{}, malformedUserContext(len(ids), err)
	}
	return uc, nil
}

// malformedUserContext is decodeUserContext's error for a reply for n
// users.
func malformedUserContext(n int, err error) error {
	return fmt.Errorf("redisstore: malformed user context reply for %d users: %w", n, err)
}

// errMalformedFlat is a flat reply that does not parse (see
// decodeUserContext).
var errMalformedFlat = errors.New("malformed flat reply")

// noGroups and noAssignments are UserContext.Groups and .Assigned when
// the reply has no group, no assignment: not nil, as the other stores
// return them, and never written (no reader of a UserContext writes its
// maps), so one empty map serves every reply.
var (
	noGroups      = map[string]*mapping.Group{}
	noAssignments = map[string][]mapping.RoleAssignment{}
)

// flatReader reads the tokens of a flat reply (see decodeUserContext)
// from s, which it consumes; the strings it returns share s's bytes.
type flatReader struct{ s string }

// num reads a decimal length ended by end.
func (fr *flatReader) num(end byte) (int, error) {
	n, i := 0, 0
	for ; i < len(fr.s) && fr.s[i] >= '0' && fr.s[i] <= '9'; i++ {
		n = n*10 + int(fr.s[i]-'0')
		if n > len(fr.s) {
			return 0, errMalformedFlat
		}
	}
	if i == 0 || i >= len(fr.s) || fr.s[i] != end {
		return 0, errMalformedFlat
	}
	fr.s = fr.s[i+1:]
	return n, nil
}

// str reads a string or a nil (ok false).
func (fr *flatReader) str() (v string, ok bool, err error) {
	if fr.s != "" && fr.s[0] == '-' {
		fr.s = fr.s[1:]
		return "", false, nil
	}
	n, err := fr.num(':')
	if err != nil {
		return "", false, err
	}
	if n > len(fr.s) {
		return "", false, errMalformedFlat
	}
	v, fr.s = fr.s[:n], fr.s[n:]
	return v, true, nil
}

// list reads a list's length.
func (fr *flatReader) list() (int, error) { return fr.num('*') }

// strs reads a list of strings (a nil reads as ""), empty and not nil for
// none, like go-redis's StringSliceCmd.
func (fr *flatReader) strs() ([]string, error) {
	n, err := fr.list()
	if err != nil {
		return nil, err
	}
	out := make([]string, n)
	for i := range out {
		if out[i], _, err = fr.str(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// fields reads an HMGET list of exactly len(dst) fields into dst and
// reports whether the first one (the record's doc) exists.
func (fr *flatReader) fields(dst []string) (bool, error) {
	n, err := fr.list()
	if err != nil {
		return false, err
	}
	if n != len(dst) {
		return false, errMalformedFlat
	}
	var exists bool
	for i := range dst {
		var ok bool
		if dst[i], ok, err = fr.str(); err != nil {
			return false, err
		}
		if i == 0 {
			exists = ok
		}
	}
	return exists, nil
}

// userContext reads a flat userctx reply for ids (see decodeUserContext).
// With docs, the users' attributes are left in docs (see
// decodeUserContext).
func (fr *flatReader) userContext(ids []string, withUsers bool, docs []string) (store.UserContext, error) {
	var uc store.UserContext
	n, err := fr.list()
	if err != nil {
		return uc, err
	}
	if (withUsers && n != len(ids)) || (!withUsers && n != 0) {
		return uc, errMalformedFlat
	}
	var uf [5]string
	for i := range n {
		exists, err := fr.fields(uf[:len(userFields)])
		if err != nil {
			return uc, err
		}
		if !exists {
			continue
		}
		v, _ := strconv.ParseInt(uf[4], 10, 64)
		var u *mapping.User
		switch {
		case docs == nil:
			u, err = newUser(ids[i], uf[0], uf[1], uf[2], uf[3], v)
		case n == 1:
			// One user (a GET): the user and the one-element list in
			// one allocation.
			one := new(struct {
				u mapping.User
				l [1]*mapping.User
			})
			if err = setUserMeta(&one.u, ids[i], uf[1], uf[2], uf[3], v); err == nil {
				u, one.l[0] = &one.u, &one.u
				uc.Users = one.l[:0:1]
			}
		default:
			u, err = newUserMeta(ids[i], uf[1], uf[2], uf[3], v)
		}
		if err != nil {
			if docs != nil {
				if _, derr := decodeUserAttrs(ids[i], uf[0]); derr != nil {
					err = derr // newUser's error: the document's first
				}
			}
			return uc, err
		}
		if docs != nil {
			docs[len(uc.Users)] = uf[0]
		}
		uc.Users = append(uc.Users, u)
	}
	if n, err = fr.list(); err != nil || n != len(ids) {
		return uc, cmp.Or(err, errMalformedFlat)
	}
	uc.MemberOf = make(map[string][]string, len(ids))
	for _, id := range ids {
		if uc.MemberOf[id], err = fr.strs(); err != nil {
			return uc, err
		}
	}
	flat, err := fr.strs()
	if err != nil {
		return uc, err
	}
	var h map[string]string // none for a tenant without mappings (most)
	if len(flat) > 0 {
		h = make(map[string]string, len(flat)/2)
		for i := 0; i+1 < len(flat); i += 2 {
			h[flat[i]] = flat[i+1]
		}
	}
	if uc.Mappings, err = parseMappings(h); err != nil {
		return uc, err
	}
	if uc.DefaultRole, uc.DefaultSet, err = fr.str(); err != nil {
		return uc, err
	}
	if n, err = fr.list(); err != nil || n != len(ids) {
		return uc, cmp.Or(err, errMalformedFlat)
	}
	sets := make([][]string, len(ids))
	for i := range sets {
		if sets[i], err = fr.strs(); err != nil {
			return uc, err
		}
	}
	if n, err = fr.list(); err != nil {
		return uc, err
	}
	uc.Groups = noGroups // none (most users): no map to allocate
	if n > 0 {
		uc.Groups = make(map[string]*mapping.Group, n)
	}
	var gf [6]string
	for range n {
		id, _, err := fr.str()
		if err != nil {
			return uc, err
		}
		exists, err := fr.fields(gf[:len(groupFields)])
		if err != nil {
			return uc, err
		}
		if !exists {
			continue
		}
		v, _ := strconv.ParseInt(gf[4], 10, 64)
		g, err := newGroup(id, gf[0], gf[1], gf[2], gf[3], v, gf[5])
		if err != nil {
			return uc, err
		}
		uc.Groups[id] = g
	}
	// No user with an assignment (most GETs): the shared empty map.
	uc.Assigned = noAssignments
	if slices.ContainsFunc(sets, func(l []string) bool { return len(l) > 0 }) {
		if uc.Assigned, err = parseAssignmentSets(ids, sets); err != nil {
			return uc, err
		}
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
	flat, ok := r.(string)
	if !ok {
		return store.UserContext{}, fmt.Errorf("redisstore: unexpected lookup reply %T", r)
	}
	fr := flatReader{s: flat}
	id, _, err := fr.str()
	if err != nil {
		return store.UserContext{}, fmt.Errorf("redisstore: malformed lookup reply: %w", err)
	}
	uc, err := decodeUserContext([]string{id}, true, fr.s, nil)
	if err != nil {
		return store.UserContext{}, err
	}
	if len(uc.Users) == 0 {
		return store.UserContext{}, store.ErrNotFound
	}
	return uc, nil
}
