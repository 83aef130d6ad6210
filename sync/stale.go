package sync

import (
	"context"
	"errors"
	"fmt"

	"github.com/axonflow/axonflow-sync/store"
)

// Mark is the high-water mark of a run: the stored version of every user
// and group of the tenant, read before the run's Okta read begins. An
// object whose version differs from its mark (or that has no mark: it was
// created since) changed after the Okta snapshot began, so the snapshot
// cannot be trusted to take anything away from it. Versions move with every
// stored change on both backends (a group's also with every membership
// change), whichever replica wrote it, so the mark holds across replicas.
type Mark struct {
	// Users and Groups map AxonFlow ids to the version read.
	Users, Groups map[string]int64
}

// LoadMark reads the versions of every user and group of tenant from st
// (ScanUsers, keyset paging, and ListGroups, without members, in pages of
// 1,000).
// Call it before the Okta read begins. A store error is returned wrapped
// (the caller reports the run incomplete).
func LoadMark(ctx context.Context, st store.State, tenant string) (*Mark, error) {
	m := &Mark{Users: map[string]int64{}, Groups: map[string]int64{}}
	for after := store.Cursor(0); ; {
		p, err := st.ScanUsers(ctx, tenant, after, loadPage)
		if err != nil {
			return nil, fmt.Errorf("listing users: %w", err)
		}
		for _, u := range p.Items {
			m.Users[u.ID] = u.Version
		}
		if p.Done {
			break
		}
		after = p.Next
	}
	for off := 0; ; off += loadPage {
		p, err := st.ListGroups(ctx, tenant, off, loadPage)
		if err != nil {
			return nil, fmt.Errorf("listing groups: %w", err)
		}
		for _, g := range p.Items {
			m.Groups[g.ID] = g.Version
		}
		if len(p.Items) < loadPage {
			break
		}
	}
	return m, nil
}

// userStale returns why the user id at version v may not lose anything on
// the strength of the run's Okta snapshot, or "" if it has not changed
// since the mark. A nil Mark never defers.
func (m *Mark) userStale(id string, v int64) string {
	if m == nil {
		return ""
	}
	old, ok := m.Users[id]
	switch {
	case !ok:
		return "the user was created in AxonFlow after this run's Okta read began"
	case old != v:
		return fmt.Sprintf("the user changed in AxonFlow after this run's Okta read began (version %d, %d at the start)", v, old)
	}
	return ""
}

// groupStale is userStale for groups (a membership change moves the
// group's version too).
func (m *Mark) groupStale(id string, v int64) string {
	if m == nil {
		return ""
	}
	old, ok := m.Groups[id]
	switch {
	case !ok:
		return "the group was created in AxonFlow after this run's Okta read began"
	case old != v:
		return fmt.Sprintf("the group or its members changed in AxonFlow after this run's Okta read began (version %d, %d at the start)", v, old)
	}
	return ""
}

// wrote records that the run itself moved an object to version v, so its
// own writes never make its later corrections look stale.
func (m *Mark) wrote(users bool, id string, v int64) {
	if m == nil || v == 0 {
		return
	}
	if users {
		m.Users[id] = v
	} else {
		m.Groups[id] = v
	}
}

// Deferred is a destructive correction a run skipped because its object
// changed in AxonFlow after the run's Okta read began (see Mark); the next
// run decides it. It is listed under "deferred" in the report.
type Deferred struct {
	Action      Action `json:"action"`
	UserName    string `json:"userName,omitempty"`
	DisplayName string `json:"displayName,omitempty"`
	OktaID      string `json:"oktaId,omitempty"`
	// AxonflowID is the user or group (memberships: the group).
	AxonflowID string `json:"axonflowId,omitempty"`
	// Member and MemberOktaID identify the member of a membership removal.
	Member       string `json:"member,omitempty"`
	MemberOktaID string `json:"memberOktaId,omitempty"`
	// Reason says what changed.
	Reason string `json:"reason"`
}

// errStale is returned by the Applier for a destructive correction whose
// object changed since the mark (re-checked right before the write).
type errStale struct{ reason string }

func (e *errStale) Error() string { return "deferred: " + e.reason }

// staleReason returns the reason of an errStale in err ("" if none).
func staleReason(err error) string {
	var s *errStale
	if errors.As(err, &s) {
		return s.reason
	}
	return ""
}

// DeferStale removes from p the destructive corrections (membership
// removals, group deletions, user deactivations and destructive updates)
// whose objects changed after mark, as a (in the store read after the Okta
// snapshot) shows them, and returns them as Deferred entries. A membership
// removal is deferred when its group or its member changed. It is pure.
func DeferStale(p *Plan, a *Actual, mark *Mark) []Deferred {
	if mark == nil {
		return nil
	}
	userVersion := func(id string) int64 {
		if i := a.userIndex(id); i >= 0 {
			return a.Users[i].Version
		}
		return 0
	}
	gv := make(map[string]int64, len(a.Groups))
	for _, g := range a.Groups {
		gv[g.ID] = g.Version
	}
	var out []Deferred
	keep := p.Corrections[:0]
	for _, c := range p.Corrections {
		reason := ""
		if c.Destructive {
			switch c.Action {
			case ActDeactivateUser, ActUpdateUser:
				reason = mark.userStale(c.AxonflowID, userVersion(c.AxonflowID))
			case ActDeleteGroup:
				reason = mark.groupStale(c.AxonflowID, gv[c.AxonflowID])
			case ActRemoveMember:
				reason = mark.groupStale(c.AxonflowID, gv[c.AxonflowID])
				if reason == "" && c.MemberID != "" {
					reason = mark.userStale(c.MemberID, userVersion(c.MemberID))
				}
			}
		}
		if reason != "" {
			out = append(out, deferredOf(c, reason))
			continue
		}
		keep = append(keep, c)
	}
	p.Corrections = keep
	return out
}

func deferredOf(c Correction, reason string) Deferred {
	return Deferred{Action: c.Action, UserName: c.UserName, DisplayName: c.DisplayName, OktaID: c.OktaID,
		AxonflowID: c.AxonflowID, Member: c.MemberID, MemberOktaID: c.MemberOktaID, Reason: reason}
}
