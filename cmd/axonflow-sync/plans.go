package main

import (
	"context"
	"flag"
	"fmt"
	"os/signal"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/rs/zerolog"

	"github.com/axonflow/axonflow-sync/config"
	"github.com/axonflow/axonflow-sync/internal/admin"
	"github.com/axonflow/axonflow-sync/internal/termtext"
	"github.com/axonflow/axonflow-sync/sync"
)

const reviewUsage = `Usage:
  axonflow-sync reconcile plans   --tenant T [--status S] [--output table|json]
  axonflow-sync reconcile plan    --tenant T PLAN_ID [--output table|json]
  axonflow-sync reconcile approve --tenant T PLAN_ID [--item ID]... [--output table|json]
  axonflow-sync reconcile reject  --tenant T PLAN_ID [--item ID]... [--output table|json]
  axonflow-sync reconcile explain --tenant T (--user NAME | --group NAME) [--output table|json]
`

// stringList is a repeatable string flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

// reconcileReview runs the review subcommands of reconcile (plans, plan,
// approve, reject, explain): the CLI face of internal/admin's ListPlans,
// GetPlan, DecidePlan and Explain. Exit codes: 0 done, 1 failure (store,
// Okta, another run holding the lease), 2 usage or a rejected value.
func (e env) reconcileReview(ctx context.Context, sub string, args []string) int {
	fs := flag.NewFlagSet("reconcile "+sub, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	tenant := fs.String("tenant", "", "tenant id")
	output := fs.String("output", "table", "table or json")
	status := fs.String("status", "", "plans: only plans in this status (pending, approved, scheduled, expired, done)")
	user := fs.String("user", "", "explain: the user's userName (Okta login)")
	group := fs.String("group", "", "explain: the group's name")
	var items stringList
	fs.Var(&items, "item", "approve/reject: an item id (repeatable; none: every pending item)")
	gf := config.RegisterFlags(fs)
	// Flags may follow PLAN_ID.
	var pos []string
	rest := args
	for {
		if err := fs.Parse(rest); err != nil {
			return exitConfig
		}
		if fs.NArg() == 0 {
			break
		}
		pos, rest = append(pos, fs.Arg(0)), fs.Args()[1:]
	}
	cfg, err := config.Load(gf, e.getenv)
	if err != nil {
		termtext.Fprintf(e.stderr, "axonflow-sync: %v\n", err)
		return exitConfig
	}
	usageErr := func(msg string) int {
		termtext.Fprintf(e.stderr, "axonflow-sync reconcile %s: %s\n", sub, msg)
		fmt.Fprint(e.stderr, reviewUsage)
		return exitConfig
	}
	wantPlan := sub == "plan" || sub == "approve" || sub == "reject"
	switch {
	case admin.CheckTenantID(*tenant) != nil:
		return usageErr("--tenant: " + apiMessage(admin.CheckTenantID(*tenant)))
	case *output != "table" && *output != "json":
		return usageErr("--output must be table or json")
	case wantPlan && len(pos) != 1:
		return usageErr("give exactly one PLAN_ID")
	case !wantPlan && len(pos) > 0:
		return usageErr(fmt.Sprintf("unexpected argument %q", pos[0]))
	case sub == "explain" && (*user == "") == (*group == ""):
		return usageErr("give one of --user or --group")
	case len(items) > 0 && sub != "approve" && sub != "reject":
		return usageErr("--item applies to approve and reject")
	}

	log := newLogger(cfg, e.stderr)
	if cfg.Source["log.level"] == "default" {
		log = log.Level(zerolog.WarnLevel)
	}
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	ctx = admin.WithOperator(ctx, cliOperator(e.getenv))
	openCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	st, _, err := openStore(openCtx, cfg, log)
	cancel()
	if err != nil {
		termtext.Fprintf(e.stderr, "axonflow-sync reconcile %s: %v\n", sub, err)
		return exitFail
	}
	defer st.Close()
	st, _ = withProvLog(st, log, nil)
	runner := sync.NewRunner(sync.RunnerOptions{Store: st, Logger: log})
	fail := func(err error) int {
		termtext.Fprintf(e.stderr, "axonflow-sync reconcile %s: %s\n", sub, apiMessage(err))
		return exitCode(err)
	}

	switch sub {
	case "plans":
		res, err := admin.ListPlans(ctx, runner, *tenant, *status)
		if err != nil {
			return fail(err)
		}
		if *output == "json" {
			return e.printJSON(res)
		}
		if len(res.Plans) == 0 {
			termtext.Fprintf(e.stdout, "no plans for tenant %s\n", *tenant)
			return exitOK
		}
		tw := tabwriter.NewWriter(e.stdout, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "PLAN\tSTATUS\tCREATED\tEXPIRES\tITEMS\tPENDING\tSCHEDULED\tREASON")
		for _, p := range res.Plans {
			termtext.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d\t%d\t%s\n", termtext.Cell(p.ID), p.Status, p.CreatedAt.Format(time.RFC3339),
				p.ExpiresAt.Format(time.RFC3339), p.Items, p.Pending, p.Scheduled, termtext.Cell(p.Reason))
		}
		_ = tw.Flush()
	case "plan":
		p, err := admin.GetPlan(ctx, runner, *tenant, pos[0])
		if err != nil {
			return fail(err)
		}
		if *output == "json" {
			return e.printJSON(p)
		}
		e.writePlan(p)
	case "approve", "reject":
		tc := cfg.Tenants[*tenant]
		res, err := admin.DecidePlan(ctx, runner, st, *tenant, tc, admin.PlanDecision{PlanID: pos[0], Items: items, Approve: sub == "approve"})
		if res == nil && err != nil {
			return fail(err)
		}
		if *output == "json" {
			e.printJSON(res)
		} else {
			verb := "rejected"
			if sub == "approve" {
				verb = "approved"
			}
			termtext.Fprintf(e.stdout, "%s items %s of plan %s\n\n", verb, strings.Join(res.Decided, ", "), res.Plan.ID)
			e.writePlan(res.Plan)
		}
		if err != nil {
			return fail(err)
		}
		if res.Report != nil && !res.Report.Complete {
			termtext.Fprintf(e.stderr, "axonflow-sync reconcile %s: the approval run's read did not complete (%s); the items stay approved for the next run\n",
				sub, res.Report.IncompleteReason)
			return exitFail
		}
	case "explain":
		tc := cfg.Tenants[*tenant]
		ex, err := admin.Explain(ctx, runner, *tenant, tc, admin.ExplainQuery{User: *user, Group: *group})
		if err != nil {
			return fail(err)
		}
		if *output == "json" {
			return e.printJSON(ex)
		}
		_ = ex.WriteTable(e.stdout)
	}
	return exitOK
}

// writePlan prints a plan and its items as a table.
func (e env) writePlan(p *sync.HeldPlan) {
	termtext.Fprintf(e.stdout, "Plan %s of tenant %s: %s (run %s)\n", p.ID, p.Tenant, p.Status, p.RunID)
	termtext.Fprintf(e.stdout, "Created %s, pending items can be decided until %s\n", p.CreatedAt.Format(time.RFC3339), p.ExpiresAt.Format(time.RFC3339))
	if p.Reason != "" {
		termtext.Fprintf(e.stdout, "Why: %s\n", p.Reason)
	}
	tw := tabwriter.NewWriter(e.stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "\nITEM\tACTION\tNAME\tSTATUS\tDECIDED BY\tAPPLY AFTER\tREASON")
	for _, it := range p.Items {
		name := it.UserName
		if it.DisplayName != "" {
			name = it.DisplayName
			if it.UserName != "" {
				name += " / " + it.UserName
			}
		}
		after := "-"
		if !it.ApplyAfter.IsZero() {
			after = it.ApplyAfter.Format(time.RFC3339)
		}
		why := it.Reason
		if it.Detail != "" {
			why = it.Detail
		}
		termtext.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", termtext.Cell(it.ID), it.Action, termtext.Cell(name), it.Status,
			termtext.Cell(it.DecidedBy), after, termtext.Cell(why))
	}
	_ = tw.Flush()
}
