package scimserver_test

import (
	"fmt"
	"runtime"
	"runtime/metrics"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkFilterScanPeakHeap measures the peak live heap of one
// non-indexed filtered list (`userName pr`, a page of 100) on tenants of
// two sizes (embedded store). A scan that streams holds one store page and
// the response page, so peak-heap-B stays flat as the tenant grows; one
// that rendered the tenant grew with it. Run:
//
//	go test -run NONE -bench FilterScanPeakHeap -benchtime 5x ./scimserver
func BenchmarkFilterScanPeakHeap(b *testing.B) {
	for _, n := range []int{2_000, 20_000} {
		b.Run(fmt.Sprintf("users=%d", n), func(b *testing.B) {
			e := newBenchEnv(b, openSQLite)
			seedUsers(b, e.st, e.tenant, "heap", n)
			target := "/Users" + filterQS(`userName pr`) + "&count=100"
			var peak uint64
			b.ResetTimer()
			for b.Loop() {
				b.StopTimer()
				runtime.GC()
				base := heapObjects()
				var max atomic.Uint64
				stop := make(chan struct{})
				done := make(chan struct{})
				go func() {
					defer close(done)
					for {
						if h := heapObjects(); h > max.Load() {
							max.Store(h)
						}
						select {
						case <-stop:
							return
						case <-time.After(50 * time.Microsecond):
						}
					}
				}()
				b.StartTimer()
				e.serve(b, "GET", target, nil, 200)
				b.StopTimer()
				close(stop)
				<-done
				if m := max.Load(); m > base && m-base > peak {
					peak = m - base
				}
				b.StartTimer()
			}
			b.ReportMetric(float64(peak), "peak-heap-B")
		})
	}
}

var heapSample = []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}

// heapObjects is the bytes of heap objects, live or not yet swept.
func heapObjects() uint64 {
	metrics.Read(heapSample)
	return heapSample[0].Value.Uint64()
}
