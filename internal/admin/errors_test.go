package admin_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"testing"

	"github.com/rs/zerolog"

	"github.com/axonflow/axonflow-sync/internal/admin"
	"github.com/axonflow/axonflow-sync/store"
)

// outageState fails ListTenants with err.
type outageState struct {
	store.State
	err error
}

func (o outageState) ListTenants(context.Context) ([]store.Tenant, error) { return nil, o.err }

// TestAdminAPIStoreOutage: a store outage is 503 store_unavailable on the
// admin API as on the SCIM API, whether it is a wrapped store.ErrUnavailable
// or a context deadline (this was a 500); other codes follow the same table.
func TestAdminAPIStoreOutage(t *testing.T) {
	st := backends(t)["sqlite"](t)
	for _, c := range []struct {
		name   string
		err    error
		status int
		code   string
	}{
		{"wrapped unavailable", fmt.Errorf("redisstore: dial tcp: %w", store.ErrUnavailable), 503, admin.CodeUnavailable},
		{"context deadline", fmt.Errorf("listing tenants: %w", context.DeadlineExceeded), 503, admin.CodeUnavailable},
		{"not found", store.ErrNotFound, 404, admin.CodeNotFound},
		{"conflict", &store.ConflictError{Attr: "userName", Value: "ada"}, 409, admin.CodeConflict},
		{"version mismatch", fmt.Errorf("x: %w", store.ErrVersionMismatch), 409, admin.CodeConflict},
		{"unknown members", &store.UnknownMembersError{IDs: []string{"u1"}}, 400, admin.CodeInvalid},
		{"canceled", context.Canceled, 500, admin.CodeInternal},
	} {
		t.Run(c.name, func(t *testing.T) {
			srv := httptest.NewServer(admin.New(admin.Options{Store: outageState{st, c.err}, Token: adminToken, Logger: zerolog.Nop()}))
			defer srv.Close()
			code, m := client{t, srv.URL}.do("GET", "/admin/v1/tenants", adminToken, "")
			if code != c.status || errCode(m) != c.code {
				t.Errorf("GET /admin/v1/tenants failing with %v: %d %v; want %d %s", c.err, code, m, c.status, c.code)
			}
		})
	}
}
