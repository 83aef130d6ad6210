package oktatest

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
)

// DefaultAppID is the app id Seed uses when GenOptions.AppID is empty.
const DefaultAppID = "0oa00000000000000001"

// GenOptions describes an org for Seed to generate. The same options on a
// fresh server always produce the same ids, names and memberships.
type GenOptions struct {
	// AppID is the app whose assignments are generated (default DefaultAppID).
	AppID string
	// Users is the exact number of app users (users assigned to the app
	// directly or through an assigned group).
	Users int
	// Groups is the number of groups.
	Groups int
	// AssignedGroups is how many of the groups (the first ones) are assigned
	// to the app: 0 means all, negative means none.
	AssignedGroups int
	// Memberships is the number of group memberships to create. Every app user
	// that is not directly assigned needs one in an assigned group; when the
	// budget is too small, the remaining users are assigned directly.
	Memberships int
	// DirectShare is the share of app users assigned directly (scope USER);
	// 0 means 0.5, negative means none.
	DirectShare float64
	// ExtraUsers are org users not assigned to the app; they are only put in
	// groups that are not assigned to the app (e.g. push groups).
	ExtraUsers int
	// Seed selects the pseudo-random layout (0 means 1).
	Seed uint64
	// Domain is the e-mail domain (default example.com).
	Domain string
}

// GenResult reports what Seed created.
type GenResult struct {
	AppID            string
	UserIDs          []string // the app users, in creation order
	ExtraUserIDs     []string
	GroupIDs         []string
	AssignedGroupIDs []string
	DirectUsers      int // app users with scope USER
	Memberships      int // memberships actually created
}

var (
	genFirst = []string{"Ada", "Alan", "Barbara", "Claude", "Donald", "Edsger", "Frances", "Grace", "Hedy", "Ivan",
		"John", "Ken", "Leslie", "Margaret", "Niklaus", "Olga", "Radia", "Shafi", "Tim", "Whitfield"}
	genLast = []string{"Lovelace", "Turing", "Liskov", "Shannon", "Knuth", "Dijkstra", "Allen", "Hopper", "Lamarr",
		"Sutherland", "McCarthy", "Thompson", "Lamport", "Hamilton", "Wirth", "Taussky", "Perlman", "Goldwasser",
		"Berners-Lee", "Diffie"}
	genTeams = []string{"Engineering", "Sales", "Finance", "Support", "Platform", "Security", "Data", "Design",
		"Marketing", "Legal", "Ops", "Research"}
)

// Seed generates a deterministic org: opts.Groups groups, opts.Users app users
// (a DirectShare of them assigned directly, the others through assigned
// groups), opts.ExtraUsers unassigned users and about opts.Memberships
// memberships (group sizes are skewed: a few large groups, many small ones).
// 100,000 users / 2,000 groups / 300,000 memberships take 1-3 s on 2 cores.
func (s *Server) Seed(opts GenOptions) GenResult {
	if opts.AppID == "" {
		opts.AppID = DefaultAppID
	}
	if opts.Domain == "" {
		opts.Domain = "example.com"
	}
	if opts.Seed == 0 {
		opts.Seed = 1
	}
	share := opts.DirectShare
	switch {
	case share == 0:
		share = 0.5
	case share < 0:
		share = 0
	case share > 1:
		share = 1
	}
	nAssigned := opts.AssignedGroups
	switch {
	case nAssigned == 0 || nAssigned > opts.Groups:
		nAssigned = opts.Groups
	case nAssigned < 0:
		nAssigned = 0
	}
	rng := rand.New(rand.NewPCG(opts.Seed, opts.Seed^0x9e3779b97f4a7c15))

	s.mu.Lock()
	defer s.mu.Unlock()
	res := GenResult{AppID: opts.AppID}
	app := s.app(opts.AppID)

	groups := make([]*groupRec, opts.Groups)
	for i := range groups {
		team := genTeams[i%len(genTeams)]
		id := s.addGroupLocked(Group{
			Name:        fmt.Sprintf("%s %05d", team, i+1),
			Description: fmt.Sprintf("Generated group %d (%s)", i+1, team),
		})
		groups[i] = s.groups[id]
		res.GroupIDs = append(res.GroupIDs, id)
		if i < nAssigned {
			ag := &appGroupRec{groupID: id, priority: i, created: groups[i].created}
			ag.defaults = assignment{scope: ScopeGroup, status: StatusActive, syncState: SyncStateSynchronized,
				created: ag.created, viaGroup: id}
			app.groups[id] = ag
			res.AssignedGroupIDs = append(res.AssignedGroupIDs, id)
		}
	}

	mkUser := func(i int) *userRec {
		first := genFirst[i%len(genFirst)]
		last := genLast[(i/len(genFirst))%len(genLast)]
		email := fmt.Sprintf("%s.%s.%d@%s", strings.ToLower(first), strings.ToLower(last), i+1, opts.Domain)
		return s.users[s.addUserLocked(User{Email: email, FirstName: first, LastName: last})]
	}
	users := make([]*userRec, opts.Users)
	budget := opts.Memberships
	memberships := 0
	addMember := func(g *groupRec, u *userRec) bool {
		if _, dup := g.members[u.ID]; dup {
			return false
		}
		g.members[u.ID] = struct{}{}
		memberships++
		return true
	}
	for i := range users {
		u := mkUser(i)
		users[i] = u
		res.UserIDs = append(res.UserIDs, u.ID)
		direct := rng.Float64() < share || nAssigned == 0 || budget <= 0
		if direct {
			a := &assignment{scope: ScopeUser, status: StatusActive, syncState: SyncStateSynchronized,
				userName: u.Login, created: u.created.Add(time.Hour)}
			if i%2 == 0 {
				a.externalID = fmt.Sprintf("ext-%08d", i+1)
			}
			app.direct[u.ID] = a
			res.DirectUsers++
			continue
		}
		addMember(groups[rng.IntN(nAssigned)], u)
		budget--
	}
	extra := make([]*userRec, opts.ExtraUsers)
	for i := range extra {
		extra[i] = mkUser(opts.Users + i)
		res.ExtraUserIDs = append(res.ExtraUserIDs, extra[i].ID)
	}

	// Spread the remaining memberships: a fifth go to the largest 1 % of the
	// groups, the rest uniformly. Extra users only join unassigned groups.
	nUnassigned := opts.Groups - nAssigned
	bigGroups := max(1, opts.Groups/100)
	pool := len(users)
	if nUnassigned > 0 {
		pool += len(extra)
	}
	for attempts := 0; budget > 0 && opts.Groups > 0 && pool > 0 && attempts < 20*opts.Memberships; attempts++ {
		ui := rng.IntN(pool)
		var g *groupRec
		if ui >= len(users) {
			g = groups[nAssigned+rng.IntN(nUnassigned)]
		} else if rng.IntN(5) == 0 {
			g = groups[rng.IntN(bigGroups)]
		} else {
			g = groups[rng.IntN(opts.Groups)]
		}
		u := (*userRec)(nil)
		if ui < len(users) {
			u = users[ui]
		} else {
			u = extra[ui-len(users)]
		}
		if addMember(g, u) {
			budget--
		}
	}
	res.Memberships = memberships
	s.dirty = true
	return res
}
