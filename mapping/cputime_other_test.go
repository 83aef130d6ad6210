//go:build !linux

package mapping_test

import "time"

// threadCPU is Linux-only (clock_gettime CLOCK_THREAD_CPUTIME_ID): ok is always false.
func threadCPU(f func()) (cpu time.Duration, ok bool) { return 0, false }
