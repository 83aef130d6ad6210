package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// comparedPhases are the phases the scaling rounds (smallest against
// largest tenant size) and the store rounds (embedded against Redis)
// compare, in this order.
var comparedPhases = []string{"lookup", "get"}

// scalingRoundsName is the report row of phase name measured in the
// scaling rounds (one row at each of the two sizes).
func scalingRoundsName(name string) string { return name + " (scaling rounds)" }

// wantsScalingRounds says whether b (spawn mode) compares its size with
// the smallest one in interleaved rounds: it is the largest of two sizes or
// more, --scaling-rounds is on and a scaling phase runs.
func (b *bench) wantsScalingRounds() bool {
	o := b.opt
	if !o.spawn || !o.scalingRounds || b.binary == "" || len(o.sizes) < 2 || o.users != o.sizes[len(o.sizes)-1] {
		return false
	}
	return runsComparedPhase(o)
}

// scalingRounds compares b's tenant (the largest size, right after its
// read phases, before any write phase changes it) with a fresh tenant of
// the smallest size on the same store (partnerRounds): the two servers
// take turns on the same CPU, so a drift of the machine's speed during the
// rounds hits both sizes alike; two runs minutes apart do not (README "Load
// benchmark"). It returns one merged row per phase and size, named
// scalingRoundsName(phase).
func (b *bench) scalingRounds(ctx context.Context) ([]*phaseResult, error) {
	return b.partnerRounds(ctx, "scaling rounds", b.store, b.opt.sizes[0], scalingRoundsName)
}

// storeRoundsName is the report row of phase name measured in the store
// rounds (one row per store at each size).
func storeRoundsName(name string) string { return name + " (store rounds)" }

// wantsStoreRounds says whether b (spawn mode, the embedded store, with
// Redis among the stores) compares itself with a Redis deployment of its
// size in interleaved rounds: --store-rounds is on and a compared phase
// (comparedPhases) runs.
func (b *bench) wantsStoreRounds() bool {
	o := b.opt
	if !o.spawn || !o.storeRounds || b.binary == "" || b.store != storeEmbedded || !slices.Contains(o.stores, storeRedis) {
		return false
	}
	return runsComparedPhase(o)
}

// storeRounds compares b's embedded-store tenant (right after its read
// phases) with a fresh Redis deployment (redis-server and server, the Redis
// run's CPU layout) with a tenant of the same size (partnerRounds), so
// that the store-against-store targets are judged in one time window. It
// returns one merged row per phase and store, named storeRoundsName(phase).
func (b *bench) storeRounds(ctx context.Context) ([]*phaseResult, error) {
	return b.partnerRounds(ctx, "store rounds", storeRedis, b.opt.users, storeRoundsName)
}

// partnerRounds starts a second server (and store) beside b's, on store st
// with a tenant of size users, in b's CPU layout (the server on the same
// CPU; on Redis, redis-server on the load generator's), imports the tenant
// (not reported: the same request as a run's import), warms both servers
// up and then drives each of comparedPhases that runs on them in --rounds
// ABBA rounds (b, partner, partner, b, ...) sharing --duration per side,
// the server not driven idling. It returns one merged row per phase and
// server, named rowName(phase); the CPU profile, if any, is not taken.
// what names the comparison in the log and errors.
func (b *bench) partnerRounds(ctx context.Context, what, st string, users int, rowName func(string) string) (rows []*phaseResult, err error) {
	po := b.opt
	po.users = users
	po.serverLog = ""
	po.cpuprofile = ""
	b.logf("%s: starting a %d-user tenant on the %s store beside this %d-user one on the %s store", what, users, st, b.opt.users, b.store)
	// spawn plans the layout on the CPUs this process may use, which are
	// the load generator's now: it plans on all of them again, and this
	// process goes back to the generator's CPUs once the server is up.
	if len(b.layout.Server) > 0 {
		if err := pinSelf(b.allCPUs); err != nil {
			return nil, err
		}
	}
	s, err := spawn(ctx, po, st, b.binary, b.log)
	if len(b.layout.Server) > 0 {
		if perr := pinSelf(b.layout.Loadgen); perr != nil && err == nil {
			s.close()
			return nil, perr
		}
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	defer s.close()
	if !slices.Equal(s.layout.Server, b.layout.Server) || !slices.Equal(s.layout.Loadgen, b.layout.Loadgen) ||
		(st == b.store && !slices.Equal(s.layout.Redis, b.layout.Redis)) {
		return nil, fmt.Errorf("%s: the second server's CPU layout (%s) is not the first one's (%s)", what, s.layout, b.layout)
	}
	p := &bench{opt: po, log: b.log, rep: &report{}, run: runID(), store: st, spawnDir: s.dir,
		serverPid: s.server.pid(), layout: s.layout}
	if p.c, err = newSCIMClient(strings.TrimRight(s.scimURL, "/"), s.token, po.conns); err != nil {
		return nil, err
	}
	if s.redis != nil {
		p.redisPid = s.redis.pid()
		if po.countRTT {
			ro, err := redis.ParseURL(s.redisURL)
			if err != nil {
				return nil, err
			}
			ro.PoolSize, ro.MinIdleConns = 1, 1
			p.rc = redis.NewClient(ro)
			defer p.rc.Close()
		}
	}
	if _, err := p.importUsers(ctx); err != nil {
		return nil, fmt.Errorf("%s: import of %d users: %w", what, users, err)
	}
	prof := b.prof
	b.prof = nil
	defer func() { b.prof = prof }()

	type side struct {
		b     *bench
		parts []*phaseResult
	}
	for _, name := range comparedPhases {
		if !slices.Contains(b.opt.phases, name) {
			continue
		}
		sides := []*side{{b: b}, {b: p}} // 0: b, 1: the partner
		label := func(x *bench) string { return fmt.Sprintf("%s-%d", x.store, x.opt.users) }
		spec := func(x *bench) phaseSpec {
			if name == "lookup" {
				return x.lookup()
			}
			return x.getByID()
		}
		for _, sd := range sides {
			op := spec(sd.b).op
			if warm := drive(ctx, b.opt.conns, time.Time{}, 20*b.opt.conns, b.opt.seed^0x5ca1e, op); warm.ok == 0 {
				return nil, fmt.Errorf("%s: %s warm-up on %s: no request succeeded (%s; %s)", what, name, label(sd.b), warm.errors, warm.firstError)
			}
		}
		slice := b.opt.duration / time.Duration(b.opt.rounds)
		for round := range b.opt.rounds {
			order := []*side{sides[0], sides[1]}
			if round%2 == 1 {
				order = []*side{sides[1], sides[0]}
			}
			for _, sd := range order {
				ps := spec(sd.b)
				ps.name, ps.duration = fmt.Sprintf("%s-%s-r%d", name, label(sd.b), round), slice
				r, err := sd.b.measure(ctx, ps)
				if err != nil {
					return nil, err
				}
				sd.parts = append(sd.parts, r)
			}
		}
		for _, sd := range sides {
			other := sides[1-slices.Index(sides, sd)].b
			rows = append(rows, mergePhases(rowName(name),
				fmt.Sprintf("%s, %s store, %d users, in %d rounds interleaved with the %s store's %d-user tenant (ABBA; two servers taking turns on the same CPU)",
					spec(sd.b).request, sd.b.store, sd.b.opt.users, b.opt.rounds, other.store, other.opt.users), sd.parts))
		}
	}
	return rows, nil
}

// runsComparedPhase says whether one of comparedPhases is among o's
// phases.
func runsComparedPhase(o options) bool {
	for _, p := range comparedPhases {
		if slices.Contains(o.phases, p) {
			return true
		}
	}
	return false
}
