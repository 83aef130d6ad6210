package store

import (
	"context"
	"slices"

	"github.com/axonflow/axonflow-sync/mapping"
)

// Writer is who changes state, as the provisioning log names it. Each edge
// attaches one to the context of its writes, once (WithWriter): the SCIM
// authentication middleware (okta-push, the token id, the request id), the
// reconcile run (reconciler, the run id) and the operator commands
// (operator, cli:<login> / admin-api[:name] / config). Logged and the
// recording function of internal/provlog read it from there.
type Writer struct {
	// Actor is ActorOktaPush, ActorReconciler or ActorOperator; ID the
	// token id, run id or operator name; RequestID the SCIM request id.
	Actor, ID, RequestID string
	// Claim is what the request says about who is behind it, unverified
	// (the admin API's X-AxonFlow-Operator header): recorded as
	// LogEntry.OperatorClaim beside the authenticated ID, never as it.
	Claim string
	// UpdateOp names an update that is neither an (de|re)activation nor a
	// membership-only change (UpdateOperation's fallback): "replace" (SCIM
	// PUT), "patch" (SCIM PATCH); "" means "update" (the reconciler). A
	// "patch" entry carries the name the resource had before the change
	// (what the PATCH addressed), the others the name after it.
	UpdateOp string
	// UpdateStatus is the status recorded for a successful update (0: 200;
	// a SCIM PATCH of a group answered 204 No Content sets 204).
	UpdateStatus int
	// OwnRejections says the edge records its rejected requests itself
	// (the SCIM server: with the status and detail it answered), so Logged
	// records only changes; otherwise Logged records a failed write as a
	// rejected entry too.
	OwnRejections bool
}

type writerKey struct{}

// WithWriter returns ctx carrying w: writes through a Logged store with
// this context are recorded as w's.
func WithWriter(ctx context.Context, w Writer) context.Context {
	return context.WithValue(ctx, writerKey{}, w)
}

// WriterOf returns the Writer attached to ctx by WithWriter; ok is false
// when there is none (such writes are not recorded by Logged).
func WriterOf(ctx context.Context) (w Writer, ok bool) {
	w, ok = ctx.Value(writerKey{}).(Writer)
	return w, ok
}

// Stamp fills e's Actor, ActorID and RequestID (those that are empty) from
// the Writer of ctx.
func Stamp(ctx context.Context, e LogEntry) LogEntry {
	w, ok := WriterOf(ctx)
	if !ok {
		return e
	}
	if e.Actor == "" {
		e.Actor = w.Actor
	}
	if e.ActorID == "" {
		e.ActorID = w.ID
	}
	if e.RequestID == "" {
		e.RequestID = w.RequestID
	}
	if e.OperatorClaim == "" {
		e.OperatorClaim = w.Claim
	}
	return e
}

// pendingLog is a provisioning log entry a backend writes in the same
// atomic change as the user or group write it comes with (see LogEntryOf).
type pendingLog struct {
	Entry LogEntry
}

type pendingKey struct{}

// withPendingLog returns ctx asking the backend to write e with the write
// made under it (only Logged does this).
func withPendingLog(ctx context.Context, e LogEntry) context.Context {
	return context.WithValue(ctx, pendingKey{}, &pendingLog{Entry: e})
}

// LogEntryOf returns the provisioning log entry that the user or group
// write made under ctx must store in the same atomic change (Redis: the
// same script; SQLite: the same transaction), if any. Backends call it in
// CreateUser, UpdateUser, DeleteUser, CreateGroup, UpdateGroup and
// DeleteGroup; UpdateGroup stores it only when the change changed
// something (its version moved or its Okta id changed). Backends normalise
// it (NormalizeLogEntry) like AppendLog does. A write that fails stores
// neither the change nor the entry.
func LogEntryOf(ctx context.Context) (LogEntry, bool) {
	p, ok := ctx.Value(pendingKey{}).(*pendingLog)
	if !ok || p == nil {
		return LogEntry{}, false
	}
	return p.Entry, true
}

// withoutPendingLog hides a pending entry from the calls made under the
// returned context (the reads Logged and the update helpers make).
func withoutPendingLog(ctx context.Context) context.Context {
	if _, ok := ctx.Value(pendingKey{}).(*pendingLog); !ok {
		return ctx
	}
	return context.WithValue(ctx, pendingKey{}, (*pendingLog)(nil))
}

type priorUserKey struct{}
type priorGroupKey struct{}

// withPriorUser tells Logged the stored user an UpdateUser replaces (read
// by UpdateUserWith), so it does not read it again.
func withPriorUser(ctx context.Context, u *mapping.User) context.Context {
	return context.WithValue(ctx, priorUserKey{}, u)
}

func priorUser(ctx context.Context, id string) *mapping.User {
	u, _ := ctx.Value(priorUserKey{}).(*mapping.User)
	if u == nil || u.ID != id {
		return nil
	}
	return u
}

// withPriorGroup is withPriorUser for groups (UpdateGroupWith).
func withPriorGroup(ctx context.Context, g *mapping.Group) context.Context {
	return context.WithValue(ctx, priorGroupKey{}, g)
}

func priorGroup(ctx context.Context, id string) *mapping.Group {
	g, _ := ctx.Value(priorGroupKey{}).(*mapping.Group)
	if g == nil || g.ID != id {
		return nil
	}
	return g
}

// MembersGuard is what Logged assumes about a group's membership when it
// builds the provisioning log entry of a membership change (a GroupChange
// with Add or Remove and without ReplaceMembers) before the change is
// made: Members are the ids among the change's Add and Remove that it
// takes to be members of the group; every other id of Add and Remove it
// takes not to be one. Backends check it in the write's atomic change (see
// MembersGuardOf), so the entry lists exactly the members really added and
// removed without a read of the membership before the write.
type MembersGuard struct {
	Members []string
}

type membersGuardKey struct{}

// WithMembersGuard returns ctx asking the backend to check g in the group
// write made under it (MembersGuardOf). Logged sets it on the writes it
// records; the conformance suite (store/storetest) sets it to test backends.
func WithMembersGuard(ctx context.Context, g MembersGuard) context.Context {
	return context.WithValue(ctx, membersGuardKey{}, &g)
}

// MembersGuardOf returns the guard of the group write made under ctx, if
// any. Backends call it in UpdateGroup: when ok and the change has no
// ReplaceMembers, they check, in the same atomic change as the write and
// before writing anything (after ErrNotFound and ErrVersionMismatch), that
// the ids of c.Add and c.Remove that are members of the group are exactly
// g.Members; if not, they change nothing and return *MembersChangedError
// with the ids of c.Add and c.Remove that are members. The check costs
// O(len(Add)+len(Remove)) and no round trip of its own.
func MembersGuardOf(ctx context.Context) (g MembersGuard, ok bool) {
	p, ok := ctx.Value(membersGuardKey{}).(*MembersGuard)
	if !ok || p == nil {
		return MembersGuard{}, false
	}
	return *p, true
}

// Check compares g with actual, the ids of a change's Add and Remove that
// are members of the group as the backend read them in the write's atomic
// change (each at most once): nil when they are the same set, else
// *MembersChangedError{Members: actual}.
func (g MembersGuard) Check(actual []string) error {
	want := make(map[string]bool, len(g.Members))
	for _, id := range g.Members {
		want[id] = true
	}
	same := len(want) == len(actual)
	for _, id := range actual {
		if !want[id] {
			same = false
		}
	}
	if same {
		return nil
	}
	return &MembersChangedError{Members: slices.Clone(actual)}
}
