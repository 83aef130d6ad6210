package scimserver

import (
	"context"
	"encoding/json"
	"slices"
	"strings"

	"github.com/axonflow/axonflow-sync/mapping"
	"github.com/axonflow/axonflow-sync/store"
)

// What a request changed, for Event.Changes (the provisioning log): the
// helpers below never fail a request; when a read they need fails, the
// event simply carries less.

// nameFromBody returns the string value of the top-level attribute attr
// (case-insensitive) of a JSON body that failed validation, so a rejected
// create can still be found by its userName or displayName; "" when there
// is none.
func nameFromBody(body []byte, attr string) string {
	var m map[string]any
	if json.Unmarshal(body, &m) != nil {
		return ""
	}
	for k, v := range m {
		if strings.EqualFold(k, attr) {
			if s, ok := v.(string); ok && len(s) <= 2048 {
				return s
			}
		}
	}
	return ""
}

// userNameOf returns the userName of a user about to be deleted ("" if it
// cannot be read).
func (s *Server) userNameOf(ctx context.Context, tenant, id string) string {
	if u, err := s.st.GetUser(ctx, tenant, id); err == nil {
		return u.UserName()
	}
	return ""
}

// displayNameOf returns the displayName of a group about to be deleted.
func (s *Server) displayNameOf(ctx context.Context, tenant, id string) string {
	if g, err := s.st.GetGroup(ctx, tenant, id); err == nil {
		return g.DisplayName()
	}
	return ""
}

// createdGroupChanges is what a group create changed: its attributes and
// its initial members.
func createdGroupChanges(attrs mapping.Attrs, members []string) []mapping.AttrChange {
	out := mapping.DiffAttrs(nil, attrs)
	if c, ok := mapping.MemberChange(members, nil); ok {
		out = append(out, c)
	}
	return out
}

// memberSnapshot is a group's membership just before a GroupChange, as far
// as the change needs it to tell which members it really adds and removes:
// the whole member set for ReplaceMembers (one GroupMembers read), else
// whether each id in Add and Remove is a member (one batched UserGroups
// read, O(delta)).
type memberSnapshot struct {
	ok     bool
	before map[string]bool // member id → true (whole set, or the ids of the delta)
}

// snapshotMembers reads the membership gid's change c will alter.
func (s *Server) snapshotMembers(ctx context.Context, tenant, gid string, c store.GroupChange) memberSnapshot {
	snap := memberSnapshot{ok: true, before: map[string]bool{}}
	switch {
	case c.ReplaceMembers:
		ids, err := s.st.GroupMembers(ctx, tenant, gid)
		if err != nil {
			return memberSnapshot{}
		}
		for _, id := range ids {
			snap.before[id] = true
		}
	case len(c.Add)+len(c.Remove) > 0:
		ids := append(slices.Clone(c.Add), c.Remove...)
		groups, err := s.st.UserGroups(ctx, tenant, ids)
		if err != nil {
			return memberSnapshot{}
		}
		for _, id := range ids {
			if slices.Contains(groups[id], gid) {
				snap.before[id] = true
			}
		}
	}
	return snap
}

// groupChanges is what an applied GroupChange changed: the attributes
// (before → after) and the members really added and removed (ids already
// in, or already out of, the group are not listed).
func (snap memberSnapshot) groupChanges(before, after mapping.Attrs, c store.GroupChange) []mapping.AttrChange {
	out := mapping.DiffAttrs(before, after)
	if !snap.ok {
		return out
	}
	var added, removed []string
	if c.ReplaceMembers {
		// GroupChange order: the set becomes Members, then Remove, then Add.
		final := map[string]bool{}
		var order []string
		for _, id := range c.Members {
			if !final[id] {
				final[id] = true
				order = append(order, id)
			}
		}
		for _, id := range c.Remove {
			delete(final, id)
		}
		for _, id := range c.Add {
			if !final[id] {
				final[id] = true
				order = append(order, id)
			}
		}
		for _, id := range order {
			if final[id] && !snap.before[id] {
				added = append(added, id)
			}
		}
		for id := range snap.before {
			if !final[id] {
				removed = append(removed, id)
			}
		}
		slices.Sort(removed)
	} else {
		for _, id := range c.Add {
			if !snap.before[id] {
				added = append(added, id)
			}
		}
		for _, id := range c.Remove {
			if snap.before[id] {
				removed = append(removed, id)
			}
		}
	}
	if mc, ok := mapping.MemberChange(added, removed); ok {
		out = append(out, mc)
	}
	return out
}
