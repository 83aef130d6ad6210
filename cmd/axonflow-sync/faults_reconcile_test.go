package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
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
// later, among the membership adds), each time by itself at an exact count
// of corrections (killAtOverlay). The tenant stays busy until the
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
	// The runs the test kills are built with a store wrapper (killAtOverlay)
	// that SIGKILLs the process at an exact count of corrections, so the
	// kill lands where the test wants it however fast the run goes, and
	// with a 1 h lease, so the dead run's lease is still held when the
	// test looks.
	killedBin := overlaySource(t, "kill-at", killAtOverlay)

	// The store the runs write, opened by the test to watch their progress.
	if _, stderr, code := cli(t, env, "token", "create", "--tenant", tenant); code != 0 {
		t.Fatalf("token create: %s", stderr) // creates the tenant (the store file too)
	}
	st := be.open(t)
	total := len(org.UserIDs) + len(org.GroupIDs) + org.Memberships
	// progress counts the corrections applied so far (users, groups,
	// memberships).
	progress := func() int {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		us, err1 := st.ListUsers(ctx, tenant, 0, 1)
		gs, err2 := st.ListGroups(ctx, tenant, 0, 1000)
		if err := errors.Join(err1, err2); err != nil {
			t.Fatalf("reading the progress of the run from the store: %v", err)
		}
		n := us.Total + gs.Total
		for _, g := range gs.Items {
			ms, err := st.GroupMembers(ctx, tenant, g.ID)
			if err != nil {
				t.Fatalf("reading the progress of the run from the store: %v", err)
			}
			n += len(ms)
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
		cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), fmt.Sprintf("AXONFLOW_TEST_KILL_AT=%d", target-start)}, env...)
		var errb bytes.Buffer
		cmd.Stderr = &errb
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		const hangGuard = 5 * time.Minute // only against a hang
		select {
		case <-done:
		case <-time.After(hangGuard):
			_ = cmd.Process.Kill()
			<-done
			t.Fatalf("run %d: still running after %v (progress %d, kill point %d)\n%s", i+1, hangGuard, progress(), target, errb.String())
		}
		if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
			t.Fatalf("run %d ended with %v before its kill point (%d/%d corrections; progress %d)\n%s",
				i+1, cmd.ProcessState, target, total, progress(), errb.String())
		}
		at := progress()
		t.Logf("run %d: SIGKILL at %d/%d corrections applied (the run started at %d, kill point %d)", i+1, at, total, start, target)
		// The kill lands at the write that reached the kill point, done or
		// not: run 1 among the user creates (one correction a write), run 2
		// among the membership adds (up to 500 a write), past the users and
		// groups.
		users, usersAndGroups := len(org.UserIDs), len(org.UserIDs)+len(org.GroupIDs)
		if i == 0 && (at < target-1 || at > target || at >= users) {
			t.Fatalf("run 1: %d/%d corrections applied at the kill, want %d or %d (a user create)", at, total, target-1, target)
		}
		if i == 1 && (at <= usersAndGroups || at < target-500 || at > target+500 || at >= total) {
			t.Fatalf("run 2: %d/%d corrections applied at the kill, want within 500 of %d, past the %d users and groups", at, total, target, usersAndGroups)
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

// killAtOverlay is the source file (go build -overlay) that makes a
// reconcile run kill itself: with AXONFLOW_TEST_KILL_AT=N set, the write that
// brings the run's applied corrections (users and groups created or
// updated, members added or removed) to N or past it starts a SIGKILL of
// the process within 0–3 ms, so the kill lands during that write or right
// after it, and the run makes no further call. Its lease is 1 h, so the
// dead run still holds the tenant when the test looks.
const killAtOverlay = `package main

import (
	"context"
	"math/rand/v2"
	"os"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/axonflow/axonflow-sync/mapping"
	"github.com/axonflow/axonflow-sync/store"
)

func init() {
	reconcileLeaseTTL = time.Hour
	at, err := strconv.Atoi(os.Getenv("AXONFLOW_TEST_KILL_AT"))
	if err != nil {
		return
	}
	reconcileStore = func(st store.State) store.State { return &killAt{State: st, at: int64(at)} }
}

type killAt struct {
	store.State
	at int64
	n  atomic.Int64
}

func (k *killAt) write(n int, f func() error) error {
	if k.n.Add(int64(n)) < k.at {
		return f()
	}
	go func() {
		time.Sleep(time.Duration(rand.IntN(3000)) * time.Microsecond)
		_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
	}()
	_ = f()
	time.Sleep(time.Hour)
	return nil
}

func (k *killAt) CreateUser(ctx context.Context, tenant string, u *mapping.User) error {
	return k.write(1, func() error { return k.State.CreateUser(ctx, tenant, u) })
}

func (k *killAt) UpdateUser(ctx context.Context, tenant string, u *mapping.User, expectVersion int64) error {
	return k.write(1, func() error { return k.State.UpdateUser(ctx, tenant, u, expectVersion) })
}

func (k *killAt) CreateGroup(ctx context.Context, tenant string, g *mapping.Group, members []string) error {
	return k.write(1+len(members), func() error { return k.State.CreateGroup(ctx, tenant, g, members) })
}

func (k *killAt) UpdateGroup(ctx context.Context, tenant, id string, c store.GroupChange) (g *mapping.Group, err error) {
	err = k.write(max(len(c.Add)+len(c.Remove), 1), func() error {
		g, err = k.State.UpdateGroup(ctx, tenant, id, c)
		return err
	})
	return g, err
}
`
