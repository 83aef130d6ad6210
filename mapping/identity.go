package mapping

import "strings"

// Identity is the canonical AxonFlow identity of a user: the fields Okta
// owns and the reconciler compares. Push (SCIM) and pull (Okta API) both
// reduce to it, so drift compares like with like. The Okta mapping is:
//
//	user.login     → userName
//	user.email     → emails[type eq "work"].value
//	user.firstName → name.givenName
//	user.lastName  → name.familyName
//	user id (00u…) → externalId
type Identity struct {
	UserName   string
	GivenName  string
	FamilyName string
	Email      string // the work email
	ExternalID string // the Okta user id
	Active     bool
}

// IdentityFields lists the attribute fields Identity compares, in report order.
var IdentityFields = []string{"userName", "name.givenName", "name.familyName", `emails[type eq "work"].value`, "externalId"}

// IdentityOf reads the canonical identity of a stored user. The email is the
// work email, else the primary one, else the first.
func IdentityOf(u *User) Identity {
	id := Identity{UserName: u.UserName(), ExternalID: u.ExternalID(), Active: u.Active()}
	if n, ok := u.Attrs["name"].(map[string]any); ok {
		id.GivenName, _ = n["givenName"].(string)
		id.FamilyName, _ = n["familyName"].(string)
	}
	id.Email = WorkEmail(u.Attrs)
	return id
}

// WorkEmail returns emails[type eq "work"].value, else the primary email,
// else the first one ("" when there is none).
func WorkEmail(a Attrs) string {
	list, _ := a["emails"].([]any)
	var primary, first string
	for _, e := range list {
		m, ok := e.(map[string]any)
		if !ok {
			continue
		}
		v, _ := m["value"].(string)
		if t, _ := m["type"].(string); strings.EqualFold(t, "work") && v != "" {
			return v
		}
		if p, _ := m["primary"].(bool); p && primary == "" {
			primary = v
		}
		if first == "" {
			first = v
		}
	}
	if primary != "" {
		return primary
	}
	return first
}

// Get returns the value of one of IdentityFields.
func (id Identity) Get(field string) string {
	switch field {
	case "userName":
		return id.UserName
	case "name.givenName":
		return id.GivenName
	case "name.familyName":
		return id.FamilyName
	case `emails[type eq "work"].value`:
		return id.Email
	case "externalId":
		return id.ExternalID
	}
	return ""
}

// Diff returns the IdentityFields whose values differ between want and have.
// userName and the work email compare by FoldKey (the identity rule:
// case, width, NFC/NFD, invisible characters and spaces do not count; email
// domains are case-insensitive and Okta lower-cases logins inconsistently);
// names and externalId compare exactly. An empty wanted externalId is not a
// difference (the link is optional).
func (id Identity) Diff(have Identity) []string {
	var out []string
	for _, f := range IdentityFields {
		w, h := id.Get(f), have.Get(f)
		switch f {
		case "userName", `emails[type eq "work"].value`:
			if FoldKey(w) != FoldKey(h) {
				out = append(out, f)
			}
		case "externalId":
			if w != "" && w != h {
				out = append(out, f)
			}
		default:
			if w != h {
				out = append(out, f)
			}
		}
	}
	return out
}

// ApplyIdentity returns a copy of attrs with the identity's fields written in:
// userName, name.givenName, name.familyName, the work email (updated in place
// when a work email exists, else added as primary), externalId (when set) and
// active. Other attributes are kept.
func ApplyIdentity(attrs Attrs, id Identity) Attrs {
	out := attrs.Clone()
	if out == nil {
		out = Attrs{}
	}
	out["userName"] = id.UserName
	name, _ := out["name"].(map[string]any)
	if name == nil {
		name = map[string]any{}
	}
	setOrDelete(name, "givenName", id.GivenName)
	setOrDelete(name, "familyName", id.FamilyName)
	if len(name) > 0 {
		out["name"] = name
	} else {
		delete(out, "name")
	}
	if id.Email != "" {
		list, _ := out["emails"].([]any)
		done := false
		for i, e := range list {
			if m, ok := e.(map[string]any); ok {
				if t, _ := m["type"].(string); strings.EqualFold(t, "work") {
					m["value"] = id.Email
					list[i] = m
					done = true
					break
				}
			}
		}
		if !done {
			primary := len(list) == 0
			list = append(list, map[string]any{"value": id.Email, "type": "work", "primary": primary})
		}
		out["emails"] = list
	}
	if id.ExternalID != "" {
		out["externalId"] = id.ExternalID
	}
	out["active"] = id.Active
	return out
}

func setOrDelete(m map[string]any, k, v string) {
	if v == "" {
		delete(m, k)
	} else {
		m[k] = v
	}
}

// IdentityFromOkta builds the canonical identity of an Okta user from its
// profile fields, as Okta's provisioning would push it: login → userName,
// email → the work email, firstName → givenName, lastName → familyName,
// the Okta user id ("00u…") → externalId. Values are taken as they are
// (no trimming or case change); active says whether the user should have
// access (the caller decides from Okta's statuses). The reconciler (package
// sync) calls it for every Okta app user, so pull compares exactly what
// push writes.
func IdentityFromOkta(oktaUserID, login, email, firstName, lastName string, active bool) Identity {
	return Identity{UserName: login, Email: email, GivenName: firstName, FamilyName: lastName,
		ExternalID: oktaUserID, Active: active}
}
