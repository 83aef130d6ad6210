// Package storetest is the conformance suite every store.State backend
// passes: Run executes one subtest per behaviour of the interface contract
// (tenants, tokens, users, groups, memberships, concurrency, scale,
// leases, reconcile run records, roles, the provisioning log), and the
// Benchmark* helpers measure the hot paths the same way for every backend.
//
// Only backend tests import it (store/sqlitestore, store/redisstore and any
// future backend, from their _test.go files); production code never does.
//
// Every subtest works in tenants of its own, named with a random suffix, so
// backends that share one server (one Redis database) between subtests or
// between concurrent test binaries do not interfere.
package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/axonflow/axonflow-sync/mapping"
	"github.com/axonflow/axonflow-sync/store"
)

// Run runs the whole conformance suite against a backend. open returns a
// ready State; it may be called once per subtest (the suite calls it at the
// start of every subtest and closes nothing itself: open registers cleanup
// with t.Cleanup if the backend needs it). All subtests may share one
// backend: each uses fresh, randomly named tenants.
func Run(t *testing.T, open func(t *testing.T) store.State) {
	t.Helper()
	for _, tc := range []struct {
		name string
		fn   func(t *testing.T, f *fixture)
	}{
		{"Ping", testPing},
		{"Tenants", testTenants},
		{"Tokens", testTokens},
		{"TokenTenantIsolation", testTokenIsolation},
		{"UserRoundTrip", testUserRoundTrip},
		{"UserNameUnique", testUserNameUnique},
		{"UserNameLookalikes", testUserNameLookalikes},
		{"UserExternalIDUnique", testUserExternalIDUnique},
		{"FindUser", testFindUser},
		{"UpdateUser", testUpdateUser},
		{"UpdateUserRenameConflict", testUpdateUserRenameConflict},
		{"UpdateUserVersion", testUpdateUserVersion},
		{"UpdateUserExternalIDRemoved", testUpdateUserExternalIDRemoved},
		{"DeleteUser", testDeleteUser},
		{"GetUsers", testGetUsers},
		{"ListUsers", testListUsers},
		{"ScanUsers", testScanUsers},
		{"UserTenantIsolation", testUserIsolation},
		{"GroupCreate", testGroupCreate},
		{"GroupCreateUnknownMembers", testGroupCreateUnknownMembers},
		{"GroupDisplayNameUnique", testGroupDisplayNameUnique},
		{"GroupExternalID", testGroupExternalID},
		{"UpdateGroupAttrs", testUpdateGroupAttrs},
		{"UpdateGroupMembersOrder", testUpdateGroupMembersOrder},
		{"UpdateGroupNoop", testUpdateGroupNoop},
		{"UpdateGroupVersion", testUpdateGroupVersion},
		{"UpdateGroupUnknownMembers", testUpdateGroupUnknownMembers},
		{"UpdateGroupOktaID", testUpdateGroupOktaID},
		{"MembersGuard", testMembersGuard},
		{"MembersGuardConcurrent", testMembersGuardConcurrent},
		{"UserGroups", testUserGroups},
		{"DeleteGroup", testDeleteGroup},
		{"DeleteGroupExpectVersion", testDeleteGroupExpectVersion},
		{"GetListGroups", testGetListGroups},
		{"ScanGroups", testScanGroups},
		{"GroupTenantIsolation", testGroupIsolation},
		{"ConcurrentAddMembers", testConcurrentAddMembers},
		{"ConcurrentCreateUser", testConcurrentCreateUser},
		{"ConcurrentUpdateUser", testConcurrentUpdateUser},
		{"ConcurrentUpdateGroup", testConcurrentUpdateGroup},
		{"ConcurrentDeleteUserAddMember", testConcurrentDeleteUserAddMember},
		{"LargeGroup", testLargeGroup},
		{"LeaseLifecycle", testLeaseLifecycle},
		{"LeaseExpiry", testLeaseExpiry},
		{"LeaseConcurrentAcquire", testLeaseConcurrentAcquire},
		{"Runs", testRuns},
		{"Plans", testPlans},
		{"RunsConcurrentSave", testRunsConcurrentSave},
		{"RoleMappings", testRoleMappings},
		{"RoleAssignments", testRoleAssignments},
		{"DefaultRole", testDefaultRole},
		{"UserContext", testUserContext},
		{"LookupUserContext", testLookupUserContext},
		{"ConcurrentDeleteUserAssignRole", testConcurrentDeleteUserAssignRole},
		{"LogRoundTrip", testLogRoundTrip},
		{"LogFilters", testLogFilters},
		{"LogOrder", testLogOrder},
		{"LogRetentionCount", testLogRetentionCount},
		{"LogRetentionAge", testLogRetentionAge},
		{"LogConcurrentAppend", testLogConcurrentAppend},
		{"LogWrites", testLogWrites},
		{"LogRejectionsApart", testLogRejectionsApart},
		{"UpdateWith", testUpdateWith},
		{"Sessions", testSessions},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := open(t)
			tc.fn(t, newFixture(t, s))
		})
	}
}

// t0 is the base time of the suite: UTC with nanoseconds, so backends must
// keep full precision.
var t0 = time.Date(2025, 3, 14, 15, 9, 26, 535897932, time.UTC)

// at returns t0 plus n seconds and n nanoseconds.
func at(n int) time.Time { return t0.Add(time.Duration(n)*time.Second + time.Duration(n)) }

type fixture struct {
	t      testing.TB
	s      store.State
	ctx    context.Context
	tenant string
}

func newFixture(t testing.TB, s store.State) *fixture {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	t.Cleanup(cancel)
	f := &fixture{t: t, s: s, ctx: ctx}
	f.tenant = f.newTenant()
	return f
}

// randHex returns n random bytes hex-encoded.
func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// newID returns a random resource id with a readable prefix.
func newID(prefix string) string { return prefix + "-" + randHex(8) }

// newTenant creates (EnsureTenant) and returns a fresh tenant id.
func (f *fixture) newTenant() string {
	f.t.Helper()
	id := "st-" + randHex(6)
	created, err := f.s.EnsureTenant(f.ctx, id, t0)
	if err != nil {
		f.t.Fatalf("EnsureTenant(%q): %v", id, err)
	}
	if !created {
		f.t.Fatalf("EnsureTenant(%q) of a fresh id: created = false", id)
	}
	return id
}

// user returns a new, unsaved user with a random id.
func user(userName, externalID string, n int) *mapping.User {
	a := mapping.Attrs{"userName": userName, "active": true}
	if externalID != "" {
		a["externalId"] = externalID
	}
	return &mapping.User{
		ID: newID("u"), Attrs: a, Origin: mapping.OriginOktaPush,
		Created: at(n), LastModified: at(n),
	}
}

// group returns a new, unsaved group with a random id.
func group(displayName, externalID string, n int) *mapping.Group {
	a := mapping.Attrs{"displayName": displayName}
	if externalID != "" {
		a["externalId"] = externalID
	}
	return &mapping.Group{
		ID: newID("g"), Attrs: a, Origin: mapping.OriginOktaPush,
		Created: at(n), LastModified: at(n),
	}
}

func (f *fixture) createUser(tenant, userName, externalID string) *mapping.User {
	f.t.Helper()
	u := user(userName, externalID, 1)
	if err := f.s.CreateUser(f.ctx, tenant, u); err != nil {
		f.t.Fatalf("CreateUser(%s, %q): %v", tenant, userName, err)
	}
	return u
}

// createUsers creates n users named prefix-i in f.tenant and returns their ids.
func (f *fixture) createUsers(prefix string, n int) []string {
	f.t.Helper()
	ids := make([]string, n)
	for i := range n {
		u := user(fmt.Sprintf("%s-%d@example.com", prefix, i), "", i)
		if err := f.s.CreateUser(f.ctx, f.tenant, u); err != nil {
			f.t.Fatalf("CreateUser #%d: %v", i, err)
		}
		ids[i] = u.ID
	}
	return ids
}

func (f *fixture) createGroup(tenant, displayName, externalID string, members ...string) *mapping.Group {
	f.t.Helper()
	g := group(displayName, externalID, 1)
	if err := f.s.CreateGroup(f.ctx, tenant, g, members); err != nil {
		f.t.Fatalf("CreateGroup(%s, %q): %v", tenant, displayName, err)
	}
	return g
}

func (f *fixture) getUser(tenant, id string) *mapping.User {
	f.t.Helper()
	u, err := f.s.GetUser(f.ctx, tenant, id)
	if err != nil {
		f.t.Fatalf("GetUser(%s, %s): %v", tenant, id, err)
	}
	return u
}

func (f *fixture) getGroup(tenant, id string) *mapping.Group {
	f.t.Helper()
	g, err := f.s.GetGroup(f.ctx, tenant, id)
	if err != nil {
		f.t.Fatalf("GetGroup(%s, %s): %v", tenant, id, err)
	}
	return g
}

// members returns the sorted member ids of a group.
func (f *fixture) members(tenant, gid string) []string {
	f.t.Helper()
	m, err := f.s.GroupMembers(f.ctx, tenant, gid)
	if err != nil {
		f.t.Fatalf("GroupMembers(%s, %s): %v", tenant, gid, err)
	}
	return sorted(m)
}

// userGroups returns the sorted group ids of one user.
func (f *fixture) userGroups(tenant, uid string) []string {
	f.t.Helper()
	m, err := f.s.UserGroups(f.ctx, tenant, []string{uid})
	if err != nil {
		f.t.Fatalf("UserGroups(%s, %s): %v", tenant, uid, err)
	}
	return sorted(m[uid])
}

func (f *fixture) update(tenant, gid string, c store.GroupChange) *mapping.Group {
	f.t.Helper()
	g, err := f.s.UpdateGroup(f.ctx, tenant, gid, c)
	if err != nil {
		f.t.Fatalf("UpdateGroup(%s, %s, %+v): %v", tenant, gid, c, err)
	}
	if g == nil {
		f.t.Fatalf("UpdateGroup(%s, %s): nil group without error", tenant, gid)
	}
	return g
}

// wantFindUser asserts FindUser(idx, value) returns want ("" means ErrNotFound).
func (f *fixture) wantFindUser(tenant string, idx store.Index, value, want string) {
	f.t.Helper()
	id, err := f.s.FindUser(f.ctx, tenant, idx, value)
	if want == "" {
		if !errors.Is(err, store.ErrNotFound) {
			f.t.Errorf("FindUser(%s, %s, %q) = %q, %v; want ErrNotFound", tenant, idx, value, id, err)
		}
		return
	}
	if err != nil || id != want {
		f.t.Errorf("FindUser(%s, %s, %q) = %q, %v; want %q", tenant, idx, value, id, err, want)
	}
}

// wantFindGroup asserts FindGroup(idx, value) returns want ("" means ErrNotFound).
func (f *fixture) wantFindGroup(tenant string, idx store.Index, value, want string) {
	f.t.Helper()
	id, err := f.s.FindGroup(f.ctx, tenant, idx, value)
	if want == "" {
		if !errors.Is(err, store.ErrNotFound) {
			f.t.Errorf("FindGroup(%s, %s, %q) = %q, %v; want ErrNotFound", tenant, idx, value, id, err)
		}
		return
	}
	if err != nil || id != want {
		f.t.Errorf("FindGroup(%s, %s, %q) = %q, %v; want %q", tenant, idx, value, id, err, want)
	}
}

func wantNotFound(t testing.TB, err error, what string) {
	t.Helper()
	if !errors.Is(err, store.ErrNotFound) {
		t.Errorf("%s: err = %v; want ErrNotFound", what, err)
	}
}

func wantVersionMismatch(t testing.TB, err error, what string) {
	t.Helper()
	if !errors.Is(err, store.ErrVersionMismatch) {
		t.Errorf("%s: err = %v; want ErrVersionMismatch", what, err)
	}
}

func wantConflict(t testing.TB, err error, attr, value, what string) {
	t.Helper()
	var ce *store.ConflictError
	if !errors.As(err, &ce) {
		t.Errorf("%s: err = %v; want *ConflictError{%s, %q}", what, err, attr, value)
		return
	}
	if ce.Attr != attr || ce.Value != value {
		t.Errorf("%s: ConflictError{%q, %q}; want {%q, %q}", what, ce.Attr, ce.Value, attr, value)
	}
}

func wantUnknown(t testing.TB, err error, what string, ids ...string) {
	t.Helper()
	var ue *store.UnknownMembersError
	if !errors.As(err, &ue) {
		t.Errorf("%s: err = %v; want *UnknownMembersError%v", what, err, ids)
		return
	}
	if got, want := sorted(ue.IDs), sorted(ids); !slices.Equal(got, want) {
		t.Errorf("%s: UnknownMembersError.IDs = %v; want %v", what, got, want)
	}
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	if s == nil {
		s = []string{}
	}
	return s
}

func sortedOf(s ...string) []string { return sorted(s) }

func wantStrings(t testing.TB, what string, got, want []string) {
	t.Helper()
	if len(got) == 0 && len(want) == 0 {
		return
	}
	if !slices.Equal(got, want) {
		t.Errorf("%s = %v; want %v", what, got, want)
	}
}

func wantTime(t testing.TB, what string, got, want time.Time) {
	t.Helper()
	if !got.Equal(want) {
		t.Errorf("%s = %v; want %v", what, got, want)
	}
}

func wantAttrs(t testing.TB, what string, got, want mapping.Attrs) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s: attrs differ\n got: %#v\nwant: %#v", what, got, want)
	}
}

// userIDs returns the ids of users, in order.
func userIDs(us []*mapping.User) []string {
	ids := make([]string, len(us))
	for i, u := range us {
		ids[i] = u.ID
	}
	return ids
}

func groupIDs(gs []*mapping.Group) []string {
	ids := make([]string, len(gs))
	for i, g := range gs {
		ids[i] = g.ID
	}
	return ids
}

func testPing(t *testing.T, f *fixture) {
	if err := f.s.Ping(f.ctx); err != nil {
		t.Fatalf("Ping: %v", err)
	}
}

var zeroTime time.Time
