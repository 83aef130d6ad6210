package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// scalingPhases are the phases whose CPU per request the scaling rounds
// compare between the smallest and the largest tenant size, in this order.
var scalingPhases = []string{"lookup", "get"}

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
	for _, p := range scalingPhases {
		if slices.Contains(o.phases, p) {
			return true
		}
	}
	return false
}

// scalingRounds compares b's tenant (the largest size, right after its
// read phases, before any write phase changes it) with a fresh tenant of
// the smallest size on the same store: it starts a second server and store
// with the same layout, imports the small tenant (not reported: it is the
// same request as the small run's import), warms both servers up and then
// drives each scaling phase on them in --rounds ABBA rounds (big, small,
// small, big, ...) sharing --duration per side. The two servers take turns
// on the same CPU, so a drift of the machine's speed during the rounds
// hits both sizes alike; two runs minutes apart do not (README "Load
// benchmark"). It returns one merged row per phase and size, named
// scalingRoundsName(phase); the CPU profile, if any, is not taken.
func (b *bench) scalingRounds(ctx context.Context) (rows []*phaseResult, err error) {
	small := b.opt.sizes[0]
	po := b.opt
	po.users = small
	po.serverLog = ""
	po.cpuprofile = ""
	b.logf("scaling rounds: starting a %d-user tenant on the %s store beside this %d-user one", small, b.store, b.opt.users)
	// spawn plans the layout on the CPUs this process may use, which are
	// the load generator's now: it plans on all of them again, and this
	// process goes back to the generator's CPUs once the server is up.
	if len(b.layout.Server) > 0 {
		if err := pinSelf(b.allCPUs); err != nil {
			return nil, err
		}
	}
	s, err := spawn(ctx, po, b.store, b.binary, b.log)
	if len(b.layout.Server) > 0 {
		if perr := pinSelf(b.layout.Loadgen); perr != nil && err == nil {
			s.close()
			return nil, perr
		}
	}
	if err != nil {
		return nil, fmt.Errorf("scaling rounds: %w", err)
	}
	defer s.close()
	if !slices.Equal(s.layout.Server, b.layout.Server) || !slices.Equal(s.layout.Redis, b.layout.Redis) {
		return nil, fmt.Errorf("scaling rounds: the %d-user server's CPU layout (%s) is not the %d-user one's (%s)", small, s.layout, b.opt.users, b.layout)
	}
	p := &bench{opt: po, log: b.log, rep: &report{}, run: runID(), store: b.store, spawnDir: s.dir,
		serverPid: s.server.pid(), layout: b.layout}
	if p.c, err = newSCIMClient(strings.TrimRight(s.scimURL, "/"), s.token, po.conns); err != nil {
		return nil, err
	}
	if s.redis != nil {
		p.redisPid = s.redis.pid()
		if b.rc != nil {
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
		return nil, fmt.Errorf("scaling rounds: import of %d users: %w", small, err)
	}
	prof := b.prof
	b.prof = nil
	defer func() { b.prof = prof }()

	type side struct {
		b     *bench
		parts []*phaseResult
	}
	for _, name := range scalingPhases {
		if !slices.Contains(b.opt.phases, name) {
			continue
		}
		sides := []*side{{b: b}, {b: p}} // 0: big, 1: small
		spec := func(x *bench) phaseSpec {
			if name == "lookup" {
				return x.lookup()
			}
			return x.getByID()
		}
		for _, sd := range sides {
			op := spec(sd.b).op
			if warm := drive(ctx, b.opt.conns, time.Time{}, 20*b.opt.conns, b.opt.seed^0x5ca1e, op); warm.ok == 0 {
				return nil, fmt.Errorf("scaling rounds: %s warm-up on %d users: no request succeeded (%s; %s)", name, sd.b.opt.users, warm.errors, warm.firstError)
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
				ps.name, ps.duration = fmt.Sprintf("%s-%d-r%d", name, sd.b.opt.users, round), slice
				r, err := sd.b.measure(ctx, ps)
				if err != nil {
					return nil, err
				}
				sd.parts = append(sd.parts, r)
			}
		}
		for _, sd := range sides {
			rows = append(rows, mergePhases(scalingRoundsName(name),
				fmt.Sprintf("%s, %d users, in %d rounds interleaved with the %d-user tenant's (ABBA; two servers taking turns on the same CPU)",
					spec(sd.b).request, sd.b.opt.users, b.opt.rounds, sides[1-slices.Index(sides, sd)].b.opt.users), sd.parts))
		}
	}
	return rows, nil
}
