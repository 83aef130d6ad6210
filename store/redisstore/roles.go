package redisstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	gosync "sync"

	"github.com/redis/go-redis/v9"

	"github.com/axonflow/axonflow-sync/mapping"
	"github.com/axonflow/axonflow-sync/store"
)

func (k keys) roleMappings() string        { return k.base + "roles:mappings" }
func (k keys) userRoles(uid string) string { return k.base + "roles:user:" + uid }
func (k keys) defaultRole() string         { return k.base + "roles:default" }

// storedMapping is the JSON value of one t:{T}:roles:mappings field.
type storedMapping struct {
	Group  string `json:"group"`
	ByName bool   `json:"byName,omitempty"`
	Role   string `json:"role"`
	Source string `json:"source"`
}

// PutRoleMapping upserts m under its key (m.Key()) in the HASH
// t:{T}:roles:mappings. An empty m.Group is an error. One round trip
// (HSET).
func (s *Store) PutRoleMapping(ctx context.Context, tenant string, m mapping.RoleMapping) error {
	if m.Group == "" {
		return errors.New("redisstore: role mapping without a group")
	}
	v, err := json.Marshal(storedMapping(m))
	if err != nil {
		return fmt.Errorf("redisstore: encode role mapping: %w", err)
	}
	ctx, cancel := s.op(ctx)
	defer cancel()
	return wrap(s.c.HSet(ctx, s.tk(tenant).roleMappings(), m.Key(), v).Err())
}

// DeleteRoleMapping removes the mapping with key
// mapping.RoleMappingKey(group, byName), or returns store.ErrNotFound. One
// round trip (HDEL).
func (s *Store) DeleteRoleMapping(ctx context.Context, tenant, group string, byName bool) error {
	ctx, cancel := s.op(ctx)
	defer cancel()
	n, err := s.c.HDel(ctx, s.tk(tenant).roleMappings(), mapping.RoleMappingKey(group, byName)).Result()
	if err != nil {
		return wrap(err)
	}
	if n == 0 {
		return store.ErrNotFound
	}
	return nil
}

// ListRoleMappings returns the tenant's mappings in
// mapping.SortRoleMappings order. One round trip (HGETALL).
func (s *Store) ListRoleMappings(ctx context.Context, tenant string) ([]mapping.RoleMapping, error) {
	ctx, cancel := s.op(ctx)
	defer cancel()
	h, err := s.c.HGetAll(ctx, s.tk(tenant).roleMappings()).Result()
	if err != nil {
		return nil, wrap(err)
	}
	return parseMappings(h)
}

// assignmentMember is the member of t:{T}:roles:user:<uid> that stands for
// one assignment: "source:role" (sources contain no ':').
func assignmentMember(role, source string) string { return source + ":" + role }

// AssignRole adds "source:role" to the SET t:{T}:roles:user:<uid> if the
// user exists (store.ErrNotFound otherwise), in one script: one round
// trip.
func (s *Store) AssignRole(ctx context.Context, tenant, userID, role, source string) error {
	if err := store.CheckAssignment(role, source); err != nil {
		return err
	}
	ctx, cancel := s.op(ctx)
	defer cancel()
	k := s.tk(tenant)
	r, err := scriptAssignRole.Run(ctx, s.c, []string{k.user(userID), k.userRoles(userID)}, assignmentMember(role, source)).Result()
	if err != nil {
		return wrap(err)
	}
	return scriptStatus(r, nil)
}

// UnassignRole removes "source:role" from t:{T}:roles:user:<uid>, or
// returns store.ErrNotFound if it was not there. One round trip (SREM).
func (s *Store) UnassignRole(ctx context.Context, tenant, userID, role, source string) error {
	ctx, cancel := s.op(ctx)
	defer cancel()
	n, err := s.c.SRem(ctx, s.tk(tenant).userRoles(userID), assignmentMember(role, source)).Result()
	if err != nil {
		return wrap(err)
	}
	if n == 0 {
		return store.ErrNotFound
	}
	return nil
}

// UserRoles returns the stored assignments of each of userIDs that has
// any. One round trip (a pipeline of SMEMBERS); none for no ids.
func (s *Store) UserRoles(ctx context.Context, tenant string, userIDs []string) (map[string][]mapping.RoleAssignment, error) {
	out := make(map[string][]mapping.RoleAssignment)
	if len(userIDs) == 0 {
		return out, nil
	}
	ctx, cancel := s.op(ctx)
	defer cancel()
	k := s.tk(tenant)
	pipe := s.c.Pipeline()
	cmds := make([]*redis.StringSliceCmd, len(userIDs))
	for i, uid := range userIDs {
		cmds[i] = pipe.SMembers(ctx, k.userRoles(uid))
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, wrap(err)
	}
	return parseAssignments(userIDs, cmds)
}

// parseAssignments turns the SMEMBERS replies of userIDs into assignments.
func parseAssignments(userIDs []string, cmds []*redis.StringSliceCmd) (map[string][]mapping.RoleAssignment, error) {
	sets := make([][]string, len(cmds))
	for i, c := range cmds {
		sets[i] = c.Val()
	}
	return parseAssignmentSets(userIDs, sets)
}

// parseAssignmentSets turns the members of each user's roles:user set
// (sets[i] of userIDs[i]) into assignments.
func parseAssignmentSets(userIDs []string, sets [][]string) (map[string][]mapping.RoleAssignment, error) {
	out := make(map[string][]mapping.RoleAssignment)
	for i, uid := range userIDs {
		ms := sets[i]
		if len(ms) == 0 {
			continue
		}
		as := make([]mapping.RoleAssignment, 0, len(ms))
		for _, m := range ms {
			source, role, ok := strings.Cut(m, ":")
			if !ok {
				return nil, fmt.Errorf("redisstore: malformed role assignment %q of user %s", m, uid)
			}
			as = append(as, mapping.RoleAssignment{Role: role, Source: source})
		}
		mapping.SortRoleAssignments(as)
		out[uid] = as
	}
	return out, nil
}

// parseMappings decodes the t:{T}:roles:mappings hash.
func parseMappings(h map[string]string) ([]mapping.RoleMapping, error) {
	out := make([]mapping.RoleMapping, 0, len(h))
	for key, v := range h {
		var sm storedMapping
		if err := json.Unmarshal([]byte(v), &sm); err != nil {
			return nil, fmt.Errorf("redisstore: role mapping %q: %w", key, err)
		}
		out = append(out, mapping.RoleMapping(sm))
	}
	mapping.SortRoleMappings(out)
	return out, nil
}

// UserContext reads (when withUsers) the users among userIDs, their group
// ids and those groups, the tenant's role mappings and default role and the
// users' role assignments. One round trip, whether or not the users are in
// groups: one read-only script (EVALSHA; see luaUserContext) of
// O(len(userIDs) + their memberships + distinct groups) commands: per user
// an HMGET (withUsers) and two SMEMBERS (memberof, roles:user), one HMGET
// per distinct group, one HGETALL and one GET.
func (s *Store) UserContext(ctx context.Context, tenant string, userIDs []string, withUsers bool) (store.UserContext, error) {
	return s.userContext(ctx, tenant, userIDs, withUsers, nil)
}

// UserDocContext is store.UserDocs: UserContext(tenant, []string{id},
// true) with the user's attributes left as their stored document. One
// round trip, as UserContext.
func (s *Store) UserDocContext(ctx context.Context, tenant, id string) (store.UserContext, string, error) {
	ids, docs := [1]string{id}, [1]string{}
	uc, err := s.userContext(ctx, tenant, ids[:], true, docs[:])
	return uc, docs[0], err
}

// DecodeUserDoc is store.UserDocs: u.Attrs from doc, or the error
// UserContext returns for a user whose document does not decode.
func (s *Store) DecodeUserDoc(u *mapping.User, doc string) error {
	a, err := decodeUserAttrs(u.ID, doc)
	if err != nil {
		return malformedUserContext(1, err)
	}
	u.Attrs = a
	return nil
}

// userContext is UserContext, with the users' attributes left in docs
// when docs is not nil (see decodeUserContext).
func (s *Store) userContext(ctx context.Context, tenant string, userIDs []string, withUsers bool, docs []string) (store.UserContext, error) {
	ctx, cancel := s.op(ctx)
	defer cancel()
	uk := s.userCtx(tenant)
	var with any = "0"
	if withUsers {
		with = "1"
	}
	a := scriptArgsPool.Get().(*scriptArgs)
	defer a.release()
	a.ids = append(a.ids[:0], userIDs...)
	a.cmd = append(a.cmd[:0], uk.userContext...)
	a.cmd = append(a.cmd, with)
	for i := range a.ids {
		a.cmd = append(a.cmd, &a.ids[i]) // a *string: boxed without an allocation
	}
	r, err := s.runScript(ctx, scriptUserContext, a.cmd, len(uk.keys)).Result()
	if err != nil {
		return store.UserContext{}, wrap(err)
	}
	return decodeUserContext(userIDs, withUsers, r, docs)
}

// scriptArgs is a script command's arguments, reused across calls
// (scriptArgsPool): cmd the command, ids the strings its *string
// arguments point to (go-redis writes a *string as the string), so that
// neither the slice nor the boxing of each id costs an allocation. It
// may be reused once the command has run: go-redis keeps no argument
// past Process, and Script.Eval (the NOSCRIPT fallback) copies them.
type scriptArgs struct {
	cmd []any
	ids []string
}

var scriptArgsPool = gosync.Pool{New: func() any { return new(scriptArgs) }}

// release clears a's references (so a pooled entry pins no request's
// strings) and returns it to scriptArgsPool; one whose slices grew past
// a few dozen entries (a long list's user context) is dropped instead.
func (a *scriptArgs) release() {
	if cap(a.cmd) > 64 || cap(a.ids) > 64 {
		return
	}
	clear(a.cmd)
	clear(a.ids)
	a.cmd, a.ids = a.cmd[:0], a.ids[:0]
	scriptArgsPool.Put(a)
}

// SetDefaultRole stores role ("" for none) in t:{T}:roles:default. One
// round trip (SET).
func (s *Store) SetDefaultRole(ctx context.Context, tenant, role string) error {
	ctx, cancel := s.op(ctx)
	defer cancel()
	return wrap(s.c.Set(ctx, s.tk(tenant).defaultRole(), role, 0).Err())
}

// DefaultRole returns the tenant's default role and whether it was ever
// set. One round trip (GET).
func (s *Store) DefaultRole(ctx context.Context, tenant string) (string, bool, error) {
	ctx, cancel := s.op(ctx)
	defer cancel()
	v, err := s.c.Get(ctx, s.tk(tenant).defaultRole()).Result()
	if errors.Is(err, redis.Nil) {
		return "", false, nil
	}
	if err != nil {
		return "", false, wrap(err)
	}
	return v, true, nil
}
