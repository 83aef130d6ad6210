package sync

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/axonflow/axonflow-sync/mapping"
	"github.com/axonflow/axonflow-sync/store"
)

// Result values of an Applied entry.
const (
	ResultOK    = "ok"    // the correction was written (or was already in place)
	ResultError = "error" // it failed; Error says why, nothing of it was written
	// ResultDeferred: a destructive correction not written because its
	// object changed after the run's Okta read began (Error says how); the
	// Runner lists it under "deferred", never under "applied".
	ResultDeferred = "deferred"
)

// Applied is the outcome of one attempted correction, as listed under
// "applied" in the report.
type Applied struct {
	Action      Action `json:"action"`
	UserName    string `json:"userName,omitempty"`
	DisplayName string `json:"displayName,omitempty"`
	OktaID      string `json:"oktaId,omitempty"`
	// AxonflowID is the user or group changed (for memberships: the group;
	// for creates: the new id).
	AxonflowID string `json:"axonflowId,omitempty"`
	// Member is the AxonFlow user id of a membership correction.
	Member string `json:"member,omitempty"`
	// Fields are the identity fields an update_user changed.
	Fields []string `json:"fields,omitempty"`
	Result string   `json:"result"`
	Error  string   `json:"error,omitempty"`
}

// memberBatch is the most membership changes sent in one UpdateGroup.
const memberBatch = 500

// Applier writes corrections to the store of one tenant, through the same
// store operations the SCIM server uses (CreateUser, UpdateUser with the
// version read, CreateGroup, UpdateGroup deltas, DeleteGroup).
type Applier struct {
	Store  store.State
	Tenant string
	// Check is called before every write; a non-nil error stops Apply
	// before that write (the run lost its lease or was canceled).
	Check func() error
	// Now returns the time written to Created/LastModified (default
	// time.Now).
	Now func() time.Time
	// Mark, if not nil, is the run's high-water mark: each destructive
	// correction is re-checked against the store right before its write
	// and not written (ResultDeferred) if its object changed since the
	// mark. The Applier records its own writes in it.
	Mark *Mark

	createdUsers  map[string]string // Okta user id → new AxonFlow id
	createdGroups map[string]string // Okta group id → new AxonFlow id
}

// Apply writes cs in order and returns one Applied per correction attempted
// (in the order of cs). It stops early, returning the entries so far and
// the error, when Check fails or ctx ends; other failures are recorded in
// their entry and Apply goes on. Each existing object is re-read before it
// is changed and left alone if its origin is no longer managed; membership
// changes are batched per group (up to 500 per UpdateGroup).
func (ap *Applier) Apply(ctx context.Context, cs []Correction) ([]Applied, error) {
	if ap.Now == nil {
		ap.Now = time.Now
	}
	if ap.Check == nil {
		ap.Check = func() error { return nil }
	}
	ap.createdUsers, ap.createdGroups = map[string]string{}, map[string]string{}
	out := make([]Applied, 0, len(cs))
	for i := 0; i < len(cs); {
		c := cs[i]
		if c.Action == ActAddMember || c.Action == ActRemoveMember {
			j := i + 1
			for j < len(cs) && j-i < memberBatch && cs[j].Action == c.Action && cs[j].OktaID == c.OktaID && cs[j].AxonflowID == c.AxonflowID {
				j++
			}
			res, err := ap.members(ctx, cs[i:j])
			out = append(out, res...)
			if err != nil {
				return out, err
			}
			i = j
			continue
		}
		if err := ap.stop(ctx); err != nil {
			return out, err
		}
		a := newApplied(c)
		var err error
		switch c.Action {
		case ActCreateUser:
			a.AxonflowID, err = ap.createUser(ctx, c)
		case ActUpdateUser:
			err = ap.updateUser(ctx, c.AxonflowID, c.Destructive, func(attrs mapping.Attrs) mapping.Attrs {
				return mapping.ApplyIdentity(attrs, c.Identity)
			})
		case ActDeactivateUser:
			err = ap.updateUser(ctx, c.AxonflowID, true, func(attrs mapping.Attrs) mapping.Attrs {
				attrs = attrs.Clone()
				attrs["active"] = false
				return attrs
			})
		case ActCreateGroup:
			a.AxonflowID, err = ap.createGroup(ctx, c)
		case ActUpdateGroup, ActLinkGroup:
			err = ap.updateGroup(ctx, c)
		case ActDeleteGroup:
			err = ap.deleteGroup(ctx, c)
		default:
			err = fmt.Errorf("unknown action %q", c.Action)
		}
		if err != nil && ctx.Err() != nil {
			return out, context.Cause(ctx)
		}
		out = append(out, finish(a, err))
		i++
	}
	return out, nil
}

func (ap *Applier) stop(ctx context.Context) error {
	if err := ap.Check(); err != nil {
		return err
	}
	if ctx.Err() != nil {
		return context.Cause(ctx)
	}
	return nil
}

func newApplied(c Correction) Applied {
	a := Applied{Action: c.Action, UserName: c.UserName, DisplayName: c.DisplayName, OktaID: c.OktaID,
		AxonflowID: c.AxonflowID, Member: c.MemberID}
	if c.Action == ActUpdateUser {
		a.Fields = c.Fields
	}
	return a
}

func finish(a Applied, err error) Applied {
	if r := staleReason(err); r != "" {
		a.Result, a.Error = ResultDeferred, r
	} else if err != nil {
		a.Result, a.Error = ResultError, err.Error()
	} else {
		a.Result = ResultOK
	}
	return a
}

// The errors of a membership correction whose group or member does not
// exist in AxonFlow because its creation was not applied (rejected, still
// pending, or failed): nothing was written. A plan records such an item as
// stale, not failed.
const (
	msgGroupNotCreated  = "the group was not created"
	msgMemberNotCreated = "the member was not created"
)

// errNotManaged is recorded when an object's origin changed since the plan.
var errNotManaged = errors.New("left alone: its origin is no longer okta-push or reconciler")

// normalizeUser gives attrs the validation and canonical form of a SCIM
// write (mapping.NormalizeUser: DecodeUser's code), so stored documents
// have exactly the form a SCIM write gives them.
func normalizeUser(attrs mapping.Attrs) (mapping.Attrs, error) { return mapping.NormalizeUser(attrs) }

// normalizeGroup is normalizeUser for groups (mapping.NormalizeGroup).
func normalizeGroup(attrs mapping.Attrs) (mapping.Attrs, error) { return mapping.NormalizeGroup(attrs) }

func (ap *Applier) createUser(ctx context.Context, c Correction) (string, error) {
	attrs, err := normalizeUser(mapping.ApplyIdentity(nil, c.Identity))
	if err != nil {
		return "", err
	}
	now := ap.Now().UTC()
	u := &mapping.User{ID: uuid.NewString(), Attrs: attrs, Origin: mapping.OriginReconciler, Created: now, LastModified: now}
	if err := ap.Store.CreateUser(ctx, ap.Tenant, u); err != nil {
		return "", err
	}
	ap.createdUsers[c.OktaID] = u.ID
	ap.Mark.wrote(true, u.ID, 1)
	return u.ID, nil
}

// updateUser re-reads the user, applies change and writes it with the
// version read, retrying on a concurrent change (store.UpdateUserWith). A
// change that alters nothing writes nothing. A destructive change of a user
// that changed since the mark is not written (errStale).
func (ap *Applier) updateUser(ctx context.Context, id string, destructive bool, change func(mapping.Attrs) mapping.Attrs) error {
	calls := 0
	u, wrote, err := store.UpdateUserWith(ctx, ap.Store, ap.Tenant, id, nil, func(cur mapping.User) (mapping.User, error) {
		calls++
		if !Managed(cur.Origin) {
			return cur, errNotManaged
		}
		if destructive {
			if r := ap.Mark.userStale(cur.ID, cur.Version); r != "" {
				return cur, &errStale{r}
			}
		}
		attrs, err := normalizeUser(change(cur.Attrs))
		if err != nil {
			return cur, err
		}
		if calls > 1 && !attrs.Equal(cur.Attrs) {
			if err := ap.stop(ctx); err != nil {
				return cur, err
			}
		}
		cur.Attrs, cur.LastModified = attrs, ap.Now().UTC()
		return cur, nil
	})
	if err == nil && wrote && u != nil {
		ap.Mark.wrote(true, id, u.Version)
	}
	return err
}

func (ap *Applier) createGroup(ctx context.Context, c Correction) (string, error) {
	attrs, err := normalizeGroup(mapping.Attrs{"displayName": c.DisplayName})
	if err != nil {
		return "", err
	}
	now := ap.Now().UTC()
	g := &mapping.Group{ID: uuid.NewString(), Attrs: attrs, OktaID: c.OktaID, Origin: mapping.OriginReconciler,
		Created: now, LastModified: now}
	if err := ap.Store.CreateGroup(ctx, ap.Tenant, g, nil); err != nil {
		return "", err
	}
	ap.createdGroups[c.OktaID] = g.ID
	ap.Mark.wrote(false, g.ID, 1)
	return g.ID, nil
}

// updateGroup renames or links a group with the version read, retrying
// on a concurrent change (store.UpdateGroupWith).
func (ap *Applier) updateGroup(ctx context.Context, c Correction) error {
	calls := 0
	g, wrote, err := store.UpdateGroupWith(ctx, ap.Store, ap.Tenant, c.AxonflowID, nil, func(cur mapping.Group) (store.GroupChange, bool, error) {
		calls++
		if !Managed(cur.Origin) {
			return store.GroupChange{}, false, errNotManaged
		}
		oktaID := c.OktaID
		ch := store.GroupChange{OktaID: &oktaID, ExpectVersion: cur.Version, At: ap.Now().UTC()}
		if c.Action == ActUpdateGroup {
			attrs := cur.Attrs.Clone()
			if attrs == nil {
				attrs = mapping.Attrs{}
			}
			attrs["displayName"] = c.DisplayName
			var err error
			if ch.Attrs, err = normalizeGroup(attrs); err != nil {
				return ch, false, err
			}
		} else if cur.OktaID == oktaID {
			return ch, false, nil
		}
		if calls > 1 {
			if err := ap.stop(ctx); err != nil {
				return ch, false, err
			}
		}
		return ch, true, nil
	})
	if err == nil && wrote && g != nil {
		ap.Mark.wrote(false, c.AxonflowID, g.Version)
	}
	return err
}

func (ap *Applier) deleteGroup(ctx context.Context, c Correction) error {
	cur, err := ap.Store.GetGroup(ctx, ap.Tenant, c.AxonflowID)
	if err != nil {
		return err
	}
	if !Managed(cur.Origin) {
		return errNotManaged
	}
	if r := ap.Mark.groupStale(cur.ID, cur.Version); r != "" {
		return &errStale{r}
	}
	if err := ap.stop(ctx); err != nil {
		return err
	}
	// Conditioned on the version just read: a push landing between that
	// read and this write (a member added, a rename) defers the deletion.
	_, err = store.DeleteGroupWith(ctx, ap.Store, ap.Tenant, c.AxonflowID, cur)
	if errors.Is(err, store.ErrVersionMismatch) {
		return &errStale{"the group or its members changed in AxonFlow while this run was deleting it"}
	}
	return err
}

// members applies a batch of add_member or remove_member corrections of one
// group in one UpdateGroup (after resolving ids of objects created by this
// run). Members the store does not know are dropped from the batch and
// reported as errors; the rest is retried once.
func (ap *Applier) members(ctx context.Context, cs []Correction) ([]Applied, error) {
	out := make([]Applied, len(cs))
	gid := cs[0].AxonflowID
	if gid == "" {
		gid = ap.createdGroups[cs[0].OktaID]
	}
	var ids []string
	idx := map[string]int{}
	for i, c := range cs {
		out[i] = newApplied(c)
		out[i].AxonflowID = gid
		uid := c.MemberID
		if uid == "" {
			uid = ap.createdUsers[c.MemberOktaID]
		}
		out[i].Member = uid
		switch {
		case gid == "":
			out[i] = finish(out[i], errors.New(msgGroupNotCreated))
		case uid == "":
			out[i] = finish(out[i], errors.New(msgMemberNotCreated))
		default:
			idx[uid] = i
			ids = append(ids, uid)
		}
	}
	remove := cs[0].Action == ActRemoveMember
	for attempt := 0; len(ids) > 0; attempt++ {
		if err := ap.stop(ctx); err != nil {
			return out[:0], err
		}
		ch := store.GroupChange{At: ap.Now().UTC()}
		if !remove {
			ch.Add = ids
		} else if ap.Mark != nil {
			// Re-check right before the write: the group and each member
			// must be as they were when the Okta read began; the write
			// expects the group's version read here.
			var err error
			if ids, ch.ExpectVersion, err = ap.recheckRemovals(ctx, gid, ids, idx, out); err != nil {
				if ctx.Err() != nil {
					return out[:0], context.Cause(ctx)
				}
				for _, u := range ids {
					out[idx[u]] = finish(out[idx[u]], err)
				}
				break
			}
			if len(ids) == 0 {
				break
			}
			ch.Remove = ids
		} else {
			ch.Remove = ids
		}
		g, err := ap.Store.UpdateGroup(ctx, ap.Tenant, gid, ch)
		if errors.Is(err, store.ErrVersionMismatch) && remove {
			err = &errStale{"the group or its members changed in AxonFlow while the run was correcting it"}
		}
		if err == nil && g != nil {
			ap.Mark.wrote(false, gid, g.Version)
		}
		var ue *store.UnknownMembersError
		if errors.As(err, &ue) && attempt == 0 {
			for _, u := range ue.IDs {
				if i, ok := idx[u]; ok {
					out[i] = finish(out[i], fmt.Errorf("user %s no longer exists", u))
				}
			}
			ids = slices.DeleteFunc(ids, func(u string) bool { return slices.Contains(ue.IDs, u) })
			continue
		}
		if err != nil && ctx.Err() != nil {
			return out[:0], context.Cause(ctx)
		}
		for _, u := range ids {
			out[idx[u]] = finish(out[idx[u]], err)
		}
		break
	}
	return out, nil
}

// recheckRemovals re-reads group gid and the users ids before a membership
// removal: if the group changed since the mark every removal is deferred;
// members that changed are deferred (their entries in out, by idx, are
// finished) and dropped. It returns the ids still to remove and the group
// version the write must expect.
func (ap *Applier) recheckRemovals(ctx context.Context, gid string, ids []string, idx map[string]int, out []Applied) ([]string, int64, error) {
	g, err := ap.Store.GetGroup(ctx, ap.Tenant, gid)
	if err != nil {
		return ids, 0, err
	}
	if r := ap.Mark.groupStale(gid, g.Version); r != "" {
		return ids, 0, &errStale{r}
	}
	users, err := ap.Store.GetUsers(ctx, ap.Tenant, ids)
	if err != nil {
		return ids, 0, err
	}
	keep := ids[:0:0]
	seen := map[string]bool{}
	for _, u := range users {
		seen[u.ID] = true
		if r := ap.Mark.userStale(u.ID, u.Version); r != "" {
			out[idx[u.ID]] = finish(out[idx[u.ID]], &errStale{r})
			continue
		}
		keep = append(keep, u.ID)
	}
	for _, id := range ids {
		if !seen[id] { // deleted since: removing it is moot, let the store say so
			keep = append(keep, id)
		}
	}
	return keep, g.Version, nil
}
