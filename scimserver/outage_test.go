package scimserver_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/axonflow/axonflow-sync/mapping"
	"github.com/axonflow/axonflow-sync/store"
)

// outageState fails GetUser and UserContext with err.
type outageState struct {
	store.State
	err error
}

func (o *outageState) GetUser(context.Context, string, string) (*mapping.User, error) {
	return nil, o.err
}

func (o *outageState) UserContext(context.Context, string, []string, bool) (store.UserContext, error) {
	return store.UserContext{}, o.err
}

// TestStoreOutage503: a store outage is 503 with Retry-After on the SCIM
// API whether it is a wrapped store.ErrUnavailable or a context deadline
// (the admin API answers the same: internal/admin TestAdminAPIStoreOutage).
func TestStoreOutage503(t *testing.T) {
	b := backends[0]
	for _, err := range []error{
		fmt.Errorf("sqlitestore: get: %w: %w", store.ErrUnavailable, context.DeadlineExceeded),
		fmt.Errorf("redisstore: dial tcp: %w", store.ErrUnavailable),
		fmt.Errorf("reading: %w", context.DeadlineExceeded),
	} {
		st := &outageState{State: b.open(t)}
		e := newEnv(t, st)
		id := e.createUser(t, "outage@example.com")
		st.err = err
		r := e.get(t, "/Users/"+id)
		if d := mustSCIMError(t, r, 503, ""); d != "the directory store is unavailable; retry later" || r.Header.Get("Retry-After") != "1" {
			t.Errorf("%v: detail %q, Retry-After %q", err, d, r.Header.Get("Retry-After"))
		}
	}
}
