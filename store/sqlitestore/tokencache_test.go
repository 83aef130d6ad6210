package sqlitestore

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/axonflow/axonflow-sync/store"
)

const revokeHelperEnv = "SQLITESTORE_REVOKE_HELPER"

// TestHelperRevoke is the body of the child process of
// TestTokenCacheOtherProcess: it revokes a token; it does nothing in a
// normal run.
func TestHelperRevoke(t *testing.T) {
	path := os.Getenv(revokeHelperEnv)
	if path == "" {
		t.Skip("helper process only")
	}
	s := openTB(t, path)
	if err := s.RevokeToken(context.Background(), "acme", "t1", time.Unix(100, 0)); err != nil {
		t.Fatal(err)
	}
}

// cachedToken issues token t1 (hash h1) of tenant acme in s and reads it
// twice through TokenByHash, checking that the second read came from the
// cache.
func cachedToken(t *testing.T, s *Store) {
	t.Helper()
	ctx := context.Background()
	if _, err := s.EnsureTenant(ctx, "acme", time.Unix(1, 0)); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateToken(ctx, store.Token{ID: "t1", Tenant: "acme", Name: "okta", Prefix: "scim_x", Hash: "h1", Created: time.Unix(2, 0)}); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if tok, err := s.TokenByHash(ctx, "h1"); err != nil || !tok.Valid(time.Unix(3, 0)) {
			t.Fatalf("TokenByHash = %+v, %v; want the valid token", tok, err)
		}
	}
	if _, hit, _, ok := s.tokens.get("h1"); !ok || !hit {
		t.Fatalf("token not cached after two reads (header read: %v)", ok)
	}
}

// wantRevoked checks that s refuses token h1 at once.
func wantRevoked(t *testing.T, s *Store, by string) {
	t.Helper()
	tok, err := s.TokenByHash(context.Background(), "h1")
	if err != nil {
		t.Fatal(err)
	}
	if tok.Valid(time.Unix(101, 0)) || !tok.RevokedAt.Equal(time.Unix(100, 0)) {
		t.Errorf("token after its revocation by %s: %+v; want revoked at 100 s (the cache must see the commit)", by, tok)
	}
}

// TestTokenCacheOtherPool: a token cached by one Store and revoked through
// a second Store on the same file (another connection pool, as another
// process has) is refused by the first at its next TokenByHash; so is one
// whose expiry the other sets.
func TestTokenCacheOtherPool(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	a, b := openTB(t, path), openTB(t, path)
	cachedToken(t, a)
	ctx := context.Background()
	if err := b.SetTokenExpiry(ctx, "acme", "t1", time.Unix(50, 0), ""); err != nil {
		t.Fatal(err)
	}
	if tok, err := a.TokenByHash(ctx, "h1"); err != nil || tok.Valid(time.Unix(60, 0)) {
		t.Errorf("token after another pool set its expiry: %+v, %v; want expired at 50 s", tok, err)
	}
	if err := b.SetTokenExpiry(ctx, "acme", "t1", time.Time{}, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := a.TokenByHash(ctx, "h1"); err != nil { // cached again
		t.Fatal(err)
	}
	if err := b.RevokeToken(ctx, "acme", "t1", time.Unix(100, 0)); err != nil {
		t.Fatal(err)
	}
	wantRevoked(t, a, "another connection pool")
}

// TestTokenCacheOtherProcess: a token cached by this process and revoked
// by another one (this test binary re-executed, as `axonflow-sync token
// revoke` would) is refused at this process's next TokenByHash.
func TestTokenCacheOtherProcess(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	s := openTB(t, path)
	cachedToken(t, s)
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperRevoke$", "-test.count=1")
	cmd.Env = append(os.Environ(), revokeHelperEnv+"="+path)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("helper: %v\n%s", err, out)
	}
	wantRevoked(t, s, "another process")
}

// TestTokenCacheOwnWrites: the Store's own writes (through its writer
// connection) invalidate its cache too.
func TestTokenCacheOwnWrites(t *testing.T) {
	s := openTB(t, filepath.Join(t.TempDir(), "state.db"))
	cachedToken(t, s)
	if err := s.RevokeToken(context.Background(), "acme", "t1", time.Unix(100, 0)); err != nil {
		t.Fatal(err)
	}
	wantRevoked(t, s, "the same Store")
}
