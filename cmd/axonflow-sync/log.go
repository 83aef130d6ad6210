package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"github.com/axonflow/axonflow-sync/internal/termtext"
	"io"
	"os/user"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/rs/zerolog"

	"github.com/axonflow/axonflow-sync/internal/admin"
	"github.com/axonflow/axonflow-sync/store"
)

const logUsage = `usage:
  axonflow-sync log --tenant ID [--user USERNAME | --group DISPLAYNAME] [--since 1h] [--outcome accepted|rejected]
                    [--actor okta-push|reconciler|operator] [--limit 100] [--output table|json]
The provisioning log of a tenant, newest first: every change (Okta push, reconciler, operator) and every
rejected SCIM request, with why. With --user or --group it also says what happened to that name: never
pushed, pushed and rejected (why), or pushed into another tenant.
`

// log runs `axonflow-sync log`: the tenant's provisioning log through the
// same query as GET /admin/v1/tenants/{tenant}/log (internal/admin).
func (e env) log(ctx context.Context, args []string) int {
	fs := flag.NewFlagSet("log", flag.ContinueOnError)
	tenant := fs.String("tenant", "", "tenant id")
	userName := fs.String("user", "", "a userName (any letter case): its entries, and what happened to it")
	group := fs.String("group", "", "a group displayName (any letter case): its entries, and what happened to it")
	since := fs.String("since", "", "only entries newer than this: a duration back from now (1h, 30m, 168h) or an RFC 3339 time")
	outcome := fs.String("outcome", "", "accepted or rejected (default both)")
	actor := fs.String("actor", "", "okta-push, reconciler or operator (default all)")
	limit := fs.Int("limit", store.DefaultLogLimit, fmt.Sprintf("the most entries shown (1..%d)", admin.MaxLogLimit))
	output := fs.String("output", "table", "table or json")
	fs.Usage = func() { fmt.Fprint(fs.Output(), logUsage) }
	cfg, ok := e.parse(fs, args)
	if !ok {
		return exitConfig
	}
	usageErr := func(msg string) int {
		fmt.Fprintf(e.stderr, "axonflow-sync log: %s\n%s", msg, logUsage)
		return exitConfig
	}
	if fs.NArg() > 0 {
		return usageErr(fmt.Sprintf("unexpected argument %q", fs.Arg(0)))
	}
	if err := admin.CheckTenantID(*tenant); err != nil {
		return usageErr("--tenant: " + apiMessage(err))
	}
	if *userName != "" && *group != "" {
		return usageErr("give --user or --group, not both")
	}
	if *output != "table" && *output != "json" {
		return usageErr("--output must be table or json")
	}
	if *limit < 1 || *limit > admin.MaxLogLimit {
		return usageErr(fmt.Sprintf("--limit must be between 1 and %d", admin.MaxLogLimit))
	}
	now := time.Now()
	sinceT, err := admin.ParseSince(*since, now)
	if err != nil {
		return usageErr("--since: " + apiMessage(err))
	}

	log := newLogger(cfg, e.stderr).Level(zerolog.WarnLevel)
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	st, _, err := openStore(ctx, cfg, log)
	if err != nil {
		termtext.Fprintf(e.stderr, "axonflow-sync: %v\n", err)
		return exitFail
	}
	defer st.Close()
	res, err := admin.QueryLog(ctx, st, *tenant, admin.LogParams{User: *userName, Group: *group, Since: sinceT,
		Outcome: *outcome, Actor: *actor, Limit: *limit})
	if err != nil {
		termtext.Fprintf(e.stderr, "axonflow-sync log: %s\n", apiMessage(err))
		return exitCode(err)
	}
	if *output == "json" {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(res)
		return exitOK
	}
	writeLogTable(e.stdout, res)
	return exitOK
}

// writeLogTable prints entries one a line (detail and changes shortened;
// --output json has them whole), then the explanation.
func writeLogTable(w io.Writer, res admin.LogResult) {
	if len(res.Entries) == 0 {
		termtext.Fprintf(w, "no matching entries in the provisioning log of tenant %s\n", res.Tenant)
	} else {
		tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "TIME\tACTOR\tOPERATION\tRESOURCE\tNAME\tSTATUS\tSCIMTYPE\tDETAIL\tCHANGES") // constant header: tabs are columns
		for _, le := range res.Entries {
			resource := le.ResourceType
			if id := le.ResourceID; id != "" && le.ResourceType != "Tenant" {
				if len(id) > 8 {
					id = id[:8] + "…"
				}
				resource += " " + id
			}
			termtext.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\t%s\n", le.Time.UTC().Format(time.RFC3339), actorOf(le),
				le.Operation, dash(resource), dash(le.Name), le.Status, dash(le.ScimType), dash(shorten(le.Detail, 70)),
				dash(admin.SummarizeChanges(le.Changes, 90)))
		}
		_ = tw.Flush()
	}
	if ex := res.Explanation; ex != nil {
		termtext.Fprintf(w, "\n%s: %s\n", ex.Verdict, ex.Message)
	}
}

func actorOf(e store.LogEntry) string {
	if e.ActorID == "" {
		return e.Actor
	}
	id := e.ActorID
	if e.Actor == store.ActorOktaPush && len(id) > 12 {
		id = id[:12] + "…"
	}
	if e.OperatorClaim != "" {
		id += " (claims " + e.OperatorClaim + ")" // self-asserted: X-AxonFlow-Operator
	}
	return e.Actor + " " + id
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// shorten cuts s to n runes and puts it on one line.
func shorten(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

// cliOperator names the person running a CLI command for the provisioning
// log: "cli:<login name>" ($USER, $LOGNAME, or the OS account).
func cliOperator(getenv func(string) string) string {
	for _, k := range []string{"USER", "LOGNAME"} {
		if v := strings.TrimSpace(getenv(k)); v != "" {
			return "cli:" + v
		}
	}
	if u, err := user.Current(); err == nil && u.Username != "" {
		return "cli:" + u.Username
	}
	return "cli"
}
