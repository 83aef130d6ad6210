// Command axonflow-bench is the load benchmark of axonflow-sync's SCIM API.
//
// It drives a running `axonflow-sync serve` (attach mode: --url, --token,
// optionally --server-pid and --redis-url) or ones it starts itself
// (--spawn: per store (--store redis, embedded or both) and per tenant
// size (--sizes), a fresh server built from the axonflow-sync module on a
// fresh store: a throw-away redis-server without persistence on a free
// port, or the embedded SQLite store in a temporary data directory; a
// tenant token from `axonflow-sync token create`; everything is stopped at
// the end) with the requests Okta sends, phase by phase, at --conns
// concurrent connections for --duration each:
//
//	import          POST /Users with Okta's body, as many as the size (RSS sampled)
//	lookup          GET /Users?filter=userName eq "<existing>"&startIndex=1&count=100
//	get             GET /Users/{id}
//	put             PUT /Users/{id}, Okta's full replace (id, groups [], password)
//	deactivate      PATCH /Users/{id} replace active false, without a path
//	                (true on every second pass over the users)
//	paging          GET /Users?startIndex=N&count=100
//	group-create    POST /Groups
//	group-add       PATCH /Groups/{id} add --batch members per request
//	group-remove    PATCH /Groups/{id} remove members[value eq "<id>"]
//	big-group       (--big-group N, at the largest size) fill one group with
//	                N members by batched PATCH, then add/remove single
//	                members to it and to a 10-member group in interleaved
//	                rounds
//
// Per phase it reports requests/s, p50/p99/max latency, errors by status,
// the CPU seconds of the server, Redis, itself and the rest of the machine,
// the server's CPU per request (and Redis's) and its peak RSS. With Redis
// access it also counts the Redis round trips and commands each request
// costs (INFO stats/commandstats before and after each phase), drives the
// stack floor (spawn mode) and measures the Redis ceiling: raw round trips
// per second from Go (go-redis, the same concurrency, no pipelining) of
// the command shapes the server uses. With two or more sizes it prints the
// CPU per request of every phase at each size and the ratio largest ÷
// smallest, and compares lookup and get at the smallest and the largest
// size in interleaved rounds on two servers (--scaling-rounds); with both
// stores it compares them the same way at each size (--store-rounds); at
// the end it checks the targets (README). --output json
// prints everything as JSON.
//
// Every loop is bounded (a duration, a count, --max-phase-time) and the
// program talks only to the URLs it is given (spawn mode: 127.0.0.1).
// It is a Go module of its own, so the product module does not depend on
// its HTTP client; it builds the server with the go command from the
// axonflow-sync module (--server-src). See README.md, "Load benchmark",
// and `make bench-load`.
package main

import (
	"bufio"
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
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"
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

// Stores spawn mode can run the server on (--store).
const (
	storeRedis    = "redis"
	storeEmbedded = "embedded"
)

type options struct {
	spawn            bool
	pin              bool
	floor            bool
	scalingRounds    bool
	storeRounds      bool
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
	// users is the tenant size of the run in progress (the import's
	// count); sizes are all of them, ascending (attach mode: one).
	users           int
	sizes           []int
	stores          []string // spawn mode: storeRedis and/or storeEmbedded, in that order
	phases          []string
	bigGroup        int
	batch           int
	memberPool      int
	rounds          int
	countRTT        bool
	ceiling         bool
	ceilingDuration time.Duration
	cpuprofile      string
	output          string
	jsonFile        string
	maxPhase        time.Duration
	seed            uint64
}

const usageText = `axonflow-bench: load benchmark of the axonflow-sync SCIM API.

Usage:
  axonflow-bench --spawn [--store redis|embedded|both] [--sizes 1000,100000] [flags]
      per store and tenant size: start a fresh axonflow-sync serve (built from the axonflow-sync
      module, see --server-src) on a fresh store (redis-server from PATH without persistence, or
      the embedded store in a temporary directory) on free loopback ports, run the phases, stop it
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
	fs.BoolVar(&o.spawn, "spawn", false, "start the store and axonflow-sync serve on free 127.0.0.1 ports (per --store and --sizes) and stop them at the end")
	fs.BoolVar(&o.pin, "pin", true, "spawn mode: pin the server, redis-server and the load generator to their own CPUs (2 CPUs: server on the first, Redis and generator on the second; the ceiling loops run on the server's CPU; the embedded store: the same without Redis); --pin=false lets the kernel place them")
	fs.BoolVar(&o.floor, "floor", true, "spawn mode, Redis: after the get phase, compare the server's GET with the stack floor's in interleaved rounds (--rounds): a minimal net/http + go-redis server making get's Redis round trip and returning a canned body (see README)")
	fs.BoolVar(&o.scalingRounds, "scaling-rounds", true, "spawn mode, two sizes or more: after the lookup and get phases at the largest size, start a fresh server with a tenant of the smallest size on the same store beside it and compare the two sizes' lookup and get in interleaved rounds (--rounds, ABBA), so that the CPU-per-request ratio is taken in one time window; the scaling targets use these rounds (see README)")
	fs.BoolVar(&o.storeRounds, "store-rounds", true, "spawn mode, --store both: after the lookup and get phases of each embedded run, start a fresh Redis deployment (redis-server and server, the Redis runs' CPU layout) with a tenant of the same size beside it and compare the two stores' lookup and get in interleaved rounds (--rounds, ABBA); the embedded-against-Redis targets use these rounds (see README)")
	fs.StringVar(&o.url, "url", "", "attach mode: SCIM base URL of a running server, e.g. http://127.0.0.1:8080/scim/v2")
	fs.StringVar(&o.token, "token", "", "attach mode: SCIM bearer token (scim_...; default $AXONFLOW_BENCH_TOKEN)")
	fs.IntVar(&o.serverPid, "server-pid", 0, "attach mode: pid of the server process, for its CPU time and peak RSS")
	fs.StringVar(&o.redisURL, "redis-url", "", "attach mode: the server's Redis, for --count-rtt and the ceiling")
	fs.StringVar(&o.serverBin, "server-bin", "", "spawn mode: run this axonflow-sync binary instead of building one")
	fs.StringVar(&o.serverSrc, "server-src", "", "spawn mode: directory in the axonflow-sync module to build the server from (default: the first directory from the current one upwards whose go.mod is that module's)")
	fs.StringVar(&o.serverLog, "server-log", "", "spawn mode: write the server's request log here (default: a temporary file, removed; with several runs, one file per run: F.<store>-<size>)")
	fs.StringVar(&o.serverLogLevel, "server-log-level", "info", "spawn mode: the server's log level (info logs one line per request, as in production)")
	fs.StringVar(&o.serverRedisQuery, "server-redis-options", "", "spawn mode: go-redis URL options for the server, e.g. pool_size=64")
	fs.IntVar(&o.conns, "conns", 64, "concurrent connections (and Redis connections of the ceiling loops)")
	fs.DurationVar(&o.duration, "duration", 10*time.Second, "duration of each timed phase")
	fs.IntVar(&o.users, "users", 10000, "users the import phase creates (the other phases use them); the same as --sizes N")
	sizes := fs.String("sizes", "", "spawn mode: tenant sizes, comma-separated (e.g. 1000,100000): a fresh server and store per size, each imported and measured; the report gives the CPU per request at each size and the ratio largest ÷ smallest (default: --users)")
	stores := fs.String("store", storeRedis, "spawn mode: the store the server runs on: redis, embedded (SQLite in a temporary data directory) or both")
	phases := fs.String("phases", strings.Join(allPhases, ","), "timed phases to run after the import, comma-separated")
	fs.IntVar(&o.bigGroup, "big-group", 0, "run the big-group phase with a group of this many members, at the largest size (needs it >= this; 100000 takes minutes)")
	fs.IntVar(&o.batch, "batch", 100, "members per PATCH in group-add and when building the big group")
	fs.IntVar(&o.memberPool, "member-pool", 300, "big-group: users per connection for the single-member add/remove")
	fs.IntVar(&o.rounds, "rounds", 4, "interleaved rounds (ABBA: big, small, small, big, ...; get, floor, floor, get, ...) sharing --duration per side, for the big group and the stack floor comparison")
	fs.BoolVar(&o.countRTT, "count-rtt", true, "count Redis round trips and commands per request (INFO before/after each phase; needs Redis access)")
	fs.BoolVar(&o.ceiling, "ceiling", true, "measure the Redis ceiling (needs Redis access)")
	fs.DurationVar(&o.ceilingDuration, "ceiling-duration", 2*time.Second, "duration of each ceiling loop (4 command shapes, measured once per Redis run, after the lookup and get phases)")
	fs.StringVar(&o.cpuprofile, "cpuprofile", "", "spawn mode: write a CPU profile of the server per phase into this directory (with several runs, a subdirectory <store>-<size> per run; builds the server with a profiling hook)")
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
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
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

	switch s := strings.TrimSpace(*stores); s {
	case storeRedis, storeEmbedded:
		o.stores = []string{s}
	case "both":
		o.stores = []string{storeRedis, storeEmbedded}
	default:
		return o, fmt.Errorf("--store %q: want redis, embedded or both", *stores)
	}
	if set["sizes"] {
		if set["users"] {
			return o, errors.New("give --sizes or --users, not both (--users N is --sizes N)")
		}
		for _, f := range strings.Split(*sizes, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil {
				return o, fmt.Errorf("--sizes: %q is not a number of users", f)
			}
			if n < 100 {
				return o, fmt.Errorf("--sizes: %d: every size must be at least 100 (a page of paging)", n)
			}
			if !slices.Contains(o.sizes, n) {
				o.sizes = append(o.sizes, n)
			}
		}
		slices.Sort(o.sizes)
	} else {
		if o.users < 100 {
			return o, errors.New("--users must be at least 100 (a page of paging)")
		}
		o.sizes = []int{o.users}
	}
	o.users = o.sizes[len(o.sizes)-1]

	switch {
	case o.spawn && (o.url != "" || o.token != "" || o.serverPid != 0 || o.redisURL != ""):
		return o, errors.New("--spawn starts its own server and store: drop --url, --token, --server-pid and --redis-url")
	case !o.spawn && (o.url == "" || o.token == ""):
		return o, errors.New("give --spawn, or --url and --token (or AXONFLOW_BENCH_TOKEN) of a running server")
	case !o.spawn && o.cpuprofile != "":
		return o, errors.New("--cpuprofile needs --spawn (it builds the server with a profiling hook)")
	case !o.spawn && set["store"]:
		return o, errors.New("--store needs --spawn (an attached server runs on the store it was started with)")
	case !o.spawn && len(o.sizes) > 1:
		return o, errors.New("several --sizes need --spawn (a fresh store per size); attach mode measures one size (--users)")
	case o.cpuprofile != "" && o.serverBin != "":
		return o, errors.New("--cpuprofile builds the server: drop --server-bin (use --server-src to choose the source)")
	case o.conns < 1 || o.conns > 4096:
		return o, errors.New("--conns must be between 1 and 4096")
	case o.duration <= 0 || o.ceilingDuration <= 0 || o.maxPhase <= 0:
		return o, errors.New("--duration, --ceiling-duration and --max-phase-time must be positive")
	case o.batch < 1 || o.batch > 1000:
		return o, errors.New("--batch must be between 1 and 1000 (the server's PATCH limit)")
	case o.bigGroup < 0 || (o.bigGroup > 0 && o.bigGroup > o.users):
		return o, fmt.Errorf("--big-group %d needs at least as many users at the largest size (it groups imported users)", o.bigGroup)
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

// execute runs the whole benchmark: in attach mode one run against the
// given server; in spawn mode one run per tenant size and store (sizes
// ascending; at each size the stores one after the other, so that the
// comparison between the stores, which is about throughput, is made
// minutes apart at most), each on a fresh server and store. It returns the
// report so far even when it fails.
func execute(ctx context.Context, o options, log io.Writer) (rep *report, err error) {
	rep = newReport(o)
	defer rep.finish()
	if !o.spawn {
		b := &bench{opt: o, log: log, rep: rep, run: runID(), serverPid: o.serverPid}
		if o.redisURL != "" {
			b.store = storeRedis
		}
		return rep, b.runPhases(ctx, serverInfo{Mode: "attach", Pid: o.serverPid, URL: o.url})
	}
	if o.serverBin == "" && o.serverSrc == "" {
		if o.serverSrc, err = findServerModule(); err != nil {
			return rep, err
		}
	}
	work, err := os.MkdirTemp("", "axonflow-bench-")
	if err != nil {
		return rep, err
	}
	defer os.RemoveAll(work)
	binary := o.serverBin
	if binary == "" {
		if binary, err = buildServer(ctx, o.serverSrc, work, o.cpuprofile != "", log); err != nil {
			return rep, err
		}
	}
	multi := len(o.sizes)*len(o.stores) > 1
	for _, size := range o.sizes {
		for _, st := range o.stores {
			if err := spawnRun(ctx, o, rep, log, st, size, binary, multi); err != nil {
				return rep, fmt.Errorf("%s store, %d users: %w", st, size, err)
			}
		}
	}
	return rep, nil
}

// spawnRun starts a fresh store and server for one run (store st, size
// users), pins this process as the layout says, runs the phases and stops
// everything. multi says whether there are other runs (the server log and
// profiles then get a per-run name).
func spawnRun(ctx context.Context, o options, rep *report, log io.Writer, st string, size int, binary string, multi bool) error {
	o.users = size
	tag := st + "-" + strconv.Itoa(size)
	if multi && o.serverLog != "" {
		o.serverLog += "." + tag
	}
	s, err := spawn(ctx, o, st, binary, log)
	if err != nil {
		return err
	}
	b := &bench{opt: o, log: log, rep: rep, run: runID(), store: st, spawnDir: s.dir, serverPid: s.server.pid(), binary: binary}
	defer func() {
		b.logf("stopping the server%s", map[bool]string{true: " and redis-server", false: ""}[s.redis != nil])
		s.close()
	}()
	b.opt.url, b.opt.token, b.opt.redisURL = s.scimURL, s.token, s.redisURL
	info := serverInfo{Mode: "spawn", Store: st, Binary: binary, Pid: s.server.pid(), URL: s.scimURL,
		LogLevel: o.serverLogLevel}
	if s.redis != nil {
		b.redisPid = s.redis.pid()
		info.RedisPid, info.RedisOptions = b.redisPid, o.serverRedisQuery
	}
	if len(s.layout.Server) > 0 {
		l := s.layout
		info.Layout = &l
		all, err := allowedCPUs()
		if err != nil {
			return err
		}
		procs := runtime.GOMAXPROCS(0)
		b.allCPUs = all
		if err := pinSelf(l.Loadgen); err != nil {
			return err
		}
		defer func() {
			_ = pinSelf(all)
			runtime.GOMAXPROCS(procs)
		}()
		b.layout = l
	}
	if o.cpuprofile != "" {
		dir := o.cpuprofile
		if multi {
			dir = filepath.Join(dir, tag)
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		b.prof = &overlayProfiler{base: s.pprofURL, dir: dir}
		info.ProfileDir = dir
	}
	return b.runPhases(ctx, info)
}

// runPhases runs the import and the timed phases against b's server (one
// run: one store, one tenant size) and adds its results to b.rep.
func (b *bench) runPhases(ctx context.Context, info serverInfo) error {
	o, rep := b.opt, b.rep
	ri := &runInfo{Store: b.store, Users: o.users, Server: info}
	rep.Runs = append(rep.Runs, ri)
	c, err := newSCIMClient(strings.TrimRight(o.url, "/"), o.token, o.conns)
	if err != nil {
		return err
	}
	b.c = c

	// One authenticated request: checks URL and token, names the tenant.
	r, err := b.c.do(ctx, http.MethodGet, "/Users?count=0", nil, true)
	if err != nil {
		return fmt.Errorf("probe %s: %w", o.url, err)
	}
	if r.status != http.StatusOK {
		return fmt.Errorf("probe GET %s/Users?count=0: status %d: %.300s", o.url, r.status, r.body)
	}
	tenant := r.tenant
	ri.Server.Tenant = tenant

	if o.redisURL != "" && (o.countRTT || o.ceiling) {
		ro, err := redis.ParseURL(o.redisURL)
		if err != nil {
			return fmt.Errorf("--redis-url: %w", err)
		}
		one := *ro
		one.PoolSize, one.MinIdleConns = 1, 1
		b.rc = redis.NewClient(&one)
		defer b.rc.Close()
		many := *ro
		many.PoolSize = o.conns
		b.ceilRC = redis.NewClient(&many)
		defer b.ceilRC.Close()
		redisInfo, err := b.rc.Info(ctx, "server").Result()
		if err != nil {
			return fmt.Errorf("redis INFO: %w", err)
		}
		ri.Server.RedisVersion = infoField(redisInfo, "redis_version")
		if o.countRTT {
			if _, err := readCounters(ctx, b.rc); err != nil {
				return err
			}
		}
	} else if b.store != storeEmbedded && (o.countRTT || o.ceiling) {
		rep.note("no --redis-url: no round-trip count and no Redis ceiling")
	}

	storeName := b.store
	if storeName == "" {
		storeName = "unknown"
	}
	b.logf("%s mode, %s store, %d connections, %v per phase, %d users to import; %d CPUs, load average %s",
		info.Mode, storeName, o.conns, o.duration, o.users, runtime.NumCPU(), loadAvg())

	imp, err := b.importUsers(ctx)
	if imp != nil {
		rep.Phases = append(rep.Phases, imp)
		ri.Import = importMemory(imp.RSS, o.users)
	}
	if err != nil {
		return err
	}
	if len(b.users) < 100 {
		return fmt.Errorf("only %d users were imported; the other phases need 100", len(b.users))
	}
	// The big group runs at the largest size only: it is about the size
	// of a group, not of the tenant.
	bigGroup := o.bigGroup > 0 && o.users == o.sizes[len(o.sizes)-1]
	if bigGroup && o.bigGroup > len(b.users) {
		return fmt.Errorf("only %d users were imported; --big-group %d needs that many", len(b.users), o.bigGroup)
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
			rep.note("the ceiling loops did not find the user records at " + target.keyBase + "user:<id> (a key prefix?): the ceiling reads missing keys")
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
			b.logf("ceiling (%d users, %s) %-9s %9s round trips/s  p50 %-7s p99 %-7s (INFO counted %d round trips for %d made)", o.users, when, c.Shape,
				fmtRate(c.Rate), fmtDur(c.Latency.P50), fmtDur(c.Latency.P99), c.CountedRoundTrips, c.Requests)
			res = append(res, c)
			if ctx.Err() != nil {
				return ctx.Err()
			}
		}
		rep.Ceiling.Runs = append(rep.Ceiling.Runs, ceilingRun{When: when, Store: b.store, Users: o.users, Shapes: res})
		return nil
	}

	specs := map[string]func() phaseSpec{
		"lookup": b.lookup, "get": b.getByID, "put": b.put, "deactivate": b.deactivate,
		"group-create": b.groupCreate, "group-add": b.groupAdd, "group-remove": b.groupRemove, "paging": b.paging,
	}
	// The ceiling (no longer a target, so measured once per run) runs
	// right after the read-only phases, on the data they read (the phases
	// after them add memberships, which change what SMEMBERS returns).
	ceilingDone := false
	lastScalingPhase := ""
	for _, name := range o.phases {
		if slices.Contains(comparedPhases, name) {
			lastScalingPhase = name
		}
	}
	for _, name := range o.phases {
		if !ceilingDone && name != "lookup" && name != "get" {
			ceilingDone = true
			if err := ceilingRun("after lookup/get"); err != nil {
				return err
			}
		}
		res, err := b.measure(ctx, specs[name]())
		if res != nil {
			if name == "deactivate" && res.Requests > len(b.users) {
				res.Notes = append(res.Notes, fmt.Sprintf("%d requests for %d users: %.1f passes, alternately deactivating and reactivating them", res.Requests, len(b.users), float64(res.Requests)/float64(len(b.users))))
			}
			if name == "group-remove" && res.Requests > len(b.adds) {
				res.Notes = append(res.Notes, fmt.Sprintf("%d removals of %d recorded members: the later ones removed nothing", res.Requests, len(b.adds)))
			}
			rep.Phases = append(rep.Phases, res)
		}
		if err != nil {
			return err
		}
		if name == "get" && o.floor && b.spawnDir != "" && b.store == storeRedis && tenant != "" {
			rows, err := b.floorRounds(ctx, b.spawnDir, floorFlags{redisURL: o.redisURL, keyBase: target.keyBase})
			rep.Phases = append(rep.Phases, rows...)
			if err != nil {
				return err
			}
		}
		if name == lastScalingPhase && b.wantsScalingRounds() {
			rows, err := b.scalingRounds(ctx)
			rep.Phases = append(rep.Phases, rows...)
			if err != nil {
				return err
			}
		}
		if name == lastScalingPhase && b.wantsStoreRounds() {
			rows, err := b.storeRounds(ctx)
			rep.Phases = append(rep.Phases, rows...)
			if err != nil {
				return err
			}
		}
		if name == "group-create" && len(b.groups) == 0 {
			return fmt.Errorf("group-create created no group: %s", res.FirstError)
		}
		if name == "group-add" && len(b.adds) == 0 {
			return fmt.Errorf("group-add added no member: %s", res.FirstError)
		}
	}
	if bigGroup {
		rows, err := b.bigGroup(ctx)
		rep.Phases = append(rep.Phases, rows...)
		if err != nil {
			return err
		}
	}
	if !ceilingDone {
		if err := ceilingRun("after lookup/get"); err != nil {
			return err
		}
	}
	return nil
}

// findServerModule returns the first directory from the working directory
// upwards whose go.mod declares the axonflow-sync module (spawn mode builds
// the server there when --server-src is not given).
func findServerModule() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		if modulePath(filepath.Join(dir, "go.mod")) == serverModule {
			return dir, nil
		}
		if filepath.Dir(dir) == dir {
			return "", fmt.Errorf("no go.mod of %s in %s or above it: give --server-src (a directory of the axonflow-sync module) or --server-bin", serverModule, wd)
		}
	}
}

// modulePath is the module path a go.mod file declares ("" when the file
// cannot be read or declares none).
func modulePath(goMod string) string {
	f, err := os.Open(goMod)
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "module"); ok && (rest == "" || rest[0] == ' ' || rest[0] == '\t') {
			return strings.Trim(strings.TrimSpace(rest), `"`)
		}
	}
	return ""
}

// loadAvg is /proc/loadavg's three load averages ("" when unreadable).
func loadAvg() string {
	la, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(la))
	if len(f) > 3 {
		f = f[:3]
	}
	return strings.Join(f, " ")
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
