package sync

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	gosync "sync"

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
	// Members are the Okta user ids of its members that are app users,
	// sorted.
	Members []string
}

// Desired is what Okta says the tenant should contain. Users and Groups are
// sorted by Okta id.
type Desired struct {
	Users  []DesiredUser
	Groups []DesiredGroup
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
	d := &Desired{Users: make([]DesiredUser, 0, len(snap.AppUsers)), Groups: make([]DesiredGroup, 0, len(snap.Groups))}
	// app maps an app user's id to its index: members are recorded with the
	// app user's id string, so each id is held once however many groups the
	// user is in.
	app := make(map[string]int, len(snap.AppUsers))
	for i, u := range snap.AppUsers {
		app[u.ID] = i
		login, email, first, last := u.Login, u.Email, u.FirstName, u.LastName
		if login == "" {
			login = u.UserName
		}
		if email == "" && first == "" && last == "" {
			email = profileString(u.Profile, "email")
			first = cmp.Or(profileString(u.Profile, "firstName"), profileString(u.Profile, "given_name"))
			last = cmp.Or(profileString(u.Profile, "lastName"), profileString(u.Profile, "family_name"))
		}
		d.Users = append(d.Users, DesiredUser{
			OktaID: u.ID, AppExternalID: u.ExternalID, AppStatus: u.Status, UserStatus: u.UserStatus,
			Identity: mapping.IdentityFromOkta(u.ID, login, email, first, last, GrantsAccess(u.Status, u.UserStatus)),
		})
	}
	for _, g := range snap.Groups {
		var members []string
		if snap.MemberIDs != nil {
			ms := snap.MemberIDs[g.ID]
			members = make([]string, 0, len(ms))
			for _, m := range ms {
				if i, ok := app[m]; ok {
					members = append(members, snap.AppUsers[i].ID)
				}
			}
		} else {
			ms := snap.Members[g.ID]
			members = make([]string, 0, len(ms))
			for _, m := range ms {
				if i, ok := app[m.ID]; ok {
					members = append(members, snap.AppUsers[i].ID)
				}
			}
		}
		slices.Sort(members)
		d.Groups = append(d.Groups, DesiredGroup{OktaID: g.ID, Name: g.Name, Members: slices.Compact(members)})
	}
	slices.SortFunc(d.Users, func(a, b DesiredUser) int { return strings.Compare(a.OktaID, b.OktaID) })
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
	// Members are the AxonFlow user ids of its members, sorted.
	Members []string
	// Version is the stored version read (mapping.Group.Version; it moves
	// with every attribute or membership change).
	Version int64
}

// Actual is what the store holds for a tenant, in creation order.
type Actual struct {
	Users  []ActualUser
	Groups []ActualGroup
	// RoleMappings are the tenant's group-to-role mappings, for
	// role_assignment drift.
	RoleMappings []mapping.RoleMapping
}

// Memberships returns the number of memberships in a.
func (a *Actual) Memberships() int {
	n := 0
	for _, g := range a.Groups {
		n += len(g.Members)
	}
	return n
}

// loadPage is the page size LoadActual lists users and groups with.
const loadPage = 1000

// loadWorkers is how many GroupMembers calls LoadActual runs at once.
const loadWorkers = 4

// LoadActual reads every user, group and membership of tenant from st: users
// and groups in pages of 1,000 (ListUsers/ListGroups), then the members of
// each group (GroupMembers, four at a time). It keeps only what the
// reconciler compares (mapping.IdentityOf of each user), not the full
// attribute documents. A store error aborts the read (the caller reports
// the run incomplete).
func LoadActual(ctx context.Context, st store.State, tenant string) (*Actual, error) {
	a := &Actual{}
	for off := 0; ; off += loadPage {
		p, err := st.ListUsers(ctx, tenant, off, loadPage)
		if err != nil {
			return nil, fmt.Errorf("listing users: %w", err)
		}
		if a.Users == nil {
			a.Users = make([]ActualUser, 0, p.Total)
		}
		for _, u := range p.Items {
			a.Users = append(a.Users, ActualUser{ID: u.ID, Origin: u.Origin, Identity: mapping.IdentityOf(u), Version: u.Version})
		}
		if len(p.Items) < loadPage {
			break
		}
	}
	for off := 0; ; off += loadPage {
		p, err := st.ListGroups(ctx, tenant, off, loadPage)
		if err != nil {
			return nil, fmt.Errorf("listing groups: %w", err)
		}
		for _, g := range p.Items {
			a.Groups = append(a.Groups, ActualGroup{ID: g.ID, Origin: g.Origin, OktaID: g.OktaID, DisplayName: g.DisplayName(), Version: g.Version})
		}
		if len(p.Items) < loadPage {
			break
		}
	}
	ms, err := st.ListRoleMappings(ctx, tenant)
	if err != nil {
		return nil, fmt.Errorf("listing role mappings: %w", err)
	}
	a.RoleMappings = ms
	a.Users = dedupeBy(a.Users, func(u ActualUser) string { return u.ID })
	a.Groups = dedupeBy(a.Groups, func(g ActualGroup) string { return g.ID })

	// Members are recorded with their user's ID string, so each user id is
	// held once however many groups the user is in.
	userIDs := make(map[string]string, len(a.Users))
	for _, u := range a.Users {
		userIDs[u.ID] = u.ID
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	jobs := make(chan int)
	var wg gosync.WaitGroup
	for range min(loadWorkers, len(a.Groups)) {
		wg.Go(func() {
			for i := range jobs {
				ms, err := st.GroupMembers(ctx, tenant, a.Groups[i].ID)
				if err != nil {
					cancel(fmt.Errorf("members of group %s: %w", a.Groups[i].ID, err))
					continue
				}
				for j, m := range ms {
					if id, ok := userIDs[m]; ok {
						ms[j] = id
					}
				}
				slices.Sort(ms)
				a.Groups[i].Members = ms
			}
		})
	}
feed:
	for i := range a.Groups {
		select {
		case jobs <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(jobs)
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return nil, err
	}
	return a, nil
}

// dedupeBy drops later items whose key was seen before (offset paging may
// return an item twice when a concurrent write shifts the listing).
func dedupeBy[T any](items []T, key func(T) string) []T {
	seen := make(map[string]bool, len(items))
	out := items[:0]
	for _, it := range items {
		if k := key(it); !seen[k] {
			seen[k] = true
			out = append(out, it)
		}
	}
	return out
}
