package oktasource

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/okta/okta-sdk-golang/v2/okta"
)

// Slim page items: each list page is read (pagejson.go) into these, which
// hold only what the reconciler and ListAppUsers/ListGroupMembers return,
// as views into the page body (jstr), instead of okta-sdk-golang's generated
// types (a full okta.User with maps per object). A view is valid only while
// its page is read: the lister converts each item to an AppUser or Member,
// copying out what it keeps, before the next item is read into the same
// view. Unknown members are checked and skipped; a member of the wrong JSON
// type fails the page (ReasonBadResponse). Member names and repeated
// members behave as with encoding/json decoding into the SDK's type for
// the object (readAppUser, readMember): for a struct field, names match
// exactly or else case-insensitively, a later string replaces an earlier
// one, null leaves a string as it was, a later object is merged into a
// pointer's earlier one and null clears it; for what the SDK decodes as a
// map (profiles, _embedded), names match exactly, null replaces a string
// with null (read as ""), and a later object replaces an earlier one held
// in an interface{} (app user profile, _embedded, _embedded.user and its
// profile) or is merged into a *okta.UserProfile (a group member's).

type slimAppUser struct {
	ID, ExternalID, Scope, Status, SyncState jstr
	// HasCredentials says credentials was an object; UserName is its
	// userName.
	HasCredentials bool
	UserName       jstr
	// HasProfile says profile was an object.
	HasProfile bool
	Profile    slimAppProfile
	// HasEmbedded says _embedded was an object; HasUser that
	// _embedded.user was.
	HasEmbedded, HasUser bool
	User                 slimUser
}

// slimAppProfile is the part of an app user profile BuildDesired falls back
// on when Okta did not embed the user.
type slimAppProfile struct {
	Email, FirstName, GivenName, LastName, FamilyName, Login jstr
}

func (p *slimAppProfile) asMap() map[string]any {
	m := map[string]any{}
	for _, kv := range [...]struct {
		k string
		v jstr
	}{{"email", p.Email}, {"firstName", p.FirstName}, {"given_name", p.GivenName},
		{"lastName", p.LastName}, {"family_name", p.FamilyName}, {"login", p.Login}} {
		if kv.v.Set {
			m[kv.k] = kv.v.String()
		}
	}
	return m
}

type slimUser struct {
	ID, Status jstr
	HasProfile bool
	Profile    slimUserProfile
}

type slimUserProfile struct {
	Login, Email, FirstName, LastName jstr
}

// slimMember is one item of GET /api/v1/groups/{id}/users. Status and the
// profile are type-checked; the profile's strings are kept only when a
// listing asks for them.
type slimMember struct {
	ID, Status jstr
	HasProfile bool
	Profile    slimUserProfile
}

// The fields of okta.AppUser, okta.AppUserCredentials and okta.User that
// the reader keeps, by JSON name (for foldField).
const (
	auID = iota
	auExternalID
	auScope
	auStatus
	auSyncState
	auCredentials
	auProfile
	auEmbedded
	auOther = -1
)

var (
	appUserFields = [...]string{auID: "id", auExternalID: "externalId", auScope: "scope", auStatus: "status",
		auSyncState: "syncState", auCredentials: "credentials", auProfile: "profile", auEmbedded: "_embedded"}
	userNameField = [...]string{"userName"}
	memberFields  = [...]string{"id", "status", "profile"}
)

// appUserField returns the okta.AppUser field (au…) that encoding/json
// decodes member name k into, or auOther.
func appUserField(k []byte) int {
	switch string(k) {
	case "id":
		return auID
	case "externalId":
		return auExternalID
	case "scope":
		return auScope
	case "status":
		return auStatus
	case "syncState":
		return auSyncState
	case "credentials":
		return auCredentials
	case "profile":
		return auProfile
	case "_embedded":
		return auEmbedded
	}
	return foldField(k, appUserFields[:])
}

// memberField returns the index in memberFields of the okta.User field
// that encoding/json decodes member name k into, or -1.
func memberField(k []byte) int {
	switch string(k) {
	case "id":
		return 0
	case "status":
		return 1
	case "profile":
		return 2
	}
	return foldField(k, memberFields[:])
}

// readAppUser reads one app user object into u (reset first) as
// encoding/json reads it into an okta.AppUser: id, externalId, scope,
// status, syncState and credentials (and credentials.userName) are struct
// fields (names matched as field matches them; a repeated credentials
// object is merged into the earlier one); profile and _embedded are
// interface{} fields, decoded as maps (names matched exactly; a repeated
// object, and a repeated _embedded.user or its profile, replaces the
// earlier one).
func readAppUser(s *scanner, u *slimAppUser) error {
	*u = slimAppUser{}
	_, err := s.object("app user", func(k []byte) error {
		switch appUserField(k) {
		case auID:
			return s.readStr(&u.ID, "id")
		case auExternalID:
			return s.readStr(&u.ExternalID, "externalId")
		case auScope:
			return s.readStr(&u.Scope, "scope")
		case auStatus:
			return s.readStr(&u.Status, "status")
		case auSyncState:
			return s.readStr(&u.SyncState, "syncState")
		case auCredentials:
			ok, err := s.object("credentials", func(k []byte) error {
				if string(k) == "userName" || foldField(k, userNameField[:]) == 0 {
					return s.readStr(&u.UserName, "credentials.userName")
				}
				return s.skip()
			})
			if u.HasCredentials = ok; !ok {
				u.UserName = jstr{}
			}
			return err
		case auProfile:
			p := &u.Profile
			*p = slimAppProfile{}
			ok, err := s.object("profile", func(k []byte) error {
				switch string(k) {
				case "email":
					return s.readEntry(&p.Email, "profile.email")
				case "firstName":
					return s.readEntry(&p.FirstName, "profile.firstName")
				case "given_name":
					return s.readEntry(&p.GivenName, "profile.given_name")
				case "lastName":
					return s.readEntry(&p.LastName, "profile.lastName")
				case "family_name":
					return s.readEntry(&p.FamilyName, "profile.family_name")
				case "login":
					return s.readEntry(&p.Login, "profile.login")
				}
				return s.skip()
			})
			u.HasProfile = ok
			return err
		case auEmbedded:
			u.HasUser, u.User = false, slimUser{}
			ok, err := s.object("_embedded", func(k []byte) error {
				if string(k) != "user" {
					return s.skip()
				}
				u.User = slimUser{}
				ok, err := readUser(s, &u.User, "_embedded.user", "_embedded.user.profile")
				if u.HasUser = ok; !ok {
					u.User = slimUser{}
				}
				return err
			})
			if u.HasEmbedded = ok; !ok {
				u.HasUser, u.User = false, slimUser{}
			}
			return err
		}
		return s.skip()
	})
	return err
}

// readUser reads an Okta user object held in a map (or null: false) into u
// (which the caller resets): names match exactly, null replaces a string, a
// repeated profile replaces the earlier one. what is its place in the item
// (for messages), profile its profile's.
func readUser(s *scanner, u *slimUser, what, profile string) (bool, error) {
	return s.object(what, func(k []byte) error {
		switch string(k) {
		case "id":
			return s.readEntryIn(&u.ID, what, "id")
		case "status":
			return s.readEntryIn(&u.Status, what, "status")
		case "profile":
			u.Profile = slimUserProfile{}
			ok, err := readUserProfile(s, &u.Profile, profile)
			if u.HasProfile = ok; !ok {
				u.Profile = slimUserProfile{}
			}
			return err
		}
		return s.skip()
	})
}

// readUserProfile reads an Okta user profile (or null: false) into p,
// merging, as encoding/json reads it into a map (okta.UserProfile): names
// match exactly, null replaces a string.
func readUserProfile(s *scanner, p *slimUserProfile, what string) (bool, error) {
	return s.object(what, func(k []byte) error {
		switch string(k) {
		case "login":
			return s.readEntryIn(&p.Login, what, "login")
		case "email":
			return s.readEntryIn(&p.Email, what, "email")
		case "firstName":
			return s.readEntryIn(&p.FirstName, what, "firstName")
		case "lastName":
			return s.readEntryIn(&p.LastName, what, "lastName")
		}
		return s.skip()
	})
}

// readMember reads one group member object into m (reset first) as
// encoding/json reads it into an okta.User: id, status and profile are
// struct fields (names matched as field matches them; null leaves a string
// as it was); profile is a *okta.UserProfile, a map: a repeated profile
// object is merged into the earlier one, null clears it.
func readMember(s *scanner, m *slimMember) error {
	*m = slimMember{}
	_, err := s.object("member", func(k []byte) error {
		switch memberField(k) {
		case 0:
			return s.readStr(&m.ID, "id")
		case 1:
			return s.readStr(&m.Status, "status")
		case 2:
			ok, err := readUserProfile(s, &m.Profile, "profile")
			if m.HasProfile = ok; !ok {
				m.Profile = slimUserProfile{}
			}
			return err
		}
		return s.skip()
	})
	return err
}

// slimPages returns a pageAll fetch function that GETs path?q, then each next
// link, with the SDK's request executor (auth, User-Agent, Link headers; our
// transport's retries and throttle). The transport hands the page body to
// the fetch function instead of the SDK's decoding (pageBody), and the
// page's items are read from it by read (into one view, reused) when
// pageAll walks them.
func slimPages[T any](c *Client, path string, q url.Values, read func(*scanner, *T) error) fetchPage[T] {
	return func(ctx context.Context, prev *okta.Response) (walkPage[T], *okta.Response, error) {
		re := c.sdk.CloneRequestExecutor()
		target := path + "?" + q.Encode()
		if prev != nil {
			target = prev.NextPage
		}
		req, err := re.WithAccept("application/json").WithContentType("application/json").NewRequest("GET", target, nil)
		if err != nil {
			return nil, nil, err
		}
		pb := &pageBody{}
		var discard struct{}
		resp, err := re.Do(context.WithValue(ctx, pageBodyKey{}, pb), req, &discard)
		if err != nil {
			pb.release()
			return nil, resp, err
		}
		if !pb.got {
			return nil, resp, errNotDiverted
		}
		walk := func(each func(*T) error) error {
			defer pb.release()
			var view T
			return readPage(pb.body, func(s *scanner, null bool) error {
				if null {
					return each(nil)
				}
				if err := read(s, &view); err != nil {
					return err
				}
				return each(&view)
			})
		}
		return walk, resp, nil
	}
}

// sdkPages returns a pageAll fetch function for a listing the SDK decodes
// into its own types: first fetches page one, later pages follow the next
// link, each decoded into a newly allocated slice.
func sdkPages[T any](first func(context.Context) ([]*T, *okta.Response, error)) fetchPage[T] {
	return func(ctx context.Context, prev *okta.Response) (walkPage[T], *okta.Response, error) {
		var items []*T
		var resp *okta.Response
		var err error
		if prev == nil {
			items, resp, err = first(ctx)
		} else {
			resp, err = prev.Next(ctx, &items)
		}
		if err != nil {
			return nil, resp, err
		}
		return func(each func(*T) error) error {
			for _, it := range items {
				if err := each(it); err != nil {
					return err
				}
			}
			return nil
		}, resp, nil
	}
}

// internStatus returns the constant string for a common Okta status, scope
// or sync state value, so that 100,000 users share one "ACTIVE"; other
// values are copied out of the page.
func internStatus(v jstr) string {
	if !v.decode {
		switch string(v.raw) {
		case "":
			return ""
		case "ACTIVE":
			return "ACTIVE"
		case "PROVISIONED":
			return "PROVISIONED"
		case "SUSPENDED":
			return "SUSPENDED"
		case "DEPROVISIONED":
			return "DEPROVISIONED"
		case "INACTIVE":
			return "INACTIVE"
		case "STAGED":
			return "STAGED"
		case "USER":
			return "USER"
		case "GROUP":
			return "GROUP"
		case "SYNCHRONIZED":
			return "SYNCHRONIZED"
		case "DISABLED":
			return "DISABLED"
		case "ENABLED":
			return "ENABLED"
		}
	}
	return v.String()
}

// convertSlimAppUser checks and converts one app user. It fails on a
// missing id or status and, when expand is set, on a missing or null
// `_embedded.user`, its id (which must be the app user's), status or
// profile, or a missing profile login, email, firstName or lastName
// (mistyped members already failed the page's reading): a half-expanded
// user must never read as "no status" (which would grant access) or "no
// name" (which would remove the name). withProfile keeps the app user profile as a map always;
// otherwise only when the embedded user has no email and no names (the only
// case in which BuildDesired reads it).
func convertSlimAppUser(u *slimAppUser, expand, withProfile bool) (AppUser, error) {
	if u.ID.Empty() {
		return AppUser{}, errors.New("app user without id")
	}
	if u.Status.Empty() {
		id := u.ID.String()
		return AppUser{ID: id}, fmt.Errorf("app user %s has no status", id)
	}
	au := AppUser{Scope: internStatus(u.Scope), Status: internStatus(u.Status), SyncState: internStatus(u.SyncState)}
	if !expand {
		au.ID, au.ExternalID = u.ID.String(), u.ExternalID.String()
		if u.HasCredentials {
			au.UserName = u.UserName.String()
		}
		if u.HasProfile {
			au.Profile = u.Profile.asMap()
		}
		return au, nil
	}
	// where names a place in the item, for messages, and failed returns
	// the app user with its id and externalId and err (built only on
	// error).
	where := func(sub string) string { return "app user " + u.ID.String() + " _embedded" + sub }
	failed := func(err error) (AppUser, error) {
		au.ID, au.ExternalID = u.ID.String(), u.ExternalID.String()
		return au, err
	}
	if !u.HasEmbedded {
		return failed(fmt.Errorf("%s is missing or null (expand=user)", where("")))
	}
	if !u.HasUser {
		return failed(fmt.Errorf("%s.user is missing or null", where("")))
	}
	user := &u.User
	switch {
	case user.ID.Empty():
		return failed(fmt.Errorf("%s.id is missing", where(".user")))
	case !user.ID.Equal(u.ID):
		return failed(fmt.Errorf("%s.id is %s, not the app user's id", where(".user"), user.ID.String()))
	case user.Status.Empty():
		return failed(fmt.Errorf("%s.status is missing", where(".user")))
	case !user.HasProfile:
		return failed(fmt.Errorf("%s.profile is missing", where(".user")))
	}
	p := &user.Profile
	switch {
	case p.Login.Empty():
		return failed(fmt.Errorf("%s.login is missing", where(".user.profile")))
	case !p.Email.Set:
		return failed(fmt.Errorf("%s.email is missing", where(".user.profile")))
	case !p.FirstName.Set:
		return failed(fmt.Errorf("%s.firstName is missing", where(".user.profile")))
	case !p.LastName.Set:
		return failed(fmt.Errorf("%s.lastName is missing", where(".user.profile")))
	}
	au.UserStatus = internStatus(user.Status)
	// The user's strings share one allocation (at a million app users, a
	// million objects for the garbage collector to mark instead of five
	// million or more); the login is usually the email and the app
	// username: one string.
	email, userName := &p.Email, &u.UserName
	if email.Equal(p.Login) {
		email = &p.Login
	}
	if !u.HasCredentials {
		userName = &jstr{}
	} else if userName.Equal(p.Login) {
		userName = &p.Login
	}
	vs := [...]*jstr{&u.ID, &u.ExternalID, &p.Login, &p.FirstName, &p.LastName, email, userName}
	var ss [len(vs)]string
	packStrings(vs[:], ss[:])
	au.ID, au.ExternalID, au.Login, au.FirstName, au.LastName, au.Email, au.UserName = ss[0], ss[1], ss[2], ss[3], ss[4], ss[5], ss[6]
	if u.HasProfile && (withProfile || au.Email == "" && au.FirstName == "" && au.LastName == "") {
		au.Profile = u.Profile.asMap()
	}
	return au, nil
}

// share returns s when v holds the same string, else v copied out.
// packStrings sets out[i] to vs[i].String(): the values that read as they
// stand share one allocation (those that need decoding, with escapes or
// invalid UTF-8, get their own), and a value given twice (the same
// pointer) is one string. out must be as long as vs.
func packStrings(vs []*jstr, out []string) {
	n := 0
	plain := func(i int) bool { return !vs[i].decode && !slices.Contains(vs[:i], vs[i]) }
	for i, v := range vs {
		if plain(i) {
			n += len(v.raw)
		}
	}
	var b strings.Builder
	b.Grow(n)
	for i, v := range vs {
		if plain(i) {
			b.Write(v.raw)
		}
	}
	all := b.String()
	for i, v := range vs {
		switch j := slices.Index(vs[:i], v); {
		case j >= 0:
			out[i] = out[j]
		case v.decode:
			out[i] = v.String()
		default:
			out[i], all = all[:len(v.raw)], all[len(v.raw):]
		}
	}
}

func share(v jstr, s string) string {
	if v.is(s) {
		return s
	}
	return v.String()
}
