package sqlitestore

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/axonflow/axonflow-sync/mapping"
	"github.com/axonflow/axonflow-sync/store"
)

// SetLogRetention changes the provisioning log retention of this Store
// (zero fields: store.DefaultLogMaxEntries, store.DefaultLogMaxAge); it
// applies from the next call.
func (s *Store) SetLogRetention(r store.LogRetention) {
	r = r.WithDefaults()
	s.logRet.Store(&r)
}

// LogRetention returns the provisioning log retention in effect.
func (s *Store) LogRetention() store.LogRetention { return s.retention() }

func (s *Store) retention() store.LogRetention {
	if r := s.logRet.Load(); r != nil {
		return *r
	}
	return store.LogRetention{}.WithDefaults()
}

// AppendLog inserts e as the tenant's next entry (n = last n + 1) of its
// table (provisioning_log, or provisioning_log_rejected for a rejected
// entry, each numbered and bounded on its own: MaxEntries,
// MaxRejections) and, in the same transaction, prunes: that table's
// entries of the tenant with n <= n - its bound, and every tenant's
// entries older than now - MaxAge in both tables. Each append deletes
// about as many rows as it adds once the log is full, so pruning costs
// O(1) amortised (index range deletes).
func (s *Store) AppendLog(ctx context.Context, tenant string, e store.LogEntry) error {
	return s.write(ctx, "append log", func(tx *txn) error {
		return s.appendLogTx(ctx, tx, tenant, e)
	})
}

// logPending appends, in tx, the provisioning log entry that the write
// made under ctx must store with its change (store.LogEntryOf), if any.
func (s *Store) logPending(ctx context.Context, tx *txn, tenant string) error {
	e, ok := store.LogEntryOf(ctx)
	if !ok {
		return nil
	}
	return s.appendLogTx(ctx, tx, tenant, e)
}

// appendLogTx is AppendLog inside the transaction tx.
func (s *Store) appendLogTx(ctx context.Context, tx *txn, tenant string, e store.LogEntry) error {
	now := time.Now()
	e = store.NormalizeLogEntry(e, now)
	b, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("sqlitestore: encode log entry: %w", err)
	}
	ret := s.retention()
	qNext, qInsert, qTrim, keep := qNextLogN, qInsertLog, qTrimLog, ret.MaxEntries
	if e.Rejected() {
		qNext, qInsert, qTrim, keep = qNextRejectedN, qInsertRejected, qTrimRejected, ret.MaxRejections
	}
	var n int64
	if err := tx.QueryRowContext(ctx, qNext, tenant).Scan(&n); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, qInsert,
		tenant, n, e.Time.UnixNano(), mapping.FoldKey(e.Name), e.ResourceType, e.Actor, e.Status, string(b)); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, qTrim, tenant, n-int64(keep)); err != nil {
		return err
	}
	cutoff := now.Add(-ret.MaxAge).UnixNano()
	if _, err := tx.ExecContext(ctx, qExpireLog, cutoff); err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, qExpireRejected, cutoff)
	return err
}
