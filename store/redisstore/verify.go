package redisstore

import (
	"context"
	"errors"
	"sort"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/axonflow/axonflow-sync/mapping"
	"github.com/axonflow/axonflow-sync/store"
)

var _ store.Verifier = (*Store)(nil)

// verifyBatch is how many commands one verify pipeline holds.
const verifyBatch = 500

// scriptRepair applies one repair of Verify after re-checking, atomically,
// that its premise still holds (so a concurrent writer is never undone).
// Every key it touches is in KEYS (all in the tenant's slot). Returns 1 if it
// changed something, 0 if the premise no longer held.
//
//	idxdel    KEYS idx, record;  ARGV op, field, id, v ("" = record must be gone)
//	idxset    KEYS idx, record;  ARGV op, field, id, v  (HSETNX if record still at v)
//	fields    KEYS record;       ARGV op, v, name, value, ...
//	listdel   KEYS list, record; ARGV op, id
//	listadd   KEYS list, record, seq; ARGV op, id
//	memdel    KEYS members, user; ARGV op, uid           (user gone)
//	setdel    KEYS set, owner;   ARGV op                 (DEL set if owner gone)
//	backadd   KEYS memberof, members, group, user; ARGV op, uid, gid
//	backdel   KEYS memberof, members, group; ARGV op, uid, gid
//	srem      KEYS set;          ARGV op, member
var scriptRepair = redis.NewScript(`
local op = ARGV[1]
if op == 'idxdel' then
  if redis.call('HGET', KEYS[1], ARGV[2]) ~= ARGV[3] then return 0 end
  local v = redis.call('HGET', KEYS[2], 'v')
  if (ARGV[4] == '' and not v) or (ARGV[4] ~= '' and v == ARGV[4]) then
    return redis.call('HDEL', KEYS[1], ARGV[2])
  end
  return 0
elseif op == 'idxset' then
  if redis.call('HGET', KEYS[2], 'v') ~= ARGV[4] then return 0 end
  return redis.call('HSETNX', KEYS[1], ARGV[2], ARGV[3])
elseif op == 'fields' then
  if redis.call('HGET', KEYS[1], 'v') ~= ARGV[2] then return 0 end
  for i = 3, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
  return 1
elseif op == 'listdel' then
  if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
  return redis.call('ZREM', KEYS[1], ARGV[2])
elseif op == 'listadd' then
  if redis.call('EXISTS', KEYS[2]) == 0 or redis.call('ZSCORE', KEYS[1], ARGV[2]) then return 0 end
  redis.call('ZADD', KEYS[1], redis.call('INCR', KEYS[3]), ARGV[2])
  return 1
elseif op == 'memdel' then
  if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
  return redis.call('SREM', KEYS[1], ARGV[2])
elseif op == 'setdel' then
  if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
  return redis.call('DEL', KEYS[1])
elseif op == 'backadd' then
  if redis.call('SISMEMBER', KEYS[2], ARGV[2]) == 0 or redis.call('EXISTS', KEYS[3]) == 0
    or redis.call('EXISTS', KEYS[4]) == 0 then return 0 end
  return redis.call('SADD', KEYS[1], ARGV[3])
elseif op == 'backdel' then
  if redis.call('EXISTS', KEYS[3]) == 1 and redis.call('SISMEMBER', KEYS[2], ARGV[2]) == 1 then return 0 end
  return redis.call('SREM', KEYS[1], ARGV[3])
elseif op == 'srem' then
  return redis.call('SREM', KEYS[1], ARGV[2])
end
return redis.error_reply('unknown repair op ' .. op)
`)

// vrecord is one user or group record as Verify reads it.
type vrecord struct {
	id      string
	v       string            // stored version (the repair scripts' guard)
	corrupt string            // why it cannot be decoded, "" if it can
	stored  map[string]string // the index fields it carries (un/dn, ex)
	want    map[string]string // the index values its document gives
}

// vindex is one index hash: its key, the record field it mirrors, and its
// name in reports.
type vindex struct {
	key, field, name string
}

// Verify checks the tenant's indexes, creation-order lists, member sets,
// back-references and role assignments against its user and group records,
// and with repair fixes what the records determine (see store.Verifier and
// the store.Problem* kinds). It reads the tenant with SCAN (on the node that
// holds the tenant's slot), HSCAN, ZSCAN and pipelined reads of every record
// and set, so it costs O(keys of the tenant) plus one SCAN of that node;
// each round trip has its own Options.Timeout deadline. Each repair is one
// small script that first re-checks its premise. store.ErrNotFound if the
// tenant does not exist.
func (s *Store) Verify(ctx context.Context, tenant string, repair bool) (store.VerifyReport, error) {
	r := store.VerifyReport{Tenant: tenant, Repair: repair, Problems: []store.ProblemSummary{}}
	k := s.tk(tenant)
	node, err := s.nodeFor(ctx, k.tenant())
	if err != nil {
		return r, err
	}
	if err := s.verifyTenant(ctx, &r, tenant, repair); err != nil {
		return r, err
	}
	if repair {
		if err := s.loadRepair(ctx); err != nil {
			return r, err
		}
	}

	// Every key of the tenant, by kind.
	users, groups := map[string]bool{}, map[string]bool{}
	memberKeys, memberofKeys, roleKeys := map[string]bool{}, map[string]bool{}, map[string]bool{}
	var logNames []string
	pattern := globEscape(k.base) + "*"
	var cursor uint64
	for {
		cctx, cancel := s.op(ctx)
		ks, next, err := node.Scan(cctx, cursor, pattern, 1000).Result()
		cancel()
		if err != nil {
			return r, wrap(err)
		}
		for _, key := range ks {
			rest := strings.TrimPrefix(key, k.base)
			switch {
			case strings.HasPrefix(rest, "user:"):
				users[rest[len("user:"):]] = true
			case strings.HasPrefix(rest, "group:"):
				groups[rest[len("group:"):]] = true
			case strings.HasPrefix(rest, "members:"):
				memberKeys[rest[len("members:"):]] = true
			case strings.HasPrefix(rest, "memberof:"):
				memberofKeys[rest[len("memberof:"):]] = true
			case strings.HasPrefix(rest, "roles:user:"):
				roleKeys[rest[len("roles:user:"):]] = true
			case strings.HasPrefix(rest, "log:name:"), strings.HasPrefix(rest, "log:rej:name:"):
				logNames = append(logNames, rest)
			}
		}
		if cursor = next; cursor == 0 {
			break
		}
	}
	r.Users, r.Groups = len(users), len(groups)

	urecs, err := s.readRecords(ctx, k.user, sortedKeys(users), "un", "userName", func(a mapping.Attrs) (string, string) {
		u := mapping.User{Attrs: a}
		return mapping.FoldKey(u.UserName()), u.ExternalID()
	})
	if err != nil {
		return r, err
	}
	grecs, err := s.readRecords(ctx, k.group, sortedKeys(groups), "dn", "displayName", func(a mapping.Attrs) (string, string) {
		g := mapping.Group{Attrs: a}
		return mapping.FoldKey(g.DisplayName()), g.ExternalID()
	})
	if err != nil {
		return r, err
	}
	for _, c := range []struct {
		kind    string
		recs    []*vrecord
		key     func(string) string
		indexes []vindex
	}{
		{"user", urecs, k.user, []vindex{{k.idxUserName(), "un", "userName"}, {k.idxUserExternalID(), "ex", "externalId"}}},
		{"group", grecs, k.group, []vindex{{k.idxDisplayName(), "dn", "displayName"}, {k.idxGroupExternalID(), "ex", "externalId"}}},
	} {
		if err := s.verifyFields(ctx, &r, c.kind, c.recs, c.key, repair); err != nil {
			return r, err
		}
		for _, ix := range c.indexes {
			if err := s.verifyIndex(ctx, &r, c.kind, c.recs, c.key, ix, repair); err != nil {
				return r, err
			}
		}
	}
	if err := s.verifyList(ctx, &r, "user", k.users(), k.user, users, k.seq(), repair); err != nil {
		return r, err
	}
	if err := s.verifyList(ctx, &r, "group", k.groups(), k.group, groups, k.seq(), repair); err != nil {
		return r, err
	}
	if err := s.verifyMembers(ctx, &r, k, users, groups, memberKeys, memberofKeys, repair); err != nil {
		return r, err
	}
	if err := s.verifyRoles(ctx, &r, k, users, roleKeys, repair); err != nil {
		return r, err
	}
	if err := s.verifyFoldKeys(ctx, &r, k, logNames, repair); err != nil {
		return r, err
	}
	return r, nil
}

// nodeFor returns the client that serves key: the master of its slot on a
// Cluster, else the client itself.
func (s *Store) nodeFor(ctx context.Context, key string) (redis.UniversalClient, error) {
	cc, ok := s.c.(*redis.ClusterClient)
	if !ok {
		return s.c, nil
	}
	ctx, cancel := s.op(ctx)
	defer cancel()
	m, err := cc.MasterForKey(ctx, key)
	if err != nil {
		return nil, wrap(err)
	}
	return m, nil
}

// verifyTenant checks that the tenant exists (store.ErrNotFound if neither
// its record nor its registry entry does) and that both exist.
func (s *Store) verifyTenant(ctx context.Context, r *store.VerifyReport, tenant string, repair bool) error {
	ctx, cancel := s.op(ctx)
	defer cancel()
	k := s.tk(tenant)
	rec, err := s.c.HGet(ctx, k.tenant(), "created").Result()
	if err != nil && !errors.Is(err, redis.Nil) {
		return wrap(err)
	}
	reg, err := s.c.HGet(ctx, s.tenantsKey(), tenant).Result()
	if err != nil && !errors.Is(err, redis.Nil) {
		return wrap(err)
	}
	switch {
	case rec == "" && reg == "":
		return store.ErrNotFound
	case rec == "":
		r.Problem(store.ProblemTenantRegistry, "tenant %q is registered but its record t:{T}:tenant is missing", tenant)
		if repair {
			if err := s.c.HSetNX(ctx, k.tenant(), "created", reg).Err(); err != nil {
				return wrap(err)
			}
			r.Repaired(store.ProblemTenantRegistry, 1)
		}
	case reg == "":
		r.Problem(store.ProblemTenantRegistry, "tenant %q exists but is missing from the tenant registry (ListTenants)", tenant)
		if repair {
			if err := s.c.HSetNX(ctx, s.tenantsKey(), tenant, rec).Err(); err != nil {
				return wrap(err)
			}
			r.Repaired(store.ProblemTenantRegistry, 1)
		}
	}
	return nil
}

// readRecords reads the version, document and stored index fields of the
// records ids (pipelined) and computes the index values their documents
// give (nameField is "un" or "dn").
func (s *Store) readRecords(ctx context.Context, key func(string) string, ids []string, nameField, nameAttr string,
	want func(mapping.Attrs) (string, string)) ([]*vrecord, error) {
	out := make([]*vrecord, 0, len(ids))
	for start := 0; start < len(ids); start += verifyBatch {
		batch := ids[start:min(start+verifyBatch, len(ids))]
		vals, err := s.hmgetAll(ctx, key, batch, []string{"v", "doc", nameField, "ex"})
		if err != nil {
			return nil, err
		}
		for i, v := range vals {
			rec := &vrecord{id: batch[i], v: str(v[0]),
				stored: map[string]string{nameField: str(v[2]), "ex": str(v[3])}}
			out = append(out, rec)
			if v[1] == nil {
				rec.corrupt = "no doc field"
				continue
			}
			a, err := decodeAttrs(str(v[1]))
			if err != nil {
				rec.corrupt = err.Error()
				continue
			}
			name, ex := want(a)
			rec.want = map[string]string{nameField: name, "ex": ex}
		}
	}
	return out, nil
}

// verifyFields checks the index fields each record carries against its
// document (the scripts re-index from those fields, so a stale one would
// leave a wrong entry behind on the next update).
func (s *Store) verifyFields(ctx context.Context, r *store.VerifyReport, kind string, recs []*vrecord, key func(string) string, repair bool) error {
	var fixes []*vrecord
	for _, rec := range recs {
		if rec.corrupt != "" {
			r.Problem(store.ProblemRecordCorrupt, "%s %s: %s", kind, rec.id, rec.corrupt)
			continue
		}
		for _, f := range sortedKeys(rec.want) {
			if rec.stored[f] != rec.want[f] {
				r.Problem(store.ProblemIndexFields, "%s %s: field %s is %q, its document says %q", kind, rec.id, f, rec.stored[f], rec.want[f])
				fixes = append(fixes, rec)
				break
			}
		}
	}
	if !repair {
		return nil
	}
	return s.repairAll(ctx, r, store.ProblemIndexFields, len(fixes), func(i int) ([]string, []any) {
		rec := fixes[i]
		args := []any{"fields", rec.v}
		for _, f := range sortedKeys(rec.want) {
			args = append(args, f, rec.want[f])
		}
		return []string{key(rec.id)}, args
	})
}

// verifyIndex checks one index hash against the records: every entry names
// an existing record with that value, every record's value has an entry
// naming it, and no two records share a value.
func (s *Store) verifyIndex(ctx context.Context, r *store.VerifyReport, kind string, recs []*vrecord, key func(string) string, ix vindex, repair bool) error {
	entries, err := s.hscanAll(ctx, ix.key)
	if err != nil {
		return err
	}
	byID := make(map[string]*vrecord, len(recs))
	holders := map[string][]string{} // value → ids of the records whose document has it
	for _, rec := range recs {
		byID[rec.id] = rec
		if rec.corrupt == "" && rec.want[ix.field] != "" {
			holders[rec.want[ix.field]] = append(holders[rec.want[ix.field]], rec.id)
		}
	}
	type fix struct{ field, id, v string }
	var dangling, mismatched []fix
	for _, field := range sortedKeys(entries) {
		id := entries[field]
		rec := byID[id]
		switch {
		case rec == nil:
			r.Problem(store.ProblemIndexDangling, "%s %s %q → %s: no such %s", kind, ix.name, field, id, kind)
			dangling = append(dangling, fix{field, id, ""})
		case rec.corrupt != "":
			// Unknown value: leave the entry alone (reported as corrupt).
		case rec.want[ix.field] != field:
			r.Problem(store.ProblemIndexMismatch, "%s %s %q → %s, whose %s is %q", kind, ix.name, field, id, ix.name, rec.want[ix.field])
			mismatched = append(mismatched, fix{field, id, rec.v})
		}
	}
	var sets []fix
	for _, value := range sortedKeys(holders) {
		ids := holders[value]
		if len(ids) > 1 {
			sort.Strings(ids)
			r.Problem(store.ProblemIndexClash, "%ss %s share %s %q", kind, strings.Join(ids, ", "), ix.name, value)
			continue
		}
		if entries[value] != ids[0] {
			r.Problem(store.ProblemUnindexed, "%s %s: %s %q is not indexed", kind, ids[0], ix.name, value)
			sets = append(sets, fix{value, ids[0], byID[ids[0]].v})
		}
	}
	if !repair {
		return nil
	}
	// Wrong entries go first, so that the values they held are free for
	// the records that own them.
	for problem, dels := range map[string][]fix{store.ProblemIndexDangling: dangling, store.ProblemIndexMismatch: mismatched} {
		if err := s.repairAll(ctx, r, problem, len(dels), func(i int) ([]string, []any) {
			d := dels[i]
			return []string{ix.key, key(d.id)}, []any{"idxdel", d.field, d.id, d.v}
		}); err != nil {
			return err
		}
	}
	return s.repairAll(ctx, r, store.ProblemUnindexed, len(sets), func(i int) ([]string, []any) {
		f := sets[i]
		return []string{ix.key, key(f.id)}, []any{"idxset", f.field, f.id, f.v}
	})
}

// verifyList checks a creation-order ZSET against the records.
func (s *Store) verifyList(ctx context.Context, r *store.VerifyReport, kind, list string, key func(string) string, recs map[string]bool, seq string, repair bool) error {
	listed, err := s.zscanAll(ctx, list)
	if err != nil {
		return err
	}
	var dangling, unlisted []string
	for _, id := range sortedKeys(listed) {
		if !recs[id] {
			r.Problem(store.ProblemListDangling, "%s list names %s: no such %s", kind, id, kind)
			dangling = append(dangling, id)
		}
	}
	for _, id := range sortedKeys(recs) {
		if !listed[id] {
			r.Problem(store.ProblemUnlisted, "%s %s is not in the %s list (paging skips it)", kind, id, kind)
			unlisted = append(unlisted, id)
		}
	}
	if !repair {
		return nil
	}
	if err := s.repairAll(ctx, r, store.ProblemListDangling, len(dangling), func(i int) ([]string, []any) {
		return []string{list, key(dangling[i])}, []any{"listdel", dangling[i]}
	}); err != nil {
		return err
	}
	return s.repairAll(ctx, r, store.ProblemUnlisted, len(unlisted), func(i int) ([]string, []any) {
		return []string{list, key(unlisted[i]), seq}, []any{"listadd", unlisted[i]}
	})
}

// verifyMembers checks the member sets against the users and groups, and the
// memberof back-references against the member sets (the member sets are the
// truth: GroupMembers reads them, UserGroups reads memberof).
func (s *Store) verifyMembers(ctx context.Context, r *store.VerifyReport, k keys, users, groups, memberKeys, memberofKeys map[string]bool, repair bool) error {
	gids := sortedKeys(memberKeys)
	members, err := s.smembersAll(ctx, k.members, gids)
	if err != nil {
		return err
	}
	uids := sortedKeys(memberofKeys)
	memberof, err := s.smembersAll(ctx, k.memberof, uids)
	if err != nil {
		return err
	}
	type pair struct{ uid, gid string }
	var orphans, backOrphans []string
	var dangling, missing, extra []pair
	for _, gid := range gids {
		if !groups[gid] {
			r.Problem(store.ProblemMembersOrphan, "member set of group %s (%d members): no such group", gid, len(members[gid]))
			orphans = append(orphans, gid)
			continue
		}
		for _, uid := range sortedKeys(members[gid]) {
			switch {
			case !users[uid]:
				r.Problem(store.ProblemMemberDangling, "group %s has member %s: no such user", gid, uid)
				dangling = append(dangling, pair{uid, gid})
			default:
				r.Memberships++
				if !memberof[uid][gid] {
					r.Problem(store.ProblemBackrefMissing, "user %s is a member of group %s, but its group list lacks it", uid, gid)
					missing = append(missing, pair{uid, gid})
				}
			}
		}
	}
	for _, uid := range uids {
		if !users[uid] {
			r.Problem(store.ProblemBackrefOrphan, "group list of user %s (%d groups): no such user", uid, len(memberof[uid]))
			backOrphans = append(backOrphans, uid)
			continue
		}
		for _, gid := range sortedKeys(memberof[uid]) {
			if !groups[gid] || !members[gid][uid] {
				r.Problem(store.ProblemBackrefExtra, "user %s's group list names group %s, which does not list it as a member", uid, gid)
				extra = append(extra, pair{uid, gid})
			}
		}
	}
	if !repair {
		return nil
	}
	for _, step := range []struct {
		kind string
		n    int
		cmd  func(int) ([]string, []any)
	}{
		{store.ProblemMembersOrphan, len(orphans), func(i int) ([]string, []any) {
			return []string{k.members(orphans[i]), k.group(orphans[i])}, []any{"setdel"}
		}},
		{store.ProblemMemberDangling, len(dangling), func(i int) ([]string, []any) {
			p := dangling[i]
			return []string{k.members(p.gid), k.user(p.uid)}, []any{"memdel", p.uid}
		}},
		{store.ProblemBackrefOrphan, len(backOrphans), func(i int) ([]string, []any) {
			return []string{k.memberof(backOrphans[i]), k.user(backOrphans[i])}, []any{"setdel"}
		}},
		{store.ProblemBackrefMissing, len(missing), func(i int) ([]string, []any) {
			p := missing[i]
			return []string{k.memberof(p.uid), k.members(p.gid), k.group(p.gid), k.user(p.uid)}, []any{"backadd", p.uid, p.gid}
		}},
		{store.ProblemBackrefExtra, len(extra), func(i int) ([]string, []any) {
			p := extra[i]
			return []string{k.memberof(p.uid), k.members(p.gid), k.group(p.gid)}, []any{"backdel", p.uid, p.gid}
		}},
	} {
		if err := s.repairAll(ctx, r, step.kind, step.n, step.cmd); err != nil {
			return err
		}
	}
	return nil
}

// verifyRoles checks that role assignments belong to existing users and are
// readable ("source:role" with a storable source).
func (s *Store) verifyRoles(ctx context.Context, r *store.VerifyReport, k keys, users, roleKeys map[string]bool, repair bool) error {
	uids := sortedKeys(roleKeys)
	sets, err := s.smembersAll(ctx, k.userRoles, uids)
	if err != nil {
		return err
	}
	var dangling []string
	type bad struct{ uid, m string }
	var malformed []bad
	for _, uid := range uids {
		if !users[uid] {
			r.Problem(store.ProblemRoleDangling, "%d role assignments of user %s: no such user", len(sets[uid]), uid)
			dangling = append(dangling, uid)
			continue
		}
		for _, m := range sortedKeys(sets[uid]) {
			source, role, ok := strings.Cut(m, ":")
			if !ok || store.CheckAssignment(role, source) != nil {
				r.Problem(store.ProblemRoleMalformed, "user %s: role assignment %q is not source:role", uid, m)
				malformed = append(malformed, bad{uid, m})
			}
		}
	}
	if !repair {
		return nil
	}
	if err := s.repairAll(ctx, r, store.ProblemRoleDangling, len(dangling), func(i int) ([]string, []any) {
		return []string{k.userRoles(dangling[i]), k.user(dangling[i])}, []any{"setdel"}
	}); err != nil {
		return err
	}
	return s.repairAll(ctx, r, store.ProblemRoleMalformed, len(malformed), func(i int) ([]string, []any) {
		return []string{k.userRoles(malformed[i].uid)}, []any{"srem", malformed[i].m}
	})
}

// repairAll runs n repair scripts (pipelined in batches; cmd gives the keys
// and arguments of the i-th) and counts those that changed something as
// repaired problems of kind.
func (s *Store) repairAll(ctx context.Context, r *store.VerifyReport, kind string, n int, cmd func(i int) ([]string, []any)) error {
	for start := 0; start < n; start += verifyBatch {
		end := min(start+verifyBatch, n)
		cctx, cancel := s.op(ctx)
		pipe := s.c.Pipeline()
		cmds := make([]*redis.Cmd, 0, end-start)
		for i := start; i < end; i++ {
			ks, args := cmd(i)
			cmds = append(cmds, scriptRepair.EvalSha(cctx, pipe, ks, args...))
		}
		_, err := pipe.Exec(cctx)
		cancel()
		if err != nil {
			return wrap(err)
		}
		for _, c := range cmds {
			if num(c.Val()) > 0 {
				r.Repaired(kind, 1)
			}
		}
	}
	return nil
}

// loadRepair loads scriptRepair on every node (a pipeline cannot fall back
// from EVALSHA to EVAL on NOSCRIPT).
func (s *Store) loadRepair(ctx context.Context) error {
	ctx, cancel := s.op(ctx)
	defer cancel()
	if cc, ok := s.c.(*redis.ClusterClient); ok {
		return wrap(cc.ForEachMaster(ctx, func(ctx context.Context, m *redis.Client) error {
			return scriptRepair.Load(ctx, m).Err()
		}))
	}
	return wrap(scriptRepair.Load(ctx, s.c).Err())
}

// hscanAll returns every field → value of a hash (HSCAN, so a big index
// does not block Redis).
func (s *Store) hscanAll(ctx context.Context, key string) (map[string]string, error) {
	out := map[string]string{}
	var cursor uint64
	for {
		cctx, cancel := s.op(ctx)
		kv, next, err := s.c.HScan(cctx, key, cursor, "*", 1000).Result()
		cancel()
		if err != nil {
			return nil, wrap(err)
		}
		for i := 0; i+1 < len(kv); i += 2 {
			out[kv[i]] = kv[i+1]
		}
		if cursor = next; cursor == 0 {
			return out, nil
		}
	}
}

// zscanAll returns the members of a sorted set (ZSCAN).
func (s *Store) zscanAll(ctx context.Context, key string) (map[string]bool, error) {
	out := map[string]bool{}
	var cursor uint64
	for {
		cctx, cancel := s.op(ctx)
		kv, next, err := s.c.ZScan(cctx, key, cursor, "*", 1000).Result()
		cancel()
		if err != nil {
			return nil, wrap(err)
		}
		for i := 0; i < len(kv); i += 2 {
			out[kv[i]] = true
		}
		if cursor = next; cursor == 0 {
			return out, nil
		}
	}
}

// smembersAll reads the sets key(id) for ids, pipelined in batches.
func (s *Store) smembersAll(ctx context.Context, key func(string) string, ids []string) (map[string]map[string]bool, error) {
	out := make(map[string]map[string]bool, len(ids))
	for start := 0; start < len(ids); start += verifyBatch {
		batch := ids[start:min(start+verifyBatch, len(ids))]
		cctx, cancel := s.op(ctx)
		pipe := s.c.Pipeline()
		cmds := make([]*redis.StringSliceCmd, len(batch))
		for i, id := range batch {
			cmds[i] = pipe.SMembers(cctx, key(id))
		}
		_, err := pipe.Exec(cctx)
		cancel()
		if err != nil {
			return nil, wrap(err)
		}
		for i, id := range batch {
			set := map[string]bool{}
			for _, m := range cmds[i].Val() {
				set[m] = true
			}
			out[id] = set
		}
	}
	return out, nil
}

// globEscape escapes the glob characters of a SCAN MATCH pattern.
func globEscape(s string) string {
	if !strings.ContainsAny(s, `*?[]\`) {
		return s
	}
	var b strings.Builder
	for _, c := range s {
		if strings.ContainsRune(`*?[]\`, c) {
			b.WriteByte('\\')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// sortedKeys returns the keys of m in order.
func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
