package sqlitestore

import (
	"path/filepath"
	"testing"

	"github.com/axonflow/axonflow-sync/mapping"
	"github.com/axonflow/axonflow-sync/store"
	"github.com/axonflow/axonflow-sync/store/storetest"
)

func benchOpen(tb testing.TB) store.State {
	return openTB(tb, filepath.Join(tb.TempDir(), "bench.db"))
}

// bulkSeed is the storetest.Seeder of the embedded store: every user
// inserted with the store's own INSERT (qInsertUser) in one transaction,
// which is what CreateUser stores minus its conflict checks (the users are
// distinct).
func bulkSeed(tb testing.TB, st store.State, tenant string, users []*mapping.User) {
	tb.Helper()
	s := st.(*Store)
	ctx := tb.Context()
	err := s.write(ctx, "seed", func(tx *txn) error {
		for _, u := range users {
			doc, err := encodeAttrs(u.Attrs)
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, qInsertUser, tenant, u.ID, mapping.FoldKey(u.UserName()), nullString(u.ExternalID()),
				doc, u.Origin, nanos(u.Created), nanos(u.LastModified)); err != nil {
				return err
			}
			u.Version = 1
		}
		return nil
	})
	if err != nil {
		tb.Fatalf("seed: %v", err)
	}
}

// BenchmarkStore runs the storetest benchmarks (see storetest.Bench) on a
// fresh file per sub-benchmark, seeding with bulkSeed. Run e.g.
//
//	go test -run '^$' -bench 'Store/Tenant' -benchmem ./store/sqlitestore
func BenchmarkStore(b *testing.B) { storetest.Bench(b, benchOpen, bulkSeed) }
