package sync

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/axonflow/axonflow-sync/mapping"
	"github.com/axonflow/axonflow-sync/sync/oktasource"
	"github.com/axonflow/axonflow-sync/sync/oktatest"
)

// expectIncomplete runs a correcting run and checks that it reports an
// incomplete read with reason, no drift and no writes.
func expectIncomplete(t *testing.T, e *env, reason string) *Report {
	t.Helper()
	before := e.snapshot()
	rep, err := e.runner.Run(e.ctx, e.options(ModeCorrect))
	if !errors.Is(err, ErrIncomplete) {
		t.Fatalf("run error %v; want ErrIncomplete", err)
	}
	if rep == nil || rep.Complete || !strings.Contains(rep.IncompleteReason, reason) {
		t.Fatalf("report complete=%v reason %q; want incomplete with %q", rep.Complete, rep.IncompleteReason, reason)
	}
	if len(rep.Drift) != 0 || len(rep.Applied) != 0 || rep.Remaining() != 0 {
		t.Fatalf("incomplete run has drift %d applied %d", len(rep.Drift), len(rep.Applied))
	}
	sameSnapshot(t, "incomplete run", before, e.snapshot())
	if _, err := e.runner.GetRun(e.ctx, e.tenant, rep.RunID); err != nil {
		t.Errorf("incomplete run not stored: %v", err)
	}
	return rep
}

// mirrorUsers stores the Okta app users with the given ids as push created
// them, reading their profile from a complete pull.
func mirrorUsers(e *env, every int) int {
	e.t.Helper()
	c, err := oktasource.New(e.oktaConfig(), testLogger(e.t))
	if err != nil {
		e.t.Fatal(err)
	}
	users, err := c.ListAppUsers(e.ctx)
	if err != nil {
		e.t.Fatal(err)
	}
	n := 0
	for i, u := range users {
		if i%every == 0 {
			e.pushUser(u.ID, u.UserName, firstOf(u), lastOf(u), true, mapping.OriginOktaPush)
			n++
		}
	}
	return n
}

func firstOf(u oktasource.AppUser) string { s, _ := u.Profile["given_name"].(string); return s }
func lastOf(u oktasource.AppUser) string  { s, _ := u.Profile["family_name"].(string); return s }

func TestServerErrorOnPage3Of5RemovesNothing(t *testing.T) {
	allBackends(t, func(t *testing.T, backend string) {
		e := newEnv(t, backend)
		e.okta.Seed(oktatest.GenOptions{Users: 2100, DirectShare: 1}) // 5 pages of 500
		mirrored := mirrorUsers(e, 20)
		// A complete run finds the mirrored users in place.
		rep := e.run(ModeReport)
		if count(rep, KindUserOrphaned) != 0 || count(rep, KindUserMissing) != 2100-mirrored {
			t.Fatalf("baseline: %v", kinds(rep))
		}
		e.okta.ResetCounters()
		e.okta.FailNth(oktatest.RouteAppUsers, 3, -1, 503) // page 3 and later: 503, retries too
		rep = expectIncomplete(t, e, "server_error")
		if got := e.okta.Calls(oktatest.RouteAppUsers); got != 2+4 {
			t.Errorf("app user requests %d; want 2 pages + page 3 four times (1 + 3 retries)", got)
		}
		if rep.Okta.Retries != 3 || rep.Okta.APICalls < 6 {
			t.Errorf("okta traffic %+v", rep.Okta)
		}
	})
}

func TestRepeatedCursorIsIncomplete(t *testing.T) {
	allBackends(t, func(t *testing.T, backend string) {
		e := newEnv(t, backend)
		e.okta.Seed(oktatest.GenOptions{Users: 600, DirectShare: 1})
		e.pushUser("00uGONE0000000000000", "gone@example.com", "G", "One", true, mapping.OriginOktaPush)
		e.okta.RepeatCursorFrom(oktatest.RouteAppUsers, 2)
		expectIncomplete(t, e, "repeated_cursor")
	})
}

func TestPageCapIsIncomplete(t *testing.T) {
	allBackends(t, func(t *testing.T, backend string) {
		e := newEnv(t, backend)
		e.okta.Seed(oktatest.GenOptions{Users: 600, DirectShare: 1})
		e.pushUser("00uGONE0000000000000", "gone@example.com", "G", "One", true, mapping.OriginOktaPush)
		e.cfg = func(c *oktasource.Config) { c.PageCap = 1 }
		expectIncomplete(t, e, "page_cap")
		// Endless next links on group members hit the (default) cap too.
		e.cfg = func(c *oktasource.Config) { c.PageCap = 5 }
		g := e.oktaGroup("Endless")
		_ = g
		e.okta.EndlessPaging(oktatest.RouteGroupUsers)
		expectIncomplete(t, e, "page_cap")
	})
}

func TestEmptySourceRefuses(t *testing.T) {
	allBackends(t, func(t *testing.T, backend string) {
		e := newEnv(t, backend) // the app exists but has no assignments
		for i := range 3 {
			e.pushUser(fmt.Sprintf("00uUSER%013d", i), fmt.Sprintf("u%d@example.com", i), "U", "Ser", true, mapping.OriginOktaPush)
		}
		e.pushGroup("Team", mapping.OriginOktaPush, "")
		before := e.snapshot()
		rep, err := e.runner.Run(e.ctx, e.options(ModeCorrect))
		if err != nil {
			t.Fatal(err)
		}
		if !rep.Complete || count(rep, KindUserOrphaned) != 3 || count(rep, KindGroupOrphaned) != 1 {
			t.Fatalf("report %v", kinds(rep))
		}
		if len(rep.Refused) != 2 || rep.PlanID == "" || rep.Refused[1].Guard != GuardApproval || rep.Refused[0].Guard != GuardEmptySource || rep.Refused[0].Corrections != 4 {
			t.Fatalf("refused %+v", rep.Refused)
		}
		if len(rep.Applied) != 0 || rep.Remaining() != 4 {
			t.Fatalf("applied %d remaining %d", len(rep.Applied), rep.Remaining())
		}
		sameSnapshot(t, "empty source", before, e.snapshot())
	})
}

func TestMaxChangesRefusesWholeCorrection(t *testing.T) {
	allBackends(t, func(t *testing.T, backend string) {
		e := newEnv(t, backend)
		for i := range 5 {
			e.oktaUser(fmt.Sprintf("new%d@example.com", i), "New", "User", "")
		}
		e.limits = Limits{MaxChanges: 4, MaxChangePercent: 10}
		before := e.snapshot()
		rep := e.run(ModeCorrect)
		if len(rep.Refused) != 2 || rep.PlanID == "" || rep.Refused[1].Guard != GuardApproval || rep.Refused[0].Guard != GuardMaxChanges || len(rep.Applied) != 0 {
			t.Fatalf("refused %+v applied %+v", rep.Refused, rep.Applied)
		}
		if !strings.Contains(rep.Refused[0].Reason, "5 corrections planned, more than maxChanges 4") {
			t.Errorf("reason %q", rep.Refused[0].Reason)
		}
		sameSnapshot(t, "maxChanges", before, e.snapshot())
		e.limits.MaxChanges = 5
		if rep := e.run(ModeCorrect); len(rep.Refused) != 0 || len(rep.Applied) != 5 {
			t.Fatalf("at the limit: refused %+v applied %d", rep.Refused, len(rep.Applied))
		}
	})
}

func TestMaxChangePercentRefusesWholeCorrection(t *testing.T) {
	allBackends(t, func(t *testing.T, backend string) {
		e := newEnv(t, backend)
		var ids []string
		for i := range 20 {
			login := fmt.Sprintf("u%02d@example.com", i)
			id := e.oktaUser(login, "U", "Ser", "")
			ids = append(ids, id)
			e.pushUser(id, login, "U", "Ser", true, mapping.OriginOktaPush)
		}
		for _, id := range ids[:3] { // 3 of 20 users (15 %) lose access
			e.okta.UnassignUser(app, id)
		}
		e.oktaUser("extra@example.com", "Ex", "Tra", "") // plus one harmless create
		e.limits = Limits{MaxChanges: 50, MaxChangePercent: 10}
		before := e.snapshot()
		rep := e.run(ModeCorrect)
		if len(rep.Refused) != 2 || rep.PlanID == "" || rep.Refused[1].Guard != GuardApproval || rep.Refused[0].Guard != GuardMaxChangePercent || len(rep.Applied) != 0 {
			t.Fatalf("refused %+v applied %+v", rep.Refused, rep.Applied)
		}
		if !strings.Contains(rep.Refused[0].Reason, "3 user deactivations of 20 users (15.0 %)") {
			t.Errorf("reason %q", rep.Refused[0].Reason)
		}
		sameSnapshot(t, "maxChangePercent", before, e.snapshot())
		e.limits.MaxChangePercent = 15
		if rep := e.run(ModeCorrect); len(rep.Refused) != 0 || len(rep.Applied) != 4 {
			t.Fatalf("at the limit: refused %+v applied %+v", rep.Refused, rep.Applied)
		}
	})
}

func TestRateLimitStormFinishesWithinBudget(t *testing.T) {
	allBackends(t, func(t *testing.T, backend string) {
		e := newEnv(t, backend, oktatest.WithResetInPast())
		e.okta.Seed(oktatest.GenOptions{Users: 120, Groups: 6, Memberships: 200})
		e.okta.Storm429("", 3) // the next 3 requests, whatever they are
		start := time.Now()
		rep := e.run(ModeReport)
		if !rep.Complete {
			t.Fatalf("incomplete: %s", rep.IncompleteReason)
		}
		if rep.Okta.RateLimited != 3 || rep.Okta.Retries < 3 {
			t.Errorf("okta traffic %+v; want 3 rate-limited, >= 3 retries", rep.Okta)
		}
		if took := time.Since(start); took > 10*time.Second {
			t.Errorf("run under a 429 storm took %v", took)
		}
		// A storm longer than the retry budget (3 retries) on one listing
		// ends the read as incomplete, changing nothing.
		e.okta.Storm429(oktatest.RouteAppUsers, 10)
		expectIncomplete(t, e, "rate_limited")
	})
}
