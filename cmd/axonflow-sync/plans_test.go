package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/axonflow/axonflow-sync/sync/oktatest"
)

// TestReconcileReviewCLI: a run over its limit holds a plan; plans, plan,
// approve (some items), reject (the rest) and explain work from the CLI
// with the pinned JSON fields, and decisions name the CLI operator.
func TestReconcileReviewCLI(t *testing.T) {
	storeEnv := []string{"AXONFLOW_SYNC_DATA_DIR=" + t.TempDir(), "USER=ada"}
	f := newReconcileFixture(t, storeEnv, "acme", oktatest.DefaultToken)
	if _, stderr, code := cli(t, f.env, "token", "create", "--tenant", "acme"); code != 0 {
		t.Fatalf("token create: %s", stderr) // creates the tenant
	}
	out, stderr, code := cli(t, f.env, "reconcile", "--tenant", "acme", "--mode", "correct", "--max-changes", "2", "--output", "json")
	var rep struct {
		PlanID string `json:"planId"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil || code != 0 || rep.PlanID == "" {
		t.Fatalf("held run: exit %d %v %s\n%s", code, err, stderr, out)
	}
	out, stderr, code = cli(t, f.env, "reconcile", "plans", "--tenant", "acme", "--status", "pending", "--output", "json")
	var list struct {
		Plans []map[string]any `json:"plans"`
	}
	if err := json.Unmarshal([]byte(out), &list); err != nil || code != 0 || len(list.Plans) != 1 {
		t.Fatalf("plans: exit %d %v %s\n%s", code, err, stderr, out)
	}
	for _, k := range []string{"id", "status", "runId", "createdAt", "expiresAt", "items", "pending"} {
		if _, ok := list.Plans[0][k]; !ok {
			t.Errorf("plans JSON lacks %s", k)
		}
	}
	if list.Plans[0]["id"] != rep.PlanID || list.Plans[0]["pending"] != float64(5) {
		t.Fatalf("plans %v", list.Plans)
	}
	type item struct {
		ID, Action, Kind, UserName, DisplayName, OktaID, AxonflowID, Reason, Status, DecidedBy string
	}
	plan := func() (status string, items []item) {
		t.Helper()
		out, stderr, code := cli(t, f.env, "reconcile", "plan", "--tenant", "acme", rep.PlanID, "--output", "json")
		var p struct {
			ID     string `json:"id"`
			Status string `json:"status"`
			Items  []item `json:"items"`
		}
		if err := json.Unmarshal([]byte(out), &p); err != nil || code != 0 || p.ID != rep.PlanID {
			t.Fatalf("plan: exit %d %v %s\n%s", code, err, stderr, out)
		}
		return p.Status, p.Items
	}
	status, items := plan()
	if status != "pending" || len(items) != 5 {
		t.Fatalf("plan %s %+v", status, items)
	}
	var approve []string
	for _, it := range items {
		if it.Action == "create_user" || it.Action == "create_group" {
			approve = append(approve, "--item", it.ID)
		}
	}
	// Flags may follow the plan id.
	args := append([]string{"reconcile", "approve", "--tenant", "acme", rep.PlanID}, approve...)
	out, stderr, code = cli(t, f.env, args...)
	if code != 0 || !strings.Contains(out, "approved items") {
		t.Fatalf("approve: exit %d %s\n%s", code, stderr, out)
	}
	_, items = plan()
	applied := 0
	for _, it := range items {
		switch {
		case it.Status == "applied" && it.DecidedBy == "cli:ada":
			applied++
		case it.Status != "pending":
			t.Errorf("item %+v", it)
		}
	}
	if applied != 3 {
		t.Fatalf("applied %d items; want the 3 approved (2 users, 1 group): %+v", applied, items)
	}
	if out, stderr, code = cli(t, f.env, "reconcile", "reject", "--tenant", "acme", rep.PlanID); code != 0 || !strings.Contains(out, "rejected items") {
		t.Fatalf("reject: exit %d %s\n%s", code, stderr, out)
	}
	if status, _ := plan(); status != "done" {
		t.Fatalf("plan status after reject %s", status)
	}
	if _, stderr, code := cli(t, f.env, "reconcile", "approve", "--tenant", "acme"); code != exitConfig || !strings.Contains(stderr, "PLAN_ID") {
		t.Errorf("approve without a plan: exit %d %s", code, stderr)
	}
	if _, stderr, code := cli(t, f.env, "reconcile", "reject", "--tenant", "acme", rep.PlanID); code != exitFail || !strings.Contains(stderr, "no items to decide") {
		t.Errorf("reject a settled plan: exit %d %s", code, stderr)
	}
	out, stderr, code = cli(t, f.env, "reconcile", "explain", "--tenant", "acme", "--user", "bob@example.com")
	if code != 0 || !strings.Contains(out, "app_assignment") || !strings.Contains(out, "membership_missing") {
		t.Fatalf("explain: exit %d %s\n%s", code, stderr, out)
	}
	if out, stderr, code := cli(t, f.env, "log", "--tenant", "acme", "--actor", "operator", "--output", "json"); code != 0 ||
		!strings.Contains(out, "approve_correction") || !strings.Contains(out, "reject_correction") || !strings.Contains(out, "cli:ada") {
		t.Errorf("log of decisions: exit %d %s\n%s", code, stderr, out)
	}
}
