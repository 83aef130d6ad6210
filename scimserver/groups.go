package scimserver

import (
	"context"
	"errors"
	"net/http"

	"github.com/google/uuid"

	"github.com/axonflow/axonflow-sync/mapping"
	"github.com/axonflow/axonflow-sync/store"
)

func (s *Server) groups(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		s.listGroups(w, r)
	case http.MethodPost:
		s.createGroup(w, r)
	default:
		s.methodNotAllowed(w, r, "GET, POST")
	}
}

func (s *Server) group(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		s.getGroup(w, r)
	case http.MethodPut:
		s.replaceGroup(w, r)
	case http.MethodPatch:
		s.patchGroup(w, r)
	case http.MethodDelete:
		s.deleteGroup(w, r)
	default:
		s.methodNotAllowed(w, r, "GET, PUT, PATCH, DELETE")
	}
}

// renderGroup renders g, loading its members unless the projection
// excludes them.
func (s *Server) renderGroup(ctx context.Context, tenant, base string, g *mapping.Group, proj mapping.Projection) (map[string]any, error) {
	var refs []mapping.Ref
	if !proj.Excludes("members") {
		ids, err := s.st.GroupMembers(ctx, tenant, g.ID)
		if err != nil {
			return nil, err
		}
		refs = make([]mapping.Ref, len(ids))
		for i, id := range ids {
			refs[i] = mapping.Ref{ID: id}
		}
	}
	return proj.Apply(mapping.GroupType, mapping.GroupResource(g, base, refs)), nil
}

func (s *Server) getGroup(w http.ResponseWriter, r *http.Request) {
	rc := getReqCtx(r)
	id := r.PathValue("id")
	rc.ev.ResourceID = id
	proj, err := projectionOf(mapping.GroupType, r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ctx, cancel := storeCtx(r)
	defer cancel()
	g, err := s.st.GetGroup(ctx, rc.tenant, id)
	if err != nil {
		s.fail(w, r, notFoundAs(err, "Group", id))
		return
	}
	rc.ev.Name = g.DisplayName()
	s.respondGroup(w, r, ctx, g, proj)
}

func (s *Server) createGroup(w http.ResponseWriter, r *http.Request) {
	rc := getReqCtx(r)
	body, err := s.readBody(w, r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	attrs, members, _, err := mapping.DecodeGroup(body)
	if err != nil {
		rc.ev.Name = nameFromBody(body, "displayName")
		s.fail(w, r, err)
		return
	}
	now := s.now().UTC()
	g := &mapping.Group{ID: uuid.NewString(), Attrs: attrs, Origin: mapping.OriginOktaPush, Created: now, LastModified: now}
	rc.ev.Name, rc.ev.ResourceID = g.DisplayName(), g.ID
	ctx, cancel := storeCtx(r)
	defer cancel()
	if err := s.st.CreateGroup(ctx, rc.tenant, g, members); err != nil {
		s.fail(w, r, err)
		return
	}
	rc.ev.Changed, rc.ev.Changes = true, createdGroupChanges(g.Attrs, members)
	base := s.baseURL(r)
	refs := make([]mapping.Ref, len(members))
	for i, id := range members {
		refs[i] = mapping.Ref{ID: id}
	}
	w.Header().Set("Location", base+"/Groups/"+g.ID)
	w.Header().Set("ETag", mapping.ETag(g.Version))
	writeJSON(w, http.StatusCreated, mapping.GroupResource(g, base, refs))
}

// replaceGroup is PUT /Groups/{id}: attributes replaced; members replaced
// when the body has a members attribute, and left alone when it has none
// (so a PUT that only renames never empties a large group).
func (s *Server) replaceGroup(w http.ResponseWriter, r *http.Request) {
	rc := getReqCtx(r)
	id := r.PathValue("id")
	ctx, cancel := storeCtx(r)
	defer cancel()
	var cur *mapping.Group
	proj, body, ok := s.writePrelude(w, r, mapping.GroupType, id, func() (name string, err error) {
		if cur, err = s.st.GetGroup(ctx, rc.tenant, id); err != nil {
			return "", err
		}
		return cur.DisplayName(), nil
	})
	if !ok {
		return
	}
	attrs, members, membersGiven, err := mapping.DecodeGroup(body)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	// Not versioned (PUT replaces whatever is stored), so never retried.
	g, changed, err := store.UpdateGroupWith(ctx, s.st, rc.tenant, id, cur, func(old mapping.Group) (store.GroupChange, bool, error) {
		c := store.GroupChange{At: s.now().UTC(), ReplaceMembers: membersGiven, Members: members}
		if !attrs.Equal(old.Attrs) {
			c.Attrs = attrs
		}
		return c, true, nil
	})
	if err != nil {
		s.fail(w, r, notFoundAs(err, "Group", id))
		return
	}
	// Filed under the new name once the replace succeeded; a refused one
	// stays under the current name (writePrelude's), as replaceUser's.
	rc.ev.Name, rc.ev.Changed = g.DisplayName(), changed
	s.respondGroup(w, r, ctx, g, proj)
}

// patchGroup applies a PatchOp as one atomic store change: attribute
// changes plus net member deltas, so its cost follows the delta, not the
// group size. It answers 204, or 200 with the group when the request asks
// for attributes (RFC 7644 §3.5.2).
func (s *Server) patchGroup(w http.ResponseWriter, r *http.Request) {
	rc := getReqCtx(r)
	id := r.PathValue("id")
	ctx, cancel := storeCtx(r)
	defer cancel()
	var cur *mapping.Group
	proj, body, ok := s.writePrelude(w, r, mapping.GroupType, id, func() (name string, err error) {
		if cur, err = s.st.GetGroup(ctx, rc.tenant, id); err != nil {
			return "", err
		}
		return cur.DisplayName(), nil
	})
	if !ok {
		return
	}
	ops, err := mapping.DecodePatch(body)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	members := func() ([]string, error) { return s.st.GroupMembers(ctx, rc.tenant, id) }
	if proj.IsZero() && rc.writer != nil {
		// Answered 204 No Content: so is the change's log entry.
		wr := *rc.writer
		wr.UpdateStatus = http.StatusNoContent
		ctx = store.WithWriter(ctx, wr)
	}
	g, changed, err := store.UpdateGroupWith(ctx, s.st, rc.tenant, id, cur, func(old mapping.Group) (store.GroupChange, bool, error) {
		rc.ev.Name = old.DisplayName()
		attrs, delta, err := mapping.ApplyGroupPatch(old.Attrs, id, ops, members)
		if err != nil {
			return store.GroupChange{}, false, err
		}
		c := store.GroupChange{At: s.now().UTC(), ReplaceMembers: delta.Replace, Members: delta.Members, Add: delta.Add, Remove: delta.Remove}
		if !attrs.Equal(old.Attrs) {
			// Attribute changes were computed from this version: guard them.
			c.Attrs, c.ExpectVersion = attrs, old.Version
		}
		return c, c.Attrs != nil || delta.Changed(), nil
	})
	if err != nil {
		s.fail(w, r, notFoundAs(err, "Group", id))
		return
	}
	rc.ev.Changed = changed
	if proj.IsZero() {
		w.Header().Set("ETag", mapping.ETag(g.Version))
		w.WriteHeader(http.StatusNoContent)
		return
	}
	s.respondGroup(w, r, ctx, g, proj)
}

func (s *Server) deleteGroup(w http.ResponseWriter, r *http.Request) {
	rc := getReqCtx(r)
	id := r.PathValue("id")
	rc.ev.ResourceID = id
	ctx, cancel := storeCtx(r)
	defer cancel()
	// The name is read once, for the log entry of the delete or of its
	// rejection.
	old, err := store.DeleteGroupWith(ctx, s.st, rc.tenant, id, nil)
	if old != nil {
		rc.ev.Name = old.DisplayName()
	}
	if err != nil {
		s.fail(w, r, notFoundAs(err, "Group", id))
		return
	}
	rc.ev.Changed = true
	w.WriteHeader(http.StatusNoContent)
}

// listGroups answers GET /Groups like listUsers: displayName/externalId/id
// eq from an index, other filters by scan, members loaded only when the
// response or the filter needs them.
func (s *Server) listGroups(w http.ResponseWriter, r *http.Request) {
	rc := getReqCtx(r)
	p, err := parseList(mapping.GroupType, r.URL.Query())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ctx, cancel := storeCtx(r)
	defer cancel()
	base := s.baseURL(r)
	if p.filter == "" {
		page, err := s.st.ListGroups(ctx, rc.tenant, p.startIndex-1, p.count)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		res := make([]map[string]any, len(page.Items))
		for i, g := range page.Items {
			if res[i], err = s.renderGroup(ctx, rc.tenant, base, g, p.proj); err != nil {
				s.fail(w, r, err)
				return
			}
		}
		writeList(w, mapping.GroupType, listParams{startIndex: p.startIndex, count: p.count}, res, page.Total)
		return
	}
	expr, match, err := mapping.ParseFilter(mapping.GroupType, p.filter)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	// Members are loaded for matching only when the filter mentions them;
	// then the rendering used for matching is projected for the response.
	evalProj := withoutMembers
	membersInFilter := referencesAttr(expr, "members")
	if membersInFilter {
		evalProj = mapping.Projection{}
	}
	type hit struct {
		g   *mapping.Group
		res map[string]any
	}
	win := newWindow[hit](p)
	test := func(g *mapping.Group) error {
		res, err := s.renderGroup(ctx, rc.tenant, base, g, evalProj)
		if err != nil {
			return err
		}
		if match(res) {
			win.add(hit{g, res})
		}
		return nil
	}
	if attr, val, ok := indexedEq(mapping.GroupType, expr); ok {
		id := val
		if attr != "id" {
			id, err = s.st.FindGroup(ctx, rc.tenant, store.Index(attr), val)
		}
		var g *mapping.Group
		if err == nil {
			g, err = s.st.GetGroup(ctx, rc.tenant, id)
		}
		if err == nil {
			err = test(g)
		}
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			s.fail(w, r, err)
			return
		}
	} else {
		list := func(ctx context.Context, off, n int) (store.Page[*mapping.Group], error) {
			return s.st.ListGroups(ctx, rc.tenant, off, n)
		}
		err := scanTenant(ctx, list, s.maxScan, "groups", p.filter, func(items []*mapping.Group) error {
			for _, g := range items {
				if err := test(g); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			s.fail(w, r, err)
			return
		}
	}
	total, matched := win.total, win.items
	res := make([]map[string]any, len(matched))
	for i, h := range matched {
		if membersInFilter {
			res[i] = p.proj.Apply(mapping.GroupType, h.res)
		} else if res[i], err = s.renderGroup(ctx, rc.tenant, base, h.g, p.proj); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	writeList(w, mapping.GroupType, listParams{startIndex: p.startIndex, count: p.count}, res, total)
}

// withoutMembers is the projection that leaves members out
// (excludedAttributes=members).
var withoutMembers = func() mapping.Projection {
	p, err := mapping.ParseProjection(mapping.GroupType, "", "members")
	if err != nil {
		panic(err)
	}
	return p
}()

// respondGroup writes 200 with g rendered under proj (members loaded only
// when proj keeps them) and its ETag.
func (s *Server) respondGroup(w http.ResponseWriter, r *http.Request, ctx context.Context, g *mapping.Group, proj mapping.Projection) {
	res, err := s.renderGroup(ctx, getReqCtx(r).tenant, s.baseURL(r), g, proj)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("ETag", mapping.ETag(g.Version))
	writeJSON(w, 200, res)
}
