package redisstore

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/redis/go-redis/v9"

	"github.com/axonflow/axonflow-sync/mapping"
	"github.com/axonflow/axonflow-sync/store"
)

// CreateUser stores u (ID, Attrs, Origin, Created, LastModified as set by the
// caller) with Version 1 and files it under its folded userName and its
// externalId. A taken userName or externalId gives *store.ConflictError
// ("userName", "externalId"), a taken id *store.ConflictError{Attr: "id"}; a
// replay of the very same create succeeds. On success u.Version is 1.
// One round trip (one script).
func (s *Store) CreateUser(ctx context.Context, tenant string, u *mapping.User) error {
	doc, err := json.Marshal(u.Attrs)
	if err != nil {
		return fmt.Errorf("redisstore: encode user %s: %w", u.ID, err)
	}
	ctx, cancel := s.op(ctx)
	defer cancel()
	k := s.tk(tenant)
	script, ks, args, err := s.withLog(ctx, k, scriptCreateUser, scriptCreateUserLogged,
		[]string{k.user(u.ID), k.users(), k.idxUserName(), k.idxUserExternalID(), k.seq()},
		[]any{u.ID, doc, u.Origin, fmtTime(u.Created), fmtTime(u.LastModified),
			mapping.FoldKey(u.UserName()), u.ExternalID()})
	if err != nil {
		return err
	}
	r, err := script.Run(ctx, s.c, ks, args...).Result()
	if err != nil {
		return wrap(err)
	}
	if err := scriptStatus(r, map[string]string{"id": u.ID, "userName": u.UserName(), "externalId": u.ExternalID()}); err != nil {
		return err
	}
	u.Version = 1
	return nil
}

var userFields = []string{"doc", "origin", "created", "lm", "v"}

// decodeUser builds a User from an HMGET of userFields; nil if it does not exist.
func decodeUser(id string, v []any) (*mapping.User, error) {
	if len(v) != len(userFields) || v[0] == nil {
		return nil, nil
	}
	return newUser(id, str(v[0]), str(v[1]), str(v[2]), str(v[3]), num(v[4]))
}

// newUser builds a User from its stored fields (userFields).
func newUser(id, doc, origin, created, lm string, v int64) (*mapping.User, error) {
	a, err := decodeUserAttrs(id, doc)
	if err != nil {
		return nil, err
	}
	u, err := newUserMeta(id, origin, created, lm, v)
	if err != nil {
		return nil, err
	}
	u.Attrs = a
	return u, nil
}

// newUserMeta is newUser without the attributes (Attrs nil): what
// UserDocContext returns with the user's document. Its errors are the
// times' (newUser's after a document that decodes).
func newUserMeta(id, origin, created, lm string, v int64) (*mapping.User, error) {
	u := new(mapping.User)
	if err := setUserMeta(u, id, origin, created, lm, v); err != nil {
		return nil, err
	}
	return u, nil
}

// setUserMeta is newUserMeta into *u (which it overwrites).
func setUserMeta(u *mapping.User, id, origin, created, lm string, v int64) error {
	*u = mapping.User{ID: id, Origin: origin, Version: v}
	var err error
	if u.Created, err = parseTime(created); err != nil {
		return err
	}
	u.LastModified, err = parseTime(lm)
	return err
}

// decodeUserAttrs decodes user id's stored document doc, with newUser's
// error.
func decodeUserAttrs(id, doc string) (mapping.Attrs, error) {
	a, err := decodeAttrs(doc)
	if err != nil {
		return nil, fmt.Errorf("redisstore: user %s: %w", id, err)
	}
	return a, nil
}

// decodeAttrs decodes a stored attribute document, keeping numbers as
// json.Number (mapping.DecodeAttrsJSON).
func decodeAttrs(doc string) (mapping.Attrs, error) {
	a, err := mapping.DecodeAttrsJSON(doc)
	if err != nil {
		return nil, fmt.Errorf("decode attrs: %w", err)
	}
	return a, nil
}

// GetUser returns one user of the tenant or store.ErrNotFound. One round
// trip (HMGET).
func (s *Store) GetUser(ctx context.Context, tenant, id string) (*mapping.User, error) {
	ctx, cancel := s.op(ctx)
	defer cancel()
	v, err := s.c.HMGet(ctx, s.tk(tenant).user(id), userFields...).Result()
	if err != nil {
		return nil, wrap(err)
	}
	u, err := decodeUser(id, v)
	if err == nil && u == nil {
		err = store.ErrNotFound
	}
	return u, err
}

// GetUsers returns the users that exist among ids, in the order of ids
// (missing ids are skipped). One round trip (a pipeline of HMGETs); none for
// no ids.
func (s *Store) GetUsers(ctx context.Context, tenant string, ids []string) ([]*mapping.User, error) {
	vals, err := s.hmgetAll(ctx, s.tk(tenant).user, ids, userFields)
	if err != nil {
		return nil, err
	}
	us := make([]*mapping.User, 0, len(ids))
	for i, v := range vals {
		u, err := decodeUser(ids[i], v)
		if err != nil {
			return nil, err
		}
		if u != nil {
			us = append(us, u)
		}
	}
	return us, nil
}

// hmgetAll pipelines HMGET key(id) fields for every id.
func (s *Store) hmgetAll(ctx context.Context, key func(string) string, ids, fields []string) ([][]any, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	ctx, cancel := s.op(ctx)
	defer cancel()
	pipe := s.c.Pipeline()
	cmds := make([]*redis.SliceCmd, len(ids))
	for i, id := range ids {
		cmds[i] = pipe.HMGet(ctx, key(id), fields...)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, wrap(err)
	}
	out := make([][]any, len(ids))
	for i, c := range cmds {
		out[i] = c.Val()
	}
	return out, nil
}

// UpdateUser replaces u's Attrs and LastModified if the stored version is
// expectVersion (0: any; else store.ErrVersionMismatch), moving its
// userName/externalId index entries in the same script (*store.ConflictError
// if the new value belongs to another user). On success u.Version is the new
// version, and u.Origin and u.Created are the stored ones. The version is
// bumped even if Attrs are unchanged. store.ErrNotFound if the user does not
// exist. One round trip (one script).
func (s *Store) UpdateUser(ctx context.Context, tenant string, u *mapping.User, expectVersion int64) error {
	doc, err := json.Marshal(u.Attrs)
	if err != nil {
		return fmt.Errorf("redisstore: encode user %s: %w", u.ID, err)
	}
	ctx, cancel := s.op(ctx)
	defer cancel()
	k := s.tk(tenant)
	script, ks, args, err := s.withLog(ctx, k, scriptUpdateUser, scriptUpdateUserLogged,
		[]string{k.user(u.ID), k.idxUserName(), k.idxUserExternalID()},
		[]any{u.ID, expectVersion, doc, fmtTime(u.LastModified),
			mapping.FoldKey(u.UserName()), u.ExternalID()})
	if err != nil {
		return err
	}
	r, err := script.Run(ctx, s.c, ks, args...).Result()
	if err != nil {
		return wrap(err)
	}
	st, rest, err := scriptResult(r)
	if err != nil {
		return err
	}
	if err := statusErr(st, rest, map[string]string{"userName": u.UserName(), "externalId": u.ExternalID()}); err != nil {
		return err
	}
	if len(rest) != 3 {
		return fmt.Errorf("redisstore: unexpected UpdateUser reply %v", r)
	}
	u.Version = num(rest[0])
	u.Origin = str(rest[1])
	if u.Created, err = parseTime(str(rest[2])); err != nil {
		return err
	}
	return nil
}

// DeleteUser removes the user, its index entries, its memberships (it
// leaves every group it was in; those groups' versions are not bumped) and
// its role assignments in one script, or returns store.ErrNotFound. Two round trips: SMEMBERS of the
// user's groups, then the script, which is given every members:<gid> key and
// retries (two more) if a group was added in between.
func (s *Store) DeleteUser(ctx context.Context, tenant, id string) error {
	ctx, cancel := s.op(ctx)
	defer cancel()
	k := s.tk(tenant)
	for range maxRetries {
		gids, err := s.c.SMembers(ctx, k.memberof(id)).Result()
		if err != nil {
			return wrap(err)
		}
		ks := make([]string, 0, 6+len(gids))
		ks = append(ks, k.user(id), k.users(), k.idxUserName(), k.idxUserExternalID(), k.memberof(id), k.userRoles(id))
		args := make([]any, 0, 1+len(gids))
		args = append(args, id)
		for _, g := range gids {
			ks = append(ks, k.members(g))
			args = append(args, g)
		}
		script, ks, args, err := s.withLog(ctx, k, scriptDeleteUser, scriptDeleteUserLogged, ks, args)
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
	return fmt.Errorf("%w: DeleteUser %s: too much concurrent membership change", store.ErrUnavailable, id)
}

// FindUser returns the id of the user whose userName (store.IndexUserName,
// compared by mapping.FoldKey) or externalId (store.IndexExternalID, exact)
// is value, or store.ErrNotFound (also for ""). Other indexes are an error.
// One round trip (HGET).
func (s *Store) FindUser(ctx context.Context, tenant string, idx store.Index, value string) (string, error) {
	k := s.tk(tenant)
	switch idx {
	case store.IndexUserName:
		return s.find(ctx, k.idxUserName(), mapping.FoldKey(value))
	case store.IndexExternalID:
		return s.find(ctx, k.idxUserExternalID(), value)
	}
	return "", fmt.Errorf("redisstore: FindUser: index %q not supported", idx)
}

func (s *Store) find(ctx context.Context, key, field string) (string, error) {
	if field == "" {
		return "", store.ErrNotFound
	}
	ctx, cancel := s.op(ctx)
	defer cancel()
	id, err := s.c.HGet(ctx, key, field).Result()
	return id, wrap(err)
}

// ListUsers returns up to limit users from the 0-based offset in creation
// order, and Total, the number of users of the tenant. A negative offset is
// 0; limit <= 0 returns only Total. Two round trips: ZCARD + ZRANGE, then a
// pipeline of HMGETs (a user deleted in between is skipped).
func (s *Store) ListUsers(ctx context.Context, tenant string, offset, limit int) (store.Page[*mapping.User], error) {
	ctx, cancel := s.op(ctx) // one deadline for both round trips
	defer cancel()
	k := s.tk(tenant)
	ids, total, err := s.listIDs(ctx, k.users(), offset, limit)
	if err != nil {
		return store.Page[*mapping.User]{}, err
	}
	us, err := s.GetUsers(ctx, tenant, ids)
	if err != nil {
		return store.Page[*mapping.User]{}, err
	}
	return store.Page[*mapping.User]{Items: us, Total: total}, nil
}

// listIDs returns ids [offset, offset+limit) of a creation-order ZSET and its
// cardinality, in one round trip.
func (s *Store) listIDs(ctx context.Context, zkey string, offset, limit int) ([]string, int, error) {
	ctx, cancel := s.op(ctx)
	defer cancel()
	offset = max(offset, 0)
	pipe := s.c.Pipeline()
	card := pipe.ZCard(ctx, zkey)
	var rng *redis.StringSliceCmd
	if limit > 0 {
		rng = pipe.ZRange(ctx, zkey, int64(offset), int64(offset)+int64(limit)-1)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, 0, wrap(err)
	}
	var ids []string
	if rng != nil {
		ids = rng.Val()
	}
	return ids, int(card.Val()), nil
}

// UserGroups returns, for each of uids, the ids of the groups it belongs to
// (every uid is a key of the map; unknown users have none). One round trip (a
// pipeline of SMEMBERS); none for no uids.
func (s *Store) UserGroups(ctx context.Context, tenant string, uids []string) (map[string][]string, error) {
	out := make(map[string][]string, len(uids))
	if len(uids) == 0 {
		return out, nil
	}
	ctx, cancel := s.op(ctx)
	defer cancel()
	k := s.tk(tenant)
	pipe := s.c.Pipeline()
	cmds := make([]*redis.StringSliceCmd, len(uids))
	for i, uid := range uids {
		cmds[i] = pipe.SMembers(ctx, k.memberof(uid))
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, wrap(err)
	}
	for i, uid := range uids {
		out[uid] = cmds[i].Val()
	}
	return out, nil
}
