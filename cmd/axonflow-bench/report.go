package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"text/tabwriter"
	"time"
)

// report is everything one run measured; --output json prints it as is.
type report struct {
	Started time.Time      `json:"started"`
	Machine machineInfo    `json:"machine"`
	Config  configInfo     `json:"config"`
	Server  serverInfo     `json:"server"`
	Phases  []*phaseResult `json:"phases"`
	Ceiling ceilingInfo    `json:"ceiling"`
	Import  *importMem     `json:"import_memory,omitempty"`
	Targets []targetCheck  `json:"targets"`
	Notes   []string       `json:"notes,omitempty"`
}

type machineInfo struct {
	NCPU      int    `json:"ncpu"`
	GoVersion string `json:"go"`
	OSArch    string `json:"os_arch"`
	LoadAvg   string `json:"loadavg_at_start"`
	Hostname  string `json:"hostname"`
}

type configInfo struct {
	Conns           int           `json:"conns"`
	Duration        time.Duration `json:"duration_ns"`
	Users           int           `json:"users"`
	Phases          []string      `json:"phases"`
	BigGroup        int           `json:"big_group"`
	Batch           int           `json:"batch"`
	CeilingDuration time.Duration `json:"ceiling_duration_ns"`
}

type serverInfo struct {
	Mode         string `json:"mode"`
	Binary       string `json:"binary,omitempty"`
	Pid          int    `json:"pid,omitempty"`
	RedisPid     int    `json:"redis_pid,omitempty"`
	URL          string `json:"url"`
	Tenant       string `json:"tenant"`
	RedisVersion string `json:"redis_version,omitempty"`
	LogLevel     string `json:"log_level,omitempty"`
	RedisOptions string `json:"redis_options,omitempty"`
	ProfileDir   string `json:"cpu_profile_dir,omitempty"`
	// Layout is where --pin put the processes (spawn mode), nil when not pinned.
	Layout *cpuLayout `json:"cpu_layout,omitempty"`
}

type ceilingRun struct {
	When   string          `json:"when"`
	Shapes []ceilingResult `json:"shapes"`
}

type ceilingInfo struct {
	Runs []ceilingRun `json:"runs"`
	// Rates is the mean round trips/s of each shape over the runs.
	Rates map[string]float64 `json:"round_trips_per_s"`
}

// importMem is the server's RSS over the import.
type importMem struct {
	Users int `json:"users"`
	// Samples are the RSS when 10 %, 20 %, ... 100 % of the users were in.
	Samples []rssSample `json:"samples"`
	// Growth is (peak RSS after 25 % of the import − RSS at 25 %) / RSS at 25 %.
	Growth float64 `json:"growth_after_25pct"`
	// BytesPerUser is the RSS change from 25 % to the end per user imported
	// in between (what a leak per user would show as).
	BytesPerUser float64 `json:"bytes_per_user_after_25pct"`
}

// targetCheck is one target from the issue and whether the run met it.
type targetCheck struct {
	Target   string `json:"target"`
	Measured string `json:"measured"`
	Met      bool   `json:"met"`
	// Comparable is false when the run's settings differ from the target's
	// (e.g. not 64 connections, fewer than 100,000 users).
	Comparable bool   `json:"comparable"`
	Why        string `json:"why,omitempty"`
	// Floor is the same target measured on the stack floor (--floor), for
	// the get target: what net/http + go-redis reach with get's round trips
	// and no work of the server's own.
	Floor string `json:"floor,omitempty"`
}

func newReport(o options) *report {
	host, _ := os.Hostname()
	la, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(la))
	if len(f) > 3 {
		f = f[:3]
	}
	return &report{
		Started: time.Now().UTC(),
		Machine: machineInfo{NCPU: runtime.NumCPU(), GoVersion: runtime.Version(), OSArch: runtime.GOOS + "/" + runtime.GOARCH,
			LoadAvg: strings.Join(f, " "), Hostname: host},
		Config: configInfo{Conns: o.conns, Duration: o.duration, Users: o.users, Phases: o.phases, BigGroup: o.bigGroup,
			Batch: o.batch, CeilingDuration: o.ceilingDuration},
	}
}

// importMemory summarises the RSS samples of an import of n users.
func importMemory(samples []rssSample, n int) *importMem {
	if len(samples) == 0 || n <= 0 {
		return nil
	}
	m := &importMem{Users: n}
	next := 1
	for _, s := range samples {
		for next <= 10 && s.Progress >= n*next/10 {
			m.Samples = append(m.Samples, s)
			next++
		}
	}
	var at25 *rssSample
	var peak int64
	for i := range samples {
		s := &samples[i]
		if s.Progress*4 >= n {
			if at25 == nil {
				at25 = s
			}
			peak = max(peak, s.RSS)
		}
	}
	if at25 != nil && at25.RSS > 0 {
		m.Growth = float64(peak-at25.RSS) / float64(at25.RSS)
		last := samples[len(samples)-1]
		if d := last.Progress - at25.Progress; d > 0 {
			m.BytesPerUser = float64(last.RSS-at25.RSS) / float64(d)
		}
	}
	return m
}

// finish computes ceilings, ratios and target checks.
func (r *report) finish() {
	if len(r.Ceiling.Runs) > 0 {
		r.Ceiling.Rates = map[string]float64{}
		n := map[string]int{}
		for _, run := range r.Ceiling.Runs {
			for _, c := range run.Shapes {
				r.Ceiling.Rates[c.Shape] += c.Rate
				n[c.Shape]++
			}
		}
		for k := range r.Ceiling.Rates {
			r.Ceiling.Rates[k] /= float64(n[k])
		}
	}
	for _, p := range r.Phases {
		if p.Redis == nil || p.Redis.RTT <= 0 || r.Ceiling.Rates == nil {
			continue
		}
		p.CeilingRTPerS = ceilingFor(*p.Redis, r.Ceiling.Rates)
		if p.CeilingRTPerS > 0 {
			p.CeilingOpsPerS = p.CeilingRTPerS / p.Redis.RTT
			p.Ratio = p.OKPerSec / p.CeilingOpsPerS
		}
	}
	r.Targets = checkTargets(r)
}

func (r *report) phase(name string) *phaseResult {
	for _, p := range r.Phases {
		if p.Name == name {
			return p
		}
	}
	return nil
}

// checkTargets evaluates the targets on the run.
func checkTargets(r *report) []targetCheck {
	var out []targetCheck
	for _, name := range []string{"get", "lookup"} {
		p := r.phase(name)
		label := map[string]string{"get": "GET /Users/{id}", "lookup": `GET /Users?filter=userName eq`}[name]
		t := targetCheck{Target: label + ": ≥ 0.5 of its Redis-bound ceiling and p99 < 10 ms at 64 connections"}
		if p == nil {
			continue
		}
		t.Comparable = r.Config.Conns == 64 && p.Ratio > 0
		if p.Ratio > 0 {
			t.Measured = fmt.Sprintf("ratio %.2f (%s ok/s of a %s ops/s ceiling), p99 %s", p.Ratio, fmtRate(p.OKPerSec), fmtRate(p.CeilingOpsPerS), fmtDur(p.Latency.P99))
		} else {
			t.Measured = fmt.Sprintf("no ceiling measured, p99 %s", fmtDur(p.Latency.P99))
		}
		t.Met = p.Ratio >= 0.5 && p.Latency.P99 < 10*time.Millisecond && p.Errors.total() == 0
		var why []string
		if p.Ratio > 0 && p.Ratio < 0.5 {
			why = append(why, "ratio below 0.5")
		}
		if p.Latency.P99 >= 10*time.Millisecond {
			why = append(why, "p99 not below 10 ms")
		}
		if p.Errors.total() > 0 {
			why = append(why, "errors")
		}
		if r.Config.Conns != 64 {
			why = append(why, fmt.Sprintf("run at %d connections, not 64", r.Config.Conns))
		}
		t.Why = strings.Join(why, "; ")
		if f := r.phase(floorPhaseName); name == "get" && f != nil {
			t.Floor = fmt.Sprintf("stack floor: %s ok/s, p99 %s", fmtRate(f.OKPerSec), fmtDur(f.Latency.P99))
			if f.Ratio > 0 {
				t.Floor += fmt.Sprintf(", ratio %.2f", f.Ratio)
			}
			if f.OKPerSec > 0 {
				t.Floor += fmt.Sprintf("; the server reached %.0f %% of the floor's throughput", 100*p.OKPerSec/f.OKPerSec)
			}
		}
		out = append(out, t)
	}
	if r.Config.BigGroup > 0 {
		big, small := r.phase(fmt.Sprintf("member-add (%d)", r.Config.BigGroup)), r.phase("member-add (10)")
		if big != nil && small != nil && small.OKPerSec > 0 && small.Latency.P50 > 0 {
			tr := big.OKPerSec / small.OKPerSec
			lr := float64(big.Latency.P50) / float64(small.Latency.P50)
			t := targetCheck{
				Target:     "adding a member to a 100,000-member group within 20 % of a 10-member group",
				Measured:   fmt.Sprintf("%d-member group: %s ok/s, p50 %s; 10-member: %s ok/s, p50 %s (throughput ×%.2f, p50 ×%.2f)", r.Config.BigGroup, fmtRate(big.OKPerSec), fmtDur(big.Latency.P50), fmtRate(small.OKPerSec), fmtDur(small.Latency.P50), tr, lr),
				Met:        tr >= 0.8 && lr <= 1.2 && big.Errors.total() == 0,
				Comparable: r.Config.BigGroup >= 100000,
			}
			if !t.Comparable {
				t.Why = fmt.Sprintf("group of %d, not 100,000", r.Config.BigGroup)
			}
			out = append(out, t)
		}
	}
	if m := r.Import; m != nil {
		t := targetCheck{
			Target:     "an import of 100,000 users with constant server memory (RSS growth after 25 % of the import ≤ 20 %)",
			Measured:   fmt.Sprintf("%d users: RSS growth %.0f %% after 25 %%, %+.0f bytes per user", m.Users, 100*m.Growth, m.BytesPerUser),
			Met:        len(m.Samples) > 0 && m.Growth <= 0.2,
			Comparable: m.Users >= 100000,
		}
		if !t.Comparable {
			t.Why = fmt.Sprintf("%d users, not 100,000", m.Users)
		}
		out = append(out, t)
	}
	return out
}

func (r *report) writeJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

func fmtMB(b int64) string {
	if b <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.0f", float64(b)/(1<<20))
}

func fmtCores(c cpuUsage, d time.Duration) string {
	if d < 0 || c.Wall <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f", c.cores(d))
}

// writeTable prints the human report.
func (r *report) writeTable(w io.Writer) {
	c := r.Config
	fmt.Fprintf(w, "axonflow-bench %s mode: %d connections, %v per phase, %d users; %s, %d CPUs, %s; load average at start %s\n",
		r.Server.Mode, c.Conns, c.Duration, c.Users, r.Machine.OSArch, r.Machine.NCPU, r.Machine.GoVersion, r.Machine.LoadAvg)
	if r.Server.RedisVersion != "" {
		fmt.Fprintf(w, "server pid %d, tenant %q, Redis %s", r.Server.Pid, r.Server.Tenant, r.Server.RedisVersion)
		if r.Server.LogLevel != "" {
			fmt.Fprintf(w, ", server log level %s", r.Server.LogLevel)
		}
		if r.Server.RedisOptions != "" {
			fmt.Fprintf(w, ", server Redis options %s", r.Server.RedisOptions)
		}
		fmt.Fprintln(w)
	}
	if r.Server.Layout != nil {
		fmt.Fprintf(w, "CPU layout (--pin): %s\n", r.Server.Layout)
	} else if r.Server.Mode == "spawn" {
		fmt.Fprintln(w, "CPU layout: not pinned (--pin=false or one CPU): the kernel places server, Redis and load generator")
	}

	fmt.Fprintf(w, "\nThroughput and latency (cpu columns: cores busy during the phase; other = the rest of the machine)\n")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "phase\trequests\tok/s\tp50\tp99\tmax\terrors\tserver cpu\tserver cpu/op\tredis cpu\tloadgen cpu\tother cpu\tpeak rss MB\t")
	for _, p := range r.Phases {
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", p.Name, p.Requests, fmtRate(p.OKPerSec),
			fmtDur(p.Latency.P50), fmtDur(p.Latency.P99), fmtDur(p.Latency.Max), p.Errors,
			fmtCores(p.CPU, p.CPU.Server), fmtDur(p.ServerCPUPerOp), fmtCores(p.CPU, p.CPU.Redis), fmtCores(p.CPU, p.CPU.Loadgen), fmtCores(p.CPU, p.CPU.other()), fmtMB(p.PeakRSS))
	}
	tw.Flush()
	for _, p := range r.Phases {
		if p.FirstError != "" {
			fmt.Fprintf(w, "  %s: first error: %s\n", p.Name, p.FirstError)
		}
		for _, n := range p.Notes {
			fmt.Fprintf(w, "  %s: %s\n", p.Name, n)
		}
	}

	if len(r.Ceiling.Runs) > 0 {
		fmt.Fprintf(w, "\nRedis ceiling: round trips/s from Go (go-redis, %d goroutines and connections, no pipelining), per command shape\n", c.Conns)
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprint(tw, "shape\t")
		for _, run := range r.Ceiling.Runs {
			fmt.Fprintf(tw, "%s\tp99\t", run.When)
		}
		fmt.Fprintln(tw, "mean\tloadgen cpu/rt\tredis cpu/rt\t")
		for i, shape := range ceilingShapes {
			fmt.Fprintf(tw, "%s\t", shape)
			var client, redis time.Duration
			var n int
			for _, run := range r.Ceiling.Runs {
				if i < len(run.Shapes) {
					c := run.Shapes[i]
					fmt.Fprintf(tw, "%s\t%s\t", fmtRate(c.Rate), fmtDur(c.Latency.P99))
					client += c.CPU.Loadgen
					redis += max(c.CPU.Redis, 0)
					n += c.Requests
				} else {
					fmt.Fprint(tw, "-\t-\t")
				}
			}
			perRT := func(d time.Duration) string {
				if n == 0 || d <= 0 {
					return "-"
				}
				return fmtDur(d / time.Duration(n))
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t\n", fmtRate(r.Ceiling.Rates[shape]), perRT(client), perRT(redis))
		}
		tw.Flush()
	}

	if r.hasRedis() {
		fmt.Fprintf(w, "\nRedis cost per request (INFO before/after each phase: round trips = read events, commands = commandstats) and ceiling\n")
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "phase\trtt/op\tcmds/op\tredis cpu/op\tceiling rt/s\tceiling ops/s\tok/s\tratio\tcommands per op\t")
		for _, p := range r.Phases {
			if p.Redis == nil {
				continue
			}
			ratio := "-"
			if p.Ratio > 0 {
				ratio = fmt.Sprintf("%.2f", p.Ratio)
			}
			redisPerOp := time.Duration(0)
			if p.RedisUsage != nil && p.Requests > 0 {
				redisPerOp = p.RedisUsage.CPU / time.Duration(p.Requests)
			}
			fmt.Fprintf(tw, "%s\t%.2f\t%.2f\t%s\t%s\t%s\t%s\t%s\t%s\t\n", p.Name, p.Redis.RTT, p.Redis.Commands, fmtDur(redisPerOp),
				fmtRate(p.CeilingRTPerS), fmtRate(p.CeilingOpsPerS), fmtRate(p.OKPerSec), ratio, p.Redis)
		}
		tw.Flush()
	}

	if m := r.Import; m != nil && len(m.Samples) > 0 {
		fmt.Fprintf(w, "\nServer RSS over the import of %d users (MB at 10 %%, 20 %%, ... 100 %%):", m.Users)
		for _, s := range m.Samples {
			fmt.Fprintf(w, " %s", fmtMB(s.RSS))
		}
		fmt.Fprintf(w, "\n  growth after 25 %%: %.0f %%; %+.0f bytes per user imported after 25 %%\n", 100*m.Growth, m.BytesPerUser)
	}

	if len(r.Targets) > 0 {
		fmt.Fprintf(w, "\nTargets (issue 6)\n")
		for _, t := range r.Targets {
			verdict := "MET"
			if !t.Met {
				verdict = "MISSED"
			}
			if !t.Comparable {
				verdict += " (not comparable: " + t.Why + ")"
			} else if !t.Met && t.Why != "" {
				verdict += " (" + t.Why + ")"
			}
			fmt.Fprintf(w, "  %-7s %s\n          %s\n", verdict, t.Target, t.Measured)
			if t.Floor != "" {
				fmt.Fprintf(w, "          %s\n", t.Floor)
			}
		}
	}
	for _, n := range r.Notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
	if r.Server.ProfileDir != "" {
		fmt.Fprintf(w, "\nCPU profiles of the server, one per phase, in %s (go tool pprof -top FILE; profiles carry their symbols)\n", r.Server.ProfileDir)
	}
}

func (r *report) hasRedis() bool {
	for _, p := range r.Phases {
		if p.Redis != nil {
			return true
		}
	}
	return false
}
