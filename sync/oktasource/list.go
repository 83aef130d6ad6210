package oktasource

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/okta/okta-sdk-golang/v2/okta"
	"github.com/okta/okta-sdk-golang/v2/okta/query"
)

// Page sizes requested per listing.
const (
	appUsersPageSize     = 500 // Okta maximum
	appGroupsPageSize    = 200 // Okta maximum
	groupMembersPageSize = 200 // Okta's recommendation; 1000 times out on big groups
	groupSearchPageSize  = 200
)

// AppUser is one user assigned to the app (Okta: Application User,
// GET /api/v1/apps/{appId}/users,
// https://developer.okta.com/docs/api/openapi/okta-management/management/tag/ApplicationUsers/).
type AppUser struct {
	// ID is the Okta user id ("00u…").
	ID string
	// ExternalID is the id in the downstream app once Okta provisioned the
	// user (e.g. our SCIM id); empty before.
	ExternalID string
	// Scope is USER (assigned directly) or GROUP (through a group).
	Scope string
	// Status is the app user status: ACTIVE, INACTIVE, PROVISIONED,
	// DEPROVISIONED, SUSPENDED, STAGED, PENDING, …
	Status string
	// SyncState is the provisioning sync state (SYNCHRONIZED, DISABLED, …).
	SyncState string
	// UserName is credentials.userName, the app username (usually the login).
	UserName string
	// Profile is the app user profile (attributes per the app's schema).
	Profile map[string]any
	// Login, Email, FirstName, LastName and UserStatus come from the embedded
	// Okta user; they are empty unless Config.ExpandAppUsers.
	Login, Email, FirstName, LastName, UserStatus string
}

// GroupSource says why a group is in scope.
type GroupSource string

const (
	// SourceApp: the group is assigned to the app.
	SourceApp GroupSource = "app"
	// SourcePush: the group is only listed in PullOptions.PushGroups.
	SourcePush GroupSource = "push"
)

// Group is an Okta group (Okta: Group, GET /api/v1/groups/{groupId}).
type Group struct {
	ID          string
	Name        string // profile.name
	Description string // profile.description
	Type        string // OKTA_GROUP, APP_GROUP or BUILT_IN
	// Source is SourceApp for groups assigned to the app (even when also
	// pushed), SourcePush for push-only groups, empty from GetGroup and
	// FindGroupByName.
	Source GroupSource
	// Pushed is true when the group was requested in PullOptions.PushGroups.
	Pushed bool
}

// Member is a user in a group (Okta: GET /api/v1/groups/{groupId}/users).
type Member struct {
	ID        string // Okta user id
	Status    string // Okta user status (ACTIVE, SUSPENDED, DEPROVISIONED, …)
	Login     string
	Email     string
	FirstName string
	LastName  string
}

// fetchPage fetches one page of a listing: page one when prev is nil, else
// the page prev's next link names. It returns the page's items as a
// walkPage, which must be called once (it releases the page body).
type fetchPage[T any] func(ctx context.Context, prev *okta.Response) (walkPage[T], *okta.Response, error)

// walkPage calls each for every item of a page in order (nil for a `null`
// item) and stops at the first error, from each or from reading the page.
type walkPage[T any] func(each func(*T) error) error

// pageAll reads a cursor-paged listing to its end with fetch (slimPages or
// sdkPages). It stops with an IncompleteError on any failure, on a repeated
// cursor, at the page cap, on a page that is not valid JSON of the
// expected types, on a `null` item and when each rejects an item
// (ReasonBadResponse: the page is half-expanded or mistyped, and acting on
// it could grant or remove access by mistake).
func pageAll[T any](ctx context.Context, c *Client, listing string, fetch fetchPage[T], each func(*T) error) error {
	walk, resp, err := fetch(ctx, nil)
	pages, n := 0, 0
	seen := map[string]bool{}
	for {
		if err != nil {
			return c.incomplete(ctx, listing, pages, n, resp, err)
		}
		pages++
		c.stats.pages.Add(1)
		i := 0
		var itemErr error
		err = walk(func(it *T) error {
			i++
			if it == nil {
				itemErr = fmt.Errorf("item %d of page %d is null", i, pages)
				return itemErr
			}
			if err := each(it); err != nil {
				itemErr = fmt.Errorf("item %d of page %d: %w", i, pages, err)
				return itemErr
			}
			n++
			return nil
		})
		switch {
		case itemErr != nil:
			return c.malformed(listing, pages, n, itemErr)
		case err != nil:
			return c.malformed(listing, pages, n, fmt.Errorf("page %d: %w", pages, err))
		}
		if resp == nil || !resp.HasNextPage() {
			c.log.Debug().Str("listing", listing).Int("pages", pages).Int("items", n).Msg("okta listing complete")
			return nil
		}
		key := cursorKey(resp.NextPage)
		if resp.NextPage == resp.Self || seen[key] {
			return &IncompleteError{Listing: listing, Reason: ReasonRepeatedCursor, Pages: pages, Items: n,
				Err: fmt.Errorf("next link %q was already followed", resp.NextPage)}
		}
		seen[key] = true
		if pages >= c.cfg.PageCap {
			return &IncompleteError{Listing: listing, Reason: ReasonPageCap, Pages: pages, Items: n,
				Err: fmt.Errorf("more than %d pages (Config.PageCap)", c.cfg.PageCap)}
		}
		if cerr := ctx.Err(); cerr != nil {
			return c.incomplete(ctx, listing, pages, n, nil, cerr)
		}
		walk, resp, err = fetch(ctx, resp)
	}
}

// cursorKey identifies a next link by its `after` cursor, or by the whole
// link when it has none.
func cursorKey(next string) string {
	if u, err := url.Parse(next); err == nil {
		if a := u.Query().Get("after"); a != "" {
			return "after=" + a
		}
	}
	return next
}

// incomplete classifies a failed request into an IncompleteError.
func (c *Client) incomplete(ctx context.Context, listing string, pages, items int, resp *okta.Response, err error) *IncompleteError {
	redactURLs(err)
	ie := &IncompleteError{Listing: listing, Pages: pages, Items: items, Err: err}
	var re *RequestError
	var oe *okta.Error
	switch {
	case ctx.Err() != nil:
		ie.Reason = ReasonCanceled
	case errors.As(err, &re):
		ie.StatusCode, ie.ErrorCode, ie.RequestID, ie.Attempts = re.StatusCode, re.ErrorCode, re.RequestID, re.Attempts
		switch {
		case re.StatusCode == http.StatusTooManyRequests:
			ie.Reason = ReasonRateLimited
		case re.StatusCode >= 500:
			ie.Reason = ReasonServerError
		case re.StatusCode != 0:
			ie.Reason = reasonForStatus(re.StatusCode)
		case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
			ie.Reason = ReasonCanceled
		default:
			ie.Reason = ReasonTransport
		}
	case resp != nil && resp.Response != nil && resp.StatusCode >= 400:
		ie.StatusCode = resp.StatusCode
		ie.RequestID = resp.Header.Get("X-Okta-Request-Id")
		ie.Attempts = 1
		if errors.As(err, &oe) {
			ie.ErrorCode = oe.ErrorCode
		}
		ie.Reason = reasonForStatus(resp.StatusCode)
	case errors.As(err, new(net.Error)):
		ie.Reason = ReasonTransport
	case errors.As(err, &oe):
		// An Okta error without an API response comes from the OAuth token
		// request the SDK makes before the API call.
		ie.Reason = ReasonUnauthorized
		ie.ErrorCode = oe.ErrorMessage
		ie.Err = fmt.Errorf("OAuth token request failed: %w", err)
	default:
		ie.Reason = ReasonBadResponse
	}
	c.log.Warn().Err(ie).Str("listing", listing).Str("reason", string(ie.Reason)).Msg("okta read incomplete")
	return ie
}

// redactURLs removes query strings from the URLs of *url.Error values in
// err's chain: the SDK sends the OAuth client assertion (a signed credential)
// in the token request's query string, and errors end up in logs.
func redactURLs(err error) {
	for e := err; e != nil; e = errors.Unwrap(e) {
		if ue, ok := e.(*url.Error); ok {
			if i := strings.IndexByte(ue.URL, '?'); i >= 0 {
				ue.URL = ue.URL[:i] + "?[redacted]"
			}
		}
	}
}

func reasonForStatus(code int) Reason {
	switch {
	case code == http.StatusUnauthorized:
		return ReasonUnauthorized
	case code == http.StatusForbidden:
		return ReasonForbidden
	case code == http.StatusNotFound:
		return ReasonNotFound
	case code == http.StatusTooManyRequests:
		return ReasonRateLimited
	case code >= 500:
		return ReasonServerError
	default:
		return ReasonBadRequest
	}
}

// malformed reports a listing whose response decoded but cannot be trusted
// (a null item, a missing or mistyped expanded object or attribute).
func (c *Client) malformed(listing string, pages, items int, err error) *IncompleteError {
	ie := &IncompleteError{Listing: listing, Reason: ReasonBadResponse, Pages: pages, Items: items, Err: err}
	c.log.Warn().Err(ie).Str("listing", listing).Str("reason", string(ie.Reason)).Msg("okta read incomplete")
	return ie
}

func str(m map[string]any, k string) string {
	s, _ := m[k].(string)
	return s
}

// reqString returns m[k], which must be a non-empty string.
func reqString(m map[string]any, where, k string) (string, error) {
	v, ok := m[k]
	if !ok || v == nil {
		return "", fmt.Errorf("%s.%s is missing", where, k)
	}
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("%s.%s is a %s, not a string", where, k, jsonType(v))
	}
	if s == "" {
		return "", fmt.Errorf("%s.%s is empty", where, k)
	}
	return s, nil
}

// optString returns m[k], which must be present and a string or null (Okta
// sends every base profile attribute, null when it has no value: an absent
// one means the object was cut short).
func optString(m map[string]any, where, k string) (string, error) {
	v, ok := m[k]
	if !ok {
		return "", fmt.Errorf("%s.%s is missing", where, k)
	}
	if v == nil {
		return "", nil
	}
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("%s.%s is a %s, not a string or null", where, k, jsonType(v))
	}
	return s, nil
}

// reqObject returns m[k], which must be a JSON object.
func reqObject(m map[string]any, where, k string) (map[string]any, error) {
	v, ok := m[k]
	if !ok || v == nil {
		return nil, fmt.Errorf("%s.%s is missing", where, k)
	}
	o, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s.%s is a %s, not an object", where, k, jsonType(v))
	}
	return o, nil
}

func jsonType(v any) string {
	switch v.(type) {
	case string:
		return "string"
	case float64:
		return "number"
	case bool:
		return "boolean"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	case nil:
		return "null"
	}
	return fmt.Sprintf("%T", v)
}

// ListAppUsers returns every user assigned to the app, directly or through a
// group (Okta: GET /api/v1/apps/{appId}/users, limit 500, expand=user when
// Config.ExpandAppUsers), sorted by id. Each page is one API call. Errors are
// *IncompleteError; no partial list is returned. A null item or a
// half-expanded or mistyped user (see convertAppUser) is ReasonBadResponse.
func (c *Client) ListAppUsers(ctx context.Context) ([]AppUser, error) {
	return listAppUsers(ctx, c, true, keepAppUser, appUserID)
}

func keepAppUser(u AppUser) AppUser { return u }
func appUserID(u AppUser) string    { return u.ID }

// listAppUsers is ListAppUsers with each app user converted by conv as it is
// read (id returns a converted user's Okta id); withProfile false keeps an
// app user's profile only where BuildDesired needs it (see
// convertSlimAppUser). Users are collected page by page and copied once
// into a slice of the exact size (appending to one slice would allocate
// about five times its final size on the way).
func listAppUsers[U any](ctx context.Context, c *Client, withProfile bool, conv func(AppUser) U, id func(U) string) ([]U, error) {
	listing := "app users of app " + c.cfg.AppID
	q := url.Values{"limit": {strconv.Itoa(appUsersPageSize)}}
	if c.cfg.ExpandAppUsers {
		q.Set("expand", "user")
	}
	var chunks [][]U
	n := 0
	err := pageAll(ctx, c, listing, slimPages(c, "/api/v1/apps/"+url.PathEscape(c.cfg.AppID)+"/users", q, readAppUser),
		func(u *slimAppUser) error {
			au, err := convertSlimAppUser(u, c.cfg.ExpandAppUsers, withProfile)
			if err != nil {
				return err
			}
			if len(chunks) == 0 || len(chunks[len(chunks)-1]) == cap(chunks[len(chunks)-1]) {
				chunks = append(chunks, make([]U, 0, appUsersPageSize))
			}
			chunks[len(chunks)-1] = append(chunks[len(chunks)-1], conv(au))
			n++
			return nil
		})
	if err != nil {
		return nil, err
	}
	out := make([]U, 0, n)
	for i, ch := range chunks {
		out = append(out, ch...)
		chunks[i] = nil
	}
	return dedupe(c, listing, out, id), nil
}

// dedupe sorts items by id and drops repeated ids (Okta may return an item
// twice when the listing changes while it is paged), logging how many.
func dedupe[T any](c *Client, listing string, items []T, id func(T) string) []T {
	if cmp := func(a, b T) int { return strings.Compare(id(a), id(b)) }; !slices.IsSortedFunc(items, cmp) {
		slices.SortStableFunc(items, cmp)
	}
	out := slices.CompactFunc(items, func(a, b T) bool { return id(a) == id(b) })
	if d := len(items) - len(out); d > 0 {
		c.log.Warn().Str("listing", listing).Int("duplicates", d).Msg("okta listing returned duplicate ids; kept the first")
	}
	return out
}

// ListAppGroups returns the groups assigned to the app with their names
// (Okta: GET /api/v1/apps/{appId}/groups?expand=group, limit 200), sorted by
// id, Source SourceApp. A group whose _embedded.group is absent costs one
// GetGroup call; a null or mistyped one, or one without a name, fails the
// listing. Errors are *IncompleteError.
func (c *Client) ListAppGroups(ctx context.Context) ([]Group, error) {
	listing := "group assignments of app " + c.cfg.AppID
	qp := query.NewQueryParams(query.WithLimit(appGroupsPageSize), query.WithExpand("group"))
	var out []Group
	var missing []string
	err := pageAll(ctx, c, listing,
		sdkPages(func(ctx context.Context) ([]*okta.ApplicationGroupAssignment, *okta.Response, error) {
			return c.sdk.Application.ListApplicationGroupAssignments(ctx, c.cfg.AppID, qp)
		}),
		func(a *okta.ApplicationGroupAssignment) error {
			g, err := convertAppGroup(a)
			switch {
			case err != nil:
				return err
			case g == nil:
				missing = append(missing, a.Id)
			default:
				out = append(out, *g)
			}
			return nil
		})
	if err != nil {
		return nil, err
	}
	for _, id := range missing {
		g, err := c.GetGroup(ctx, id)
		if err != nil {
			return nil, err
		}
		g.Source = SourceApp
		out = append(out, *g)
	}
	return dedupe(c, listing, out, func(g Group) string { return g.ID }), nil
}

// convertAppGroup checks and converts one group assignment: nil without
// error when Okta did not embed the group at all (the caller reads it with
// GetGroup); an error for a missing id or a null or mistyped
// `_embedded.group`, its id (which must be the assignment's), profile or
// profile name.
func convertAppGroup(a *okta.ApplicationGroupAssignment) (*Group, error) {
	if a.Id == "" {
		return nil, errors.New("group assignment without id")
	}
	where := "group assignment " + a.Id + " _embedded"
	if a.Embedded == nil {
		return nil, nil
	}
	emb, ok := a.Embedded.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s is a %s, not an object", where, jsonType(a.Embedded))
	}
	if _, ok := emb["group"]; !ok {
		return nil, nil
	}
	g, err := reqObject(emb, where, "group")
	if err != nil {
		return nil, err
	}
	where += ".group"
	id, err := reqString(g, where, "id")
	if err != nil {
		return nil, err
	}
	if id != a.Id {
		return nil, fmt.Errorf("%s.id is %s, not the assignment's id", where, id)
	}
	p, err := reqObject(g, where, "profile")
	if err != nil {
		return nil, err
	}
	name, err := reqString(p, where+".profile", "name")
	if err != nil {
		return nil, err
	}
	desc, _ := p["description"].(string)
	return &Group{ID: a.Id, Name: name, Description: desc, Type: str(g, "type"), Source: SourceApp}, nil
}

// ListGroupMembers returns the members of a group (Okta: GET
// /api/v1/groups/{groupId}/users, limit 200), sorted by id. Errors are
// *IncompleteError (ReasonNotFound for an unknown group).
func (c *Client) ListGroupMembers(ctx context.Context, groupID string) ([]Member, error) {
	return c.listGroupMembers(ctx, groupID, true)
}

// listGroupMembers is ListGroupMembers; without profile it keeps only each
// member's id and status (the profile is still type-checked).
func (c *Client) listGroupMembers(ctx context.Context, groupID string, profile bool) ([]Member, error) {
	listing := "members of group " + groupID
	if !oktaIDRE.MatchString(groupID) {
		return nil, &IncompleteError{Listing: listing, Reason: ReasonInvalidInput, Err: errors.New("not an Okta id")}
	}
	path := "/api/v1/groups/" + groupID + "/users"
	q := url.Values{"limit": {strconv.Itoa(groupMembersPageSize)}}
	var out []Member
	var err error
	if profile {
		err = pageAll(ctx, c, listing, slimPages(c, path, q, readMember), func(u *slimMember) error {
			if u.ID.Empty() {
				return errors.New("member without id")
			}
			out = append(out, memberOf(u))
			return nil
		})
	} else {
		ids, err := c.listGroupMemberIDs(ctx, groupID)
		if err != nil {
			return nil, err
		}
		out = make([]Member, len(ids))
		for i, id := range ids {
			out[i].ID = id
		}
		return out, nil
	}
	if err != nil {
		return nil, err
	}
	return dedupe(c, listing, out, func(m Member) string { return m.ID }), nil
}

// listGroupMemberIDs returns the ids of a group's members, sorted and
// deduplicated; each member's status and profile are type-checked but not
// kept. Errors are *IncompleteError.
func (c *Client) listGroupMemberIDs(ctx context.Context, groupID string) ([]string, error) {
	listing := "members of group " + groupID
	if !oktaIDRE.MatchString(groupID) {
		return nil, &IncompleteError{Listing: listing, Reason: ReasonInvalidInput, Err: errors.New("not an Okta id")}
	}
	q := url.Values{"limit": {strconv.Itoa(groupMembersPageSize)}}
	// The ids are collected into one buffer and become substrings of one
	// string: one allocation per group instead of one per member.
	var buf []byte
	var ends []int
	err := pageAll(ctx, c, listing, slimPages(c, "/api/v1/groups/"+groupID+"/users", q, readMember), func(u *slimMember) error {
		if u.ID.Empty() {
			return errors.New("member without id")
		}
		if u.ID.decode {
			buf = append(buf, u.ID.String()...)
		} else {
			buf = append(buf, u.ID.raw...)
		}
		ends = append(ends, len(buf))
		return nil
	})
	if err != nil {
		return nil, err
	}
	var out []string
	if len(ends) > 0 {
		all, start := string(buf), 0
		out = make([]string, len(ends))
		for i, end := range ends {
			out[i], start = all[start:end], end
		}
	}
	return dedupe(c, listing, out, func(id string) string { return id }), nil
}

func convertGroup(g *okta.Group) *Group {
	out := &Group{ID: g.Id, Type: g.Type}
	if g.Profile != nil {
		out.Name, out.Description = g.Profile.Name, g.Profile.Description
	}
	return out
}

// GetGroup reads one group (Okta: GET /api/v1/groups/{groupId}). Errors are
// *IncompleteError (ReasonNotFound for an unknown id).
func (c *Client) GetGroup(ctx context.Context, groupID string) (*Group, error) {
	listing := "group " + groupID
	if !oktaIDRE.MatchString(groupID) {
		return nil, &IncompleteError{Listing: listing, Reason: ReasonInvalidInput, Err: errors.New("not an Okta id")}
	}
	g, resp, err := c.sdk.Group.GetGroup(ctx, groupID)
	if err != nil {
		return nil, c.incomplete(ctx, listing, 0, 0, resp, err)
	}
	if g == nil || g.Id == "" {
		return nil, &IncompleteError{Listing: listing, Reason: ReasonBadResponse, Err: errors.New("empty group in response")}
	}
	if g.Id != groupID || g.Profile == nil || g.Profile.Name == "" {
		return nil, &IncompleteError{Listing: listing, Reason: ReasonBadResponse,
			Err: errors.New("group in response has another id, or no profile or name")}
	}
	return convertGroup(g), nil
}

// FindGroupByName returns the one group whose name equals name, ignoring
// case (Okta: GET /api/v1/groups?q=name, a prefix search, limit 200, all pages
// read). No match is ReasonNotFound; several matches are ReasonAmbiguous; both
// and any read failure are *IncompleteError. Prefer ids: names are not unique
// in Okta and can be renamed.
func (c *Client) FindGroupByName(ctx context.Context, name string) (*Group, error) {
	listing := fmt.Sprintf("group named %q", name)
	if strings.TrimSpace(name) == "" {
		return nil, &IncompleteError{Listing: listing, Reason: ReasonInvalidInput, Err: errors.New("empty group name")}
	}
	qp := query.NewQueryParams(query.WithQ(name), query.WithLimit(groupSearchPageSize))
	var matches []*Group
	err := pageAll(ctx, c, listing,
		sdkPages(func(ctx context.Context) ([]*okta.Group, *okta.Response, error) {
			return c.sdk.Group.ListGroups(ctx, qp)
		}),
		func(g *okta.Group) error {
			if g.Id == "" || g.Profile == nil || g.Profile.Name == "" {
				return errors.New("group without id, profile or name")
			}
			if strings.EqualFold(g.Profile.Name, name) {
				matches = append(matches, convertGroup(g))
			}
			return nil
		})
	if err != nil {
		return nil, err
	}
	switch len(matches) {
	case 0:
		return nil, &IncompleteError{Listing: listing, Reason: ReasonNotFound, Err: errors.New("no group has this name")}
	case 1:
		return matches[0], nil
	}
	ids := make([]string, len(matches))
	for i, g := range matches {
		ids[i] = g.ID + " (" + g.Name + ")"
	}
	return nil, &IncompleteError{Listing: listing, Reason: ReasonAmbiguous,
		Err: fmt.Errorf("%d groups match: %s; configure the group id instead", len(matches), strings.Join(ids, ", "))}
}

// User is one Okta user read by GetUser.
type User struct {
	ID, Status, Login, Email, FirstName, LastName string
}

// GetUser reads one Okta user by id or login (Okta: GET
// /api/v1/users/{idOrLogin},
// https://developer.okta.com/docs/api/openapi/okta-management/management/tag/User/).
// Errors are *IncompleteError (ReasonNotFound for no such user).
func (c *Client) GetUser(ctx context.Context, idOrLogin string) (*User, error) {
	listing := fmt.Sprintf("user %q", idOrLogin)
	if strings.TrimSpace(idOrLogin) == "" || strings.ContainsAny(idOrLogin, "/?#") {
		return nil, &IncompleteError{Listing: listing, Reason: ReasonInvalidInput, Err: errors.New("not a user id or login")}
	}
	u, resp, err := c.sdk.User.GetUser(ctx, url.PathEscape(idOrLogin))
	if err != nil {
		return nil, c.incomplete(ctx, listing, 0, 0, resp, err)
	}
	if u == nil || u.Id == "" || u.Profile == nil {
		return nil, &IncompleteError{Listing: listing, Reason: ReasonBadResponse, Err: errors.New("user without id or profile")}
	}
	p := map[string]any(*u.Profile)
	s := func(k string) string { v, _ := p[k].(string); return v }
	return &User{ID: u.Id, Status: u.Status, Login: s("login"), Email: s("email"), FirstName: s("firstName"), LastName: s("lastName")}, nil
}

// GetAppUser reads the app assignment of Okta user userID (Okta: GET
// /api/v1/apps/{appId}/users/{userId}). Errors are *IncompleteError
// (ReasonNotFound when the user is not assigned to the app).
func (c *Client) GetAppUser(ctx context.Context, userID string) (*AppUser, error) {
	listing := "app user " + userID + " of app " + c.cfg.AppID
	if !oktaIDRE.MatchString(userID) {
		return nil, &IncompleteError{Listing: listing, Reason: ReasonInvalidInput, Err: errors.New("not an Okta id")}
	}
	u, resp, err := c.sdk.Application.GetApplicationUser(ctx, c.cfg.AppID, userID, nil)
	if err != nil {
		return nil, c.incomplete(ctx, listing, 0, 0, resp, err)
	}
	if u == nil || u.Id == "" || u.Status == "" {
		return nil, &IncompleteError{Listing: listing, Reason: ReasonBadResponse, Err: errors.New("app user without id or status")}
	}
	au := &AppUser{ID: u.Id, ExternalID: u.ExternalId, Scope: u.Scope, Status: u.Status, SyncState: u.SyncState}
	if u.Credentials != nil {
		au.UserName = u.Credentials.UserName
	}
	if p, ok := u.Profile.(map[string]any); ok {
		au.Profile = p
	}
	return au, nil
}

// ListUserGroups returns the groups Okta user userID is a member of (Okta:
// GET /api/v1/users/{userId}/groups). Errors are *IncompleteError.
func (c *Client) ListUserGroups(ctx context.Context, userID string) ([]Group, error) {
	listing := "groups of user " + userID
	if !oktaIDRE.MatchString(userID) {
		return nil, &IncompleteError{Listing: listing, Reason: ReasonInvalidInput, Err: errors.New("not an Okta id")}
	}
	gs, resp, err := c.sdk.User.ListUserGroups(ctx, userID)
	if err != nil {
		return nil, c.incomplete(ctx, listing, 0, 0, resp, err)
	}
	out := make([]Group, 0, len(gs))
	for _, g := range gs {
		if g == nil || g.Id == "" || g.Profile == nil {
			return nil, &IncompleteError{Listing: listing, Reason: ReasonBadResponse, Err: errors.New("group without id or profile")}
		}
		out = append(out, *convertGroup(g))
	}
	return out, nil
}

// AppGroupAssigned reports whether group groupID is assigned to the app
// (Okta: GET /api/v1/apps/{appId}/groups/{groupId}; 404: not assigned).
// Other errors are *IncompleteError.
func (c *Client) AppGroupAssigned(ctx context.Context, groupID string) (bool, error) {
	listing := "assignment of group " + groupID + " to app " + c.cfg.AppID
	if !oktaIDRE.MatchString(groupID) {
		return false, &IncompleteError{Listing: listing, Reason: ReasonInvalidInput, Err: errors.New("not an Okta id")}
	}
	_, resp, err := c.sdk.Application.GetApplicationGroupAssignment(ctx, c.cfg.AppID, groupID, nil)
	if err != nil {
		ie := c.incomplete(ctx, listing, 0, 0, resp, err)
		if ie.Reason == ReasonNotFound {
			return false, nil
		}
		return false, ie
	}
	return true, nil
}

// memberOf converts a group member read from a page into a Member (the
// email shares the login's string when they are equal).
func memberOf(u *slimMember) Member {
	m := Member{ID: u.ID.String(), Status: internStatus(u.Status)}
	if p := &u.Profile; u.HasProfile {
		m.Login = p.Login.String()
		m.Email, m.FirstName, m.LastName = share(p.Email, m.Login), p.FirstName.String(), p.LastName.String()
	}
	return m
}
