package scimserver

import (
	"context"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/axonflow/axonflow-sync/internal/testredis"
	"github.com/axonflow/axonflow-sync/store"
	"github.com/axonflow/axonflow-sync/store/redisstore"
	"github.com/axonflow/axonflow-sync/store/sqlitestore"
)

// BenchmarkAuthenticate: the bearer check of every request (header
// parsing, SHA-256 of the credential, the token read, expiry and
// revocation), on both backends. Run with:
// go test -run NONE -bench Authenticate -benchmem ./scimserver
func BenchmarkAuthenticate(b *testing.B) {
	ctx := context.Background()
	opens := []struct {
		name string
		open func(b *testing.B) store.State
	}{
		{"sqlite", func(b *testing.B) store.State {
			st, err := sqlitestore.Open(ctx, filepath.Join(b.TempDir(), "db"), zerolog.Nop())
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { st.Close() })
			return st
		}},
		{"redis", func(b *testing.B) store.State {
			st, err := redisstore.Open(ctx, testredis.URL(b), redisstore.Options{})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { st.Close() })
			return st
		}},
	}
	for _, o := range opens {
		b.Run(o.name, func(b *testing.B) {
			st := o.open(b)
			secret, _, err := store.IssueToken(ctx, st, "bench-auth", "bench", 0, time.Now())
			if err != nil {
				b.Fatal(err)
			}
			s := New(Options{Store: st, Logger: zerolog.Nop()})
			r := httptest.NewRequest("GET", "http://scim.example.com/scim/v2/Users", nil)
			r.Header.Set("Authorization", "Bearer "+secret)
			b.ReportAllocs()
			for b.Loop() {
				tok, reason, _, err := s.authenticate(r)
				if err != nil || reason != "" || tok.Tenant != "bench-auth" {
					b.Fatalf("%+v %q %v", tok, reason, err)
				}
			}
		})
	}
}
