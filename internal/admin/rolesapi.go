package admin

// The HTTP routes of the role functions in roles.go.

import (
	"fmt"
	"net/http"
	"strconv"

	"github.com/axonflow/axonflow-sync/mapping"
)

// roleRoutes registers the role routes on a.
func (a *API) roleRoutes() {
	a.Handle("GET /admin/v1/tenants/{tenant}/roles/mappings", a.listRoleMappings)
	a.Handle("PUT /admin/v1/tenants/{tenant}/roles/mappings", a.putRoleMapping)
	a.Handle("DELETE /admin/v1/tenants/{tenant}/roles/mappings", a.deleteRoleMapping)
	a.Handle("GET /admin/v1/tenants/{tenant}/roles/default", a.getDefaultRole)
	a.Handle("PUT /admin/v1/tenants/{tenant}/roles/default", a.putDefaultRole)
	a.Handle("GET /admin/v1/tenants/{tenant}/users/{id}/roles", a.getUserRoles)
	a.Handle("PUT /admin/v1/tenants/{tenant}/users/{id}/roles/{role}", a.assignRole)
	a.Handle("DELETE /admin/v1/tenants/{tenant}/users/{id}/roles/{role}", a.unassignRole)
}

func (a *API) listRoleMappings(r *http.Request) (int, any, error) {
	ms, err := ListRoleMappings(r.Context(), a.st, r.PathValue("tenant"))
	if err != nil {
		return 0, nil, err
	}
	return 200, map[string]any{"mappings": ms}, nil
}

func (a *API) putRoleMapping(r *http.Request) (int, any, error) {
	var req struct {
		Group  string `json:"group"`
		Role   string `json:"role"`
		ByName bool   `json:"byName"`
	}
	if err := decode(r, &req); err != nil {
		return 0, nil, err
	}
	res, err := MapRole(r.Context(), a.st, r.PathValue("tenant"),
		mapping.RoleMapping{Group: req.Group, ByName: req.ByName, Role: req.Role, Source: mapping.SourceAPI}, a.now())
	if err != nil {
		return 0, nil, err
	}
	return 200, res, nil
}

// queryBool parses an optional boolean query parameter.
func queryBool(r *http.Request, name string) (bool, error) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(s)
	if err != nil {
		return false, Invalid(fmt.Sprintf("query parameter %s=%s must be true or false", name, quote(s)))
	}
	return b, nil
}

func (a *API) deleteRoleMapping(r *http.Request) (int, any, error) {
	byName, err := queryBool(r, "byName")
	if err != nil {
		return 0, nil, err
	}
	res, err := UnmapRole(r.Context(), a.st, r.PathValue("tenant"), r.URL.Query().Get("group"), byName)
	if err != nil {
		return 0, nil, err
	}
	return 200, res, nil
}

func (a *API) getDefaultRole(r *http.Request) (int, any, error) {
	tenant := r.PathValue("tenant")
	if err := CheckTenantID(tenant); err != nil {
		return 0, nil, err
	}
	role, set, err := a.st.DefaultRole(r.Context(), tenant)
	if err != nil {
		return 0, nil, err
	}
	return 200, map[string]any{"role": showDefault(mapping.TenantDefaultRole(role, set)), "configured": set}, nil
}

func (a *API) putDefaultRole(r *http.Request) (int, any, error) {
	var req struct {
		Role string `json:"role"`
	}
	if err := decode(r, &req); err != nil {
		return 0, nil, err
	}
	if req.Role == "" {
		return 0, nil, Invalid(`body must be {"role": ROLE} (a system role, or "none")`)
	}
	role, err := SetDefaultRole(r.Context(), a.st, r.PathValue("tenant"), req.Role, a.now())
	if err != nil {
		return 0, nil, err
	}
	return 200, map[string]any{"role": role, "configured": true}, nil
}

func (a *API) getUserRoles(r *http.Request) (int, any, error) {
	v, err := ShowUserRoles(r.Context(), a.st, r.PathValue("tenant"), r.PathValue("id"))
	if err != nil {
		return 0, nil, err
	}
	return 200, v, nil
}

// assignmentSource reads the optional source of an assignment route: the
// query parameter source, or the body {"source": ...}.
func assignmentSource(r *http.Request) (string, error) {
	var req struct {
		Source string `json:"source"`
	}
	if err := decode(r, &req); err != nil {
		return "", err
	}
	q := r.URL.Query().Get("source")
	if q != "" && req.Source != "" && q != req.Source {
		return "", Invalid("the source query parameter and body disagree")
	}
	if q != "" {
		return q, nil
	}
	return req.Source, nil
}

func (a *API) assignRole(r *http.Request) (int, any, error) {
	source, err := assignmentSource(r)
	if err != nil {
		return 0, nil, err
	}
	v, err := AssignRole(r.Context(), a.st, r.PathValue("tenant"), r.PathValue("id"), r.PathValue("role"), source)
	if err != nil {
		return 0, nil, err
	}
	return 200, v, nil
}

func (a *API) unassignRole(r *http.Request) (int, any, error) {
	source, err := assignmentSource(r)
	if err != nil {
		return 0, nil, err
	}
	v, err := UnassignRole(r.Context(), a.st, r.PathValue("tenant"), r.PathValue("id"), r.PathValue("role"), source)
	if err != nil {
		return 0, nil, err
	}
	return 200, v, nil
}
