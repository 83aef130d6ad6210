package scimserver

import (
	"context"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"

	"github.com/google/uuid"

	"github.com/axonflow/axonflow-sync/mapping"
	"github.com/axonflow/axonflow-sync/mapping/filter"
	"github.com/axonflow/axonflow-sync/store"
)

func (s *Server) users(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		s.listUsers(w, r)
	case http.MethodPost:
		s.createUser(w, r)
	default:
		s.methodNotAllowed(w, r, "GET, POST")
	}
}

func (s *Server) user(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		s.getUser(w, r)
	case http.MethodPut:
		s.replaceUser(w, r)
	case http.MethodPatch:
		s.patchUser(w, r)
	case http.MethodDelete:
		s.deleteUser(w, r)
	default:
		s.methodNotAllowed(w, r, "GET, PUT, PATCH, DELETE")
	}
}

// renderUsers renders users with their readOnly groups and roles: one
// store.UserContext read for the whole list (groups included).
func (s *Server) renderUsers(ctx context.Context, tenant, base string, users []*mapping.User) ([]map[string]any, error) {
	if len(users) == 0 {
		return []map[string]any{}, nil
	}
	ids := make([]string, len(users))
	for i, u := range users {
		ids[i] = u.ID
	}
	uc, err := s.st.UserContext(ctx, tenant, ids, false)
	if err != nil {
		return nil, err
	}
	return s.renderWith(ctx, tenant, base, users, uc)
}

// loadUser reads one user with everything rendering it needs in one store
// read (store.UserContext); store.ErrNotFound when it does not exist.
func (s *Server) loadUser(ctx context.Context, tenant, id string) (*mapping.User, store.UserContext, error) {
	uc, err := s.st.UserContext(ctx, tenant, []string{id}, true)
	if err != nil {
		return nil, uc, err
	}
	if len(uc.Users) == 0 {
		return nil, uc, store.ErrNotFound
	}
	return uc.Users[0], uc, nil
}

// lookupUser is loadUser for the user whose indexed attribute idx
// (userName or externalId) equals value: the index and the user's context
// in one store read (store.LookupUserContext); store.ErrNotFound when no
// user has that value.
func (s *Server) lookupUser(ctx context.Context, tenant string, idx store.Index, value string) (*mapping.User, store.UserContext, error) {
	uc, err := s.st.LookupUserContext(ctx, tenant, idx, value)
	if err != nil {
		return nil, uc, err
	}
	if len(uc.Users) == 0 {
		return nil, uc, store.ErrNotFound
	}
	return uc.Users[0], uc, nil
}

// renderWith renders users from a UserContext of theirs (see userParts).
func (s *Server) renderWith(ctx context.Context, tenant, base string, users []*mapping.User, uc store.UserContext) ([]map[string]any, error) {
	out := make([]map[string]any, len(users))
	err := s.userParts(ctx, tenant, users, uc, nil, func(i int, refs []mapping.Ref, roles []mapping.RoleAssignment) {
		out[i] = mapping.UserResource(users[i], base, refs)
		if len(roles) > 0 {
			out[i]["roles"] = mapping.RolesAttr(roles)
		}
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// userParts calls each with what rendering users[i] adds to its
// attributes, from a UserContext of theirs: the user's groups in group
// creation order (from uc.Groups; one GetGroups only for a context that
// lacks them), and the roles derived from them (userRoles). one, when
// users is one user, is room the roles may be built in (a request's
// reqCtx.roles; nil for none).
func (s *Server) userParts(ctx context.Context, tenant string, users []*mapping.User, uc store.UserContext,
	one []mapping.RoleAssignment, each func(i int, refs []mapping.Ref, roles []mapping.RoleAssignment)) error {
	if len(users) != 1 {
		one = nil
	}
	memberOf := uc.MemberOf
	// Groups are listed in their creation order (then id), whatever order
	// the backend returns memberships in, so responses are stable.
	byID := uc.Groups
	if byID == nil {
		var gids []string
		seen := map[string]bool{}
		for _, l := range memberOf {
			for _, g := range l {
				if !seen[g] {
					seen[g] = true
					gids = append(gids, g)
				}
			}
		}
		if len(gids) > 0 {
			byID = map[string]*mapping.Group{}
			groups, err := s.st.GetGroups(ctx, tenant, gids)
			if err != nil {
				return err
			}
			for _, g := range groups {
				byID[g.ID] = g
			}
		}
	}
	defRole := mapping.TenantDefaultRole(uc.DefaultRole, uc.DefaultSet)
	for i, u := range users {
		var gs []*mapping.Group
		for _, id := range memberOf[u.ID] {
			if g, ok := byID[id]; ok {
				gs = append(gs, g)
			}
		}
		slices.SortFunc(gs, func(a, b *mapping.Group) int {
			if c := a.Created.Compare(b.Created); c != 0 {
				return c
			}
			return strings.Compare(a.ID, b.ID)
		})
		var l []mapping.Ref
		for _, g := range gs {
			l = append(l, mapping.Ref{ID: g.ID, Display: g.DisplayName()})
		}
		each(i, l, userRoles(one, &uc, defRole, u.ID, l))
	}
	return nil
}

// userRoles returns one user's readOnly roles from its groups and what
// in read (the tenant's role mappings, default role defRole as
// mapping.TenantDefaultRole gives it, and the users' manual/api
// assignments): one assignment per role, with the role's first source
// (scim, manual, api, default); mapping.RolesAttr renders them. They are
// built in dst[:0] when it has room (nil: a new slice). It never returns
// nil.
func userRoles(dst []mapping.RoleAssignment, in *store.UserContext, defRole, uid string, groups []mapping.Ref) []mapping.RoleAssignment {
	eff := mapping.AppendEffectiveRoles(dst[:0], groups, in.Mappings, in.Assigned[uid], defRole)
	if eff == nil {
		eff = []mapping.RoleAssignment{}
	}
	var out []mapping.RoleAssignment // nil until a duplicate is found
	for i, a := range eff {
		dup := slices.ContainsFunc(eff[:i], func(b mapping.RoleAssignment) bool { return b.Role == a.Role })
		switch {
		case dup && out == nil:
			out = slices.Clone(eff[:i]) // distinct so far
		case !dup && out != nil:
			out = append(out, a)
		}
	}
	if out == nil {
		return eff // no duplicate: most users, without a copy
	}
	return out
}

func (s *Server) getUser(w http.ResponseWriter, r *http.Request) {
	rc := getReqCtx(r)
	id := r.PathValue("id")
	rc.ev.ResourceID = id
	proj, err := projectionOf(mapping.UserType, r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ctx, cancel := storeCtx(r)
	defer cancel()
	if docs, ok := s.st.(store.UserDocs); ok && proj.IsZero() {
		s.getUserDoc(w, r, ctx, docs, id)
		return
	}
	u, uc, err := s.loadUser(ctx, rc.tenant, id)
	if err != nil {
		s.fail(w, r, notFoundAs(err, "User", id))
		return
	}
	rc.ev.Name = u.UserName()
	s.respondWith(w, r, ctx, u, uc, proj, http.StatusOK)
}

// getUserDoc is getUser without a projection on a store with
// store.UserDocs: the same store read, the same response, with the user
// rendered from its stored document (mapping.UserDoc) instead of decoded
// and encoded again; a document UserDoc cannot copy is decoded
// (DecodeUserDoc) and rendered as getUser renders it.
func (s *Server) getUserDoc(w http.ResponseWriter, r *http.Request, ctx context.Context, docs store.UserDocs, id string) {
	rc := getReqCtx(r)
	uc, doc, err := docs.UserDocContext(ctx, rc.tenant, id)
	if err == nil && len(uc.Users) == 0 {
		err = store.ErrNotFound
	}
	if err != nil {
		s.fail(w, r, notFoundAs(err, "User", id))
		return
	}
	u := uc.Users[0]
	d := mapping.NewUserDoc()
	defer d.Release()
	if !d.Parse(doc) {
		if err := docs.DecodeUserDoc(u, doc); err != nil {
			s.fail(w, r, err)
			return
		}
		rc.ev.Name = u.UserName()
		s.respondWith(w, r, ctx, u, uc, mapping.Projection{}, http.StatusOK)
		return
	}
	rc.ev.Name = d.UserName()
	var refs []mapping.Ref
	var roles []mapping.RoleAssignment
	err = s.userParts(ctx, rc.tenant, uc.Users[:1], uc, rc.roles[:0], func(_ int, rs []mapping.Ref, ro []mapping.RoleAssignment) { refs, roles = rs, ro })
	if err != nil {
		s.fail(w, r, err)
		return
	}
	setHeader(w, "Etag", mapping.ETag(u.Version))
	base := s.baseURL(r)
	writeEncoded(w, http.StatusOK, func(b []byte) ([]byte, error) { return d.AppendResource(b, u, base, refs, roles), nil })
}

// respondWith writes status with u rendered from uc (a UserContext of
// u's) and projected: without a projection encoded directly
// (writeUserJSON), else through the resource's map.
func (s *Server) respondWith(w http.ResponseWriter, r *http.Request, ctx context.Context, u *mapping.User, uc store.UserContext,
	proj mapping.Projection, status int) {
	var refs []mapping.Ref
	var roles []mapping.RoleAssignment
	err := s.userParts(ctx, getReqCtx(r).tenant, []*mapping.User{u}, uc, nil, func(_ int, rs []mapping.Ref, ro []mapping.RoleAssignment) { refs, roles = rs, ro })
	if err != nil {
		s.fail(w, r, err)
		return
	}
	setHeader(w, "Etag", mapping.ETag(u.Version))
	if proj.IsZero() {
		writeUserJSON(w, status, u, s.baseURL(r), refs, roles)
		return
	}
	res := mapping.UserResource(u, s.baseURL(r), refs)
	if len(roles) > 0 {
		res["roles"] = mapping.RolesAttr(roles)
	}
	writeJSON(w, status, proj.Apply(mapping.UserType, res))
}

// notFoundAs turns store.ErrNotFound into a 404 naming the resource.
func notFoundAs(err error, kind, id string) error {
	if errors.Is(err, store.ErrNotFound) {
		return &mapping.Error{Status: 404, Detail: kind + " " + id + " not found"}
	}
	return err
}

func (s *Server) createUser(w http.ResponseWriter, r *http.Request) {
	rc := getReqCtx(r)
	body, err := s.readBody(w, r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	attrs, err := mapping.DecodeUser(body)
	if err != nil {
		rc.ev.Name = nameFromBody(body, "userName")
		s.fail(w, r, err)
		return
	}
	now := s.now().UTC()
	u := &mapping.User{ID: uuid.NewString(), Attrs: attrs, Origin: mapping.OriginOktaPush, Created: now, LastModified: now}
	rc.ev.Name, rc.ev.ResourceID = u.UserName(), u.ID
	ctx, cancel := storeCtx(r)
	defer cancel()
	if err := s.st.CreateUser(ctx, rc.tenant, u); err != nil {
		s.fail(w, r, err)
		return
	}
	rc.ev.Changed, rc.ev.Changes = true, mapping.DiffAttrs(nil, u.Attrs)
	base := s.baseURL(r)
	// Rendered like every other response (with the derived roles; a new
	// user has no groups). The user exists now, so a failure to read the
	// role inputs must not turn the 201 into an error Okta would retry into
	// a 409: it then answers without roles.
	w.Header().Set("Location", base+"/Users/"+u.ID)
	var refs []mapping.Ref
	var roles []mapping.RoleAssignment
	uc, err := s.st.UserContext(ctx, rc.tenant, []string{u.ID}, false)
	if err == nil {
		err = s.userParts(ctx, rc.tenant, []*mapping.User{u}, uc, nil, func(_ int, rs []mapping.Ref, ro []mapping.RoleAssignment) { refs, roles = rs, ro })
	}
	if err != nil {
		s.log.Warn().Err(err).Str("request_id", rc.id).Msg("rendering roles of a created user failed")
	}
	setHeader(w, "Etag", mapping.ETag(u.Version))
	writeUserJSON(w, http.StatusCreated, u, base, refs, roles)
}

func (s *Server) replaceUser(w http.ResponseWriter, r *http.Request) {
	rc := getReqCtx(r)
	id := r.PathValue("id")
	ctx, cancel := storeCtx(r)
	defer cancel()
	var cur *mapping.User
	proj, body, ok := s.writePrelude(w, r, mapping.UserType, id, func() (name string, err error) {
		if cur, err = s.st.GetUser(ctx, rc.tenant, id); err != nil {
			return "", err
		}
		return cur.UserName(), nil
	})
	if !ok {
		return
	}
	attrs, err := mapping.DecodeUser(body)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var before mapping.Attrs
	u, changed, err := store.UpdateUserWith(ctx, s.st, rc.tenant, id, cur, func(old mapping.User) (mapping.User, error) {
		before = old.Attrs
		old.Attrs, old.LastModified = attrs, s.now().UTC()
		return old, nil
	})
	// The log entry is filed under the name the user has after the
	// request: the new one when the replace succeeded, the current one
	// (writePrelude's) when it was refused (a userName another user
	// holds is not this user's).
	if err == nil {
		rc.ev.Name = u.UserName()
	}
	s.respondUpdated(w, r, ctx, id, before, u, changed, err, proj)
}

// respondUpdated ends a PUT or PATCH of user id made by
// store.UpdateUserWith: the error it returned (404 for an unknown id), or
// the event's changes (before → u's attributes, when changed) and 200
// with u rendered.
func (s *Server) respondUpdated(w http.ResponseWriter, r *http.Request, ctx context.Context, id string, before mapping.Attrs,
	u *mapping.User, changed bool, err error, proj mapping.Projection) {
	if err != nil {
		s.fail(w, r, notFoundAs(err, "User", id))
		return
	}
	if changed {
		rc := getReqCtx(r)
		rc.ev.Changed, rc.ev.Changes = true, mapping.DiffAttrs(before, u.Attrs)
	}
	s.respondUser(w, r, ctx, u, proj)
}

// respondUser writes 200 with u rendered and projected. Callers parse the
// projection before they write, so a bad one changes nothing.
func (s *Server) respondUser(w http.ResponseWriter, r *http.Request, ctx context.Context, u *mapping.User, proj mapping.Projection) {
	uc, err := s.st.UserContext(ctx, getReqCtx(r).tenant, []string{u.ID}, false)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.respondWith(w, r, ctx, u, uc, proj, http.StatusOK)
}

// patchUser applies a PatchOp atomically (store.UpdateUserWith): read,
// apply in memory, write with the read version; a concurrent change makes
// it re-read and re-apply. A no-op PATCH writes nothing (meta.lastModified
// unchanged).
func (s *Server) patchUser(w http.ResponseWriter, r *http.Request) {
	rc := getReqCtx(r)
	id := r.PathValue("id")
	ctx, cancel := storeCtx(r)
	defer cancel()
	var cur *mapping.User
	proj, body, ok := s.writePrelude(w, r, mapping.UserType, id, func() (name string, err error) {
		if cur, err = s.st.GetUser(ctx, rc.tenant, id); err != nil {
			return "", err
		}
		return cur.UserName(), nil
	})
	if !ok {
		return
	}
	ops, err := mapping.DecodePatch(body)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var before mapping.Attrs
	u, changed, err := store.UpdateUserWith(ctx, s.st, rc.tenant, id, cur, func(old mapping.User) (mapping.User, error) {
		rc.ev.Name, before = old.UserName(), old.Attrs
		attrs, err := mapping.ApplyUserPatch(old.Attrs, id, ops)
		if err != nil {
			return old, err
		}
		old.Attrs, old.LastModified = attrs, s.now().UTC()
		return old, nil
	})
	s.respondUpdated(w, r, ctx, id, before, u, changed, err, proj)
}

func (s *Server) deleteUser(w http.ResponseWriter, r *http.Request) {
	rc := getReqCtx(r)
	id := r.PathValue("id")
	rc.ev.ResourceID = id
	ctx, cancel := storeCtx(r)
	defer cancel()
	// The name is read once, for the log entry of the delete or of its
	// rejection.
	old, err := store.DeleteUserWith(ctx, s.st, rc.tenant, id, nil)
	if old != nil {
		rc.ev.Name = old.UserName()
	}
	if err != nil {
		s.fail(w, r, notFoundAs(err, "User", id))
		return
	}
	rc.ev.Changed = true
	w.WriteHeader(http.StatusNoContent)
}

// indexedEq returns the attribute and value of an `eq` comparison that an
// index can answer (userName or externalId for Users; displayName or
// externalId for Groups; id for both), looking through "and" so that
// `userName eq "x" and active eq true` still uses the index.
func indexedEq(rt *mapping.ResourceType, e filter.Expr) (attr, value string, ok bool) {
	switch x := e.(type) {
	case *filter.Compare:
		if x.Op != filter.Eq || x.Value.Kind != filter.KindString || x.Path.Sub != "" {
			return "", "", false
		}
		if x.Path.URN != "" && !strings.EqualFold(x.Path.URN, rt.Schema.ID) {
			return "", "", false
		}
		for _, name := range []string{"id", "externalId", "userName", "displayName"} {
			if strings.EqualFold(x.Path.Name, name) {
				if (name == "userName" && rt != mapping.UserType) || (name == "displayName" && rt != mapping.GroupType) {
					return "", "", false
				}
				return name, x.Value.Str, true
			}
		}
	case *filter.Logical:
		if x.And {
			if a, v, ok := indexedEq(rt, x.Left); ok {
				return a, v, true
			}
			return indexedEq(rt, x.Right)
		}
	}
	return "", "", false
}

// referencesAttr reports whether a filter mentions top-level attribute name.
func referencesAttr(e filter.Expr, name string) bool {
	switch x := e.(type) {
	case *filter.Compare:
		return strings.EqualFold(x.Path.Name, name)
	case *filter.ValuePath:
		return strings.EqualFold(x.Path.Name, name)
	case *filter.Logical:
		return referencesAttr(x.Left, name) || referencesAttr(x.Right, name)
	case *filter.Not:
		return referencesAttr(x.X, name)
	}
	return false
}

// listUsers answers GET /Users (RFC 7644 §3.4.2): without a filter, a page
// of the tenant's users in creation order; an indexable eq filter is one
// index lookup; any other filter scans the tenant in creation order.
func (s *Server) listUsers(w http.ResponseWriter, r *http.Request) {
	rc := getReqCtx(r)
	p, err := parseList(mapping.UserType, r.URL.Query())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ctx, cancel := storeCtx(r)
	defer cancel()
	base := s.baseURL(r)
	if p.filter == "" {
		page, err := s.st.ListUsers(ctx, rc.tenant, p.startIndex-1, p.count)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		res, err := s.renderUsers(ctx, rc.tenant, base, page.Items)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		writeList(w, mapping.UserType, p, res, page.Total)
		return
	}
	expr, match, err := mapping.ParseFilter(mapping.UserType, p.filter)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	win := newWindow[map[string]any](p)
	if attr, val, ok := indexedEq(mapping.UserType, expr); ok {
		var u *mapping.User
		var uc store.UserContext
		if attr == "id" {
			u, uc, err = s.loadUser(ctx, rc.tenant, val)
		} else {
			u, uc, err = s.lookupUser(ctx, rc.tenant, store.Index(attr), val)
		}
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			s.fail(w, r, err)
			return
		}
		if u != nil {
			res, err := s.renderWith(ctx, rc.tenant, base, []*mapping.User{u}, uc)
			if err != nil {
				s.fail(w, r, err)
				return
			}
			if match(res[0]) {
				win.add(res[0])
			}
		}
	} else {
		list := func(ctx context.Context, off, n int) (store.Page[*mapping.User], error) {
			return s.st.ListUsers(ctx, rc.tenant, off, n)
		}
		err := scanTenant(ctx, list, s.maxScan, "users", p.filter, func(items []*mapping.User) error {
			res, err := s.renderUsers(ctx, rc.tenant, base, items)
			if err != nil {
				return err
			}
			for _, m := range res {
				if match(m) {
					win.add(m)
				}
			}
			return nil
		})
		if err != nil {
			s.fail(w, r, err)
			return
		}
	}
	writeList(w, mapping.UserType, p, win.items, win.total)
}

// writeList writes a ListResponse (RFC 7644 §3.4.2) with integer counts
// and a Resources array that is never null.
func writeList(w http.ResponseWriter, rt *mapping.ResourceType, p listParams, res []map[string]any, total int) {
	list := make([]any, len(res))
	for i, m := range res {
		list[i] = p.proj.Apply(rt, m)
	}
	writeJSON(w, 200, listResponse(list, total, p.startIndex))
}

// writePrelude is the common start of PUT and PATCH, in the order the
// RFC's answers need: the resource must exist (404 before the body is
// looked at; load returns its name), the projection must parse (before
// anything is written), then the body is read. ok is false when an error
// response was written.
func (s *Server) writePrelude(w http.ResponseWriter, r *http.Request, rt *mapping.ResourceType, id string,
	load func() (string, error)) (proj mapping.Projection, body []byte, ok bool) {
	rc := getReqCtx(r)
	rc.ev.ResourceID = id
	name, err := load()
	if err != nil {
		if errors.Is(err, store.ErrNotFound) && r.Method == http.MethodPut {
			// No resource to file the refusal under: the name the body
			// asks for (a PUT's userName or displayName), as a POST's is.
			nameAttr := "displayName"
			if rt == mapping.UserType {
				nameAttr = "userName"
			}
			if b, rerr := io.ReadAll(io.LimitReader(r.Body, s.maxBody)); rerr == nil {
				rc.ev.Name = nameFromBody(b, nameAttr)
			}
		}
		s.fail(w, r, notFoundAs(err, rt.Name, id))
		return proj, nil, false
	}
	rc.ev.Name = name
	if proj, err = projectionOf(rt, r); err != nil {
		s.fail(w, r, err)
		return proj, nil, false
	}
	if body, err = s.readBody(w, r); err != nil {
		s.fail(w, r, err)
		return proj, nil, false
	}
	return proj, body, true
}
