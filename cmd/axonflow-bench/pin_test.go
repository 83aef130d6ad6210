package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestPlanLayout(t *testing.T) {
	if _, ok := planLayout([]int{3}, true); ok {
		t.Error("one CPU: nothing to pin")
	}
	l, ok := planLayout([]int{0, 1}, true)
	want := cpuLayout{Server: []int{0}, Redis: []int{1}, Loadgen: []int{1}, Ceiling: []int{0}}
	if !ok || !reflect.DeepEqual(l, want) {
		t.Errorf("2 CPUs: %+v", l)
	}
	// The embedded store: the same, less Redis and the ceiling loops.
	l, ok = planLayout([]int{0, 1}, false)
	want = cpuLayout{Server: []int{0}, Loadgen: []int{1}}
	if !ok || !reflect.DeepEqual(l, want) {
		t.Errorf("2 CPUs, no Redis: %+v", l)
	}
	if s := l.String(); s != "server on CPU 0 (GOMAXPROCS 1), load generator on CPU 1" {
		t.Errorf("String without Redis: %s", s)
	}
	l, _ = planLayout([]int{2, 4, 6, 8}, true)
	want = cpuLayout{Server: []int{2, 4}, Redis: []int{8}, Loadgen: []int{6}, Ceiling: []int{2, 4}}
	if !reflect.DeepEqual(l, want) {
		t.Errorf("4 CPUs: %+v", l)
	}
	if s := want.String(); s != "server on CPU 2,4 (GOMAXPROCS 2), redis-server on CPU 8, load generator on CPU 6, ceiling loops on CPU 2,4" {
		t.Errorf("String: %s", s)
	}
}

// allowedList is a process's or thread's Cpus_allowed_list.
func allowedList(t *testing.T, statusFile string) string {
	t.Helper()
	b, err := os.ReadFile(statusFile)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "Cpus_allowed_list:"); ok {
			return strings.TrimSpace(v)
		}
	}
	t.Fatalf("no Cpus_allowed_list in %s", statusFile)
	return ""
}

// TestStartPinned starts a child on one CPU and checks its mask, that this
// process's threads keep theirs, and that the child outlives the start
// (its Pdeathsig is tied to the forking thread, which must not exit).
func TestStartPinned(t *testing.T) {
	cpus, err := allowedCPUs()
	if err != nil {
		t.Fatal(err)
	}
	if len(cpus) < 2 {
		t.Skip("needs 2 CPUs")
	}
	before := allowedList(t, "/proc/self/status")
	cmd := exec.Command("sleep", "30")
	c, err := startChild("sleep", cmd, "", cpus[len(cpus)-1:])
	if err != nil {
		t.Fatal(err)
	}
	defer c.stop(time.Second)
	if got, want := allowedList(t, "/proc/"+itoa(c.pid())+"/status"), itoa(cpus[len(cpus)-1]); got != want {
		t.Errorf("child allowed %q, want %q", got, want)
	}
	ents, _ := os.ReadDir("/proc/self/task")
	for _, e := range ents {
		if got := allowedList(t, "/proc/self/task/"+e.Name()+"/status"); got != before {
			t.Errorf("thread %s allowed %q after the start, want %q", e.Name(), got, before)
		}
	}
	time.Sleep(200 * time.Millisecond)
	if c.exited() {
		t.Fatal("the pinned child died after its start")
	}
}

func itoa(i int) string { return cpuList([]int{i}) }

// TestPinSelf moves this test binary to one CPU and back; it runs in a
// child process (the test binary re-run) so the test process keeps its mask.
func TestPinSelf(t *testing.T) {
	if os.Getenv("AXBENCH_PIN_CHILD") == "1" {
		cpus, _ := allowedCPUs()
		if err := pinSelf(cpus[:1]); err != nil {
			t.Fatal(err)
		}
		ents, _ := os.ReadDir("/proc/self/task")
		for _, e := range ents {
			if got := allowedList(t, "/proc/self/task/"+e.Name()+"/status"); got != itoa(cpus[0]) {
				t.Fatalf("thread %s allowed %q", e.Name(), got)
			}
		}
		if err := pinSelf(cpus); err != nil {
			t.Fatal(err)
		}
		return
	}
	cpus, err := allowedCPUs()
	if err != nil || len(cpus) < 2 {
		t.Skip("needs 2 CPUs")
	}
	cmd := exec.Command(os.Args[0], "-test.run", "^TestPinSelf$", "-test.count=1")
	cmd.Env = append(os.Environ(), "AXBENCH_PIN_CHILD=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
}

// TestSpawnRun runs spawn mode for a moment on both stores at two tenant
// sizes: redis-server from PATH and the embedded store, the server built
// from the axonflow-sync module (found from this directory), every timed
// phase, the stack floor, the ceiling loops, the big group at the larger
// size, the CPU layouts, the scaling rows and the targets. Skipped without
// redis-server or in -short.
func TestSpawnRun(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Skip("no redis-server on PATH")
	}
	o, err := parseFlags([]string{"--spawn", "--store", "both", "--sizes", "100,200", "--conns", "4", "--duration", "300ms",
		"--ceiling-duration", "200ms", "--batch", "10", "--big-group", "100", "--rounds", "2", "--member-pool", "5"},
		io.Discard, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	before := allowedList(t, "/proc/self/status")
	rep, err := execute(ctx, o, &log)
	if err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	if got := allowedList(t, "/proc/self/status"); got != before {
		t.Errorf("after the spawn run this process may run on CPU %q, before on %q", got, before)
	}
	if len(rep.Runs) != 4 {
		t.Fatalf("%d runs, want 4 (2 stores × 2 sizes)", len(rep.Runs))
	}
	// Sizes ascending, at each size Redis then the embedded store.
	for i, want := range []runKey{{storeRedis, 100}, {storeEmbedded, 100}, {storeRedis, 200}, {storeEmbedded, 200}} {
		if got := (runKey{rep.Runs[i].Store, rep.Runs[i].Users}); got != want {
			t.Errorf("run %d: %+v, want %+v", i, got, want)
		}
	}
	for _, p := range rep.Phases {
		if p.OK == 0 || p.Errors.total() != 0 {
			t.Errorf("%s %d %s: %d ok, errors %s: %s", p.Store, p.Users, p.Name, p.OK, p.Errors, p.FirstError)
		}
		if p.ServerCPUPerOp <= 0 && p.Requests > 50 {
			t.Errorf("%s %d %s: no server CPU per request", p.Store, p.Users, p.Name)
		}
		if (p.Store == storeRedis) != (p.Redis != nil) {
			t.Errorf("%s %d %s: round trips %+v", p.Store, p.Users, p.Name, p.Redis)
		}
	}
	for _, k := range []runKey{{storeRedis, 100}, {storeRedis, 200}} {
		if rep.phaseOf(k.store, k.users, floorPhaseName) == nil || rep.phaseOf(k.store, k.users, floorServerPhaseName) == nil {
			t.Errorf("%+v: no stack floor rows", k)
		}
	}
	// One round trip per GET, plus the floor's connection set-ups (a
	// HELLO per go-redis connection) spread over a short phase.
	if f := rep.phaseOf(storeRedis, 200, floorPhaseName); f != nil && (f.Redis.RTT < 1 || f.Redis.RTT > 1+rttSlack) {
		t.Errorf("the stack floor makes %.2f round trips per GET, want 1 (%s)", f.Redis.RTT, f.Redis)
	}
	for _, k := range []runKey{{storeEmbedded, 100}, {storeEmbedded, 200}} {
		if rep.phaseOf(k.store, k.users, floorPhaseName) != nil || rep.phaseOf(k.store, k.users, floorServerPhaseName) != nil {
			t.Errorf("%+v: a stack floor on the embedded store", k)
		}
	}
	// The big group at the larger size only, on both stores.
	for _, k := range []runKey{{storeRedis, 200}, {storeEmbedded, 200}} {
		if rep.phaseOf(k.store, k.users, "member-add (100)") == nil {
			t.Errorf("%+v: no big-group rows", k)
		}
	}
	if rep.phaseOf(storeRedis, 100, "member-add (100)") != nil {
		t.Error("the big group ran at the smaller size")
	}
	if len(rep.Ceiling.Runs) != 2 {
		t.Errorf("%d ceiling runs, want one per Redis run", len(rep.Ceiling.Runs))
	}
	for _, r := range rep.Ceiling.Runs {
		for _, s := range r.Shapes {
			if s.Rate <= 0 || s.Errors != 0 {
				t.Errorf("ceiling %s %s: %.0f/s, %d errors", r.When, s.Shape, s.Rate, s.Errors)
			}
		}
	}
	if cpus, _ := allowedCPUs(); len(cpus) >= 2 {
		for _, ri := range rep.Runs {
			if l := ri.Server.Layout; l == nil || (ri.Store == storeEmbedded) != (len(l.Redis) == 0) {
				t.Errorf("%s run: CPU layout %+v", ri.Store, l)
			}
		}
	}
	if len(rep.Scaling) == 0 {
		t.Error("no scaling rows with two sizes")
	}
	// The scaling rounds: at the larger size, a fresh 100-user server
	// beside the 200-user one, both sizes' lookup and get interleaved;
	// the targets judge the ratio on them.
	for _, k := range []runKey{{storeRedis, 100}, {storeRedis, 200}, {storeEmbedded, 100}, {storeEmbedded, 200}} {
		for _, ph := range comparedPhases {
			p := rep.phaseOf(k.store, k.users, scalingRoundsName(ph))
			if p == nil || p.OK == 0 || p.Errors.total() != 0 || p.ServerCPUPerOp <= 0 {
				t.Errorf("%+v: scaling rounds of %s: %+v", k, ph, p)
			}
		}
	}
	scaled := false
	for _, tg := range rep.Targets {
		if strings.HasPrefix(tg.Target, "embedded store, GET /Users/{id}: server CPU per request at the big") {
			scaled = strings.Contains(tg.Measured, "interleaved scaling rounds")
		}
	}
	if !scaled {
		t.Error("the embedded scaling target was not judged on the interleaved rounds")
	}
	// The store rounds: after each embedded run's reads, a fresh Redis
	// deployment of the same size beside it; the embedded-against-Redis
	// targets are judged on them.
	for _, k := range []runKey{{storeRedis, 100}, {storeRedis, 200}, {storeEmbedded, 100}, {storeEmbedded, 200}} {
		for _, ph := range comparedPhases {
			p := rep.phaseOf(k.store, k.users, storeRoundsName(ph))
			if p == nil || p.OK == 0 || p.Errors.total() != 0 || p.ServerCPUPerOp <= 0 || (k.store == storeRedis) != (p.StackCPUPerOp > 0) {
				t.Errorf("%+v: store rounds of %s: %+v", k, ph, p)
			}
		}
	}
	for _, tg := range rep.Targets {
		if strings.HasPrefix(tg.Target, "embedded store, GET /Users/{id}: ok/s ≥ the Redis") && strings.Count(tg.Measured, "(store rounds)") != 2 {
			t.Errorf("the ok/s target was not judged on the store rounds at both sizes: %s", tg.Measured)
		}
	}
	for _, prefix := range []string{
		"embedded store, GET /Users/{id}: server CPU per request at the big",
		"embedded store, GET /Users/{id}: server CPU per request ≤ the Redis",
		"embedded store, GET /Users/{id}: ok/s ≥ the Redis store's",
		"Redis store, GET /Users/{id}: 1 round trip",
		"Redis store, writes",
		"Redis store, GET /Users/{id} at ≥ 0.9 of the stack floor",
	} {
		found := false
		for _, tg := range rep.Targets {
			found = found || strings.HasPrefix(tg.Target, prefix)
		}
		if !found {
			t.Errorf("no target %q", prefix)
		}
	}
	var table bytes.Buffer
	rep.writeTable(&table)
	for _, want := range []string{"CPU layout", "== embedded store, 200 users", "== redis store, 100 users", "get (stack floor)", "get (floor rounds)",
		"member-add", "Redis ceiling", "CPU per request by tenant size", "Targets"} {
		if !strings.Contains(table.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, table.String())
		}
	}
}

// TestMain lets the test binary serve as the floor server too: spawn mode
// starts os.Executable() with floorCommand, which in a test run is this
// binary.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == floorCommand {
		os.Exit(floorMain(os.Args[2:], os.Stderr))
	}
	os.Exit(m.Run())
}
