package main

// Tests of the benchmark's pure parts (percentiles, /proc and INFO parsing,
// round-trip accounting, ceilings, targets, output) and one tiny attach-mode
// run against an in-process SCIM server on the embedded store, which checks
// that every request the benchmark sends is one the server accepts. The
// real benchmark (spawn mode, Redis, minutes) is not run here.

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/axonflow/axonflow-sync/internal/admin"
	"github.com/axonflow/axonflow-sync/scimserver"
	"github.com/axonflow/axonflow-sync/store/sqlitestore"
)

func ms(f float64) time.Duration { return time.Duration(f * float64(time.Millisecond)) }

func TestPercentileNearestRank(t *testing.T) {
	var s []time.Duration
	for i := 1; i <= 100; i++ {
		s = append(s, time.Duration(i)*time.Millisecond)
	}
	for _, c := range []struct {
		p    float64
		want time.Duration
	}{{50, 50 * time.Millisecond}, {99, 99 * time.Millisecond}, {100, 100 * time.Millisecond}, {1, time.Millisecond}, {0.5, time.Millisecond}, {99.9, 100 * time.Millisecond}} {
		if got := percentile(s, c.p); got != c.want {
			t.Errorf("p%v of 1..100 ms = %v, want %v", c.p, got, c.want)
		}
	}
	if got := percentile(nil, 50); got != 0 {
		t.Errorf("empty sample: %v", got)
	}
	if got := percentile([]time.Duration{7}, 99); got != 7 {
		t.Errorf("one sample: %v", got)
	}
	// Ten samples: p99 is the largest (rank ceil(9.9) = 10), p50 the fifth.
	ten := []time.Duration{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	if percentile(ten, 99) != 10 || percentile(ten, 50) != 5 || percentile(ten, 90) != 9 {
		t.Errorf("ten samples: p50 %v p90 %v p99 %v", percentile(ten, 50), percentile(ten, 90), percentile(ten, 99))
	}
}

func TestSummarizeSortsAndAverages(t *testing.T) {
	l := latencies{ms(3), ms(1), ms(2), ms(10)}
	s := l.summarize()
	if s.N != 4 || s.P50 != ms(2) || s.P99 != ms(10) || s.Max != ms(10) || s.Mean != ms(4) {
		t.Fatalf("summary %+v", s)
	}
	if (latencies{}).summarize() != (summary{}) {
		t.Fatal("empty summary not zero")
	}
}

func TestFormatting(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0: "-", 850 * time.Microsecond: "850µs", ms(2.345): "2.3ms", ms(123.4): "123ms", 12 * time.Second: "12.0s",
	} {
		if got := fmtDur(d); got != want {
			t.Errorf("fmtDur(%v) = %q, want %q", d, got, want)
		}
	}
	for r, want := range map[float64]string{0: "-", 999.4: "999", 1000: "1,000", 1234567.8: "1,234,568"} {
		if got := fmtRate(r); got != want {
			t.Errorf("fmtRate(%v) = %q, want %q", r, got, want)
		}
	}
	e := errorCounts{"503": 2, "409": 1, "net": 4}
	if e.String() != "409×1 503×2 net×4" || e.total() != 7 || (errorCounts{}).String() != "-" {
		t.Errorf("errorCounts: %q %d", e.String(), e.total())
	}
	if sanitize("member-add (100000)") != "member-add__100000_" {
		t.Errorf("sanitize: %q", sanitize("member-add (100000)"))
	}
}

func TestProcParsing(t *testing.T) {
	// The command name has spaces and a parenthesis; utime 250, stime 50 ticks.
	stat := []byte("1234 (axon flow) sync) S 1 1234 1234 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 8 0 100 0 0")
	d, err := parseStatCPU(stat)
	if err != nil || d != 3*time.Second {
		t.Fatalf("parseStatCPU = %v, %v; want 3s", d, err)
	}
	if _, err := parseStatCPU([]byte("garbage")); err == nil {
		t.Error("parseStatCPU accepted garbage")
	}
	status := []byte("Name:\taxonflow-sync\nVmPeak:\t  900 kB\nVmHWM:\t   40960 kB\nVmRSS:\t   20480 kB\nThreads:\t8\n")
	rss, hwm, err := parseStatusMem(status)
	if err != nil || rss != 20<<20 || hwm != 40<<20 {
		t.Fatalf("parseStatusMem = %d, %d, %v", rss, hwm, err)
	}
	if _, _, err := parseStatusMem([]byte("Name:\tkthreadd\n")); err == nil {
		t.Error("parseStatusMem without Vm lines: no error")
	}
	ps := []byte("cpu  100 5 50 800 20 3 2 0 7 0\ncpu0 50 2 25 400 10 1 1 0 0 0\ncpu1 50 3 25 400 10 2 1 0 0 0\nintr 1\n")
	busy, total, n, err := parseProcStat(ps)
	// busy = user+nice+system+irq+softirq+steal = 100+5+50+3+2+0; guest is inside user.
	if err != nil || n != 2 || busy != ticks(160) || total != ticks(980) {
		t.Fatalf("parseProcStat = %v %v %d %v", busy, total, n, err)
	}
}

const infoBefore = `# Stats
total_connections_received:3
total_commands_processed:100
total_reads_processed:1000
total_writes_processed:990

# CPU
used_cpu_sys:1.500000
used_cpu_user:2.250000

# Commandstats
cmdstat_hmget:calls=200,usec=900,usec_per_call=4.50,rejected_calls=0,failed_calls=0
cmdstat_info:calls=5,usec=100,usec_per_call=20.00,rejected_calls=0,failed_calls=0
cmdstat_evalsha:calls=10,usec=100,usec_per_call=10.00,rejected_calls=0,failed_calls=0
`

const infoAfter = `# Stats
total_reads_processed:1301
# CPU
used_cpu_sys:2.000000
used_cpu_user:2.750000
# Commandstats
cmdstat_hmget:calls=400,usec=900,usec_per_call=4.50,rejected_calls=0,failed_calls=0
cmdstat_info:calls=6,usec=100,usec_per_call=20.00,rejected_calls=0,failed_calls=0
cmdstat_evalsha:calls=110,usec=100,usec_per_call=10.00,rejected_calls=0,failed_calls=0
cmdstat_hset:calls=100,usec=100,usec_per_call=1.00,rejected_calls=0,failed_calls=0
`

func TestRTTAccounting(t *testing.T) {
	a, err := parseInfo(infoBefore)
	if err != nil {
		t.Fatal(err)
	}
	if a.Reads != 1000 || a.Commands["hmget"] != 200 || a.CPU != 3750*time.Millisecond {
		t.Fatalf("parseInfo: %+v", a)
	}
	b, err := parseInfo(infoAfter)
	if err != nil {
		t.Fatal(err)
	}
	u := usageBetween(a, b)
	// 301 read events, one of them the second INFO; 100 requests made 3
	// round trips each (2 HMGET, 1 EVALSHA that called HSET inside).
	if u.RoundTrips != 300 || u.CPU != time.Second || len(u.Commands) != 3 || u.Commands["info"] != 0 {
		t.Fatalf("usage %+v", u)
	}
	p := u.perOp(100)
	if p.RTT != 3 || p.Commands != 4 || p.ByCmd["hmget"] != 2 || p.ByCmd["evalsha"] != 1 {
		t.Fatalf("per op %+v", p)
	}
	if p.String() != "hmget 2.00, evalsha 1.00, hset 1.00" {
		t.Errorf("per op string %q", p.String())
	}
	if (rttUsage{}).perOp(0).RTT != 0 {
		t.Error("per op of no requests")
	}
	if _, err := parseInfo("# Stats\ntotal_commands_processed:1\n"); err == nil {
		t.Error("INFO without total_reads_processed accepted (Redis < 6)")
	}
}

func TestCeiling(t *testing.T) {
	rates := map[string]float64{shapeHMGET: 30000, shapeHGET: 60000, shapeSMEMBERS: 20000, shapeEVALSHA: 10000}
	// Read-only op: reads at the harmonic mean of the read shapes (30,000/s).
	get := perOp{RTT: 3, ByCmd: map[string]float64{"hmget": 2, "smembers": 1}}
	if c := ceilingFor(get, rates); c < 29999 || c > 30001 {
		t.Errorf("read ceiling %v, want 30000", c)
	}
	// 1 script + 3 reads: 1/10000 + 3/30000 s = 0.2 ms for 4 round trips.
	put := perOp{RTT: 4, ByCmd: map[string]float64{"hmget": 3, "evalsha": 1, "hset": 5, "sadd": 100}}
	if c := ceilingFor(put, rates); c < 19999 || c > 20001 {
		t.Errorf("mixed ceiling %v, want 20000", c)
	}
	if ceilingFor(put, map[string]float64{shapeHMGET: 1}) != 0 || ceilingFor(perOp{}, rates) != 0 {
		t.Error("ceiling without the needed rates")
	}
	r := &report{Config: configInfo{Conns: 64}, Phases: []*phaseResult{{Name: "get", OK: 15000, OKPerSec: 5000, Redis: &get, Latency: summary{P99: ms(8)}, Errors: errorCounts{}}},
		Ceiling: ceilingInfo{Runs: []ceilingRun{
			{Shapes: []ceilingResult{{Shape: shapeHMGET, Rate: 20000}, {Shape: shapeHGET, Rate: 60000}, {Shape: shapeSMEMBERS, Rate: 20000}, {Shape: shapeEVALSHA, Rate: 10000}}},
			{Shapes: []ceilingResult{{Shape: shapeHMGET, Rate: 40000}, {Shape: shapeHGET, Rate: 60000}, {Shape: shapeSMEMBERS, Rate: 20000}, {Shape: shapeEVALSHA, Rate: 10000}}},
		}}}
	r.finish()
	if r.Ceiling.Rates[shapeHMGET] != 30000 {
		t.Fatalf("mean rates %v", r.Ceiling.Rates)
	}
	p := r.Phases[0]
	if p.CeilingOpsPerS < 9999 || p.CeilingOpsPerS > 10001 || p.Ratio < 0.4999 || p.Ratio > 0.5001 {
		t.Fatalf("ceiling %v ops/s, ratio %v; want 10000, 0.5", p.CeilingOpsPerS, p.Ratio)
	}
	if len(r.Targets) != 1 || !r.Targets[0].Met || !r.Targets[0].Comparable {
		t.Fatalf("targets %+v", r.Targets)
	}
	p.Latency.P99 = ms(12)
	if tg := checkTargets(r); tg[0].Met || !strings.Contains(tg[0].Why, "p99") {
		t.Fatalf("p99 of 12 ms met the target: %+v", tg[0])
	}
}

func TestImportMemory(t *testing.T) {
	var s []rssSample
	for i := 0; i <= 20; i++ {
		s = append(s, rssSample{Progress: i * 5000, RSS: 100<<20 + int64(i)*(1<<20)})
	}
	m := importMemory(s, 100000)
	if len(m.Samples) != 10 || m.Samples[0].Progress != 10000 || m.Samples[9].Progress != 100000 {
		t.Fatalf("samples %+v", m.Samples)
	}
	// At 25 %: 105 MB; peak 120 MB: 14 % growth, 15 MB over 75,000 users.
	if m.Growth < 0.142 || m.Growth > 0.144 || m.BytesPerUser < 209 || m.BytesPerUser > 210 {
		t.Fatalf("growth %v, bytes/user %v", m.Growth, m.BytesPerUser)
	}
	if importMemory(nil, 10) != nil {
		t.Error("no samples: a summary")
	}
}

func TestMergePhases(t *testing.T) {
	a := &phaseResult{Conns: 4, Requests: 10, OK: 9, Errors: errorCounts{"503": 1}, Wall: time.Second, lat: latencies{ms(1), ms(2)},
		CPU: cpuUsage{Wall: time.Second, Server: ms(500), Redis: ms(100), Loadgen: ms(200), Machine: ms(900)}, PeakRSS: 10, PeakRSSPerPhase: true,
		RedisUsage: &rttUsage{RoundTrips: 30, Commands: map[string]int64{"hmget": 20}}}
	b := &phaseResult{Conns: 4, Requests: 10, OK: 10, Errors: errorCounts{}, Wall: time.Second, lat: latencies{ms(3)},
		CPU: cpuUsage{Wall: time.Second, Server: ms(500), Redis: -1, Loadgen: ms(200), Machine: ms(900)}, PeakRSS: 20, PeakRSSPerPhase: true,
		RedisUsage: &rttUsage{RoundTrips: 30, Commands: map[string]int64{"hmget": 20, "evalsha": 10}}}
	m := mergePhases("x", "req", []*phaseResult{a, b})
	if m.Requests != 20 || m.OK != 19 || m.OKPerSec != 9.5 || m.Errors["503"] != 1 || m.Latency.N != 3 || m.PeakRSS != 20 {
		t.Fatalf("merged %+v", m)
	}
	if m.CPU.Server != time.Second || m.CPU.Redis != -1 || m.CPU.Wall != 2*time.Second {
		t.Fatalf("merged cpu %+v", m.CPU)
	}
	if m.Redis == nil || m.Redis.RTT != 3 || m.Redis.ByCmd["evalsha"] != 0.5 {
		t.Fatalf("merged redis %+v", m.Redis)
	}
}

func TestParseFlags(t *testing.T) {
	env := func(string) string { return "" }
	o, err := parseFlags([]string{"--spawn", "--phases", "paging,get,lookup", "--conns", "8"}, io.Discard, env)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(o.phases, ",") != "lookup,get,paging" || o.conns != 8 || o.duration != 10*time.Second {
		t.Fatalf("options %+v", o)
	}
	o, err = parseFlags([]string{"--url", "http://127.0.0.1:1/scim/v2"}, io.Discard, func(k string) string {
		if k == "AXONFLOW_BENCH_TOKEN" {
			return "scim_x"
		}
		return ""
	})
	if err != nil || o.token != "scim_x" {
		t.Fatalf("token from the environment: %v %q", err, o.token)
	}
	// Spawn mode makes its own token: one in the environment is ignored.
	if o, err := parseFlags([]string{"--spawn"}, io.Discard, func(string) string { return "scim_x" }); err != nil || o.token != "" {
		t.Fatalf("--spawn with AXONFLOW_BENCH_TOKEN set: %v %q", err, o.token)
	}
	for _, bad := range [][]string{
		{},
		{"--spawn", "--url", "http://x"},
		{"--spawn", "--phases", "nope"},
		{"--spawn", "--phases", "group-add"},
		{"--spawn", "--big-group", "100000", "--users", "1000"},
		{"--spawn", "--conns", "0"},
		{"--spawn", "--output", "xml"},
		{"--url", "http://x", "--token", "t", "--cpuprofile", "d"},
	} {
		if _, err := parseFlags(bad, io.Discard, env); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
}

func sampleReport() *report {
	get := &perOp{RTT: 3, Commands: 3, ByCmd: map[string]float64{"hmget": 2, "smembers": 1}}
	r := &report{
		Machine: machineInfo{NCPU: 2, GoVersion: "go1.26", OSArch: "linux/amd64", LoadAvg: "1.00 1.00 1.00"},
		Config:  configInfo{Conns: 64, Duration: 10 * time.Second, Users: 100000, BigGroup: 100000},
		Server:  serverInfo{Mode: "spawn", Pid: 42, Tenant: "bench", RedisVersion: "7.0.15", LogLevel: "info"},
		Phases: []*phaseResult{
			{Name: "get", Requests: 50000, OK: 50000, OKPerSec: 5000, Errors: errorCounts{}, Latency: summary{P50: ms(2), P99: ms(9), Max: ms(40)},
				CPU: cpuUsage{Wall: 10 * time.Second, Server: 9 * time.Second, Redis: 2 * time.Second, Loadgen: 4 * time.Second, Machine: 19 * time.Second}, PeakRSS: 64 << 20, Redis: get, ServerCPUPerOp: 180 * time.Microsecond,
				RedisUsage: &rttUsage{RoundTrips: 150000, CPU: 2 * time.Second}},
			{Name: "member-add (100000)", Requests: 100, OK: 99, OKPerSec: 900, Errors: errorCounts{"503": 1}, FirstError: "status 503", Latency: summary{P50: ms(3)}},
			{Name: "member-add (10)", Requests: 100, OK: 100, OKPerSec: 1000, Errors: errorCounts{}, Latency: summary{P50: ms(3)}},
		},
		Ceiling: ceilingInfo{Runs: []ceilingRun{{When: "after import", Shapes: []ceilingResult{{Shape: shapeHMGET, Rate: 30000}, {Shape: shapeHGET, Rate: 30000}, {Shape: shapeSMEMBERS, Rate: 30000}, {Shape: shapeEVALSHA, Rate: 20000}}}}},
		Import:  &importMem{Users: 100000, Samples: []rssSample{{Progress: 10000, RSS: 30 << 20}}, Growth: 0.05},
	}
	r.finish()
	return r
}

func TestTableOutput(t *testing.T) {
	var buf bytes.Buffer
	sampleReport().writeTable(&buf)
	out := buf.String()
	for _, want := range []string{
		"spawn mode: 64 connections, 10s per phase, 100000 users",
		"Redis 7.0.15",
		"get     50000  5,000  2.0ms  9.0ms  40.0ms       -        0.90          180µs       0.20         0.40       0.40           64",
		"503×1",
		"member-add (100000): first error: status 503",
		"get    3.00     3.00          40µs        30,000         10,000  5,000   0.50  hmget 2.00, smembers 1.00",
		"MET     GET /Users/{id}",
		"MISSED  adding a member to a 100,000-member group",
		"(throughput ×0.90, p50 ×1.00)",
		"Server RSS over the import of 100000 users (MB at 10 %, 20 %, ... 100 %): 30",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
}

func TestJSONOutput(t *testing.T) {
	var buf bytes.Buffer
	if err := sampleReport().writeJSON(&buf); err != nil {
		t.Fatal(err)
	}
	var v struct {
		Phases []struct {
			Name    string  `json:"name"`
			OKPerS  float64 `json:"ok_per_s"`
			Ratio   float64 `json:"ratio"`
			Latency struct {
				P99 int64 `json:"p99_ns"`
			} `json:"latency"`
			Redis struct {
				RTT float64 `json:"rtt_per_op"`
			} `json:"redis"`
		} `json:"phases"`
		Targets []targetCheck `json:"targets"`
	}
	if err := json.Unmarshal(buf.Bytes(), &v); err != nil {
		t.Fatalf("%v\n%s", err, buf.String())
	}
	if len(v.Phases) != 3 || v.Phases[0].Name != "get" || v.Phases[0].Ratio != 0.5 || v.Phases[0].Redis.RTT != 3 || v.Phases[0].Latency.P99 != int64(ms(9)) {
		t.Fatalf("decoded %+v", v)
	}
	if len(v.Targets) != 3 {
		t.Fatalf("targets %+v", v.Targets)
	}
}

// TestAttachRunOnEmbeddedStore runs every phase for a moment against an
// in-process server on the embedded store (no Redis: no ceiling), so the
// Okta-shaped requests are checked against the real handlers.
func TestAttachRunOnEmbeddedStore(t *testing.T) {
	ctx := context.Background()
	st, err := sqlitestore.Open(ctx, filepath.Join(t.TempDir(), "db"), zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	tok, err := admin.CreateToken(ctx, st, "acme", "bench", 0, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(scimserver.New(scimserver.Options{Store: st, Logger: zerolog.Nop()}))
	defer srv.Close()
	o, err := parseFlags([]string{"--url", srv.URL + "/scim/v2", "--token", tok.Secret, "--users", "120", "--conns", "2",
		"--duration", "150ms", "--batch", "10"}, io.Discard, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	rep, err := execute(ctx, o, &log)
	if err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	if len(rep.Phases) != 1+len(allPhases) {
		t.Fatalf("%d phases", len(rep.Phases))
	}
	for _, p := range rep.Phases {
		if p.OK == 0 || p.Errors.total() != 0 {
			t.Errorf("%s: %d ok, errors %s: %s", p.Name, p.OK, p.Errors, p.FirstError)
		}
	}
	if rep.Server.Tenant != "acme" || rep.Phases[0].Requests != 120 {
		t.Errorf("tenant %q, import %d", rep.Server.Tenant, rep.Phases[0].Requests)
	}
}
