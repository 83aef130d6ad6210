package redisstore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/axonflow/axonflow-sync/store"
)

func (k keys) lease(name string) string { return k.base + "lease:" + name }
func (k keys) runs() string             { return k.base + "runs" }
func (k keys) runData() string          { return k.base + "runs:data" }

// scriptAcquireLease: KEYS lease; ARGV owner, ttl ms.
// SET NX PX takes a free (or expired: Redis deleted it) lease; the holder
// itself re-acquiring extends it. Returns {1|0, holder}.
var scriptAcquireLease = redis.NewScript(`
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return {1, ARGV[1]} end
local cur = redis.call('GET', KEYS[1])
if cur == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return {1, cur}
end
return {0, cur or ''}
`)

// scriptRenewLease: KEYS lease; ARGV owner, ttl ms. Compare-and-renew:
// returns 1 if owner held the lease (now extended), else 0.
var scriptRenewLease = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
`)

// scriptReleaseLease: KEYS lease; ARGV owner. Compare-and-delete.
var scriptReleaseLease = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`)

// scriptSaveRun: KEYS runs:data (HASH id → "started data"), runs (ZSET id →
// started µs); ARGV id, score, value, keep. Upserts the run, then drops the
// lowest-scored runs beyond keep from both keys.
var scriptSaveRun = redis.NewScript(`
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
local old = redis.call('ZREVRANGE', KEYS[2], tonumber(ARGV[4]), -1)
for _, id in ipairs(old) do redis.call('HDEL', KEYS[1], id) end
if #old > 0 then redis.call('ZREMRANGEBYRANK', KEYS[2], 0, #old - 1) end
return {'OK'}
`)

func validLease(name, owner string, ttl time.Duration) error {
	switch {
	case name == "" || owner == "":
		return errors.New("redisstore: lease name and owner must not be empty")
	case ttl < time.Millisecond:
		return fmt.Errorf("redisstore: lease ttl %v must be at least 1ms", ttl)
	}
	return nil
}

// AcquireLease takes the lease t:{T}:lease:<name> for owner with SET NX PX
// (or extends it when owner already holds it), in one script. It returns
// whether owner holds it and who does. One round trip.
func (s *Store) AcquireLease(ctx context.Context, tenant, name, owner string, ttl time.Duration) (bool, string, error) {
	if err := validLease(name, owner, ttl); err != nil {
		return false, "", err
	}
	ctx, cancel := s.op(ctx)
	defer cancel()
	r, err := scriptAcquireLease.Run(ctx, s.c, []string{s.tk(tenant).lease(name)}, owner, ttl.Milliseconds()).Result()
	if err != nil {
		return false, "", wrap(err)
	}
	a, ok := r.([]any)
	if !ok || len(a) != 2 {
		return false, "", fmt.Errorf("redisstore: unexpected AcquireLease reply %v", r)
	}
	return num(a[0]) == 1, str(a[1]), nil
}

// RenewLease extends owner's lease to ttl from now (compare-and-renew
// script) or returns store.ErrLeaseLost. One round trip.
func (s *Store) RenewLease(ctx context.Context, tenant, name, owner string, ttl time.Duration) error {
	if err := validLease(name, owner, ttl); err != nil {
		return err
	}
	ctx, cancel := s.op(ctx)
	defer cancel()
	n, err := scriptRenewLease.Run(ctx, s.c, []string{s.tk(tenant).lease(name)}, owner, ttl.Milliseconds()).Int64()
	if err != nil {
		return wrap(err)
	}
	if n != 1 {
		return store.ErrLeaseLost
	}
	return nil
}

// ReleaseLease deletes the lease if owner holds it (compare-and-delete
// script). One round trip.
func (s *Store) ReleaseLease(ctx context.Context, tenant, name, owner string) error {
	if name == "" || owner == "" {
		return errors.New("redisstore: lease name and owner must not be empty")
	}
	ctx, cancel := s.op(ctx)
	defer cancel()
	return wrap(scriptReleaseLease.Run(ctx, s.c, []string{s.tk(tenant).lease(name)}, owner).Err())
}

// runScore orders runs by start time in microseconds (exact in a float64
// for the next few centuries); ZSET ties sort by id.
func runScore(t time.Time) int64 { return t.UnixMicro() }

// SaveRun upserts r in t:{T}:runs:data and t:{T}:runs and trims both to the
// newest keep runs, in one script (one round trip).
func (s *Store) SaveRun(ctx context.Context, tenant string, r store.RunRecord, keep int) error {
	if r.ID == "" {
		return errors.New("redisstore: run id must not be empty")
	}
	if keep < 1 {
		return fmt.Errorf("redisstore: keep %d must be >= 1", keep)
	}
	ctx, cancel := s.op(ctx)
	defer cancel()
	k := s.tk(tenant)
	val := fmtTime(r.StartedAt) + " " + string(r.Data)
	res, err := scriptSaveRun.Run(ctx, s.c, []string{k.runData(), k.runs()}, r.ID, runScore(r.StartedAt), val, keep).Result()
	if err != nil {
		return wrap(err)
	}
	return scriptStatus(res, nil)
}

func decodeRun(id, v string) (store.RunRecord, error) {
	ts, data, ok := strings.Cut(v, " ")
	if !ok {
		return store.RunRecord{}, fmt.Errorf("redisstore: malformed run %s", id)
	}
	t, err := parseTime(ts)
	if err != nil {
		return store.RunRecord{}, err
	}
	return store.RunRecord{ID: id, StartedAt: t, Data: []byte(data)}, nil
}

// ListRuns returns up to limit (<= 0: all) runs, newest first. Two round
// trips (ZREVRANGE, HMGET); a run deleted in between is skipped.
func (s *Store) ListRuns(ctx context.Context, tenant string, limit int) ([]store.RunRecord, error) {
	k := s.tk(tenant)
	return listNewest(ctx, s, k.runs(), k.runData(), limit, decodeRun)
}

// listNewest reads up to limit (<= 0: all) records indexed by the sorted
// set index (score: time) and stored in the hash data under their ids,
// newest first, decoding each with decode. Two round trips (ZREVRANGE,
// HMGET); an id whose record was deleted in between is skipped. Errors:
// the store's (wrapped) or decode's.
func listNewest[T any](ctx context.Context, s *Store, index, data string, limit int, decode func(id, v string) (T, error)) ([]T, error) {
	ctx, cancel := s.op(ctx)
	defer cancel()
	stop := int64(-1)
	if limit > 0 {
		stop = int64(limit) - 1
	}
	ids, err := s.c.ZRevRange(ctx, index, 0, stop).Result()
	if err != nil {
		return nil, wrap(err)
	}
	out := make([]T, 0, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	vals, err := s.c.HMGet(ctx, data, ids...).Result()
	if err != nil {
		return nil, wrap(err)
	}
	for i, v := range vals {
		sv, ok := v.(string)
		if !ok {
			continue
		}
		r, err := decode(ids[i], sv)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// GetRun returns one run or store.ErrNotFound. One round trip (HGET).
func (s *Store) GetRun(ctx context.Context, tenant, id string) (store.RunRecord, error) {
	ctx, cancel := s.op(ctx)
	defer cancel()
	v, err := s.c.HGet(ctx, s.tk(tenant).runData(), id).Result()
	if err != nil {
		return store.RunRecord{}, wrap(err)
	}
	return decodeRun(id, v)
}
