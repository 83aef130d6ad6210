package admin

// The HTTP routes of the tenant and token functions in tokens.go.

import (
	"net/http"
	"time"

	"github.com/axonflow/axonflow-sync/store"
)

func (a *API) listTenants(r *http.Request) (int, any, error) {
	ts, err := a.st.ListTenants(r.Context())
	if err != nil {
		return 0, nil, err
	}
	if ts == nil {
		ts = []store.Tenant{}
	}
	return 200, map[string]any{"tenants": ts}, nil
}

func (a *API) createTenant(r *http.Request) (int, any, error) {
	var req struct {
		ID string `json:"id"`
	}
	if err := decode(r, &req); err != nil {
		return 0, nil, err
	}
	if err := CheckTenantID(req.ID); err != nil {
		return 0, nil, err
	}
	created, err := a.st.EnsureTenant(r.Context(), req.ID, a.now().UTC())
	if err != nil {
		return 0, nil, err
	}
	status := 200
	if created {
		status = 201
	}
	return status, map[string]any{"id": req.ID, "created": created}, nil
}

func (a *API) listTokens(r *http.Request) (int, any, error) {
	toks, err := ListTokens(r.Context(), a.st, r.PathValue("tenant"), a.now())
	if err != nil {
		return 0, nil, err
	}
	return 200, map[string]any{"tokens": toks}, nil
}

// duration parses an optional Go duration string such as "720h".
func duration(s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, Invalid("invalid duration " + quote(s) + " (use e.g. 720h)")
	}
	return d, nil
}

func (a *API) createToken(r *http.Request) (int, any, error) {
	var req struct {
		Name      string `json:"name"`
		ExpiresIn string `json:"expiresIn"`
	}
	if err := decode(r, &req); err != nil {
		return 0, nil, err
	}
	ttl, err := duration(req.ExpiresIn)
	if err != nil {
		return 0, nil, err
	}
	t, err := CreateToken(r.Context(), a.st, r.PathValue("tenant"), req.Name, ttl, a.now())
	if err != nil {
		return 0, nil, err
	}
	return 201, t, nil
}

func (a *API) revokeToken(r *http.Request) (int, any, error) {
	t, err := RevokeToken(r.Context(), a.st, r.PathValue("tenant"), r.PathValue("id"), a.now())
	if err != nil {
		return 0, nil, err
	}
	return 200, t, nil
}

func (a *API) rotateToken(r *http.Request) (int, any, error) {
	var req struct {
		Name  string `json:"name"`
		Grace string `json:"grace"`
	}
	if err := decode(r, &req); err != nil {
		return 0, nil, err
	}
	grace := 24 * time.Hour
	if req.Grace != "" {
		var err error
		if grace, err = duration(req.Grace); err != nil {
			return 0, nil, err
		}
	}
	nt, old, err := RotateToken(r.Context(), a.st, r.PathValue("tenant"), r.PathValue("id"), req.Name, grace, a.now())
	if err != nil {
		return 0, nil, err
	}
	return 201, map[string]any{"new": nt, "old": old}, nil
}
