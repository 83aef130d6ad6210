package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/axonflow/axonflow-sync/internal/testredis"
	"github.com/axonflow/axonflow-sync/sync/oktatest"
)

// reconcileFixture is a fake Okta org with two app users in a group and a
// YAML config whose tenant points at it.
type reconcileFixture struct {
	okta   *oktatest.Server
	config string
	env    []string
}

func newReconcileFixture(t *testing.T, storeEnv []string, tenant, token string) *reconcileFixture {
	t.Helper()
	srv := oktatest.New()
	t.Cleanup(srv.Close)
	app := oktatest.DefaultAppID
	ada := srv.AddUser(oktatest.User{Email: "ada@example.com", FirstName: "Ada", LastName: "Lovelace"})
	bob := srv.AddUser(oktatest.User{Email: "bob@example.com", FirstName: "Bob", LastName: "Builder"})
	srv.AssignUser(app, ada, oktatest.ScopeUser, "")
	g := srv.AddGroup(oktatest.Group{Name: "Engineering"})
	srv.AddGroupMember(g, ada)
	srv.AddGroupMember(g, bob)
	srv.AssignGroup(app, g)

	dir := t.TempDir()
	cfg := filepath.Join(dir, "axonflow-sync.yaml")
	yaml := fmt.Sprintf(`tenants:
  %s:
    okta:
      orgURL: %s
      appID: %s
      apiToken: ${OKTA_API_TOKEN}
      allowInsecureHTTP: true
    reconcile: {mode: report, maxChanges: 50, maxChangePercent: 10}
`, tenant, srv.URL, app)
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return &reconcileFixture{okta: srv, config: cfg,
		env: append([]string{"AXONFLOW_SYNC_CONFIG=" + cfg, "OKTA_API_TOKEN=" + token}, storeEnv...)}
}

type cliReport struct {
	Tenant   string         `json:"tenant"`
	Mode     string         `json:"mode"`
	Trigger  string         `json:"trigger"`
	Complete bool           `json:"complete"`
	Reason   string         `json:"incompleteReason"`
	Summary  map[string]int `json:"summary"`
	Drift    []any          `json:"drift"`
	Applied  []struct {
		Action string `json:"action"`
		Result string `json:"result"`
	} `json:"applied"`
	Refused []struct {
		Guard string `json:"guard"`
	} `json:"refused"`
}

func decodeReport(t *testing.T, out string) cliReport {
	t.Helper()
	var r cliReport
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("stdout is not a JSON report: %v\n%s", err, out)
	}
	return r
}

func TestReconcileCLI(t *testing.T) {
	for _, backend := range []string{"embedded", "redis"} {
		t.Run(backend, func(t *testing.T) {
			storeEnv := []string{"AXONFLOW_SYNC_DATA_DIR=" + t.TempDir()}
			if backend == "redis" {
				storeEnv = []string{"AXONFLOW_SYNC_REDIS_URL=" + testredis.URL(t)}
			}
			tenant := "acme"
			if backend == "redis" { // the shared test Redis may hold other tests' tenants
				tenant = fmt.Sprintf("acme-%d", time.Now().UnixNano())
			}
			f := newReconcileFixture(t, storeEnv, tenant, oktatest.DefaultToken)

			// Report: drift remains → 2; nothing changes.
			out, stderr, code := cli(t, f.env, "reconcile", "--tenant", tenant, "--output", "json", "--detailed-exitcode")
			if code != exitDrift {
				t.Fatalf("report: exit %d, want 2; stderr %s", code, stderr)
			}
			r := decodeReport(t, out)
			if r.Tenant != tenant || r.Mode != "report" || r.Trigger != "cli" || !r.Complete ||
				r.Summary["user_missing"] != 2 || r.Summary["group_missing"] != 1 || r.Summary["membership_missing"] != 2 {
				t.Fatalf("report %+v", r)
			}
			// Without --detailed-exitcode a completed run exits 0.
			if _, stderr, code := cli(t, f.env, "reconcile", "--tenant", tenant); code != 0 {
				t.Fatalf("report without detailed exit code: %d %s", code, stderr)
			}

			// Correct with a limit too low: refused, drift remains.
			out, stderr, code = cli(t, f.env, "reconcile", "--tenant", tenant, "--mode", "correct", "--output", "json",
				"--detailed-exitcode", "--max-changes", "2")
			if code != exitDrift || !strings.Contains(stderr, "max_changes") {
				t.Fatalf("refused correct: exit %d, stderr %s", code, stderr)
			}
			// (guarded approval: the corrections are held as a plan too)
			if r := decodeReport(t, out); len(r.Applied) != 0 || len(r.Refused) != 2 || r.Refused[0].Guard != "max_changes" ||
				r.Refused[1].Guard != "approval" {
				t.Fatalf("refused correct report %+v", r)
			}

			// Correct: 5 corrections (2 users, 1 group, 2 memberships) → 0.
			out, stderr, code = cli(t, f.env, "reconcile", "--tenant", tenant, "--mode", "correct", "--output", "json", "--detailed-exitcode")
			if code != exitNoDrift {
				t.Fatalf("correct: exit %d; stderr %s\n%s", code, stderr, out)
			}
			if r := decodeReport(t, out); len(r.Applied) != 5 {
				t.Fatalf("correct applied %+v", r.Applied)
			}
			// The next report shows no drift (table form).
			out, stderr, code = cli(t, f.env, "reconcile", "--tenant", tenant, "--detailed-exitcode")
			if code != exitNoDrift || !strings.Contains(out, "none: AxonFlow matches Okta") {
				t.Fatalf("report after correct: exit %d\n%s\n%s", code, out, stderr)
			}
		})
	}
}

func TestReconcileCLIErrors(t *testing.T) {
	dataEnv := []string{"AXONFLOW_SYNC_DATA_DIR=" + t.TempDir()}
	f := newReconcileFixture(t, dataEnv, "acme", "wrong-token")
	// An incomplete read (Okta rejects the token): exit 1, the report says why.
	out, stderr, code := cli(t, f.env, "reconcile", "--tenant", "acme", "--output", "json", "--detailed-exitcode")
	if code != exitError || !strings.Contains(stderr, "did not complete") {
		t.Fatalf("bad token: exit %d, stderr %s", code, stderr)
	}
	if r := decodeReport(t, out); r.Complete || !strings.Contains(r.Reason, "unauthorized") || len(r.Drift) != 0 {
		t.Fatalf("incomplete report %+v", r)
	}
	cases := []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"reconcile", "--tenant", "nope"}, exitConfig, "tenant nope is not configured"},
		{[]string{"reconcile", "--tenant", "nope", "--detailed-exitcode"}, exitError, "tenant nope is not configured"},
		{[]string{"reconcile", "--tenant", "acme", "--mode", "fix"}, exitConfig, "report or correct"},
		{[]string{"reconcile", "--tenant", "acme", "--output", "yaml"}, exitConfig, "table or json"},
		{[]string{"reconcile"}, exitConfig, "--tenant"},
	}
	for _, c := range cases {
		_, stderr, code := cli(t, f.env, c.args...)
		if code != c.code || !strings.Contains(stderr, c.msg) {
			t.Errorf("%v: exit %d (want %d), stderr %q (want %q)", c.args, code, c.code, stderr, c.msg)
		}
	}
}

func adminReq(t *testing.T, method, url, token, body string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// TestServeReconcile: serve runs the schedule of one tenant, starts runs of
// another through the admin API (one at a time), keeps their reports and
// exports the reconcile metrics.
func TestServeReconcile(t *testing.T) {
	const adminToken = "adm_Reconcile_Test_Token_0123456789abcdefXYZ"
	f := newReconcileFixture(t, []string{"AXONFLOW_SYNC_DATA_DIR=" + t.TempDir(), "AXONFLOW_SYNC_ADMIN_TOKEN=" + adminToken},
		"acme", oktatest.DefaultToken)
	b, _ := os.ReadFile(f.config)
	sched := strings.Replace(strings.Replace(string(b), "tenants:\n  acme:", "  sched:", 1),
		"reconcile: {mode: report,", "reconcile: {schedule: \"@every 1s\", mode: report,", 1)
	if err := os.WriteFile(f.config, append(b, []byte(sched)...), 0o600); err != nil {
		t.Fatal(err)
	}
	d := startServe(t, f.env)
	base := "http://" + d.admin + "/admin/v1/tenants/"

	// The schedule runs tenant sched on its own.
	deadline := time.Now().Add(10 * time.Second)
	for {
		code, body := adminReq(t, "GET", base+"sched/reconcile/runs", adminToken, "")
		if code != 200 {
			t.Fatalf("GET runs: %d %s", code, body)
		}
		var list struct {
			Runs []cliReport `json:"runs"`
		}
		_ = json.Unmarshal(body, &list)
		if len(list.Runs) > 0 {
			if list.Runs[0].Trigger != "schedule" || list.Runs[0].Tenant != "sched" || list.Runs[0].Summary["user_missing"] != 2 {
				t.Fatalf("scheduled run %+v", list.Runs[0])
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no scheduled run after 10 s; log:\n%s", d.stderr.String())
		}
		time.Sleep(100 * time.Millisecond)
	}

	if code, _ := adminReq(t, "POST", base+"acme/reconcile", "", ""); code != 401 {
		t.Errorf("POST without the admin token: %d", code)
	}
	if code, body := adminReq(t, "POST", base+"nope/reconcile", adminToken, ""); code != 404 {
		t.Errorf("POST for an unconfigured tenant: %d %s", code, body)
	}
	// One run at a time: the second POST while the first runs is 409.
	fast := f.okta.SlowDown(oktatest.RouteAppUsers, 400*time.Millisecond)
	code, body := adminReq(t, "POST", base+"acme/reconcile", adminToken, `{"mode":"correct"}`)
	if code != 202 {
		t.Fatalf("POST reconcile: %d %s", code, body)
	}
	var started struct{ RunID, Status, Report string }
	_ = json.Unmarshal(body, &started)
	if started.RunID == "" || started.Status != "running" {
		t.Fatalf("202 body %s", body)
	}
	if code, body := adminReq(t, "POST", base+"acme/reconcile", adminToken, ""); code != 409 || !strings.Contains(string(body), started.RunID) {
		t.Errorf("concurrent POST: %d %s; want 409 naming run %s", code, body, started.RunID)
	}
	deadline = time.Now().Add(10 * time.Second)
	for {
		code, body = adminReq(t, "GET", "http://"+d.admin+started.Report, adminToken, "")
		if code == 200 {
			break
		}
		if code != 202 || time.Now().After(deadline) {
			t.Fatalf("GET %s: %d %s", started.Report, code, body)
		}
		time.Sleep(100 * time.Millisecond)
	}
	fast() // the scheduled runs of "sched" are short again
	r := decodeReport(t, string(body))
	if r.Mode != "correct" || r.Trigger != "api" || len(r.Applied) != 5 {
		t.Fatalf("API run report %+v", r)
	}
	if code, _ := adminReq(t, "GET", base+"acme/reconcile/runs/nope", adminToken, ""); code != 404 {
		t.Errorf("unknown run: %d", code)
	}

	resp, err := http.Get("http://" + d.admin + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, m := range []string{`axonflow_reconcile_runs_total{result="ok",tenant="sched"}`,
		`axonflow_reconcile_corrections_applied_total{action="create_user",tenant="acme"} 2`,
		`axonflow_reconcile_runs_total{result="busy",tenant="acme"} 1`,
		`axonflow_okta_api_calls_total{tenant="acme"}`, `axonflow_reconcile_last_success_timestamp_seconds{tenant="acme"}`} {
		if !strings.Contains(string(metrics), m) {
			t.Errorf("/metrics lacks %s", m)
		}
	}
	// serve's GC target (Memory and GC): 200 %, 50 % while a run holds
	// its lease; "sched" runs every second, so look until a scrape falls
	// between two of its runs.
	if os.Getenv("GOGC") == "" {
		var seen []string
		for deadline := time.Now().Add(5 * time.Second); ; {
			resp, err := http.Get("http://" + d.admin + "/metrics")
			if err != nil {
				t.Fatal(err)
			}
			m, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			v := regexp.MustCompile(`\ngo_gc_gogc_percent (\S+)\n`).FindSubmatch(m)
			if v == nil {
				t.Fatal("/metrics lacks go_gc_gogc_percent")
			}
			if seen = append(seen, string(v[1])); string(v[1]) == "200" {
				break
			}
			if string(v[1]) != "50" || time.Now().After(deadline) {
				t.Fatalf("go_gc_gogc_percent %v; want 200 between runs (50 during one)", seen)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
}

// TestReconcileGCTarget: a reconcile run lowers the GC target to
// reconcileGCPercent, and serve raises it to serveGCPercent, unless GOGC
// is set; each restores it afterwards.
func TestReconcileGCTarget(t *testing.T) {
	prev := debug.SetGCPercent(100)
	defer debug.SetGCPercent(prev)
	restore := reconcileGC(func(string) string { return "" })
	if got := debug.SetGCPercent(reconcileGCPercent); got != reconcileGCPercent {
		t.Errorf("GC target during the run %d; want %d", got, reconcileGCPercent)
	}
	restore()
	if got := debug.SetGCPercent(100); got != 100 {
		t.Errorf("GC target after the run %d; want 100 restored", got)
	}
	restore = reconcileGC(func(k string) string { return map[string]string{"GOGC": "200"}[k] })
	if got := debug.SetGCPercent(100); got != 100 {
		t.Errorf("GC target with GOGC=200 set %d; want it left alone", got)
	}
	restore()
	// serve's, the same way.
	restore = gcTarget(func(string) string { return "" }, serveGCPercent)
	if got := debug.SetGCPercent(serveGCPercent); got != serveGCPercent {
		t.Errorf("GC target of serve %d; want %d", got, serveGCPercent)
	}
	restore()
	if got := debug.SetGCPercent(100); got != 100 {
		t.Errorf("GC target after serve %d; want 100 restored", got)
	}
}
