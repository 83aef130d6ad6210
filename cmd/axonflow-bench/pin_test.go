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
	if _, ok := planLayout([]int{3}); ok {
		t.Error("one CPU: nothing to pin")
	}
	l, ok := planLayout([]int{0, 1})
	want := cpuLayout{Server: []int{0}, Redis: []int{1}, Loadgen: []int{1}, Ceiling: []int{0}}
	if !ok || !reflect.DeepEqual(l, want) {
		t.Errorf("2 CPUs: %+v", l)
	}
	l, _ = planLayout([]int{2, 4, 6, 8})
	want = cpuLayout{Server: []int{2, 4}, Redis: []int{8}, Loadgen: []int{6}, Ceiling: []int{2, 4}}
	if !reflect.DeepEqual(l, want) {
		t.Errorf("4 CPUs: %+v", l)
	}
	if s := want.String(); !strings.Contains(s, "server on CPU 2,4 (GOMAXPROCS 2)") {
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

// TestSpawnRun runs spawn mode for a moment: redis-server from PATH, the
// server built from this module, every timed phase, the ceiling loops, the
// CPU layout. Skipped without redis-server or in -short.
func TestSpawnRun(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Skip("no redis-server on PATH")
	}
	o, err := parseFlags([]string{"--spawn", "--server-src", "../..", "--users", "150", "--conns", "4", "--duration", "300ms",
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
	for _, p := range rep.Phases {
		if p.OK == 0 || p.Errors.total() != 0 {
			t.Errorf("%s: %d ok, errors %s: %s", p.Name, p.OK, p.Errors, p.FirstError)
		}
	}
	if len(rep.Ceiling.Runs) != 2 {
		t.Errorf("%d ceiling runs", len(rep.Ceiling.Runs))
	}
	for _, r := range rep.Ceiling.Runs {
		for _, s := range r.Shapes {
			if s.Rate <= 0 || s.Errors != 0 {
				t.Errorf("ceiling %s %s: %.0f/s, %d errors", r.When, s.Shape, s.Rate, s.Errors)
			}
		}
	}
	if cpus, _ := allowedCPUs(); len(cpus) >= 2 && rep.Server.Layout == nil {
		t.Error("no CPU layout with 2 CPUs")
	}
	var table bytes.Buffer
	rep.writeTable(&table)
	for _, want := range []string{"CPU layout", "get", "member-add", "Redis ceiling"} {
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
