package sync

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/axonflow/axonflow-sync/mapping"
)

// Matching rules, as named in conflict entries.
const (
	ruleExternalID    = "externalId"  // AxonFlow externalId = Okta user id
	ruleAppExternalID = "id"          // AxonFlow id = Okta app user externalId
	ruleUserName      = "userName"    // case-insensitive userName
	ruleOktaID        = "oktaId"      // stored Okta group id
	ruleDisplayName   = "displayName" // case-insensitive displayName
)

// Matching pairs Okta objects with AxonFlow objects. Only unambiguous pairs
// are in Users and Groups; everything involved in an ambiguity is in one of
// the conflict sets and is left alone by Diff and MakePlan (beyond the
// conflict entries themselves).
type Matching struct {
	// Users maps Okta user ids to AxonFlow user ids.
	Users map[string]string
	// Groups maps Okta group ids to AxonFlow group ids.
	Groups map[string]string
	// Conflicts are the ambiguities found, as drift entries of kind conflict.
	Conflicts []Drift

	// Okta ids and AxonFlow ids involved in conflicts.
	conflictOktaUsers, conflictUsers   map[string]bool
	conflictOktaGroups, conflictGroups map[string]bool
	// userOkta holds, per index of Actual.Users, 1 + the index in
	// desiredUsers (Desired.Users) of the user it is matched to (0:
	// unmatched).
	userOkta     []int32
	desiredUsers []DesiredUser
	// oktaUser is the reverse of userOkta: per index of Desired.Users, 1 +
	// the index in Actual.Users of the user it is matched to (0:
	// unmatched), so the diff follows a match without a lookup by id.
	oktaUser []int32
	// matchedGroups are the AxonFlow ids in Groups.
	matchedGroups map[string]string // AxonFlow id → Okta id
}

// MatchObjects pairs d with a (see the package doc, Matching). It is pure
// and deterministic.
func MatchObjects(d *Desired, a *Actual) *Matching {
	m := &Matching{
		Users: make(map[string]string, min(len(d.Users), len(a.Users))), Groups: map[string]string{},
		conflictOktaUsers: map[string]bool{}, conflictUsers: map[string]bool{},
		conflictOktaGroups: map[string]bool{}, conflictGroups: map[string]bool{},
		userOkta: make([]int32, len(a.Users)), desiredUsers: d.Users, oktaUser: make([]int32, len(d.Users)),
		matchedGroups: map[string]string{},
	}
	m.matchUsers(d, a)
	m.matchGroups(d, a)
	return m
}

// matchedUser returns the Okta id the user at index ai of the Actual given
// to MatchObjects is matched to, and whether it is.
func (m *Matching) matchedUser(ai int) (string, bool) {
	if ai < 0 || ai >= len(m.userOkta) || m.userOkta[ai] == 0 {
		return "", false
	}
	return m.desiredUsers[m.userOkta[ai]-1].OktaID, true
}

// actualOf returns the index in the Actual given to MatchObjects of the
// user the Okta user at index di of the Desired is matched to, or -1.
func (m *Matching) actualOf(di int) int {
	if di < 0 || di >= len(m.oktaUser) {
		return -1
	}
	return int(m.oktaUser[di]) - 1
}

type claim struct {
	d    int
	rule string
}

// userClaim is a claim on the AxonFlow user at index a by the Okta user
// at index d, by userRules[rule].
type userClaim struct {
	a, d int32
	rule uint8
}

// userRules are the rules a userClaim names.
var userRules = [...]string{ruleExternalID, ruleAppExternalID, ruleUserName}

// userRule returns the index of rule in userRules.
func userRule(rule string) uint8 {
	return uint8(slices.Index(userRules[:], rule))
}

// desiredIndex returns the index of d.Users by Okta id, built once per
// length of d.Users (matching, the diff, the plan and the store read all
// look users up in it).
func desiredIndex(d *Desired) *strIndex {
	if d.byID == nil || d.byIDLen != len(d.Users) {
		d.byID = newStrIndex(len(d.Users), func(i int32) string { return d.Users[i].OktaID }, nil)
		d.byIDLen = len(d.Users)
	}
	return d.byID
}

func (m *Matching) matchUsers(d *Desired, a *Actual) {
	byExt := newStrIndex(len(a.Users), func(i int32) string { return a.Users[i].Identity.ExternalID },
		func(i int32) bool { return a.Users[i].Identity.ExternalID != "" })
	names := make([]string, len(a.Users)) // folded userNames
	for i, u := range a.Users {
		names[i] = mapping.FoldKey(u.Identity.UserName)
	}
	byName := newStrIndex(len(a.Users), func(i int32) string { return names[i] },
		func(i int32) bool { return a.Users[i].Identity.UserName != "" })
	desired := desiredIndex(d)
	// The first rule's lookups (every Okta user's id among the stored
	// externalIds) go in batches (strIndex.getAll), so that their cache
	// misses overlap.
	byExtOf := make([]int32, len(d.Users))
	{
		const batch = 1024
		keys := make([]string, 0, batch)
		for start := 0; start < len(d.Users); start += batch {
			keys = keys[:0]
			for _, du := range d.Users[start:min(start+batch, len(d.Users))] {
				keys = append(keys, du.OktaID)
			}
			byExt.getAll(keys, byExtOf[start:start+len(keys)])
		}
	}
	var claims []userClaim
	for di, du := range d.Users {
		if ai := byExtOf[di]; ai >= 0 {
			claims = append(claims, userClaim{ai, int32(di), 0})
			continue
		}
		ai, rule := -1, ""
		if i := a.userIndex(du.AppExternalID); i >= 0 && du.AppExternalID != "" {
			ai, rule = i, ruleAppExternalID
		} else if i := byName.get(mapping.FoldKey(du.Identity.UserName)); i >= 0 && du.Identity.UserName != "" {
			ai, rule = i, ruleUserName
		}
		if ai < 0 {
			continue // missing
		}
		au := a.Users[ai]
		if ext := au.Identity.ExternalID; ext != "" {
			// The candidate says it is someone else (ext != du.OktaID, or the
			// first rule had matched).
			if desired.get(ext) >= 0 && rule == ruleUserName {
				// It is another app user's account, which that user matches by
				// externalId (and renames): du is simply missing.
				continue
			}
			m.userConflict(du, au, rule, matchValue(du, au, rule),
				fmt.Sprintf("user %s has externalId %s, another identity", au.ID, ext))
			m.conflictOktaUsers[du.OktaID] = true
			continue
		}
		claims = append(claims, userClaim{int32(ai), int32(di), userRule(rule)})
	}
	// By AxonFlow user, each user's claims in Okta order.
	slices.SortStableFunc(claims, func(x, y userClaim) int { return cmp.Compare(x.a, y.a) })
	for len(claims) > 0 {
		n := 1
		for n < len(claims) && claims[n].a == claims[0].a {
			n++
		}
		cs, au := claims[:n], a.Users[claims[0].a]
		claims = claims[n:]
		if len(cs) == 1 {
			du := d.Users[cs[0].d]
			m.Users[du.OktaID] = au.ID
			m.userOkta[cs[0].a] = cs[0].d + 1
			m.oktaUser[cs[0].d] = cs[0].a + 1
			continue
		}
		ids := make([]string, len(cs))
		for i, c := range cs {
			ids[i] = d.Users[c.d].OktaID + " (" + userRules[c.rule] + ")"
		}
		for _, c := range cs {
			du, rule := d.Users[c.d], userRules[c.rule]
			m.userConflict(du, au, rule, matchValue(du, au, rule),
				fmt.Sprintf("user %s is claimed by %d Okta users: %s", au.ID, len(cs), strings.Join(ids, ", ")))
			m.conflictOktaUsers[du.OktaID] = true
		}
		m.conflictUsers[au.ID] = true
	}
	// A rename onto a userName that another, unmatched AxonFlow user holds
	// cannot be applied and would be a guess: conflict.
	for di, du := range d.Users {
		ai := int(m.oktaUser[di]) - 1
		if ai < 0 {
			continue
		}
		au := a.Users[ai]
		want := mapping.FoldKey(du.Identity.UserName)
		if want == names[ai] {
			continue
		}
		zi := byName.get(want)
		if zi < 0 {
			continue
		}
		z := a.Users[zi]
		if _, zMatched := m.matchedUser(a.userIndex(z.ID)); zMatched {
			continue // z is an app user too; its own update frees or keeps the name
		}
		m.userConflict(du, au, ruleUserName, du.Identity.UserName,
			fmt.Sprintf("userName held by user %s (%s)", z.ID, z.Identity.UserName))
		delete(m.Users, du.OktaID)
		m.userOkta[ai] = 0
		m.oktaUser[di] = 0
		m.conflictOktaUsers[du.OktaID] = true
		m.conflictUsers[au.ID] = true
		m.conflictUsers[z.ID] = true
	}
}

// matchValue is the Okta-side value a rule compared.
func matchValue(du DesiredUser, au ActualUser, rule string) string {
	switch rule {
	case ruleAppExternalID:
		return du.AppExternalID
	case ruleUserName:
		return du.Identity.UserName
	}
	return du.OktaID
}

func (m *Matching) userConflict(du DesiredUser, au ActualUser, field, okta, axonflow string) {
	m.Conflicts = append(m.Conflicts, Drift{Kind: KindConflict, UserName: du.Identity.UserName, OktaID: du.OktaID,
		AxonflowID: au.ID, Field: field, Okta: okta, AxonFlow: axonflow})
}

func (m *Matching) groupConflict(dg DesiredGroup, axID, field, okta, axonflow string) {
	m.Conflicts = append(m.Conflicts, Drift{Kind: KindConflict, DisplayName: dg.Name, OktaID: dg.OktaID,
		AxonflowID: axID, Field: field, Okta: okta, AxonFlow: axonflow})
	m.conflictOktaGroups[dg.OktaID] = true
}

func (m *Matching) matchGroups(d *Desired, a *Actual) {
	byOkta := map[string][]int{}
	byName := make(map[string]int, len(a.Groups))
	for i, g := range a.Groups {
		if g.OktaID != "" {
			byOkta[g.OktaID] = append(byOkta[g.OktaID], i)
		}
		if g.DisplayName != "" {
			byName[mapping.FoldKey(g.DisplayName)] = i
		}
	}
	desiredIDs := make(map[string]bool, len(d.Groups))
	desiredNames := map[string][]int{}
	for i, dg := range d.Groups {
		desiredIDs[dg.OktaID] = true
		desiredNames[mapping.FoldKey(dg.Name)] = append(desiredNames[mapping.FoldKey(dg.Name)], i)
	}
	claims := map[int][]claim{}
	for di, dg := range d.Groups {
		switch linked := byOkta[dg.OktaID]; {
		case len(linked) == 1:
			claims[linked[0]] = append(claims[linked[0]], claim{di, ruleOktaID})
			continue
		case len(linked) > 1:
			ids := make([]string, len(linked))
			for i, ai := range linked {
				ids[i] = a.Groups[ai].ID
				m.conflictGroups[a.Groups[ai].ID] = true
			}
			for _, ai := range linked {
				m.groupConflict(dg, a.Groups[ai].ID, ruleOktaID, dg.OktaID,
					fmt.Sprintf("%d groups are linked to this Okta group: %s", len(linked), strings.Join(ids, ", ")))
			}
			continue
		}
		if same := desiredNames[mapping.FoldKey(dg.Name)]; len(same) > 1 {
			others := []string{}
			for _, o := range same {
				if o != di {
					others = append(others, d.Groups[o].OktaID)
				}
			}
			m.groupConflict(dg, "", ruleDisplayName, dg.Name,
				"the same name as Okta group(s) "+strings.Join(others, ", ")+" in scope")
			continue
		}
		ai, ok := byName[mapping.FoldKey(dg.Name)]
		if !ok || dg.Name == "" {
			continue // missing
		}
		ag := a.Groups[ai]
		if ag.OktaID != "" {
			if desiredIDs[ag.OktaID] {
				continue // that group belongs to another Okta group in scope: dg is missing
			}
			m.groupConflict(dg, ag.ID, ruleDisplayName, dg.Name,
				fmt.Sprintf("group %s is linked to Okta group %s", ag.ID, ag.OktaID))
			continue
		}
		claims[ai] = append(claims[ai], claim{di, ruleDisplayName})
	}
	ais := make([]int, 0, len(claims))
	for ai := range claims {
		ais = append(ais, ai)
	}
	slices.Sort(ais)
	for _, ai := range ais {
		cs, ag := claims[ai], a.Groups[ai]
		if len(cs) == 1 {
			dg := d.Groups[cs[0].d]
			m.Groups[dg.OktaID] = ag.ID
			m.matchedGroups[ag.ID] = dg.OktaID
			continue
		}
		ids := make([]string, len(cs))
		for i, c := range cs {
			ids[i] = d.Groups[c.d].OktaID + " (" + c.rule + ")"
		}
		for _, c := range cs {
			dg := d.Groups[c.d]
			m.groupConflict(dg, ag.ID, c.rule, dg.Name,
				fmt.Sprintf("group %s is claimed by %d Okta groups: %s", ag.ID, len(cs), strings.Join(ids, ", ")))
		}
		m.conflictGroups[ag.ID] = true
	}
	// A rename onto a displayName another, unmatched group holds: conflict.
	byID := make(map[string]int, len(a.Groups))
	for i, g := range a.Groups {
		byID[g.ID] = i
	}
	for _, dg := range d.Groups {
		axID, ok := m.Groups[dg.OktaID]
		if !ok {
			continue
		}
		ag := a.Groups[byID[axID]]
		want := mapping.FoldKey(dg.Name)
		if want == mapping.FoldKey(ag.DisplayName) {
			continue
		}
		zi, taken := byName[want]
		if !taken {
			continue
		}
		z := a.Groups[zi]
		if _, zMatched := m.matchedGroups[z.ID]; zMatched {
			continue
		}
		m.groupConflict(dg, ag.ID, ruleDisplayName, dg.Name,
			fmt.Sprintf("displayName held by group %s (%s)", z.ID, z.DisplayName))
		delete(m.Groups, dg.OktaID)
		delete(m.matchedGroups, ag.ID)
		m.conflictGroups[ag.ID] = true
		m.conflictGroups[z.ID] = true
	}
}
