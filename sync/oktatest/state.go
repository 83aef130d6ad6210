package oktatest

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync/atomic"
	"time"
)

// TimeFormat is the layout of every timestamp the fake writes, the one Okta
// uses: millisecond precision, UTC, literal Z (2026-01-02T03:04:05.000Z).
const TimeFormat = "2006-01-02T15:04:05.000Z"

// baseTime is the creation time of the first generated object; later objects
// are one second apart so responses are deterministic.
var baseTime = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// Okta status, scope and type values used by the fake.
const (
	StatusActive        = "ACTIVE"
	StatusStaged        = "STAGED"
	StatusProvisioned   = "PROVISIONED"
	StatusSuspended     = "SUSPENDED"
	StatusDeprovisioned = "DEPROVISIONED"

	ScopeUser  = "USER"  // app user assigned directly
	ScopeGroup = "GROUP" // app user assigned through a group

	GroupTypeOkta = "OKTA_GROUP"
	GroupTypeApp  = "APP_GROUP"

	SyncStateDisabled     = "DISABLED"
	SyncStateSynchronized = "SYNCHRONIZED"
)

// User is an Okta user as seeded into the fake (Okta: User object,
// https://developer.okta.com/docs/api/openapi/okta-management/management/tag/User/).
type User struct {
	// ID is the Okta id ("00u" + 17 characters). Empty: the server generates one.
	ID string
	// Status is the user's lifecycle status; empty means ACTIVE.
	Status string
	// Login is profile.login; empty means Email.
	Login     string
	Email     string
	FirstName string
	LastName  string
	// Profile holds extra profile attributes, merged over the standard ones.
	Profile map[string]any
	// Created is the creation time; zero means a deterministic generated time.
	Created time.Time
}

// Group is an Okta group as seeded into the fake (Okta: Group object,
// https://developer.okta.com/docs/api/openapi/okta-management/management/tag/Group/).
type Group struct {
	// ID is the Okta id ("00g" + 17 characters). Empty: the server generates one.
	ID          string
	Name        string
	Description string
	// Type is OKTA_GROUP (default), APP_GROUP or BUILT_IN.
	Type string
	// Created is the creation time; zero means a deterministic generated time.
	Created time.Time
}

// AppUserOption adjusts an app user assignment made by AssignUser, or the
// GROUP-scope app users that AssignGroup yields.
type AppUserOption func(*assignment)

// WithExternalID sets the app user's externalId (the id in the downstream
// app, e.g. a SCIM id, once Okta provisioned the user).
func WithExternalID(id string) AppUserOption { return func(a *assignment) { a.externalID = id } }

// WithSyncState sets the app user's syncState (default SYNCHRONIZED).
func WithSyncState(s string) AppUserOption { return func(a *assignment) { a.syncState = s } }

// WithAppUserName sets credentials.userName (default: the user's login).
func WithAppUserName(n string) AppUserOption { return func(a *assignment) { a.userName = n } }

// WithAppProfile sets the app user profile (default: given_name, family_name,
// email and login copied from the user).
func WithAppProfile(p map[string]any) AppUserOption {
	return func(a *assignment) { a.profile = maps.Clone(p) }
}

// WithAppUserStatus sets the status of GROUP-scope app users yielded by
// AssignGroup (default ACTIVE). AssignUser takes the status as an argument.
func WithAppUserStatus(s string) AppUserOption { return func(a *assignment) { a.status = s } }

type userRec struct {
	User
	seq     int
	created time.Time
	enc     atomic.Pointer[[]byte]
}

type groupRec struct {
	Group
	seq        int
	created    time.Time
	members    map[string]struct{}
	memUpdated time.Time
	enc        atomic.Pointer[[]byte]
}

type assignment struct {
	scope      string
	status     string
	syncState  string
	externalID string
	userName   string
	profile    map[string]any
	created    time.Time
	viaGroup   string // group id for GROUP scope app users yielded by AssignGroup
}

type appGroupRec struct {
	groupID  string
	priority int
	created  time.Time
	defaults assignment
}

type appRec struct {
	id     string
	direct map[string]*assignment
	groups map[string]*appGroupRec
}

// index is an immutable, sorted view of the state, rebuilt after mutations.
type index struct {
	users   []*userRec
	groups  []*groupRec
	members map[string][]*userRec
	apps    map[string]*appIndex
}

type appIndex struct {
	users  []*appUserView
	groups []*appGroupView
}

type appUserView struct {
	appID string
	user  *userRec
	a     *assignment
	enc   atomic.Pointer[[]byte]
	encX  atomic.Pointer[[]byte]
}

type appGroupView struct {
	appID string
	group *groupRec
	ag    *appGroupRec
	enc   atomic.Pointer[[]byte]
	encX  atomic.Pointer[[]byte]
}

func (s *Server) nextSeq() int {
	s.seq++
	return s.seq
}

// AddUser adds or replaces a user and returns its id. Missing fields get
// defaults (generated id, ACTIVE, login = email). Safe for concurrent use.
func (s *Server) AddUser(u User) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addUserLocked(u)
}

func (s *Server) addUserLocked(u User) string {
	seq := s.nextSeq()
	if u.ID == "" {
		s.userSeq++
		u.ID = fmt.Sprintf("00u%017d", s.userSeq)
	}
	if u.Status == "" {
		u.Status = StatusActive
	}
	if u.Login == "" {
		u.Login = u.Email
	}
	u.Profile = maps.Clone(u.Profile)
	r := &userRec{User: u, seq: seq, created: u.Created}
	if r.created.IsZero() {
		r.created = baseTime.Add(time.Duration(seq) * time.Second)
	}
	s.users[u.ID] = r
	s.dirty = true
	return u.ID
}

// AddGroup adds or replaces a group (keeping its members) and returns its id.
// Safe for concurrent use.
func (s *Server) AddGroup(g Group) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addGroupLocked(g)
}

func (s *Server) addGroupLocked(g Group) string {
	seq := s.nextSeq()
	if g.ID == "" {
		s.groupSeq++
		g.ID = fmt.Sprintf("00g%017d", s.groupSeq)
	}
	if g.Type == "" {
		g.Type = GroupTypeOkta
	}
	r := &groupRec{Group: g, seq: seq, created: g.Created, members: map[string]struct{}{}}
	if old, ok := s.groups[g.ID]; ok {
		r.members = old.members
	}
	if r.created.IsZero() {
		r.created = baseTime.Add(time.Duration(seq) * time.Second)
	}
	r.memUpdated = r.created
	s.groups[g.ID] = r
	s.dirty = true
	return g.ID
}

// AddGroupMember makes userID a member of groupID. It panics if either does
// not exist (a test-setup bug). Safe for concurrent use.
func (s *Server) AddGroupMember(groupID, userID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.mustGroup(groupID)
	s.mustUser(userID)
	g.members[userID] = struct{}{}
	g.memUpdated = baseTime.Add(time.Duration(s.nextSeq()) * time.Second)
	s.dirty = true
}

// RemoveGroupMember removes userID from groupID (no-op if not a member).
func (s *Server) RemoveGroupMember(groupID, userID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.mustGroup(groupID)
	delete(g.members, userID)
	s.dirty = true
}

// AssignUser assigns userID to the app appID directly (Okta: POST
// /api/v1/apps/{appId}/users). scope is USER (direct) or GROUP, status the app
// user status (empty: ACTIVE). The app is created on first use. It panics if
// the user does not exist.
func (s *Server) AssignUser(appID, userID, scope, status string, opts ...AppUserOption) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.mustUser(userID)
	a := &assignment{scope: scope, status: status, syncState: SyncStateSynchronized,
		created: baseTime.Add(time.Duration(s.nextSeq()) * time.Second)}
	if a.scope == "" {
		a.scope = ScopeUser
	}
	if a.status == "" {
		a.status = StatusActive
	}
	for _, o := range opts {
		o(a)
	}
	if a.userName == "" {
		a.userName = u.Login
	}
	s.app(appID).direct[userID] = a
	s.dirty = true
}

// UnassignUser removes a direct assignment (GROUP-scope app users stay while
// the user is a member of an assigned group).
func (s *Server) UnassignUser(appID, userID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.app(appID).direct, userID)
	s.dirty = true
}

// AssignGroup assigns groupID to the app appID (Okta: PUT
// /api/v1/apps/{appId}/groups/{groupId}). Like Okta, every member of the group
// then appears among the app users with scope GROUP, unless directly assigned;
// opts set their status, syncState and profile. Membership changes made later
// are reflected too. It panics if the group does not exist.
func (s *Server) AssignGroup(appID, groupID string, opts ...AppUserOption) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mustGroup(groupID)
	app := s.app(appID)
	ag := &appGroupRec{groupID: groupID, priority: len(app.groups),
		created: baseTime.Add(time.Duration(s.nextSeq()) * time.Second)}
	ag.defaults = assignment{scope: ScopeGroup, status: StatusActive, syncState: SyncStateSynchronized,
		created: ag.created, viaGroup: groupID}
	for _, o := range opts {
		o(&ag.defaults)
	}
	app.groups[groupID] = ag
	s.dirty = true
}

// UnassignGroup removes a group assignment from the app.
func (s *Server) UnassignGroup(appID, groupID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.app(appID).groups, groupID)
	s.dirty = true
}

// AddApp makes appID known (listing its users returns an empty list instead of
// 404) without assigning anything.
func (s *Server) AddApp(appID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.app(appID)
	s.dirty = true
}

func (s *Server) app(appID string) *appRec {
	a, ok := s.apps[appID]
	if !ok {
		a = &appRec{id: appID, direct: map[string]*assignment{}, groups: map[string]*appGroupRec{}}
		s.apps[appID] = a
	}
	return a
}

func (s *Server) mustUser(id string) *userRec {
	u, ok := s.users[id]
	if !ok {
		panic(fmt.Sprintf("oktatest: unknown user %q", id))
	}
	return u
}

func (s *Server) mustGroup(id string) *groupRec {
	g, ok := s.groups[id]
	if !ok {
		panic(fmt.Sprintf("oktatest: unknown group %q", id))
	}
	return g
}

// snapshot returns the current index, rebuilding it if the state changed.
func (s *Server) snapshot() *index {
	s.mu.RLock()
	if !s.dirty && s.idx != nil {
		idx := s.idx
		s.mu.RUnlock()
		return idx
	}
	s.mu.RUnlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.dirty || s.idx == nil {
		s.idx = s.buildIndexLocked()
		s.dirty = false
	}
	return s.idx
}

func byID[T any](id func(T) string) func(a, b T) int {
	return func(a, b T) int { return strings.Compare(id(a), id(b)) }
}

func (s *Server) buildIndexLocked() *index {
	idx := &index{members: make(map[string][]*userRec, len(s.groups)), apps: make(map[string]*appIndex, len(s.apps))}
	idx.users = slices.SortedFunc(maps.Values(s.users), byID(func(u *userRec) string { return u.ID }))
	idx.groups = slices.SortedFunc(maps.Values(s.groups), byID(func(g *groupRec) string { return g.ID }))
	for _, g := range idx.groups {
		ms := make([]*userRec, 0, len(g.members))
		for uid := range g.members {
			if u, ok := s.users[uid]; ok {
				ms = append(ms, u)
			}
		}
		slices.SortFunc(ms, byID(func(u *userRec) string { return u.ID }))
		idx.members[g.ID] = ms
	}
	for appID, app := range s.apps {
		ai := &appIndex{}
		seen := make(map[string]bool, len(app.direct))
		for uid, a := range app.direct {
			if u, ok := s.users[uid]; ok {
				seen[uid] = true
				ai.users = append(ai.users, &appUserView{appID: appID, user: u, a: a})
			}
		}
		ags := slices.SortedFunc(maps.Values(app.groups), func(a, b *appGroupRec) int { return a.priority - b.priority })
		for _, ag := range ags {
			g, ok := s.groups[ag.groupID]
			if !ok {
				continue
			}
			ai.groups = append(ai.groups, &appGroupView{appID: appID, group: g, ag: ag})
			for _, u := range idx.members[g.ID] {
				if seen[u.ID] {
					continue
				}
				seen[u.ID] = true
				a := ag.defaults
				a.userName = u.Login
				ai.users = append(ai.users, &appUserView{appID: appID, user: u, a: &a})
			}
		}
		slices.SortFunc(ai.users, byID(func(v *appUserView) string { return v.user.ID }))
		slices.SortFunc(ai.groups, byID(func(v *appGroupView) string { return v.group.ID }))
		idx.apps[appID] = ai
	}
	return idx
}

// GroupMembers returns the ids of groupID's members, sorted (nil if the group
// does not exist).
func (s *Server) GroupMembers(groupID string) []string {
	ms, ok := s.snapshot().members[groupID]
	if !ok {
		return nil
	}
	out := make([]string, len(ms))
	for i, u := range ms {
		out[i] = u.ID
	}
	return out
}

// AppUsers returns the ids of appID's users (direct and group-scoped), sorted.
func (s *Server) AppUsers(appID string) []string {
	ai, ok := s.snapshot().apps[appID]
	if !ok {
		return nil
	}
	out := make([]string, len(ai.users))
	for i, v := range ai.users {
		out[i] = v.user.ID
	}
	return out
}

// AppGroups returns the ids of the groups assigned to appID, sorted.
func (s *Server) AppGroups(appID string) []string {
	ai, ok := s.snapshot().apps[appID]
	if !ok {
		return nil
	}
	out := make([]string, len(ai.groups))
	for i, v := range ai.groups {
		out[i] = v.group.ID
	}
	return out
}
