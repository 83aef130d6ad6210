package oktasource

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"

	"github.com/okta/okta-sdk-golang/v2/okta"
)

// Slim page types: each list page is decoded (encoding/json) into these,
// which hold only what the reconciler and ListAppUsers/ListGroupMembers
// return, instead of okta-sdk-golang's generated types (a full okta.User
// with maps per object). Unknown members are skipped by the decoder; a
// member of the wrong JSON type fails the page (ReasonBadResponse).

// jstr is a JSON string member that records whether it was present: null
// and absent both leave S empty, but only absent leaves Set false.
type jstr struct {
	S   string
	Set bool
}

// UnmarshalJSON accepts a string or null; anything else is an error.
func (j *jstr) UnmarshalJSON(b []byte) error {
	j.Set = true
	switch {
	case len(b) == 4 && string(b) == "null":
		j.S = ""
		return nil
	case len(b) >= 2 && b[0] == '"' && bytes.IndexByte(b, '\\') < 0:
		j.S = string(b[1 : len(b)-1])
		return nil
	case len(b) >= 2 && b[0] == '"':
		return json.Unmarshal(b, &j.S)
	}
	return fmt.Errorf("a %s, not a string or null", jsonKind(b))
}

// anyObject accepts a JSON object or null without decoding it.
type anyObject struct{ Set bool }

// UnmarshalJSON checks that b is an object or null.
func (o *anyObject) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && (b[0] == '{' || string(b) == "null") {
		o.Set = b[0] == '{'
		return nil
	}
	return fmt.Errorf("a %s, not an object", jsonKind(b))
}

func jsonKind(b []byte) string {
	if len(b) == 0 {
		return "nothing"
	}
	switch b[0] {
	case '"':
		return "string"
	case '{':
		return "object"
	case '[':
		return "array"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	}
	return "number"
}

type slimAppUser struct {
	ID          string `json:"id"`
	ExternalID  string `json:"externalId"`
	Scope       string `json:"scope"`
	Status      string `json:"status"`
	SyncState   string `json:"syncState"`
	Credentials *struct {
		UserName string `json:"userName"`
	} `json:"credentials"`
	Profile  *slimAppProfile `json:"profile"`
	Embedded *struct {
		User *slimUser `json:"user"`
	} `json:"_embedded"`
}

// slimAppProfile is the part of an app user profile BuildDesired falls back
// on when Okta did not embed the user.
type slimAppProfile struct {
	Email      jstr `json:"email"`
	FirstName  jstr `json:"firstName"`
	GivenName  jstr `json:"given_name"`
	LastName   jstr `json:"lastName"`
	FamilyName jstr `json:"family_name"`
	Login      jstr `json:"login"`
}

func (p *slimAppProfile) asMap() map[string]any {
	m := map[string]any{}
	for k, v := range map[string]jstr{"email": p.Email, "firstName": p.FirstName, "given_name": p.GivenName,
		"lastName": p.LastName, "family_name": p.FamilyName, "login": p.Login} {
		if v.Set {
			m[k] = v.S
		}
	}
	return m
}

type slimUser struct {
	ID      string           `json:"id"`
	Status  string           `json:"status"`
	Profile *slimUserProfile `json:"profile"`
}

type slimUserProfile struct {
	Login     string `json:"login"`
	Email     jstr   `json:"email"`
	FirstName jstr   `json:"firstName"`
	LastName  jstr   `json:"lastName"`
}

// slimMember is one item of GET /api/v1/groups/{id}/users. Status and the
// profile are type-checked; the profile's strings are kept only when a
// listing asks for them.
type slimMember struct {
	ID      string           `json:"id"`
	Status  jstr             `json:"status"`
	Profile *slimUserProfile `json:"profile"`
}

// slimMemberID is slimMember without the profile's strings.
type slimMemberID struct {
	ID      string    `json:"id"`
	Status  jstr      `json:"status"`
	Profile anyObject `json:"profile"`
}

// getPage returns a pageAll first-page function that GETs path?qs with the
// SDK's request executor (auth, User-Agent, our transport's retries and
// throttle) and decodes the page into []*T.
func getPage[T any](c *Client, path string, q url.Values) func(context.Context) ([]*T, *okta.Response, error) {
	return func(ctx context.Context) ([]*T, *okta.Response, error) {
		re := c.sdk.CloneRequestExecutor()
		req, err := re.WithAccept("application/json").WithContentType("application/json").
			NewRequest("GET", path+"?"+q.Encode(), nil)
		if err != nil {
			return nil, nil, err
		}
		var page []*T
		resp, err := re.Do(ctx, req, &page)
		if err != nil {
			return nil, resp, err
		}
		return page, resp, nil
	}
}

// convertSlimAppUser checks and converts one app user. It fails on a
// missing id or status and, when expand is set, on a missing or null
// `_embedded.user`, its id (which must be the app user's), status or
// profile, or a missing profile login, email, firstName or lastName
// (mistyped members already failed the page's decoding): a half-expanded
// user must never read as "no status" (which would grant access) or "no
// name" (which would remove the name). withProfile keeps the app user profile as a map always;
// otherwise only when the embedded user has no email and no names (the only
// case in which BuildDesired reads it).
func convertSlimAppUser(u *slimAppUser, expand, withProfile bool) (AppUser, error) {
	au := AppUser{ID: u.ID, ExternalID: u.ExternalID, Scope: u.Scope, Status: u.Status, SyncState: u.SyncState}
	if u.ID == "" {
		return au, errors.New("app user without id")
	}
	if u.Status == "" {
		return au, fmt.Errorf("app user %s has no status", u.ID)
	}
	if u.Credentials != nil {
		au.UserName = u.Credentials.UserName
	}
	if !expand {
		if u.Profile != nil {
			au.Profile = u.Profile.asMap()
		}
		return au, nil
	}
	where := "app user " + u.ID + " _embedded"
	if u.Embedded == nil {
		return au, fmt.Errorf("%s is missing or null (expand=user)", where)
	}
	if u.Embedded.User == nil {
		return au, fmt.Errorf("%s.user is missing or null", where)
	}
	user := u.Embedded.User
	where += ".user"
	switch {
	case user.ID == "":
		return au, fmt.Errorf("%s.id is missing", where)
	case user.ID != u.ID:
		return au, fmt.Errorf("%s.id is %s, not the app user's id", where, user.ID)
	case user.Status == "":
		return au, fmt.Errorf("%s.status is missing", where)
	case user.Profile == nil:
		return au, fmt.Errorf("%s.profile is missing", where)
	}
	p := user.Profile
	where += ".profile"
	if p.Login == "" {
		return au, fmt.Errorf("%s.login is missing", where)
	}
	switch {
	case !p.Email.Set:
		return au, fmt.Errorf("%s.email is missing", where)
	case !p.FirstName.Set:
		return au, fmt.Errorf("%s.firstName is missing", where)
	case !p.LastName.Set:
		return au, fmt.Errorf("%s.lastName is missing", where)
	}
	au.UserStatus, au.Login, au.Email, au.FirstName, au.LastName = user.Status, p.Login, p.Email.S, p.FirstName.S, p.LastName.S
	if u.Profile != nil && (withProfile || au.Email == "" && au.FirstName == "" && au.LastName == "") {
		au.Profile = u.Profile.asMap()
	}
	return au, nil
}
