package store

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/axonflow/axonflow-sync/mapping"
)

// MemberSnapshot is a group's membership just before a GroupChange, as far
// as the change needs it to tell which members it really adds and removes.
// Take it with SnapshotMembers, apply the change, then call Changes.
type MemberSnapshot struct {
	ok     bool
	before map[string]bool
}

// SnapshotMembers reads what Changes needs about group gid before c is
// applied: the whole member set when c.ReplaceMembers (one GroupMembers),
// else which of c.Add and c.Remove are members (one batched UserGroups,
// O(delta)). A failed read yields a snapshot whose Changes lists
// attributes only.
func SnapshotMembers(ctx context.Context, st State, tenant, gid string, c GroupChange) MemberSnapshot {
	snap := MemberSnapshot{ok: true, before: map[string]bool{}}
	switch {
	case c.ReplaceMembers:
		ids, err := st.GroupMembers(ctx, tenant, gid)
		if err != nil {
			return MemberSnapshot{}
		}
		for _, id := range ids {
			snap.before[id] = true
		}
	case len(c.Add)+len(c.Remove) > 0:
		ids := append(slices.Clone(c.Add), c.Remove...)
		groups, err := st.UserGroups(ctx, tenant, ids)
		if err != nil {
			return MemberSnapshot{}
		}
		for _, id := range ids {
			if slices.Contains(groups[id], gid) {
				snap.before[id] = true
			}
		}
	}
	return snap
}

// Changes is what the applied change c did to the group: its attributes
// before → after (mapping.DiffAttrs) and the members really added and
// removed (mapping.MemberChange; ids that were already in, or already out
// of, the group are not listed).
func (snap MemberSnapshot) Changes(before, after mapping.Attrs, c GroupChange) []mapping.AttrChange {
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

// ErrorStatus is the HTTP status and SCIM scimType a SCIM request failing
// with err would get, for the provisioning log's rejected entries.
//
// Deprecated: a thin forward kept while the provisioning-log writing moves
// (h4-writes); call mapping.SCIMStatus, the SCIM table of the error codes.
func ErrorStatus(err error) (int, string) { return mapping.SCIMStatus(err) }

// LogWrites returns st with every user and group write recorded in the
// provisioning log of the tenant written to, as actor with actorID (the
// reconciler passes ActorReconciler and its run id): creates, updates
// (deactivate/reactivate when active flipped, add_members/remove_members
// for membership-only changes, link when only the group's Okta id
// changed) and deletes, with their Changes, and failed writes as rejected
// entries (ErrorStatus, the error as Detail). ErrVersionMismatch failures
// are not recorded: callers re-read and retry. Everything else passes
// through unchanged.
//
// Each recorded write costs one AppendLog and, for updates and deletes, a
// read of the object first (for the before values and the name). A failed
// AppendLog never fails the write: onError (if not nil) gets it.
func LogWrites(st State, actor, actorID string, onError func(error)) State {
	return &logWrites{State: st, actor: actor, actorID: actorID, onError: onError}
}

type logWrites struct {
	State
	actor, actorID string
	onError        func(error)
}

func (l *logWrites) append(ctx context.Context, tenant string, e LogEntry, err error) {
	if errors.Is(err, ErrVersionMismatch) {
		return
	}
	e.Time, e.Actor, e.ActorID = time.Now(), l.actor, l.actorID
	if err != nil {
		e.Status, e.ScimType = ErrorStatus(err)
		e.Detail, e.Changes = err.Error(), nil
		if e.Operation == "create" {
			e.ResourceID = ""
		}
	}
	if aerr := l.State.AppendLog(context.WithoutCancel(ctx), tenant, e); aerr != nil && l.onError != nil {
		l.onError(aerr)
	}
}

// CreateUser creates u and records it.
func (l *logWrites) CreateUser(ctx context.Context, tenant string, u *mapping.User) error {
	err := l.State.CreateUser(ctx, tenant, u)
	l.append(ctx, tenant, LogEntry{ResourceType: "User", ResourceID: u.ID, Name: u.UserName(), Operation: "create",
		Status: 201, Changes: mapping.DiffAttrs(nil, u.Attrs)}, err)
	return err
}

// UpdateUser updates u and records what changed.
func (l *logWrites) UpdateUser(ctx context.Context, tenant string, u *mapping.User, expectVersion int64) error {
	var before mapping.Attrs
	if cur, err := l.State.GetUser(ctx, tenant, u.ID); err == nil {
		before = cur.Attrs
	}
	err := l.State.UpdateUser(ctx, tenant, u, expectVersion)
	changes := mapping.DiffAttrs(before, u.Attrs)
	l.append(ctx, tenant, LogEntry{ResourceType: "User", ResourceID: u.ID, Name: u.UserName(),
		Operation: UpdateOperation(changes, "update"), Status: 200, Changes: changes}, err)
	return err
}

// DeleteUser deletes a user and records it.
func (l *logWrites) DeleteUser(ctx context.Context, tenant, id string) error {
	var name string
	if cur, err := l.State.GetUser(ctx, tenant, id); err == nil {
		name = cur.UserName()
	}
	err := l.State.DeleteUser(ctx, tenant, id)
	l.append(ctx, tenant, LogEntry{ResourceType: "User", ResourceID: id, Name: name, Operation: "delete",
		Status: 204}, err)
	return err
}

// CreateGroup creates g with members and records it.
func (l *logWrites) CreateGroup(ctx context.Context, tenant string, g *mapping.Group, members []string) error {
	err := l.State.CreateGroup(ctx, tenant, g, members)
	changes := mapping.DiffAttrs(nil, g.Attrs)
	if g.OktaID != "" {
		changes = append(changes, mapping.AttrChange{Attr: "oktaId", After: g.OktaID})
	}
	if mc, ok := mapping.MemberChange(members, nil); ok {
		changes = append(changes, mc)
	}
	l.append(ctx, tenant, LogEntry{ResourceType: "Group", ResourceID: g.ID, Name: g.DisplayName(), Operation: "create",
		Status: 201, Changes: changes}, err)
	return err
}

// UpdateGroup applies c and records what it changed (nothing is recorded
// when nothing changed).
func (l *logWrites) UpdateGroup(ctx context.Context, tenant, id string, c GroupChange) (*mapping.Group, error) {
	cur, gerr := l.State.GetGroup(ctx, tenant, id)
	snap := SnapshotMembers(ctx, l.State, tenant, id, c)
	g, err := l.State.UpdateGroup(ctx, tenant, id, c)
	e := LogEntry{ResourceType: "Group", ResourceID: id, Status: 200, Operation: "update"}
	if gerr == nil {
		e.Name = cur.DisplayName()
	}
	if err == nil {
		oktaChanged := c.OktaID != nil && (gerr != nil || *c.OktaID != cur.OktaID)
		if gerr == nil && g.Version == cur.Version && !oktaChanged {
			return g, nil // nothing changed
		}
		var before mapping.Attrs
		var beforeOkta string
		if gerr == nil {
			before, beforeOkta = cur.Attrs, cur.OktaID
		}
		e.Name = g.DisplayName()
		e.Changes = snap.Changes(before, g.Attrs, c)
		if c.OktaID != nil && *c.OktaID != beforeOkta {
			e.Changes = append(e.Changes, mapping.AttrChange{Attr: "oktaId", Before: nilIfEmpty(beforeOkta), After: nilIfEmpty(*c.OktaID)})
		}
		e.Operation = UpdateOperation(e.Changes, "update")
		if len(e.Changes) == 1 && e.Changes[0].Attr == "oktaId" {
			e.Operation = "link"
		}
	}
	l.append(ctx, tenant, e, err)
	return g, err
}

// DeleteGroup deletes a group and records it.
func (l *logWrites) DeleteGroup(ctx context.Context, tenant, id string) error {
	var name string
	if cur, err := l.State.GetGroup(ctx, tenant, id); err == nil {
		name = cur.DisplayName()
	}
	err := l.State.DeleteGroup(ctx, tenant, id)
	l.append(ctx, tenant, LogEntry{ResourceType: "Group", ResourceID: id, Name: name, Operation: "delete",
		Status: 204}, err)
	return err
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}
