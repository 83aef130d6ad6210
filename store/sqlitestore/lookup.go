package sqlitestore

import (
	"context"

	"github.com/axonflow/axonflow-sync/store"
)

// LookupUserContext finds the user whose idx (store.IndexUserName or
// store.IndexExternalID) equals value (FindUser) and returns UserContext of
// it with the user; store.ErrNotFound when there is none. Two local
// queries' worth of reads, not one transaction: a user deleted in between
// is store.ErrNotFound.
func (s *Store) LookupUserContext(ctx context.Context, tenant string, idx store.Index, value string) (store.UserContext, error) {
	id, err := s.FindUser(ctx, tenant, idx, value)
	if err != nil {
		return store.UserContext{}, err
	}
	uc, err := s.UserContext(ctx, tenant, []string{id}, true)
	if err != nil {
		return store.UserContext{}, err
	}
	if len(uc.Users) == 0 {
		return store.UserContext{}, store.ErrNotFound
	}
	return uc, nil
}
