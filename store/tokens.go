package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"time"
)

// TokenPrefix starts every SCIM token secret: scim_<43 base64url chars>.
const TokenPrefix = "scim_"

// HashToken returns the lower-case hex SHA-256 of a token secret: the only
// form in which a secret is stored.
func HashToken(secret string) string {
	var buf [2 * sha256.Size]byte // on the stack: the string is the only allocation
	return string(AppendHashToken(buf[:0], secret))
}

// AppendHashToken appends HashToken(secret) (2*sha256.Size bytes) to dst
// and returns the extended slice: for a caller with room for it.
func AppendHashToken(dst []byte, secret string) []byte {
	var in [64]byte // a secret's bytes on the stack (a longer one spills to the heap)
	sum := sha256.Sum256(append(in[:0], secret...))
	n := len(dst)
	dst = append(dst, make([]byte, 2*sha256.Size)...)
	hex.Encode(dst[n:], sum[:])
	return dst
}

// DisplayPrefix is the part of a secret that may be shown to operators
// (scim_ plus 6 characters), enough to tell tokens apart and no more.
func DisplayPrefix(secret string) string {
	if len(secret) > len(TokenPrefix)+6 {
		return secret[:len(TokenPrefix)+6]
	}
	return secret
}

// IssueToken creates the tenant if new and a token for it, valid from now
// for ttl (0: no expiry). It returns the secret (shown once, never stored)
// and the stored Token. Errors are the State's.
func IssueToken(ctx context.Context, st State, tenant, name string, ttl time.Duration, now time.Time) (string, Token, error) {
	if _, err := st.EnsureTenant(ctx, tenant, now); err != nil {
		return "", Token{}, err
	}
	secret, t, err := NewToken(tenant, name, ttl, now)
	if err != nil {
		return "", Token{}, err
	}
	if err := st.CreateToken(ctx, t); err != nil {
		return "", Token{}, err
	}
	return secret, t, nil
}

// NewToken makes a token of the tenant as IssueToken does (a random secret
// and id, created at now, expiring ttl later unless ttl <= 0) without
// storing it: its caller stores it with State.CreateToken (the tenant must
// exist). Errors: only the system's random source failing.
func NewToken(tenant, name string, ttl time.Duration, now time.Time) (string, Token, error) {
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", Token{}, fmt.Errorf("store: generating a token: %w", err)
	}
	secret := TokenPrefix + base64.RawURLEncoding.EncodeToString(raw[:])
	var id [8]byte
	if _, err := rand.Read(id[:]); err != nil {
		return "", Token{}, fmt.Errorf("store: generating a token id: %w", err)
	}
	t := Token{
		ID:      "tok_" + hex.EncodeToString(id[:]),
		Tenant:  tenant,
		Name:    name,
		Prefix:  DisplayPrefix(secret),
		Hash:    HashToken(secret),
		Created: now.UTC(),
	}
	if ttl > 0 {
		t.ExpiresAt = now.Add(ttl).UTC()
	}
	return secret, t, nil
}
