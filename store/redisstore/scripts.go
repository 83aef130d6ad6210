package redisstore

import "github.com/redis/go-redis/v9"

// The Lua scripts. Each one does every check before its first write, so a
// script that reports an error has changed nothing (Redis does not roll back
// a script that fails half-way). Each returns a table whose first element is
// a status: OK, NOTFOUND, VERSION, CONFLICT <attr>, UNKNOWN {ids}, RETRY.
// Every key a script touches is in KEYS.

// scriptEnsureTenant: KEYS tenant; ARGV created.
// Returns {1|0, stored created}.
var scriptEnsureTenant = redis.NewScript(`
if redis.call('HSETNX', KEYS[1], 'created', ARGV[1]) == 1 then
  return {1, ARGV[1]}
end
return {0, redis.call('HGET', KEYS[1], 'created')}
`)

// scriptCreateUser: KEYS user, users, idxUserName, idxExternalId, seq;
// ARGV id, doc, origin, created, lm, un, ex.
// A replay of the same create (same doc, origin, created) succeeds ({OK};
// a real create returns {OK, new}).
const srcCreateUser = `
local cur = redis.call('HMGET', KEYS[1], 'doc', 'origin', 'created')
if cur[1] then
  if cur[1] == ARGV[2] and cur[2] == ARGV[3] and cur[3] == ARGV[4] then return {'OK'} end
  return {'CONFLICT', 'id'}
end
if ARGV[6] ~= '' and redis.call('HEXISTS', KEYS[3], ARGV[6]) == 1 then return {'CONFLICT', 'userName'} end
if ARGV[7] ~= '' and redis.call('HEXISTS', KEYS[4], ARGV[7]) == 1 then return {'CONFLICT', 'externalId'} end
local seq = redis.call('INCR', KEYS[5])
redis.call('HSET', KEYS[1], 'doc', ARGV[2], 'origin', ARGV[3], 'created', ARGV[4], 'lm', ARGV[5],
  'v', 1, 'un', ARGV[6], 'ex', ARGV[7])
if ARGV[6] ~= '' then redis.call('HSET', KEYS[3], ARGV[6], ARGV[1]) end
if ARGV[7] ~= '' then redis.call('HSET', KEYS[4], ARGV[7], ARGV[1]) end
redis.call('ZADD', KEYS[2], seq, ARGV[1])
return {'OK', 'new'}
`

var scriptCreateUser = redis.NewScript(srcCreateUser)

// scriptUpdateUser: KEYS user, idxUserName, idxExternalId;
// ARGV id, expectVersion (0: any), doc, lm, un, ex.
// Returns {OK, v, origin, created}.
const srcUpdateUser = `
local cur = redis.call('HMGET', KEYS[1], 'v', 'un', 'ex', 'origin', 'created')
if not cur[1] then return {'NOTFOUND'} end
local v = tonumber(cur[1])
local expect = tonumber(ARGV[2])
if expect ~= 0 and expect ~= v then return {'VERSION'} end
local id, un, ex = ARGV[1], ARGV[5], ARGV[6]
local oun, oex = cur[2] or '', cur[3] or ''
if un ~= '' and un ~= oun then
  local o = redis.call('HGET', KEYS[2], un)
  if o and o ~= id then return {'CONFLICT', 'userName'} end
end
if ex ~= '' and ex ~= oex then
  local o = redis.call('HGET', KEYS[3], ex)
  if o and o ~= id then return {'CONFLICT', 'externalId'} end
end
if un ~= oun then
  if oun ~= '' and redis.call('HGET', KEYS[2], oun) == id then redis.call('HDEL', KEYS[2], oun) end
  if un ~= '' then redis.call('HSET', KEYS[2], un, id) end
end
if ex ~= oex then
  if oex ~= '' and redis.call('HGET', KEYS[3], oex) == id then redis.call('HDEL', KEYS[3], oex) end
  if ex ~= '' then redis.call('HSET', KEYS[3], ex, id) end
end
v = v + 1
redis.call('HSET', KEYS[1], 'doc', ARGV[3], 'lm', ARGV[4], 'v', v, 'un', un, 'ex', ex)
return {'OK', v, cur[4] or '', cur[5] or ''}
`

var scriptUpdateUser = redis.NewScript(srcUpdateUser)

// scriptDeleteUser: KEYS user, users, idxUserName, idxExternalId, memberof,
// roles:user:<uid>, members:<gid>...; ARGV id, gid... (the user's groups as
// read before). RETRY if the user is now in a group not passed. The user's
// role assignments go with it.
const srcDeleteUser = `
local cur = redis.call('HMGET', KEYS[1], 'v', 'un', 'ex')
if not cur[1] then return {'NOTFOUND'} end
local id = ARGV[1]
local passed = {}
for i = 2, #ARGV do passed[ARGV[i]] = true end
for _, g in ipairs(redis.call('SMEMBERS', KEYS[5])) do
  if not passed[g] then return {'RETRY'} end
end
for i = 2, #ARGV do redis.call('SREM', KEYS[5 + i], id) end
local un, ex = cur[2] or '', cur[3] or ''
if un ~= '' and redis.call('HGET', KEYS[3], un) == id then redis.call('HDEL', KEYS[3], un) end
if ex ~= '' and redis.call('HGET', KEYS[4], ex) == id then redis.call('HDEL', KEYS[4], ex) end
redis.call('ZREM', KEYS[2], id)
redis.call('DEL', KEYS[1], KEYS[5], KEYS[6])
return {'OK'}
`

var scriptDeleteUser = redis.NewScript(srcDeleteUser)

// scriptAssignRole: KEYS user, roles:user:<uid>; ARGV "source:role".
// The user must exist (checked in the same script, so a concurrent
// DeleteUser, which deletes roles:user:<uid>, never leaves one behind).
var scriptAssignRole = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return {'NOTFOUND'} end
redis.call('SADD', KEYS[2], ARGV[1])
return {'OK'}
`)

// scriptCreateGroup: KEYS group, groups, idxDisplayName, idxExternalId, seq,
// members, then per member user:<uid>, memberof:<uid>;
// ARGV id, doc, origin, created, lm, dn, ex, okta, uid...
// A replay of the same create (same doc, origin, created) succeeds ({OK};
// a real create returns {OK, new}).
const srcCreateGroup = `
local cur = redis.call('HMGET', KEYS[1], 'doc', 'origin', 'created')
if cur[1] then
  if cur[1] == ARGV[2] and cur[2] == ARGV[3] and cur[3] == ARGV[4] then return {'OK'} end
  return {'CONFLICT', 'id'}
end
if ARGV[6] ~= '' and redis.call('HEXISTS', KEYS[3], ARGV[6]) == 1 then return {'CONFLICT', 'displayName'} end
if ARGV[7] ~= '' and redis.call('HEXISTS', KEYS[4], ARGV[7]) == 1 then return {'CONFLICT', 'externalId'} end
local n = #ARGV - 8
local unknown = {}
for i = 1, n do
  if redis.call('EXISTS', KEYS[5 + 2 * i]) == 0 then unknown[#unknown + 1] = ARGV[8 + i] end
end
if #unknown > 0 then return {'UNKNOWN', unknown} end
local id = ARGV[1]
local seq = redis.call('INCR', KEYS[5])
redis.call('HSET', KEYS[1], 'doc', ARGV[2], 'origin', ARGV[3], 'created', ARGV[4], 'lm', ARGV[5],
  'v', 1, 'dn', ARGV[6], 'ex', ARGV[7], 'okta', ARGV[8])
if ARGV[6] ~= '' then redis.call('HSET', KEYS[3], ARGV[6], id) end
if ARGV[7] ~= '' then redis.call('HSET', KEYS[4], ARGV[7], id) end
redis.call('ZADD', KEYS[2], seq, id)
for i = 1, n do
  redis.call('SADD', KEYS[6], ARGV[8 + i])
  redis.call('SADD', KEYS[6 + 2 * i], id)
end
return {'OK', 'new'}
`

var scriptCreateGroup = redis.NewScript(srcCreateGroup)

// scriptUpdateGroup: KEYS group, idxDisplayName, idxExternalId, members,
// then per added uid user:<uid>, memberof:<uid>, then per removed uid
// memberof:<uid>;
// ARGV id, expectVersion, hasAttrs, doc, dn, ex, hasOkta, okta, lm, replace,
// nAdd, nRem, nKeep, add uids..., remove uids..., keep uids...[, guard]
// guard (store.MembersGuard; optional, not with replace=1) is one '1' or
// '0' per add and remove uid, in that order: whether it is taken to be a
// member; if any is not as taken, MEMBERS {the add and remove uids that are
// members} and nothing changes.
// With replace=1, the members must still be the set read before the script:
// every current member among add, remove or keep, and every keep uid still a
// member; else RETRY. Keep uids are current members that stay (no keys: they
// need neither an existence check nor a memberof change).
// Returns {OK, v, doc, okta, origin, created, lm, changed (1|0)}.
const srcUpdateGroup = `
local cur = redis.call('HMGET', KEYS[1], 'v', 'doc', 'dn', 'ex', 'okta', 'origin', 'created', 'lm')
if not cur[1] then return {'NOTFOUND'} end
local v = tonumber(cur[1])
local expect = tonumber(ARGV[2])
if expect ~= 0 and expect ~= v then return {'VERSION'} end
local id = ARGV[1]
local nAdd, nRem, nKeep = tonumber(ARGV[11]), tonumber(ARGV[12]), tonumber(ARGV[13])
local guard = ARGV[14 + nAdd + nRem + nKeep]
if guard and guard ~= '' then
  local members, held = {}, true
  for i = 1, nAdd + nRem do
    local m = redis.call('SISMEMBER', KEYS[4], ARGV[13 + i]) == 1
    if m then members[#members + 1] = ARGV[13 + i] end
    if m ~= (string.sub(guard, i, i) == '1') then held = false end
  end
  if not held then return {'MEMBERS', members} end
end
local doc, dn, ex = cur[2], ARGV[5], ARGV[6]
local odn, oex = cur[3] or '', cur[4] or ''
local attrs = ARGV[3] == '1' and ARGV[4] ~= cur[2]
if attrs then
  doc = ARGV[4]
  if dn ~= '' and dn ~= odn then
    local o = redis.call('HGET', KEYS[2], dn)
    if o and o ~= id then return {'CONFLICT', 'displayName'} end
  end
  if ex ~= '' and ex ~= oex then
    local o = redis.call('HGET', KEYS[3], ex)
    if o and o ~= id then return {'CONFLICT', 'externalId'} end
  end
end
if ARGV[10] == '1' then
  local covered = {}
  for i = 14, 13 + nAdd + nRem + nKeep do covered[ARGV[i]] = true end
  for _, m in ipairs(redis.call('SMEMBERS', KEYS[4])) do
    if not covered[m] then return {'RETRY'} end
  end
  for i = 14 + nAdd + nRem, 13 + nAdd + nRem + nKeep do
    if redis.call('SISMEMBER', KEYS[4], ARGV[i]) == 0 then return {'RETRY'} end
  end
end
local unknown = {}
for i = 1, nAdd do
  if redis.call('EXISTS', KEYS[3 + 2 * i]) == 0 then unknown[#unknown + 1] = ARGV[13 + i] end
end
if #unknown > 0 then return {'UNKNOWN', unknown} end

local changed = false
if attrs then
  if dn ~= odn then
    if odn ~= '' and redis.call('HGET', KEYS[2], odn) == id then redis.call('HDEL', KEYS[2], odn) end
    if dn ~= '' then redis.call('HSET', KEYS[2], dn, id) end
  end
  if ex ~= oex then
    if oex ~= '' and redis.call('HGET', KEYS[3], oex) == id then redis.call('HDEL', KEYS[3], oex) end
    if ex ~= '' then redis.call('HSET', KEYS[3], ex, id) end
  end
  redis.call('HSET', KEYS[1], 'doc', doc, 'dn', dn, 'ex', ex)
  changed = true
end
local okta = cur[5] or ''
if ARGV[7] == '1' and ARGV[8] ~= okta then
  okta = ARGV[8]
  redis.call('HSET', KEYS[1], 'okta', okta)
  changed = true
end
for j = 1, nRem do
  if redis.call('SREM', KEYS[4], ARGV[13 + nAdd + j]) == 1 then changed = true end
  redis.call('SREM', KEYS[4 + 2 * nAdd + j], id)
end
for i = 1, nAdd do
  if redis.call('SADD', KEYS[4], ARGV[13 + i]) == 1 then changed = true end
  redis.call('SADD', KEYS[4 + 2 * i], id)
end
local lm = cur[8] or ''
if changed then
  v = v + 1
  lm = ARGV[9]
  redis.call('HSET', KEYS[1], 'v', v, 'lm', lm)
end
return {'OK', v, doc, okta, cur[6] or '', cur[7] or '', lm, changed and 1 or 0}
`

var scriptUpdateGroup = redis.NewScript(srcUpdateGroup)

// scriptDeleteGroup: KEYS group, groups, idxDisplayName, idxExternalId,
// members, memberof:<uid>...; ARGV id, expectVersion (0: any), uid... (the
// members as read before). VERSION if the group is at another version than
// expected; RETRY if it now has a member not passed.
const srcDeleteGroup = `
local cur = redis.call('HMGET', KEYS[1], 'v', 'dn', 'ex')
if not cur[1] then return {'NOTFOUND'} end
local expect = tonumber(ARGV[2])
if expect ~= 0 and expect ~= tonumber(cur[1]) then return {'VERSION'} end
local id = ARGV[1]
local passed = {}
for i = 3, #ARGV do passed[ARGV[i]] = true end
for _, m in ipairs(redis.call('SMEMBERS', KEYS[5])) do
  if not passed[m] then return {'RETRY'} end
end
for i = 3, #ARGV do redis.call('SREM', KEYS[3 + i], id) end
local dn, ex = cur[2] or '', cur[3] or ''
if dn ~= '' and redis.call('HGET', KEYS[3], dn) == id then redis.call('HDEL', KEYS[3], dn) end
if ex ~= '' and redis.call('HGET', KEYS[4], ex) == id then redis.call('HDEL', KEYS[4], ex) end
redis.call('ZREM', KEYS[2], id)
redis.call('DEL', KEYS[1], KEYS[5])
return {'OK'}
`

var scriptDeleteGroup = redis.NewScript(srcDeleteGroup)

// scriptRegisterToken (tenant slot): KEYS tenant, tokens; ARGV id, hash.
var scriptRegisterToken = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return {'NOTFOUND'} end
local h = redis.call('HGET', KEYS[2], ARGV[1])
if h then
  if h == ARGV[2] then return {'OK'} end
  return {'CONFLICT', 'id'}
end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
return {'OK'}
`)

// scriptCreateToken (global slot): KEYS tokens:<hash>;
// ARGV tenant, id, name, prefix, created, exp.
var scriptCreateToken = redis.NewScript(`
local cur = redis.call('HMGET', KEYS[1], 'tenant', 'id')
if cur[1] then
  if cur[1] == ARGV[1] and cur[2] == ARGV[2] then return {'OK'} end
  return {'CONFLICT', 'hash'}
end
redis.call('HSET', KEYS[1], 'tenant', ARGV[1], 'id', ARGV[2], 'name', ARGV[3], 'prefix', ARGV[4],
  'created', ARGV[5])
if ARGV[6] ~= '' then redis.call('HSET', KEYS[1], 'exp', ARGV[6]) end
return {'OK'}
`)

// scriptUpdateToken (global slot): KEYS tokens:<hash>; ARGV tenant, id, op,
// value, channel, hash, replacedBy. op revoke: set revoked unless set;
// expiry: set exp and repl to value and replacedBy ("" clears each), but
// with a replacedBy only if repl is not set (else REPLACED, nothing
// changed); touch: set used. revoke and expiry PUBLISH hash on channel
// (the token caches' invalidation, atomic with the change; PUBLISH has no
// key, so it runs in any slot). The PUBLISH comes first: one the ACL user
// may not make (no access to the channel) returns NOPUBLISH and changes
// nothing, since other replicas, whose users may subscribe, would go on
// trusting their cached copy of the token (up to its entry age). Inside
// the script the order is not visible: no other command runs until it ends.
var scriptUpdateToken = redis.NewScript(`
local cur = redis.call('HMGET', KEYS[1], 'tenant', 'id')
if cur[1] ~= ARGV[1] or cur[2] ~= ARGV[2] then return {'NOTFOUND'} end
if ARGV[3] == 'expiry' and ARGV[7] ~= '' and redis.call('HEXISTS', KEYS[1], 'repl') == 1 then return {'REPLACED'} end
if ARGV[3] == 'revoke' or ARGV[3] == 'expiry' then
  local p = redis.pcall('PUBLISH', ARGV[5], ARGV[6])
  if type(p) == 'table' and p.err then return {'NOPUBLISH', p.err} end
end
if ARGV[3] == 'revoke' then
  redis.call('HSETNX', KEYS[1], 'revoked', ARGV[4])
elseif ARGV[3] == 'expiry' then
  if ARGV[4] == '' then redis.call('HDEL', KEYS[1], 'exp') else redis.call('HSET', KEYS[1], 'exp', ARGV[4]) end
  if ARGV[7] == '' then redis.call('HDEL', KEYS[1], 'repl') else redis.call('HSET', KEYS[1], 'repl', ARGV[7]) end
else
  redis.call('HSET', KEYS[1], 'used', ARGV[4])
end
return {'OK'}
`)

// The user and group write scripts with their provisioning log entry
// (store.LogEntryOf): the same script, then, if it succeeded and changed
// something, the entry appended as scriptAppendLog does, all in one
// script (the log keys carry the tenant's hash tag too). See loggedScript.
var (
	scriptCreateUserLogged  = loggedScript(srcCreateUser, "res[2] == 'new'")
	scriptUpdateUserLogged  = loggedScript(srcUpdateUser, "true")
	scriptDeleteUserLogged  = loggedScript(srcDeleteUser, "true")
	scriptCreateGroupLogged = loggedScript(srcCreateGroup, "res[2] == 'new'")
	scriptUpdateGroupLogged = loggedScript(srcUpdateGroup, "res[8] == 1")
	scriptDeleteGroupLogged = loggedScript(srcDeleteGroup, "true")
)

// loggedScript wraps a write script's source so that it also appends one
// provisioning log entry when its reply is OK and cond (a Lua expression
// over the reply res) holds. The caller appends the log's keys (log[,
// log:name:<n>]) to KEYS and logArgs' values to ARGV; the prologue takes
// them off again (the last ARGV is how many log keys there are), so the
// body sees its own KEYS and ARGV unchanged, #ARGV included. Redis does
// not roll a script back, so the prologue first checks that the log keys
// can take the entry (a stream and a list, or absent) and otherwise
// changes nothing and returns LOGTYPE: the write fails as a whole rather
// than leave a change without its entry.
func loggedScript(body, cond string) *redis.Script {
	return redis.NewScript(`local LOGN = tonumber(table.remove(ARGV))
local A = {}
for i = 6, 1, -1 do A[i] = table.remove(ARGV) end
local LK = {}
for i = LOGN, 1, -1 do LK[i] = table.remove(KEYS) end
local T1 = redis.call('TYPE', LK[1]).ok
local T2 = LK[2] and redis.call('TYPE', LK[2]).ok or 'none'
if (T1 ~= 'none' and T1 ~= 'stream') or (T2 ~= 'none' and T2 ~= 'list') then return {'LOGTYPE'} end
local res = (function()
` + body + `
end)()
if res[1] == 'OK' and (` + cond + `) then
  local K1, K2 = LK[1], LK[2]
` + luaAppendLog + `
end
return res
`)
}
