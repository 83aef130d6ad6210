package console

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/axonflow/axonflow-sync/internal/admin"
	"github.com/axonflow/axonflow-sync/internal/auththrottle"
	"github.com/axonflow/axonflow-sync/mapping"
	"github.com/axonflow/axonflow-sync/store"
	"github.com/axonflow/axonflow-sync/sync"
)

// tokenOperator is the operator recorded for changes made in a session
// signed in with the admin token.
const tokenOperator = "console:token"

// home is GET /ui/: the overview when signed in, else the sign-in page.
func (c *Console) home(w http.ResponseWriter, r *http.Request) {
	if _, state := c.readSession(r); state != sessionOK {
		c.signInPage(w, r, http.StatusOK, state == sessionExpired || r.URL.Query().Get("expired") != "", "")
		return
	}
	c.get(c.overview)(w, r)
}

// signIn is the sign-in page's data.
type signIn struct {
	Enabled bool
	Expired bool
	Error   string
	Pre     string // the sign-in form's CSRF token
	Next    string
}

func (c *Console) signInPage(w http.ResponseWriter, r *http.Request, status int, expired bool, msg string) {
	pre := randomToken()
	c.setCookie(w, r, preCookie, pre, time.Hour)
	c.render(w, r, nil, status, "signin", view{Title: "Sign in", Data: signIn{Enabled: c.enabled(), Expired: expired,
		Error: msg, Pre: pre, Next: safeNext(r.URL.Query().Get("next"))}})
}

// tokenLogin is POST /ui/login: the form field token compared in constant
// time with the admin token; the form's CSRF token must match the
// pre-session cookie. Only without OIDC.
func (c *Console) tokenLogin(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if c.oidcCfg.Enabled() || c.adminToken == "" {
		c.errorPage(w, r, nil, http.StatusForbidden, "Token sign-in is off",
			"Sign in through your identity provider (console.oidc is configured), or set the admin token.")
		return
	}
	ck, err := r.Cookie(preCookie)
	if err != nil || ck.Value == "" || !equal(r.PostFormValue(csrfField), ck.Value) {
		c.errorPage(w, r, nil, http.StatusForbidden, "Request refused",
			"The sign-in form did not carry its CSRF token (it may come from another site or an old page). Reload the page and try again.")
		return
	}
	if !equal(strings.TrimSpace(r.PostFormValue("token")), c.adminToken) {
		// The token is checked first, so the right token is never refused.
		if wait := c.throttle.Fail(auththrottle.ClientAddr(r), c.now()); wait > 0 {
			secs := auththrottle.RetryAfterSeconds(wait)
			w.Header().Set("Retry-After", strconv.Itoa(secs))
			c.signInPage(w, r, http.StatusTooManyRequests, false, "Too many failed sign-ins from this address; retry in "+strconv.Itoa(secs)+" s.")
			return
		}
		c.signInPage(w, r, http.StatusUnauthorized, false, "That is not the admin token (AXONFLOW_SYNC_ADMIN_TOKEN). SCIM tokens do not sign in here.")
		return
	}
	c.newSession(w, r, &session{Operator: tokenOperator, Approver: true})
	http.Redirect(w, r, safeNext(r.PostFormValue("next")), http.StatusSeeOther)
}

// logout is POST /ui/logout.
func (c *Console) logout(w http.ResponseWriter, r *http.Request, s *session) error {
	c.endSession(r.Context(), s)
	c.setCookie(w, r, sessionCookie, "", 0)
	http.Redirect(w, r, "/ui/", http.StatusSeeOther)
	return nil
}

// tenantHealth is one overview row.
type tenantHealth struct {
	ID            string
	Users, Groups int
	LastPush      time.Time
	LastRun       *sync.Report
	Drift         []kindCount
	Refused       int
	PendingItems  int
	TokenWarnings []string
	Err           string
}

type kindCount struct {
	Kind  sync.Kind
	Count int
}

// overview is GET /ui/ when signed in.
func (c *Console) overview(w http.ResponseWriter, r *http.Request, s *session) error {
	ts, err := c.st.ListTenants(r.Context())
	if err != nil {
		return err
	}
	rows := make([]tenantHealth, 0, len(ts))
	for _, t := range ts {
		h, err := c.health(r.Context(), t.ID)
		if err != nil {
			h.Err = "cannot read: " + err.Error()
		}
		rows = append(rows, h)
	}
	c.render(w, r, s, http.StatusOK, "overview", view{Title: "Overview", Section: "overview", Data: rows})
	return nil
}

// health reads one tenant's overview row.
func (c *Console) health(ctx context.Context, tenant string) (tenantHealth, error) {
	h := tenantHealth{ID: tenant}
	us, err := c.st.ListUsers(ctx, tenant, 0, 1)
	if err != nil {
		return h, err
	}
	gs, err := c.st.ListGroups(ctx, tenant, 0, 1)
	if err != nil {
		return h, err
	}
	h.Users, h.Groups = us.Total, gs.Total
	if lr, err := admin.QueryLog(ctx, c.st, tenant, admin.LogParams{Actor: store.ActorOktaPush, Limit: 1}); err == nil && len(lr.Entries) > 0 {
		h.LastPush = lr.Entries[0].Time
	}
	if rep := c.latestRun(ctx, tenant); rep != nil {
		h.LastRun, h.Drift = rep, driftCounts(rep)
		for _, rf := range rep.Refused {
			h.Refused += rf.Corrections
		}
	}
	h.PendingItems = c.pendingItems(ctx, tenant)
	toks, err := admin.ListTokens(ctx, c.st, tenant, c.now())
	if err != nil {
		return h, err
	}
	h.TokenWarnings = tokenWarnings(toks, c.now())
	return h, nil
}

// tokenWarnings names the active tokens expiring within 14 days or unused
// for 30.
func tokenWarnings(toks []admin.TokenView, now time.Time) []string {
	var out []string
	for _, t := range toks {
		if !t.Active {
			continue
		}
		if !t.ExpiresAt.IsZero() && t.ExpiresAt.Sub(now) < 14*24*time.Hour {
			out = append(out, t.Name+" ("+t.ID+") expires "+t.ExpiresAt.UTC().Format("2006-01-02"))
		}
		last := t.LastUsedAt
		if last.IsZero() {
			last = t.Created
		}
		if now.Sub(last) > 30*24*time.Hour {
			out = append(out, t.Name+" ("+t.ID+") unused for 30 days")
		}
	}
	return out
}

func driftCounts(rep *sync.Report) []kindCount {
	var out []kindCount
	for _, k := range sync.Kinds {
		if n := rep.Summary[k]; n > 0 {
			out = append(out, kindCount{k, n})
		}
	}
	return out
}

// latestRun returns the tenant's newest stored report, or nil.
func (c *Console) latestRun(ctx context.Context, tenant string) *sync.Report {
	if c.rc == nil {
		return nil
	}
	runs, err := c.rc.ListRuns(ctx, tenant, 1)
	if err != nil || len(runs) == 0 {
		return nil
	}
	return runs[0]
}

// tenantData is the tenant page's data.
type tenantData struct {
	Report    *sync.Report
	Query     string
	Groups    []driftGroup
	Runs      []*sync.Report
	CanRun    bool
	Started   string
	Plans     []planSummary
	Reconcile bool // a reconciler is wired
}

type driftGroup struct {
	Kind  sync.Kind
	Items []sync.Drift
}

// tenantPage is GET /ui/tenants/{tenant}[?run=&q=].
func (c *Console) tenantPage(w http.ResponseWriter, r *http.Request, s *session) error {
	tenant := r.PathValue("tenant")
	if _, err := admin.RequireTenant(r.Context(), c.st, tenant); err != nil {
		return err
	}
	d := tenantData{Query: strings.TrimSpace(r.URL.Query().Get("q")), Started: r.URL.Query().Get("started"), Reconcile: c.rc != nil}
	if tc, ok := c.cfg.Tenants[tenant]; ok && tc.Okta != nil && c.rc != nil {
		d.CanRun = true
	}
	if c.rc != nil {
		runs, err := c.rc.ListRuns(r.Context(), tenant, 20)
		if err != nil {
			return err
		}
		d.Runs = runs
		if id := r.URL.Query().Get("run"); id != "" {
			rep, err := c.rc.GetRun(r.Context(), tenant, id)
			if err != nil {
				return err
			}
			d.Report = rep
		} else if len(runs) > 0 {
			d.Report = runs[0]
		}
	}
	if d.Report != nil {
		q := strings.ToLower(d.Query)
		for _, k := range sync.Kinds {
			var items []sync.Drift
			for _, x := range d.Report.Drift {
				if x.Kind == k && (q == "" || strings.Contains(strings.ToLower(x.UserName+" "+x.DisplayName+" "+x.Field+" "+x.Okta+" "+x.AxonFlow+" "+x.OktaID+" "+x.AxonflowID), q)) {
					items = append(items, x)
				}
			}
			if len(items) > 0 {
				d.Groups = append(d.Groups, driftGroup{k, items})
			}
		}
	}
	d.Plans = c.pendingPlans(r.Context(), tenant)
	c.render(w, r, s, http.StatusOK, "tenant", view{Title: "Tenant " + tenant, Tenant: tenant, Section: "tenant", Data: d})
	return nil
}

// runReport is POST /ui/tenants/{tenant}/reconcile: a run in report mode.
func (c *Console) runReport(w http.ResponseWriter, r *http.Request, s *session) error {
	tenant := r.PathValue("tenant")
	tc, ok := c.cfg.Tenants[tenant]
	if !ok || tc.Okta == nil || c.rc == nil {
		return admin.NoOktaConnection(tenant)
	}
	opts, err := admin.ReconcileOptions(tenant, tc, admin.ReconcileRequest{Mode: string(sync.ModeReport), Trigger: sync.TriggerConsole})
	if err != nil {
		return err
	}
	run, err := c.rc.Start(c.runCtx, opts)
	var busy *sync.BusyError
	if errors.As(err, &busy) {
		return &admin.APIError{Status: http.StatusConflict, Code: admin.CodeConflict, Message: busy.Error()}
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/ui/tenants/"+tenant+"?started="+url.QueryEscape(run.ID), http.StatusSeeOther)
	return nil
}

// groupRow is one group on the roles page.
type groupRow struct {
	ID, Name string
	Members  int
	Roles    []string
}

type rolesData struct {
	Mappings []mapping.RoleMapping
	Groups   []groupRow
	More     bool
	Default  string
	Roles    []string
	Preview  *admin.RolePreview
	Saved    string
}

// maxGroupsShown bounds the groups listed on the roles page.
const maxGroupsShown = 200

// rolesPage is GET /ui/tenants/{tenant}/roles.
func (c *Console) rolesPage(w http.ResponseWriter, r *http.Request, s *session) error {
	d, err := c.rolesData(r.Context(), r.PathValue("tenant"))
	if err != nil {
		return err
	}
	d.Saved = r.URL.Query().Get("saved")
	c.render(w, r, s, http.StatusOK, "roles", view{Title: "Groups and roles", Tenant: r.PathValue("tenant"), Section: "roles", Data: d})
	return nil
}

func (c *Console) rolesData(ctx context.Context, tenant string) (rolesData, error) {
	if _, err := admin.RequireTenant(ctx, c.st, tenant); err != nil {
		return rolesData{}, err
	}
	ms, err := admin.ListRoleMappings(ctx, c.st, tenant)
	if err != nil {
		return rolesData{}, err
	}
	def, err := admin.ResolveDefaultRole(ctx, c.st, tenant)
	if err != nil {
		return rolesData{}, err
	}
	if def == "" {
		def = "none"
	}
	page, err := c.st.ListGroups(ctx, tenant, 0, maxGroupsShown)
	if err != nil {
		return rolesData{}, err
	}
	d := rolesData{Mappings: ms, Default: def, More: page.Total > len(page.Items), Roles: mapping.SystemRoles()}
	for _, g := range page.Items {
		mem, err := c.st.GroupMembers(ctx, tenant, g.ID)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return rolesData{}, err
		}
		row := groupRow{ID: g.ID, Name: g.DisplayName(), Members: len(mem)}
		for _, m := range ms {
			if (m.ByName && strings.EqualFold(m.Group, row.Name)) || (!m.ByName && m.Group == g.ID) {
				row.Roles = append(row.Roles, m.Role)
			}
		}
		d.Groups = append(d.Groups, row)
	}
	return d, nil
}

// formMapping reads group, byName and role from the query or form.
func formMapping(v url.Values) mapping.RoleMapping {
	return mapping.RoleMapping{Group: strings.TrimSpace(v.Get("group")), ByName: v.Get("byName") != "false", Role: v.Get("role")}
}

// rolePreview is GET /ui/tenants/{tenant}/roles/preview?group=&byName=&role=[&remove=1]:
// who gains and loses which role, with the button that saves it.
func (c *Console) rolePreview(w http.ResponseWriter, r *http.Request, s *session) error {
	tenant := r.PathValue("tenant")
	d, err := c.rolesData(r.Context(), tenant)
	if err != nil {
		return err
	}
	p, err := admin.PreviewRoleMapping(r.Context(), c.st, tenant, formMapping(r.URL.Query()), r.URL.Query().Get("remove") == "1")
	if err != nil {
		return err
	}
	d.Preview = &p
	c.render(w, r, s, http.StatusOK, "roles", view{Title: "Preview: groups and roles", Tenant: tenant, Section: "roles", Data: d})
	return nil
}

// mapRole is POST /ui/tenants/{tenant}/roles/map.
func (c *Console) mapRole(w http.ResponseWriter, r *http.Request, s *session) error {
	tenant := r.PathValue("tenant")
	res, err := admin.MapRole(r.Context(), c.st, tenant, formMapping(r.PostForm), c.now())
	if err != nil {
		return err
	}
	msg := res.Mapping.Group + " → " + res.Mapping.Role + ": " + itoa(res.UsersUpdated) + " users' roles changed"
	http.Redirect(w, r, "/ui/tenants/"+tenant+"/roles?saved="+url.QueryEscape(msg), http.StatusSeeOther)
	return nil
}

// unmapRole is POST /ui/tenants/{tenant}/roles/unmap.
func (c *Console) unmapRole(w http.ResponseWriter, r *http.Request, s *session) error {
	tenant := r.PathValue("tenant")
	m := formMapping(r.PostForm)
	res, err := admin.UnmapRole(r.Context(), c.st, tenant, m.Group, m.ByName)
	if err != nil {
		return err
	}
	msg := m.Group + " unmapped: " + itoa(res.UsersUpdated) + " users' roles changed"
	http.Redirect(w, r, "/ui/tenants/"+tenant+"/roles?saved="+url.QueryEscape(msg), http.StatusSeeOther)
	return nil
}

// userSearch is GET /ui/tenants/{tenant}/users?q=: the user page of a user
// id or userName, or why there is no such user (the provisioning log's
// explanation).
func (c *Console) userSearch(w http.ResponseWriter, r *http.Request, s *session) error {
	tenant, q := r.PathValue("tenant"), strings.TrimSpace(r.URL.Query().Get("q"))
	if q == "" {
		c.render(w, r, s, http.StatusOK, "usersearch", view{Title: "Find a user", Tenant: tenant, Section: "users", Data: userData{}})
		return nil
	}
	id, err := admin.FindUser(r.Context(), c.st, tenant, q)
	if err == nil {
		http.Redirect(w, r, "/ui/tenants/"+tenant+"/users/"+url.PathEscape(id), http.StatusSeeOther)
		return nil
	}
	if mapping.ErrorCode(err) != mapping.CodeNotFound {
		return err
	}
	lr, err := admin.QueryLog(r.Context(), c.st, tenant, admin.LogParams{User: q, Limit: 50})
	if err != nil {
		return err
	}
	c.render(w, r, s, http.StatusOK, "usersearch", view{Title: "Find a user", Tenant: tenant, Section: "users",
		Data: userData{Query: q, Log: lr.Entries, Explanation: lr.Explanation, Drift: c.userDrift(r.Context(), tenant, q),
			Reconcile: c.explainUser(r.Context(), tenant, q)}})
	return nil
}

// userData is the user page's data.
type userData struct {
	Query       string
	User        *mapping.User
	Groups      []mapping.Ref
	Roles       admin.UserRolesView
	Log         []store.LogEntry
	Explanation *admin.Explanation
	Drift       []sync.Drift
	Reconcile   *reconcileExplanation
}

// userPage is GET /ui/tenants/{tenant}/users/{id}.
func (c *Console) userPage(w http.ResponseWriter, r *http.Request, s *session) error {
	tenant := r.PathValue("tenant")
	id, err := admin.FindUser(r.Context(), c.st, tenant, r.PathValue("id"))
	if err != nil {
		return err
	}
	u, err := c.st.GetUser(r.Context(), tenant, id)
	if err != nil {
		return err
	}
	d := userData{User: u}
	if d.Roles, err = admin.ShowUserRoles(r.Context(), c.st, tenant, id); err != nil {
		return err
	}
	ug, err := c.st.UserGroups(r.Context(), tenant, []string{id})
	if err != nil {
		return err
	}
	if gids := ug[id]; len(gids) > 0 {
		gs, err := c.st.GetGroups(r.Context(), tenant, gids)
		if err != nil {
			return err
		}
		for _, g := range gs {
			d.Groups = append(d.Groups, mapping.Ref{ID: g.ID, Display: g.DisplayName()})
		}
		slices.SortFunc(d.Groups, func(a, b mapping.Ref) int { return strings.Compare(a.Display, b.Display) })
	}
	lr, err := admin.QueryLog(r.Context(), c.st, tenant, admin.LogParams{User: u.UserName(), Limit: 100})
	if err != nil {
		return err
	}
	d.Log, d.Explanation = lr.Entries, lr.Explanation
	d.Drift = c.userDrift(r.Context(), tenant, u.UserName())
	d.Reconcile = c.explainUser(r.Context(), tenant, u.UserName())
	c.render(w, r, s, http.StatusOK, "user", view{Title: u.UserName(), Tenant: tenant, Section: "users", Data: d})
	return nil
}

// userDrift returns the latest report's drift entries of userName.
func (c *Console) userDrift(ctx context.Context, tenant, userName string) []sync.Drift {
	rep := c.latestRun(ctx, tenant)
	if rep == nil {
		return nil
	}
	var out []sync.Drift
	for _, d := range rep.Drift {
		if strings.EqualFold(d.UserName, userName) {
			out = append(out, d)
		}
	}
	return out
}

// logData is the provisioning log page's data.
type logData struct {
	User, Group, Outcome, Actor, Since string
	Actors                             []string
	Result                             admin.LogResult
}

// logPage is GET /ui/tenants/{tenant}/log?user=&group=&outcome=&actor=&since=.
func (c *Console) logPage(w http.ResponseWriter, r *http.Request, s *session) error {
	tenant, q := r.PathValue("tenant"), r.URL.Query()
	d := logData{User: strings.TrimSpace(q.Get("user")), Group: strings.TrimSpace(q.Get("group")), Outcome: q.Get("outcome"), Actor: q.Get("actor"), Since: strings.TrimSpace(q.Get("since")),
		Actors: []string{store.ActorOktaPush, store.ActorReconciler, store.ActorOperator}}
	since, err := admin.ParseSince(d.Since, c.now())
	if err != nil {
		return err
	}
	if _, err := admin.RequireTenant(r.Context(), c.st, tenant); err != nil {
		return err
	}
	d.Result, err = admin.QueryLog(r.Context(), c.st, tenant, admin.LogParams{User: d.User, Group: d.Group, Outcome: d.Outcome, Actor: d.Actor, Since: since, Limit: 200})
	if err != nil {
		return err
	}
	c.render(w, r, s, http.StatusOK, "log", view{Title: "Provisioning log", Tenant: tenant, Section: "log", Data: d})
	return nil
}

// tokensData is the tokens page's data.
type tokensData struct {
	Tokens []admin.TokenView
	// New is a token just created or rotated to, with its secret (shown
	// this once); Old the rotated token.
	New, Old *admin.TokenView
	Revoked  string
}

// tokensPage is GET /ui/tenants/{tenant}/tokens.
func (c *Console) tokensPage(w http.ResponseWriter, r *http.Request, s *session) error {
	return c.renderTokens(w, r, s, tokensData{Revoked: r.URL.Query().Get("revoked")})
}

func (c *Console) renderTokens(w http.ResponseWriter, r *http.Request, s *session, d tokensData) error {
	tenant := r.PathValue("tenant")
	toks, err := admin.ListTokens(r.Context(), c.st, tenant, c.now())
	if err != nil {
		return err
	}
	d.Tokens = toks
	c.render(w, r, s, http.StatusOK, "tokens", view{Title: "SCIM tokens", Tenant: tenant, Section: "tokens", Data: d})
	return nil
}

// formDuration reads a duration field ("" is 0).
func formDuration(r *http.Request, field string) (time.Duration, error) {
	v := strings.TrimSpace(r.PostFormValue(field))
	if v == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		return 0, admin.Invalid(field + " must be a duration such as 24h or 720h, got " + `"` + printable(v) + `"`)
	}
	return d, nil
}

// createToken is POST /ui/tenants/{tenant}/tokens (name, expiresIn): the
// answer shows the secret once (never stored, never redirected to).
func (c *Console) createToken(w http.ResponseWriter, r *http.Request, s *session) error {
	ttl, err := formDuration(r, "expiresIn")
	if err != nil {
		return err
	}
	if _, err := admin.RequireTenant(r.Context(), c.st, r.PathValue("tenant")); err != nil {
		return err
	}
	nt, err := admin.CreateToken(r.Context(), c.st, r.PathValue("tenant"), strings.TrimSpace(r.PostFormValue("name")), ttl, c.now())
	if err != nil {
		return err
	}
	return c.renderTokens(w, r, s, tokensData{New: &nt})
}

// rotateToken is POST /ui/tenants/{tenant}/tokens/{id}/rotate (grace).
func (c *Console) rotateToken(w http.ResponseWriter, r *http.Request, s *session) error {
	grace, err := formDuration(r, "grace")
	if err != nil {
		return err
	}
	nt, old, err := admin.RotateToken(r.Context(), c.st, r.PathValue("tenant"), r.PathValue("id"), "", grace, c.now())
	if err != nil {
		return err
	}
	return c.renderTokens(w, r, s, tokensData{New: &nt, Old: &old})
}

// revokeToken is POST /ui/tenants/{tenant}/tokens/{id}/revoke.
func (c *Console) revokeToken(w http.ResponseWriter, r *http.Request, s *session) error {
	tenant, id := r.PathValue("tenant"), r.PathValue("id")
	if _, err := admin.RevokeToken(r.Context(), c.st, tenant, id, c.now()); err != nil {
		return err
	}
	http.Redirect(w, r, "/ui/tenants/"+tenant+"/tokens?revoked="+url.QueryEscape(id), http.StatusSeeOther)
	return nil
}

func itoa(n int) string { return strconv.Itoa(n) }
