package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// bench is one benchmark run against one server.
type bench struct {
	opt       options
	c         *scimClient
	rc        *redis.Client // INFO readings (one connection); nil without Redis access
	ceilRC    *redis.Client // ceiling loops (conns connections)
	serverPid int
	redisPid  int
	run       string // random id that keeps this run's names unique
	prof      profiler
	layout    cpuLayout // --pin (spawn mode); zero: not pinned
	allCPUs   []int     // with layout: the CPUs this process had before it pinned itself to layout.Loadgen
	spawnDir  string    // spawn mode's temporary directory of this run
	binary    string    // spawn mode: the server binary (for the scaling rounds' second server)
	store     string    // storeRedis, storeEmbedded, or "" (attach mode without --redis-url)
	log       io.Writer
	rep       *report

	users  []benchUser
	groups []string
	adds   []membership // what group-add added, for group-remove
	addsMu sync.Mutex
}

type membership struct{ group, user string }

// phaseResult is one row of the report.
type phaseResult struct {
	Name string `json:"name"`
	// Store is the store of the run: "redis" or "embedded" ("" in attach
	// mode without --redis-url); Users is its tenant size (users imported).
	Store      string        `json:"store,omitempty"`
	Users      int           `json:"tenant_users"`
	Request    string        `json:"request"`
	Conns      int           `json:"conns"`
	Requests   int           `json:"requests"`
	OK         int           `json:"ok"`
	Errors     errorCounts   `json:"errors"`
	FirstError string        `json:"first_error,omitempty"`
	Wall       time.Duration `json:"wall_ns"`
	OKPerSec   float64       `json:"ok_per_s"`
	Latency    summary       `json:"latency"`
	CPU        cpuUsage      `json:"cpu"`
	// PeakRSS is the server's VmHWM during the phase (PeakRSSPerPhase) or
	// over its lifetime so far.
	PeakRSS         int64       `json:"server_peak_rss_bytes"`
	PeakRSSPerPhase bool        `json:"server_peak_rss_per_phase"`
	RSS             []rssSample `json:"server_rss_samples,omitempty"`
	// Redis usage per request (--count-rtt) and the Redis-bound ceiling.
	Redis          *perOp    `json:"redis,omitempty"`
	RedisUsage     *rttUsage `json:"redis_usage,omitempty"`
	CeilingRTPerS  float64   `json:"ceiling_rt_per_s,omitempty"`
	CeilingOpsPerS float64   `json:"ceiling_ops_per_s,omitempty"`
	Ratio          float64   `json:"ratio,omitempty"`
	// ServerCPUPerOp is the server's CPU time per request; RedisCPUPerOp
	// redis-server's (from INFO with --count-rtt, else from /proc; 0:
	// unknown or no Redis); StackCPUPerOp their sum (Redis store only).
	ServerCPUPerOp time.Duration `json:"server_cpu_per_op_ns,omitempty"`
	RedisCPUPerOp  time.Duration `json:"redis_cpu_per_op_ns,omitempty"`
	StackCPUPerOp  time.Duration `json:"server_plus_redis_cpu_per_op_ns,omitempty"`
	Profiles       []string      `json:"cpu_profiles,omitempty"`
	Notes          []string      `json:"notes,omitempty"`

	lat latencies
}

// phaseSpec describes one measured load.
type phaseSpec struct {
	name, request string
	count         int           // requests to make; 0: run for the phase duration
	duration      time.Duration // overrides opt.duration when count is 0
	op            opFunc
	progress      func() int // recorded with each RSS sample
	rssEvery      time.Duration
}

func (b *bench) logf(format string, args ...any) {
	fmt.Fprintf(b.log, "axonflow-bench: "+format+"\n", args...)
}

// measure drives one phase and records everything about it.
func (b *bench) measure(ctx context.Context, s phaseSpec) (*phaseResult, error) {
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	res := &phaseResult{Name: s.name, Store: b.store, Users: b.opt.users, Request: s.request, Conns: b.opt.conns}
	var prof string
	if b.prof != nil {
		var err error
		if prof, err = b.prof.start(s.name); err != nil {
			return nil, fmt.Errorf("start CPU profile: %w", err)
		}
	}
	var before redisCounters
	var haveCounters bool
	if b.rc != nil && b.opt.countRTT {
		var err error
		if before, err = readCounters(ctx, b.rc); err != nil {
			return nil, err
		}
		haveCounters = true
	}
	every := s.rssEvery
	if every == 0 {
		every = 250 * time.Millisecond
	}
	mon := startMonitor(b.serverPid, b.redisPid, nil, every, s.progress)
	var deadline time.Time
	if s.count == 0 {
		d := s.duration
		if d == 0 {
			d = b.opt.duration
		}
		deadline = time.Now().Add(d)
	}
	pctx, cancel := context.WithTimeout(ctx, b.opt.maxPhase)
	run := drive(pctx, b.opt.conns, deadline, s.count, b.opt.seed+uint64(len(b.rep.Phases))*7919, s.op)
	timedOut := pctx.Err() != nil && ctx.Err() == nil
	cancel()
	res.CPU = mon.stop()
	res.PeakRSS, res.PeakRSSPerPhase = mon.peakRSS()
	if s.progress != nil {
		res.RSS = mon.rssSamples()
	}
	if haveCounters {
		after, err := readCounters(context.WithoutCancel(ctx), b.rc)
		if err != nil {
			return nil, err
		}
		u := usageBetween(before, after)
		res.RedisUsage = &u
		res.CPU.Redis = u.CPU
	}
	if b.prof != nil {
		if err := b.prof.stop(); err != nil {
			b.logf("CPU profile of %s: %v", s.name, err)
		} else {
			res.Profiles = []string{prof}
		}
	}
	res.Requests, res.OK, res.Errors, res.FirstError, res.Wall, res.lat = run.requests, run.ok, run.errors, run.firstError, run.wall, run.lat
	res.finish()
	if timedOut {
		res.Notes = append(res.Notes, fmt.Sprintf("stopped by --max-phase-time %v", b.opt.maxPhase))
	}
	if ctx.Err() != nil {
		return res, ctx.Err()
	}
	b.logf("%-22s %7d requests %9s ok/s  p50 %-7s p99 %-7s errors %s", res.Name, res.Requests,
		fmtRate(res.OKPerSec), fmtDur(res.Latency.P50), fmtDur(res.Latency.P99), res.Errors)
	return res, nil
}

// finish computes the derived figures from the raw ones.
func (p *phaseResult) finish() {
	if p.Wall > 0 {
		p.OKPerSec = float64(p.OK) / p.Wall.Seconds()
	}
	if p.lat != nil {
		p.Latency = p.lat.summarize()
	}
	if p.CPU.Server > 0 && p.Requests > 0 {
		p.ServerCPUPerOp = p.CPU.Server / time.Duration(p.Requests)
	}
	p.RedisCPUPerOp, p.StackCPUPerOp = 0, 0
	if p.Store == storeRedis && p.CPU.Redis > 0 && p.Requests > 0 {
		p.RedisCPUPerOp = p.CPU.Redis / time.Duration(p.Requests)
		if p.ServerCPUPerOp > 0 {
			p.StackCPUPerOp = p.ServerCPUPerOp + p.RedisCPUPerOp
		}
	}
	if p.RedisUsage != nil {
		po := p.RedisUsage.perOp(p.Requests)
		p.Redis = &po
	}
}

// mergePhases sums measurements of one operation taken in several slices
// (the interleaved big-group rounds) into one row.
func mergePhases(name, request string, parts []*phaseResult) *phaseResult {
	m := &phaseResult{Name: name, Request: request, Errors: errorCounts{}, PeakRSSPerPhase: true}
	var usage *rttUsage
	for _, p := range parts {
		m.Conns, m.Store, m.Users = p.Conns, p.Store, p.Users
		m.Requests += p.Requests
		m.OK += p.OK
		for k, v := range p.Errors {
			m.Errors[k] += v
		}
		if m.FirstError == "" {
			m.FirstError = p.FirstError
		}
		m.Wall += p.Wall
		m.lat = append(m.lat, p.lat...)
		m.CPU = addCPU(m.CPU, p.CPU)
		m.PeakRSS = max(m.PeakRSS, p.PeakRSS)
		m.PeakRSSPerPhase = m.PeakRSSPerPhase && p.PeakRSSPerPhase
		m.Profiles = append(m.Profiles, p.Profiles...)
		m.Notes = append(m.Notes, p.Notes...)
		if p.RedisUsage != nil {
			if usage == nil {
				usage = &rttUsage{Commands: map[string]int64{}}
			}
			usage.RoundTrips += p.RedisUsage.RoundTrips
			usage.CPU += p.RedisUsage.CPU
			for k, v := range p.RedisUsage.Commands {
				usage.Commands[k] += v
			}
		}
	}
	m.RedisUsage = usage
	m.finish()
	return m
}

func addCPU(a, b cpuUsage) cpuUsage {
	add := func(x, y time.Duration) time.Duration {
		if x < 0 || y < 0 {
			return -1
		}
		return x + y
	}
	if a.Wall == 0 {
		return b
	}
	return cpuUsage{Wall: a.Wall + b.Wall, Server: add(a.Server, b.Server), Redis: add(a.Redis, b.Redis),
		Loadgen: a.Loadgen + b.Loadgen, Machine: a.Machine + b.Machine, NCPU: max(a.NCPU, b.NCPU)}
}

// pick returns a random imported user.
func (b *bench) pick(r *rand.Rand) benchUser { return b.users[r.IntN(len(b.users))] }

// importUsers creates opt.users users as Okta does on the first push, and
// records their ids for the other phases.
func (b *bench) importUsers(ctx context.Context) (*phaseResult, error) {
	n := b.opt.users
	created := make([]benchUser, n)
	var done atomic.Int64
	spec := phaseSpec{
		name:     "import",
		request:  "POST /Users (Okta body: name, emails, displayName, locale, externalId, groups [], password)",
		count:    n,
		progress: func() int { return int(done.Load()) },
		rssEvery: time.Second,
		op: func(ctx context.Context, w int, r *rand.Rand, i int) outcome {
			login := userLogin(b.run, i)
			id, o := createdID(b.c.do(ctx, http.MethodPost, "/Users", oktaCreateUser(login, userExternalID(b.run, i), "Ada"), true))
			if o.ok {
				created[i] = benchUser{id: id, login: login}
				done.Add(1)
			}
			return o
		},
	}
	res, err := b.measure(ctx, spec)
	for _, u := range created {
		if u.id != "" {
			b.users = append(b.users, u)
		}
	}
	if err == nil && len(b.users) == 0 {
		err = fmt.Errorf("the import created no user (first error: %s)", res.FirstError)
	}
	return res, err
}

func (b *bench) lookup() phaseSpec {
	return phaseSpec{
		name:    "lookup",
		request: `GET /Users?filter=userName eq "<existing>"&startIndex=1&count=100`,
		op: func(ctx context.Context, w int, r *rand.Rand, n int) outcome {
			u := b.pick(r)
			resp, err := b.c.do(ctx, http.MethodGet, lookupPath(u.login), nil, true)
			o := expect(resp, err, http.StatusOK)
			if o.ok && !bytes.Contains(resp.body, []byte(`"id":"`+u.id+`"`)) {
				return outcome{status: resp.status, kind: "200-miss", err: fmt.Errorf("lookup of %s did not return %s", u.login, u.id)}
			}
			return o
		},
	}
}

func (b *bench) getByID() phaseSpec {
	return phaseSpec{
		name:    "get",
		request: "GET /Users/{id}",
		op: func(ctx context.Context, w int, r *rand.Rand, n int) outcome {
			return is(http.StatusOK)(b.c.do(ctx, http.MethodGet, "/Users/"+b.pick(r).id, nil, false))
		},
	}
}

func (b *bench) put() phaseSpec {
	return phaseSpec{
		name:    "put",
		request: "PUT /Users/{id} (Okta full replace with id, groups [], password, meta; givenName changed)",
		op: func(ctx context.Context, w int, r *rand.Rand, n int) outcome {
			i := r.IntN(len(b.users))
			u := b.users[i]
			body := oktaPutUser(u.id, u.login, userExternalID(b.run, i), "Ada-"+strconv.Itoa(n))
			return is(http.StatusOK)(b.c.do(ctx, http.MethodPut, "/Users/"+u.id, body, false))
		},
	}
}

// deactivate PATCHes the users in import order, each once per pass: the
// first pass deactivates them, the next reactivates them (Okta's same
// request with active true), and so on, so that every request changes its
// user (a second deactivation would write nothing) whatever the tenant's
// size. Passes overlap only when there are fewer users than connections.
func (b *bench) deactivate() phaseSpec {
	return phaseSpec{
		name:    "deactivate",
		request: `PATCH /Users/{id} {"op":"replace","value":{"active":false}} (no path); active true on every second pass over the users`,
		op: func(ctx context.Context, w int, r *rand.Rand, n int) outcome {
			u := b.users[n%len(b.users)]
			body := oktaDeactivate
			if (n/len(b.users))%2 == 1 {
				body = oktaReactivate
			}
			return is(http.StatusOK)(b.c.do(ctx, http.MethodPatch, "/Users/"+u.id, body, false))
		},
	}
}

func (b *bench) groupCreate() phaseSpec {
	var mu sync.Mutex
	return phaseSpec{
		name:    "group-create",
		request: `POST /Groups {"displayName":...,"members":[]}`,
		op: func(ctx context.Context, w int, r *rand.Rand, n int) outcome {
			id, o := createdID(b.c.do(ctx, http.MethodPost, "/Groups", oktaCreateGroup(fmt.Sprintf("bench-%s-group-%06d", b.run, n)), true))
			if o.ok {
				mu.Lock()
				b.groups = append(b.groups, id)
				mu.Unlock()
			}
			return o
		},
	}
}

// groupAdd adds batch users per PATCH; request n fills group n mod G with
// users n·batch … n·batch+batch-1 (mod users), so adds are real changes
// until that wraps.
func (b *bench) groupAdd() phaseSpec {
	batch := b.opt.batch
	return phaseSpec{
		name:    "group-add",
		request: fmt.Sprintf(`PATCH /Groups/{id} add members, %d per request ({"op":"add","path":"members","value":[{"value","display"}...]})`, batch),
		op: func(ctx context.Context, w int, r *rand.Rand, n int) outcome {
			g := b.groups[n%len(b.groups)]
			us := make([]benchUser, batch)
			for k := range us {
				us[k] = b.users[(n*batch+k)%len(b.users)]
			}
			o := is(http.StatusNoContent)(b.c.do(ctx, http.MethodPatch, "/Groups/"+g, oktaAddMembers(us), false))
			if o.ok {
				b.addsMu.Lock()
				for _, u := range us {
					b.adds = append(b.adds, membership{g, u.id})
				}
				b.addsMu.Unlock()
			}
			return o
		},
	}
}

func (b *bench) groupRemove() phaseSpec {
	return phaseSpec{
		name:    "group-remove",
		request: `PATCH /Groups/{id} {"op":"remove","path":"members[value eq \"<id>\"]"}`,
		op: func(ctx context.Context, w int, r *rand.Rand, n int) outcome {
			m := b.adds[n%len(b.adds)]
			return is(http.StatusNoContent)(b.c.do(ctx, http.MethodPatch, "/Groups/"+m.group, oktaRemoveMember(m.user), false))
		},
	}
}

func (b *bench) paging() phaseSpec {
	return phaseSpec{
		name:    "paging",
		request: "GET /Users?startIndex=<random>&count=100",
		op: func(ctx context.Context, w int, r *rand.Rand, n int) outcome {
			start := 1 + r.IntN(max(1, len(b.users)-99))
			return is(http.StatusOK)(b.c.do(ctx, http.MethodGet, "/Users?startIndex="+strconv.Itoa(start)+"&count=100", nil, false))
		},
	}
}

// createUsers POSTs count users named by name(i) at full concurrency
// (set-up, not a reported phase).
func (b *bench) createUsers(ctx context.Context, count int, name func(i int) string) ([]benchUser, loadRun) {
	out := make([]benchUser, count)
	run := drive(ctx, b.opt.conns, time.Time{}, count, b.opt.seed^0x5eed, func(ctx context.Context, w int, r *rand.Rand, i int) outcome {
		login := name(i)
		id, o := createdID(b.c.do(ctx, http.MethodPost, "/Users", oktaCreateUser(login, fmt.Sprintf("00p%s%011d", b.run, i), "Pool"), true))
		if o.ok {
			out[i] = benchUser{id: id, login: login}
		}
		return o
	})
	return out, run
}

// bigGroup builds a group of opt.bigGroup imported users with batched
// PATCH adds (a reported phase: that is Okta pushing a big group), a
// 10-member group, and a pool of users per worker; then it measures adding
// and removing one member to/from each group, in interleaved rounds so that
// load from other processes hits both groups alike.
func (b *bench) bigGroup(ctx context.Context) ([]*phaseResult, error) {
	var out []*phaseResult
	bigN, batch, conns, per := b.opt.bigGroup, b.opt.batch, b.opt.conns, b.opt.memberPool
	t0 := time.Now()
	b.logf("big-group: creating a pool of %d users (%d per connection) for the single-member changes", conns*per, per)
	pool, run := b.createUsers(ctx, conns*per, func(i int) string { return fmt.Sprintf("bench-%s-pool-%06d@example.com", b.run, i) })
	if run.ok != conns*per {
		return nil, fmt.Errorf("creating the member pool: %d of %d created (%s; %s)", run.ok, conns*per, run.errors, run.firstError)
	}
	mkGroup := func(name string, members []benchUser) (string, error) {
		id, o := createdID(b.c.do(ctx, http.MethodPost, "/Groups", oktaCreateGroup(name), true))
		if !o.ok {
			return "", fmt.Errorf("create group %s: %v", name, o.err)
		}
		if len(members) > 0 {
			if o := is(http.StatusNoContent)(b.c.do(ctx, http.MethodPatch, "/Groups/"+id, oktaAddMembers(members), false)); !o.ok {
				return "", fmt.Errorf("fill group %s: %v", name, o.err)
			}
		}
		return id, nil
	}
	small, err := mkGroup(fmt.Sprintf("bench-%s-small", b.run), b.users[:10])
	if err != nil {
		return nil, err
	}
	big, err := mkGroup(fmt.Sprintf("bench-%s-big", b.run), nil)
	if err != nil {
		return nil, err
	}
	b.logf("big-group: pool and groups ready in %v; filling the big group with %d members, %d per PATCH", time.Since(t0).Round(time.Millisecond), bigN, batch)
	build, err := b.measure(ctx, phaseSpec{
		name:    "big-group-build",
		request: fmt.Sprintf("PATCH /Groups/{id} add %d members per request into one group, until it has %d", batch, bigN),
		count:   (bigN + batch - 1) / batch,
		op: func(ctx context.Context, w int, r *rand.Rand, n int) outcome {
			lo := n * batch
			hi := min(lo+batch, bigN)
			return is(http.StatusNoContent)(b.c.do(ctx, http.MethodPatch, "/Groups/"+big, oktaAddMembers(b.users[lo:hi]), false))
		},
	})
	if build != nil {
		out = append(out, build)
	}
	if err != nil {
		return out, err
	}
	if build.Errors.total() > 0 {
		return out, fmt.Errorf("building the big group failed: %s (%s)", build.Errors, build.FirstError)
	}

	type slot struct{ add, rem []*phaseResult }
	slots := map[string]*slot{big: {}, small: {}}
	rounds := b.opt.rounds
	slice := b.opt.duration / time.Duration(rounds)
	exhausted := false
	for round := range rounds {
		order := []string{big, small}
		if round%2 == 1 {
			order = []string{small, big}
		}
		for _, g := range order {
			tag := "big"
			if g == small {
				tag = "small"
			}
			added := make([]int, conns) // per worker: pool users added so far
			add, err := b.measure(ctx, phaseSpec{
				name: fmt.Sprintf("member-add-%s-r%d", tag, round), duration: slice,
				op: func(ctx context.Context, w int, r *rand.Rand, n int) outcome {
					j := added[w]
					if j >= per {
						return outcome{stop: true}
					}
					added[w]++
					return is(http.StatusNoContent)(b.c.do(ctx, http.MethodPatch, "/Groups/"+g, oktaAddMembers(pool[w*per+j:w*per+j+1]), false))
				},
			})
			if err != nil {
				return out, err
			}
			for _, a := range added {
				exhausted = exhausted || a >= per
			}
			removed := make([]int, conns)
			rem, err := b.measure(ctx, phaseSpec{
				name: fmt.Sprintf("member-remove-%s-r%d", tag, round), count: 1 << 30,
				op: func(ctx context.Context, w int, r *rand.Rand, n int) outcome {
					j := removed[w]
					if j >= added[w] {
						return outcome{stop: true}
					}
					removed[w]++
					return is(http.StatusNoContent)(b.c.do(ctx, http.MethodPatch, "/Groups/"+g, oktaRemoveMember(pool[w*per+j].id), false))
				},
			})
			if err != nil {
				return out, err
			}
			slots[g].add = append(slots[g].add, add)
			slots[g].rem = append(slots[g].rem, rem)
		}
	}
	one := `PATCH /Groups/{id} {"op":"add","path":"members","value":[one member]}`
	oneRm := `PATCH /Groups/{id} {"op":"remove","path":"members[value eq \"<id>\"]"}`
	rows := []*phaseResult{
		mergePhases(fmt.Sprintf("member-add (%d)", bigN), one+fmt.Sprintf(" on a %d-member group", bigN), slots[big].add),
		mergePhases("member-add (10)", one+" on a 10-member group", slots[small].add),
		mergePhases(fmt.Sprintf("member-remove (%d)", bigN), oneRm+fmt.Sprintf(" on a %d-member group", bigN), slots[big].rem),
		mergePhases("member-remove (10)", oneRm+" on a 10-member group", slots[small].rem),
	}
	if exhausted {
		rows[0].Notes = append(rows[0].Notes, fmt.Sprintf("some workers used up their %d pool users before the slice ended (raise --member-pool)", per))
	}
	return append(out, rows...), nil
}
