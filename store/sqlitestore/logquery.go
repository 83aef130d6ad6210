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
	query, args := logQuerySQL(table, tenant, q)
	rows, err := s.query(ctx, query, args...)
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

// logQuerySQL is the statement (and its arguments) that reads the tenant's
// entries of table matching q, newest first: by name through the (tenant,
// name_key, n) index, otherwise walking the primary key backwards from the
// newest, filtering as it goes, up to q's limit.
func logQuerySQL(table, tenant string, q store.LogQuery) (string, []any) {
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
	return sb.String(), args
}
