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
			break
		}
		if i == 400 {
			t.Fatal("the report run did not finish")
		}
		time.Sleep(50 * time.Millisecond)
	}
	run(t, ctx, "search the drift", chromedp.Navigate(f.srv.URL+"/ui/tenants/acme"), chromedp.WaitVisible(chromedp.CSS("#q")),
		chromedp.SendKeys(chromedp.CSS("#q"), "ada"), chromedp.Submit(chromedp.CSS("#q")), chromedp.WaitVisible(chromedp.CSS("#drift-user_missing")))
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
	// The overview shows the run.
	run(t, ctx, "overview", chromedp.Navigate(f.srv.URL+"/ui/"), chromedp.WaitVisible(chromedp.CSS("h1")))
	if got := textOf(t, ctx, "main"); !strings.Contains(got, "complete") || !strings.Contains(got, "user_missing 1") {
		t.Errorf("overview after the run:\n%s", got)
	}
}
