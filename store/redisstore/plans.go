package redisstore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/axonflow/axonflow-sync/store"
)

func (k keys) plans() string    { return k.base + "plans" }
func (k keys) planData() string { return k.base + "plans:data" }

// scriptCreatePlan: KEYS plans:data (HASH id → "version created data"),
// plans (ZSET id → created µs); ARGV id, score, created, data, keep.
// CONFLICT id if the plan exists; else stores it at version 1 and drops the
// lowest-scored plans beyond keep from both keys.
var scriptCreatePlan = redis.NewScript(`
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then return {'CONFLICT', 'id'} end
redis.call('HSET', KEYS[1], ARGV[1], '1 ' .. ARGV[3] .. ' ' .. ARGV[4])
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
local old = redis.call('ZREVRANGE', KEYS[2], tonumber(ARGV[5]), -1)
for _, id in ipairs(old) do redis.call('HDEL', KEYS[1], id) end
if #old > 0 then redis.call('ZREMRANGEBYRANK', KEYS[2], 0, #old - 1) end
return {'OK'}
`)

// scriptUpdatePlan: KEYS plans:data; ARGV id, expectVersion, data.
// NOTFOUND, VERSION, or {OK, new version}.
var scriptUpdatePlan = redis.NewScript(`
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if not cur then return {'NOTFOUND'} end
local sp1 = string.find(cur, ' ', 1, true)
local sp2 = string.find(cur, ' ', sp1 + 1, true)
local v = tonumber(string.sub(cur, 1, sp1 - 1))
if v ~= tonumber(ARGV[2]) then return {'VERSION'} end
v = v + 1
redis.call('HSET', KEYS[1], ARGV[1], v .. ' ' .. string.sub(cur, sp1 + 1, sp2 - 1) .. ' ' .. ARGV[3])
return {'OK', v}
`)

// CreatePlan stores p at version 1 and trims the tenant's plans to the
// newest keep, in one script (one round trip).
func (s *Store) CreatePlan(ctx context.Context, tenant string, p store.PlanRecord, keep int) error {
	if p.ID == "" {
		return errors.New("redisstore: plan id must not be empty")
	}
	if keep < 1 {
		return fmt.Errorf("redisstore: keep %d must be >= 1", keep)
	}
	ctx, cancel := s.op(ctx)
	defer cancel()
	k := s.tk(tenant)
	res, err := scriptCreatePlan.Run(ctx, s.c, []string{k.planData(), k.plans()}, p.ID, runScore(p.CreatedAt),
		fmtTime(p.CreatedAt), string(p.Data), keep).Result()
	if err != nil {
		return wrap(err)
	}
	return scriptStatus(res, map[string]string{"id": p.ID})
}

// UpdatePlan replaces a plan's data if its version is expectVersion (one
// script, one round trip).
func (s *Store) UpdatePlan(ctx context.Context, tenant string, p store.PlanRecord, expectVersion int64) (int64, error) {
	ctx, cancel := s.op(ctx)
	defer cancel()
	res, err := scriptUpdatePlan.Run(ctx, s.c, []string{s.tk(tenant).planData()}, p.ID, expectVersion, string(p.Data)).Result()
	if err != nil {
		return 0, wrap(err)
	}
	st, rest, err := scriptResult(res)
	if err != nil {
		return 0, err
	}
	if err := statusErr(st, rest, nil); err != nil {
		return 0, err
	}
	if len(rest) == 0 {
		return 0, errors.New("redisstore: update plan: no version in the reply")
	}
	v, _ := rest[0].(int64)
	return v, nil
}

func decodePlan(id, v string) (store.PlanRecord, error) {
	ver, rest, ok1 := strings.Cut(v, " ")
	ts, data, ok2 := strings.Cut(rest, " ")
	n, err := strconv.ParseInt(ver, 10, 64)
	if !ok1 || !ok2 || err != nil {
		return store.PlanRecord{}, fmt.Errorf("redisstore: malformed plan %s", id)
	}
	t, err := parseTime(ts)
	if err != nil {
		return store.PlanRecord{}, err
	}
	return store.PlanRecord{ID: id, CreatedAt: t, Version: n, Data: []byte(data)}, nil
}

// ListPlans returns up to limit (<= 0: all) plans, newest first. Two round
// trips (ZREVRANGE, HMGET); a plan deleted in between is skipped.
func (s *Store) ListPlans(ctx context.Context, tenant string, limit int) ([]store.PlanRecord, error) {
	k := s.tk(tenant)
	return listNewest(ctx, s, k.plans(), k.planData(), limit, decodePlan)
}

// GetPlan returns one plan or store.ErrNotFound. One round trip (HGET).
func (s *Store) GetPlan(ctx context.Context, tenant, id string) (store.PlanRecord, error) {
	ctx, cancel := s.op(ctx)
	defer cancel()
	v, err := s.c.HGet(ctx, s.tk(tenant).planData(), id).Result()
	if err != nil {
		return store.PlanRecord{}, wrap(err)
	}
	return decodePlan(id, v)
}
