package redisstore

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/axonflow/axonflow-sync/mapping"
	"github.com/axonflow/axonflow-sync/store"
)

// CreateGroup stores g (ID, Attrs, OktaID, Origin, Created, LastModified as
// set by the caller) with Version 1 and the given initial members (duplicates
// ignored), filed under its folded displayName and its externalId. Errors:
// *store.ConflictError ("displayName", "externalId", or "id" for a taken id;
// a replay of the very same create succeeds), *store.UnknownMembersError if
// a member id is not a user of the tenant; nothing is stored then. On success
// g.Version is 1. One round trip (one script with 2 keys per member).
func (s *Store) CreateGroup(ctx context.Context, tenant string, g *mapping.Group, members []string) error {
	doc, err := json.Marshal(g.Attrs)
	if err != nil {
		return fmt.Errorf("redisstore: encode group %s: %w", g.ID, err)
	}
	ctx, cancel := s.op(ctx)
	defer cancel()
	k := s.tk(tenant)
	members = dedupe(members, nil)
	ks := make([]string, 0, 6+2*len(members))
	ks = append(ks, k.group(g.ID), k.groups(), k.idxDisplayName(), k.idxGroupExternalID(), k.seq(), k.members(g.ID))
	args := make([]any, 0, 8+len(members))
	args = append(args, g.ID, doc, g.Origin, fmtTime(g.Created), fmtTime(g.LastModified),
		mapping.FoldKey(g.DisplayName()), g.ExternalID(), g.OktaID)
	for _, m := range members {
		ks = append(ks, k.user(m), k.memberof(m))
		args = append(args, m)
	}
	script, ks, args, err := s.withLog(ctx, k, scriptCreateGroup, scriptCreateGroupLogged, ks, args)
	if err != nil {
		return err
	}
	r, err := script.Run(ctx, s.c, ks, args...).Result()
	if err != nil {
		return wrap(err)
	}
	if err := scriptStatus(r, map[string]string{"id": g.ID, "displayName": g.DisplayName(), "externalId": g.ExternalID()}); err != nil {
		return err
	}
	g.Version = 1
	return nil
}

// dedupe returns s without duplicates and without the elements of drop, in
// first-seen order.
func dedupe(s []string, drop map[string]bool) []string {
	seen := make(map[string]bool, len(s))
	out := make([]string, 0, len(s))
	for _, x := range s {
		if !seen[x] && !drop[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}

var groupFields = []string{"doc", "origin", "created", "lm", "v", "okta"}

// decodeGroup builds a Group from an HMGET of groupFields; nil if it does
// not exist.
func decodeGroup(id string, v []any) (*mapping.Group, error) {
	if len(v) != len(groupFields) || v[0] == nil {
		return nil, nil
	}
	return newGroup(id, str(v[0]), str(v[1]), str(v[2]), str(v[3]), num(v[4]), str(v[5]))
}

func newGroup(id, doc, origin, created, lm string, v int64, okta string) (*mapping.Group, error) {
	a, err := decodeAttrs(doc)
	if err != nil {
		return nil, fmt.Errorf("redisstore: group %s: %w", id, err)
	}
	g := &mapping.Group{ID: id, Attrs: a, OktaID: okta, Origin: origin, Version: v}
	if g.Created, err = parseTime(created); err != nil {
		return nil, err
	}
	if g.LastModified, err = parseTime(lm); err != nil {
		return nil, err
	}
	return g, nil
}

// GetGroup returns one group of the tenant (without members) or
// store.ErrNotFound. One round trip (HMGET).
func (s *Store) GetGroup(ctx context.Context, tenant, id string) (*mapping.Group, error) {
	ctx, cancel := s.op(ctx)
	defer cancel()
	v, err := s.c.HMGet(ctx, s.tk(tenant).group(id), groupFields...).Result()
	if err != nil {
		return nil, wrap(err)
	}
	g, err := decodeGroup(id, v)
	if err == nil && g == nil {
		err = store.ErrNotFound
	}
	return g, err
}

// GetGroups returns the groups that exist among ids, in the order of ids
// (missing ids are skipped). One round trip (a pipeline of HMGETs); none for
// no ids.
func (s *Store) GetGroups(ctx context.Context, tenant string, ids []string) ([]*mapping.Group, error) {
	vals, err := s.hmgetAll(ctx, s.tk(tenant).group, ids, groupFields)
	if err != nil {
		return nil, err
	}
	gs := make([]*mapping.Group, 0, len(ids))
	for i, v := range vals {
		g, err := decodeGroup(ids[i], v)
		if err != nil {
			return nil, err
		}
		if g != nil {
			gs = append(gs, g)
		}
	}
	return gs, nil
}

// UpdateGroup applies c to group id in one script and returns the group
// after it: new Attrs (re-indexing displayName/externalId) and OktaID if
// given, then the membership change (ReplaceMembers, then Remove, then Add;
// an id in both Add and Remove ends up a member). Version and LastModified
// (c.At) change only if attributes, OktaID or members actually changed, so
// adding an existing member is a no-op. The cost is O(len(Add)+len(Remove)),
// independent of the group's size. Errors (nothing changed then):
// store.ErrNotFound, store.ErrVersionMismatch (c.ExpectVersion),
// *store.ConflictError, *store.UnknownMembersError for added ids that are
// not users of the tenant.
//
// One round trip (one script with 2 keys per added and 1 per removed id),
// which also checks the store.MembersGuard of ctx, if any
// (*store.MembersChangedError). With ReplaceMembers two: SMEMBERS, then the script with the difference
// (+2 per retry if the members changed in between).
func (s *Store) UpdateGroup(ctx context.Context, tenant, id string, c store.GroupChange) (*mapping.Group, error) {
	var doc []byte
	if c.Attrs != nil {
		var err error
		if doc, err = json.Marshal(c.Attrs); err != nil {
			return nil, fmt.Errorf("redisstore: encode group %s: %w", id, err)
		}
	}
	ctx, cancel := s.op(ctx)
	defer cancel()
	k := s.tk(tenant)
	add := dedupe(c.Add, nil)
	addSet := make(map[string]bool, len(add))
	for _, a := range add {
		addSet[a] = true
	}
	rem := dedupe(c.Remove, addSet) // final = (S − Remove) ∪ Add
	if !c.ReplaceMembers {
		guard := ""
		if g, ok := store.MembersGuardOf(ctx); ok && len(add)+len(rem) > 0 {
			guard = guardFlags(g, add, rem)
		}
		return s.updateGroup(ctx, k, id, c, doc, false, add, rem, nil, guard)
	}
	remSet := make(map[string]bool, len(rem))
	for _, r := range rem {
		remSet[r] = true
	}
	final := dedupe(append(dedupe(c.Members, remSet), add...), nil)
	for range maxRetries {
		cur, err := s.c.SMembers(ctx, k.members(id)).Result()
		if err != nil {
			return nil, wrap(err)
		}
		curSet := make(map[string]bool, len(cur))
		for _, m := range cur {
			curSet[m] = true
		}
		var adds, keeps, rems []string
		finalSet := make(map[string]bool, len(final))
		for _, m := range final {
			finalSet[m] = true
			if curSet[m] {
				keeps = append(keeps, m)
			} else {
				adds = append(adds, m)
			}
		}
		for _, m := range cur {
			if !finalSet[m] {
				rems = append(rems, m)
			}
		}
		g, err := s.updateGroup(ctx, k, id, c, doc, true, adds, rems, keeps, "")
		if err != errRetry {
			return g, err
		}
	}
	return nil, fmt.Errorf("%w: UpdateGroup %s: too much concurrent membership change", store.ErrUnavailable, id)
}

// guardFlags encodes g for scriptUpdateGroup: per uid of adds, then of
// rems, '1' if g takes it to be a member, else '0'.
func guardFlags(g store.MembersGuard, adds, rems []string) string {
	in := make(map[string]bool, len(g.Members))
	for _, m := range g.Members {
		in[m] = true
	}
	b := make([]byte, 0, len(adds)+len(rems))
	for _, l := range [][]string{adds, rems} {
		for _, m := range l {
			if in[m] {
				b = append(b, '1')
			} else {
				b = append(b, '0')
			}
		}
	}
	return string(b)
}

func (s *Store) updateGroup(ctx context.Context, k keys, id string, c store.GroupChange, doc []byte,
	replace bool, adds, rems, keeps []string, guard string) (*mapping.Group, error) {
	ks := make([]string, 0, 4+2*len(adds)+len(rems))
	ks = append(ks, k.group(id), k.idxDisplayName(), k.idxGroupExternalID(), k.members(id))
	args := make([]any, 0, 14+len(adds)+len(rems)+len(keeps))
	var dn, ex string
	if c.Attrs != nil {
		g := mapping.Group{Attrs: c.Attrs}
		dn, ex = mapping.FoldKey(g.DisplayName()), g.ExternalID()
	}
	okta := ""
	if c.OktaID != nil {
		okta = *c.OktaID
	}
	args = append(args, id, c.ExpectVersion, flag(c.Attrs != nil), doc, dn, ex,
		flag(c.OktaID != nil), okta, fmtTime(c.At), flag(replace), len(adds), len(rems), len(keeps))
	for _, m := range adds {
		ks = append(ks, k.user(m), k.memberof(m))
		args = append(args, m)
	}
	for _, m := range rems {
		ks = append(ks, k.memberof(m))
		args = append(args, m)
	}
	for _, m := range keeps {
		args = append(args, m)
	}
	if guard != "" {
		args = append(args, guard)
	}
	script, ks, args, err := s.withLog(ctx, k, scriptUpdateGroup, scriptUpdateGroupLogged, ks, args)
	if err != nil {
		return nil, err
	}
	r, err := script.Run(ctx, s.c, ks, args...).Result()
	if err != nil {
		return nil, wrap(err)
	}
	st, rest, err := scriptResult(r)
	if err != nil {
		return nil, err
	}
	var values map[string]string
	if c.Attrs != nil {
		g := mapping.Group{Attrs: c.Attrs}
		values = map[string]string{"displayName": g.DisplayName(), "externalId": g.ExternalID()}
	}
	if err := statusErr(st, rest, values); err != nil {
		return nil, err
	}
	if len(rest) != 7 {
		return nil, fmt.Errorf("redisstore: unexpected UpdateGroup reply %v", r)
	}
	return newGroup(id, str(rest[1]), str(rest[3]), str(rest[4]), str(rest[5]), num(rest[0]), str(rest[2]))
}

func flag(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// DeleteGroup removes the group, its index entries, its member set and the
// back-references of its members in one script, or returns
// store.ErrNotFound (store.ErrVersionMismatch when expectVersion > 0 is not
// the group's version: see store.State). Two round trips: SMEMBERS of the members, then the
// script, which is given every memberof:<uid> key (so its cost is
// O(members)) and retries (two more) if a member was added in between.
func (s *Store) DeleteGroup(ctx context.Context, tenant, id string, expectVersion int64) error {
	ctx, cancel := s.op(ctx)
	defer cancel()
	k := s.tk(tenant)
	for range maxRetries {
		uids, err := s.c.SMembers(ctx, k.members(id)).Result()
		if err != nil {
			return wrap(err)
		}
		ks := make([]string, 0, 5+len(uids))
		ks = append(ks, k.group(id), k.groups(), k.idxDisplayName(), k.idxGroupExternalID(), k.members(id))
		args := make([]any, 0, 2+len(uids))
		args = append(args, id, expectVersion)
		for _, u := range uids {
			ks = append(ks, k.memberof(u))
			args = append(args, u)
		}
		script, ks, args, err := s.withLog(ctx, k, scriptDeleteGroup, scriptDeleteGroupLogged, ks, args)
		if err != nil {
			return err
		}
		r, err := script.Run(ctx, s.c, ks, args...).Result()
		if err != nil {
			return wrap(err)
		}
		if err := scriptStatus(r, nil); err != errRetry {
			return err
		}
	}
	return fmt.Errorf("%w: DeleteGroup %s: too much concurrent membership change", store.ErrUnavailable, id)
}

// FindGroup returns the id of the group whose displayName
// (store.IndexDisplayName, compared by mapping.FoldKey) or externalId
// (store.IndexExternalID, exact) is value, or store.ErrNotFound (also for
// ""). Other indexes are an error. One round trip (HGET).
func (s *Store) FindGroup(ctx context.Context, tenant string, idx store.Index, value string) (string, error) {
	k := s.tk(tenant)
	switch idx {
	case store.IndexDisplayName:
		return s.find(ctx, k.idxDisplayName(), mapping.FoldKey(value))
	case store.IndexExternalID:
		return s.find(ctx, k.idxGroupExternalID(), value)
	}
	return "", fmt.Errorf("redisstore: FindGroup: index %q not supported", idx)
}

// ListGroups returns up to limit groups from the 0-based offset in creation
// order, and Total, the number of groups of the tenant. A negative offset is
// 0; limit <= 0 returns only Total. Two round trips: ZCARD + ZRANGE, then a
// pipeline of HMGETs (a group deleted in between is skipped).
func (s *Store) ListGroups(ctx context.Context, tenant string, offset, limit int) (store.Page[*mapping.Group], error) {
	ctx, cancel := s.op(ctx)
	defer cancel()
	ids, total, err := s.listIDs(ctx, s.tk(tenant).groups(), offset, limit)
	if err != nil {
		return store.Page[*mapping.Group]{}, err
	}
	gs, err := s.GetGroups(ctx, tenant, ids)
	if err != nil {
		return store.Page[*mapping.Group]{}, err
	}
	return store.Page[*mapping.Group]{Items: gs, Total: total}, nil
}

// GroupMembers returns the user ids of the group's members in no particular
// order, or store.ErrNotFound if the group does not exist. One round trip (a
// pipeline of EXISTS and SMEMBERS).
func (s *Store) GroupMembers(ctx context.Context, tenant, id string) ([]string, error) {
	ctx, cancel := s.op(ctx)
	defer cancel()
	k := s.tk(tenant)
	pipe := s.c.Pipeline()
	ex := pipe.Exists(ctx, k.group(id))
	mem := pipe.SMembers(ctx, k.members(id))
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, wrap(err)
	}
	if ex.Val() == 0 {
		return nil, store.ErrNotFound
	}
	return mem.Val(), nil
}
