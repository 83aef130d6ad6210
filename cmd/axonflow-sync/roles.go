package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"github.com/axonflow/axonflow-sync/internal/termtext"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/rs/zerolog"

	"github.com/axonflow/axonflow-sync/internal/admin"
	"github.com/axonflow/axonflow-sync/mapping"
)

const rolesUsage = `usage:
  axonflow-sync roles map      --tenant ID --group NAME_OR_ID [--by-name] --role ROLE
  axonflow-sync roles unmap    --tenant ID --group NAME_OR_ID [--by-name]
  axonflow-sync roles list     --tenant ID [--output json]
  axonflow-sync roles show     --tenant ID --user USER_ID_OR_USERNAME [--output json]
  axonflow-sync roles assign   --tenant ID --user USER_ID_OR_USERNAME --role ROLE
  axonflow-sync roles unassign --tenant ID --user USER_ID_OR_USERNAME --role ROLE
  axonflow-sync roles default  --tenant ID --role ROLE|none
roles: owner, admin, policy_admin, developer, viewer
`

// roles runs `axonflow-sync roles SUB ...`: group-to-role mappings, manual
// role assignments and the default role of a tenant, through the same
// service functions as the admin API (internal/admin).
func (e env) roles(ctx context.Context, args []string) int {
	if len(args) == 0 {
		fmt.Fprint(e.stderr, rolesUsage)
		return exitConfig
	}
	sub, args := args[0], args[1:]
	fs := flag.NewFlagSet("roles "+sub, flag.ContinueOnError)
	tenant := fs.String("tenant", "", "tenant id")
	output := fs.String("output", "table", "table or json")
	var group, role, user string
	var byName bool
	switch sub {
	case "map", "unmap":
		fs.StringVar(&group, "group", "", "the AxonFlow group id, or with --by-name its displayName (the Okta group name)")
		fs.BoolVar(&byName, "by-name", false, "--group is a displayName (any letter case; the group need not be pushed yet)")
		if sub == "map" {
			fs.StringVar(&role, "role", "", "owner, admin, policy_admin, developer or viewer")
		}
	case "list":
	case "show":
		fs.StringVar(&user, "user", "", "the user's id or userName")
	case "assign", "unassign":
		fs.StringVar(&user, "user", "", "the user's id or userName")
		fs.StringVar(&role, "role", "", "owner, admin, policy_admin, developer or viewer")
	case "default":
		fs.StringVar(&role, "role", "", "the role of users with no other role, or none")
	case "help", "-h", "--help":
		fmt.Fprint(e.stdout, rolesUsage)
		return exitOK
	default:
		fmt.Fprintf(e.stderr, "axonflow-sync roles: unknown subcommand %q\n%s", sub, rolesUsage)
		return exitConfig
	}
	cfg, ok := e.parse(fs, args)
	if !ok {
		return exitConfig
	}
	usageErr := func(msg string) int {
		fmt.Fprintf(e.stderr, "axonflow-sync roles %s: %s\n%s", sub, msg, rolesUsage)
		return exitConfig
	}
	if err := admin.CheckTenantID(*tenant); err != nil {
		return usageErr("--tenant: " + apiMessage(err))
	}
	if fs.NArg() > 0 {
		return usageErr(fmt.Sprintf("unexpected argument %q", fs.Arg(0)))
	}
	if *output != "table" && *output != "json" {
		return usageErr("--output must be table or json")
	}
	switch {
	case (sub == "map" || sub == "unmap") && strings.TrimSpace(group) == "":
		return usageErr("--group is required")
	case (sub == "show" || sub == "assign" || sub == "unassign") && user == "":
		return usageErr("--user is required")
	case (sub == "map" || sub == "assign" || sub == "unassign" || sub == "default") && role == "":
		return usageErr("--role is required")
	}

	log := newLogger(cfg, e.stderr).Level(zerolog.WarnLevel)
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
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
	fail := func(err error) int {
		termtext.Fprintf(e.stderr, "axonflow-sync roles %s: %s\n", sub, apiMessage(err))
		return exitCode(err)
	}
	kind := "id"
	if byName {
		kind = "displayName"
	}

	switch sub {
	case "map":
		res, err := admin.MapRole(ctx, st, *tenant, mapping.RoleMapping{Group: group, ByName: byName, Role: role, Source: mapping.SourceAPI}, now)
		if err != nil {
			return fail(err)
		}
		if *output == "json" {
			return e.printJSON(res)
		}
		termtext.Fprintf(e.stdout, "mapped the group with %s %q to role %s: %s updated\n", kind, res.Mapping.Group, res.Mapping.Role, usersUpdated(res.UsersUpdated))
	case "unmap":
		res, err := admin.UnmapRole(ctx, st, *tenant, group, byName)
		if err != nil {
			return fail(err)
		}
		if *output == "json" {
			return e.printJSON(res)
		}
		termtext.Fprintf(e.stdout, "unmapped the group with %s %q: %s updated\n", kind, strings.TrimSpace(group), usersUpdated(res.UsersUpdated))
	case "list":
		ms, err := admin.ListRoleMappings(ctx, st, *tenant)
		if err != nil {
			return fail(err)
		}
		def, err := admin.ResolveDefaultRole(ctx, st, *tenant)
		if err != nil {
			return fail(err)
		}
		if *output == "json" {
			return e.printJSON(ms)
		}
		tw := tabwriter.NewWriter(e.stdout, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "GROUP\tMATCH\tROLE\tSOURCE") // constant header: tabs are columns
		for _, m := range ms {
			match := "id"
			if m.ByName {
				match = "displayName"
			}
			termtext.Fprintf(tw, "%s\t%s\t%s\t%s\n", m.Group, match, m.Role, m.Source)
		}
		_ = tw.Flush()
		if def == "" {
			def = mapping.RoleNone
		}
		termtext.Fprintf(e.stdout, "default role (users in no mapped group and without manual roles): %s\n", def)
	case "show", "assign", "unassign":
		var v admin.UserRolesView
		switch sub {
		case "show":
			v, err = admin.ShowUserRoles(ctx, st, *tenant, user)
		case "assign":
			v, err = admin.AssignRole(ctx, st, *tenant, user, role, mapping.SourceManual)
		default:
			v, err = admin.UnassignRole(ctx, st, *tenant, user, role, mapping.SourceManual)
		}
		if err != nil {
			return fail(err)
		}
		if *output == "json" {
			return e.printJSON(v)
		}
		termtext.Fprintf(e.stdout, "user %s (%s)\n", v.UserID, v.UserName)
		if len(v.Roles) == 0 {
			termtext.Fprintln(e.stdout, "no roles")
			return exitOK
		}
		tw := tabwriter.NewWriter(e.stdout, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ROLE\tSOURCE\tGROUP") // constant header: tabs are columns
		for _, r := range v.Roles {
			g := "-"
			if r.Group != "" {
				g = fmt.Sprintf("%s (%s)", r.GroupName, r.Group)
			}
			termtext.Fprintf(tw, "%s\t%s\t%s\n", r.Role, r.Source, g)
		}
		_ = tw.Flush()
	case "default":
		shown, err := admin.SetDefaultRole(ctx, st, *tenant, role, now)
		if err != nil {
			return fail(err)
		}
		if *output == "json" {
			return e.printJSON(map[string]string{"role": shown})
		}
		termtext.Fprintf(e.stdout, "default role of tenant %s: %s\n", *tenant, shown)
		if _, ok := cfg.Tenants[*tenant]; ok {
			termtext.Fprintf(e.stderr, "note: %s configures tenant %s: its roles.default (viewer if absent) is applied again when serve starts\n",
				cfg.ConfigFile, *tenant)
		}
	}
	return exitOK
}

// usersUpdated formats a usersUpdated count.
func usersUpdated(n int) string {
	if n == 1 {
		return "1 user"
	}
	return fmt.Sprintf("%d users", n)
}

// apiMessage is the message of an *admin.APIError, else err's text.
func apiMessage(err error) string {
	var ae *admin.APIError
	if errors.As(err, &ae) {
		return ae.Message
	}
	return err.Error()
}

// printJSON writes v as indented JSON to stdout.
func (e env) printJSON(v any) int {
	enc := json.NewEncoder(e.stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		termtext.Fprintf(e.stderr, "axonflow-sync: %v\n", err)
		return exitFail
	}
	return exitOK
}
