package scimserver_test

// Benchmarks of GET /Users/{id} and the userName eq lookup on Redis with
// the handler wired as serve wires it (request log, metrics, provisioning
// log), reporting allocations and the process's CPU per request (user +
// system, which includes the Redis client's round trip but not
// redis-server's): go test -run NONE -bench Serve -benchmem ./scimserver

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/axonflow/axonflow-sync/internal/logbuf"
	"github.com/axonflow/axonflow-sync/internal/provlog"
	"github.com/axonflow/axonflow-sync/internal/telemetry"
	"github.com/axonflow/axonflow-sync/scimserver"
	"github.com/axonflow/axonflow-sync/store"
)

// newServeEnv is newBenchEnv wired as serve wires the handler: a JSON
// request log at info level with timestamps (through logbuf), the
// metrics observer chained to the provisioning log, the store wrapped by
// it.
func newServeEnv(b *testing.B, open func(testing.TB) store.State) *benchEnv {
	b.Helper()
	st := open(b)
	tenant := uniqueID("bench-")
	secret, _, err := store.IssueToken(context.Background(), st, tenant, "bench", 0, time.Now())
	if err != nil {
		b.Fatal(err)
	}
	lw := logbuf.New(io.Discard, 0)
	b.Cleanup(func() { lw.Close() })
	log := zerolog.New(lw).Level(zerolog.InfoLevel).With().Timestamp().Logger()
	reg := prometheus.NewRegistry()
	rec := provlog.New(st, provlog.Options{Logger: log, Registerer: reg})
	h := scimserver.New(scimserver.Options{Store: rec.Wrap(st), Logger: log, Observer: telemetry.NewSCIM(reg, rec)})
	return &benchEnv{st: st, tenant: tenant, auth: "Bearer " + secret, h: h}
}

// BenchmarkServeGetUser: Okta's GET /Users/{id} of a full Okta-shaped
// user among 100, as serve runs it (newServeEnv).
func BenchmarkServeGetUser(b *testing.B) {
	e := newServeEnv(b, openRedis)
	const n = 100
	ids := make([]string, n)
	for i := range ids {
		rec := e.serve(b, http.MethodPost, "/Users", mustJSON(b, oktaUser(fmt.Sprintf("get-%d@example.com", i), fmt.Sprintf("00u%017d", i))), http.StatusCreated)
		var v struct{ ID string }
		if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil || v.ID == "" {
			b.Fatalf("create: %v %s", err, rec.Body)
		}
		ids[i] = "/Users/" + v.ID
	}
	loopCPU(b, func(i int) { e.serve(b, http.MethodGet, ids[i%n], nil, http.StatusOK) })
}

// BenchmarkServeLookup: Okta's GET /Users?filter=userName eq "..."
// among 100 users, as serve runs it (newServeEnv).
func BenchmarkServeLookup(b *testing.B) {
	e := newServeEnv(b, openRedis)
	const n = 100
	for i := range n {
		e.serve(b, http.MethodPost, "/Users", mustJSON(b, oktaUser(fmt.Sprintf("get-%d@example.com", i), fmt.Sprintf("00u%017d", i))), http.StatusCreated)
	}
	q := make([]string, n)
	for i := range q {
		q[i] = fmt.Sprintf("/Users?filter=userName+eq+%%22get-%d@example.com%%22&startIndex=1&count=100", i)
	}
	loopCPU(b, func(i int) { e.serve(b, http.MethodGet, q[i%n], nil, http.StatusOK) })
}

// cpuNow is the process's CPU time so far (user + system).
func cpuNow() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// loopCPU runs f(0), f(1), ... as the benchmark loop and reports
// allocations and the process's CPU per call (cpu-ns/op).
func loopCPU(b *testing.B, f func(i int)) {
	b.ReportAllocs()
	i := 0
	c0 := cpuNow()
	for b.Loop() {
		f(i)
		i++
	}
	b.ReportMetric(float64((cpuNow()-c0).Nanoseconds())/float64(i), "cpu-ns/op")
}
