package mapping_test

import (
	"runtime"
	"runtime/debug"
	"syscall"
	"time"
	"unsafe"
)

// threadCPU runs f on a locked OS thread and returns the CPU time that
// thread spent in it (clock_gettime CLOCK_THREAD_CPUTIME_ID, nanoseconds):
// time the thread was not running, because the machine was busy with
// other work, does not count. ok is false if the clock cannot be read.
func threadCPU(f func()) (cpu time.Duration, ok bool) {
	// No collection during f: its cost depends on the whole heap, not on f.
	runtime.GC()
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	const clockThreadCPUTime = 3 // CLOCK_THREAD_CPUTIME_ID
	now := func() (time.Duration, bool) {
		var ts syscall.Timespec
		_, _, errno := syscall.Syscall(syscall.SYS_CLOCK_GETTIME, clockThreadCPUTime, uintptr(unsafe.Pointer(&ts)), 0)
		return time.Duration(ts.Nano()), errno == 0
	}
	a, ok1 := now()
	f()
	b, ok2 := now()
	return b - a, ok1 && ok2
}
