package storetest

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/axonflow/axonflow-sync/store"
)

func testTenants(t *testing.T, f *fixture) {
	// f.tenant was created at t0 by newFixture; a second call must not
	// create it again nor change its creation time.
	created, err := f.s.EnsureTenant(f.ctx, f.tenant, at(100))
	if err != nil || created {
		t.Fatalf("EnsureTenant(existing) = %v, %v; want false, nil", created, err)
	}
	suffix := randHex(4)
	ids := []string{"st-c-" + suffix, "st-a-" + suffix, "st-b-" + suffix}
	for i, id := range ids {
		created, err := f.s.EnsureTenant(f.ctx, id, at(i))
		if err != nil || !created {
			t.Fatalf("EnsureTenant(%q) = %v, %v; want true, nil", id, created, err)
		}
	}
	ts, err := f.s.ListTenants(f.ctx)
	if err != nil {
		t.Fatalf("ListTenants: %v", err)
	}
	if !slices.IsSortedFunc(ts, func(a, b store.Tenant) int { return strings.Compare(a.ID, b.ID) }) {
		t.Errorf("ListTenants not sorted by id: %v", ts)
	}
	want := map[string]int{f.tenant: -1, ids[0]: 0, ids[1]: 1, ids[2]: 2}
	var got []string
	for _, tn := range ts {
		n, ok := want[tn.ID]
		if !ok {
			continue // other tests' tenants in a shared backend
		}
		got = append(got, tn.ID)
		if n < 0 {
			wantTime(t, "Created of "+tn.ID, tn.Created, t0)
		} else {
			wantTime(t, "Created of "+tn.ID, tn.Created, at(n))
		}
	}
	wantStrings(t, "ListTenants (ours)", got, sortedOf(f.tenant, ids[0], ids[1], ids[2]))
}

func newToken(tenant, name string, n int) store.Token {
	return store.Token{
		ID: newID("tok"), Tenant: tenant, Name: name, Prefix: "afs_" + randHex(2),
		Hash: randHex(32), Created: at(n),
	}
}

func (f *fixture) tokenByHash(hash string) store.Token {
	f.t.Helper()
	tok, err := f.s.TokenByHash(f.ctx, hash)
	if err != nil {
		f.t.Fatalf("TokenByHash: %v", err)
	}
	return tok
}

func wantToken(t *testing.T, what string, got, want store.Token) {
	t.Helper()
	if got.ID != want.ID || got.Tenant != want.Tenant || got.Name != want.Name ||
		got.Prefix != want.Prefix || got.Hash != want.Hash || got.ReplacedBy != want.ReplacedBy {
		t.Errorf("%s = %+v; want %+v", what, got, want)
	}
	wantTime(t, what+".Created", got.Created, want.Created)
	wantTime(t, what+".ExpiresAt", got.ExpiresAt, want.ExpiresAt)
	wantTime(t, what+".LastUsedAt", got.LastUsedAt, want.LastUsedAt)
	wantTime(t, what+".RevokedAt", got.RevokedAt, want.RevokedAt)
}

func testTokens(t *testing.T, f *fixture) {
	// Created out of insertion order: ListTokens orders by Created.
	a := newToken(f.tenant, "alpha", 3)
	b := newToken(f.tenant, "beta", 1)
	c := newToken(f.tenant, "gamma ✓", 2)
	c.ExpiresAt = at(50)
	for _, tok := range []store.Token{a, b, c} {
		if err := f.s.CreateToken(f.ctx, tok); err != nil {
			t.Fatalf("CreateToken(%s): %v", tok.Name, err)
		}
	}
	wantToken(t, "TokenByHash(a)", f.tokenByHash(a.Hash), a)
	wantToken(t, "TokenByHash(c)", f.tokenByHash(c.Hash), c)
	_, err := f.s.TokenByHash(f.ctx, randHex(32))
	wantNotFound(t, err, "TokenByHash(unknown)")

	list, err := f.s.ListTokens(f.ctx, f.tenant)
	if err != nil {
		t.Fatalf("ListTokens: %v", err)
	}
	if len(list) != 3 {
		t.Fatalf("ListTokens: %d tokens; want 3", len(list))
	}
	for i, want := range []store.Token{b, c, a} {
		wantToken(t, "ListTokens["+string(rune('0'+i))+"]", list[i], want)
	}
	if list, err := f.s.ListTokens(f.ctx, f.newTenant()); err != nil || len(list) != 0 {
		t.Errorf("ListTokens(empty tenant) = %v, %v; want none", list, err)
	}

	// Revoke: idempotent, the first time is kept.
	if err := f.s.RevokeToken(f.ctx, f.tenant, a.ID, at(10)); err != nil {
		t.Fatalf("RevokeToken: %v", err)
	}
	if err := f.s.RevokeToken(f.ctx, f.tenant, a.ID, at(20)); err != nil {
		t.Fatalf("RevokeToken again: %v", err)
	}
	a.RevokedAt = at(10)
	got := f.tokenByHash(a.Hash)
	wantToken(t, "revoked token", got, a)
	if got.Valid(at(11)) {
		t.Errorf("revoked token is Valid")
	}

	// Expiry: set (with the token a rotation replaced it by), then
	// cleared (and its replacement with it).
	if err := f.s.SetTokenExpiry(f.ctx, f.tenant, c.ID, at(25), "tok_next"); err != nil {
		t.Fatalf("SetTokenExpiry(rotation): %v", err)
	}
	c.ExpiresAt, c.ReplacedBy = at(25), "tok_next"
	wantToken(t, "rotated token", f.tokenByHash(c.Hash), c)
	// A second replacement is refused and changes nothing (of two
	// rotations at once, one wins).
	if err := f.s.SetTokenExpiry(f.ctx, f.tenant, c.ID, at(26), "tok_other"); !errors.Is(err, store.ErrTokenReplaced) {
		t.Fatalf("SetTokenExpiry(second replacement) = %v; want ErrTokenReplaced", err)
	}
	wantToken(t, "token after a refused second replacement", f.tokenByHash(c.Hash), c)
	if err := f.s.SetTokenExpiry(f.ctx, f.tenant, b.ID, at(30), ""); err != nil {
		t.Fatalf("SetTokenExpiry: %v", err)
	}
	b.ExpiresAt = at(30)
	wantToken(t, "token with expiry", f.tokenByHash(b.Hash), b)
	if got := f.tokenByHash(b.Hash); got.Valid(at(31)) || !got.Valid(at(29)) {
		t.Errorf("expiry at(30): Valid(at31)=%v Valid(at29)=%v", got.Valid(at(31)), got.Valid(at(29)))
	}
	if err := f.s.SetTokenExpiry(f.ctx, f.tenant, c.ID, zeroTime, ""); err != nil {
		t.Fatalf("SetTokenExpiry(zero): %v", err)
	}
	c.ExpiresAt, c.ReplacedBy = zeroTime, ""
	wantToken(t, "token with expiry cleared", f.tokenByHash(c.Hash), c)

	// Touch: last use recorded, later touch overwrites.
	if err := f.s.TouchToken(f.ctx, f.tenant, c.ID, at(40)); err != nil {
		t.Fatalf("TouchToken: %v", err)
	}
	if err := f.s.TouchToken(f.ctx, f.tenant, c.ID, at(41)); err != nil {
		t.Fatalf("TouchToken: %v", err)
	}
	c.LastUsedAt = at(41)
	wantToken(t, "touched token", f.tokenByHash(c.Hash), c)

	// The list reflects the changes.
	list, err = f.s.ListTokens(f.ctx, f.tenant)
	if err != nil || len(list) != 3 {
		t.Fatalf("ListTokens = %d, %v; want 3", len(list), err)
	}
	for i, want := range []store.Token{b, c, a} {
		wantToken(t, "ListTokens after changes ["+string(rune('0'+i))+"]", list[i], want)
	}

	// Unknown ids.
	unknown := newID("tok")
	wantNotFound(t, f.s.RevokeToken(f.ctx, f.tenant, unknown, at(1)), "RevokeToken(unknown)")
	wantNotFound(t, f.s.SetTokenExpiry(f.ctx, f.tenant, unknown, at(1), ""), "SetTokenExpiry(unknown)")
	wantNotFound(t, f.s.TouchToken(f.ctx, f.tenant, unknown, at(1)), "TouchToken(unknown)")
}

func testTokenIsolation(t *testing.T, f *fixture) {
	ta, tb := f.tenant, f.newTenant()
	a := newToken(ta, "a", 1)
	b := newToken(tb, "b", 2)
	for _, tok := range []store.Token{a, b} {
		if err := f.s.CreateToken(f.ctx, tok); err != nil {
			t.Fatalf("CreateToken: %v", err)
		}
	}
	// The hash resolves the tenant.
	if got := f.tokenByHash(b.Hash); got.Tenant != tb {
		t.Errorf("TokenByHash(b).Tenant = %q; want %q", got.Tenant, tb)
	}
	// Tenant A cannot touch tenant B's token.
	wantNotFound(t, f.s.RevokeToken(f.ctx, ta, b.ID, at(5)), "RevokeToken(B's token via A)")
	wantNotFound(t, f.s.SetTokenExpiry(f.ctx, ta, b.ID, at(5), ""), "SetTokenExpiry(B's token via A)")
	wantNotFound(t, f.s.TouchToken(f.ctx, ta, b.ID, at(5)), "TouchToken(B's token via A)")
	wantToken(t, "B's token after A's attempts", f.tokenByHash(b.Hash), b)
	for tenant, want := range map[string]store.Token{ta: a, tb: b} {
		list, err := f.s.ListTokens(f.ctx, tenant)
		if err != nil || len(list) != 1 {
			t.Fatalf("ListTokens(%s) = %v, %v; want exactly %s", tenant, list, err, want.Name)
		}
		wantToken(t, "ListTokens("+tenant+")[0]", list[0], want)
	}
}
