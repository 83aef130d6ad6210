package sync

import (
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
	// matchedUsers and matchedGroups are the AxonFlow ids in Users/Groups.
	matchedUsers, matchedGroups map[string]string // AxonFlow id → Okta id
}

// MatchObjects pairs d with a (see the package doc, Matching). It is pure
// and deterministic.
func MatchObjects(d *Desired, a *Actual) *Matching {
	m := &Matching{
		Users: map[string]string{}, Groups: map[string]string{},
		conflictOktaUsers: map[string]bool{}, conflictUsers: map[string]bool{},
		conflictOktaGroups: map[string]bool{}, conflictGroups: map[string]bool{},
		matchedUsers: map[string]string{}, matchedGroups: map[string]string{},
	}
	m.matchUsers(d, a)
	m.matchGroups(d, a)
	return m
}

type claim struct {
	d    int
	rule string
}

func (m *Matching) matchUsers(d *Desired, a *Actual) {
	byExt := make(map[string]int, len(a.Users))
	byID := make(map[string]int, len(a.Users))
	byName := make(map[string]int, len(a.Users))
	for i, u := range a.Users {
		if u.Identity.ExternalID != "" {
			byExt[u.Identity.ExternalID] = i
		}
		byID[u.ID] = i
		if u.Identity.UserName != "" {
			byName[mapping.FoldKey(u.Identity.UserName)] = i
		}
	}
	desiredIDs := make(map[string]bool, len(d.Users))
	for _, du := range d.Users {
		desiredIDs[du.OktaID] = true
	}
	claims := map[int][]claim{}
	for di, du := range d.Users {
		if ai, ok := byExt[du.OktaID]; ok {
			claims[ai] = append(claims[ai], claim{di, ruleExternalID})
			continue
		}
		ai, rule := -1, ""
		if i, ok := byID[du.AppExternalID]; ok && du.AppExternalID != "" {
			ai, rule = i, ruleAppExternalID
		} else if i, ok := byName[mapping.FoldKey(du.Identity.UserName)]; ok && du.Identity.UserName != "" {
			ai, rule = i, ruleUserName
		}
		if ai < 0 {
			continue // missing
		}
		au := a.Users[ai]
		if ext := au.Identity.ExternalID; ext != "" {
			// The candidate says it is someone else (ext != du.OktaID, or the
			// first rule had matched).
			if desiredIDs[ext] && rule == ruleUserName {
				// It is another app user's account, which that user matches by
				// externalId (and renames): du is simply missing.
				continue
			}
			m.userConflict(du, au, rule, matchValue(du, au, rule),
				fmt.Sprintf("user %s has externalId %s, another identity", au.ID, ext))
			m.conflictOktaUsers[du.OktaID] = true
			continue
		}
		claims[ai] = append(claims[ai], claim{di, rule})
	}
	ais := make([]int, 0, len(claims))
	for ai := range claims {
		ais = append(ais, ai)
	}
	slices.Sort(ais)
	for _, ai := range ais {
		cs, au := claims[ai], a.Users[ai]
		if len(cs) == 1 {
			du := d.Users[cs[0].d]
			m.Users[du.OktaID] = au.ID
			m.matchedUsers[au.ID] = du.OktaID
			continue
		}
		ids := make([]string, len(cs))
		for i, c := range cs {
			ids[i] = d.Users[c.d].OktaID + " (" + c.rule + ")"
		}
		for _, c := range cs {
			du := d.Users[c.d]
			m.userConflict(du, au, c.rule, matchValue(du, au, c.rule),
				fmt.Sprintf("user %s is claimed by %d Okta users: %s", au.ID, len(cs), strings.Join(ids, ", ")))
			m.conflictOktaUsers[du.OktaID] = true
		}
		m.conflictUsers[au.ID] = true
	}
	// A rename onto a userName that another, unmatched AxonFlow user holds
	// cannot be applied and would be a guess: conflict.
	for _, du := range d.Users {
		axID, ok := m.Users[du.OktaID]
		if !ok {
			continue
		}
		au := a.Users[byID[axID]]
		want := mapping.FoldKey(du.Identity.UserName)
		if want == mapping.FoldKey(au.Identity.UserName) {
			continue
		}
		zi, taken := byName[want]
		if !taken {
			continue
		}
		z := a.Users[zi]
		if _, zMatched := m.matchedUsers[z.ID]; zMatched {
			continue // z is an app user too; its own update frees or keeps the name
		}
		m.userConflict(du, au, ruleUserName, du.Identity.UserName,
			fmt.Sprintf("userName held by user %s (%s)", z.ID, z.Identity.UserName))
		delete(m.Users, du.OktaID)
		delete(m.matchedUsers, au.ID)
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
