package sqlitestore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/axonflow/axonflow-sync/mapping"
	"github.com/axonflow/axonflow-sync/store"
)

// encodeAttrs returns the stored JSON form of attrs (map keys sorted, so
// equal documents encode equally; nil encodes as {}).
func encodeAttrs(a mapping.Attrs) (string, error) {
	if a == nil {
		return "{}", nil
	}
	b, err := json.Marshal(a)
	if err != nil {
		return "", fmt.Errorf("encode attributes: %w", err)
	}
	return string(b), nil
}

// decodeAttrs decodes a stored document, keeping numbers as json.Number
// (mapping.DecodeAttrsJSON).
func decodeAttrs(doc string) (mapping.Attrs, error) {
	a, err := mapping.DecodeAttrsJSON(doc)
	if err != nil {
		return nil, fmt.Errorf("decode stored attributes: %w", err)
	}
	return a, nil
}

// CreateUser stores u in tenant with Version 1 (set on u on success).
// Errors: *store.ConflictError (Attr "userName", compared with
// mapping.FoldKey, or "externalId", exact) if another user of the tenant
// holds the value; an error if u.ID already exists.
func (s *Store) CreateUser(ctx context.Context, tenant string, u *mapping.User) error {
	doc, err := encodeAttrs(u.Attrs)
	if err != nil {
		return err
	}
	name, ext := u.UserName(), u.ExternalID()
	err = s.write(ctx, "create user", func(tx *txn) error {
		var idTaken, nameTaken, extTaken bool
		if err := tx.QueryRowContext(ctx, qUserTaken,
			tenant, u.ID, mapping.FoldKey(name), nullString(ext)).Scan(&idTaken, &nameTaken, &extTaken); err != nil {
			return err
		}
		switch {
		case idTaken:
			return fmt.Errorf("user id %q already exists", u.ID)
		case nameTaken:
			return &store.ConflictError{Attr: "userName", Value: name}
		case extTaken:
			return &store.ConflictError{Attr: "externalId", Value: ext}
		}
		_, err := tx.ExecContext(ctx, qInsertUser,
			tenant, u.ID, mapping.FoldKey(name), nullString(ext), doc, u.Origin, nanos(u.Created), nanos(u.LastModified))
		if err != nil {
			return err
		}
		return s.logPending(ctx, tx, tenant)
	})
	if err == nil {
		u.Version = 1
	}
	return err
}

func scanUser(sc interface{ Scan(...any) error }) (*mapping.User, error) {
	u := &mapping.User{}
	var doc string
	var c, m sql.NullInt64
	if err := sc.Scan(&u.ID, &doc, &u.Origin, &c, &m, &u.Version); err != nil {
		return nil, err
	}
	var err error
	u.Attrs, err = decodeAttrs(doc)
	u.Created, u.LastModified = fromNanos(c), fromNanos(m)
	return u, err
}

// GetUser returns the tenant's user id, or store.ErrNotFound.
func (s *Store) GetUser(ctx context.Context, tenant, id string) (*mapping.User, error) {
	u, err := scanUser(s.queryRow(ctx, qGetUser, tenant, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, s.fail("get user", err)
	}
	return u, nil
}

// GetUsers returns the tenant's users among ids in the order of ids,
// skipping ids that do not exist (a repeated id is returned repeatedly).
func (s *Store) GetUsers(ctx context.Context, tenant string, ids []string) ([]*mapping.User, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	rows, err := s.query(ctx, qGetUsers, jsonList(ids), tenant)
	if err != nil {
		return nil, s.fail("get users", err)
	}
	defer rows.Close()
	us := make([]*mapping.User, 0, len(ids))
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, s.fail("get users", err)
		}
		us = append(us, u)
	}
	if err := rows.Err(); err != nil {
		return nil, s.fail("get users", err)
	}
	return us, nil
}

// UpdateUser replaces the Attrs and LastModified of the tenant's user u.ID
// (Origin and Created stay as stored), re-indexing userName and externalId
// in the same transaction, and sets u.Version to the new version (old + 1).
// Errors: store.ErrNotFound; store.ErrVersionMismatch if expectVersion is
// not 0 and not the stored version; *store.ConflictError if the new
// userName or externalId belongs to another user. On error nothing changed.
func (s *Store) UpdateUser(ctx context.Context, tenant string, u *mapping.User, expectVersion int64) error {
	doc, err := encodeAttrs(u.Attrs)
	if err != nil {
		return err
	}
	name, ext := u.UserName(), u.ExternalID()
	var version int64
	err = s.write(ctx, "update user", func(tx *txn) error {
		err := tx.QueryRowContext(ctx, qUserVersion, tenant, u.ID).Scan(&version)
		if errors.Is(err, sql.ErrNoRows) {
			return store.ErrNotFound
		} else if err != nil {
			return err
		}
		if expectVersion != 0 && expectVersion != version {
			return store.ErrVersionMismatch
		}
		var nameTaken, extTaken bool
		if err := tx.QueryRowContext(ctx, qUserConflict,
			tenant, u.ID, mapping.FoldKey(name), nullString(ext)).Scan(&nameTaken, &extTaken); err != nil {
			return err
		}
		switch {
		case nameTaken:
			return &store.ConflictError{Attr: "userName", Value: name}
		case extTaken:
			return &store.ConflictError{Attr: "externalId", Value: ext}
		}
		version++
		_, err = tx.ExecContext(ctx, qUpdateUser,
			mapping.FoldKey(name), nullString(ext), doc, nanos(u.LastModified), version, tenant, u.ID)
		if err != nil {
			return err
		}
		return s.logPending(ctx, tx, tenant)
	})
	if err == nil {
		u.Version = version
	}
	return err
}

// DeleteUser removes the tenant's user id, all its memberships (the
// groups' versions do not change) and its role assignments, in one
// transaction. Errors: store.ErrNotFound.
func (s *Store) DeleteUser(ctx context.Context, tenant, id string) error {
	return s.write(ctx, "delete user", func(tx *txn) error {
		// The foreign key cascades too; the explicit delete keeps the rule
		// visible and independent of the pragma.
		if _, err := tx.ExecContext(ctx, qDeleteUserRoles, tenant, id); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, qDeleteUser, tenant, id)
		if err != nil {
			return err
		}
		if n, err := rowsAffected(res); err != nil {
			return err
		} else if n == 0 {
			return store.ErrNotFound
		}
		return s.logPending(ctx, tx, tenant)
	})
}

// FindUser returns the id of the tenant's user whose userName
// (store.IndexUserName, any letter case) or externalId
// (store.IndexExternalID, exact) is value. Errors: store.ErrNotFound (also
// for an empty externalId); an error for any other index.
func (s *Store) FindUser(ctx context.Context, tenant string, idx store.Index, value string) (string, error) {
	var q string
	switch idx {
	case store.IndexUserName:
		q, value = qFindUserByName, mapping.FoldKey(value)
	case store.IndexExternalID:
		q = qFindUserByExternalID
	default:
		return "", fmt.Errorf("sqlitestore: find user: unsupported index %q", idx)
	}
	return s.findID(ctx, "find user", q, tenant, value)
}

func (s *Store) findID(ctx context.Context, op, q, tenant, value string) (string, error) {
	var id string
	err := s.queryRow(ctx, q, tenant, value).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", store.ErrNotFound
	}
	if err != nil {
		return "", s.fail(op, err)
	}
	return id, nil
}

// ListUsers returns up to limit of the tenant's users from the 0-based
// offset, in creation order, with Total the tenant's user count; page and
// count come from one snapshot. limit <= 0 returns only Total. A page that
// starts where one served since the last commit ended (Okta's import
// reads startIndex 1, 101, 201, ...) is read from there (listPage).
func (s *Store) ListUsers(ctx context.Context, tenant string, offset, limit int) (store.Page[*mapping.User], error) {
	return listPage(ctx, s, "list users", pageKey{tenant: tenant, offset: offset}, limit, qCountUsers, qListUsers, qListUsersAfter,
		func(sc interface{ Scan(...any) error }) (*mapping.User, error) { return scanUser(sc) })
}

// UserGroups returns, for each of uids that belongs to at least one group
// of the tenant, the ids of those groups (in creation order of the
// groups); uids without groups (or unknown) have no entry.
func (s *Store) UserGroups(ctx context.Context, tenant string, uids []string) (map[string][]string, error) {
	out := map[string][]string{}
	if len(uids) == 0 {
		return out, nil
	}
	rows, err := s.query(ctx, qUserGroups, tenant, jsonList(uids))
	if err != nil {
		return nil, s.fail("user groups", err)
	}
	defer rows.Close()
	for rows.Next() {
		var uid, gid string
		if err := rows.Scan(&uid, &gid); err != nil {
			return nil, s.fail("user groups", err)
		}
		out[uid] = append(out[uid], gid)
	}
	if err := rows.Err(); err != nil {
		return nil, s.fail("user groups", err)
	}
	return out, nil
}
