package doctor

import (
	"context"
	"crypto/tls"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// groupsBudget is how long Okta's SPEC test lets GET /Groups take.
const groupsBudget = 600 * time.Millisecond

// readChecks are the checks a read-only run normally emits (for counting
// skipped ones); conditional checks (tenant, users-get-by-id) are not listed.
var readChecks = []string{
	"connection", "service-provider-config", "resource-types", "schemas",
	"authentication", "users-list", "users-first-user", "users-filter-unknown",
	"users-unknown-id", "bad-token", "groups-list", "content-type",
}

// writeChecks are the checks --write-test adds.
var writeChecks = []string{
	"users-create", "users-get-created", "users-duplicate", "users-filter-case",
	"users-update", "users-deactivate", "users-reactivate", "groups-lookup",
	"groups-create", "groups-add-member", "groups-remove-member", "groups-delete", "cleanup-users",
}

// filterQuery renders ?filter=...&startIndex=1&count=100 the way Okta does
// (spaces as %20).
func filterQuery(f string) string {
	return "?filter=" + strings.ReplaceAll(url.QueryEscape(f), "+", "%20") + "&startIndex=1&count=100"
}

// quoteFilter quotes a filter string value.
func quoteFilter(s string) string {
	return `"` + strings.ReplaceAll(strings.ReplaceAll(s, `\`, `\\`), `"`, `\"`) + `"`
}

// randomUUID returns a random version-4 UUID (an id no server has issued).
func randomUUID() string {
	h := randomHex(16)
	b := []byte(h)
	b[12] = '4'
	b[16] = "89ab"[b[16]%4]
	s := string(b)
	return s[:8] + "-" + s[8:12] + "-" + s[12:16] + "-" + s[16:20] + "-" + s[20:]
}

func (r *runner) run(ctx context.Context) {
	defer r.countSkipped()
	if !r.checkURL() {
		return
	}
	typed, authProb, authFix, authSev := r.checkAuthorization()

	// Connection (and discovery, which needs no authentication at Okta's end).
	spc := r.do(ctx, http.MethodGet, "/ServiceProviderConfig", nil, reqOpts{})
	if spc.err != nil {
		if authProb != "" {
			r.add(Check{Name: "authorization-format", Severity: authSev, Detail: authProb, Fix: authFix})
		}
		d, f := r.transportDiagnosis(spc.err)
		r.fail("connection", d, f, spc)
		return
	}
	r.connection(spc)
	if authProb != "" {
		r.authorizationFormat(ctx, typed, authProb, authFix, authSev)
	}
	r.discovery("service-provider-config", spc)
	r.discovery("resource-types", r.do(ctx, http.MethodGet, "/ResourceTypes", nil, reqOpts{}))
	r.discovery("schemas", r.do(ctx, http.MethodGet, "/Schemas", nil, reqOpts{}))

	// What "Test API Credentials" and import do.
	if !r.usersList(ctx) {
		r.contentType()
		return
	}
	r.filterUnknown(ctx)
	r.unknownID(ctx)
	r.badToken(ctx)
	r.groupsList(ctx)
	if r.opts.WriteTest && !r.interrupted(ctx) {
		r.writeTest(ctx)
	}
	r.contentType()
}

// countSkipped counts the planned checks that were not run.
func (r *runner) countSkipped() {
	planned := readChecks
	if r.opts.WriteTest {
		planned = append(append([]string{}, readChecks...), writeChecks...)
	}
	for _, n := range planned {
		if _, ok := r.rep.Check(n); !ok {
			r.rep.Summary.Skipped++
		}
	}
}

// interrupted records an "interrupted" failure once ctx is done.
func (r *runner) interrupted(ctx context.Context) bool {
	if ctx.Err() == nil {
		return false
	}
	if _, ok := r.rep.Check("interrupted"); !ok {
		r.fail("interrupted", "doctor was interrupted before all checks ran", "run doctor again", nil)
	}
	return true
}

// gotNoAnswer records a check whose request got no HTTP response.
func (r *runner) gotNoAnswer(name string, res *response) {
	if res.err == nil {
		return
	}
	d, f := r.transportDiagnosis(res.err)
	r.fail(name, res.what()+": "+d, f, res)
}

func (r *runner) connection(res *response) {
	host := r.parsed.Host
	if res.tls == nil {
		r.pass("connection", "connected to "+host+" (plain HTTP, no TLS)", res)
		return
	}
	detail := fmt.Sprintf("connected to %s with %s", host, tls.VersionName(res.tls.Version))
	if len(res.tls.PeerCertificates) > 0 {
		leaf := res.tls.PeerCertificates[0]
		left := leaf.NotAfter.Sub(r.opts.now())
		detail += fmt.Sprintf("; the certificate for %s is valid until %s", certNames(leaf), leaf.NotAfter.UTC().Format(time.DateOnly))
		if left < 14*24*time.Hour {
			r.warn("connection", detail+fmt.Sprintf(", in %d days", int(left.Hours()/24)),
				"renew the certificate before it expires: Okta stops provisioning the moment it does", res)
			return
		}
	}
	r.pass("connection", detail, res)
}

// authorizationFormat reports a malformed Authorization value, with what
// the server answers to it when sent exactly as typed (what Okta sends).
func (r *runner) authorizationFormat(ctx context.Context, typed, prob, fix string, sev Severity) {
	if typed == "" {
		r.add(Check{Name: "authorization-format", Severity: sev, Detail: prob, Fix: fix})
		return
	}
	res := r.do(ctx, http.MethodGet, "/Users?count=1&startIndex=1", nil, reqOpts{auth: &typed, expectError: true})
	switch {
	case res.err != nil:
		prob += fmt.Sprintf("; sent exactly as typed, the request cannot even be made (%v)", res.err)
	case res.status == 401 || res.status == 403:
		prob += fmt.Sprintf("; sent exactly as typed (as Okta sends it), the server answers %s", errSummary(res))
		if sev == SeverityWarning {
			// The value is the one pasted into Okta, and the server refuses
			// it: Okta's connection test would fail.
			prob += ` — so if Okta's Authorization field holds this value, "Test API Credentials" fails`
			sev = SeverityError
		}
	case res.status < 300:
		prob += "; this server accepts it as typed, but others may not"
		sev = SeverityWarning
	default:
		prob += fmt.Sprintf("; sent exactly as typed, the server answers %s", errSummary(res))
	}
	r.add(Check{Name: "authorization-format", Severity: sev, Detail: prob, Fix: fix, Status: res.status, DurationMs: res.ms()})
}

// discovery checks one discovery endpoint: Okta does not need them, so
// problems are warnings.
func (r *runner) discovery(name string, res *response) {
	const why = "Okta does not need discovery, so this alone is harmless"
	if res.err != nil {
		d, _ := r.transportDiagnosis(res.err)
		r.warn(name, res.what()+": "+d, why, res)
		return
	}
	switch {
	case res.status == 404:
		r.warn(name, fmt.Sprintf("%s answers 404: no discovery endpoint at %s%s", res.what(), r.base, res.path),
			why+"; if /Users fails too, the SCIM Base URL is wrong", res)
		return
	case res.status >= 300:
		r.warn(name, fmt.Sprintf("%s answers %s", res.what(), errSummary(res)), why, res)
		return
	}
	if p := notJSON(res); p != "" {
		r.warn(name, res.what()+": "+p, why, res)
		return
	}
	if name == "service-provider-config" {
		var w []string
		if v, ok := get(res.doc, "patch", "supported").(bool); ok && !v {
			w = append(w, "it says PATCH is not supported, but Okta deactivates, reactivates and changes group members with PATCH")
		}
		if v, ok := get(res.doc, "filter", "supported").(bool); ok && !v {
			w = append(w, "it says filtering is not supported, but Okta looks every user up with filter=userName eq \"...\"")
		}
		if len(w) > 0 {
			r.warn(name, res.what()+": "+strings.Join(w, "; "), "check that the server really supports these (the checks below test them)", res)
			return
		}
	}
	r.pass(name, res.what()+" answers 200 with SCIM JSON", res)
}

// statusDiagnosis explains an unexpected status of a request that should
// have succeeded.
func (r *runner) statusDiagnosis(res *response) (string, string) {
	want := "https://" + r.parsed.Host + basePath
	if i := strings.Index(strings.ToLower(r.parsed.Path), basePath); i >= 0 {
		want = "https://" + r.parsed.Host + r.parsed.Path[:i] + basePath
	}
	rid := ""
	if id := res.requestID(); id != "" {
		rid = " (request id " + id + ")"
	}
	switch {
	case res.status >= 300 && res.status < 400:
		loc := res.header.Get("Location")
		return fmt.Sprintf("%s answers %d, a redirect to %q, instead of answering itself (a redirect can drop the Authorization header or turn Okta's POST into a GET)", res.what(), res.status, loc),
			"enter the URL that answers directly as the SCIM Base URL (https://, the final host, nothing after /scim/v2)"
	case res.status == 401 || res.status == 403:
		return r.authDiagnosis(res)
	case res.status == 404:
		return fmt.Sprintf("%s answers %s: there is no SCIM endpoint at %s%s, so the SCIM Base URL is wrong", res.what(), errSummary(res), r.base, strings.SplitN(res.path, "?", 2)[0]),
			"set the SCIM Base URL in Okta to exactly " + want + " (Okta appends /Users and /Groups itself)"
	case res.status == 405:
		return fmt.Sprintf("%s answers %s: the server does not allow this method here", res.what(), errSummary(res)),
			"check the SCIM Base URL (it must be exactly " + want + ") and that the proxy passes every method (GET, POST, PUT, PATCH, DELETE)"
	case res.status == 415:
		return fmt.Sprintf("%s answers %s: the server rejects the media type Okta sends", res.what(), errSummary(res)),
			"the server must accept Content-Type application/scim+json; charset=utf-8 and application/json (server-side fix)"
	case res.status == 429:
		wait := ""
		if ra := res.header.Get("Retry-After"); ra != "" {
			wait = " (Retry-After: " + ra + " s)"
		}
		return fmt.Sprintf("%s answers 429%s: the server (or a proxy) rate-limits this client; axonflow-sync throttles a client address after repeated failed authentications, so a wrong token sent again and again from this address (a loop, an old Okta app, doctor runs) causes this", res.what(), wait),
			"fix or stop whatever keeps sending a wrong token from this address, wait for Retry-After, then run doctor again; if a proxy rate-limits, raise its limit for the SCIM path (Okta does not retry a 4xx, so rate-limited pushes become failed tasks)"
	case res.status == 503:
		return fmt.Sprintf("%s answers %s%s: the server is up but not ready (for axonflow-sync: its store is unreachable)", res.what(), errSummary(res), rid),
			"check the server's health (axonflow-sync: GET /readyz on the admin listener) and its log"
	case res.status >= 500:
		return fmt.Sprintf("%s answers %s%s: the server failed", res.what(), errSummary(res), rid),
			"look up the request in the server log" + strings.TrimPrefix(rid, " ") + "; a 5xx on Okta's requests is a server bug"
	case res.status >= 400:
		return fmt.Sprintf("%s answers %s", res.what(), errSummary(res)), "the server rejects what Okta sends; its detail says why"
	}
	return fmt.Sprintf("%s answers %d", res.what(), res.status), "the server must answer 200 here"
}

// authDiagnosis explains a 401/403 to the configured token, quoting the
// server's detail (an AxonFlow server says which of missing, wrong scheme,
// Bearer twice, unknown, expired or revoked it is).
func (r *runner) authDiagnosis(res *response) (string, string) {
	d := str(res.doc, "detail")
	l := strings.ToLower(d)
	newToken := `create a new token (AxonFlow: axonflow-sync token create --tenant ID --name okta-prod), enter "Bearer <token>" in Okta's Authorization field (Provisioning → Integration) and run "Test API Credentials" again`
	what := "the server rejects the token"
	fix := `check that Okta's Authorization field holds the current token as "Bearer <token>", that the token is not expired or revoked, and that it was created for this server; if in doubt, ` + newToken
	switch {
	case strings.Contains(l, "expired"):
		what, fix = "the token has expired", newToken+"; give it a lifetime that matches your rotation plan (--expires-in)"
	case strings.Contains(l, "revoked"):
		what, fix = "the token was revoked", newToken
	case strings.Contains(l, "missing authorization") || strings.Contains(l, "no authorization"):
		what = "the server received no Authorization header"
		fix = `enter "Bearer scim_..." in Okta's Authorization field; if it is there, a proxy or load balancer in front of the server strips the Authorization header: configure it to pass the header through`
	case strings.Contains(l, "scheme"):
		what, fix = "the Authorization value does not use the Bearer scheme", `enter "Bearer scim_..." in Okta's Authorization field: the word Bearer, one space, the token`
	case strings.Contains(l, "twice"):
		what, fix = `"Bearer" appears twice in the Authorization value`, `enter "Bearer scim_..." with Bearer once`
	case strings.Contains(l, "not known") || strings.Contains(l, "unknown") || strings.Contains(l, "invalid"):
		what = "the server does not know the token (a typo, a token of another server or environment, or one that was deleted)"
		fix = "copy the token again; " + newToken
	}
	if res.status == 403 {
		what = "the server knows the token but does not allow it here (403)"
		fix = "give the token the right to manage Users and Groups on the server, or use one that has it"
	}
	msg := fmt.Sprintf("%s answers %s: %s", res.what(), errSummary(res), what)
	if d == "" {
		msg += " (the server does not say why)"
	}
	return msg, fix
}

// usersList is "Test API Credentials" and SPEC step 1. It returns false
// when nothing else is worth trying.
func (r *runner) usersList(ctx context.Context) bool {
	res := r.do(ctx, http.MethodGet, "/Users?count=1&startIndex=1", nil, reqOpts{})
	if res.err != nil {
		r.gotNoAnswer("users-list", res)
		return false
	}
	switch {
	case res.status == 401 || res.status == 403:
		d, f := r.authDiagnosis(res)
		r.fail("authentication", d, f, res)
		return false
	case res.status >= 200 && res.status < 300:
		r.pass("authentication", "the server accepts the token ("+redactAuth(r.auth)+")", res)
	default:
		d, f := r.statusDiagnosis(res)
		r.fail("users-list", d, f, res)
		return false
	}
	r.tenant(res)
	errs, warns, resources := listProblems(res)
	if len(errs) > 0 {
		r.fail("users-list", res.what()+" answers 200, but "+strings.Join(errs, "; ")+": Okta cannot read this list",
			"the server must answer a SCIM ListResponse with integer totalResults, itemsPerPage and startIndex and a Resources array (RFC 7644 §3.4.2); this is a server-side fix, not an Okta setting", res)
		return res.doc != nil // a JSON body: the other endpoints may still be worth checking
	}
	if len(resources) > 1 {
		warns = append(warns, fmt.Sprintf("it returned %d users for count=1 (the server ignores count; Okta pages through users with it)", len(resources)))
	}
	if len(warns) > 0 {
		r.warn("users-list", res.what()+": "+strings.Join(warns, "; "), "fix the server's ListResponse (RFC 7644 §3.4.2)", res)
	} else {
		r.pass("users-list", fmt.Sprintf("%s answers a ListResponse with %d user(s) in total", res.what(), intOf(res.doc, "totalResults")), res)
	}
	r.firstUser(ctx, res, resources)
	return true
}

// tenant reports the AxonFlow tenant the token belongs to.
func (r *runner) tenant(res *response) {
	t := strings.TrimSpace(res.header.Get(TenantHeader))
	r.rep.Tenant = t
	want := r.opts.Tenant
	switch {
	case t == "" && want == "":
	case t == "":
		r.warn("tenant", "the server does not report the tenant of the token (no "+TenantHeader+" header), so --tenant "+want+" cannot be checked; it is not an AxonFlow server, or an old one", "check in the server's admin tools which tenant the token belongs to", res)
	case want == "" || t == want:
		r.pass("tenant", "the token belongs to tenant "+t+": Okta will provision users and groups into "+t, res)
	default:
		r.fail("tenant", fmt.Sprintf("the token belongs to tenant %s, not %s: Okta would provision users into %s, and they would not appear in %s", t, want, t, want),
			fmt.Sprintf("create a token for the right tenant (axonflow-sync token create --tenant %s --name okta-prod), enter \"Bearer <token>\" in the Okta app for this environment, and revoke the misplaced one if it is not used elsewhere (axonflow-sync token list --tenant %s)", want, t), res)
	}
}

// firstUser is SPEC steps 1 and 2: one complete user, readable by id.
func (r *runner) firstUser(ctx context.Context, list *response, resources []any) {
	const mapFix = `check the Attribute Mappings in Okta (To App): user.login → userName, user.email → emails[type eq "work"].value, user.firstName → name.givenName, user.lastName → name.familyName; then push the user again. If Okta sends them, the server drops them (server-side fix)`
	if len(resources) == 0 {
		if intOf(list.doc, "totalResults") > 0 {
			r.fail("users-first-user", fmt.Sprintf(`"totalResults" is %d but no user came back for count=1&startIndex=1`, intOf(list.doc, "totalResults")),
				"the server must return the first page of users (server-side fix); Okta's import would see no users", list)
			return
		}
		r.warn("users-first-user", `the directory has no users yet: "Test API Credentials" and import still pass, but step 1 of Okta's SCIM SPEC test needs one complete user`,
			"assign one pilot user to the app in Okta first (or run doctor with --write-test, which creates and removes its own)", list)
		return
	}
	u := resources[0]
	if miss := userProblems(u); len(miss) > 0 {
		r.fail("users-first-user", fmt.Sprintf("the first user (%s) lacks %s: Okta's import and SPEC test step 1 need id, userName, name.givenName, name.familyName, emails[0].value and active", userLabel(u), strings.Join(miss, ", ")),
			mapFix, list)
	} else {
		r.pass("users-first-user", "the first user ("+userLabel(u)+") has every attribute Okta's import needs", list)
	}
	id := str(u, "id")
	if id == "" {
		return
	}
	res := r.do(ctx, http.MethodGet, "/Users/"+url.PathEscape(id), nil, reqOpts{})
	switch {
	case res.err != nil:
		r.gotNoAnswer("users-get-by-id", res)
	case res.status != 200:
		d, f := r.statusDiagnosis(res)
		r.fail("users-get-by-id", "the list has user "+id+", but "+d+"; Okta reads users by id before every update", f, res)
	case notJSON(res) != "":
		r.fail("users-get-by-id", res.what()+": "+notJSON(res), "the server must answer a user as SCIM JSON", res)
	case str(res.doc, "id") != id:
		r.fail("users-get-by-id", fmt.Sprintf("%s answers a user whose id is %q", res.what(), str(res.doc, "id")),
			"the server must return the user asked for, with the same id (server-side fix)", res)
	default:
		if miss := userProblems(res.doc); len(miss) > 0 {
			r.fail("users-get-by-id", res.what()+" lacks "+strings.Join(miss, ", "), mapFix, res)
		} else {
			r.pass("users-get-by-id", res.what()+" answers the same user", res)
		}
	}
}

func userLabel(u any) string {
	if n := str(u, "userName"); n != "" {
		return "userName " + strconv.Quote(n)
	}
	if id := str(u, "id"); id != "" {
		return "id " + id
	}
	return "no id or userName"
}

// filterUnknown is SPEC steps 3 and 5, and Okta's lookup before a create.
func (r *runner) filterUnknown(ctx context.Context) {
	name := "axonflow-doctor-" + r.suffix + "-unknown@example.invalid"
	res := r.do(ctx, http.MethodGet, "/Users"+filterQuery("userName eq "+quoteFilter(name)), nil, reqOpts{})
	const filterFix = `the server must support filter=userName eq "..." (RFC 7644 §3.4.2.2) and return only matching users; Okta looks every assigned user up this way before creating it (server-side fix)`
	if res.err != nil {
		r.gotNoAnswer("users-filter-unknown", res)
		return
	}
	if res.status != 200 {
		d, f := r.statusDiagnosis(res)
		if res.status == 400 || res.status == 501 {
			d, f = res.what()+" answers "+errSummary(res)+": the server rejects Okta's userName filter", filterFix
		}
		r.fail("users-filter-unknown", d, f, res)
		return
	}
	errs, _, resources := listProblems(res)
	if len(errs) > 0 {
		r.fail("users-filter-unknown", "the filter answer is not a list Okta can read: "+strings.Join(errs, "; "),
			"the server must answer filters with a SCIM ListResponse (RFC 7644 §3.4.2)", res)
		return
	}
	if n := intOf(res.doc, "totalResults"); n > 0 || len(resources) > 0 {
		r.fail("users-filter-unknown", fmt.Sprintf(`filter=userName eq %q (a userName that does not exist) returns %d user(s), e.g. %s: the server ignores the filter, so Okta would link newly assigned users to existing accounts instead of creating them`, name, max(n, len(resources)), userLabel(get(resources, 0))),
			filterFix, res)
		return
	}
	r.pass("users-filter-unknown", "a filter for an unknown userName answers 200 with totalResults 0", res)
}

// unknownID is SPEC steps 4 and 12.
func (r *runner) unknownID(ctx context.Context) {
	id := randomUUID()
	res := r.do(ctx, http.MethodGet, "/Users/"+id, nil, reqOpts{expectError: true})
	const fix = "the server must answer a missing resource with 404 and the SCIM error body {\"schemas\":[\"" + schemaError + "\"],\"status\":\"404\",\"detail\":\"...\"} (RFC 7644 §3.12; server-side fix)"
	switch {
	case res.err != nil:
		r.gotNoAnswer("users-unknown-id", res)
	case res.status >= 200 && res.status < 300:
		r.fail("users-unknown-id", fmt.Sprintf("%s (an id that does not exist) answers %d instead of 404: Okta would take deleted or missing users for existing ones", res.what(), res.status), fix, res)
	case res.status != 404:
		d, _ := r.statusDiagnosis(res)
		r.fail("users-unknown-id", d+" (Okta expects 404 for an unknown id)", fix, res)
	default:
		if p := errorProblems(res); len(p) > 0 {
			r.fail("users-unknown-id", res.what()+" answers 404, but its error body is not what Okta reads: "+strings.Join(p, "; "), fix, res)
			return
		}
		r.pass("users-unknown-id", "an unknown id answers 404 with a SCIM error", res)
	}
}

// badToken is SPEC step 11: Authorization: non-token must be 401.
func (r *runner) badToken(ctx context.Context) {
	bad := "non-token"
	res := r.do(ctx, http.MethodGet, "/Users?count=1&startIndex=1", nil, reqOpts{auth: &bad, expectError: true})
	const fix = "the server must answer a bad token with 401 and the SCIM error body with \"status\": \"401\" (RFC 7644 §3.12; server-side fix)"
	switch {
	case res.err != nil:
		r.gotNoAnswer("bad-token", res)
	case res.status >= 200 && res.status < 300:
		r.fail("bad-token", fmt.Sprintf("a request with \"Authorization: non-token\" answers %d: the server does not check tokens, so anyone can read and change the directory", res.status),
			"turn on token authentication on the server before connecting Okta", res)
	case res.status != 401:
		r.fail("bad-token", fmt.Sprintf("a request with \"Authorization: non-token\" answers %s; Okta's SPEC test expects 401", errSummary(res)), fix, res)
	default:
		if p := errorProblems(res); len(p) > 0 {
			r.fail("bad-token", "a bad token gets 401, but its error body is not what Okta reads: "+strings.Join(p, "; "), fix, res)
			return
		}
		r.pass("bad-token", "a bad token gets 401 with a SCIM error", res)
	}
}

// groupsList is SPEC step 10 (GET /Groups, quickly).
func (r *runner) groupsList(ctx context.Context) {
	res := r.do(ctx, http.MethodGet, "/Groups", nil, reqOpts{})
	if res.err != nil {
		r.gotNoAnswer("groups-list", res)
		return
	}
	if res.status != 200 {
		d, f := r.statusDiagnosis(res)
		if res.status == 404 {
			d, f = res.what()+" answers "+errSummary(res)+": the server has no Groups endpoint, so Group Push fails (user sync is not affected)",
				"use a server that supports /Groups, or leave Group Push off in Okta"
		}
		r.fail("groups-list", d, f, res)
		return
	}
	errs, _, _ := listProblems(res)
	if len(errs) > 0 {
		r.fail("groups-list", res.what()+" answers 200, but "+strings.Join(errs, "; ")+": Okta cannot read this list",
			"the server must answer a SCIM ListResponse with integer counts and a Resources array (RFC 7644 §3.4.2; server-side fix)", res)
		return
	}
	if res.dur > groupsBudget {
		r.warn("groups-list", fmt.Sprintf("%s took %d ms; Okta's SCIM SPEC test allows about 600 ms (provisioning itself waits up to 60 s)", res.what(), res.ms()),
			"make GET /Groups faster (for large groups, page it or let clients exclude members)", res)
		return
	}
	r.pass("groups-list", fmt.Sprintf("%s answers a ListResponse with %d group(s) in %d ms", res.what(), intOf(res.doc, "totalResults"), res.ms()), res)
}

// contentType reports responses whose Content-Type Okta rejects.
func (r *runner) contentType() {
	if len(r.badCT) == 0 {
		r.pass("content-type", "every SCIM response is application/scim+json or application/json", nil)
		return
	}
	list := r.badCT
	more := ""
	if len(list) > 4 {
		list, more = list[:4], fmt.Sprintf(" and %d more", len(r.badCT)-4)
	}
	r.fail("content-type", fmt.Sprintf("%d response(s) have a Content-Type Okta rejects: %s%s", len(r.badCT), strings.Join(list, ", "), more),
		"the server must answer with Content-Type: application/scim+json (application/json also works); server-side fix, or a proxy that rewrites it", nil)
}
