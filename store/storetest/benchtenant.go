package storetest

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/axonflow/axonflow-sync/mapping"
	"github.com/axonflow/axonflow-sync/store"
)

// Seeder stores users (IDs set, Version 0) in tenant, which exists, as
// fast as the backend allows, and sets each user's Version to what the
// store holds (1). It fails tb on error. The result must equal a
// CreateUser of each user.
type Seeder func(tb testing.TB, s store.State, tenant string, users []*mapping.User)

// ParallelSeed is the default Seeder: CreateUser from 16 goroutines.
func ParallelSeed(tb testing.TB, s store.State, tenant string, users []*mapping.User) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	const workers = 16
	var wg sync.WaitGroup
	errs := make([]error, workers)
	for w := range workers {
		wg.Go(func() {
			for i := w; i < len(users); i += workers {
				if err := s.CreateUser(ctx, tenant, users[i]); err != nil {
					errs[w] = err
					return
				}
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			tb.Fatalf("seed: %v", err)
		}
	}
}

// TenantSizes are the tenant sizes (users) BenchTenant runs at. A cost that
// grows with the tenant shows as a ratio between the two.
var TenantSizes = []int{1000, 100_000}

// benchGroupSize is the number of users per seeded group: every seeded user
// is a member of exactly one group.
const benchGroupSize = 1000

// tenantBench is one seeded tenant of a BenchTenant size.
type tenantBench struct {
	f     *fixture
	users []*mapping.User // seeded, Version kept current by UpdateUser
	small *mapping.Group  // 10 members, the target of member adds
}

// spread maps the i-th iteration to a user index spread over the whole
// tenant (a stride prime to the size), so reads do not hit the same few
// pages.
func (t *tenantBench) spread(i int) int { return (i * 7919) % len(t.users) }

// BenchTenant runs, for each of TenantSizes, one sub-benchmark users=<n>
// that opens a store, seeds one tenant with n users (seed; nil:
// ParallelSeed), n/1000 groups of 1,000 of them (each user in one group), a
// role mapping of the first group, a default role, a manual role for 100
// users and a 10-member group, then times the hot paths in it:
//
//   - GetUser: GetUser by id
//   - UserContext: UserContext of one user with the user (GET /Users/{id})
//   - FindUserContext: FindUser(userName, in upper case) + UserContext (a
//     `userName eq` filter)
//   - ListUsers100: a page of 100 among the first 1,000 (with Total)
//   - ListUsers100Last: the last page of 100 (startIndex = n-99)
//   - ListUsersWalk: the next page of 100 of a walk through the whole
//     tenant, page after page (Okta's import: startIndex 1, 101, ...)
//   - CreateUser: the tenant grows by at most 1,000 (they are deleted
//     outside the timer)
//   - UpdateUser: a full replace with the expected version
//   - UpdateGroupAdd: UpdateGroup adding one member to the 10-member group
//     (the added users are removed again outside the timer)
//
// Seeding happens once per size, outside every timer.
func BenchTenant(b *testing.B, open func(tb testing.TB) store.State, seed Seeder) {
	if seed == nil {
		seed = ParallelSeed
	}
	for _, n := range TenantSizes {
		b.Run(fmt.Sprintf("users=%d", n), func(b *testing.B) {
			t := seedTenant(b, open(b), seed, n)
			b.Run("GetUser", func(b *testing.B) { t.benchGetUser(b) })
			b.Run("UserContext", func(b *testing.B) { t.benchUserContext(b) })
			b.Run("FindUserContext", func(b *testing.B) { t.benchFindUserContext(b) })
			b.Run("LookupUserContext", func(b *testing.B) { t.benchLookupUserContext(b) })
			b.Run("ListUsers100", func(b *testing.B) { t.benchListUsers(b, false) })
			b.Run("ListUsers100Last", func(b *testing.B) { t.benchListUsers(b, true) })
			b.Run("ListUsersWalk", func(b *testing.B) { t.benchListUsersWalk(b) })
			b.Run("CreateUser", func(b *testing.B) { t.benchCreateUser(b) })
			b.Run("UpdateUser", func(b *testing.B) { t.benchUpdateUser(b) })
			b.Run("UpdateGroupAdd", func(b *testing.B) { t.benchUpdateGroupAdd(b) })
		})
	}
}

func seedTenant(b *testing.B, s store.State, seed Seeder, n int) *tenantBench {
	b.Helper()
	t := &tenantBench{f: newFixture(b, s)}
	f := t.f
	t.users = make([]*mapping.User, n)
	for i := range t.users {
		t.users[i] = benchUser(i)
	}
	seed(b, s, f.tenant, t.users)
	var groups []*mapping.Group
	for i := 0; i < n; i += benchGroupSize {
		g := group(fmt.Sprintf("bench-group-%d", i/benchGroupSize), "", i)
		ids := make([]string, 0, benchGroupSize)
		for _, u := range t.users[i:min(i+benchGroupSize, n)] {
			ids = append(ids, u.ID)
		}
		if err := s.CreateGroup(f.ctx, f.tenant, g, ids); err != nil {
			b.Fatal(err)
		}
		groups = append(groups, g)
	}
	t.small = group("bench-small", "", 0)
	small := make([]string, 10)
	for i := range small {
		small[i] = t.users[i].ID
	}
	if err := s.CreateGroup(f.ctx, f.tenant, t.small, small); err != nil {
		b.Fatal(err)
	}
	if err := s.PutRoleMapping(f.ctx, f.tenant, mapping.RoleMapping{Group: groups[0].ID, Role: mapping.RoleDeveloper, Source: mapping.SourceAPI}); err != nil {
		b.Fatal(err)
	}
	if err := s.SetDefaultRole(f.ctx, f.tenant, mapping.RoleViewer); err != nil {
		b.Fatal(err)
	}
	for i := 0; i < 100; i++ {
		if err := s.AssignRole(f.ctx, f.tenant, t.users[t.spread(i)].ID, mapping.RoleAdmin, mapping.SourceManual); err != nil {
			b.Fatal(err)
		}
	}
	return t
}

func (t *tenantBench) benchGetUser(b *testing.B) {
	f := t.f
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := f.s.GetUser(f.ctx, f.tenant, t.users[t.spread(i)].ID); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

func (t *tenantBench) benchUserContext(b *testing.B) {
	f := t.f
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		uc, err := f.s.UserContext(f.ctx, f.tenant, []string{t.users[t.spread(i)].ID}, true)
		if err != nil || len(uc.Users) != 1 {
			b.Fatalf("UserContext: %d users, %v", len(uc.Users), err)
		}
		i++
	}
}

func (t *tenantBench) benchFindUserContext(b *testing.B) {
	f := t.f
	names := make([]string, len(t.users))
	for i, u := range t.users {
		names[i] = strings.ToUpper(u.UserName())
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		id, err := f.s.FindUser(f.ctx, f.tenant, store.IndexUserName, names[t.spread(i)])
		if err != nil {
			b.Fatal(err)
		}
		uc, err := f.s.UserContext(f.ctx, f.tenant, []string{id}, true)
		if err != nil || len(uc.Users) != 1 {
			b.Fatalf("UserContext: %d users, %v", len(uc.Users), err)
		}
		i++
	}
}

// benchLookupUserContext is benchFindUserContext as the SCIM server reads
// it: one LookupUserContext.
func (t *tenantBench) benchLookupUserContext(b *testing.B) {
	f := t.f
	names := make([]string, len(t.users))
	for i, u := range t.users {
		names[i] = strings.ToUpper(u.UserName())
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		uc, err := f.s.LookupUserContext(f.ctx, f.tenant, store.IndexUserName, names[t.spread(i)])
		if err != nil || len(uc.Users) != 1 {
			b.Fatalf("LookupUserContext: %d users, %v", len(uc.Users), err)
		}
		i++
	}
}

func (t *tenantBench) benchListUsers(b *testing.B, last bool) {
	f := t.f
	n := len(t.users)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		off := (i % 10) * 100
		if last {
			off = n - 100
		}
		p, err := f.s.ListUsers(f.ctx, f.tenant, off, 100)
		if err != nil || len(p.Items) != 100 || p.Total != n {
			b.Fatalf("ListUsers: %d items of %d, %v", len(p.Items), p.Total, err)
		}
		i++
	}
}

func (t *tenantBench) benchListUsersWalk(b *testing.B) {
	f := t.f
	n := len(t.users)
	b.ReportAllocs()
	off := 0
	for b.Loop() {
		p, err := f.s.ListUsers(f.ctx, f.tenant, off, 100)
		if err != nil || len(p.Items) != min(100, n-off) || p.Total != n {
			b.Fatalf("ListUsers at %d: %d items of %d, %v", off, len(p.Items), p.Total, err)
		}
		if off += 100; off >= n {
			off = 0
		}
	}
}

func (t *tenantBench) benchCreateUser(b *testing.B) {
	f := t.f
	const batch = 1000
	created := make([]string, 0, batch)
	drop := func() {
		b.StopTimer()
		for _, id := range created {
			if err := f.s.DeleteUser(f.ctx, f.tenant, id); err != nil {
				b.Fatal(err)
			}
		}
		created = created[:0]
		b.StartTimer()
	}
	b.ReportAllocs()
	i := len(t.users)
	for b.Loop() {
		if len(created) == batch {
			drop()
		}
		u := benchUser(i)
		if err := f.s.CreateUser(f.ctx, f.tenant, u); err != nil {
			b.Fatal(err)
		}
		created = append(created, u.ID)
		i++
	}
	drop()
}

func (t *tenantBench) benchUpdateUser(b *testing.B) {
	f := t.f
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		u := t.users[t.spread(i)]
		u.Attrs["title"] = fmt.Sprint(i)
		u.LastModified = at(i)
		if err := f.s.UpdateUser(f.ctx, f.tenant, u, u.Version); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

func (t *tenantBench) benchUpdateGroupAdd(b *testing.B) {
	f := t.f
	// The pool: users not in the small group (which has users[0:10]).
	pool := make([]string, 0, 500)
	for _, u := range t.users[10:min(510, len(t.users))] {
		pool = append(pool, u.ID)
	}
	reset := func(i int) {
		b.StopTimer()
		if _, err := f.s.UpdateGroup(f.ctx, f.tenant, t.small.ID, store.GroupChange{Remove: pool, At: at(i)}); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if i > 0 && i%len(pool) == 0 {
			reset(i)
		}
		if _, err := f.s.UpdateGroup(f.ctx, f.tenant, t.small.ID, store.GroupChange{Add: []string{pool[i%len(pool)]}, At: at(i)}); err != nil {
			b.Fatal(err)
		}
		i++
	}
	reset(i)
}
