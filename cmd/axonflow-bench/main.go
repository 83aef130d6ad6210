// Command axonflow-bench is the load benchmark of axonflow-sync's SCIM API.
//
// It drives a running `axonflow-sync serve` (attach mode: --url, --token,
// optionally --server-pid and --redis-url) or one it starts itself
// (--spawn: a throw-away redis-server without persistence on a free port,
// the server built from this module and started against it, a fresh tenant
// token from `axonflow-sync token create`; both are stopped at the end)
// with the requests Okta sends, phase by phase, at --conns concurrent
// connections for --duration each:
//
//	import          POST /Users with Okta's body, --users of them (RSS sampled)
//	lookup          GET /Users?filter=userName eq "<existing>"&startIndex=1&count=100
//	get             GET /Users/{id}
//	put             PUT /Users/{id}, Okta's full replace (id, groups [], password)
//	deactivate      PATCH /Users/{id} replace active false, without a path
//	paging          GET /Users?startIndex=N&count=100
//	group-create    POST /Groups
//	group-add       PATCH /Groups/{id} add --batch members per request
//	group-remove    PATCH /Groups/{id} remove members[value eq "<id>"]
//	big-group       (--big-group N) fill one group with N members by batched
//	                PATCH, then add/remove single members to it and to a
//	                10-member group in interleaved rounds
//
// Per phase it reports requests/s, p50/p99/max latency, errors by status,
// the CPU seconds of the server, Redis, itself and the rest of the machine,
// and the server's peak RSS. With Redis access it also counts the Redis
// round trips and commands each request costs (INFO stats/commandstats
// before and after each phase) and measures the Redis-bound ceiling: raw
// round trips per second from Go (go-redis, the same concurrency, no
// pipelining) of the command shapes the server uses; the ceiling of an
// operation is that rate divided by its round trips, and the report gives
// SCIM ops/s ÷ ceiling. --output json prints everything as JSON.
//
// Every loop is bounded (a duration, a count, --max-phase-time) and the
// program talks only to the URLs it is given (spawn mode: 127.0.0.1).
// See README.md, "Load benchmark", and `make bench-load`.
package main

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/axonflow/axonflow-sync/store"
)

// Exit codes.
const (
	exitOK    = 0
	exitFail  = 1
	exitUsage = 2
)

// allPhases are the timed phases after the import, in the order they run.
//
// paging runs before the group phases, so its pages hold users without
// groups and its cost does not depend on how many memberships group-add
// managed to create.
var allPhases = []string{"lookup", "get", "put", "deactivate", "paging", "group-create", "group-add", "group-remove"}

type options struct {
	spawn            bool
	pin              bool
	floor            bool
	url, token       string
	serverPid        int
	redisURL         string
	serverBin        string
	serverSrc        string
	serverLog        string
	serverLogLevel   string
	serverRedisQuery string
	conns            int
	duration         time.Duration
	users            int
	phases           []string
	bigGroup         int
	batch            int
	memberPool       int
	rounds           int
	countRTT         bool
	ceiling          bool
	ceilingDuration  time.Duration
	cpuprofile       string
	output           string
	jsonFile         string
	maxPhase         time.Duration
	seed             uint64
}

const usageText = `axonflow-bench: load benchmark of the axonflow-sync SCIM API against its Redis ceiling.

Usage:
  axonflow-bench --spawn [flags]
      start redis-server (PATH) and axonflow-sync serve (built from this module) on free
      loopback ports, run the phases, stop both
  axonflow-bench --url http://HOST:PORT/scim/v2 --token scim_... [--server-pid PID] [--redis-url URL] [flags]
      drive a running server (the token may also come from AXONFLOW_BENCH_TOKEN); without
      --redis-url there is no round-trip count and no ceiling, without --server-pid no server CPU/RSS

Flags:
`

func main() {
	if len(os.Args) > 1 && os.Args[1] == floorCommand {
		os.Exit(floorMain(os.Args[2:], os.Stderr))
	}
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr, os.Getenv))
}

func parseFlags(args []string, stderr io.Writer, getenv func(string) string) (options, error) {
	var o options
	fs := flag.NewFlagSet("axonflow-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, usageText)
		fs.PrintDefaults()
	}
	fs.BoolVar(&o.spawn, "spawn", false, "start redis-server and axonflow-sync serve on free 127.0.0.1 ports and stop them at the end")
	fs.BoolVar(&o.pin, "pin", true, "spawn mode: pin the server, redis-server and the load generator to their own CPUs (2 CPUs: server on the first, Redis and generator on the second; the ceiling loops run on the server's CPU); --pin=false lets the kernel place them")
	fs.BoolVar(&o.floor, "floor", true, "spawn mode: after the get phase, drive the stack floor the same way: a minimal net/http + go-redis server making get's Redis round trips and returning a canned body (see README)")
	fs.StringVar(&o.url, "url", "", "attach mode: SCIM base URL of a running server, e.g. http://127.0.0.1:8080/scim/v2")
	fs.StringVar(&o.token, "token", "", "attach mode: SCIM bearer token (scim_...; default $AXONFLOW_BENCH_TOKEN)")
	fs.IntVar(&o.serverPid, "server-pid", 0, "attach mode: pid of the server process, for its CPU time and peak RSS")
	fs.StringVar(&o.redisURL, "redis-url", "", "attach mode: the server's Redis, for --count-rtt and the ceiling")
	fs.StringVar(&o.serverBin, "server-bin", "", "spawn mode: run this axonflow-sync binary instead of building one")
	fs.StringVar(&o.serverSrc, "server-src", ".", "spawn mode: directory in the axonflow-sync module to build the server from")
	fs.StringVar(&o.serverLog, "server-log", "", "spawn mode: write the server's request log here (default: a temporary file, removed)")
	fs.StringVar(&o.serverLogLevel, "server-log-level", "info", "spawn mode: the server's log level (info logs one line per request, as in production)")
	fs.StringVar(&o.serverRedisQuery, "server-redis-options", "", "spawn mode: go-redis URL options for the server, e.g. pool_size=64")
	fs.IntVar(&o.conns, "conns", 64, "concurrent connections (and Redis connections of the ceiling loops)")
	fs.DurationVar(&o.duration, "duration", 10*time.Second, "duration of each timed phase")
	fs.IntVar(&o.users, "users", 10000, "users the import phase creates (the other phases use them)")
	phases := fs.String("phases", strings.Join(allPhases, ","), "timed phases to run after the import, comma-separated")
	fs.IntVar(&o.bigGroup, "big-group", 0, "run the big-group phase with a group of this many members (needs --users >= it; 100000 takes minutes)")
	fs.IntVar(&o.batch, "batch", 100, "members per PATCH in group-add and when building the big group")
	fs.IntVar(&o.memberPool, "member-pool", 300, "big-group: users per connection for the single-member add/remove")
	fs.IntVar(&o.rounds, "rounds", 4, "big-group: interleaved rounds (big, small, small, big, ...) sharing --duration per group")
	fs.BoolVar(&o.countRTT, "count-rtt", true, "count Redis round trips and commands per request (INFO before/after each phase; needs Redis access)")
	fs.BoolVar(&o.ceiling, "ceiling", true, "measure the Redis-bound ceiling (needs Redis access)")
	fs.DurationVar(&o.ceilingDuration, "ceiling-duration", 3*time.Second, "duration of each ceiling loop (4 command shapes, measured after the import and after the lookup and get phases)")
	fs.StringVar(&o.cpuprofile, "cpuprofile", "", "spawn mode: write a CPU profile of the server per phase into this directory (builds the server with a profiling hook)")
	fs.StringVar(&o.output, "output", "table", "table or json")
	fs.StringVar(&o.jsonFile, "json-file", "", "also write the JSON report to this file")
	fs.DurationVar(&o.maxPhase, "max-phase-time", 30*time.Minute, "stop any phase (also count-based ones) after this long")
	seed := fs.Uint64("seed", 1, "random seed (which users are picked)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	o.seed = *seed
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if o.token == "" && !o.spawn {
		o.token = getenv("AXONFLOW_BENCH_TOKEN")
	}
	o.phases = nil
	for _, p := range strings.Split(*phases, ",") {
		if p = strings.TrimSpace(p); p == "" || p == "import" {
			continue
		}
		if !slices.Contains(allPhases, p) {
			return o, fmt.Errorf("--phases: unknown phase %q (import always runs; known: %s; big-group: --big-group N)", p, strings.Join(allPhases, ","))
		}
		if !slices.Contains(o.phases, p) {
			o.phases = append(o.phases, p)
		}
	}
	// Phases run in the documented order, whatever order they were given in.
	slices.SortFunc(o.phases, func(a, b string) int { return slices.Index(allPhases, a) - slices.Index(allPhases, b) })
	has := func(p string) bool { return slices.Contains(o.phases, p) }
	switch {
	case o.spawn && (o.url != "" || o.token != "" || o.serverPid != 0 || o.redisURL != ""):
		return o, errors.New("--spawn starts its own server and Redis: drop --url, --token, --server-pid and --redis-url")
	case !o.spawn && (o.url == "" || o.token == ""):
		return o, errors.New("give --spawn, or --url and --token (or AXONFLOW_BENCH_TOKEN) of a running server")
	case !o.spawn && o.cpuprofile != "":
		return o, errors.New("--cpuprofile needs --spawn (it builds the server with a profiling hook)")
	case o.cpuprofile != "" && o.serverBin != "":
		return o, errors.New("--cpuprofile builds the server: drop --server-bin (use --server-src to choose the source)")
	case o.conns < 1 || o.conns > 4096:
		return o, errors.New("--conns must be between 1 and 4096")
	case o.duration <= 0 || o.ceilingDuration <= 0 || o.maxPhase <= 0:
		return o, errors.New("--duration, --ceiling-duration and --max-phase-time must be positive")
	case o.users < 100:
		return o, errors.New("--users must be at least 100 (a page of paging)")
	case o.batch < 1 || o.batch > 1000:
		return o, errors.New("--batch must be between 1 and 1000 (the server's PATCH limit)")
	case o.bigGroup < 0 || (o.bigGroup > 0 && o.bigGroup > o.users):
		return o, fmt.Errorf("--big-group %d needs at least as many --users (it groups imported users)", o.bigGroup)
	case o.bigGroup > 0 && o.bigGroup < 10:
		return o, errors.New("--big-group must be at least 10 (it is compared with a 10-member group)")
	case o.memberPool < 1 || o.rounds < 1:
		return o, errors.New("--member-pool and --rounds must be positive")
	case has("group-add") && !has("group-create"):
		return o, errors.New("--phases: group-add needs group-create (it fills the groups that phase created)")
	case has("group-remove") && !has("group-add"):
		return o, errors.New("--phases: group-remove needs group-add (it removes members that phase added)")
	case o.output != "table" && o.output != "json":
		return o, errors.New("--output must be table or json")
	}
	switch o.serverLogLevel {
	case "debug", "info", "warn", "error":
	default:
		return o, errors.New("--server-log-level must be debug, info, warn or error")
	}
	return o, nil
}

func run(args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	o, err := parseFlags(args, stderr, getenv)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err != nil {
		fmt.Fprintf(stderr, "axonflow-bench: %v\n", err)
		return exitUsage
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	rep, err := execute(ctx, o, stderr)
	if rep != nil && len(rep.Phases) > 0 {
		if o.jsonFile != "" {
			if werr := writeJSONFile(rep, o.jsonFile); werr != nil && err == nil {
				err = werr
			}
		}
		if o.output == "json" {
			if werr := rep.writeJSON(stdout); werr != nil && err == nil {
				err = werr
			}
		} else {
			rep.writeTable(stdout)
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "axonflow-bench: %v\n", err)
		return exitFail
	}
	return exitOK
}

// execute runs the whole benchmark; it returns the report so far even when
// it fails.
func execute(ctx context.Context, o options, log io.Writer) (*report, error) {
	rep := newReport(o)
	b := &bench{opt: o, log: log, rep: rep, run: runID()}
	if o.spawn {
		s, err := spawn(ctx, o, log)
		if err != nil {
			return rep, err
		}
		defer func() {
			b.logf("stopping the server and redis-server")
			s.close()
		}()
		o.url, o.token, o.redisURL = s.scimURL, s.token, s.redisURL
		b.spawnDir = s.dir
		b.serverPid, b.redisPid = s.server.pid(), s.redis.pid()
		rep.Server = serverInfo{Mode: "spawn", Binary: s.binary, Pid: b.serverPid, RedisPid: b.redisPid, URL: s.scimURL,
			LogLevel: o.serverLogLevel, RedisOptions: o.serverRedisQuery}
		if len(s.layout.Server) > 0 {
			l := s.layout
			rep.Server.Layout = &l
			all, err := allowedCPUs()
			if err != nil {
				return rep, err
			}
			procs := runtime.GOMAXPROCS(0)
			if err := pinSelf(l.Loadgen); err != nil {
				return rep, err
			}
			defer func() {
				_ = pinSelf(all)
				runtime.GOMAXPROCS(procs)
			}()
			b.layout = l
		}
		if o.cpuprofile != "" {
			if err := os.MkdirAll(o.cpuprofile, 0o755); err != nil {
				return rep, err
			}
			b.prof = &overlayProfiler{base: s.pprofURL, dir: o.cpuprofile}
			rep.Server.ProfileDir = o.cpuprofile
		}
	} else {
		b.serverPid = o.serverPid
		rep.Server = serverInfo{Mode: "attach", Pid: o.serverPid, URL: o.url}
	}
	b.opt = o
	c, err := newSCIMClient(strings.TrimRight(o.url, "/"), o.token, o.conns)
	if err != nil {
		return rep, err
	}
	b.c = c

	// One authenticated request: checks URL and token, names the tenant.
	r, err := b.c.do(ctx, http.MethodGet, "/Users?count=0", nil, true)
	if err != nil {
		return rep, fmt.Errorf("probe %s: %w", o.url, err)
	}
	if r.status != http.StatusOK {
		return rep, fmt.Errorf("probe GET %s/Users?count=0: status %d: %.300s", o.url, r.status, r.body)
	}
	tenant := r.tenant
	rep.Server.Tenant = tenant

	if o.redisURL != "" && (o.countRTT || o.ceiling) {
		ro, err := redis.ParseURL(o.redisURL)
		if err != nil {
			return rep, fmt.Errorf("--redis-url: %w", err)
		}
		one := *ro
		one.PoolSize, one.MinIdleConns = 1, 1
		b.rc = redis.NewClient(&one)
		defer b.rc.Close()
		many := *ro
		many.PoolSize = o.conns
		b.ceilRC = redis.NewClient(&many)
		defer b.ceilRC.Close()
		info, err := b.rc.Info(ctx, "server").Result()
		if err != nil {
			return rep, fmt.Errorf("redis INFO: %w", err)
		}
		rep.Server.RedisVersion = infoField(info, "redis_version")
		if o.countRTT {
			if _, err := readCounters(ctx, b.rc); err != nil {
				return rep, err
			}
		}
	} else if o.countRTT || o.ceiling {
		rep.Notes = append(rep.Notes, "no --redis-url: no round-trip count and no Redis ceiling")
	}

	b.logf("%s mode, %d connections, %v per phase, %d users to import; %d CPUs, load average %s",
		rep.Server.Mode, o.conns, o.duration, o.users, runtime.NumCPU(), rep.Machine.LoadAvg)

	imp, err := b.importUsers(ctx)
	if imp != nil {
		rep.Phases = append(rep.Phases, imp)
		rep.Import = importMemory(imp.RSS, o.users)
	}
	if err != nil {
		return rep, err
	}
	if len(b.users) < 100 {
		return rep, fmt.Errorf("only %d users were imported; the other phases need 100", len(b.users))
	}
	if o.bigGroup > len(b.users) {
		return rep, fmt.Errorf("only %d users were imported; --big-group %d needs that many", len(b.users), o.bigGroup)
	}
	target := ceilingTarget{keyBase: "t:{" + tenant + "}:"}
	for _, u := range b.users[:min(len(b.users), 1000)] {
		target.ids = append(target.ids, u.id)
		target.logins = append(target.logins, u.login)
	}
	ceilingRun := func(when string) error {
		if b.ceilRC == nil || !o.ceiling || tenant == "" {
			return nil
		}
		if n, err := b.ceilRC.Exists(ctx, target.keyBase+"user:"+target.ids[0]).Result(); err != nil || n != 1 {
			rep.Notes = append(rep.Notes, "the ceiling loops did not find the user records at "+target.keyBase+"user:<id> (a key prefix?): the ceiling reads missing keys")
		}
		if len(b.layout.Ceiling) > 0 {
			// The loops run on the server's CPUs (idle now), Redis stays
			// where it is: the fastest layout measured for raw round trips.
			if err := pinSelf(b.layout.Ceiling); err != nil {
				return err
			}
			defer func() { _ = pinSelf(b.layout.Loadgen) }()
		}
		var res []ceilingResult
		for _, shape := range ceilingShapes {
			before, err := readCounters(ctx, b.rc)
			if err != nil {
				return err
			}
			c := measureCeiling(ctx, b.ceilRC, shape, target, o.conns, o.ceilingDuration, o.seed, b.serverPid)
			after, err := readCounters(context.WithoutCancel(ctx), b.rc)
			if err != nil {
				return err
			}
			// The loop's own round trips, counted the way phases are: a
			// check that the read-event count is the round-trip count.
			u := usageBetween(before, after)
			c.CountedRoundTrips, c.CPU.Redis = u.RoundTrips, u.CPU
			b.logf("ceiling (%s) %-9s %9s round trips/s  p50 %-7s p99 %-7s (INFO counted %d round trips for %d made)", when, c.Shape,
				fmtRate(c.Rate), fmtDur(c.Latency.P50), fmtDur(c.Latency.P99), c.CountedRoundTrips, c.Requests)
			res = append(res, c)
			if ctx.Err() != nil {
				return ctx.Err()
			}
		}
		rep.Ceiling.Runs = append(rep.Ceiling.Runs, ceilingRun{When: when, Shapes: res})
		return nil
	}
	if err := ceilingRun("after import"); err != nil {
		return rep, err
	}

	specs := map[string]func() phaseSpec{
		"lookup": b.lookup, "get": b.getByID, "put": b.put, "deactivate": b.deactivate,
		"group-create": b.groupCreate, "group-add": b.groupAdd, "group-remove": b.groupRemove, "paging": b.paging,
	}
	// The second ceiling run comes right after the read-only phases, so
	// both runs bracket them on the same data (the phases after them add
	// memberships, which change what SMEMBERS returns).
	second := false
	for _, name := range o.phases {
		if !second && name != "lookup" && name != "get" {
			second = true
			if err := ceilingRun("after lookup/get"); err != nil {
				return rep, err
			}
		}
		res, err := b.measure(ctx, specs[name]())
		if res != nil {
			if name == "deactivate" && res.Requests > len(b.users) {
				res.Notes = append(res.Notes, fmt.Sprintf("%d requests for %d users: the later ones deactivated users again and wrote nothing", res.Requests, len(b.users)))
			}
			if name == "group-remove" && res.Requests > len(b.adds) {
				res.Notes = append(res.Notes, fmt.Sprintf("%d removals of %d recorded members: the later ones removed nothing", res.Requests, len(b.adds)))
			}
			rep.Phases = append(rep.Phases, res)
		}
		if err != nil {
			return rep, err
		}
		if name == "get" && o.floor && b.spawnDir != "" && tenant != "" {
			fr, err := b.floorPhase(ctx, b.spawnDir, floorFlags{redisURL: o.redisURL, keyBase: target.keyBase,
				tokenKey: "tokens:" + store.HashToken(o.token)})
			if fr != nil {
				rep.Phases = append(rep.Phases, fr)
			}
			if err != nil {
				return rep, err
			}
		}
		if name == "group-create" && len(b.groups) == 0 {
			return rep, fmt.Errorf("group-create created no group: %s", res.FirstError)
		}
		if name == "group-add" && len(b.adds) == 0 {
			return rep, fmt.Errorf("group-add added no member: %s", res.FirstError)
		}
	}
	if o.bigGroup > 0 {
		rows, err := b.bigGroup(ctx)
		rep.Phases = append(rep.Phases, rows...)
		if err != nil {
			return rep, err
		}
	}
	if !second {
		if err := ceilingRun("after lookup/get"); err != nil {
			return rep, err
		}
	}
	rep.finish()
	return rep, nil
}

// runID is a short random id that keeps user and group names of this run
// apart from earlier runs against the same server.
func runID() string {
	var b [3]byte
	_, _ = crand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// infoField returns one "key:value" field of an INFO reply.
func infoField(info, key string) string {
	for _, line := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), key+":"); ok {
			return v
		}
	}
	return ""
}

func writeJSONFile(rep *report, path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := rep.writeJSON(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
