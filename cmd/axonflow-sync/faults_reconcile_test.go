package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/axonflow/axonflow-sync/internal/testredis"
	"github.com/axonflow/axonflow-sync/mapping"
	"github.com/axonflow/axonflow-sync/store"
	"github.com/axonflow/axonflow-sync/sync"
	"github.com/axonflow/axonflow-sync/sync/oktatest"
)

// TestFaultReconcileKilledMidApply: `reconcile --mode correct` against a
// fake Okta org whose first synchronisation is thousands of corrections is
// SIGKILLed twice while applying them (early, among the user creates, and
// later, among the groups and memberships). The tenant stays busy until the
// dead run's lease expires; then the next run converges: a report run
// afterwards finds no drift, and the store holds exactly Okta's users,
// groups and memberships, none twice, with store verify clean. On the
// embedded store and on Redis.
func TestFaultReconcileKilledMidApply(t *testing.T) {
	for _, name := range []string{"embedded", "redis"} {
		t.Run(name, func(t *testing.T) {
			be := embeddedBackend(t)
			if name == "redis" {
				be = redisBackend(testredis.URL(t))
			}
			testReconcileKilled(t, be)
		})
	}
}

// reconcileOrg sizes the fake org: 1,500 app users, 12 groups, about 1,500
// memberships: some 3,000 corrections for the first run.
var reconcileOrg = oktatest.GenOptions{Users: 1500, Groups: 12, Memberships: 1500, Seed: 7}

func testReconcileKilled(t *testing.T, be storeBackend) {
	okta := oktatest.New(oktatest.WithoutRateLimits())
	t.Cleanup(okta.Close)
	org := okta.Seed(reconcileOrg)
	tenant := fmt.Sprintf("killed-%d", time.Now().UnixNano())
	cfg := filepath.Join(t.TempDir(), "axonflow-sync.yaml")
	yaml := fmt.Sprintf(`tenants:
  %s:
    okta:
      orgURL: %s
      appID: %s
      apiToken: ${OKTA_API_TOKEN}
      allowInsecureHTTP: true
`, tenant, okta.URL, org.AppID)
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	env := append([]string{"AXONFLOW_SYNC_CONFIG=" + cfg, "OKTA_API_TOKEN=" + oktatest.DefaultToken}, be.env...)
	correct := []string{"reconcile", "--tenant", tenant, "--mode", "correct", "--max-changes", "100000",
		"--output", "json", "--detailed-exitcode"}
	// The runs the test kills are held stopped (SIGSTOP) most of the wall
	// time while the test reads their progress, so every wall-clock deadline
	// they have must be far longer than the test: the binary is built with a
	// 1 h lease (its renewals are bounded by a third of it, 10 s by
	// default) and, on Redis, store calls get 1 h (redis.timeout, 2 s by
	// default; go-redis's socket read and write timeouts, 3 s by default).
	killedBin := overlayBinary(t, "long-lease", "reconcileLeaseTTL = time.Hour")
	killedEnv := stoppedRunEnv(env)

	// The store the runs write, opened by the test to watch their progress.
	if _, stderr, code := cli(t, env, "token", "create", "--tenant", tenant); code != 0 {
		t.Fatalf("token create: %s", stderr) // creates the tenant (the store file too)
	}
	st := be.open(t)
	total := len(org.UserIDs) + len(org.GroupIDs) + org.Memberships
	// tryProgress counts the corrections applied so far (users, groups,
	// memberships); ok is false when the store did not answer in time: a
	// run frozen inside SQLite's WAL bookkeeping can hold a lock readers
	// wait for, so the caller lets it run on and looks again.
	tryProgress := func(timeout time.Duration) (n int, ok bool) {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		us, err1 := st.ListUsers(ctx, tenant, 0, 1)
		gs, err2 := st.ListGroups(ctx, tenant, 0, 1000)
		if err1 != nil || err2 != nil {
			return 0, false
		}
		n = us.Total + gs.Total
		for _, g := range gs.Items {
			ms, err := st.GroupMembers(ctx, tenant, g.ID)
			if err != nil {
				return 0, false
			}
			n += len(ms)
		}
		return n, true
	}
	progress := func() int { // with no run frozen
		n, ok := tryProgress(10 * time.Second)
		if !ok {
			t.Fatal("reading the progress of the run from the store failed")
		}
		return n
	}

	// Kill the run once 10 % of the whole synchronisation is applied
	// (among the user creates), then the next run at 60 % (among the
	// membership adds: users and groups make 50.4 %).
	for i, frac := range []float64{0.10, 0.60} {
		start := progress()
		target := int(frac * float64(total))
		cmd := exec.Command(killedBin, correct...)
		cmd.Env = append([]string{"PATH=" + os.Getenv("PATH")}, killedEnv...)
		var errb bytes.Buffer
		cmd.Stderr = &errb
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		// Let the run work in short slices and look at the store while it
		// is frozen (SIGSTOP), so the kill lands exactly past the target
		// however fast the run is compared with the test's reads.
		// The run's slice grows with the time a read takes (3–50 ms), so
		// that on a loaded machine, where a read can take hundreds of
		// milliseconds, the run still gets a fair share of the wall time.
		// It shrinks again when the run's pace (corrections per second of
		// slice, from the last slice) would carry it more than a third of
		// what is left in one slice, so that a run that went fast on a
		// loaded machine is still stopped before it finishes.
		// The deadline only guards against a hang: a frozen run has no
		// wall-clock deadline of its own (killedBin, killedEnv).
		const hangGuard = 5 * time.Minute
		deadline := time.Now().Add(hangGuard)
		var at int
		last := start
		slice := 3 * time.Millisecond
		for {
			time.Sleep(slice)
			if err := freeze(cmd.Process.Pid); err != nil {
				<-done // the run has exited: its stderr is complete
				t.Fatalf("run %d exited (%v) before %d/%d corrections were applied (progress %d; if it converged, make the org bigger)\n%s",
					i+1, err, target, total, progress(), errb.String())
			}
			readStart := time.Now()
			n, ok := tryProgress(500 * time.Millisecond)
			ran := slice
			slice = min(max(time.Since(readStart), 3*time.Millisecond), 50*time.Millisecond)
			if ok && n > last {
				perSlice := float64(n-last) / float64(ran) // corrections per ns of run time
				if budget := time.Duration(float64(total-n) / 3 / perSlice); budget < slice {
					slice = max(budget, time.Millisecond)
				}
				last = n
			}
			if at = n; ok && at >= target {
				break
			}
			if time.Now().After(deadline) {
				_ = cmd.Process.Kill()
				<-done
				t.Fatalf("run %d: progress %d after %v, waiting for %d\n%s", i+1, at, hangGuard, target, errb.String())
			}
			_ = cmd.Process.Signal(syscall.SIGCONT)
		}
		_ = cmd.Process.Kill() // SIGKILL (while frozen): no cleanup, the lease stays
		<-done
		t.Logf("run %d: SIGKILL at %d/%d corrections applied (the run started at %d)", i+1, at, total, start)
		if at >= total {
			t.Fatalf("run %d applied everything before the kill: make the org bigger", i+1)
		}

		// The dead run still holds the tenant: the next run is refused
		// with a message naming it, until the lease expires.
		_, stderr, code := cli(t, env, correct...)
		holder := regexp.MustCompile(`held by ([^)]+)\)`).FindStringSubmatch(stderr)
		if code != exitError || holder == nil {
			t.Fatalf("run right after the kill: exit %d, want 1 naming the lease holder; stderr %s", code, stderr)
		}
		expireLease(t, st, tenant, holder[1])
	}

	// The next run converges.
	out, stderr, code := cli(t, env, correct...)
	if code != exitNoDrift {
		t.Fatalf("run after the kills: exit %d, want 0\n%s\n%.2000s", code, stderr, out)
	}
	rep := decodeReport(t, out)
	for _, a := range rep.Applied {
		if a.Result != "ok" || a.Action == "delete_group" || a.Action == "deactivate_user" {
			t.Errorf("the converging run applied %+v", a)
		}
	}
	t.Logf("converging run applied %d corrections", len(rep.Applied))
	// A report run finds nothing left to do.
	out, stderr, code = cli(t, env, "reconcile", "--tenant", tenant, "--output", "json", "--detailed-exitcode")
	if r := decodeReport(t, out); code != exitNoDrift || len(r.Drift) != 0 || !r.Complete {
		t.Fatalf("report after convergence: exit %d, drift %v\n%s", code, r.Drift, stderr)
	}
	checkConverged(t, st, tenant, okta, org)
	verifyClean(t, be.env, tenant)
}

// stoppedRunEnv is env for a run the test holds stopped: on Redis, with a
// 1 h deadline per store call (AXONFLOW_SYNC_REDIS_TIMEOUT) and per socket
// read and write (the URL's read_timeout and write_timeout).
func stoppedRunEnv(env []string) []string {
	out := slices.Clone(env)
	for i, kv := range out {
		if u, ok := strings.CutPrefix(kv, "AXONFLOW_SYNC_REDIS_URL="); ok {
			sep := "?"
			if strings.Contains(u, "?") {
				sep = "&"
			}
			out[i] = "AXONFLOW_SYNC_REDIS_URL=" + u + sep + "read_timeout=1h&write_timeout=1h"
			out = append(out, "AXONFLOW_SYNC_REDIS_TIMEOUT=1h")
		}
	}
	return out
}

// expireLease does what the expiry of its lease (sync.DefaultLeaseTTL
// without renewal in production, 1 h for the test's killed runs) does for a
// killed run: the tenant becomes free.
func expireLease(t *testing.T, st store.State, tenant, holder string) {
	t.Helper()
	ctx := context.Background()
	if err := st.ReleaseLease(ctx, tenant, sync.LeaseName, holder); err != nil {
		t.Fatal(err)
	}
	ok, cur, err := st.AcquireLease(ctx, tenant, sync.LeaseName, "test-probe", time.Second)
	if err != nil || !ok {
		t.Fatalf("the killed run's lease is still held by %q (%v)", cur, err)
	}
	if err := st.ReleaseLease(ctx, tenant, sync.LeaseName, "test-probe"); err != nil {
		t.Fatal(err)
	}
}

// checkConverged compares the tenant with the Okta org: every app user once
// (by externalId = Okta id, and by userName), every assigned group once
// (by Okta id and displayName), and each group's members exactly Okta's.
func checkConverged(t *testing.T, st store.State, tenant string, okta *oktatest.Server, org oktatest.GenResult) {
	t.Helper()
	ctx := context.Background()
	users, err := st.ListUsers(ctx, tenant, 0, 1_000_000)
	if err != nil {
		t.Fatal(err)
	}
	byOkta := map[string]string{} // Okta user id → AxonFlow id
	names := map[string]bool{}
	for _, u := range users.Items {
		ext, key := u.ExternalID(), mapping.FoldKey(u.UserName())
		if byOkta[ext] != "" || names[key] {
			t.Errorf("duplicate user: externalId %q userName %q", ext, u.UserName())
		}
		if !u.Active() {
			t.Errorf("user %s is inactive", u.UserName())
		}
		byOkta[ext], names[key] = u.ID, true
	}
	want := okta.AppUsers(org.AppID)
	if len(users.Items) != len(want) || users.Total != len(want) {
		t.Errorf("%d users (total %d), Okta assigns %d", len(users.Items), users.Total, len(want))
	}
	for _, id := range want {
		if byOkta[id] == "" {
			t.Errorf("Okta user %s has no AxonFlow user", id)
		}
	}
	groups, err := st.ListGroups(ctx, tenant, 0, 1_000_000)
	if err != nil {
		t.Fatal(err)
	}
	byOktaG := map[string]*mapping.Group{}
	gnames := map[string]bool{}
	for _, g := range groups.Items {
		key := mapping.FoldKey(g.DisplayName())
		if byOktaG[g.OktaID] != nil || gnames[key] {
			t.Errorf("duplicate group: Okta id %q displayName %q", g.OktaID, g.DisplayName())
		}
		byOktaG[g.OktaID], gnames[key] = g, true
	}
	wantG := okta.AppGroups(org.AppID)
	if len(groups.Items) != len(wantG) {
		t.Errorf("%d groups, Okta assigns %d", len(groups.Items), len(wantG))
	}
	nMembers := 0
	for _, og := range wantG {
		g := byOktaG[og]
		if g == nil {
			t.Errorf("Okta group %s has no AxonFlow group", og)
			continue
		}
		got, err := st.GroupMembers(ctx, tenant, g.ID)
		if err != nil {
			t.Fatal(err)
		}
		set := map[string]bool{}
		for _, uid := range got {
			if set[uid] {
				t.Errorf("group %s lists member %s twice", g.DisplayName(), uid)
			}
			set[uid] = true
		}
		oktaMembers := okta.GroupMembers(og)
		for _, ou := range oktaMembers {
			if !set[byOkta[ou]] {
				t.Errorf("group %s lacks member %s (Okta %s)", g.DisplayName(), byOkta[ou], ou)
			}
		}
		if len(set) != len(oktaMembers) {
			t.Errorf("group %s: %d members, Okta has %d", g.DisplayName(), len(set), len(oktaMembers))
		}
		nMembers += len(set)
	}
	t.Logf("converged: %d users, %d groups, %d memberships", len(users.Items), len(groups.Items), nMembers)
}

// freeze stops process pid (SIGSTOP) and waits until it is stopped; an error
// means it has exited.
func freeze(pid int) error {
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		return err
	}
	for range 1000 {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			return err
		}
		// pid (comm) state ...: the state follows the last ')'.
		f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
		switch {
		case len(f) > 0 && (f[0] == "T" || f[0] == "t"):
			return nil
		case len(f) > 0 && (f[0] == "Z" || f[0] == "X"):
			return fmt.Errorf("process %d has exited", pid)
		}
		time.Sleep(time.Millisecond)
	}
	return fmt.Errorf("process %d did not stop", pid)
}
