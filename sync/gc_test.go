package sync

import (
	"runtime/debug"
	"testing"
)

// gcPercent returns the GC target without changing it.
func gcPercent() int {
	p := debug.SetGCPercent(100)
	debug.SetGCPercent(p)
	return p
}

// TestRunLowersGCTarget: a Runner with RunGCPercent runs at that GC target
// while it holds the lease (here: when it is about to apply) and restores
// the process's target after the run.
func TestRunLowersGCTarget(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(200))
	t.Setenv("GOGC", "") // as unset
	e := newEnv(t, backends[0])
	e.oktaUser("gc@example.com", "G", "C", "")
	e.runner.o.RunGCPercent = RunGCPercent
	during := -1
	e.runner.o.beforeApply = func(string) { during = gcPercent() }
	rep := e.run(ModeCorrect)
	if len(rep.Applied) != 1 {
		t.Fatalf("applied %+v; want the one user created", rep.Applied)
	}
	if during != RunGCPercent {
		t.Errorf("GC target during the run %d; want %d", during, RunGCPercent)
	}
	if got := gcPercent(); got != 200 {
		t.Errorf("GC target after the run %d; want 200 restored", got)
	}
}

// TestLowerGCOverlapping: two runs at once (two tenants) lower the target
// once and restore it when the last one ends; ending one twice changes
// nothing; GOGC in the environment wins.
func TestLowerGCOverlapping(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(200))
	t.Setenv("GOGC", "")
	end1 := lowerGC(RunGCPercent)
	end2 := lowerGC(RunGCPercent)
	end1()
	end1()
	if got := gcPercent(); got != RunGCPercent {
		t.Errorf("GC target with one run still in progress %d; want %d", got, RunGCPercent)
	}
	end2()
	if got := gcPercent(); got != 200 {
		t.Errorf("GC target after both runs %d; want 200", got)
	}
	t.Setenv("GOGC", "300")
	end := lowerGC(RunGCPercent)
	if got := gcPercent(); got != 200 {
		t.Errorf("GC target with GOGC set %d; want it left alone (200)", got)
	}
	end()
}
