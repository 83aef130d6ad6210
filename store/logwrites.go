package store

import (
	"context"
	"errors"
	"log"
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

// Logged returns st with every user and group write recorded in the
// provisioning log of the tenant written to, in the same atomic change as
// the write itself (the backend stores the entry LogEntryOf gives it), as
// the Writer attached to the write's context (WithWriter); writes whose
// context has no Writer pass through unrecorded. It is applied once, where
// the store is wired (cmd/axonflow-sync), and is the only place entries of
// user and group changes are built:
//
//   - creates (201), updates (Writer.UpdateStatus or 200; operation
//     deactivate/reactivate when active flipped, add_members/remove_members/
//     update_members for membership-only changes, link when only the
//     group's Okta id changed, else Writer.UpdateOp or "update") and
//     deletes (204), with their Changes; a group update that changed
//     nothing records nothing;
//   - failed writes as rejected entries (mapping.SCIMStatus, the error as Detail),
//     through record, unless the Writer has OwnRejections; ErrVersionMismatch
//     failures are never recorded (callers re-read and retry).
//
// record writes one entry on its own (internal/provlog's Recorder.Record:
// it counts and logs a failed write); nil means AppendLog, reporting a
// failure on the standard library's logger (stderr). Costs: an update reads the object
// first unless UpdateUserWith/UpdateGroupWith already did; a delete reads
// its name first unless DeleteUserWith/DeleteGroupWith already did; a
// group update that replaces the member set reads it first
// (SnapshotMembers), one that adds or removes members reads nothing (the
// backend checks a MembersGuard with the write). Everything else passes
// through unchanged.
func Logged(st State, record func(ctx context.Context, tenant string, e LogEntry)) State {
	if record == nil {
		record = func(ctx context.Context, tenant string, e LogEntry) { appendOrWarn(ctx, st, tenant, e) }
	}
	l := &logged{State: st, record: record}
	if _, ok := st.(UserDocs); ok {
		return loggedDocs{l}
	}
	return l
}

// loggedDocs is a Logged store whose underlying store has UserDocs: reads
// pass through.
type loggedDocs struct{ *logged }

// UserDocContext is the underlying store's.
func (l loggedDocs) UserDocContext(ctx context.Context, tenant, id string) (UserContext, string, error) {
	return l.State.(UserDocs).UserDocContext(ctx, tenant, id)
}

// DecodeUserDoc is the underlying store's.
func (l loggedDocs) DecodeUserDoc(u *mapping.User, doc string) error {
	return l.State.(UserDocs).DecodeUserDoc(u, doc)
}

// appendOrWarn appends e, reporting a failure on the standard library's
// logger (stderr): the fallback of a store not wired with a recorder.
func appendOrWarn(ctx context.Context, st State, tenant string, e LogEntry) {
	if err := st.AppendLog(ctx, tenant, e); err != nil {
		log.Printf("axonflow-sync: provisioning log entry (%s %q) of tenant %q not written: %q", e.Operation, e.Name, tenant, err.Error()) // quoted: names come from Okta
	}
}

type logged struct {
	State
	record func(ctx context.Context, tenant string, e LogEntry)
}

// OpTimeout is the optional interface of a store that bounds every call
// by a deadline of its own (whatever the caller's context allows), so
// that callers need not bound them: OpTimeout returns that bound (0: none).
// A Logged store has its underlying store's.
type OpTimeout interface {
	OpTimeout() time.Duration
}

// OpTimeout implements OpTimeout with the underlying store's bound (0 when
// it has none).
func (l *logged) OpTimeout() time.Duration {
	if ot, ok := l.State.(OpTimeout); ok {
		return ot.OpTimeout()
	}
	return 0
}

// LogRecorder is implemented by a Logged store: RecordLog writes one entry
// on its own through the recording function the store was wired with.
type LogRecorder interface {
	RecordLog(ctx context.Context, tenant string, e LogEntry)
}

// RecordLog hands e to the recording function Logged was given.
func (l *logged) RecordLog(ctx context.Context, tenant string, e LogEntry) {
	l.record(ctx, tenant, e)
}

// Record writes one provisioning log entry that is not part of a user or
// group write (an operator action: tokens, roles, the default role): e is
// stamped with the Writer of ctx (Stamp) and the current time (when
// e.Time is zero), then handed to st's recording function when st is a
// Logged store (which counts and logs a failed write; the action is never
// failed by it). On a store that is not wired with Logged (tests, tools)
// it is appended directly, and a failure is reported on the standard
// library's logger (stderr), never dropped silently.
func Record(ctx context.Context, st State, tenant string, e LogEntry) {
	e = Stamp(ctx, e)
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	ctx = context.WithoutCancel(ctx)
	if r, ok := st.(LogRecorder); ok {
		r.RecordLog(ctx, tenant, e)
		return
	}
	appendOrWarn(ctx, st, tenant, e)
}

// entry stamps e with the writer and the time; ok is false when ctx has no
// writer.
func entry(ctx context.Context, e LogEntry) (LogEntry, Writer, bool) {
	w, ok := WriterOf(ctx)
	if !ok {
		return e, w, false
	}
	e = Stamp(ctx, e)
	e.Time = time.Now()
	return e, w, true
}

// rejected records e as the rejection of a write that failed with err.
func (l *logged) rejected(ctx context.Context, tenant string, w Writer, e LogEntry, err error) {
	if w.OwnRejections || errors.Is(err, ErrVersionMismatch) {
		return
	}
	e.Status, e.ScimType = mapping.SCIMStatus(err)
	e.Detail, e.Changes = err.Error(), nil
	if e.Operation == "create" {
		e.ResourceID = ""
	}
	l.record(context.WithoutCancel(ctx), tenant, e)
}

// CreateUser creates u and records it.
func (l *logged) CreateUser(ctx context.Context, tenant string, u *mapping.User) error {
	e, w, ok := entry(ctx, LogEntry{ResourceType: "User", ResourceID: u.ID, Name: u.UserName(), Operation: "create",
		Status: 201, Changes: mapping.DiffAttrs(nil, u.Attrs)})
	if !ok {
		return l.State.CreateUser(ctx, tenant, u)
	}
	err := l.State.CreateUser(withPendingLog(ctx, e), tenant, u)
	if err != nil {
		l.rejected(ctx, tenant, w, e, err)
	}
	return err
}

// UpdateUser updates u and records what changed.
func (l *logged) UpdateUser(ctx context.Context, tenant string, u *mapping.User, expectVersion int64) error {
	w, ok := WriterOf(ctx)
	if !ok {
		return l.State.UpdateUser(ctx, tenant, u, expectVersion)
	}
	var before mapping.Attrs
	name := u.UserName()
	if cur := priorUser(ctx, u.ID); cur != nil {
		before = cur.Attrs
	} else if cur, err := l.State.GetUser(withoutPendingLog(ctx), tenant, u.ID); err == nil {
		before = cur.Attrs
	}
	if w.UpdateOp == "patch" && before != nil {
		name = (&mapping.User{Attrs: before}).UserName()
	}
	changes := mapping.DiffAttrs(before, u.Attrs)
	e, _, _ := entry(ctx, LogEntry{ResourceType: "User", ResourceID: u.ID, Name: name,
		Operation: UpdateOperation(changes, w.updateOp()), Status: w.updateStatus(), Changes: changes})
	err := l.State.UpdateUser(withPendingLog(ctx, e), tenant, u, expectVersion)
	if err != nil {
		l.rejected(ctx, tenant, w, e, err)
	}
	return err
}

func (w Writer) updateOp() string {
	if w.UpdateOp == "" {
		return "update"
	}
	return w.UpdateOp
}

func (w Writer) updateStatus() int {
	if w.UpdateStatus == 0 {
		return 200
	}
	return w.UpdateStatus
}

// DeleteUser deletes a user and records it.
func (l *logged) DeleteUser(ctx context.Context, tenant, id string) error {
	if _, ok := WriterOf(ctx); !ok {
		return l.State.DeleteUser(ctx, tenant, id)
	}
	var name string
	if cur := priorUser(ctx, id); cur != nil {
		name = cur.UserName()
	} else if cur, err := l.State.GetUser(withoutPendingLog(ctx), tenant, id); err == nil {
		name = cur.UserName()
	}
	e, w, _ := entry(ctx, LogEntry{ResourceType: "User", ResourceID: id, Name: name, Operation: "delete", Status: 204})
	err := l.State.DeleteUser(withPendingLog(ctx, e), tenant, id)
	if err != nil {
		l.rejected(ctx, tenant, w, e, err)
	}
	return err
}

// CreateGroup creates g with members and records it.
func (l *logged) CreateGroup(ctx context.Context, tenant string, g *mapping.Group, members []string) error {
	changes := mapping.DiffAttrs(nil, g.Attrs)
	if g.OktaID != "" {
		changes = append(changes, mapping.AttrChange{Attr: "oktaId", After: g.OktaID})
	}
	if mc, ok := mapping.MemberChange(members, nil); ok {
		changes = append(changes, mc)
	}
	e, w, ok := entry(ctx, LogEntry{ResourceType: "Group", ResourceID: g.ID, Name: g.DisplayName(), Operation: "create",
		Status: 201, Changes: changes})
	if !ok {
		return l.State.CreateGroup(ctx, tenant, g, members)
	}
	err := l.State.CreateGroup(withPendingLog(ctx, e), tenant, g, members)
	if err != nil {
		l.rejected(ctx, tenant, w, e, err)
	}
	return err
}

// UpdateGroup applies c and records what it changed (the backend stores
// the entry only when something changed). A membership change without
// ReplaceMembers reads nothing before the write: its entry assumes that
// the ids of c.Remove are members and those of c.Add are not, under a
// MembersGuard the backend checks atomically with the write; when the
// guess is wrong (a re-sent add, a remove of a non-member, a concurrent
// change), the backend changes nothing and reports the membership
// (*MembersChangedError), and the write is made again with the entry and
// guard built from it (at most MaxUpdateRetries times). A ReplaceMembers
// change reads the member set first (SnapshotMembers).
func (l *logged) UpdateGroup(ctx context.Context, tenant, id string, c GroupChange) (*mapping.Group, error) {
	w, ok := WriterOf(ctx)
	if !ok {
		return l.State.UpdateGroup(ctx, tenant, id, c)
	}
	rctx := withoutPendingLog(ctx)
	cur := priorGroup(ctx, id)
	if cur == nil {
		if g, err := l.State.GetGroup(rctx, tenant, id); err == nil {
			cur = g
		}
	}
	guarded := !c.ReplaceMembers && len(c.Add)+len(c.Remove) > 0
	var snap MemberSnapshot
	var guard MembersGuard
	if guarded {
		// The removed ids not also added, each once (a set: a PATCH can
		// remove 10,000 ids).
		skip := make(map[string]bool, len(c.Add)+len(c.Remove))
		for _, a := range c.Add {
			skip[a] = true
		}
		for _, r := range c.Remove {
			if !skip[r] {
				skip[r] = true
				guard.Members = append(guard.Members, r)
			}
		}
	} else {
		snap = SnapshotMembers(rctx, l.State, tenant, id, c)
	}
	var before mapping.Attrs
	var beforeOkta string
	if cur != nil {
		before, beforeOkta = cur.Attrs, cur.OktaID
	}
	after := before
	if c.Attrs != nil {
		after = c.Attrs
	}
	for attempt := 0; ; attempt++ {
		wctx := ctx
		if guarded {
			snap = MemberSnapshot{ok: true, before: make(map[string]bool, len(guard.Members))}
			for _, m := range guard.Members {
				snap.before[m] = true
			}
			wctx = WithMembersGuard(ctx, guard)
		}
		e := LogEntry{ResourceType: "Group", ResourceID: id, Status: w.updateStatus()}
		e.Name = (&mapping.Group{Attrs: after}).DisplayName()
		if w.UpdateOp == "patch" && cur != nil {
			e.Name = cur.DisplayName()
		}
		e.Changes = snap.Changes(before, after, c)
		if c.OktaID != nil && *c.OktaID != beforeOkta {
			e.Changes = append(e.Changes, mapping.AttrChange{Attr: "oktaId", Before: nilIfEmpty(beforeOkta), After: nilIfEmpty(*c.OktaID)})
		}
		e.Operation = UpdateOperation(e.Changes, w.updateOp())
		if len(e.Changes) == 1 && e.Changes[0].Attr == "oktaId" {
			e.Operation = "link"
		}
		e, _, _ = entry(ctx, e)
		g, err := l.State.UpdateGroup(withPendingLog(wctx, e), tenant, id, c)
		var mc *MembersChangedError
		if guarded && errors.As(err, &mc) && attempt < MaxUpdateRetries {
			guard.Members = mc.Members
			continue
		}
		if err != nil {
			if cur != nil {
				e.Name = cur.DisplayName()
			} else {
				e.Name = ""
			}
			e.Operation = w.updateOp()
			l.rejected(ctx, tenant, w, e, err)
		}
		return g, err
	}
}

// DeleteGroup deletes a group and records it.
func (l *logged) DeleteGroup(ctx context.Context, tenant, id string, expectVersion int64) error {
	if _, ok := WriterOf(ctx); !ok {
		return l.State.DeleteGroup(ctx, tenant, id, expectVersion)
	}
	var name string
	if cur := priorGroup(ctx, id); cur != nil {
		name = cur.DisplayName()
	} else if cur, err := l.State.GetGroup(withoutPendingLog(ctx), tenant, id); err == nil {
		name = cur.DisplayName()
	}
	e, w, _ := entry(ctx, LogEntry{ResourceType: "Group", ResourceID: id, Name: name, Operation: "delete", Status: 204})
	err := l.State.DeleteGroup(withPendingLog(ctx, e), tenant, id, expectVersion)
	if err != nil {
		l.rejected(ctx, tenant, w, e, err)
	}
	return err
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}
