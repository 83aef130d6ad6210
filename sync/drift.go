package sync

import (
	"cmp"
	"encoding/json"
	"slices"
	"strings"
)

// Kind is the kind of a drift entry. The names are part of the report
// format; do not rename them.
type Kind string

// Drift kinds, in report order.
const (
	// KindUserMissing: Okta assigns the user (with access) but AxonFlow has
	// no matching user.
	KindUserMissing Kind = "user_missing"
	// KindUserOrphaned: an active AxonFlow user that Okta does not assign.
	KindUserOrphaned Kind = "user_orphaned"
	// KindUserAttributes: one identity field differs (Field, Okta, AxonFlow).
	KindUserAttributes Kind = "user_attributes"
	// KindUserStatus: the user should be active but is not, or the reverse
	// (Field "active").
	KindUserStatus Kind = "user_status"
	// KindGroupMissing: a group in scope in Okta has no AxonFlow group.
	KindGroupMissing Kind = "group_missing"
	// KindGroupOrphaned: an AxonFlow group no Okta group in scope matches.
	KindGroupOrphaned Kind = "group_orphaned"
	// KindGroupAttributes: the group's displayName differs.
	KindGroupAttributes Kind = "group_attributes"
	// KindMembershipMissing: an Okta member (who is an app user) is not a
	// member in AxonFlow.
	KindMembershipMissing Kind = "membership_missing"
	// KindMembershipExtra: an AxonFlow member is not an Okta member.
	KindMembershipExtra Kind = "membership_extra"
	// KindRoleAssignment: the AxonFlow roles a user derives from its group
	// memberships (through the tenant's role mappings) differ from the
	// roles its Okta memberships imply (Field "roles"; Okta/AxonFlow: the
	// comma-separated role names). Group-derived roles are never stored, so
	// it is corrected by the membership corrections, never directly; manual
	// and api roles are not compared.
	KindRoleAssignment Kind = "role_assignment"
	// KindConflict: the match between Okta and AxonFlow is ambiguous; nothing
	// is done about it.
	KindConflict Kind = "conflict"
)

// Kinds lists every drift kind in report order.
var Kinds = []Kind{KindUserMissing, KindUserOrphaned, KindUserAttributes, KindUserStatus,
	KindGroupMissing, KindGroupOrphaned, KindGroupAttributes, KindMembershipMissing, KindMembershipExtra, KindRoleAssignment, KindConflict}

func kindRank(k Kind) int { return slices.Index(Kinds, k) }

// Drift is one difference between Okta and AxonFlow. For user kinds UserName
// is set, for group kinds DisplayName; membership kinds set both (the group's
// displayName and the member's userName). OktaID and AxonflowID identify the
// object (for memberships: the group) on each side ("" where it does not
// exist). Field, Okta and AxonFlow say what differs:
//
//	user_attributes      field: a mapping.IdentityFields name; okta/axonflow: the values
//	user_status          field "active"; okta/axonflow: "true" / "false"
//	group_attributes     field "displayName"; okta/axonflow: the names
//	membership_*         field "members"; okta: the member's Okta user id; axonflow: its AxonFlow user id
//	conflict             field: the attribute that matched ambiguously; okta/axonflow: both sides
//
// In JSON, field, okta and axonflow are present together (also when a value
// is empty) or not at all.
type Drift struct {
	Kind        Kind
	UserName    string
	DisplayName string
	OktaID      string
	AxonflowID  string
	Field       string
	Okta        string
	AxonFlow    string
}

type driftJSON struct {
	Kind        Kind    `json:"kind"`
	UserName    string  `json:"userName,omitempty"`
	DisplayName string  `json:"displayName,omitempty"`
	OktaID      string  `json:"oktaId,omitempty"`
	AxonflowID  string  `json:"axonflowId,omitempty"`
	Field       string  `json:"field,omitempty"`
	Okta        *string `json:"okta,omitempty"`
	AxonFlow    *string `json:"axonflow,omitempty"`
}

// MarshalJSON writes {kind, userName|displayName, oktaId, axonflowId,
// field, okta, axonflow}.
func (d Drift) MarshalJSON() ([]byte, error) {
	j := driftJSON{Kind: d.Kind, UserName: d.UserName, DisplayName: d.DisplayName, OktaID: d.OktaID,
		AxonflowID: d.AxonflowID, Field: d.Field}
	if d.Field != "" {
		j.Okta, j.AxonFlow = &d.Okta, &d.AxonFlow
	}
	return json.Marshal(j)
}

// UnmarshalJSON reads what MarshalJSON writes.
func (d *Drift) UnmarshalJSON(b []byte) error {
	var j driftJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*d = Drift{Kind: j.Kind, UserName: j.UserName, DisplayName: j.DisplayName, OktaID: j.OktaID,
		AxonflowID: j.AxonflowID, Field: j.Field}
	if j.Okta != nil {
		d.Okta = *j.Okta
	}
	if j.AxonFlow != nil {
		d.AxonFlow = *j.AxonFlow
	}
	return nil
}

// sortDrift orders entries by kind (Kinds order), then group name, user
// name, ids and field, so reports are stable.
func sortDrift(ds []Drift) {
	slices.SortStableFunc(ds, func(a, b Drift) int {
		if c := kindRank(a.Kind) - kindRank(b.Kind); c != 0 {
			return c
		}
		for _, p := range [][2]string{{a.DisplayName, b.DisplayName}, {a.UserName, b.UserName},
			{a.OktaID, b.OktaID}, {a.AxonflowID, b.AxonflowID}} {
			if c := strings.Compare(p[0], p[1]); c != 0 {
				return c
			}
		}
		if c := fieldRank(a.Field) - fieldRank(b.Field); c != 0 {
			return c
		}
		return cmp.Or(strings.Compare(a.Field, b.Field), strings.Compare(a.Okta, b.Okta), strings.Compare(a.AxonFlow, b.AxonFlow))
	})
}

func fieldRank(f string) int {
	switch f {
	case "userName":
		return 0
	case "name.givenName":
		return 1
	case "name.familyName":
		return 2
	case `emails[type eq "work"].value`:
		return 3
	case "externalId":
		return 4
	}
	return 5
}
