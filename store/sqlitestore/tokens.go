package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/axonflow/axonflow-sync/store"
)

// EnsureTenant creates tenant id with creation time at unless it exists;
// created reports whether it did. An existing tenant keeps its creation
// time. Errors wrap store.ErrUnavailable on lock or I/O failure.
func (s *Store) EnsureTenant(ctx context.Context, id string, at time.Time) (created bool, err error) {
	err = s.write(ctx, "ensure tenant", func(tx *txn) error {
		res, err := tx.ExecContext(ctx, qEnsureTenant, id, nanos(at))
		if err != nil {
			return err
		}
		n, err := rowsAffected(res)
		created = n == 1
		return err
	})
	return created, err
}

// ListTenants returns every tenant ordered by id.
func (s *Store) ListTenants(ctx context.Context) ([]store.Tenant, error) {
	rows, err := s.query(ctx, qListTenants)
	if err != nil {
		return nil, s.fail("list tenants", err)
	}
	defer rows.Close()
	var ts []store.Tenant
	for rows.Next() {
		var t store.Tenant
		var c sql.NullInt64
		if err := rows.Scan(&t.ID, &c); err != nil {
			return nil, s.fail("list tenants", err)
		}
		t.Created = fromNanos(c)
		ts = append(ts, t)
	}
	if err := rows.Err(); err != nil {
		return nil, s.fail("list tenants", err)
	}
	return ts, nil
}

// CreateToken stores t (ID, Tenant, Name, Prefix, Hash, times). Errors:
// store.ErrNotFound if t.Tenant does not exist; an error if the id or the
// hash is already stored.
func (s *Store) CreateToken(ctx context.Context, t store.Token) error {
	return s.write(ctx, "create token", func(tx *txn) error {
		var one int
		err := tx.QueryRowContext(ctx, qTenantExists, t.Tenant).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("tenant %q: %w", t.Tenant, store.ErrNotFound)
		} else if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, qInsertToken,
			t.Tenant, t.ID, t.Name, t.Prefix, t.Hash, nanos(t.Created), nanos(t.ExpiresAt), nanos(t.LastUsedAt), nanos(t.RevokedAt))
		return err
	})
}

func scanToken(sc interface{ Scan(...any) error }) (store.Token, error) {
	var t store.Token
	var c, e, l, r sql.NullInt64
	var rb sql.NullString
	if err := sc.Scan(&t.Tenant, &t.ID, &t.Name, &t.Prefix, &t.Hash, &c, &e, &l, &r, &rb); err != nil {
		return t, err
	}
	t.Created, t.ExpiresAt, t.LastUsedAt, t.RevokedAt = fromNanos(c), fromNanos(e), fromNanos(l), fromNanos(r)
	t.ReplacedBy = rb.String
	return t, nil
}

// TokenByHash returns the token whose secret hashes to hash (hex SHA-256),
// including revoked and expired ones (check Token.Valid), or
// store.ErrNotFound. A token found is cached until the next commit to the
// file by any connection or process (see tokenCache): while nothing is
// committed, a call reads no table, only the WAL-index header; an unknown
// hash is never cached.
func (s *Store) TokenByHash(ctx context.Context, hash string) (store.Token, error) {
	t, hit, ver, cacheable := s.tokens.get(hash)
	if hit {
		return t, nil
	}
	hash = strings.Clone(hash) // the cache keeps it; hash may share the caller's buffer
	t, err := scanToken(s.queryRow(ctx, qTokenByHash, hash))
	if errors.Is(err, sql.ErrNoRows) {
		return store.Token{}, store.ErrNotFound
	}
	if err != nil {
		return store.Token{}, s.fail("token by hash", err)
	}
	if cacheable {
		s.tokens.put(hash, t, ver)
	}
	return t, nil
}

// ListTokens returns the tenant's tokens ordered by Created (then by
// insertion); none for an unknown tenant.
func (s *Store) ListTokens(ctx context.Context, tenant string) ([]store.Token, error) {
	rows, err := s.query(ctx, qListTokens, tenant)
	if err != nil {
		return nil, s.fail("list tokens", err)
	}
	defer rows.Close()
	var ts []store.Token
	for rows.Next() {
		t, err := scanToken(rows)
		if err != nil {
			return nil, s.fail("list tokens", err)
		}
		ts = append(ts, t)
	}
	if err := rows.Err(); err != nil {
		return nil, s.fail("list tokens", err)
	}
	return ts, nil
}

// updateToken runs q, one UPDATE of the tenant's token tokenID with
// arguments (vals..., tenant, tokenID), and returns store.ErrNotFound if no
// such token exists in that tenant.
func (s *Store) updateToken(ctx context.Context, op, q string, tenant, tokenID string, vals ...any) error {
	res, err := s.exec(ctx, q, append(vals, tenant, tokenID)...)
	if err != nil {
		return s.fail(op, err)
	}
	if n, err := rowsAffected(res); err != nil {
		return s.fail(op, err)
	} else if n == 0 {
		return store.ErrNotFound
	}
	return nil
}

// RevokeToken marks the tenant's token revoked at at; a token already
// revoked keeps its first revocation time. Errors: store.ErrNotFound if
// the tenant has no token tokenID.
func (s *Store) RevokeToken(ctx context.Context, tenant, tokenID string, at time.Time) error {
	return s.updateToken(ctx, "revoke token", qRevokeToken, tenant, tokenID, nanos(at))
}

// SetTokenExpiry sets the tenant's token's expiry to at (zero: never) and
// its ReplacedBy to replacedBy ("": none); with replacedBy set, only if the
// token has no replacement yet (one statement, so of two rotations one
// wins). Errors: store.ErrNotFound if the tenant has no token tokenID,
// store.ErrTokenReplaced if it already has a replacement.
func (s *Store) SetTokenExpiry(ctx context.Context, tenant, tokenID string, at time.Time, replacedBy string) error {
	err := s.updateToken(ctx, "set token expiry", qSetTokenExpiry, tenant, tokenID, nanos(at), replacedBy)
	if errors.Is(err, store.ErrNotFound) && replacedBy != "" {
		var one int
		switch qerr := s.queryRow(ctx, qTokenExists, tenant, tokenID).Scan(&one); {
		case qerr == nil:
			return store.ErrTokenReplaced
		case !errors.Is(qerr, sql.ErrNoRows):
			return s.fail("set token expiry", qerr)
		}
	}
	return err
}

// TouchToken sets the tenant's token's last use to at. Errors:
// store.ErrNotFound if the tenant has no token tokenID.
func (s *Store) TouchToken(ctx context.Context, tenant, tokenID string, at time.Time) error {
	return s.updateToken(ctx, "touch token", qTouchToken, tenant, tokenID, nanos(at))
}
