package sync

import (
	"strings"
	"testing"

	"github.com/axonflow/axonflow-sync/mapping"
	"github.com/axonflow/axonflow-sync/sync/oktatest"
)

func stepOf(t *testing.T, x *Explanation, name string) ExplainStep {
	t.Helper()
	for _, s := range x.Steps {
		if s.Step == name {
			return s
		}
	}
	t.Fatalf("no step %s in %+v", name, x.Steps)
	return ExplainStep{}
}

func wantStep(t *testing.T, x *Explanation, name, result, detail string) {
	t.Helper()
	s := stepOf(t, x, name)
	if !strings.Contains(s.Result, result) || !strings.Contains(s.Detail, detail) {
		t.Errorf("%s %s step %s: %q / %q; want %q / %q", x.Kind, x.Name, name, s.Result, s.Detail, result, detail)
	}
}

// TestExplain: the steps for an assigned user missing in AxonFlow, an
// unassigned user AxonFlow has, a suspended user, and a group.
func TestExplain(t *testing.T) {
	allBackends(t, func(t *testing.T, backend string) {
		e := newEnv(t, backend)
		explain := func(user, group string) *Explanation {
			t.Helper()
			x, err := e.runner.Explain(e.ctx, ExplainOptions{Run: e.options(ModeReport), User: user, Group: group})
			if err != nil {
				t.Fatalf("explain %s%s: %v", user, group, err)
			}
			return x
		}
		// Assigned but missing, through a group in scope.
		ada := e.okta.AddUser(oktatestUser("ada@example.com"))
		eng := e.oktaGroup("Engineering", ada)
		x := explain("ada@example.com", "")
		wantStep(t, x, "okta_user", "status ACTIVE", ada)
		wantStep(t, x, "app_assignment", "through a group (scope GROUP)", "app user status ACTIVE")
		wantStep(t, x, "group_memberships", "1 groups, 1 in scope", "Engineering (assigned to the app)")
		wantStep(t, x, "access", "should have access", "")
		wantStep(t, x, "match", "none", "no AxonFlow user")
		wantStep(t, x, "drift", "", "user_missing")
		wantStep(t, x, "correction", "create_user", "Okta assigns the user")
		if x.ShouldHaveAccess == nil || !*x.ShouldHaveAccess || x.OktaID != ada {
			t.Errorf("explanation %+v", x)
		}

		// Unassigned: Okta knows the person, the app does not; AxonFlow has
		// the user active (pushed earlier) → deactivation.
		bob := e.okta.AddUser(oktatestUser("bob@example.com"))
		bobAx := e.pushUser(bob, "bob@example.com", "Bob", "B", true, mapping.OriginOktaPush)
		x = explain("bob@example.com", "")
		wantStep(t, x, "app_assignment", "not assigned", "")
		wantStep(t, x, "access", "no access", "not assigned")
		wantStep(t, x, "match", "AxonFlow user "+bobAx, "")
		wantStep(t, x, "drift", "", "user_orphaned")
		wantStep(t, x, "correction", "deactivate_user", "does not assign")

		// Suspended in Okta, assigned directly, active in AxonFlow.
		cy := e.okta.AddUser(oktatestUserStatus("cy@example.com", "SUSPENDED"))
		e.okta.AssignUser(app, cy, "USER", "")
		cyAx := e.pushUser(cy, "cy@example.com", "Cy", "C", true, mapping.OriginOktaPush)
		x = explain("cy@example.com", "")
		wantStep(t, x, "okta_user", "status SUSPENDED", "")
		wantStep(t, x, "app_assignment", "directly (scope USER)", "")
		wantStep(t, x, "access", "no access", "Okta user SUSPENDED")
		wantStep(t, x, "match", "AxonFlow user "+cyAx, "rule 1")
		wantStep(t, x, "drift", "", "user_status active")
		wantStep(t, x, "correction", "update_user", "no longer gives the user access")
		// A pending plan item holds it (approval all).
		opts := e.options(ModeCorrect)
		opts.Approval = ApprovalAll
		rep, err := e.runner.Run(e.ctx, opts)
		if err != nil || rep.PlanID == "" {
			t.Fatalf("held run: %v", err)
		}
		x = explain("cy@example.com", "")
		wantStep(t, x, "holds", "", "plan "+rep.PlanID)

		// A group in scope, pushed under its name.
		gAx := e.pushGroup("Engineering", mapping.OriginOktaPush, "")
		x = explain("", "engineering")
		wantStep(t, x, "okta_group", "Engineering", eng)
		wantStep(t, x, "scope", "in scope", "assigned to the app")
		wantStep(t, x, "match", "AxonFlow group "+gAx, "rule 2")
		wantStep(t, x, "correction", "link_group", "")
		// An AxonFlow group Okta does not have.
		e.pushGroup("Old Team", mapping.OriginOktaPush, "")
		x = explain("", "Old Team")
		wantStep(t, x, "okta_group", "not found", "")
		wantStep(t, x, "drift", "", "group_orphaned")
		wantStep(t, x, "correction", "delete_group", "")
	})
}

func oktatestUser(login string) oktatest.User { return oktatestUserStatus(login, "") }

func oktatestUserStatus(login, status string) oktatest.User {
	return oktatest.User{Login: login, Email: login, FirstName: strings.ToUpper(login[:1]), LastName: "X", Status: status}
}
