package main

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// cpuLayout says which CPUs each process of a spawn-mode run may use
// (--pin). Load generator, server and Redis share one machine, and on a
// 2-CPU machine letting the kernel move all three across both CPUs costs
// more than any one of them: every request wakes a process on the other CPU,
// and three busy Go/Redis processes take turns in scheduler time slices of
// milliseconds, which is where a closed-loop benchmark's p99 comes from.
// Measured on the 2-CPU machine this was written on, with a minimal net/http
// handler making the same two Redis round trips as GET /Users/{id} and a
// canned body: unpinned 9,200–10,100 req/s, p99 16–19 ms; this layout
// 14,000 req/s, p99 8.7 ms; the raw go-redis round-trip rate went from
// 36,000–41,000/s unpinned to 53,000/s with the client on the server's CPU
// and Redis on its own, so the ceiling is measured in that layout (see
// ceilingCPUs), the highest of the layouts tried.
type cpuLayout struct {
	Server  []int `json:"server_cpus"`
	Redis   []int `json:"redis_cpus"` // none on the embedded store
	Loadgen []int `json:"loadgen_cpus"`
	// Ceiling is where the ceiling loops run (this process, moved there
	// for the loops and back afterwards): the server's CPUs, idle then.
	Ceiling []int `json:"ceiling_cpus"` // none on the embedded store
}

// planLayout splits cpus (the CPUs this process may use) for a spawn-mode
// run. With 2 CPUs: the server gets the first (its GOMAXPROCS follows its
// affinity: 1), Redis and the load generator share the second. With 3 or
// more: Redis gets the last, the load generator the one before it, the
// server the rest. Without Redis (withRedis false: the embedded store) the
// layout is the same less Redis and the ceiling loops (which need Redis),
// so both stores are measured with the server on the same CPUs. With 1 CPU
// there is nothing to split (ok false).
func planLayout(cpus []int, withRedis bool) (cpuLayout, bool) {
	n := len(cpus)
	var l cpuLayout
	switch {
	case n < 2:
		return cpuLayout{}, false
	case n == 2:
		l = cpuLayout{Server: cpus[:1], Redis: cpus[1:], Loadgen: cpus[1:], Ceiling: cpus[:1]}
	default:
		l = cpuLayout{Server: cpus[:n-2], Redis: cpus[n-1:], Loadgen: cpus[n-2 : n-1], Ceiling: cpus[:n-2]}
	}
	if !withRedis {
		l.Redis, l.Ceiling = nil, nil
	}
	return l, true
}

// String is the layout for the report: "server on CPU 0 (GOMAXPROCS 1),
// redis-server on CPU 1, load generator on CPU 1, ceiling loops on CPU 0"
// (without the Redis parts when there is no Redis).
func (l cpuLayout) String() string {
	if len(l.Server) == 0 {
		return "not pinned"
	}
	s := fmt.Sprintf("server on CPU %s (GOMAXPROCS %d), ", cpuList(l.Server), len(l.Server))
	if len(l.Redis) > 0 {
		s += fmt.Sprintf("redis-server on CPU %s, ", cpuList(l.Redis))
	}
	s += fmt.Sprintf("load generator on CPU %s", cpuList(l.Loadgen))
	if len(l.Ceiling) > 0 {
		s += fmt.Sprintf(", ceiling loops on CPU %s", cpuList(l.Ceiling))
	}
	return s
}

func cpuList(cpus []int) string {
	s := make([]string, len(cpus))
	for i, c := range cpus {
		s[i] = strconv.Itoa(c)
	}
	return strings.Join(s, ",")
}

// allowedCPUs returns the CPUs this process may run on (its affinity mask).
func allowedCPUs() ([]int, error) {
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err != nil {
		return nil, fmt.Errorf("sched_getaffinity: %w", err)
	}
	var cpus []int
	for c := range 1024 {
		if set.IsSet(c) {
			cpus = append(cpus, c)
		}
	}
	return cpus, nil
}

func cpuSet(cpus []int) *unix.CPUSet {
	var set unix.CPUSet
	for _, c := range cpus {
		set.Set(c)
	}
	return &set
}

// startPinned runs start (cmd.Start) so that the child's affinity is cpus
// (unchanged when cpus is empty). A child inherits the mask of the thread
// that forks it, so start runs on a goroutine locked to a thread whose mask
// is narrowed to cpus for the fork and restored afterwards. The thread must
// live on (not exit with a locked goroutine): the children's Pdeathsig
// fires when the thread that forked them ends.
func startPinned(cmd *exec.Cmd, cpus []int, start func() error) error {
	if len(cpus) == 0 {
		return start()
	}
	var old unix.CPUSet
	if err := unix.SchedGetaffinity(0, &old); err != nil {
		return fmt.Errorf("sched_getaffinity: %w", err)
	}
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		if err := unix.SchedSetaffinity(0, cpuSet(cpus)); err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("pin %s to CPU %s: %w", cmd.Path, cpuList(cpus), err)
			return
		}
		err := start()
		if rerr := unix.SchedSetaffinity(0, &old); rerr != nil {
			// Leave the thread locked: the goroutine's exit ends it
			// rather than let a narrowed thread run other goroutines
			// (this child then dies with it, and the run fails).
			errc <- fmt.Errorf("restore the affinity after starting %s: %w", cmd.Path, rerr)
			return
		}
		runtime.UnlockOSThread()
		errc <- err
	}()
	return <-errc
}

// pinSelf moves every thread of this process to cpus and sets GOMAXPROCS
// to their number. Threads the runtime creates later inherit the mask of
// the thread that creates them; the loop repeats until a pass finds no
// thread it has not pinned, so a thread started during a pass is caught.
func pinSelf(cpus []int) error {
	set := cpuSet(cpus)
	done := map[int]bool{}
	for pass := 0; pass < 20; pass++ {
		ents, err := os.ReadDir("/proc/self/task")
		if err != nil {
			return err
		}
		fresh := 0
		for _, e := range ents {
			tid, err := strconv.Atoi(e.Name())
			if err != nil || done[tid] {
				continue
			}
			fresh++
			if err := unix.SchedSetaffinity(tid, set); err != nil && err != unix.ESRCH {
				return fmt.Errorf("pin thread %d to CPU %s: %w", tid, cpuList(cpus), err)
			}
			done[tid] = true
		}
		if fresh == 0 {
			runtime.GOMAXPROCS(len(cpus))
			return nil
		}
	}
	return fmt.Errorf("pin to CPU %s: threads kept appearing", cpuList(cpus))
}
