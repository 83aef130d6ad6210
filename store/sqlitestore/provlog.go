package sqlitestore

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
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
	table, keep := "provisioning_log", ret.MaxEntries
	if e.Rejected() {
		table, keep = "provisioning_log_rejected", ret.MaxRejections
	}
	var n int64
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(n), 0) + 1 FROM `+table+` WHERE tenant = ?`, tenant).Scan(&n); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO `+table+` (tenant, n, at, name_key, resource_type, actor, status, entry)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		tenant, n, e.Time.UnixNano(), mapping.FoldKey(e.Name), e.ResourceType, e.Actor, e.Status, string(b)); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM `+table+` WHERE tenant = ? AND n <= ?`, tenant, n-int64(keep)); err != nil {
		return err
	}
	cutoff := now.Add(-ret.MaxAge).UnixNano()
	if _, err := tx.ExecContext(ctx, `DELETE FROM provisioning_log WHERE at < ?`, cutoff); err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `DELETE FROM provisioning_log_rejected WHERE at < ?`, cutoff)
	return err
}

// QueryLog returns the tenant's matching entries, newest first: each
// table (accepted, rejected) is read newest (highest n) first, filtering in
// SQL (by name through the (tenant, name_key, n) index, otherwise walking
// the primary key backwards), and the two are merged by time
// (store.MergeLogs). An outcome filter reads one table only.
func (s *Store) QueryLog(ctx context.Context, tenant string, q store.LogQuery) ([]store.LogEntry, error) {
	ret := s.retention()
	if cutoff := time.Now().Add(-ret.MaxAge); q.Since.Before(cutoff) {
		q.Since = cutoff
	}
	var acc, rej []store.LogEntry
	var err error
	if q.Outcome != store.OutcomeRejected {
		if acc, err = s.queryLogTable(ctx, "provisioning_log", tenant, q); err != nil {
			return nil, err
		}
	}
	if q.Outcome != store.OutcomeAccepted {
		if rej, err = s.queryLogTable(ctx, "provisioning_log_rejected", tenant, q); err != nil {
			return nil, err
		}
	}
	return store.MergeLogs(acc, rej, q.EffectiveLimit()), nil
}

// queryLogTable is QueryLog on one table.
func (s *Store) queryLogTable(ctx context.Context, table, tenant string, q store.LogQuery) ([]store.LogEntry, error) {
	var sb strings.Builder
	sb.WriteString(`SELECT entry FROM ` + table + ` WHERE tenant = ? AND at >= ?`)
	args := []any{tenant, q.Since.UnixNano()}
	if q.Name != "" {
		sb.WriteString(` AND name_key = ?`)
		args = append(args, mapping.FoldKey(q.Name))
	}
	if q.ResourceType != "" {
		sb.WriteString(` AND resource_type = ?`)
		args = append(args, q.ResourceType)
	}
	if q.Actor != "" {
		sb.WriteString(` AND actor = ?`)
		args = append(args, q.Actor)
	}
	switch q.Outcome {
	case store.OutcomeAccepted:
		sb.WriteString(` AND status < 400`)
	case store.OutcomeRejected:
		sb.WriteString(` AND status >= 400`)
	}
	sb.WriteString(` ORDER BY n DESC LIMIT ?`)
	args = append(args, q.EffectiveLimit())
	rows, err := s.query(ctx, sb.String(), args...)
	if err != nil {
		return nil, s.fail("query log", err)
	}
	defer rows.Close()
	out := []store.LogEntry{}
	for rows.Next() {
		var raw string
		if err := rows.Scan(&raw); err != nil {
			return nil, s.fail("query log", err)
		}
		var e store.LogEntry
		dec := json.NewDecoder(strings.NewReader(raw))
		dec.UseNumber()
		if err := dec.Decode(&e); err != nil {
			return nil, fmt.Errorf("sqlitestore: log entry: %w", err)
		}
		if q.Match(&e) {
			e.Tenant = tenant
			out = append(out, e)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, s.fail("query log", err)
	}
	return out, nil
}
