package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"github.com/axonflow/axonflow-sync/internal/termtext"
	"text/tabwriter"
	"time"

	"github.com/rs/zerolog"

	"github.com/axonflow/axonflow-sync/internal/admin"
	"github.com/axonflow/axonflow-sync/store"
)

func (e env) token(ctx context.Context, args []string) int {
	if len(args) == 0 {
		fmt.Fprint(e.stderr, "usage: axonflow-sync token create|list|revoke --tenant ID ...\n")
		return exitConfig
	}
	sub, args := args[0], args[1:]
	fs := flag.NewFlagSet("token "+sub, flag.ContinueOnError)
	tenant := fs.String("tenant", "", "tenant id (lower-case letters, digits, - and _)")
	var name, output string
	var expiresIn, grace time.Duration
	var oldID string
	switch sub {
	case "create":
		fs.StringVar(&name, "name", "okta", "a label for the token, e.g. okta-prod")
		fs.DurationVar(&expiresIn, "expires-in", 0, "lifetime, e.g. 720h (default: no expiry)")
	case "rotate":
		fs.StringVar(&oldID, "token-id", "", "the id of the token to replace (see token list); or give it as the argument, as to revoke")
		fs.DurationVar(&grace, "grace", 24*time.Hour, "how long the old token keeps working")
		fs.StringVar(&name, "name", "", "a label for the new token (default: the old token's)")
	case "list":
		fs.StringVar(&output, "output", "table", "table or json")
	case "revoke":
		fs.StringVar(&oldID, "token-id", "", "the id of the token to revoke (see token list); or give it as the argument")
	default:
		termtext.Fprintf(e.stderr, "axonflow-sync token: unknown subcommand %q (create, list, revoke, rotate)\n", sub)
		return exitConfig
	}
	cfg, ok := e.parse(fs, args)
	if !ok {
		return exitConfig
	}
	if err := admin.CheckTenantID(*tenant); err != nil {
		termtext.Fprintf(e.stderr, "axonflow-sync token %s: --tenant: %v\n", sub, err)
		return exitConfig
	}
	// rotate and revoke take the token id as --token-id or as their one
	// argument, whichever the operator remembers.
	if (sub == "rotate" || sub == "revoke") && oldID == "" && fs.NArg() == 1 {
		oldID = fs.Arg(0)
	} else if (sub == "rotate" || sub == "revoke") && fs.NArg() != 0 {
		termtext.Fprintf(e.stderr, "axonflow-sync token %s: unexpected argument %q (flags go before the token id, which goes once: --token-id ID or as the last argument)\n", sub, fs.Arg(min(1, fs.NArg()-1)))
		return exitConfig
	}
	if sub == "rotate" && oldID == "" {
		fmt.Fprintln(e.stderr, "usage: axonflow-sync token rotate --tenant ID --token-id OLD [--grace 24h]")
		return exitConfig
	}
	if expiresIn < 0 {
		termtext.Fprintf(e.stderr, "axonflow-sync token %s: --expires-in must not be negative (0: never expires)\n", sub)
		return exitConfig
	}
	if grace < 0 {
		termtext.Fprintf(e.stderr, "axonflow-sync token %s: --grace must not be negative (0: the old token stops at once)\n", sub)
		return exitConfig
	}
	if output != "" && output != "table" && output != "json" {
		termtext.Fprintln(e.stderr, "axonflow-sync token list: --output must be table or json")
		return exitConfig
	}
	if sub == "revoke" && oldID == "" {
		fmt.Fprintln(e.stderr, "usage: axonflow-sync token revoke --tenant ID TOKEN_ID")
		return exitConfig
	}
	if sub != "revoke" && sub != "rotate" && fs.NArg() != 0 {
		termtext.Fprintf(e.stderr, "axonflow-sync token %s: unexpected argument %q\n", sub, fs.Arg(0))
		return exitConfig
	}
	log := newLogger(cfg, e.stderr).Level(zerolog.WarnLevel)
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	ctx = admin.WithOperator(ctx, cliOperator(e.getenv)) // the provisioning log's actor id
	st, _, err := openStore(ctx, cfg, log)
	if err != nil {
		termtext.Fprintf(e.stderr, "axonflow-sync: %v\n", err)
		return exitFail
	}
	defer st.Close()
	st, _ = withProvLog(st, log, nil) // failed log writes: a warning on stderr
	now := time.Now().UTC()
	switch sub {
	case "create":
		t, err := admin.CreateToken(ctx, st, *tenant, name, expiresIn, now)
		if err != nil {
			termtext.Fprintf(e.stderr, "axonflow-sync token create: %v\n", err)
			return exitCode(err)
		}
		termtext.Fprintln(e.stdout, t.Secret)
		return exitOK
	case "rotate":
		nt, old, err := admin.RotateToken(ctx, st, *tenant, oldID, name, grace, now)
		if err != nil {
			if errors.Is(err, store.ErrNotFound) {
				termtext.Fprintf(e.stderr, "axonflow-sync token rotate: tenant %s has no token %s\n", *tenant, oldID)
				return exitCode(err)
			}
			termtext.Fprintf(e.stderr, "axonflow-sync token rotate: %v\n", err)
			return exitCode(err)
		}
		termtext.Fprintln(e.stdout, nt.Secret)
		termtext.Fprintf(e.stderr, "new token %s; %s keeps working until %s: put the new token into Okta before then\n",
			nt.ID, old.ID, old.ExpiresAt.UTC().Format(time.RFC3339))
		return exitOK
	case "list":
		toks, err := admin.ListTokens(ctx, st, *tenant, now)
		if err != nil {
			termtext.Fprintf(e.stderr, "axonflow-sync token list: %v\n", err)
			return exitCode(err)
		}
		if output == "json" {
			if toks == nil {
				toks = []admin.TokenView{}
			}
			enc := json.NewEncoder(e.stdout)
			enc.SetIndent("", "  ")
			_ = enc.Encode(toks)
			return exitOK
		}
		tw := tabwriter.NewWriter(e.stdout, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tNAME\tPREFIX\tCREATED\tEXPIRES\tLAST USED\tREVOKED\tREPLACED BY") // constant header: tabs are columns
		for _, t := range toks {
			replacedBy := t.ReplacedBy
			if replacedBy == "" {
				replacedBy = "-"
			}
			termtext.Fprintf(tw, "%s\t%s\t%s...\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.Name, t.Prefix, when(t.Created, "-"),
				when(t.ExpiresAt, "never"), when(t.LastUsedAt, "never"), when(t.RevokedAt, "-"), replacedBy)
		}
		_ = tw.Flush()
		return exitOK
	default: // revoke
		id := oldID
		if _, err := admin.RevokeToken(ctx, st, *tenant, id, now); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				termtext.Fprintf(e.stderr, "axonflow-sync token revoke: tenant %s has no token %s (see: axonflow-sync token list --tenant %s)\n", *tenant, id, *tenant)
				return exitCode(err)
			}
			termtext.Fprintf(e.stderr, "axonflow-sync token revoke: %v\n", err)
			return exitCode(err)
		}
		termtext.Fprintf(e.stderr, "revoked %s\n", id)
		return exitOK
	}
}

func when(t time.Time, zero string) string {
	if t.IsZero() {
		return zero
	}
	return t.UTC().Format(time.RFC3339)
}
