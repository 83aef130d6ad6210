package sync

import (
	"os"
	"runtime/debug"
	gosync "sync"
)

// RunGCPercent is the GC target (debug.SetGCPercent) the reconcile runs of
// a long-lived process use (RunnerOptions.RunGCPercent, set by serve's
// reconciler): a run holds Okta's and the store's view of a tenant at
// once, read in a burst, and a lower target than Go's default 100 % keeps
// its peak memory nearer what it holds (the one-shot reconcile command
// runs at the same 50 %; README: reconcile benchmark).
const RunGCPercent = 50

// runGC counts the runs in progress that lowered the GC target, process-wide
// (the target is the process's): the first sets it, the last restores the
// target it found.
var runGC struct {
	mu   gosync.Mutex
	n    int
	prev int
}

// lowerGC sets the GC target to percent for the duration of a run and
// returns the function that ends it (once; later calls do nothing); with
// percent <= 0, or GOGC set in the environment (the operator's choice
// wins), it changes nothing. Runs that overlap share the first one's
// target, and the target found before the first is put back when the last
// ends, whatever was set in between.
func lowerGC(percent int) (done func()) {
	if percent <= 0 || os.Getenv("GOGC") != "" {
		return func() {}
	}
	runGC.mu.Lock()
	if runGC.n == 0 {
		runGC.prev = debug.SetGCPercent(percent)
	}
	runGC.n++
	runGC.mu.Unlock()
	var once gosync.Once
	return func() {
		once.Do(func() {
			runGC.mu.Lock()
			defer runGC.mu.Unlock()
			if runGC.n--; runGC.n == 0 {
				debug.SetGCPercent(runGC.prev)
			}
		})
	}
}
