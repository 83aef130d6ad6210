package main

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// redisCounters is one reading of the Redis counters the RTT accounting
// uses (INFO stats, commandstats and cpu).
type redisCounters struct {
	// Reads is total_reads_processed: the read events Redis handled on
	// client sockets. A client that waits for each reply before sending
	// again (go-redis: one command, one pipeline or one EVALSHA per
	// exchange) causes exactly one read event per round trip, so the delta
	// is the number of round trips, pipelines counted once.
	Reads int64
	// Commands is calls per command (cmdstat_<name>), lower-case.
	Commands map[string]int64
	// CPU is used_cpu_user + used_cpu_sys of the Redis process.
	CPU time.Duration
}

// parseInfo reads the counters from the text of INFO stats commandstats cpu.
func parseInfo(text string) (redisCounters, error) {
	c := redisCounters{Commands: map[string]int64{}, Reads: -1}
	var cpu float64
	cpuSeen := 0
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		k, v, ok := strings.Cut(line, ":")
		if !ok || strings.HasPrefix(line, "#") {
			continue
		}
		switch {
		case k == "total_reads_processed":
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return c, fmt.Errorf("INFO %s: %q", k, v)
			}
			c.Reads = n
		case k == "used_cpu_user" || k == "used_cpu_sys":
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				return c, fmt.Errorf("INFO %s: %q", k, v)
			}
			cpu += f
			cpuSeen++
		case strings.HasPrefix(k, "cmdstat_"):
			name := strings.ToLower(strings.TrimPrefix(k, "cmdstat_"))
			for _, kv := range strings.Split(v, ",") {
				if f, val, ok := strings.Cut(kv, "="); ok && f == "calls" {
					n, err := strconv.ParseInt(val, 10, 64)
					if err != nil {
						return c, fmt.Errorf("INFO %s: %q", k, v)
					}
					c.Commands[name] = n
				}
			}
		}
	}
	if c.Reads < 0 {
		return c, fmt.Errorf("INFO has no total_reads_processed (Redis 6.0 or later is needed)")
	}
	if cpuSeen == 2 {
		c.CPU = time.Duration(cpu * float64(time.Second))
	}
	return c, nil
}

// rttUsage is what a phase cost Redis.
type rttUsage struct {
	RoundTrips int64            `json:"round_trips"`
	Commands   map[string]int64 `json:"commands"` // by command, without the bench's own INFO
	CPU        time.Duration    `json:"redis_cpu_ns"`
}

// infoOverhead is what reading the counters itself adds between two
// readings: the second INFO is one read event (the first one's read was
// counted before its reply was produced).
const infoOverhead = 1

// usageBetween is the Redis work done between readings a and b.
func usageBetween(a, b redisCounters) rttUsage {
	u := rttUsage{RoundTrips: b.Reads - a.Reads - infoOverhead, Commands: map[string]int64{}, CPU: b.CPU - a.CPU}
	if u.RoundTrips < 0 {
		u.RoundTrips = 0
	}
	for k, n := range b.Commands {
		if k == "info" {
			continue
		}
		if d := n - a.Commands[k]; d > 0 {
			u.Commands[k] = d
		}
	}
	return u
}

// perOp is a phase's Redis usage divided by its SCIM requests.
type perOp struct {
	RTT      float64            `json:"rtt_per_op"`
	Commands float64            `json:"commands_per_op"`
	ByCmd    map[string]float64 `json:"commands_per_op_by_command"`
}

func (u rttUsage) perOp(requests int) perOp {
	if requests <= 0 {
		return perOp{}
	}
	p := perOp{RTT: float64(u.RoundTrips) / float64(requests), ByCmd: map[string]float64{}}
	for k, n := range u.Commands {
		v := float64(n) / float64(requests)
		p.ByCmd[k] = v
		p.Commands += v
	}
	return p
}

// String is e.g. "hmget 2.00, smembers 1.00" (largest first).
func (p perOp) String() string {
	type kv struct {
		k string
		v float64
	}
	var l []kv
	for k, v := range p.ByCmd {
		if v >= 0.005 {
			l = append(l, kv{k, v})
		}
	}
	sort.Slice(l, func(i, j int) bool {
		if l[i].v != l[j].v {
			return l[i].v > l[j].v
		}
		return l[i].k < l[j].k
	})
	parts := make([]string, len(l))
	for i, x := range l {
		parts[i] = fmt.Sprintf("%s %.2f", x.k, x.v)
	}
	return strings.Join(parts, ", ")
}

// Ceiling command shapes: each is one round trip, without pipelining, on
// keys the server really uses.
const (
	shapeHMGET    = "hmget"    // a user record (what GetUser and TokenByHash do)
	shapeHGET     = "hget"     // an index entry (FindUser)
	shapeSMEMBERS = "smembers" // a user's groups (UserGroups)
	shapeEVALSHA  = "evalsha"  // a small script reading one key and writing another (every write)
)

var ceilingShapes = []string{shapeHMGET, shapeHGET, shapeSMEMBERS, shapeEVALSHA}

// scriptCommands are the commands that run a Lua script: one round trip
// each, whatever the script calls inside (commandstats counts those calls
// too, under their own names).
var scriptCommands = []string{"evalsha", "eval", "evalsha_ro", "eval_ro", "fcall", "fcall_ro"}

// ceilingFor is the Redis-bound round-trip rate of an operation that makes
// p.RTT round trips per request, of which the script calls run at the
// evalsha rate and the others (reads: single commands or pipelines) at the
// harmonic mean of the three read shapes' rates. It returns 0 when a
// needed rate was not measured.
func ceilingFor(p perOp, rates map[string]float64) float64 {
	if p.RTT <= 0 {
		return 0
	}
	var scripts float64
	for _, c := range scriptCommands {
		scripts += p.ByCmd[c]
	}
	scripts = min(scripts, p.RTT)
	reads := p.RTT - scripts
	var secs float64
	if scripts > 0 {
		if rates[shapeEVALSHA] <= 0 {
			return 0
		}
		secs += scripts / rates[shapeEVALSHA]
	}
	if reads > 0 {
		var inv float64
		for _, s := range []string{shapeHMGET, shapeHGET, shapeSMEMBERS} {
			if rates[s] <= 0 {
				return 0
			}
			inv += 1 / rates[s]
		}
		secs += reads * inv / 3
	}
	return p.RTT / secs
}

// ceilingResult is one measured shape.
type ceilingResult struct {
	Shape    string        `json:"shape"`
	Key      string        `json:"example_key"`
	Requests int           `json:"round_trips"`
	Errors   int           `json:"errors"`
	Wall     time.Duration `json:"wall_ns"`
	Rate     float64       `json:"round_trips_per_s"`
	Latency  summary       `json:"latency"`
	CPU      cpuUsage      `json:"cpu"`
	// CountedRoundTrips is what the INFO read-event count saw during the
	// loop: it should equal Requests (a check of --count-rtt).
	CountedRoundTrips int64 `json:"counted_round_trips"`
}

// ceilingTarget is the data the ceiling loops touch: real users of the
// benchmark tenant.
type ceilingTarget struct {
	keyBase string   // "t:{tenant}:" (store key layout, redisstore package doc)
	ids     []string // user ids
	logins  []string // their userNames (the index is keyed by the lower-case form)
}

var benchScript = redis.NewScript(`local v = redis.call('HGET', KEYS[1], 'v')
redis.call('HINCRBY', KEYS[2], 'n', 1)
return v`)

// measureCeiling runs conns goroutines, each doing one command of the given
// shape per round trip, for d; it returns the rate and latency.
func measureCeiling(ctx context.Context, rc *redis.Client, shape string, t ceilingTarget, conns int, d time.Duration, seed uint64, serverPid int) ceilingResult {
	scratch := "axonflow-bench:{" + strings.TrimSuffix(strings.TrimPrefix(t.keyBase, "t:{"), "}:") + "}:scratch"
	do := func(r *rand.Rand) error {
		i := r.IntN(len(t.ids))
		switch shape {
		case shapeHMGET:
			return rc.HMGet(ctx, t.keyBase+"user:"+t.ids[i], "doc", "origin", "created", "lm", "v").Err()
		case shapeHGET:
			return rc.HGet(ctx, t.keyBase+"idx:userName", strings.ToLower(t.logins[i])).Err()
		case shapeSMEMBERS:
			return rc.SMembers(ctx, t.keyBase+"memberof:"+t.ids[i]).Err()
		case shapeEVALSHA:
			err := benchScript.EvalSha(ctx, rc, []string{t.keyBase + "user:" + t.ids[i], scratch}).Err()
			if err == redis.Nil {
				err = nil
			}
			return err
		}
		return fmt.Errorf("unknown shape %q", shape)
	}
	if shape == shapeEVALSHA {
		benchScript.Load(ctx, rc)
	}
	res := ceilingResult{Shape: shape}
	switch shape {
	case shapeHMGET, shapeEVALSHA:
		res.Key = t.keyBase + "user:<id>"
	case shapeHGET:
		res.Key = t.keyBase + "idx:userName"
	case shapeSMEMBERS:
		res.Key = t.keyBase + "memberof:<id>"
	}
	var (
		mu   sync.Mutex
		all  latencies
		errs int
		wg   sync.WaitGroup
	)
	mon := startCPU(serverPid, 0)
	start := time.Now()
	deadline := start.Add(d)
	for w := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(seed, uint64(w)))
			var lat latencies
			var e int
			for ctx.Err() == nil {
				t0 := time.Now()
				if t0.After(deadline) {
					break
				}
				err := do(r)
				lat = append(lat, time.Since(t0))
				if err != nil && err != redis.Nil {
					e++
				}
			}
			mu.Lock()
			all = append(all, lat...)
			errs += e
			mu.Unlock()
		}()
	}
	wg.Wait()
	res.Wall = time.Since(start)
	res.CPU = mon.stop()
	res.Requests, res.Errors = len(all), errs
	res.Rate = float64(len(all)-errs) / res.Wall.Seconds()
	res.Latency = all.summarize()
	if shape == shapeEVALSHA {
		rc.Del(context.WithoutCancel(ctx), scratch)
	}
	return res
}

// readCounters reads the RTT accounting counters with one INFO.
func readCounters(ctx context.Context, rc *redis.Client) (redisCounters, error) {
	s, err := rc.Info(ctx, "stats", "commandstats", "cpu").Result()
	if err != nil {
		return redisCounters{}, fmt.Errorf("INFO: %w", err)
	}
	return parseInfo(s)
}
