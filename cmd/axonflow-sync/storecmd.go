package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"github.com/axonflow/axonflow-sync/internal/termtext"
	"strings"

	"github.com/rs/zerolog"

	"github.com/axonflow/axonflow-sync/store"
)

const storeUsage = `usage:
  axonflow-sync store verify [--tenant ID] [--repair] [--output table|json]

verify checks, per tenant (every tenant without --tenant), that every index
entry (userName, externalId, displayName) names a record with that value and
every record is indexed, that the creation-order lists and the records agree,
that member sets name existing users and agree with each user's group list,
and that role assignments belong to existing users. --repair rebuilds what
the records determine (a uniqueness clash or an unreadable record is only
reported). Exit status: 0 clean (or everything found was repaired), 1
problems remain or the store failed, 2 usage.
`

// verifyOutput is the JSON form of `store verify`.
type verifyOutput struct {
	Tenants   []store.VerifyReport `json:"tenants"`
	Found     int                  `json:"found"`
	Repaired  int                  `json:"repaired"`
	Remaining int                  `json:"remaining"`
	Clean     bool                 `json:"clean"`
}

// storeCmd runs `axonflow-sync store SUB ...`.
func (e env) storeCmd(ctx context.Context, args []string) int {
	if len(args) == 0 {
		fmt.Fprint(e.stderr, storeUsage)
		return exitConfig
	}
	switch sub := args[0]; sub {
	case "verify":
		return e.storeVerify(ctx, args[1:])
	case "help", "-h", "--help":
		fmt.Fprint(e.stdout, storeUsage)
		return exitOK
	default:
		fmt.Fprintf(e.stderr, "axonflow-sync store: unknown subcommand %q\n%s", sub, storeUsage)
		return exitConfig
	}
}

func (e env) storeVerify(ctx context.Context, args []string) int {
	fs := flag.NewFlagSet("store verify", flag.ContinueOnError)
	tenant := fs.String("tenant", "", "verify only this tenant (default: every tenant)")
	repair := fs.Bool("repair", false, "rebuild indexes, lists and back-references from the records")
	output := fs.String("output", "table", "table or json")
	cfg, ok := e.parse(fs, args)
	if !ok {
		return exitConfig
	}
	usageErr := func(msg string) int {
		fmt.Fprintf(e.stderr, "axonflow-sync store verify: %s\n%s", msg, storeUsage)
		return exitConfig
	}
	if fs.NArg() > 0 {
		return usageErr(fmt.Sprintf("unexpected argument %q", fs.Arg(0)))
	}
	if *output != "table" && *output != "json" {
		return usageErr("--output must be table or json")
	}
	tenantSet := false
	fs.Visit(func(f *flag.Flag) { tenantSet = tenantSet || f.Name == "tenant" })
	if tenantSet && strings.TrimSpace(*tenant) == "" {
		return usageErr("--tenant must not be empty")
	}

	log := newLogger(cfg, e.stderr).Level(zerolog.WarnLevel)
	st, desc, err := openStore(ctx, cfg, log)
	if err != nil {
		termtext.Fprintf(e.stderr, "axonflow-sync: %v\n", err)
		return exitFail
	}
	defer st.Close()
	v, ok := st.(store.Verifier)
	if !ok {
		termtext.Fprintf(e.stderr, "axonflow-sync store verify: the store (%s) cannot be verified\n", desc)
		return exitFail
	}
	ids := []string{*tenant}
	if !tenantSet {
		ts, err := st.ListTenants(ctx)
		if err != nil {
			termtext.Fprintf(e.stderr, "axonflow-sync store verify: listing tenants: %v\n", err)
			return exitFail
		}
		ids = ids[:0]
		for _, t := range ts {
			ids = append(ids, t.ID)
		}
	}
	out := verifyOutput{Tenants: []store.VerifyReport{}}
	for _, id := range ids {
		r, err := v.Verify(ctx, id, *repair)
		if errors.Is(err, store.ErrNotFound) {
			termtext.Fprintf(e.stderr, "axonflow-sync store verify: tenant %q not found\n", id)
			return exitFail
		}
		if err != nil {
			termtext.Fprintf(e.stderr, "axonflow-sync store verify: tenant %q: %v\n", id, err)
			return exitFail
		}
		out.Tenants = append(out.Tenants, r)
		out.Found += r.Found()
		out.Remaining += r.Remaining()
		out.Repaired += r.Found() - r.Remaining()
	}
	out.Clean = out.Remaining == 0
	code := exitOK
	if !out.Clean {
		code = exitFail
	}
	if *output == "json" {
		if c := e.printJSON(out); c != exitOK {
			return c
		}
		return code
	}
	e.printVerify(desc, out)
	return code
}

// printVerify prints the table form of a verify run: one line per tenant,
// one per problem kind with its first example, then the verdict.
func (e env) printVerify(desc string, out verifyOutput) {
	w := e.stdout
	termtext.Fprintf(w, "store: %s\n", desc)
	for _, r := range out.Tenants {
		state := "clean"
		if n := r.Found(); n > 0 {
			state = fmt.Sprintf("%d problems", n)
			if r.Repair {
				state += fmt.Sprintf(", %d repaired", n-r.Remaining())
			}
		}
		termtext.Fprintf(w, "tenant %s: %d users, %d groups, %d memberships: %s\n", r.Tenant, r.Users, r.Groups, r.Memberships, state)
		for _, p := range r.Problems {
			line := fmt.Sprintf("  %-20s %5d found", p.Kind, p.Count)
			if r.Repair {
				line += fmt.Sprintf(" %5d repaired", p.Repaired)
			}
			termtext.Fprintln(w, line)
			for _, ex := range p.Examples {
				termtext.Fprintf(w, "      %s\n", ex)
			}
			if more := p.Count - len(p.Examples); more > 0 {
				termtext.Fprintf(w, "      (%d more)\n", more)
			}
		}
	}
	switch {
	case out.Found == 0:
		termtext.Fprintf(w, "verdict: clean (%d tenants)\n", len(out.Tenants))
	case out.Remaining == 0:
		termtext.Fprintf(w, "verdict: repaired all %d problems; run verify again to confirm\n", out.Found)
	default:
		fix := "run with --repair"
		if len(out.Tenants) > 0 && out.Tenants[0].Repair {
			fix = "resolve the clashes or unreadable records shown (see README, Recovery procedure), then run --repair again"
		}
		termtext.Fprintf(w, "verdict: %d problems remain: %s\n", out.Remaining, fix)
	}
}
