package console_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/axonflow/axonflow-sync/config"
	"github.com/axonflow/axonflow-sync/internal/admin"
	"github.com/axonflow/axonflow-sync/internal/console"
	"github.com/axonflow/axonflow-sync/sync"
	"github.com/axonflow/axonflow-sync/sync/oktatest"
)

// TestBrowserReportAndMissingUser runs a report from the tenant page
// against a fake Okta org, finds the drift of a user Okta assigns but
// AxonFlow lacks, and follows it to the page that says why the user is
// missing.
func TestBrowserReportAndMissingUser(t *testing.T) {
	okta := oktatest.New()
	t.Cleanup(okta.Close)
	ada := okta.AddUser(oktatest.User{Email: "ada@example.com", FirstName: "Ada", LastName: "Lovelace"})
	okta.AssignUser(oktatest.DefaultAppID, ada, oktatest.ScopeUser, "")

	st := backends(t)["sqlite"](t)
	cfg := &config.Config{Tenants: map[string]config.TenantConfig{"acme": {
		Okta:      &config.OktaConfig{OrgURL: okta.URL, AppID: oktatest.DefaultAppID, APIToken: oktatest.DefaultToken, AllowInsecureHTTP: true},
		Reconcile: config.ReconcileConfig{Mode: "report", MaxChanges: 50, MaxChangePercent: 10},
	}}}
	rc, err := admin.StartReconciler(cfg, st, prometheus.NewRegistry(), zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rc.Stop(context.Background()) })
	f := newFixtureWith(t, st, config.ConsoleConfig{}, func(o *console.Options) { o.Config, o.Reconciler = cfg, rc })
	f.seed()

	ctx := browser(t)
	f.browserSignIn(ctx)
	run(t, ctx, "run a report", chromedp.Navigate(f.srv.URL+"/ui/tenants/acme"), chromedp.WaitVisible(chromedp.CSS("#run-report")),
		chromedp.Click(chromedp.CSS("#run-report")), chromedp.WaitVisible(chromedp.CSS(".notice.ok")))
	for i := 0; ; i++ { // the run is asynchronous: wait until its report is stored
		runs, err := rc.ListRuns(context.Background(), "acme", 1)
		if err != nil {
			t.Fatal(err)
		}
		if len(runs) == 1 {
			if runs[0].Trigger != sync.TriggerConsole {
				t.Errorf("a run started from the console has trigger %q, want %q", runs[0].Trigger, sync.TriggerConsole)
			}
			break
		}
		if i == 400 {
			t.Fatal("the report run did not finish")
		}
		time.Sleep(50 * time.Millisecond)
	}
	run(t, ctx, "search the drift", chromedp.Navigate(f.srv.URL+"/ui/tenants/acme"), chromedp.WaitVisible(chromedp.CSS("#q")),
		chromedp.SendKeys(chromedp.CSS("#q"), "ada"), chromedp.Submit(chromedp.CSS("#q")),
		// The answer page: its search box carries the query in its value
		// attribute (typing sets only the property), so the unfiltered page
		// still on screen right after the submit does not satisfy the wait.
		chromedp.WaitVisible(chromedp.CSS(`#q[value="ada"]`)), chromedp.WaitVisible(chromedp.CSS("#drift-user_missing")))
	if got := textOf(t, ctx, "main"); !strings.Contains(got, "ada@example.com") || strings.Contains(got, "ann@example.com") {
		t.Errorf("drift search for ada:\n%s", got)
	}
	run(t, ctx, "follow the user", chromedp.Click(chromedp.CSS(`#drift-user_missing a`)), chromedp.WaitVisible(chromedp.CSS("#explanation")))
	got := textOf(t, ctx, "main")
	for _, want := range []string{"No user “ada@example.com”", "never_pushed", "user_missing"} {
		if !strings.Contains(got, want) {
			t.Errorf("missing-user page lacks %q:\n%s", want, got)
		}
	}
	// The reconciler's explanation, read from Okta now: ada is assigned and
	// should have access, but has no AxonFlow user.
	if got := textOf(t, ctx, "#reconcile-explanation"); !strings.Contains(got, "access") || !strings.Contains(got, "ada@example.com") {
		t.Errorf("reconciler's explanation of ada:\n%s", got)
	}
	// The overview shows the run.
	run(t, ctx, "overview", chromedp.Navigate(f.srv.URL+"/ui/"), chromedp.WaitVisible(chromedp.CSS("h1")))
	if got := textOf(t, ctx, "main"); !strings.Contains(got, "complete") || !strings.Contains(got, "user_missing 1") {
		t.Errorf("overview after the run:\n%s", got)
	}
}

// TestBrowserApprovePartOfHeldPlan: a correcting run with reconcile.approval
// all holds its corrections as a plan (internal/admin's plan functions, the
// real reconciler and the fake Okta); the tenant page links it; approving
// one of its two user creations on the plan page applies exactly that one.
func TestBrowserApprovePartOfHeldPlan(t *testing.T) {
	for name, open := range backends(t) {
		t.Run(name, func(t *testing.T) {
			okta := oktatest.New()
			t.Cleanup(okta.Close)
			ada := okta.AddUser(oktatest.User{Email: "ada@example.com", FirstName: "Ada", LastName: "Lovelace"})
			okta.AssignUser(oktatest.DefaultAppID, ada, oktatest.ScopeUser, "")
			eve := okta.AddUser(oktatest.User{Email: "eve@example.com", FirstName: "Eve", LastName: "Example"})
			okta.AssignUser(oktatest.DefaultAppID, eve, oktatest.ScopeUser, "")
			st := open(t)
			f := newFixtureWith(t, st, config.ConsoleConfig{}, nil)
			tc := config.TenantConfig{
				Okta:      &config.OktaConfig{OrgURL: okta.URL, AppID: oktatest.DefaultAppID, APIToken: oktatest.DefaultToken, AllowInsecureHTTP: true},
				Reconcile: config.ReconcileConfig{Mode: "correct", MaxChanges: 50, MaxChangePercent: 100, Approval: config.ApprovalAll, PlanTTL: 72 * time.Hour},
			}
			cfg := &config.Config{Tenants: map[string]config.TenantConfig{f.tenant: tc}}
			rc, err := admin.StartReconciler(&config.Config{}, st, prometheus.NewRegistry(), zerolog.Nop())
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = rc.Stop(context.Background()) })
			c, err := console.New(context.Background(), console.Options{Store: st, AdminToken: f.token, Config: cfg, Reconciler: rc, Logger: zerolog.Nop()})
			if err != nil {
				t.Fatal(err)
			}
			f.srv.Config.Handler = c
			f.seed()

			opts, err := admin.ReconcileOptions(f.tenant, tc, admin.ReconcileRequest{Mode: "correct", Trigger: "api"})
			if err != nil {
				t.Fatal(err)
			}
			r, err := rc.Start(context.Background(), opts)
			if err != nil {
				t.Fatal(err)
			}
			<-r.Done()
			plans, err := admin.ListPlans(context.Background(), rc.Runner(), f.tenant, "")
			if err != nil || len(plans.Plans) != 1 {
				t.Fatalf("plans after the run = %+v, %v", plans, err)
			}
			p, err := admin.GetPlan(context.Background(), rc.Runner(), f.tenant, plans.Plans[0].ID)
			if err != nil {
				t.Fatal(err)
			}
			var annItem string // ada's creation
			for _, it := range p.Items {
				if it.UserName == "ada@example.com" && it.Status == "pending" {
					annItem = it.ID
				}
			}
			if annItem == "" || len(p.Items) != 2 {
				t.Fatalf("want pending creations of ada and eve, got %+v", p.Items)
			}

			ctx := browser(t)
			f.browserSignIn(ctx)
			planLink := `a[href="/ui/tenants/` + f.tenant + `/plans/` + p.ID + `"]`
			run(t, ctx, "tenant page → plan", chromedp.Navigate(f.srv.URL+"/ui/tenants/"+f.tenant), chromedp.WaitVisible(chromedp.CSS(planLink)),
				chromedp.Click(chromedp.CSS(planLink)), chromedp.WaitVisible(chromedp.CSS("#approve-"+annItem)))
			submitAndWait(t, ctx, "approve ada's creation", chromedp.Click(chromedp.CSS("#approve-"+annItem)), "#done")
			if got := textOf(t, ctx, "#item-"+annItem); !strings.Contains(got, "applied") || !strings.Contains(got, "console:token") {
				t.Errorf("ada's item after approval: %q", got)
			}
			if _, err := admin.FindUser(context.Background(), st, f.tenant, "ada@example.com"); err != nil {
				t.Errorf("ada after approval: %v", err)
			}
			if _, err := admin.FindUser(context.Background(), st, f.tenant, "eve@example.com"); err == nil {
				t.Error("eve was created without approval")
			}
			if got := textOf(t, ctx, "main"); !strings.Contains(got, "1 of 2 items wait") {
				t.Errorf("plan page after the approval:\n%s", got)
			}
		})
	}
}
