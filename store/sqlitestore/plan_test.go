package sqlitestore

import (
	"context"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/axonflow/axonflow-sync/mapping"
	"github.com/axonflow/axonflow-sync/store"
)

// planCase is one statement of queries.go with realistic arguments for
// the plan fixture (tenant "big" has planUsers users u0..; see planFixture).
type planCase struct {
	name string // the constant's name in queries.go
	q    string
	args []any
	// walks lists the plan lines (exactly as EXPLAIN QUERY PLAN prints
	// them) that may visit a range of the tenant's rows bounded by
	// something other than the statement's arguments, each with the reason
	// it is acceptable. Everything else must be a keyed search.
	walks map[string]string
}

const planUsers = 2000

// ucWalks are the user context statements' expected walks: the tenant's
// configuration rows.
var ucWalks = map[string]string{
	"SEARCH role_mappings USING PRIMARY KEY (tenant=?)": "returns all the tenant's role mappings (configuration, not directory data)",
	"SEARCH role_defaults USING PRIMARY KEY (tenant=?)": "tenant is the whole key: one row",
}

// planCases is every statement of queries.go (TestPlanCasesComplete
// checks that none is missing).
var planCases = []planCase{
	// Users.
	{name: "qUserTaken", q: qUserTaken, args: []any{"big", "u1", "user-1@example.com", "ext-1"}},
	{name: "qInsertUser", q: qInsertUser, args: []any{"big", "new", "new@example.com", nil, "{}", "okta-push", 1, 1}},
	{name: "qGetUser", q: qGetUser, args: []any{"big", "u7"}},
	{name: "qGetUsers", q: qGetUsers, args: []any{`["u7","u1999","u7","nope"]`, "big"}},
	{name: "qUserVersion", q: qUserVersion, args: []any{"big", "u7"}},
	{name: "qUserConflict", q: qUserConflict, args: []any{"big", "u7", "user-8@example.com", "ext-8"}},
	{name: "qUpdateUser", q: qUpdateUser, args: []any{"user-7@example.com", "ext-7", "{}", 2, 2, "big", "u7"}},
	{name: "qDeleteUserRoles", q: qDeleteUserRoles, args: []any{"big", "u7"}},
	{name: "qDeleteUser", q: qDeleteUser, args: []any{"big", "u7"}},
	{name: "qFindUserByName", q: qFindUserByName, args: []any{"big", "user-7@example.com"}},
	{name: "qFindUserByExternalID", q: qFindUserByExternalID, args: []any{"big", "ext-7"}},
	{name: "qCountUsers", q: qCountUsers, args: []any{"big"}, walks: map[string]string{
		"SEARCH record_counts USING PRIMARY KEY (tenant=?)": "tenant is the whole key: one row",
	}},
	{name: "qListUsers", q: qListUsers, args: []any{"big", 100, 1000}, walks: map[string]string{
		"SEARCH scim_users USING COVERING INDEX scim_users_order (tenant=?)": "the offset: skips offset index entries (no row reads) to the page's first seq; only when no page ended there since the last commit (listPage)",
	}},
	{name: "qListUsersAfter", q: qListUsersAfter, args: []any{"big", 100, 1000}},
	{name: "qScanUsers", q: qScanUsers, args: []any{"big", 1000, 100}},
	{name: "qUserGroups", q: qUserGroups, args: []any{"big", `["u7","u8"]`}},
	{name: "qUserContext", q: qUserContext, args: []any{"big", `["u7","u8","u1999","nope"]`, true}, walks: ucWalks},
	{name: "qUserContextOne", q: qUserContextOne, args: []any{"big", "u7", true}, walks: ucWalks},
	{name: "qLookupContextByName", q: qLookupContextByName, args: []any{"big", "user-7@example.com"}, walks: ucWalks},
	{name: "qLookupContextByExternalID", q: qLookupContextByExternalID, args: []any{"big", "ext-7"}, walks: ucWalks},
	// Groups and memberships.
	{name: "qUnknownMembers", q: qUnknownMembers, args: []any{`["u7","nope"]`, "big"}},
	{name: "qAddMembers", q: qAddMembers, args: []any{"big", "g1", `["u7","u8"]`}},
	{name: "qGroupConflict", q: qGroupConflict, args: []any{"big", "g1", "group-2", "gext-2"}},
	{name: "qGroupTaken", q: qGroupTaken, args: []any{"big", "g1"}},
	{name: "qInsertGroup", q: qInsertGroup, args: []any{"big", "gnew", "gnew", nil, "", "{}", "okta-push", 1, 1}, walks: map[string]string{
		"SEARCH memberships USING PRIMARY KEY (tenant=? AND group_id=?)": "foreign-key bookkeeping for the new group's key, skipped unless a violation is pending (and a new group has no memberships)",
	}},
	{name: "qGetGroup", q: qGetGroup, args: []any{"big", "g1"}},
	{name: "qGetGroups", q: qGetGroups, args: []any{`["g1","g2","nope"]`, "big"}},
	{name: "qUpdateGroupAttrs", q: qUpdateGroupAttrs, args: []any{"group-1", nil, "{}", "big", "g1"}},
	{name: "qUpdateGroupOktaID", q: qUpdateGroupOktaID, args: []any{"00g1", "big", "g1"}},
	{name: "qDeleteMembersExcept", q: qDeleteMembersExcept, args: []any{"big", "g1", `["u7"]`}, walks: map[string]string{
		"SEARCH memberships USING PRIMARY KEY (tenant=? AND group_id=?)": "a member-set replace compares the whole set (documented on UpdateGroup)",
	}},
	{name: "qDeleteMembers", q: qDeleteMembers, args: []any{"big", "g1", `["u7","u8"]`}},
	{name: "qMembersAmong", q: qMembersAmong, args: []any{"big", "g1", `["u7","u8","nope"]`}},
	{name: "qBumpGroup", q: qBumpGroup, args: []any{2, 2, "big", "g1"}},
	{name: "qGroupExists", q: qGroupExists, args: []any{"big", "g1"}},
	{name: "qDeleteGroup", q: qDeleteGroup, args: []any{"big", "g1", 0}, walks: map[string]string{
		"SEARCH memberships USING PRIMARY KEY (tenant=? AND group_id=?)": "deleting a group deletes its memberships",
	}},
	{name: "qFindGroupByName", q: qFindGroupByName, args: []any{"big", "group-1"}},
	{name: "qFindGroupByExternalID", q: qFindGroupByExternalID, args: []any{"big", "gext-1"}},
	{name: "qCountGroups", q: qCountGroups, args: []any{"big"}, walks: map[string]string{
		"SEARCH record_counts USING PRIMARY KEY (tenant=?)": "tenant is the whole key: one row",
	}},
	{name: "qListGroups", q: qListGroups, args: []any{"big", 100, 0}, walks: map[string]string{
		"SEARCH scim_groups USING COVERING INDEX scim_groups_order (tenant=?)": "the offset: skips offset index entries (no row reads) to the page's first seq; only when no page ended there since the last commit (listPage)",
	}},
	{name: "qListGroupsAfter", q: qListGroupsAfter, args: []any{"big", 100, 0}},
	{name: "qScanGroups", q: qScanGroups, args: []any{"big", 10, 100}},
	{name: "qScanGroupMembers", q: qScanGroupMembers, args: []any{"big", 10, 110}, walks: map[string]string{
		"SEARCH m USING PRIMARY KEY (tenant=? AND group_id=?)": "the members of each group of the page",
	}},
	{name: "qGroupMembers", q: qGroupMembers, args: []any{"big", "g1"}, walks: map[string]string{
		"SEARCH m USING PRIMARY KEY (tenant=? AND group_id=?) LEFT-JOIN": "returns the group's members",
	}},
	// Roles.
	{name: "qPutRoleMapping", q: qPutRoleMapping, args: []any{"big", "id:g1", "g1", false, "admin", "api"}},
	{name: "qDeleteRoleMapping", q: qDeleteRoleMapping, args: []any{"big", "id:g1"}},
	{name: "qListRoleMappings", q: qListRoleMappings, args: []any{"big"}, walks: map[string]string{
		"SEARCH role_mappings USING PRIMARY KEY (tenant=?)": "returns all the tenant's role mappings (configuration, not directory data)",
	}},
	{name: "qUserExists", q: qUserExists, args: []any{"big", "u7"}},
	{name: "qAssignRole", q: qAssignRole, args: []any{"big", "u7", "admin", "manual"}},
	{name: "qUnassignRole", q: qUnassignRole, args: []any{"big", "u7", "manual", "admin"}},
	{name: "qUserRoles", q: qUserRoles, args: []any{"big", `["u7","u8"]`}},
	{name: "qSetDefaultRole", q: qSetDefaultRole, args: []any{"big", "viewer"}},
	{name: "qDefaultRole", q: qDefaultRole, args: []any{"big"}, walks: map[string]string{
		"SEARCH role_defaults USING PRIMARY KEY (tenant=?)": "tenant is the whole key: one row",
	}},
	// Tenants and tokens.
	{name: "qEnsureTenant", q: qEnsureTenant, args: []any{"new", 1}},
	{name: "qListTenants", q: qListTenants, walks: map[string]string{
		"SCAN tenants": "lists every tenant",
	}},
	{name: "qTenantExists", q: qTenantExists, args: []any{"big"}},
	{name: "qInsertToken", q: qInsertToken, args: []any{"big", "tnew", "n", "scim_x", "hnew", 1, nil, nil, nil}},
	{name: "qTokenByHash", q: qTokenByHash, args: []any{"hash-3"}},
	{name: "qListTokens", q: qListTokens, args: []any{"big"}, walks: map[string]string{
		"SEARCH tokens USING INDEX sqlite_autoindex_tokens_2 (tenant=?)": "lists every token of the tenant",
		"SCAN tokens": "lists the tenant's tokens; with statistics the planner scans the (small: a few per tenant) table instead",
	}},
	{name: "qRevokeToken", q: qRevokeToken, args: []any{1, "big", "t3"}},
	{name: "qSetTokenExpiry", q: qSetTokenExpiry, args: []any{1, "tok_next", "big", "t3"}},
	{name: "qTokenExists", q: qTokenExists, args: []any{"big", "t3"}},
	{name: "qTouchToken", q: qTouchToken, args: []any{1, "big", "t3"}},
	// Leases and runs.
	{name: "qGetLease", q: qGetLease, args: []any{"big", "reconcile"}},
	{name: "qPutLease", q: qPutLease, args: []any{"big", "reconcile", "me", 1}},
	{name: "qRenewLease", q: qRenewLease, args: []any{2, "big", "reconcile", "me", 1}},
	{name: "qReleaseLease", q: qReleaseLease, args: []any{"big", "reconcile", "me"}},
	{name: "qPutRun", q: qPutRun, args: []any{"big", "r1", 1, []byte("{}")}},
	{name: "qPruneRuns", q: qPruneRuns, args: []any{"big", 20}, walks: map[string]string{
		"SEARCH runs USING PRIMARY KEY (tenant=?)":               "the tenant's run records, at most keep+1 of them",
		"SEARCH runs USING COVERING INDEX runs_order (tenant=?)": "the newest keep run records",
		"SEARCH runs USING INDEX runs_order (tenant=?)":          "the tenant's run records, at most keep+1 of them",
	}},
	{name: "qListRuns", q: qListRuns, args: []any{"big", 20}, walks: map[string]string{
		"SEARCH runs USING INDEX runs_order (tenant=?)": "the newest limit run records (at most the kept ones)",
	}},
	{name: "qGetRun", q: qGetRun, args: []any{"big", "r1"}},
	// Held plans.
	{name: "qPlanExists", q: qPlanExists, args: []any{"big", "p1"}},
	{name: "qInsertPlan", q: qInsertPlan, args: []any{"big", "p9", 1, []byte("{}")}},
	{name: "qPrunePlans", q: qPrunePlans, args: []any{"big", 20}, walks: plansWalks},
	{name: "qPlanVersion", q: qPlanVersion, args: []any{"big", "p1"}},
	{name: "qUpdatePlan", q: qUpdatePlan, args: []any{[]byte("{}"), 2, "big", "p1"}},
	{name: "qListPlans", q: qListPlans, args: []any{"big", 20}, walks: plansWalks},
	{name: "qGetPlan", q: qGetPlan, args: []any{"big", "p1"}},
	// Console sessions.
	{name: "qEndSession", q: qEndSession, args: []any{"s1", 1}},
	{name: "qDropEndedSessions", q: qDropEndedSessions, args: []any{1}},
	{name: "qSessionEnded", q: qSessionEnded, args: []any{"s1", 1}},
	// Provisioning log writes.
	{name: "qNextLogN", q: qNextLogN, args: []any{"big"}, walks: map[string]string{
		"SEARCH provisioning_log USING COVERING INDEX sqlite_autoindex_provisioning_log_1 (tenant=?)": "max(n) of the (tenant, n) key: SQLite's min/max optimisation seeks the tenant's last key",
	}},
	{name: "qNextRejectedN", q: qNextRejectedN, args: []any{"big"}, walks: map[string]string{
		"SEARCH provisioning_log_rejected USING COVERING INDEX sqlite_autoindex_provisioning_log_rejected_1 (tenant=?)": "max(n) of the (tenant, n) key: SQLite's min/max optimisation seeks the tenant's last key",
	}},
	{name: "qInsertLog", q: qInsertLog, args: []any{"big", 9, 1, "k", "User", "okta-push", 200, "{}"}},
	{name: "qInsertRejected", q: qInsertRejected, args: []any{"big", 9, 1, "k", "User", "okta-push", 409, "{}"}},
	{name: "qTrimLog", q: qTrimLog, args: []any{"big", 1}},
	{name: "qTrimRejected", q: qTrimRejected, args: []any{"big", 1}},
	{name: "qExpireLog", q: qExpireLog, args: []any{1}},
	{name: "qExpireRejected", q: qExpireRejected, args: []any{1}},
}

// plansWalks: the held plans a tenant keeps are bounded (store.Plans'
// keep), so reading them all is bounded too.
var plansWalks = map[string]string{
	"SEARCH reconcile_plans USING PRIMARY KEY (tenant=?)":                          "the tenant's held plans, at most keep+1 of them",
	"SEARCH reconcile_plans USING COVERING INDEX reconcile_plans_order (tenant=?)": "the newest keep held plans",
	"SEARCH reconcile_plans USING INDEX reconcile_plans_order (tenant=?)":          "the newest limit held plans (at most the kept ones)",
}

// planFixture returns a store with tenant "big" holding planUsers users
// (u<i>, userName user-<i>@example.com, externalId ext-<i>), 20 groups
// (g<i>, group-<i>, gext-<i>) of 100 members each, role rows, 5 tokens
// (t<i>, hash-<i>) and 10 runs, plus a small tenant "small".
func planFixture(t *testing.T) *Store {
	t.Helper()
	s := openTB(t, filepath.Join(t.TempDir(), "plan.db"))
	ctx := context.Background()
	for _, tn := range []string{"big", "small"} {
		if _, err := s.EnsureTenant(ctx, tn, time.Unix(1, 0)); err != nil {
			t.Fatal(err)
		}
	}
	users := make([]*mapping.User, planUsers)
	for i := range users {
		users[i] = &mapping.User{ID: fmt.Sprintf("u%d", i), Attrs: mapping.Attrs{
			"userName": fmt.Sprintf("user-%d@example.com", i), "externalId": fmt.Sprintf("ext-%d", i)}}
	}
	bulkSeed(t, s, "big", users)
	bulkSeed(t, s, "small", users[:20])
	for g := range 20 {
		ids := make([]string, 100)
		for i := range ids {
			ids[i] = users[g*100+i].ID
		}
		grp := &mapping.Group{ID: fmt.Sprintf("g%d", g), Attrs: mapping.Attrs{"displayName": fmt.Sprintf("group-%d", g), "externalId": fmt.Sprintf("gext-%d", g)}}
		if err := s.CreateGroup(ctx, "big", grp, ids); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 50 {
		if err := s.AssignRole(ctx, "big", users[i*7].ID, mapping.RoleAdmin, mapping.SourceManual); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.PutRoleMapping(ctx, "big", mapping.RoleMapping{Group: "g1", Role: mapping.RoleDeveloper, Source: mapping.SourceAPI}); err != nil {
		t.Fatal(err)
	}
	if err := s.SetDefaultRole(ctx, "big", mapping.RoleViewer); err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		tok := store.Token{ID: fmt.Sprintf("t%d", i), Tenant: "big", Name: "n", Prefix: "scim_x", Hash: fmt.Sprintf("hash-%d", i), Created: time.Unix(int64(i), 0)}
		if err := s.CreateToken(ctx, tok); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 10 {
		if err := s.SaveRun(ctx, "big", store.RunRecord{ID: fmt.Sprintf("r%d", i), StartedAt: time.Unix(int64(i), 0), Data: []byte("{}")}, 20); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// explain returns the EXPLAIN QUERY PLAN lines of q with args, on the
// writer connection (so write statements are planned too; nothing runs).
func explain(t *testing.T, s *Store, q string, args ...any) []string {
	t.Helper()
	rows, err := s.w.QueryContext(context.Background(), "EXPLAIN QUERY PLAN "+q, args...)
	if err != nil {
		t.Fatalf("EXPLAIN QUERY PLAN %s: %v", q, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id, parent, notused int
		var detail string
		if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
			t.Fatal(err)
		}
		out = append(out, detail)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

var (
	// scanRE matches a full scan of a table (not of json_each's virtual
	// table, a subquery's result or a constant row).
	scanRE = regexp.MustCompile(`^SCAN (\w+)`)
	// walkRE matches a search keyed only by tenant (or tenant and group):
	// a walk over all the tenant's (or the group's) rows.
	walkRE = regexp.MustCompile(`^SEARCH \w+ USING .*\(tenant=\?( AND group_id=\?)?\)`)
)

// badPlanLines returns the lines of plan that walk a whole table or a
// whole tenant (or group) and are not in allowed.
func badPlanLines(plan []string, allowed map[string]string) []string {
	var bad []string
	for _, l := range plan {
		if _, ok := allowed[l]; ok {
			continue
		}
		if m := scanRE.FindStringSubmatch(l); m != nil && !strings.Contains(l, "VIRTUAL TABLE") && m[1] != "CONSTANT" {
			bad = append(bad, l)
		} else if walkRE.MatchString(l) {
			bad = append(bad, l)
		}
	}
	return bad
}

// TestQueryPlans fails when a statement of queries.go walks a tenant
// table: a SCAN of a table, or a SEARCH keyed only by tenant (or tenant and
// group) that its case does not list as an expected walk. It plans every
// statement twice: without statistics (as every file is used, the store
// never runs ANALYZE) and after ANALYZE (as a file someone analysed would
// be), so neither the planner's defaults nor gathered statistics may bring
// a walk back. A driver upgrade that changes a plan fails here.
func TestQueryPlans(t *testing.T) {
	s := planFixture(t)
	for _, stats := range []bool{false, true} {
		if stats {
			if _, err := s.w.Exec(`ANALYZE`); err != nil {
				t.Fatal(err)
			}
		}
		for _, c := range planCases {
			plan := explain(t, s, c.q, c.args...)
			if bad := badPlanLines(plan, c.walks); len(bad) > 0 {
				t.Errorf("%s (analyzed: %v) walks a tenant table: %q\nplan:\n  %s\nsql: %s",
					c.name, stats, bad, strings.Join(plan, "\n  "), c.q)
			}
		}
	}
}

// TestBadPlanLines checks the classifier on plans of both kinds.
func TestBadPlanLines(t *testing.T) {
	for _, tc := range []struct {
		line string
		bad  bool
	}{
		{"SEARCH u USING INDEX scim_users_order (tenant=?)", true},
		{"SCAN scim_users", true},
		{"SCAN u USING COVERING INDEX scim_users_order", true},
		{"SEARCH scim_users USING COVERING INDEX scim_users_order (tenant=?)", true},
		{"SEARCH memberships USING PRIMARY KEY (tenant=? AND group_id=?)", true},
		{"SCAN tokens", true},
		{"SCAN j VIRTUAL TABLE INDEX 1:", false},
		{"SCAN CONSTANT ROW", false},
		{"SEARCH u USING INDEX sqlite_autoindex_scim_users_1 (tenant=? AND id=?)", false},
		{"SEARCH m USING COVERING INDEX memberships_by_user (tenant=? AND user_id=?)", false},
		{"SEARCH scim_users USING INDEX scim_users_order (tenant=? AND seq>?)", false},
		{"SEARCH tokens USING INDEX sqlite_autoindex_tokens_2 (hash=?)", false},
		{"USE TEMP B-TREE FOR ORDER BY", false},
	} {
		if got := len(badPlanLines([]string{tc.line}, nil)) > 0; got != tc.bad {
			t.Errorf("badPlanLines(%q) = %v; want %v", tc.line, got, tc.bad)
		}
	}
}

// sqlFiles are the files whose statements all come from queries.go.
var sqlFiles = []string{"users.go", "groups.go", "roles.go", "tokens.go", "leases.go", "plans.go", "sessions.go", "provlog.go", "page.go"}

// TestPlanCasesComplete checks that planCases names every q* constant of
// queries.go exactly once, and that the files in sqlFiles pass the
// database nothing but identifiers as SQL (no literal, no concatenation),
// so no statement escapes TestQueryPlans.
func TestPlanCasesComplete(t *testing.T) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "queries.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var consts []string
	for _, d := range f.Decls {
		if gd, ok := d.(*ast.GenDecl); ok && gd.Tok == token.CONST {
			for _, sp := range gd.Specs {
				for _, n := range sp.(*ast.ValueSpec).Names {
					if strings.HasPrefix(n.Name, "q") {
						consts = append(consts, n.Name)
					}
				}
			}
		}
	}
	var cased []string
	for _, c := range planCases {
		cased = append(cased, c.name)
	}
	slices.Sort(consts)
	slices.Sort(cased)
	if !slices.Equal(consts, cased) {
		t.Errorf("planCases names %v;\nqueries.go defines %v", cased, consts)
	}

	dbCalls := map[string]bool{"QueryContext": true, "QueryRowContext": true, "ExecContext": true, "PrepareContext": true,
		"query": true, "queryRow": true, "exec": true, "Query": true, "QueryRow": true, "Exec": true}
	for _, name := range sqlFiles {
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok || !dbCalls[sel.Sel.Name] {
				return true
			}
			if len(call.Args) < 2 {
				t.Errorf("%s: %s call with %d arguments", fset.Position(call.Pos()), sel.Sel.Name, len(call.Args))
				return true
			}
			if _, ok := call.Args[1].(*ast.Ident); !ok {
				t.Errorf("%s: %s's SQL is not a named constant of queries.go", fset.Position(call.Pos()), sel.Sel.Name)
			}
			return true
		})
	}
}

// TestLogQueryPlans plans the provisioning log queries (logQuerySQL) for
// each filter on both tables: a name filter goes through the (tenant,
// name_key, n) index; without one the query walks the tenant's entries
// newest first (its primary key (tenant, n) backwards) and stops at the limit, which
// the retention bounds; none sorts the tenant's entries (a temporary
// B-tree) or scans a table.
func TestLogQueryPlans(t *testing.T) {
	s := planFixture(t)
	for _, table := range []string{"provisioning_log", "provisioning_log_rejected"} {
		byName := "SEARCH " + table + " USING INDEX " + table + "_name (tenant=? AND name_key=?)"
		walk := "SEARCH " + table + " USING INDEX sqlite_autoindex_" + table + "_1 (tenant=?)" // its primary key (tenant, n)
		for name, c := range map[string]struct {
			q    store.LogQuery
			want string
		}{
			"no filter":     {store.LogQuery{}, walk},
			"name":          {store.LogQuery{Name: "Ada@example.com"}, byName},
			"name and type": {store.LogQuery{Name: "ada@example.com", ResourceType: "User", Actor: store.ActorOktaPush}, byName},
			"type":          {store.LogQuery{ResourceType: "Group"}, walk},
			"actor":         {store.LogQuery{Actor: store.ActorOktaPush, Outcome: store.OutcomeRejected}, walk},
			"since":         {store.LogQuery{Since: time.Unix(100, 0)}, walk},
		} {
			q, args := logQuerySQL(table, "big", c.q)
			plan := explain(t, s, q, args...)
			ok := false
			for _, l := range plan {
				if strings.HasPrefix(l, c.want) {
					ok = true
				}
				if strings.Contains(l, "TEMP B-TREE") || scanRE.MatchString(l) {
					t.Errorf("%s, %s: %q\nplan:\n  %s", table, name, l, strings.Join(plan, "\n  "))
				}
			}
			if !ok {
				t.Errorf("%s, %s: want %q\nplan:\n  %s", table, name, c.want, strings.Join(plan, "\n  "))
			}
		}
	}
}
