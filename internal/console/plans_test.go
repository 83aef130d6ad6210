package console_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	gosync "sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/axonflow/axonflow-sync/config"
	"github.com/axonflow/axonflow-sync/internal/admin"
	"github.com/axonflow/axonflow-sync/internal/console"
	"github.com/axonflow/axonflow-sync/store"
)

// fakePlans is one held plan in memory; approving item "i2" finds it no
// longer holds (stale), as the reconciler does when Okta changed since.
type fakePlans struct {
	mu        gosync.Mutex
	plan      console.PlanView
	decisions []string // "approve i1 by console:token"
}

func newFakePlans() *fakePlans {
	now := time.Now().UTC()
	return &fakePlans{plan: console.PlanView{ID: "plan-1", Status: "held", RunID: "run-1", CreatedAt: now, ExpiresAt: now.Add(72 * time.Hour),
		Items: []console.PlanItemView{
			{ID: "i1", Action: "deactivate_user", Kind: "user_orphaned", UserName: "ann@example.com", Reason: "max_changes: 4 corrections, limit 2", Status: "pending"},
			{ID: "i2", Action: "deactivate_user", Kind: "user_orphaned", UserName: "bob@example.com", Reason: "max_changes: 4 corrections, limit 2", Status: "pending"},
			{ID: "i3", Action: "remove_member", Kind: "membership_extra", UserName: "carl@example.com", DisplayName: "Developers", Reason: "max_changes: 4 corrections, limit 2", Status: "pending"},
			{ID: "i4", Action: "delete_group", Kind: "group_orphaned", DisplayName: "Old Team", Reason: "max_changes: 4 corrections, limit 2", Status: "pending"},
		}}}
}

func (f *fakePlans) ListPlans(ctx context.Context, tenant string) ([]console.PlanView, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	p := f.plan
	p.Pending = p.PendingItems()
	return []console.PlanView{p}, nil
}

func (f *fakePlans) GetPlan(ctx context.Context, tenant, id string) (console.PlanView, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if id != f.plan.ID {
		return console.PlanView{}, store.ErrNotFound
	}
	p := f.plan
	p.Items = slices.Clone(p.Items)
	return p, nil
}

func (f *fakePlans) DecidePlan(ctx context.Context, tenant, id string, approve bool, items []string) (console.PlanView, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	verb := map[bool]string{true: "approve", false: "reject"}[approve]
	f.decisions = append(f.decisions, fmt.Sprintf("%s %s by %s", verb, strings.Join(items, ","), admin.OperatorOf(ctx)))
	for i, it := range f.plan.Items {
		if it.Status != "pending" || (items != nil && !slices.Contains(items, it.ID)) {
			continue
		}
		it.DecidedBy, it.DecidedAt = admin.OperatorOf(ctx), time.Now()
		switch {
		case !approve:
			it.Status = "rejected"
		case it.ID == "i2":
			it.Status, it.Reason = "stale", "no longer holds: Okta assigns bob@example.com again"
		default:
			it.Status = "applied"
		}
		f.plan.Items[i] = it
	}
	return f.plan, nil
}

func (f *fakePlans) Explain(ctx context.Context, tenant, userName string) ([]string, error) {
	return []string{"Okta: " + userName + " is ACTIVE and assigned to the app (scope USER).", "Decision: the user should have access."}, nil
}

func (f *fakePlans) status(id string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, it := range f.plan.Items {
		if it.ID == id {
			return it.Status
		}
	}
	return ""
}

func (f *fakePlans) log() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.decisions)
}

// TestBrowserPlanReview partly approves a held plan: one item by its
// button, one kind by the kind's button, one item by its checkbox; an item
// that no longer holds is shown stale with why; the rest stays pending.
func TestBrowserPlanReview(t *testing.T) {
	plans := newFakePlans()
	f := newFixtureWith(t, backends(t)["sqlite"](t), config.ConsoleConfig{}, func(o *console.Options) { o.Plans = plans })
	f.seed()
	ctx := browser(t)
	f.browserSignIn(ctx)
	if got := textOf(t, ctx, "main"); !strings.Contains(got, "Pending plan items") || !strings.Contains(got, "4") {
		t.Errorf("overview without the pending items:\n%s", got)
	}
	run(t, ctx, "tenant page → plan", chromedp.Navigate(f.srv.URL+"/ui/tenants/acme"),
		chromedp.WaitVisible(chromedp.CSS(`a[href="/ui/tenants/acme/plans/plan-1"]`)),
		chromedp.Click(chromedp.CSS(`a[href="/ui/tenants/acme/plans/plan-1"]`)),
		chromedp.WaitVisible(chromedp.CSS("#approve-i1")))
	submitAndWait(t, ctx, "approve one item", chromedp.Click(chromedp.CSS("#approve-i1")), "#done")
	submitAndWait(t, ctx, "reject a kind", chromedp.Click(chromedp.CSS("#reject-kind-membership_extra")), "#done")
	submitAndWait(t, ctx, "approve the selected", chromedp.Steps(chromedp.Click(chromedp.CSS("#sel-i2")), chromedp.Click(chromedp.CSS("#approve-selected"))), "#done")
	if got := textOf(t, ctx, "#done"); !strings.Contains(got, "1 no longer held and became stale") {
		t.Errorf("done notice = %q", got)
	}
	if got := textOf(t, ctx, "#item-i2"); !strings.Contains(got, "stale") || !strings.Contains(got, "Okta assigns bob@example.com again") {
		t.Errorf("stale item row = %q", got)
	}
	want := []string{"approve i1 by console:token", "reject i3 by console:token", "approve i2 by console:token"}
	if got := plans.log(); !slices.Equal(got, want) {
		t.Errorf("decisions = %q, want %q", got, want)
	}
	for id, st := range map[string]string{"i1": "applied", "i2": "stale", "i3": "rejected", "i4": "pending"} {
		if got := plans.status(id); got != st {
			t.Errorf("item %s: %s, want %s", id, got, st)
		}
	}
	// The user page shows the reconciler's explanation.
	run(t, ctx, "user page", chromedp.Navigate(f.srv.URL+"/ui/tenants/acme/users/ann@example.com"), chromedp.WaitVisible(chromedp.CSS("#reconcile-explanation")))
	if got := textOf(t, ctx, "#reconcile-explanation"); !strings.Contains(got, "ann@example.com is ACTIVE and assigned") {
		t.Errorf("explanation = %q", got)
	}
}

// TestBrowserPlanKeyboard decides plan items with the keyboard only: Tab
// reaches every control in order with a visible focus ring, Space checks a
// box and Enter presses a button.
func TestBrowserPlanKeyboard(t *testing.T) {
	plans := newFakePlans()
	f := newFixtureWith(t, backends(t)["sqlite"](t), config.ConsoleConfig{}, func(o *console.Options) { o.Plans = plans })
	ctx := browser(t)
	f.browserSignIn(ctx)
	run(t, ctx, "plan page", chromedp.Navigate(f.srv.URL+"/ui/tenants/acme/plans/plan-1"), chromedp.WaitVisible(chromedp.CSS("#approve-i1")))
	tabTo := func(id string) {
		t.Helper()
		for range 80 {
			run(t, ctx, "tab", chromedp.KeyEvent(kb.Tab))
			focused, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.activeElement ? document.activeElement.id : ""`))
			if err != nil {
				t.Fatal(err)
			}
			if focused == id {
				ring, err := chromedp.Run(ctx, chromedp.Evaluate[string](`getComputedStyle(document.activeElement).outlineStyle`))
				if err != nil || ring == "none" {
					t.Errorf("#%s has focus but no visible focus ring (outline %q, %v)", id, ring, err)
				}
				return
			}
		}
		t.Fatalf("Tab never reached #%s", id)
	}
	tabTo("reject-i4")
	submitAndWait(t, ctx, "Enter rejects", chromedp.KeyEvent(kb.Enter), "#done")
	tabTo("sel-i1")
	run(t, ctx, "Space selects", chromedp.KeyEvent(" "))
	tabTo("approve-selected")
	submitAndWait(t, ctx, "Enter approves the selected", chromedp.KeyEvent(kb.Enter), "#done")
	want := []string{"reject i4 by console:token", "approve i1 by console:token"}
	if got := plans.log(); !slices.Equal(got, want) {
		t.Errorf("decisions = %q, want %q", got, want)
	}
}

// TestPlanDecisionNamesOneButton: a crafted POST naming an item together
// with all (or a kind) is refused and decides nothing (it used to be
// widened to every pending item); one button decides as before.
func TestPlanDecisionNamesOneButton(t *testing.T) {
	plans := newFakePlans()
	f := newFixtureWith(t, backends(t)["sqlite"](t), config.ConsoleConfig{}, func(o *console.Options) { o.Plans = plans })
	c := f.client()
	csrf := f.signIn(c)
	path := "/ui/tenants/" + f.tenant + "/plans/plan-1/reject"
	for _, form := range []url.Values{
		{"csrf": {csrf}, "item": {"i3"}, "all": {"1"}},
		{"csrf": {csrf}, "item": {"i3"}, "kind": {"user_orphaned"}},
		{"csrf": {csrf}, "kind": {"user_orphaned"}, "all": {"1"}},
	} {
		if res := f.post(c, path, form); res.StatusCode != http.StatusBadRequest {
			t.Errorf("POST %v: %d, want 400", form, res.StatusCode)
		}
	}
	if d := plans.log(); len(d) != 0 {
		t.Fatalf("a refused request decided %v", d)
	}
	if res := f.post(c, path, url.Values{"csrf": {csrf}, "item": {"i3"}}); res.StatusCode != http.StatusSeeOther || plans.status("i3") != "rejected" || plans.status("i1") != "pending" {
		t.Fatalf("one item: %d, i3 %s, i1 %s", res.StatusCode, plans.status("i3"), plans.status("i1"))
	}
}
