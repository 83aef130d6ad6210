package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// report is everything one benchmark measured (all its runs); --output
// json prints it as is.
type report struct {
	Started time.Time   `json:"started"`
	Machine machineInfo `json:"machine"`
	Config  configInfo  `json:"config"`
	// Server is the first run's server (Runs has every run's).
	Server serverInfo `json:"server"`
	// Phases are the rows of every run, in the order they ran; each names
	// its run by store and tenant_users.
	Phases  []*phaseResult `json:"phases"`
	Ceiling ceilingInfo    `json:"ceiling"`
	// Import is the server's RSS over the import of the largest run (the
	// first store's); Runs has every run's.
	Import  *importMem    `json:"import_memory,omitempty"`
	Targets []targetCheck `json:"targets"`
	Notes   []string      `json:"notes,omitempty"`
	// Runs are the runs: one per store and tenant size in spawn mode (a
	// fresh server and store each), one in attach mode.
	Runs []*runInfo `json:"runs"`
	// Scaling is, with two or more sizes, the CPU per request of every
	// phase at each size, per store.
	Scaling []scaleRow `json:"scaling,omitempty"`
}

type machineInfo struct {
	NCPU      int    `json:"ncpu"`
	GoVersion string `json:"go"`
	OSArch    string `json:"os_arch"`
	LoadAvg   string `json:"loadavg_at_start"`
	Hostname  string `json:"hostname"`
}

type configInfo struct {
	Conns    int           `json:"conns"`
	Duration time.Duration `json:"duration_ns"`
	// Users is the largest tenant size; Sizes all of them (ascending).
	Users           int           `json:"users"`
	Sizes           []int         `json:"sizes"`
	Stores          []string      `json:"stores,omitempty"` // spawn mode
	Phases          []string      `json:"phases"`
	BigGroup        int           `json:"big_group"`
	Batch           int           `json:"batch"`
	CeilingDuration time.Duration `json:"ceiling_duration_ns"`
}

type serverInfo struct {
	Mode         string `json:"mode"`
	Store        string `json:"store,omitempty"` // spawn mode: redis or embedded
	Binary       string `json:"binary,omitempty"`
	Pid          int    `json:"pid,omitempty"`
	RedisPid     int    `json:"redis_pid,omitempty"`
	URL          string `json:"url"`
	Tenant       string `json:"tenant"`
	RedisVersion string `json:"redis_version,omitempty"`
	LogLevel     string `json:"log_level,omitempty"`
	RedisOptions string `json:"redis_options,omitempty"`
	ProfileDir   string `json:"cpu_profile_dir,omitempty"`
	// Layout is where --pin put the processes (spawn mode), nil when not pinned.
	Layout *cpuLayout `json:"cpu_layout,omitempty"`
}

// runInfo is one run: one server on one store, one tenant size.
type runInfo struct {
	Store  string     `json:"store,omitempty"`
	Users  int        `json:"users"`
	Server serverInfo `json:"server"`
	Import *importMem `json:"import_memory,omitempty"`
}

// scaleRow is one phase's CPU per request at each tenant size, on one
// store; the ratios are largest size ÷ smallest (0: not measured at both).
type scaleRow struct {
	Store string `json:"store,omitempty"`
	Phase string `json:"phase"`
	Sizes []int  `json:"sizes"`
	// Per size (0: not measured). Redis and Stack (server + redis-server)
	// only on the Redis store.
	ServerCPUPerOp []time.Duration `json:"server_cpu_per_op_ns"`
	RedisCPUPerOp  []time.Duration `json:"redis_cpu_per_op_ns,omitempty"`
	StackCPUPerOp  []time.Duration `json:"server_plus_redis_cpu_per_op_ns,omitempty"`
	ServerRatio    float64         `json:"server_ratio,omitempty"`
	RedisRatio     float64         `json:"redis_ratio,omitempty"`
	StackRatio     float64         `json:"server_plus_redis_ratio,omitempty"`
}

type ceilingRun struct {
	When   string          `json:"when"`
	Store  string          `json:"store,omitempty"`
	Users  int             `json:"users,omitempty"`
	Shapes []ceilingResult `json:"shapes"`
}

type ceilingInfo struct {
	Runs []ceilingRun `json:"runs"`
	// Rates is the mean round trips/s of each shape over the runs (a
	// phase's ceiling uses the runs of its own tenant size).
	Rates map[string]float64 `json:"round_trips_per_s"`
}

// importMem is the server's RSS over the import.
type importMem struct {
	Users int `json:"users"`
	// Samples are the RSS when 10 %, 20 %, ... 100 % of the users were in.
	Samples []rssSample `json:"samples"`
	// Growth is (peak RSS after 25 % of the import − RSS at 25 %) / RSS at 25 %.
	Growth float64 `json:"growth_after_25pct"`
	// BytesPerUser is the RSS change from 25 % to the end per user imported
	// in between (what a leak per user would show as).
	BytesPerUser float64 `json:"bytes_per_user_after_25pct"`
}

// targetCheck is one target and whether the run met it.
type targetCheck struct {
	Target   string `json:"target"`
	Measured string `json:"measured"`
	Met      bool   `json:"met"`
	// Comparable is false when the run's settings differ from the target's
	// (e.g. fewer than 100,000 users at the largest size).
	Comparable bool   `json:"comparable"`
	Why        string `json:"why,omitempty"`
	// Floor is the same target measured on the stack floor (--floor).
	Floor string `json:"floor,omitempty"`
	// Info marks a figure the targets ask to read, without a threshold
	// (Met is then false and means nothing).
	Info bool `json:"info,omitempty"`
}

func newReport(o options) *report {
	host, _ := os.Hostname()
	return &report{
		Started: time.Now().UTC(),
		Machine: machineInfo{NCPU: runtime.NumCPU(), GoVersion: runtime.Version(), OSArch: runtime.GOOS + "/" + runtime.GOARCH,
			LoadAvg: loadAvg(), Hostname: host},
		Config: configInfo{Conns: o.conns, Duration: o.duration, Users: o.users, Sizes: o.sizes, Phases: o.phases, BigGroup: o.bigGroup,
			Batch: o.batch, CeilingDuration: o.ceilingDuration, Stores: map[bool][]string{true: o.stores}[o.spawn]},
	}
}

// note adds a report note once.
func (r *report) note(s string) {
	if !slices.Contains(r.Notes, s) {
		r.Notes = append(r.Notes, s)
	}
}

// importMemory summarises the RSS samples of an import of n users.
func importMemory(samples []rssSample, n int) *importMem {
	if len(samples) == 0 || n <= 0 {
		return nil
	}
	m := &importMem{Users: n}
	next := 1
	for _, s := range samples {
		for next <= 10 && s.Progress >= n*next/10 {
			m.Samples = append(m.Samples, s)
			next++
		}
	}
	var at25 *rssSample
	var peak int64
	for i := range samples {
		s := &samples[i]
		if s.Progress*4 >= n {
			if at25 == nil {
				at25 = s
			}
			peak = max(peak, s.RSS)
		}
	}
	if at25 != nil && at25.RSS > 0 {
		m.Growth = float64(peak-at25.RSS) / float64(at25.RSS)
		last := samples[len(samples)-1]
		if d := last.Progress - at25.Progress; d > 0 {
			m.BytesPerUser = float64(last.RSS-at25.RSS) / float64(d)
		}
	}
	return m
}

// finish computes ceilings, ratios, the scaling rows and the target
// checks, and fills the first run's server and the largest import into
// the top-level fields.
func (r *report) finish() {
	if len(r.Runs) > 0 {
		r.Server = r.Runs[0].Server
		r.Import = nil
		for _, ri := range r.Runs {
			if ri.Import != nil && (r.Import == nil || ri.Import.Users > r.Import.Users) {
				r.Import = ri.Import
			}
		}
	}
	r.Ceiling.Rates = ceilingRates(r.Ceiling.Runs, func(ceilingRun) bool { return true })
	for _, p := range r.Phases {
		p.CeilingRTPerS, p.CeilingOpsPerS, p.Ratio = 0, 0, 0
		if p.Redis == nil || p.Redis.RTT <= 0 {
			continue
		}
		// The ceiling measured at the phase's own tenant size.
		rates := ceilingRates(r.Ceiling.Runs, func(c ceilingRun) bool { return c.Users == p.Users && c.Store == p.Store })
		if rates == nil {
			rates = r.Ceiling.Rates
		}
		if rates == nil {
			continue
		}
		p.CeilingRTPerS = ceilingFor(*p.Redis, rates)
		if p.CeilingRTPerS > 0 {
			p.CeilingOpsPerS = p.CeilingRTPerS / p.Redis.RTT
			p.Ratio = p.OKPerSec / p.CeilingOpsPerS
		}
	}
	r.Scaling = r.scaling()
	r.Targets = checkTargets(r)
}

// ceilingRates is the mean rate of each shape over the ceiling runs keep
// accepts (nil when none).
func ceilingRates(runs []ceilingRun, keep func(ceilingRun) bool) map[string]float64 {
	rates := map[string]float64{}
	n := map[string]int{}
	for _, run := range runs {
		if !keep(run) {
			continue
		}
		for _, c := range run.Shapes {
			rates[c.Shape] += c.Rate
			n[c.Shape]++
		}
	}
	if len(rates) == 0 {
		return nil
	}
	for k := range rates {
		rates[k] /= float64(n[k])
	}
	return rates
}

// phase returns the row called name of the run on store at size users
// (nil when there is none).
func (r *report) phaseOf(store string, users int, name string) *phaseResult {
	for _, p := range r.Phases {
		if p.Name == name && p.Store == store && p.Users == users {
			return p
		}
	}
	return nil
}

// groups are the runs' (store, size) pairs in the order their phases ran.
func (r *report) groups() []runKey {
	var out []runKey
	for _, p := range r.Phases {
		k := runKey{p.Store, p.Users}
		if !slices.Contains(out, k) {
			out = append(out, k)
		}
	}
	return out
}

type runKey struct {
	store string
	users int
}

// stores are the stores with phases, in the order they first ran.
func (r *report) stores() []string {
	var out []string
	for _, k := range r.groups() {
		if !slices.Contains(out, k.store) {
			out = append(out, k.store)
		}
	}
	return out
}

// sizes are the tenant sizes with phases, ascending.
func (r *report) sizes() []int {
	var out []int
	for _, k := range r.groups() {
		if !slices.Contains(out, k.users) {
			out = append(out, k.users)
		}
	}
	slices.Sort(out)
	return out
}

// scaling builds the CPU-per-request rows by size: per store, every phase
// measured at two sizes or more (nil with one size).
func (r *report) scaling() []scaleRow {
	sizes := r.sizes()
	if len(sizes) < 2 {
		return nil
	}
	ratio := func(v []time.Duration) float64 {
		if v[0] <= 0 || v[len(v)-1] <= 0 {
			return 0
		}
		return float64(v[len(v)-1]) / float64(v[0])
	}
	var out []scaleRow
	for _, st := range r.stores() {
		var names []string
		for _, p := range r.Phases {
			if p.Store == st && !slices.Contains(names, p.Name) {
				names = append(names, p.Name)
			}
		}
		for _, name := range names {
			row := scaleRow{Store: st, Phase: name, Sizes: sizes}
			found := 0
			for _, n := range sizes {
				p := r.phaseOf(st, n, name)
				var srv, red, stack time.Duration
				if p != nil {
					found++
					srv, red, stack = p.ServerCPUPerOp, p.RedisCPUPerOp, p.StackCPUPerOp
				}
				row.ServerCPUPerOp = append(row.ServerCPUPerOp, srv)
				if st == storeRedis {
					row.RedisCPUPerOp = append(row.RedisCPUPerOp, red)
					row.StackCPUPerOp = append(row.StackCPUPerOp, stack)
				}
			}
			if found < 2 {
				continue
			}
			row.ServerRatio = ratio(row.ServerCPUPerOp)
			if st == storeRedis {
				row.RedisRatio, row.StackRatio = ratio(row.RedisCPUPerOp), ratio(row.StackCPUPerOp)
			}
			out = append(out, row)
		}
	}
	return out
}

// Round trips per request the Redis targets allow, after the token's
// first use (the token then comes from the server's in-process cache): GET
// by id reads the user context (its groups included) in one read-only
// script; the userName lookup resolves the index and reads the user
// context in one read-only script; a
// user PUT/PATCH and a group member PATCH read, write (one script, with
// its provisioning-log entry) and read the user context back.
const (
	targetGetRTT    = 1
	targetLookupRTT = 1
	targetWriteRTT  = 3
	// rttSlack absorbs what a phase amortises over its requests: the
	// token's first read per server process and its lastUsedAt writes.
	rttSlack = 0.05
)

// Targets of the CPU-per-request comparisons.
const (
	// maxScaleRatio bounds the embedded store's server CPU per request at
	// the largest size ÷ at the smallest.
	maxScaleRatio = 1.2
	// bigSize is the tenant size the scaling targets are stated for.
	bigSize = 100000
	// minFloorRatio bounds the Redis server's GET against the stack
	// floor's, in their interleaved rounds: the floor's server CPU per
	// request ÷ the server's, and the server's ok/s ÷ the floor's.
	minFloorRatio = 0.9
)

var phaseLabels = map[string]string{
	"get":    "GET /Users/{id}",
	"lookup": "GET /Users?filter=userName eq",
}

// checkTargets evaluates the targets (README "Load benchmark") on the runs
// in the report; a target whose phases did not run is left out.
func checkTargets(r *report) []targetCheck {
	var out []targetCheck
	sizes := r.sizes()
	stores := r.stores()
	hasStore := func(s string) bool { return slices.Contains(stores, s) }
	errs := func(ps ...*phaseResult) bool {
		for _, p := range ps {
			if p.Errors.total() > 0 {
				return true
			}
		}
		return false
	}

	// The embedded store: CPU per request flat in the tenant's size.
	if hasStore(storeEmbedded) && len(sizes) >= 2 {
		small, big := sizes[0], sizes[len(sizes)-1]
		for _, name := range []string{"get", "lookup"} {
			// The interleaved rounds when they ran (one time window),
			// else the two runs' phases.
			how := "separate runs"
			ps, pb := r.phaseOf(storeEmbedded, small, scalingRoundsName(name)), r.phaseOf(storeEmbedded, big, scalingRoundsName(name))
			if ps == nil || pb == nil || ps.ServerCPUPerOp <= 0 || pb.ServerCPUPerOp <= 0 {
				ps, pb = r.phaseOf(storeEmbedded, small, name), r.phaseOf(storeEmbedded, big, name)
			} else {
				how = "interleaved scaling rounds"
			}
			if ps == nil || pb == nil || ps.ServerCPUPerOp <= 0 || pb.ServerCPUPerOp <= 0 {
				continue
			}
			ratio := float64(pb.ServerCPUPerOp) / float64(ps.ServerCPUPerOp)
			t := targetCheck{
				Target: fmt.Sprintf("embedded store, %s: server CPU per request at the big tenant size ≤ %.1f× the small one", phaseLabels[name], maxScaleRatio),
				Measured: fmt.Sprintf("%s users: %s, %s users: %s (×%.2f; %s)", groupDigits(int64(small)), fmtDur(ps.ServerCPUPerOp),
					groupDigits(int64(big)), fmtDur(pb.ServerCPUPerOp), ratio, how),
				Met:        ratio <= maxScaleRatio && !errs(ps, pb),
				Comparable: big >= bigSize,
			}
			t.Why = whyNot(t.Met, ratio > maxScaleRatio, "ratio above "+fmt.Sprintf("%.1f", maxScaleRatio), errs(ps, pb))
			if !t.Comparable {
				t.Why = fmt.Sprintf("big size %s users, not %s", groupDigits(int64(big)), groupDigits(bigSize))
			}
			out = append(out, t)
		}
	}

	// The embedded store against the Redis deployment, size by size: on
	// the interleaved store rounds when they ran at that size (one time
	// window), else on the two runs' phases.
	storePair := func(size int, name string) (e, rd *phaseResult, how string) {
		e, rd = r.phaseOf(storeEmbedded, size, storeRoundsName(name)), r.phaseOf(storeRedis, size, storeRoundsName(name))
		if e != nil && rd != nil && e.Requests > 0 && rd.Requests > 0 {
			return e, rd, " (store rounds)"
		}
		return r.phaseOf(storeEmbedded, size, name), r.phaseOf(storeRedis, size, name), " (separate runs)"
	}
	if hasStore(storeEmbedded) && hasStore(storeRedis) {
		for _, name := range []string{"get", "lookup"} {
			var parts []string
			met, n, bad := true, 0, false
			for _, size := range sizes {
				e, rd, how := storePair(size, name)
				if e == nil || rd == nil || e.ServerCPUPerOp <= 0 || rd.StackCPUPerOp <= 0 {
					continue
				}
				n++
				met = met && e.ServerCPUPerOp <= rd.StackCPUPerOp
				bad = bad || errs(e, rd)
				parts = append(parts, fmt.Sprintf("%s users: embedded %s vs Redis %s (server %s + redis-server %s)%s", groupDigits(int64(size)),
					fmtDur(e.ServerCPUPerOp), fmtDur(rd.StackCPUPerOp), fmtDur(rd.ServerCPUPerOp), fmtDur(rd.RedisCPUPerOp), how))
			}
			if n == 0 {
				continue
			}
			t := targetCheck{
				Target:     fmt.Sprintf("embedded store, %s: server CPU per request ≤ the Redis deployment's (server + redis-server), at each size", phaseLabels[name]),
				Measured:   strings.Join(parts, "; "),
				Met:        met && !bad,
				Comparable: true,
			}
			t.Why = whyNot(t.Met, !met, "more CPU than Redis at some size", bad)
			out = append(out, t)
		}
		var parts []string
		met, n, bad := true, 0, false
		for _, size := range sizes {
			e, rd, how := storePair(size, "get")
			if e == nil || rd == nil {
				continue
			}
			n++
			met = met && e.OKPerSec >= rd.OKPerSec
			bad = bad || errs(e, rd)
			parts = append(parts, fmt.Sprintf("%s users: embedded %s vs Redis %s ok/s (×%.2f)%s", groupDigits(int64(size)),
				fmtRate(e.OKPerSec), fmtRate(rd.OKPerSec), e.OKPerSec/max(rd.OKPerSec, 1e-9), how))
		}
		if n > 0 {
			t := targetCheck{
				Target:     "embedded store, GET /Users/{id}: ok/s ≥ the Redis store's in the same CPU layout, at each size",
				Measured:   strings.Join(parts, "; "),
				Met:        met && !bad,
				Comparable: true,
			}
			t.Why = whyNot(t.Met, !met, "slower than Redis at some size", bad)
			out = append(out, t)
		}
	}

	// Redis: round trips per request, and GET against the stack floor.
	if hasStore(storeRedis) {
		for _, c := range []struct {
			name string
			max  float64
		}{{"get", targetGetRTT}, {"lookup", targetLookupRTT}} {
			var parts []string
			met, n, bad := true, 0, false
			for _, size := range sizes {
				p := r.phaseOf(storeRedis, size, c.name)
				if p == nil || p.Redis == nil {
					continue
				}
				n++
				met = met && p.Redis.RTT <= c.max+rttSlack
				bad = bad || errs(p)
				parts = append(parts, fmt.Sprintf("%.2f at %s users (%s)", p.Redis.RTT, groupDigits(int64(size)), p.Redis))
			}
			if n == 0 {
				continue
			}
			t := targetCheck{
				Target:     fmt.Sprintf("Redis store, %s: %g round trip%s per request after the token's first use", phaseLabels[c.name], c.max, map[bool]string{true: "", false: "s"}[c.max == 1]),
				Measured:   strings.Join(parts, "; "),
				Met:        met && !bad,
				Comparable: true,
			}
			t.Why = whyNot(t.Met, !met, "more round trips", bad)
			out = append(out, t)
		}
		big := sizes[len(sizes)-1]
		var parts []string
		met, bad := true, false
		for _, w := range []struct{ name, label string }{
			{"put", "PUT /Users"}, {"deactivate", "PATCH /Users (deactivate)"},
			{"group-add", fmt.Sprintf("PATCH /Groups add (%d per request)", r.Config.Batch)}, {"group-remove", "PATCH /Groups remove member"},
			{fmt.Sprintf("member-add (%d)", r.Config.BigGroup), fmt.Sprintf("PATCH /Groups add one member (%d-member group)", r.Config.BigGroup)},
			{"member-add (10)", "PATCH /Groups add one member (10-member group)"},
		} {
			if p := r.phaseOf(storeRedis, big, w.name); p != nil && p.Redis != nil {
				parts = append(parts, fmt.Sprintf("%s %.2f", w.label, p.Redis.RTT))
				met = met && p.Redis.RTT <= targetWriteRTT+rttSlack
				bad = bad || errs(p)
			}
		}
		if len(parts) > 0 {
			t := targetCheck{
				Target:     fmt.Sprintf("Redis store, writes: ≤ %d round trips per user PUT/PATCH and per group member PATCH after the token's first use (%s users)", targetWriteRTT, groupDigits(int64(big))),
				Measured:   strings.Join(parts, "; "),
				Met:        met && !bad,
				Comparable: true,
			}
			t.Why = whyNot(t.Met, !met, "more round trips", bad)
			out = append(out, t)
		}
		parts = nil
		met, n, bad := true, 0, false
		cpuMiss, okMiss := false, false
		for _, size := range sizes {
			g, f := r.phaseOf(storeRedis, size, floorServerPhaseName), r.phaseOf(storeRedis, size, floorPhaseName)
			if g == nil || f == nil || f.OKPerSec <= 0 || g.ServerCPUPerOp <= 0 || f.ServerCPUPerOp <= 0 {
				continue
			}
			n++
			cpu := float64(f.ServerCPUPerOp) / float64(g.ServerCPUPerOp)
			ok := g.OKPerSec / f.OKPerSec
			cpuMiss = cpuMiss || cpu < minFloorRatio
			okMiss = okMiss || ok < minFloorRatio
			met = met && cpu >= minFloorRatio && ok >= minFloorRatio
			bad = bad || errs(g, f)
			parts = append(parts, fmt.Sprintf("%s users: server CPU per request %s vs the floor's %s (%.2f), %s vs %s ok/s (%.2f), p99 %s vs %s", groupDigits(int64(size)),
				fmtDur(g.ServerCPUPerOp), fmtDur(f.ServerCPUPerOp), cpu, fmtRate(g.OKPerSec), fmtRate(f.OKPerSec), ok, fmtDur(g.Latency.P99), fmtDur(f.Latency.P99)))
		}
		if n > 0 {
			t := targetCheck{
				Target:     fmt.Sprintf("Redis store, GET /Users/{id} at ≥ %.1f of the stack floor (one round trip, a canned body), in interleaved rounds: the floor's server CPU per request ÷ the server's, and the server's ok/s ÷ the floor's, at each size", minFloorRatio),
				Measured:   strings.Join(parts, "; "),
				Met:        met && !bad,
				Comparable: true,
			}
			var why []string
			if cpuMiss {
				why = append(why, "more CPU per request than the floor allows")
			}
			if okMiss {
				why = append(why, "fewer ok/s than the floor allows")
			}
			t.Why = whyNot(t.Met, len(why) > 0, strings.Join(why, ", "), bad)
			out = append(out, t)
		}
	}

	// Issue 6's group and memory targets, per store at the largest size.
	if r.Config.BigGroup > 0 && len(sizes) > 0 {
		big := sizes[len(sizes)-1]
		for _, st := range stores {
			bg, small := r.phaseOf(st, big, fmt.Sprintf("member-add (%d)", r.Config.BigGroup)), r.phaseOf(st, big, "member-add (10)")
			if bg == nil || small == nil || small.OKPerSec <= 0 || small.Latency.P50 <= 0 {
				continue
			}
			tr := bg.OKPerSec / small.OKPerSec
			lr := float64(bg.Latency.P50) / float64(small.Latency.P50)
			t := targetCheck{
				Target:     storeLabel(st) + "adding a member to a 100,000-member group within 20 % of a 10-member group",
				Measured:   fmt.Sprintf("%d-member group: %s ok/s, p50 %s; 10-member: %s ok/s, p50 %s (throughput ×%.2f, p50 ×%.2f)", r.Config.BigGroup, fmtRate(bg.OKPerSec), fmtDur(bg.Latency.P50), fmtRate(small.OKPerSec), fmtDur(small.Latency.P50), tr, lr),
				Met:        tr >= 0.8 && lr <= 1.2 && bg.Errors.total() == 0,
				Comparable: r.Config.BigGroup >= 100000,
			}
			if !t.Comparable {
				t.Why = fmt.Sprintf("group of %d, not 100,000", r.Config.BigGroup)
			}
			out = append(out, t)
		}
	}
	imports := map[string]*importMem{}
	if len(r.Runs) == 0 && r.Import != nil {
		imports[r.Server.Store] = r.Import
	}
	for _, ri := range r.Runs {
		if m := ri.Import; m != nil && (imports[ri.Store] == nil || m.Users > imports[ri.Store].Users) {
			imports[ri.Store] = m
		}
	}
	for _, st := range append(stores, r.Server.Store) {
		m := imports[st]
		if m == nil {
			continue
		}
		delete(imports, st)
		t := targetCheck{
			Target:     storeLabel(st) + "an import of 100,000 users with constant server memory (RSS growth after 25 % of the import ≤ 20 %)",
			Measured:   fmt.Sprintf("%d users: RSS growth %.0f %% after 25 %%, %+.0f bytes per user", m.Users, 100*m.Growth, m.BytesPerUser),
			Met:        len(m.Samples) > 0 && m.Growth <= 0.2,
			Comparable: m.Users >= 100000,
		}
		if !t.Comparable {
			t.Why = fmt.Sprintf("%d users, not 100,000", m.Users)
		}
		out = append(out, t)
	}
	return out
}

// whyNot explains a missed target: miss is the reason when cond holds;
// errors are named too.
func whyNot(met, cond bool, miss string, errors bool) string {
	if met {
		return ""
	}
	var why []string
	if cond {
		why = append(why, miss)
	}
	if errors {
		why = append(why, "errors")
	}
	return strings.Join(why, "; ")
}

// storeLabel prefixes a target with its store ("" when unknown).
func storeLabel(st string) string {
	switch st {
	case storeRedis:
		return "Redis store, "
	case storeEmbedded:
		return "embedded store, "
	}
	return ""
}

func (r *report) writeJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

func fmtMB(b int64) string {
	if b <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.0f", float64(b)/(1<<20))
}

func fmtCores(c cpuUsage, d time.Duration) string {
	if d < 0 || c.Wall <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f", c.cores(d))
}

func joinInts(v []int) string {
	s := make([]string, len(v))
	for i, n := range v {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, ", ")
}

// writeTable prints the human report: per run (store and size) its
// phases and Redis costs, then the Redis ceiling, the CPU per request by
// size and the targets.
func (r *report) writeTable(w io.Writer) {
	c := r.Config
	sizes := c.Sizes
	if len(sizes) == 0 {
		sizes = []int{c.Users}
	}
	fmt.Fprintf(w, "axonflow-bench %s mode: %d connections, %v per phase, %s users", r.Server.Mode, c.Conns, c.Duration, joinInts(sizes))
	if len(c.Stores) > 0 {
		fmt.Fprintf(w, ", store %s", strings.Join(c.Stores, " and "))
	}
	fmt.Fprintf(w, "; %s, %d CPUs, %s; load average at start %s\n", r.Machine.OSArch, r.Machine.NCPU, r.Machine.GoVersion, r.Machine.LoadAvg)

	for _, k := range r.groups() {
		srv := r.Server
		for _, ri := range r.Runs {
			if ri.Store == k.store && ri.Users == k.users {
				srv = ri.Server
			}
		}
		name := k.store
		if name == "" {
			name = "unknown"
		}
		fmt.Fprintf(w, "\n== %s store, %s users: server pid %d, tenant %q", name, groupDigits(int64(k.users)), srv.Pid, srv.Tenant)
		if srv.RedisVersion != "" {
			fmt.Fprintf(w, ", Redis %s", srv.RedisVersion)
		}
		if srv.LogLevel != "" {
			fmt.Fprintf(w, ", server log level %s", srv.LogLevel)
		}
		if srv.RedisOptions != "" {
			fmt.Fprintf(w, ", server Redis options %s", srv.RedisOptions)
		}
		fmt.Fprintln(w)
		if srv.Layout != nil {
			fmt.Fprintf(w, "CPU layout (--pin): %s\n", srv.Layout)
		} else if srv.Mode == "spawn" {
			fmt.Fprintln(w, "CPU layout: not pinned (--pin=false or one CPU): the kernel places the processes")
		}
		r.writeRun(w, k)
	}

	if len(r.Ceiling.Runs) > 0 {
		fmt.Fprintf(w, "\nRedis ceiling (measured, no longer a target): round trips/s from Go (go-redis, %d goroutines and connections, no pipelining), per command shape\n", c.Conns)
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprint(tw, "shape\t")
		for _, run := range r.Ceiling.Runs {
			when := run.When
			if run.Users > 0 && len(sizes) > 1 {
				when = groupDigits(int64(run.Users)) + " users, " + when
			}
			fmt.Fprintf(tw, "%s\tp99\t", when)
		}
		fmt.Fprintln(tw, "mean\tloadgen cpu/rt\tredis cpu/rt\t")
		for i, shape := range ceilingShapes {
			fmt.Fprintf(tw, "%s\t", shape)
			var client, redis time.Duration
			var n int
			for _, run := range r.Ceiling.Runs {
				if i < len(run.Shapes) {
					c := run.Shapes[i]
					fmt.Fprintf(tw, "%s\t%s\t", fmtRate(c.Rate), fmtDur(c.Latency.P99))
					client += c.CPU.Loadgen
					redis += max(c.CPU.Redis, 0)
					n += c.Requests
				} else {
					fmt.Fprint(tw, "-\t-\t")
				}
			}
			perRT := func(d time.Duration) string {
				if n == 0 || d <= 0 {
					return "-"
				}
				return fmtDur(d / time.Duration(n))
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t\n", fmtRate(r.Ceiling.Rates[shape]), perRT(client), perRT(redis))
		}
		tw.Flush()
	}

	if len(r.Scaling) > 0 {
		small, big := r.Scaling[0].Sizes[0], r.Scaling[0].Sizes[len(r.Scaling[0].Sizes)-1]
		fmt.Fprintf(w, "\nCPU per request by tenant size (ratio = %s users ÷ %s users; embedded store: no redis-server, n/a)\n",
			groupDigits(int64(big)), groupDigits(int64(small)))
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprint(tw, "store\tphase\t")
		for _, what := range []string{"server", "redis-server", "server+redis"} {
			for _, n := range r.Scaling[0].Sizes {
				fmt.Fprintf(tw, "%s %s\t", what, groupDigits(int64(n)))
			}
			fmt.Fprint(tw, "ratio\t")
		}
		fmt.Fprintln(tw)
		for _, row := range r.Scaling {
			fmt.Fprintf(tw, "%s\t%s\t", row.Store, row.Phase)
			cols := func(v []time.Duration, ratio float64) {
				if v == nil {
					for range row.Sizes {
						fmt.Fprint(tw, "n/a\t")
					}
					fmt.Fprint(tw, "n/a\t")
					return
				}
				for _, d := range v {
					fmt.Fprintf(tw, "%s\t", fmtDur(d))
				}
				fmt.Fprintf(tw, "%s\t", fmtRatio(ratio))
			}
			cols(row.ServerCPUPerOp, row.ServerRatio)
			cols(row.RedisCPUPerOp, row.RedisRatio)
			cols(row.StackCPUPerOp, row.StackRatio)
			fmt.Fprintln(tw)
		}
		tw.Flush()
	}

	if len(r.Targets) > 0 {
		fmt.Fprintf(w, "\nTargets\n")
		for _, t := range r.Targets {
			verdict := "MET"
			switch {
			case t.Info:
				verdict = "INFO"
			case !t.Comparable:
				verdict = "N/C" // measured at other settings: neither met nor missed
			case !t.Met:
				verdict = "MISSED"
			}
			fmt.Fprintf(w, "  %-7s %s\n          %s\n", verdict, t.Target, t.Measured)
			if !t.Comparable {
				fmt.Fprintf(w, "          not comparable: %s\n", t.Why)
			} else if !t.Met && !t.Info && t.Why != "" {
				fmt.Fprintf(w, "          missed: %s\n", t.Why)
			}
			if t.Floor != "" {
				fmt.Fprintf(w, "          %s\n", t.Floor)
			}
		}
	}
	for _, n := range r.Notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
	var profiles []string
	for _, ri := range r.Runs {
		if ri.Server.ProfileDir != "" && !slices.Contains(profiles, ri.Server.ProfileDir) {
			profiles = append(profiles, ri.Server.ProfileDir)
		}
	}
	if len(profiles) == 0 && r.Server.ProfileDir != "" {
		profiles = []string{r.Server.ProfileDir}
	}
	if len(profiles) > 0 {
		fmt.Fprintf(w, "\nCPU profiles of the server, one per phase, in %s (go tool pprof -top FILE; profiles carry their symbols)\n", strings.Join(profiles, ", "))
	}
}

func fmtRatio(f float64) string {
	if f <= 0 {
		return "-"
	}
	return fmt.Sprintf("×%.2f", f)
}

// writeRun prints one run's phases, their Redis costs and its import RSS.
func (r *report) writeRun(w io.Writer, k runKey) {
	var phases []*phaseResult
	for _, p := range r.Phases {
		if p.Store == k.store && p.Users == k.users {
			phases = append(phases, p)
		}
	}
	fmt.Fprintf(w, "Throughput and latency (cpu columns: cores busy during the phase; other = the rest of the machine)\n")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "phase\trequests\tok/s\tp50\tp99\tmax\terrors\tserver cpu\tserver cpu/op\tredis cpu\tloadgen cpu\tother cpu\tpeak rss MB\t")
	for _, p := range phases {
		redisCores := fmtCores(p.CPU, p.CPU.Redis)
		if p.Store == storeEmbedded {
			redisCores = "n/a"
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", p.Name, p.Requests, fmtRate(p.OKPerSec),
			fmtDur(p.Latency.P50), fmtDur(p.Latency.P99), fmtDur(p.Latency.Max), p.Errors,
			fmtCores(p.CPU, p.CPU.Server), fmtDur(p.ServerCPUPerOp), redisCores, fmtCores(p.CPU, p.CPU.Loadgen), fmtCores(p.CPU, p.CPU.other()), fmtMB(p.PeakRSS))
	}
	tw.Flush()
	for _, p := range phases {
		if p.FirstError != "" {
			fmt.Fprintf(w, "  %s: first error: %s\n", p.Name, p.FirstError)
		}
		for _, n := range p.Notes {
			fmt.Fprintf(w, "  %s: %s\n", p.Name, n)
		}
	}

	hasRedis := false
	for _, p := range phases {
		hasRedis = hasRedis || p.Redis != nil
	}
	if hasRedis {
		fmt.Fprintf(w, "Redis cost per request (INFO before/after each phase: round trips = read events, commands = commandstats), CPU per request, ceiling\n")
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "phase\trtt/op\tcmds/op\tserver cpu/op\tredis cpu/op\tserver+redis cpu/op\tceiling ops/s\tok/s\tratio\tcommands per op\t")
		for _, p := range phases {
			if p.Redis == nil {
				continue
			}
			ratio := "-"
			if p.Ratio > 0 {
				ratio = fmt.Sprintf("%.2f", p.Ratio)
			}
			fmt.Fprintf(tw, "%s\t%.2f\t%.2f\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", p.Name, p.Redis.RTT, p.Redis.Commands, fmtDur(p.ServerCPUPerOp),
				fmtDur(p.RedisCPUPerOp), fmtDur(p.StackCPUPerOp), fmtRate(p.CeilingOpsPerS), fmtRate(p.OKPerSec), ratio, p.Redis)
		}
		tw.Flush()
	}

	var m *importMem
	for _, ri := range r.Runs {
		if ri.Store == k.store && ri.Users == k.users {
			m = ri.Import
		}
	}
	if len(r.Runs) == 0 {
		m = r.Import
	}
	if m != nil && len(m.Samples) > 0 {
		fmt.Fprintf(w, "Server RSS over the import of %d users (MB at 10 %%, 20 %%, ... 100 %%):", m.Users)
		for _, s := range m.Samples {
			fmt.Fprintf(w, " %s", fmtMB(s.RSS))
		}
		fmt.Fprintf(w, "\n  growth after 25 %%: %.0f %%; %+.0f bytes per user imported after 25 %%\n", 100*m.Growth, m.BytesPerUser)
	}
}
