package sqlitestore

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/axonflow/axonflow-sync/mapping"
	"github.com/axonflow/axonflow-sync/store"
)

// LookupUserContext finds the user whose idx (store.IndexUserName or
// store.IndexExternalID) equals value (FindUser) and returns UserContext of
// it with the user; store.ErrNotFound when there is none (an empty value
// included). One statement (qLookupContextByName or
// qLookupContextByExternalID: the index search and the user context in
// one read snapshot).
func (s *Store) LookupUserContext(ctx context.Context, tenant string, idx store.Index, value string) (store.UserContext, error) {
	var q string
	switch idx {
	case store.IndexUserName:
		q, value = qLookupContextByName, mapping.FoldKey(value)
	case store.IndexExternalID:
		q = qLookupContextByExternalID
	default:
		return store.UserContext{}, fmt.Errorf("sqlitestore: lookup user context: unsupported index %q", idx)
	}
	if value == "" {
		return store.UserContext{}, store.ErrNotFound
	}
	var uc store.UserContext
	err := s.hotQuery(ctx, q, []any{tenant, value}, func(rows *sql.Rows) (err error) {
		uc, err = scanUserContext(rows, true, 1, nil)
		return err
	})
	if err != nil {
		return store.UserContext{}, s.fail("lookup user context", err)
	}
	if len(uc.Users) == 0 {
		return store.UserContext{}, store.ErrNotFound
	}
	return uc, nil
}
