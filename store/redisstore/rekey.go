package redisstore

import (
	"context"
	"encoding/json"
	"slices"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/axonflow/axonflow-sync/mapping"
	"github.com/axonflow/axonflow-sync/store"
)

// scriptRefileMapping: KEYS roles:mappings; ARGV old field, new field.
// Moves a by-name role mapping to its current key; when one is already
// filed there, the old one is dropped (they name the same group).
var scriptRefileMapping = redis.NewScript(`local v = redis.call('HGET', KEYS[1], ARGV[1])
if not v then return 0 end
if redis.call('HEXISTS', KEYS[1], ARGV[2]) == 0 then redis.call('HSET', KEYS[1], ARGV[2], v) end
redis.call('HDEL', KEYS[1], ARGV[1])
return 1`)

// scriptRefileLogName: KEYS old list, new list; ARGV cap. Merges the old
// name index list into the new one (stream ids, newest first, no
// duplicates, at most cap), keeps the longer expiry, deletes the old list.
var scriptRefileLogName = redis.NewScript(`local function parse(id)
  local a, b = string.match(id, '^(%d+)%-(%d+)$')
  return tonumber(a) or 0, tonumber(b) or 0
end
local seen, all = {}, {}
for _, k in ipairs(KEYS) do
  for _, id in ipairs(redis.call('LRANGE', k, 0, -1)) do
    if not seen[id] then seen[id] = true; table.insert(all, id) end
  end
end
if #all == 0 then return 0 end
table.sort(all, function(x, y)
  local a1, b1 = parse(x); local a2, b2 = parse(y)
  if a1 == a2 then return b1 > b2 end
  return a1 > a2
end)
local ttl = math.max(redis.call('PTTL', KEYS[1]), redis.call('PTTL', KEYS[2]))
redis.call('DEL', KEYS[1], KEYS[2])
for i = 1, math.min(#all, tonumber(ARGV[1])) do redis.call('RPUSH', KEYS[2], all[i]) end
if ttl > 0 then redis.call('PEXPIRE', KEYS[2], ttl) end
return 1`)

// verifyFoldKeys finds by-name role mappings and provisioning-log name
// index lists (logNames: every "log:name:<n>" and "log:rej:name:<n>" key,
// without the tenant's prefix) filed
// under a key that is not mapping.FoldKey's (written before the current
// folding rule: store.ProblemFoldKey) and, with repair, re-files each with
// one script. User and group name indexes are covered by the index checks
// (their wanted keys are FoldKey values).
func (s *Store) verifyFoldKeys(ctx context.Context, r *store.VerifyReport, k keys, logNames []string, repair bool) error {
	cctx, cancel := s.op(ctx)
	ms, err := s.c.HGetAll(cctx, k.roleMappings()).Result()
	cancel()
	if err != nil {
		return wrap(err)
	}
	fields := make([]string, 0, len(ms))
	for f := range ms {
		fields = append(fields, f)
	}
	slices.Sort(fields)
	for _, f := range fields {
		var m mapping.RoleMapping
		if json.Unmarshal([]byte(ms[f]), &m) != nil || !m.ByName {
			continue // malformed ones are verifyRoles' business
		}
		want := m.Key()
		if want == f {
			continue
		}
		r.Problem(store.ProblemFoldKey, "role mapping %q is filed under %q, its key is %q", m.Group, f, want)
		if repair {
			cctx, cancel := s.op(ctx)
			n, err := scriptRefileMapping.Run(cctx, s.c, []string{k.roleMappings()}, f, want).Int()
			cancel()
			if err != nil {
				return wrap(err)
			}
			if n > 0 {
				r.Repaired(store.ProblemFoldKey, 1)
			}
		}
	}
	slices.Sort(logNames)
	for _, rest := range logNames {
		prefix := "log:name:"
		if strings.HasPrefix(rest, "log:rej:name:") {
			prefix = "log:rej:name:"
		}
		n := rest[len(prefix):]
		want := mapping.FoldKey(n)
		if want == n {
			continue
		}
		r.Problem(store.ProblemFoldKey, "provisioning-log name index %q is filed under a key from before the folding rule (%q)", rest, want)
		if repair {
			cctx, cancel := s.op(ctx)
			res, err := scriptRefileLogName.Run(cctx, s.c, []string{k.base + rest, k.base + prefix + want}, logNameIndexCap).Int()
			cancel()
			if err != nil {
				return wrap(err)
			}
			if res > 0 {
				r.Repaired(store.ProblemFoldKey, 1)
			}
		}
	}
	return nil
}
