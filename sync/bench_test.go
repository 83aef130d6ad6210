package sync

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	gosync "sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/rs/zerolog"

	"github.com/axonflow/axonflow-sync/internal/testredis"
	"github.com/axonflow/axonflow-sync/mapping"
	"github.com/axonflow/axonflow-sync/store"
	"github.com/axonflow/axonflow-sync/sync/oktasource"
	"github.com/axonflow/axonflow-sync/sync/oktatest"
)

// minPages is the fewest Okta calls a pull of appID can make: every listing
// at the reconciler's page sizes (app users 500, app groups 200, members
// 200; an empty listing still costs one call), no retries.
func minPages(srv *oktatest.Server, appID string) int64 {
	pages := func(n, size int) int64 { return int64(max(1, (n+size-1)/size)) }
	n := pages(len(srv.AppUsers(appID)), 500) + pages(len(srv.AppGroups(appID)), 200)
	for _, g := range srv.AppGroups(appID) {
		n += pages(len(srv.GroupMembers(g)), 200)
	}
	return n
}

// mirror writes the desired state d into tenant of st exactly as Okta push
// would have (users with externalId, groups without Okta ids, memberships),
// with workers goroutines. AxonFlow ids are derived from the Okta ids, so two
// mirrors of one org hold the same ids. With drift, it leaves out, changes or
// adds a fixed set of objects so that a report has every common kind of
// drift (see driftOf).
func mirror(b *testing.B, st store.State, tenant string, d *Desired, workers int, drift bool) {
	ctx := context.Background()
	ax := make(map[string]string, len(d.Users))
	ids := make([]string, len(d.Users))
	for i := range d.Users {
		ids[i] = uuid.NewSHA1(uuid.NameSpaceOID, []byte(d.Users[i].OktaID)).String()
		ax[d.Users[i].OktaID] = ids[i]
	}
	missing := map[string]bool{}
	if drift {
		for i := 0; i < len(d.Users); i += 1000 {
			missing[d.Users[i].OktaID] = true
		}
	}
	now := time.Now().UTC()
	var next atomic.Int64
	var wg gosync.WaitGroup
	var failed atomic.Value
	for range workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= len(d.Users) {
					return
				}
				id := d.Users[i].Identity
				if drift {
					switch i % 1000 {
					case 0: // user_missing (and its memberships)
						continue
					case 1: // user_attributes
						id.FamilyName = "Drifted"
					case 2: // user_status
						id.Active = !id.Active
					}
				}
				attrs, err := normalizeUser(mapping.ApplyIdentity(nil, id))
				if err == nil {
					err = st.CreateUser(ctx, tenant, &mapping.User{ID: ids[i], Attrs: attrs, Origin: mapping.OriginOktaPush,
						Created: now, LastModified: now})
				}
				if err != nil {
					failed.Store(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if err, _ := failed.Load().(error); err != nil {
		b.Fatal(err)
	}
	if drift { // user_orphaned
		for i := range 50 {
			login := fmt.Sprintf("orphan-%02d@example.net", i)
			attrs, err := normalizeUser(mapping.ApplyIdentity(nil, mapping.IdentityFromOkta("", login, login, "Or", "Phan", true)))
			if err == nil {
				err = st.CreateUser(ctx, tenant, &mapping.User{ID: uuid.NewSHA1(uuid.NameSpaceOID, []byte(login)).String(),
					Attrs: attrs, Origin: mapping.OriginOktaPush, Created: now, LastModified: now})
			}
			if err != nil {
				b.Fatal(err)
			}
		}
	}
	next.Store(0)
	for range workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= len(d.Groups) {
					return
				}
				g := d.Groups[i]
				name := g.Name
				ids := g.MemberIDs(d)
				members := make([]string, 0, len(ids))
				for j, m := range ids {
					if drift && ((j == 0 && i%200 == 2) || missing[m]) { // membership_missing
						continue
					}
					members = append(members, ax[m])
				}
				if drift {
					switch i % 200 {
					case 0: // group_missing
						continue
					case 1: // group_attributes
						name += " (old)"
					}
				}
				err := st.CreateGroup(ctx, tenant, &mapping.Group{ID: uuid.NewSHA1(uuid.NameSpaceOID, []byte(g.OktaID)).String(),
					Attrs: mapping.Attrs{"displayName": name}, Origin: mapping.OriginOktaPush, Created: now, LastModified: now}, members)
				if err != nil {
					failed.Store(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if err, _ := failed.Load().(error); err != nil {
		b.Fatal(err)
	}
}

// watchHWM polls the VmHWM (peak resident set, KiB) of process pid until
// the returned function is called (after the process was waited for) and
// returns the highest value read.
func watchHWM(pid int) func() int64 {
	var peak atomic.Int64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		path := fmt.Sprintf("/proc/%d/status", pid)
		for {
			if b, err := os.ReadFile(path); err == nil {
				for line := range strings.Lines(string(b)) {
					if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
						var kb int64
						fmt.Sscan(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), &kb)
						peak.Store(max(peak.Load(), kb))
					}
				}
			}
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	return func() int64 {
		close(stop)
		<-done
		return peak.Load()
	}
}

// BenchmarkReportRun100k measures a report-mode reconciliation of an org of
// 100,000 app users, 2,000 groups and 300,000 memberships that is already
// mirrored in Redis (so the report finds no drift). The run is the real
// command, `axonflow-sync reconcile --tenant T --output json`, in a child
// process, so its CPU time and peak RSS (getrusage of the child) are the
// reconciler's own: the fake Okta serving it lives in this process. Seeding
// the fake, mirroring the org into Redis and building the binary happen
// before the timer starts. Reported per run: Okta calls and the minimum
// number of pages (they must be equal), wall time, CPU time (user + system)
// and peak RSS of the reconcile process (VmHWM from /proc/<pid>/status,
// polled every 20 ms: ru_maxrss of a child started with vfork also counts
// the parent's memory).
//
//	go test -run '^$' -bench ReportRun100k -benchtime 1x ./sync/
//
// With AXONFLOW_BENCH_REPORT=FILE the mirror drifts from Okta (see mirror)
// and the run's report, without its tenant, run id and times, is written to FILE:
// two such files from two builds must be identical (the report diff check).
func BenchmarkReportRun100k(b *testing.B) { benchReportRun(b, 100_000, 2_000, 300_000) }

// BenchmarkReportRun1M is BenchmarkReportRun100k at 1,000,000 app users,
// 20,000 groups and 3,000,000 memberships. It runs only with
// AXONFLOW_BENCH_1M=1 (seeding takes many minutes and several GiB):
//
//	AXONFLOW_BENCH_1M=1 go test -run '^$' -bench ReportRun1M -benchtime 1x -timeout 2h ./sync/
func BenchmarkReportRun1M(b *testing.B) {
	if os.Getenv("AXONFLOW_BENCH_1M") != "1" {
		b.Skip("set AXONFLOW_BENCH_1M=1 to run the 1,000,000-user benchmark")
	}
	benchReportRun(b, 1_000_000, 20_000, 3_000_000)
}

func benchReportRun(b *testing.B, users, groups, memberships int) {
	reportOut := os.Getenv("AXONFLOW_BENCH_REPORT")
	drift := reportOut != ""
	dir := b.TempDir()
	bin := filepath.Join(dir, "axonflow-sync")
	profDir := os.Getenv("AXONFLOW_BENCH_PROFILE")
	build := func() {
		args := []string{"build", "-o", bin}
		if profDir != "" {
			args = append(args, "-overlay", profileOverlay(b, dir))
		}
		args = append(args, "github.com/axonflow/axonflow-sync/cmd/axonflow-sync")
		if out, err := exec.Command("go", args...).CombinedOutput(); err != nil {
			b.Fatalf("building axonflow-sync: %v\n%s", err, out)
		}
	}
	build()
	srv := oktatest.New(oktatest.WithoutRateLimits())
	b.Cleanup(srv.Close)
	start := time.Now()
	res := srv.Seed(oktatest.GenOptions{Users: users, Groups: groups, Memberships: memberships})
	srv.Prewarm()
	st := openStore(b, "redis")
	tenant := "bench-" + randHex(6)
	if _, err := st.EnsureTenant(context.Background(), tenant, time.Now()); err != nil {
		b.Fatal(err)
	}
	cfg := oktasource.Config{OrgURL: srv.URL, AppID: res.AppID, APIToken: srv.Token, AllowInsecureHTTP: true, ExpandAppUsers: true}
	c, err := oktasource.New(cfg, zerolog.Nop())
	if err != nil {
		b.Fatal(err)
	}
	snap, err := c.Pull(context.Background(), oktasource.PullOptions{})
	if err != nil {
		b.Fatal(err)
	}
	mirror(b, st, tenant, BuildDesired(snap), 8, drift)
	snap = nil
	b.Logf("seeded Okta (%d app users, %d groups, %d memberships) and mirrored it into Redis in %v",
		len(res.UserIDs), len(res.GroupIDs), res.Memberships, time.Since(start).Round(time.Second))
	wantCalls := minPages(srv, res.AppID)
	conf := filepath.Join(dir, "axonflow-sync.yaml")
	yaml := fmt.Sprintf("tenants:\n  %s:\n    okta: {orgURL: %q, appID: %q, apiToken: %q, allowInsecureHTTP: true}\n",
		tenant, srv.URL, res.AppID, srv.Token)
	if err := os.WriteFile(conf, []byte(yaml), 0o600); err != nil {
		b.Fatal(err)
	}
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "AXONFLOW_SYNC_CONFIG=" + conf,
		"AXONFLOW_SYNC_REDIS_URL=" + testredis.URL(b), "AXONFLOW_SYNC_REDIS_TIMEOUT=30s"}

	var calls, pages int64
	var cpu, wall time.Duration
	var rss int64
	run := 0
	for b.Loop() {
		if profDir != "" && run > 0 {
			b.StopTimer()
			waitGo(b, profDir, run)
			build()
			b.StartTimer()
		}
		run++
		cmd := exec.Command(bin, "reconcile", "--tenant", tenant, "--output", "json", "--detailed-exitcode")
		cmd.Env = env
		if profDir != "" {
			cmd.Env = append(slices.Clone(env), "AXONFLOW_BENCH_CPUPROFILE="+filepath.Join(profDir, fmt.Sprintf("cpu-%d-%d.pprof", users, run)))
		}
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		t0 := time.Now()
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		hwm := watchHWM(cmd.Process.Pid)
		err := cmd.Wait()
		wall += time.Since(t0)
		runRSS := hwm()
		rss = max(rss, runRSS)
		if err != nil && !(drift && cmd.ProcessState.ExitCode() == 2) {
			b.Fatalf("reconcile: %v (exit 0 means no drift)\n%s\n%.2000s", err, stderr.String(), stdout.String())
		}
		ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
		cpu += time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
		rep, err := DecodeReport(stdout.Bytes())
		if err != nil {
			b.Fatal(err)
		}
		if !rep.Complete || (len(rep.Drift) != 0) != drift {
			b.Fatalf("complete %v, drift %v", rep.Complete, kinds(rep))
		}
		if drift {
			b.Logf("drift: %v", kinds(rep))
			writeComparableReport(b, reportOut, stdout.Bytes())
		}
		calls, pages = rep.Okta.APICalls, rep.Okta.Pages
		if profDir != "" {
			ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
			// Also at once on stderr: the benchmark's log is printed only
			// when all runs are done, and each run waits for the next build.
			line := fmt.Sprintf("run %d: %.2f s CPU, %.1f MiB peak RSS, %.1f s wall", run,
				time.Duration(ru.Utime.Nano()+ru.Stime.Nano()).Seconds(), float64(runRSS)/1024, time.Since(t0).Seconds())
			fmt.Fprintln(os.Stderr, line)
			b.Log(line)
		}
		if calls != wantCalls {
			b.Fatalf("okta calls %d; want the minimum number of pages %d", calls, wantCalls)
		}
	}
	b.StopTimer()
	n := float64(b.N)
	b.ReportMetric(float64(calls), "okta-calls/op")
	b.ReportMetric(float64(wantCalls), "min-pages/op")
	b.ReportMetric(float64(pages), "pages/op")
	b.ReportMetric(wall.Seconds()/n, "wall-s/op")
	b.ReportMetric(cpu.Seconds()/n, "cpu-s/op")
	b.ReportMetric(float64(rss)/1024, "peak-rss-MiB")
}

// writeComparableReport writes the JSON report in to path without what
// differs between two runs of one build (tenant, run id, start and finish
// times),
// indented, for a diff of two builds' reports.
func writeComparableReport(b *testing.B, path string, in []byte) {
	var m map[string]any
	if err := json.Unmarshal(in, &m); err != nil {
		b.Fatal(err)
	}
	delete(m, "tenant")
	delete(m, "runId")
	delete(m, "startedAt")
	delete(m, "finishedAt")
	out, err := json.MarshalIndent(m, "", " ")
	if err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(path, append(out, '\n'), 0o644); err != nil {
		b.Fatal(err)
	}
}

// profileOverlay writes, into dir, a go build -overlay file that makes
// cmd/axonflow-sync write a CPU profile of its whole run to the file named by
// AXONFLOW_BENCH_CPUPROFILE (nothing when unset), and returns its path. It is
// for profiling the reconcile benchmark (AXONFLOW_BENCH_PROFILE=DIR): the
// repository's code is not changed.
func profileOverlay(b *testing.B, dir string) string {
	src, err := filepath.Abs("../cmd/axonflow-sync/main.go")
	if err != nil {
		b.Fatal(err)
	}
	text, err := os.ReadFile(src)
	if err != nil {
		b.Fatal(err)
	}
	const call = "os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr, os.Getenv))"
	if !bytes.Contains(text, []byte(call)) {
		b.Fatalf("%s: no %q to wrap", src, call)
	}
	text = bytes.Replace(text, []byte(call), []byte("os.Exit(benchProfiled(func() int { return "+call[len("os.Exit("):len(call)-1]+" }))"), 1)
	const hook = `package main

import (
	"os"
	"runtime/pprof"
)

func benchProfiled(f func() int) int {
	path := os.Getenv("AXONFLOW_BENCH_CPUPROFILE")
	if path == "" {
		return f()
	}
	out, err := os.Create(path)
	if err != nil {
		panic(err)
	}
	if err := pprof.StartCPUProfile(out); err != nil {
		panic(err)
	}
	code := f()
	pprof.StopCPUProfile()
	out.Close()
	return code
}
`
	main, hookFile := filepath.Join(dir, "main.go"), filepath.Join(dir, "zz_bench_profile.go")
	if err := os.WriteFile(main, text, 0o600); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(hookFile, []byte(hook), 0o600); err != nil {
		b.Fatal(err)
	}
	ov, _ := json.Marshal(map[string]any{"Replace": map[string]string{
		src: main, filepath.Join(filepath.Dir(src), "zz_bench_profile.go"): hookFile}})
	path := filepath.Join(dir, "overlay.json")
	if err := os.WriteFile(path, ov, 0o600); err != nil {
		b.Fatal(err)
	}
	return path
}

// waitGo waits, before profiled run n+1, until the file DIR/go-N exists (so
// that one seeded org can be reconciled by successive builds of the
// worktree: edit, then touch the file; the binary is rebuilt before the run).
func waitGo(b *testing.B, dir string, n int) {
	path := filepath.Join(dir, fmt.Sprintf("go-%d", n))
	fmt.Fprintf(os.Stderr, "run %d done; touch %s to rebuild and run again\n", n, path)
	for {
		if _, err := os.Stat(path); err == nil {
			return
		}
		time.Sleep(time.Second)
	}
}
