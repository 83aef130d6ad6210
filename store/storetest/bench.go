package storetest

import (
	"fmt"
	"testing"

	"github.com/axonflow/axonflow-sync/mapping"
	"github.com/axonflow/axonflow-sync/store"
)

// Bench runs every benchmark helper below as a sub-benchmark of b, and
// BenchTenant as sub-benchmark Tenant. open returns a ready State (it may
// register cleanup with tb.Cleanup); it is called once per sub-benchmark
// (once per tenant size in Tenant). seed stores the setup users (nil:
// ParallelSeed). AddMember100k and Tenant/users=100000 create 100,000
// users during setup (outside the timer); select with -bench (e.g.
// 'Store/Tenant/users=1000/') or call the helpers one by one to leave them
// out.
func Bench(b *testing.B, open func(tb testing.TB) store.State, seed Seeder) {
	if seed == nil {
		seed = ParallelSeed
	}
	b.Run("CreateUser", func(b *testing.B) { BenchmarkCreateUser(b, open) })
	b.Run("GetUser", func(b *testing.B) { BenchmarkGetUser(b, open) })
	b.Run("FindUser", func(b *testing.B) { BenchmarkFindUser(b, open) })
	b.Run("UpdateUser", func(b *testing.B) { BenchmarkUpdateUser(b, open) })
	b.Run("ListUsers100", func(b *testing.B) { BenchmarkListUsers(b, open) })
	b.Run("AddMemberSmallGroup", func(b *testing.B) { BenchmarkAddMemberSmallGroup(b, open) })
	b.Run("AddMember100k", func(b *testing.B) { benchAddMember(b, open, 100_000, seed) })
	b.Run("Tenant", func(b *testing.B) { BenchTenant(b, open, seed) })
}

func benchFixture(b *testing.B, open func(tb testing.TB) store.State) *fixture {
	b.Helper()
	return newFixture(b, open(b))
}

// BenchmarkCreateUser measures CreateUser of a small user (userName,
// externalId, name, emails) into a tenant that grows with b.N.
func BenchmarkCreateUser(b *testing.B, open func(tb testing.TB) store.State) {
	f := benchFixture(b, open)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		u := benchUser(i)
		if err := f.s.CreateUser(f.ctx, f.tenant, u); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

func benchUser(i int) *mapping.User {
	u := user(fmt.Sprintf("bench-%d@example.com", i), fmt.Sprintf("00u%08d", i), i)
	u.Attrs["name"] = map[string]any{"givenName": "Bench", "familyName": fmt.Sprint(i)}
	u.Attrs["emails"] = []any{map[string]any{"value": fmt.Sprintf("bench-%d@example.com", i), "primary": true}}
	return u
}

// benchUsers creates n benchUser users in f.tenant with seed (nil:
// CreateUser one by one) and returns their ids.
func benchUsers(b *testing.B, f *fixture, n int, seed Seeder) []string {
	b.Helper()
	us := make([]*mapping.User, n)
	ids := make([]string, n)
	for i := range n {
		us[i] = benchUser(i)
		ids[i] = us[i].ID
	}
	if seed != nil {
		seed(b, f.s, f.tenant, us)
		return ids
	}
	for _, u := range us {
		if err := f.s.CreateUser(f.ctx, f.tenant, u); err != nil {
			b.Fatal(err)
		}
	}
	return ids
}

// BenchmarkGetUser measures GetUser of one user among 1,000.
func BenchmarkGetUser(b *testing.B, open func(tb testing.TB) store.State) {
	f := benchFixture(b, open)
	ids := benchUsers(b, f, 1000, nil)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := f.s.GetUser(f.ctx, f.tenant, ids[i%len(ids)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkFindUser measures FindUser by userName (in another letter case)
// among 1,000 users.
func BenchmarkFindUser(b *testing.B, open func(tb testing.TB) store.State) {
	f := benchFixture(b, open)
	const n = 1000
	benchUsers(b, f, n, nil)
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("BENCH-%d@EXAMPLE.COM", i)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := f.s.FindUser(f.ctx, f.tenant, store.IndexUserName, names[i%n]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkUpdateUser measures UpdateUser with an expected version.
func BenchmarkUpdateUser(b *testing.B, open func(tb testing.TB) store.State) {
	f := benchFixture(b, open)
	u := benchUser(0)
	if err := f.s.CreateUser(f.ctx, f.tenant, u); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		u.Attrs["title"] = fmt.Sprint(i)
		u.LastModified = at(i)
		if err := f.s.UpdateUser(f.ctx, f.tenant, u, u.Version); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkListUsers measures one page of 100 users among 1,000.
func BenchmarkListUsers(b *testing.B, open func(tb testing.TB) store.State) {
	f := benchFixture(b, open)
	benchUsers(b, f, 1000, nil)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		p, err := f.s.ListUsers(f.ctx, f.tenant, (i%10)*100, 100)
		if err != nil || len(p.Items) != 100 {
			b.Fatalf("ListUsers: %d items, %v", len(p.Items), err)
		}
		i++
	}
}

// BenchmarkAddMemberSmallGroup measures adding one member to a group of 10.
// Compare with BenchmarkAddMember100k: the cost must not depend on the
// group's size.
func BenchmarkAddMemberSmallGroup(b *testing.B, open func(tb testing.TB) store.State) {
	benchAddMember(b, open, 10, nil)
}

// BenchmarkAddMember100k measures adding one member to a group of 100,000
// (setup, outside the timer, creates the 100,000 users with ParallelSeed).
func BenchmarkAddMember100k(b *testing.B, open func(tb testing.TB) store.State) {
	benchAddMember(b, open, 100_000, ParallelSeed)
}

// benchAddMember builds a group of size members, then times single-member
// adds (one UpdateGroup with one Add each) from a pool of 1,000 other
// users; when the pool is used up, it is removed again outside the timer.
// seed creates the users (nil: CreateUser one by one).
func benchAddMember(b *testing.B, open func(tb testing.TB) store.State, size int, seed Seeder) {
	f := benchFixture(b, open)
	const pool = 1000
	ids := benchUsers(b, f, size+pool, seed)
	members, extra := ids[:size], ids[size:]
	g := group("bench-group", "", 0)
	const batch = 1000
	if err := f.s.CreateGroup(f.ctx, f.tenant, g, members[:min(batch, size)]); err != nil {
		b.Fatal(err)
	}
	for i := batch; i < size; i += batch {
		if _, err := f.s.UpdateGroup(f.ctx, f.tenant, g.ID, store.GroupChange{Add: members[i:min(i+batch, size)], At: at(i)}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if i > 0 && i%pool == 0 {
			b.StopTimer()
			if _, err := f.s.UpdateGroup(f.ctx, f.tenant, g.ID, store.GroupChange{Remove: extra, At: at(i)}); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
		}
		if _, err := f.s.UpdateGroup(f.ctx, f.tenant, g.ID, store.GroupChange{Add: []string{extra[i%pool]}, At: at(i)}); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
