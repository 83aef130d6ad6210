package doctor

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// writeState is what a write test created, for cleanup.
type writeState struct {
	userName  string
	groupName string
	userIDs   []string // test users to delete (normally one)
	groupID   string
}

// userBody is the POST/PUT body Okta sends for a user.
func (r *runner) userBody(w *writeState, familyName, id string) map[string]any {
	b := map[string]any{
		"schemas":     []string{schemaUser},
		"userName":    w.userName,
		"name":        map[string]any{"givenName": "AxonFlow", "familyName": familyName},
		"emails":      []any{map[string]any{"primary": true, "value": w.userName, "type": "work"}},
		"displayName": "AxonFlow " + familyName,
		"locale":      "en-US",
		"externalId":  "00udoctor" + r.suffix[:11],
		"groups":      []any{},
		"active":      true,
	}
	if id != "" {
		b["id"] = id
	}
	return b
}

// activeOp is Okta's deactivate/reactivate PATCH: replace, no path.
func activeOp(active bool) map[string]any {
	return map[string]any{
		"schemas":    []string{schemaPatch},
		"Operations": []any{map[string]any{"op": "replace", "value": map[string]any{"active": active}}},
	}
}

// writeTest replays Okta's provisioning of a test user and a pushed group,
// then removes them.
func (r *runner) writeTest(ctx context.Context) {
	w := &writeState{
		userName:  "axonflow-doctor-" + r.suffix + "@example.invalid",
		groupName: "axonflow-doctor-" + r.suffix,
	}
	defer r.cleanup(context.WithoutCancel(ctx), w)
	uid := r.createUser(ctx, w)
	if uid == "" || r.interrupted(ctx) {
		return
	}
	steps := []func(context.Context, *writeState, string) bool{
		r.getCreated, r.duplicate, r.filterCase, r.update, r.deactivate, r.reactivate,
	}
	for _, step := range steps {
		if !step(ctx, w, uid) || r.interrupted(ctx) {
			return
		}
	}
	r.pushGroup(ctx, w, uid)
}

// findUser returns the ids of the users a userName filter finds.
func (r *runner) findUser(ctx context.Context, userName string) []string {
	res := r.do(ctx, http.MethodGet, "/Users"+filterQuery("userName eq "+quoteFilter(userName)), nil, reqOpts{})
	if res.err != nil || res.status != 200 {
		return nil
	}
	_, _, l := listProblems(res)
	var ids []string
	for _, u := range l {
		if id := str(u, "id"); id != "" && strings.EqualFold(str(u, "userName"), userName) {
			ids = append(ids, id)
		}
	}
	return ids
}

// createUser is Okta's create on assignment (lookup, then POST) and SPEC
// step 6 (POST with Content-Type application/json). It returns the id.
func (r *runner) createUser(ctx context.Context, w *writeState) string {
	if ids := r.findUser(ctx, w.userName); len(ids) > 0 {
		r.fail("users-create", "the lookup for the new test user "+w.userName+" already finds a user", "the server ignores the userName filter (see users-filter-unknown)", nil)
		return ""
	}
	res := r.do(ctx, http.MethodPost, "/Users", r.userBody(w, "Doctor", ""), reqOpts{contentType: "application/json"})
	if res.err != nil {
		r.gotNoAnswer("users-create", res)
		// It may have been created anyway: cleanup looks it up.
		return ""
	}
	id := str(res.doc, "id")
	if id != "" && res.status < 300 {
		w.userIDs = append(w.userIDs, id)
	}
	switch {
	case res.status == 401 || res.status == 403:
		d, f := r.authDiagnosis(res)
		r.fail("users-create", d+" (the token may read but not create users)", f, res)
		return ""
	case res.status == 400:
		r.fail("users-create", "POST /Users with Okta's user (schemas, userName, name, emails, displayName, locale, externalId, groups: [], active) answers "+errSummary(res),
			`check the Attribute Mappings in Okta (To App): user.login → userName, user.email → emails[type eq "work"].value, user.firstName → name.givenName, user.lastName → name.familyName; if the server rejects Okta's standard shape, it needs a fix`, res)
		return ""
	case res.status == 409:
		r.fail("users-create", "POST /Users of a new, unique userName answers "+errSummary(res),
			"the server reports a conflict that does not exist; check its uniqueness rules (server-side fix)", res)
		return ""
	case res.status < 200 || res.status >= 300:
		d, f := r.statusDiagnosis(res)
		r.fail("users-create", d, f, res)
		return ""
	}
	if notJSON(res) != "" || id == "" {
		r.fail("users-create", fmt.Sprintf("POST /Users answers %d but %s: Okta stores the id from the create response, and an empty body fails the Okta task", res.status, orJoin(notJSON(res), "the body has no \"id\"")),
			"the server must answer 201 with the created user, including its id (server-side fix)", res)
		// Find it to clean it up.
		w.userIDs = append(w.userIDs, r.findUser(ctx, w.userName)...)
		return ""
	}
	var probs []string
	if miss := userProblems(res.doc); len(miss) > 0 {
		probs = append(probs, "it lacks "+strings.Join(miss, ", "))
	}
	if v, ok := get(res.doc, "active").(bool); ok && !v {
		probs = append(probs, `"active" is false, but Okta sent true`)
	}
	if !hasSchema(res.doc, schemaUser) {
		probs = append(probs, `"schemas" lacks `+schemaUser)
	}
	if !strings.EqualFold(str(res.doc, "userName"), w.userName) && str(res.doc, "userName") != "" {
		probs = append(probs, fmt.Sprintf("userName came back as %q", str(res.doc, "userName")))
	}
	if len(probs) > 0 {
		r.fail("users-create", "POST /Users created the user, but the response "+strings.Join(probs, "; ")+": Okta's SCIM SPEC test step 6 needs them echoed",
			"the server must answer 201 with the full user as stored (server-side fix)", res)
		return id
	}
	if res.status != 201 {
		r.warn("users-create", fmt.Sprintf("POST /Users created test user %s but answered %d, not 201 Created", w.userName, res.status),
			"answer 201 Created (RFC 7644 §3.3); Okta's SPEC test checks it", res)
		return id
	}
	r.pass("users-create", "created test user "+w.userName+" (id "+id+") as Okta does; it is removed at the end", res)
	return id
}

func orJoin(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// getUser reads a user by id; ok is false (and a failure recorded under
// name) when that does not work.
func (r *runner) getUser(ctx context.Context, name, id, why string) (*response, bool) {
	res := r.do(ctx, http.MethodGet, "/Users/"+url.PathEscape(id), nil, reqOpts{})
	switch {
	case res.err != nil:
		r.gotNoAnswer(name, res)
	case res.status != 200:
		d, f := r.statusDiagnosis(res)
		r.fail(name, d+why, f, res)
	case notJSON(res) != "":
		r.fail(name, res.what()+": "+notJSON(res), "the server must answer a user as SCIM JSON", res)
	default:
		return res, true
	}
	return res, false
}

// getCreated is SPEC step 7.
func (r *runner) getCreated(ctx context.Context, w *writeState, id string) bool {
	res, ok := r.getUser(ctx, "users-get-created", id, " (just after creating it)")
	if !ok {
		return false
	}
	var probs []string
	if str(res.doc, "id") != id {
		probs = append(probs, fmt.Sprintf("id is %q", str(res.doc, "id")))
	}
	if str(res.doc, "name", "familyName") != "Doctor" || str(res.doc, "name", "givenName") != "AxonFlow" {
		probs = append(probs, "the name is not the one sent")
	}
	if v, _ := get(res.doc, "active").(bool); !v {
		probs = append(probs, `"active" is not true`)
	}
	if len(probs) > 0 {
		r.fail("users-get-created", res.what()+": "+strings.Join(probs, "; "), "the server must return what it stored (server-side fix)", res)
		return false
	}
	r.pass("users-get-created", "the new user reads back with the values Okta sent", res)
	return true
}

// duplicate is SPEC step 8: the same POST again must be 409.
func (r *runner) duplicate(ctx context.Context, w *writeState, id string) bool {
	res := r.do(ctx, http.MethodPost, "/Users", r.userBody(w, "Doctor", ""), reqOpts{expectError: true})
	const fix = `the server must answer a second user with an existing userName with 409 and the SCIM error body with "scimType": "uniqueness" (RFC 7644 §3.3; server-side fix)`
	switch {
	case res.err != nil:
		r.gotNoAnswer("users-duplicate", res)
	case res.status >= 200 && res.status < 300:
		if dup := str(res.doc, "id"); dup != "" && dup != id {
			w.userIDs = append(w.userIDs, dup)
		}
		r.fail("users-duplicate", fmt.Sprintf("POSTing the same userName again answers %d instead of 409: the server creates duplicates, so Okta would not notice an existing account", res.status), fix, res)
	case res.status != 409:
		r.fail("users-duplicate", fmt.Sprintf("POSTing the same userName again answers %s; Okta expects 409", errSummary(res)), fix, res)
	default:
		if p := errorProblems(res); len(p) > 0 {
			r.fail("users-duplicate", "a duplicate userName gets 409, but its error body is not what Okta reads: "+strings.Join(p, "; "), fix, res)
		} else if str(res.doc, "scimType") != "uniqueness" {
			r.warn("users-duplicate", fmt.Sprintf(`a duplicate userName gets 409, with scimType %q instead of "uniqueness"`, str(res.doc, "scimType")), fix, res)
		} else {
			r.pass("users-duplicate", "a duplicate userName gets 409 uniqueness", res)
		}
	}
	return true
}

// filterCase is SPEC step 9: userName filters are case-insensitive.
func (r *runner) filterCase(ctx context.Context, w *writeState, id string) bool {
	upper := strings.ToUpper(w.userName)
	res := r.do(ctx, http.MethodGet, "/Users"+filterQuery("userName eq "+quoteFilter(upper)), nil, reqOpts{})
	if res.err != nil {
		r.gotNoAnswer("users-filter-case", res)
		return true
	}
	if res.status != 200 {
		d, f := r.statusDiagnosis(res)
		r.fail("users-filter-case", d, f, res)
		return true
	}
	_, _, l := listProblems(res)
	for _, u := range l {
		if str(u, "id") == id {
			r.pass("users-filter-case", "the userName filter is case-insensitive (the upper-cased userName finds the user)", res)
			return true
		}
	}
	r.fail("users-filter-case", fmt.Sprintf("filter=userName eq %q does not find the user created as %q: the userName filter is case-sensitive, so Okta would create a duplicate when only the case of a login differs", upper, w.userName),
		"userName must be case-insensitive in filters (RFC 7643 §4.1.1, caseExact false; server-side fix)", res)
	return true
}

// update is Okta's profile push: GET, then a full PUT.
func (r *runner) update(ctx context.Context, w *writeState, id string) bool {
	res := r.do(ctx, http.MethodPut, "/Users/"+url.PathEscape(id), r.userBody(w, "Doctor-Updated", id), reqOpts{})
	const fix = "the server must accept Okta's full PUT (with id, groups: [] and the attributes of the mapping) and answer 200 with the user (RFC 7644 §3.5.1)"
	switch {
	case res.err != nil:
		r.gotNoAnswer("users-update", res)
		return true
	case res.status < 200 || res.status >= 300:
		d, f := r.statusDiagnosis(res)
		if res.status == 400 {
			f = fix
		}
		r.fail("users-update", d+" (Okta's \"Update User Attributes\")", f, res)
		return true
	}
	got, ok := r.getUser(ctx, "users-update", id, " (after the PUT)")
	if !ok {
		return false
	}
	if str(got.doc, "name", "familyName") != "Doctor-Updated" {
		r.fail("users-update", "PUT /Users/{id} answered "+fmt.Sprint(res.status)+" but the change did not stick: name.familyName is "+fmt.Sprintf("%q", str(got.doc, "name", "familyName")), fix, res)
		return true
	}
	if res.status != 200 || notJSON(res) != "" {
		r.warn("users-update", fmt.Sprintf("PUT /Users/{id} applied the change but answered %d without the user; Okta expects 200 with it", res.status), fix, res)
		return true
	}
	r.pass("users-update", "a full PUT (Okta's profile update) is applied", res)
	return true
}

// deactivate and reactivate are Okta's PATCH of active without a path.
func (r *runner) deactivate(ctx context.Context, w *writeState, id string) bool {
	return r.setActive(ctx, "users-deactivate", w, id, false)
}

func (r *runner) reactivate(ctx context.Context, w *writeState, id string) bool {
	return r.setActive(ctx, "users-reactivate", w, id, true)
}

func (r *runner) setActive(ctx context.Context, name string, w *writeState, id string, active bool) bool {
	verb := map[bool]string{false: "deactivate", true: "reactivate"}[active]
	res := r.do(ctx, http.MethodPatch, "/Users/"+url.PathEscape(id), activeOp(active), reqOpts{})
	fix := fmt.Sprintf(`the server must accept Okta's PATCH {"op":"replace","value":{"active":%v}} (no path: the value applies to the user itself, RFC 7644 §3.5.2) and answer 200 or 204`, active)
	switch {
	case res.err != nil:
		r.gotNoAnswer(name, res)
		return false
	case res.status < 200 || res.status >= 300:
		d, f := r.statusDiagnosis(res)
		if res.status == 400 || res.status == 405 || res.status == 501 {
			f = fix
		}
		r.fail(name, d+fmt.Sprintf(" (Okta's %s)", verb), f, res)
		return false
	}
	got, ok := r.getUser(ctx, name, id, fmt.Sprintf(" after the %s PATCH: deactivated users must stay readable, or Okta cannot reactivate them", verb))
	if !ok {
		return false
	}
	if v, isBool := get(got.doc, "active").(bool); !isBool || v != active {
		r.fail(name, fmt.Sprintf("the %s PATCH answered %d, but the user's \"active\" is %s afterwards", verb, res.status, describeJSON(get(got.doc, "active"))), fix, res)
		return false
	}
	if !active {
		if ids := r.findUser(ctx, w.userName); !slices.Contains(ids, id) {
			r.fail(name, "after deactivation the userName filter no longer finds the user: Okta would create a second account when the user is reassigned",
				"deactivated users must stay visible to filters with active: false (server-side fix)", res)
			return false
		}
	}
	r.pass(name, fmt.Sprintf("Okta's %s (PATCH replace active %v, no path) works", verb, active), res)
	return true
}

// pushGroup replays Group Push: lookup by displayName, create, add the
// test user, remove it.
func (r *runner) pushGroup(ctx context.Context, w *writeState, uid string) {
	res := r.do(ctx, http.MethodGet, "/Groups"+filterQuery("displayName eq "+quoteFilter(w.groupName)), nil, reqOpts{})
	switch {
	case res.err != nil:
		r.gotNoAnswer("groups-lookup", res)
		return
	case res.status != 200:
		d, f := r.statusDiagnosis(res)
		if res.status == 400 || res.status == 501 {
			f = `the server must support filter=displayName eq "..." on /Groups: Group Push looks every group up this way first (server-side fix)`
		}
		r.fail("groups-lookup", d, f, res)
		return
	}
	errs, _, l := listProblems(res)
	switch {
	case len(errs) > 0:
		r.fail("groups-lookup", "the displayName filter answer is not a list Okta can read: "+strings.Join(errs, "; "), "answer a SCIM ListResponse (RFC 7644 §3.4.2)", res)
		return
	case len(l) > 0 || intOf(res.doc, "totalResults") > 0:
		r.fail("groups-lookup", fmt.Sprintf("filter=displayName eq %q (a group that does not exist) returns %d group(s): the server ignores the filter, so Group Push would link to the wrong group", w.groupName, max(len(l), intOf(res.doc, "totalResults"))),
			`the server must honour filter=displayName eq "..." on /Groups (server-side fix)`, res)
		return
	}
	r.pass("groups-lookup", "Group Push's lookup by displayName finds nothing for a new group", res)

	res = r.do(ctx, http.MethodPost, "/Groups", map[string]any{"schemas": []string{schemaGroup}, "displayName": w.groupName, "members": []any{}}, reqOpts{})
	if gid := str(res.doc, "id"); gid != "" && res.status < 300 {
		w.groupID = gid
	}
	switch {
	case res.err != nil:
		r.gotNoAnswer("groups-create", res)
		return
	case res.status < 200 || res.status >= 300:
		d, f := r.statusDiagnosis(res)
		r.fail("groups-create", d+" (Group Push creating a group)", f, res)
		return
	case w.groupID == "":
		r.fail("groups-create", fmt.Sprintf("POST /Groups answered %d without an id", res.status), "the server must answer 201 with the group and its id (server-side fix)", res)
		return
	case res.status != 201:
		r.warn("groups-create", fmt.Sprintf("POST /Groups created the group but answered %d, not 201", res.status), "answer 201 Created (RFC 7644 §3.3)", res)
	default:
		r.pass("groups-create", "created test group "+w.groupName+" (id "+w.groupID+")", res)
	}
	if r.interrupted(ctx) {
		return
	}
	rename := map[string]any{"op": "replace", "value": map[string]any{"id": w.groupID, "displayName": w.groupName}}
	add := map[string]any{"op": "add", "path": "members", "value": []any{map[string]any{"value": uid, "display": w.userName}}}
	if !r.patchMembers(ctx, "groups-add-member", w, []any{rename, add}, uid, true) || r.interrupted(ctx) {
		return
	}
	remove := map[string]any{"op": "remove", "path": `members[value eq "` + uid + `"]`}
	r.patchMembers(ctx, "groups-remove-member", w, []any{rename, remove}, uid, false)
}

// patchMembers sends one Okta membership PATCH and checks its effect.
func (r *runner) patchMembers(ctx context.Context, name string, w *writeState, ops []any, uid string, wantMember bool) bool {
	verb := map[bool]string{true: "adding", false: "removing"}[wantMember]
	res := r.do(ctx, http.MethodPatch, "/Groups/"+url.PathEscape(w.groupID), map[string]any{"schemas": []string{schemaPatch}, "Operations": ops}, reqOpts{})
	fix := `the server must accept Okta's membership PATCH: a path-less replace of {id, displayName} (id equal to the URL's is ignored), {"op":"add","path":"members","value":[{"value":"<id>","display":"<login>"}]} and {"op":"remove","path":"members[value eq \"<id>\"]"}; answer 200 or 204 (server-side fix)`
	switch {
	case res.err != nil:
		r.gotNoAnswer(name, res)
		return false
	case res.status < 200 || res.status >= 300:
		d, f := r.statusDiagnosis(res)
		if res.status == 400 || res.status == 405 || res.status == 501 {
			f = fix
		}
		r.fail(name, d+" ("+verb+" a member, as Group Push does)", f, res)
		return false
	}
	got := r.do(ctx, http.MethodGet, "/Groups/"+url.PathEscape(w.groupID), nil, reqOpts{})
	if got.err != nil || got.status != 200 || notJSON(got) != "" {
		r.fail(name, fmt.Sprintf("the PATCH answered %d, but reading the group back failed (%s)", res.status, got.what()), "the server must answer GET /Groups/{id} with the group", got)
		return false
	}
	if !has(got.doc, "members") && wantMember {
		r.warn(name, "the PATCH answered "+fmt.Sprint(res.status)+", but GET /Groups/{id} does not show members, so doctor cannot verify it", "return members in GET /Groups/{id} (RFC 7643 §4.2)", res)
		return true
	}
	members, _ := get(got.doc, "members").([]any)
	in := slices.ContainsFunc(members, func(m any) bool { return str(m, "value") == uid })
	if in != wantMember {
		state := map[bool]string{true: "still a member", false: "not a member"}[in]
		r.fail(name, fmt.Sprintf("the PATCH answered %d, but afterwards the test user is %s: group sync would be inconsistent", res.status, state), fix, res)
		return false
	}
	r.pass(name, fmt.Sprintf("Group Push %s a member (Okta's PATCH form) works", verb), res)
	return true
}

// cleanup deletes what the write test created. A group that cannot be
// deleted is a failure (Okta deletes pushed groups when unlinking); a user
// that cannot be deleted is a warning (Okta never deletes users) and is
// left deactivated.
func (r *runner) cleanup(ctx context.Context, w *writeState) {
	if w.groupID != "" {
		res := r.do(ctx, http.MethodDelete, "/Groups/"+url.PathEscape(w.groupID), nil, reqOpts{})
		switch {
		case res.err != nil:
			d, _ := r.transportDiagnosis(res.err)
			r.fail("groups-delete", "deleting the test group failed: "+d, fmt.Sprintf("delete group %s (%s) by hand", w.groupID, w.groupName), res)
		case res.status >= 300:
			d, _ := r.statusDiagnosis(res)
			r.fail("groups-delete", d+fmt.Sprintf(": the test group %s (id %s) is left behind; Okta deletes pushed groups this way when you unlink them", w.groupName, w.groupID),
				fmt.Sprintf("the server must answer DELETE /Groups/{id} with 204; delete group %s by hand", w.groupID), res)
		default:
			r.pass("groups-delete", "the test group was deleted (as Okta does when a pushed group is unlinked)", res)
		}
	}
	if len(w.userIDs) == 0 {
		w.userIDs = r.findUser(ctx, w.userName)
	}
	if len(w.userIDs) == 0 {
		return
	}
	var left []string
	var last *response
	for _, id := range w.userIDs {
		res := r.do(ctx, http.MethodDelete, "/Users/"+url.PathEscape(id), nil, reqOpts{})
		last = res
		if res.err == nil && res.status < 300 {
			if chk := r.do(ctx, http.MethodGet, "/Users/"+url.PathEscape(id), nil, reqOpts{expectError: true}); chk.err == nil && chk.status == 404 {
				continue
			}
		}
		// Okta never deletes users, so some servers cannot: leave it inactive.
		r.do(ctx, http.MethodPatch, "/Users/"+url.PathEscape(id), activeOp(false), reqOpts{})
		what := "no answer"
		if res.err == nil {
			what = errSummary(res)
		}
		left = append(left, fmt.Sprintf("%s (DELETE answered %s)", id, what))
	}
	if len(left) > 0 {
		r.warn("cleanup-users", fmt.Sprintf("the test user %s could not be deleted and was left deactivated: %s", w.userName, strings.Join(left, ", ")),
			"delete it by hand (curl -X DELETE -H \"Authorization: Bearer scim_...\" "+r.base+"/Users/ID), or leave it: it is inactive and Okta never deletes users", last)
		return
	}
	r.pass("cleanup-users", "the test user "+w.userName+" was deleted; nothing is left behind", last)
}
