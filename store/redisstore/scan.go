package redisstore

import (
	"context"
	"fmt"
	"strconv"

	"github.com/redis/go-redis/v9"

	"github.com/axonflow/axonflow-sync/mapping"
	"github.com/axonflow/axonflow-sync/store"
)

// scanIDs returns up to limit ids of a creation-order ZSET (scored by the
// tenant's seq) whose score is above after, with the cursor after the last
// one and whether the ZSET held no more. One round trip (ZRANGE BYSCORE
// LIMIT WITHSCORES): a page costs the same wherever it starts.
func (s *Store) scanIDs(ctx context.Context, zkey string, after store.Cursor, limit int) ([]string, store.Cursor, bool, error) {
	if limit <= 0 {
		return nil, 0, false, fmt.Errorf("redisstore: scan limit %d", limit)
	}
	zs, err := s.c.ZRangeArgsWithScores(ctx, redis.ZRangeArgs{Key: zkey, ByScore: true,
		Start: "(" + strconv.FormatInt(int64(after), 10), Stop: "+inf", Count: int64(limit)}).Result()
	if err != nil {
		return nil, 0, false, wrap(err)
	}
	ids := make([]string, len(zs))
	next := after
	for i, z := range zs {
		ids[i], _ = z.Member.(string)
		next = store.Cursor(z.Score)
	}
	return ids, next, len(zs) < limit, nil
}

// summaryUserFields are the user hash fields ScanUsers reads.
var summaryUserFields = []string{"doc", "origin", "v"}

// ScanUsers returns up to limit users created after cursor after (their
// seq, the creation-order ZSET's score), as summaries whose identity is
// read from the stored document without decoding all of it
// (mapping.IdentityOfJSON). Two round trips: ZRANGE BYSCORE, then a
// pipeline of HMGETs (a user deleted in between is skipped).
func (s *Store) ScanUsers(ctx context.Context, tenant string, after store.Cursor, limit int) (store.ScanPage[store.UserSummary], error) {
	ctx, cancel := s.op(ctx) // one deadline for both round trips
	defer cancel()
	k := s.tk(tenant)
	ids, next, done, err := s.scanIDs(ctx, k.users(), after, limit)
	if err != nil {
		return store.ScanPage[store.UserSummary]{}, err
	}
	vals, err := s.hmgetAll(ctx, k.user, ids, summaryUserFields)
	if err != nil {
		return store.ScanPage[store.UserSummary]{}, err
	}
	p := store.ScanPage[store.UserSummary]{Items: make([]store.UserSummary, 0, len(ids)), Next: next, Done: done}
	for i, v := range vals {
		if len(v) != len(summaryUserFields) || v[0] == nil {
			continue
		}
		id, err := mapping.IdentityOfJSON(str(v[0]))
		if err != nil {
			return store.ScanPage[store.UserSummary]{}, fmt.Errorf("redisstore: user %s: decode attrs: %w", ids[i], err)
		}
		p.Items = append(p.Items, store.UserSummary{ID: ids[i], Origin: str(v[1]), Version: num(v[2]), Identity: id})
	}
	return p, nil
}

// summaryGroupFields are the group hash fields ScanGroups reads.
var summaryGroupFields = []string{"doc", "origin", "v", "okta"}

// ScanGroups returns up to limit groups created after cursor after, as
// summaries with their members. Two round trips: ZRANGE BYSCORE, then a
// pipeline of HMGET and SMEMBERS per group (a group deleted in between is
// skipped).
func (s *Store) ScanGroups(ctx context.Context, tenant string, after store.Cursor, limit int) (store.ScanPage[store.GroupSummary], error) {
	ctx, cancel := s.op(ctx)
	defer cancel()
	k := s.tk(tenant)
	ids, next, done, err := s.scanIDs(ctx, k.groups(), after, limit)
	if err != nil {
		return store.ScanPage[store.GroupSummary]{}, err
	}
	p := store.ScanPage[store.GroupSummary]{Items: make([]store.GroupSummary, 0, len(ids)), Next: next, Done: done}
	if len(ids) == 0 {
		return p, nil
	}
	pipe := s.c.Pipeline()
	recs := make([]*redis.SliceCmd, len(ids))
	mems := make([]*redis.StringSliceCmd, len(ids))
	for i, id := range ids {
		recs[i] = pipe.HMGet(ctx, k.group(id), summaryGroupFields...)
		mems[i] = pipe.SMembers(ctx, k.members(id))
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return store.ScanPage[store.GroupSummary]{}, wrap(err)
	}
	for i, id := range ids {
		v := recs[i].Val()
		if len(v) != len(summaryGroupFields) || v[0] == nil {
			continue
		}
		a, err := decodeAttrs(str(v[0]))
		if err != nil {
			return store.ScanPage[store.GroupSummary]{}, fmt.Errorf("redisstore: group %s: %w", id, err)
		}
		g := mapping.Group{Attrs: a}
		p.Items = append(p.Items, store.GroupSummary{ID: id, Origin: str(v[1]), Version: num(v[2]), OktaID: str(v[3]),
			DisplayName: g.DisplayName(), Members: mems[i].Val()})
	}
	return p, nil
}
