package sync

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/axonflow/axonflow-sync/mapping"
	"github.com/axonflow/axonflow-sync/store"
	"github.com/axonflow/axonflow-sync/sync/oktasource"
)

// DesiredUser is one Okta app user as AxonFlow should hold it.
type DesiredUser struct {
	// OktaID is the Okta user id ("00u…").
	OktaID string
	// AppExternalID is the app user's externalId: the AxonFlow user id Okta
	// recorded when it provisioned the user ("" before).
	AppExternalID string
	// Identity is the user as mapping.IdentityFromOkta builds it; Active says
	// whether the user should have access (see GrantsAccess).
	Identity mapping.Identity
	// AppStatus and UserStatus are Okta's app user and user statuses.
	AppStatus, UserStatus string
}

// DesiredGroup is one Okta group in scope.
type DesiredGroup struct {
	// OktaID is the Okta group id ("00g…"); Name its profile.name.
	OktaID, Name string

	// members holds the indexes in Desired.Users of its members (app users
	// only), ascending, so in Okta id order (BuildDesired, PullDesired and
	// Desired.WithMembers fill it; MemberIDs lists them as ids). A group
	// holds no id string: at a million users a string per membership was
	// as many pointers for the GC to mark.
	members []int32
}

// MemberIDs returns the Okta user ids of g's members, sorted; d is the
// Desired holding g (its Users must be those g was built against).
func (g *DesiredGroup) MemberIDs(d *Desired) []string {
	ids := make([]string, len(g.members))
	for j, i := range g.members {
		ids[j] = d.Users[i].OktaID
	}
	return ids
}

// MemberCount returns the number of members of g.
func (g *DesiredGroup) MemberCount() int { return len(g.members) }

// WithMembers returns g with the members whose Okta user ids are ids (in
// any order; repeats count once), for a Desired assembled by hand: ids
// that are not among d.Users are dropped (as BuildDesired drops group
// members that are not app users). d.Users must not be reordered or
// shrunk afterwards.
func (d *Desired) WithMembers(g DesiredGroup, ids ...string) DesiredGroup {
	idx := make([]int32, 0, len(ids))
	for _, id := range ids {
		if i := d.userIndex(id); i >= 0 {
			idx = append(idx, int32(i))
		}
	}
	g.members = sortedIndexes(idx, func(i int32) string { return d.Users[i].OktaID })
	return g
}

// sortedIndexes sorts idx (indexes of items with key) by key, then index,
// drops repeats and returns it.
func sortedIndexes(idx []int32, key func(int32) string) []int32 {
	slices.SortFunc(idx, func(x, y int32) int { return cmp.Or(strings.Compare(key(x), key(y)), cmp.Compare(x, y)) })
	return slices.Clip(slices.Compact(idx))
}

// Desired is what Okta says the tenant should contain. Users and Groups are
// sorted by Okta id.
type Desired struct {
	Users  []DesiredUser
	Groups []DesiredGroup

	// byID indexes Users by OktaID (userIndex); rebuilt when Users has
	// another length than byIDLen.
	byID    *strIndex
	byIDLen int
}

// userIndex returns the index in d.Users of the (last) user whose OktaID is
// id, or -1.
func (d *Desired) userIndex(id string) int {
	return desiredIndex(d).get(id)
}

// grantingAppStatuses are the app user statuses that give access.
var grantingAppStatuses = map[string]bool{"ACTIVE": true, "PROVISIONED": true}

// grantingUserStatuses are the Okta user statuses in which a person can
// sign in; "" means Okta did not embed the user.
var grantingUserStatuses = map[string]bool{"": true, "ACTIVE": true, "PROVISIONED": true,
	"RECOVERY": true, "PASSWORD_EXPIRED": true, "LOCKED_OUT": true}

// GrantsAccess reports whether an Okta app user with app user status
// appStatus whose Okta user has status userStatus should have access in
// AxonFlow: appStatus ACTIVE or PROVISIONED, and userStatus ACTIVE,
// PROVISIONED, RECOVERY, PASSWORD_EXPIRED, LOCKED_OUT or "" (not embedded).
// Anything else (SUSPENDED, DEPROVISIONED, STAGED, INACTIVE, PENDING, an
// unknown status, ...) revokes it. Comparison ignores case. Okta references:
// https://developer.okta.com/docs/api/openapi/okta-management/management/tag/ApplicationUsers/
// and .../tag/User/ (user status).
func GrantsAccess(appStatus, userStatus string) bool {
	return grantingAppStatuses[strings.ToUpper(appStatus)] && grantingUserStatuses[strings.ToUpper(userStatus)]
}

// BuildDesired turns a complete Okta snapshot into the desired state. The
// identity of an app user comes from the embedded Okta user (Config.
// ExpandAppUsers): login, email, firstName, lastName; when Okta did not
// embed it, the login falls back to the app username
// (credentials.userName) and the other fields to the app user profile
// (email, firstName/given_name, lastName/family_name). Group members
// (snap.MemberIDs when set, else snap.Members) that are not app users are
// dropped.
func BuildDesired(snap *oktasource.Snapshot) *Desired {
	users := make([]DesiredUser, 0, len(snap.AppUsers))
	for i := range snap.AppUsers {
		users = append(users, desiredUser(snap.AppUsers[i]))
	}
	slices.SortStableFunc(users, func(a, b DesiredUser) int { return strings.Compare(a.OktaID, b.OktaID) })
	return desiredFrom(users, snap)
}

// PullDesired pulls the Okta app with client (oktasource.PullAs) and
// returns the desired state, as BuildDesired would build it from Pull's
// snapshot, with each app user turned into its DesiredUser as its page is
// read: the pull's app users and the desired users are never held at once,
// and the snapshot's member ids are dropped when PullDesired returns.
func PullDesired(ctx context.Context, client *oktasource.Client, opts oktasource.PullOptions) (*Desired, error) {
	snap, users, err := oktasource.PullAs(ctx, client, opts, desiredUser, func(u DesiredUser) string { return u.OktaID })
	if err != nil {
		return nil, err
	}
	return desiredFrom(users, snap), nil
}

// desiredUser is the desired form of one app user (see BuildDesired).
func desiredUser(u oktasource.AppUser) DesiredUser {
	login, email, first, last := u.Login, u.Email, u.FirstName, u.LastName
	if login == "" {
		login = u.UserName
	}
	if email == "" && first == "" && last == "" {
		email = profileString(u.Profile, "email")
		first = cmp.Or(profileString(u.Profile, "firstName"), profileString(u.Profile, "given_name"))
		last = cmp.Or(profileString(u.Profile, "lastName"), profileString(u.Profile, "family_name"))
	}
	return DesiredUser{
		OktaID: u.ID, AppExternalID: u.ExternalID, AppStatus: u.Status, UserStatus: u.UserStatus,
		Identity: mapping.IdentityFromOkta(u.ID, login, email, first, last, GrantsAccess(u.Status, u.UserStatus)),
	}
}

// desiredFrom completes the desired state from users (sorted by Okta id)
// and the groups and members of snap. A member is recorded with its index
// in users (found through the index of users by id), so a membership holds
// no string.
func desiredFrom(users []DesiredUser, snap *oktasource.Snapshot) *Desired {
	d := &Desired{Users: users, Groups: make([]DesiredGroup, 0, len(snap.Groups))}
	byID := newStrIndex(len(users), func(i int32) string { return users[i].OktaID }, nil)
	var idx []int32
	var buf []string // the member ids of snap.Members' groups
	for _, g := range snap.Groups {
		// A hash lookup per member, not a binary search over the users: at
		// a million users most of the ~20 steps of a search are cache
		// misses. The lookups go in batches (strIndex.getAll), so that the
		// misses of a batch overlap.
		ids := snap.MemberIDs[g.ID]
		if snap.MemberIDs == nil {
			buf = buf[:0]
			for _, m := range snap.Members[g.ID] {
				buf = append(buf, m.ID)
			}
			ids = buf
		}
		idx = slices.Grow(idx[:0], len(ids))[:len(ids)]
		byID.getAll(ids, idx)
		idx = slices.DeleteFunc(idx, func(i int32) bool { return i < 0 })
		// Users are sorted by id, so their indexes sort as their ids.
		slices.Sort(idx)
		idx = slices.Compact(idx)
		d.Groups = append(d.Groups, DesiredGroup{OktaID: g.ID, Name: g.Name, members: slices.Clone(idx)})
	}
	slices.SortFunc(d.Groups, func(a, b DesiredGroup) int { return strings.Compare(a.OktaID, b.OktaID) })
	return d
}

func profileString(p map[string]any, k string) string {
	s, _ := p[k].(string)
	return s
}

// ActualUser is the part of a stored user the reconciler compares.
type ActualUser struct {
	ID       string
	Origin   string
	Identity mapping.Identity
	// Version is the stored version read (mapping.User.Version).
	Version int64
}

// ActualGroup is the part of a stored group the reconciler compares.
type ActualGroup struct {
	ID, Origin, OktaID, DisplayName string
	// Version is the stored version read (mapping.Group.Version; it moves
	// with every attribute or membership change).
	Version int64

	// members holds the indexes in Actual.Users of its members that the
	// users read saw, ascending; others the ids of the rest (users created
	// after the users were read), sorted. LoadActual and Actual.WithMembers
	// fill them; MemberIDs lists them as ids.
	members []int32
	others  []string
}

// MemberIDs returns the AxonFlow user ids of g's members, sorted; a is the
// Actual holding g (its Users must be those g was read or built against).
func (g *ActualGroup) MemberIDs(a *Actual) []string {
	ids := make([]string, 0, len(g.members)+len(g.others))
	for _, i := range g.members {
		ids = append(ids, a.Users[i].ID)
	}
	ids = append(ids, g.others...)
	slices.Sort(ids)
	return ids
}

// MemberCount returns the number of members of g.
func (g *ActualGroup) MemberCount() int { return len(g.members) + len(g.others) }

// WithMembers returns g with the members whose AxonFlow user ids are ids
// (in any order), for an Actual assembled by hand: an id that is not among
// a.Users is kept as a member the users read did not see. a.Users must not
// be reordered or shrunk afterwards.
func (a *Actual) WithMembers(g ActualGroup, ids ...string) ActualGroup {
	g.members, g.others = nil, nil
	for _, id := range ids {
		if i := a.userIndex(id); i >= 0 {
			g.members = append(g.members, int32(i))
		} else {
			g.others = append(g.others, id)
		}
	}
	slices.Sort(g.members)
	slices.Sort(g.others)
	return g
}

// Actual is what the store holds for a tenant, in creation order.
type Actual struct {
	Users  []ActualUser
	Groups []ActualGroup
	// RoleMappings are the tenant's group-to-role mappings, for
	// role_assignment drift.
	RoleMappings []mapping.RoleMapping

	// byID indexes Users by ID (userIndex); rebuilt when Users has
	// another length than byIDLen.
	byID    *strIndex
	byIDLen int
}

// Memberships returns the number of memberships in a.
func (a *Actual) Memberships() int {
	n := 0
	for i := range a.Groups {
		n += a.Groups[i].MemberCount()
	}
	return n
}

// loadPage is the page size LoadActual scans users with.
const loadPage = 1000

// loadGroupPage is the page size LoadActual scans groups (with their
// members) with.
const loadGroupPage = 100

// LoadActual reads every user, group and membership of tenant from st:
// users in pages of 1,000 (ScanUsers: keyset paging, only the fields the
// reconciler compares, no attribute documents), then groups with their
// members in pages of 100 (ScanGroups). Each user's strings are held in one
// allocation, origins once per distinct value, and members share their
// user's index, so the snapshot holds each value once. A store error
// aborts the read (the caller reports the run incomplete).
func LoadActual(ctx context.Context, st store.State, tenant string) (*Actual, error) {
	return LoadActualBeside(ctx, st, tenant, nil)
}

// LoadActualBeside is LoadActual for a run that holds the desired state d
// (nil: none): the identity strings of a stored user that equal those of
// the Okta user its externalId names (its id: that user's app externalId)
// are d's strings, not copies, so a value both sides hold is held once.
func LoadActualBeside(ctx context.Context, st store.State, tenant string, d *Desired) (*Actual, error) {
	var desired *strIndex
	if d != nil {
		desired = desiredIndex(d)
	}
	a := &Actual{}
	count, err := st.ListUsers(ctx, tenant, 0, 0)
	if err != nil {
		return nil, fmt.Errorf("listing users: %w", err)
	}
	a.Users = make([]ActualUser, 0, count.Total)
	origins := map[string]string{}
	intern := func(s string) string {
		if v, ok := origins[s]; ok {
			return v
		}
		s = strings.Clone(s)
		origins[s] = s
		return s
	}
	var ext []string
	var di []int32
	for after := store.Cursor(0); ; {
		p, err := st.ScanUsers(ctx, tenant, after, loadPage)
		if err != nil {
			return nil, fmt.Errorf("listing users: %w", err)
		}
		if desired != nil {
			// The page's Okta users are looked up in batches
			// (strIndex.getAll).
			ext = ext[:0]
			for _, u := range p.Items {
				ext = append(ext, u.Identity.ExternalID)
			}
			di = slices.Grow(di[:0], len(ext))[:len(ext)]
			desired.getAll(ext, di)
		}
		for j, u := range p.Items {
			var du *DesiredUser
			if desired != nil && di[j] >= 0 && u.Identity.ExternalID != "" {
				du = &d.Users[di[j]]
			}
			a.Users = append(a.Users, packUser(u, intern(u.Origin), du))
		}
		if p.Done {
			break
		}
		after = p.Next
	}
	var idx []int32
	for after := store.Cursor(0); ; {
		p, err := st.ScanGroups(ctx, tenant, after, loadGroupPage)
		if err != nil {
			return nil, fmt.Errorf("listing groups: %w", err)
		}
		for _, g := range p.Items {
			// Members are recorded with their user's index: a membership
			// holds no string.
			ag := ActualGroup{ID: g.ID, Origin: intern(g.Origin), OktaID: g.OktaID,
				DisplayName: g.DisplayName, Version: g.Version, members: make([]int32, 0, len(g.Members))}
			// The members are looked up in batches (strIndex.getAll): at a
			// million users each lookup is a few cache misses.
			idx = slices.Grow(idx[:0], len(g.Members))[:len(g.Members)]
			a.usersByID().getAll(g.Members, idx)
			for j, i := range idx {
				if i >= 0 {
					ag.members = append(ag.members, i)
				} else {
					ag.others = append(ag.others, g.Members[j])
				}
			}
			slices.Sort(ag.members)
			slices.Sort(ag.others)
			a.Groups = append(a.Groups, ag)
		}
		if p.Done {
			break
		}
		after = p.Next
	}
	ms, err := st.ListRoleMappings(ctx, tenant)
	if err != nil {
		return nil, fmt.Errorf("listing role mappings: %w", err)
	}
	a.RoleMappings = ms
	return a, nil
}

// packUser returns u as an ActualUser whose strings share one allocation
// (not the page's buffers or attribute documents they may point into),
// except those equal to du's (the Okta user it names; nil: none), which
// are du's.
func packUser(u store.UserSummary, origin string, du *DesiredUser) ActualUser {
	id := u.Identity
	fields := [...]*string{&u.ID, &id.UserName, &id.GivenName, &id.FamilyName, &id.Email, &id.ExternalID}
	var same [len(fields)]bool
	if du != nil {
		for i, v := range [...]string{du.AppExternalID, du.Identity.UserName, du.Identity.GivenName,
			du.Identity.FamilyName, du.Identity.Email, du.OktaID} {
			if *fields[i] == v {
				*fields[i], same[i] = v, true
			}
		}
	}
	n := 0
	for i, f := range fields {
		if !same[i] {
			n += len(*f)
		}
	}
	var b strings.Builder
	b.Grow(n)
	for i, f := range fields {
		if !same[i] {
			b.WriteString(*f)
		}
	}
	all := b.String()
	for i, f := range fields {
		if !same[i] {
			*f, all = all[:len(*f)], all[len(*f):]
		}
	}
	return ActualUser{ID: u.ID, Origin: origin, Identity: id, Version: u.Version}
}

// userIndex returns the index in a.Users of the last user with id, or -1.
func (a *Actual) userIndex(id string) int {
	return a.usersByID().get(id)
}

// usersByID returns the index of a.Users by ID, built once per length of
// a.Users.
func (a *Actual) usersByID() *strIndex {
	if a.byID == nil || a.byIDLen != len(a.Users) {
		a.byID = newStrIndex(len(a.Users), func(i int32) string { return a.Users[i].ID }, nil)
		a.byIDLen = len(a.Users)
	}
	return a.byID
}
