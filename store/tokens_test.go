package store

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
)

// TestHashToken: the lower-case hex SHA-256 of the secret, for secrets
// that fit HashToken's stack buffer and for longer ones.
func TestHashToken(t *testing.T) {
	for _, secret := range []string{"", "scim_abc", TokenPrefix + strings.Repeat("x", 43), strings.Repeat("y", 64), strings.Repeat("z", 200)} {
		sum := sha256.Sum256([]byte(secret))
		if got, want := HashToken(secret), hex.EncodeToString(sum[:]); got != want {
			t.Errorf("HashToken(%q) = %s, want %s", secret, got, want)
		}
	}
	if got := HashToken("abc"); got != "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" {
		t.Errorf("HashToken(abc) = %s", got)
	}
}
