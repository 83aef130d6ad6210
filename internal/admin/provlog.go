package admin

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/axonflow/axonflow-sync/mapping"
	"github.com/axonflow/axonflow-sync/store"
)

// The provisioning log (store.ProvisioningLog) as the operator reads it:
// QueryLog, shared by `axonflow-sync log` and GET
// /admin/v1/tenants/{tenant}/log, and the recording of operator actions
// (role mappings and assignments, the default role, SCIM tokens) by the
// service functions of this package.

// MaxLogLimit is the most entries one log query returns.
const MaxLogLimit = 10_000

// LogParams is one provisioning log query: at most one of User (a
// userName) and Group (a displayName), compared ignoring case; Since (zero:
// the whole retention); Outcome store.OutcomeAccepted, store.OutcomeRejected
// or ""; Actor (store.ActorOktaPush, ...) or ""; Limit (0: 100, at most
// MaxLogLimit).
type LogParams struct {
	User    string
	Group   string
	Since   time.Time
	Outcome string
	Actor   string
	Limit   int
}

// LogResult is the answer to a log query: the matching entries, newest
// first, and for a User or Group query an Explanation of what happened to
// that name.
type LogResult struct {
	Tenant      string           `json:"tenant"`
	Entries     []store.LogEntry `json:"entries"`
	Explanation *Explanation     `json:"explanation,omitempty"`
}

// Verdicts of an Explanation.
const (
	// VerdictPresent: the name has entries in the tenant and the newest was
	// accepted.
	VerdictPresent = "present"
	// VerdictAbsent: the name's newest entry in the tenant was accepted, but
	// nothing of that name exists there now (it was deleted, or the entry
	// was an operator's decision, such as a rejected reconcile correction,
	// that created nothing).
	VerdictAbsent = "absent"
	// VerdictRejected: the newest entry of the name in the tenant is a
	// rejected request; Latest says why.
	VerdictRejected = "rejected"
	// VerdictOtherTenant: no entry in the tenant, but the name was pushed
	// to (or exists in) another tenant; Elsewhere says where.
	VerdictOtherTenant = "other_tenant"
	// VerdictNoLog: the name exists in the tenant but has no entry within
	// the log's retention.
	VerdictNoLog = "exists_without_log"
	// VerdictNeverPushed: the name is in no tenant's log or store.
	VerdictNeverPushed = "never_pushed"
)

// Explanation says what happened to one userName or displayName, whatever
// the other filters of the query: the newest entry of that name in the
// tenant, or where else it went. It answers "users are assigned but do not
// appear".
type Explanation struct {
	Verdict string `json:"verdict"`
	Message string `json:"message"`
	// Latest is the newest entry of the name in the tenant.
	Latest *store.LogEntry `json:"latest,omitempty"`
	// Exists says whether the name exists in the tenant's store now;
	// Active is false for a deactivated user.
	Exists bool  `json:"exists"`
	Active *bool `json:"active,omitempty"`
	// Elsewhere lists the other tenants where the name was pushed or exists.
	Elsewhere []Sighting `json:"elsewhere,omitempty"`
	// AuthFailure is the newest 401 in the tenant's log (Okta's requests
	// rejected before any name was read), when the name was never pushed.
	AuthFailure *store.LogEntry `json:"authFailure,omitempty"`
}

// Sighting is a name found in another tenant: its newest log entry there
// (Time, Actor, ActorID: the token id for Okta pushes, Operation, Status)
// and whether it exists in that tenant's store (with its id).
type Sighting struct {
	Tenant     string    `json:"tenant"`
	Time       time.Time `json:"time,omitzero"`
	Actor      string    `json:"actor,omitempty"`
	ActorID    string    `json:"actorId,omitempty"`
	Operation  string    `json:"operation,omitempty"`
	Status     int       `json:"status,omitempty"`
	Exists     bool      `json:"exists"`
	ResourceID string    `json:"resourceId,omitempty"`
}

// ParseSince reads a --since / ?since= value: a Go duration back from now
// ("1h", "30m", "720h") or an RFC 3339 time; "" is the zero time.
func ParseSince(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if d, err := time.ParseDuration(s); err == nil && d >= 0 {
		return now.Add(-d), nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	return time.Time{}, Invalid("since " + quote(s) + " must be a duration back from now (e.g. 1h, 30m, 168h) or an RFC 3339 time")
}

// QueryLog returns the tenant's provisioning log entries matching p,
// newest first, and for a User or Group query an Explanation. Errors:
// *APIError invalid_request (tenant id, both user and group, outcome,
// limit), not_found (no such tenant); the store's.
func QueryLog(ctx context.Context, st store.State, tenant string, p LogParams) (LogResult, error) {
	if err := CheckTenantID(tenant); err != nil {
		return LogResult{}, err
	}
	q := store.LogQuery{Since: p.Since, Outcome: p.Outcome, Actor: p.Actor, Limit: p.Limit}
	switch {
	case p.User != "" && p.Group != "":
		return LogResult{}, Invalid("give user or group, not both")
	case p.User != "":
		q.Name, q.ResourceType = p.User, "User"
	case p.Group != "":
		q.Name, q.ResourceType = p.Group, "Group"
	}
	switch p.Outcome {
	case "", store.OutcomeAccepted, store.OutcomeRejected:
	default:
		return LogResult{}, Invalid("outcome " + quote(p.Outcome) + " must be accepted or rejected")
	}
	switch p.Actor {
	case "", store.ActorOktaPush, store.ActorReconciler, store.ActorOperator:
	default:
		return LogResult{}, Invalid("actor " + quote(p.Actor) + " must be okta-push, reconciler or operator")
	}
	if p.Limit < 0 || p.Limit > MaxLogLimit {
		return LogResult{}, Invalid(fmt.Sprintf("limit must be between 1 and %d", MaxLogLimit))
	}
	tenants, err := RequireTenant(ctx, st, tenant)
	if err != nil {
		return LogResult{}, err
	}
	entries, err := st.QueryLog(ctx, tenant, q)
	if err != nil {
		return LogResult{}, err
	}
	res := LogResult{Tenant: tenant, Entries: entries}
	if q.Name != "" {
		ex, err := explain(ctx, st, tenant, tenants, q.ResourceType, q.Name)
		if err != nil {
			return LogResult{}, err
		}
		res.Explanation = ex
	}
	return res, nil
}

// lookup finds name (a userName or displayName) in tenant's store: its id
// and, for users, whether it is active.
func lookup(ctx context.Context, st store.State, tenant, rt, name string) (id string, active *bool, err error) {
	if rt == "User" {
		id, err = st.FindUser(ctx, tenant, store.IndexUserName, name)
		if err == nil {
			var u *mapping.User
			if u, err = st.GetUser(ctx, tenant, id); err == nil {
				a := u.Active()
				active = &a
			}
		}
	} else {
		id, err = st.FindGroup(ctx, tenant, store.IndexDisplayName, name)
	}
	if errors.Is(err, store.ErrNotFound) {
		return "", nil, nil
	}
	return id, active, err
}

// explain builds the Explanation of name in tenant.
func explain(ctx context.Context, st store.State, tenant string, tenants []store.Tenant, rt, name string) (*Explanation, error) {
	kind := "user"
	if rt == "Group" {
		kind = "group"
	}
	ex := &Explanation{}
	id, active, err := lookup(ctx, st, tenant, rt, name)
	if err != nil {
		return nil, err
	}
	ex.Exists, ex.Active = id != "", active
	latest, err := st.QueryLog(ctx, tenant, store.LogQuery{Name: name, ResourceType: rt, Limit: 1})
	if err != nil {
		return nil, err
	}
	state := fmt.Sprintf("it does not exist in %s now", tenant)
	if ex.Exists {
		state = fmt.Sprintf("it exists in %s (id %s)", tenant, id)
		if active != nil && !*active {
			state += ", deactivated"
		}
	}
	if len(latest) > 0 {
		e := latest[0]
		ex.Latest = &e
		if e.Rejected() {
			ex.Verdict = VerdictRejected
			ex.Message = fmt.Sprintf("the latest %s of %s %s to %s was rejected at %s (%s): %s; %s",
				e.Operation, kind, quote(name), tenant, stamp(e.Time), by(e), Why(e), state)
		} else {
			ex.Verdict = VerdictPresent
			if !ex.Exists {
				ex.Verdict = VerdictAbsent
			}
			ex.Message = fmt.Sprintf("%s %s: latest %s in %s at %s (%s) accepted (%d); %s",
				kind, quote(name), e.Operation, tenant, stamp(e.Time), by(e), e.Status, state)
		}
		return ex, nil
	}

	for _, t := range tenants {
		if t.ID == tenant {
			continue
		}
		es, err := st.QueryLog(ctx, t.ID, store.LogQuery{Name: name, ResourceType: rt, Limit: 1})
		if err != nil {
			return nil, err
		}
		oid, _, err := lookup(ctx, st, t.ID, rt, name)
		if err != nil {
			return nil, err
		}
		if len(es) == 0 && oid == "" {
			continue
		}
		s := Sighting{Tenant: t.ID, Exists: oid != "", ResourceID: oid}
		if len(es) > 0 {
			e := es[0]
			s.Time, s.Actor, s.ActorID, s.Operation, s.Status = e.Time, e.Actor, e.ActorID, e.Operation, e.Status
			if s.ResourceID == "" {
				s.ResourceID = e.ResourceID
			}
		}
		ex.Elsewhere = append(ex.Elsewhere, s)
	}
	switch {
	case ex.Exists:
		ex.Verdict = VerdictNoLog
		ex.Message = fmt.Sprintf("%s %s exists in %s (id %s) but has no provisioning log entry within the retention", kind, quote(name), tenant, id)
		if active != nil && !*active {
			ex.Message += "; it is deactivated"
		}
	case len(ex.Elsewhere) > 0:
		ex.Verdict = VerdictOtherTenant
		where := make([]string, len(ex.Elsewhere))
		for i, s := range ex.Elsewhere {
			if s.Operation != "" {
				where[i] = fmt.Sprintf("pushed to tenant %s at %s (%s %s, %d)", s.Tenant, stamp(s.Time),
					by(store.LogEntry{Actor: s.Actor, ActorID: s.ActorID}), s.Operation, s.Status)
			} else {
				where[i] = fmt.Sprintf("exists in tenant %s (id %s)", s.Tenant, s.ResourceID)
			}
		}
		ex.Message = fmt.Sprintf("%s %s was never pushed to %s; %s. If Okta should provision %s, its app uses a token of the other tenant: create one for %s and revoke the misplaced one",
			kind, quote(name), tenant, strings.Join(where, "; "), tenant, tenant)
	default:
		ex.Verdict = VerdictNeverPushed
		ex.Message = fmt.Sprintf("%s %s was never pushed to any tenant: check the Okta assignment (the %s assigned to the app) and that provisioning is enabled (To App: Create Users%s)",
			kind, quote(name), kind, map[bool]string{true: "; Push Groups for groups", false: ""}[rt == "Group"])
	}
	if ex.Verdict == VerdictNeverPushed || ex.Verdict == VerdictOtherTenant {
		rej, err := st.QueryLog(ctx, tenant, store.LogQuery{Outcome: store.OutcomeRejected, Limit: 200})
		if err != nil {
			return nil, err
		}
		for _, e := range rej {
			if e.Status == http.StatusUnauthorized {
				ex.AuthFailure = &e
				ex.Message += fmt.Sprintf("; note: Okta's requests to %s were rejected with 401 at %s (%s): %s",
					tenant, stamp(e.Time), by(e), e.Detail)
				break
			}
		}
	}
	return ex, nil
}

// Why is a rejected entry's reason: "409 uniqueness: detail".
func Why(e store.LogEntry) string {
	s := strconv.Itoa(e.Status)
	if e.ScimType != "" {
		s += " " + e.ScimType
	}
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	return s
}

// by names an entry's actor: "token tok_...", "reconcile run ...",
// "operator cli:ada".
func by(e store.LogEntry) string {
	switch e.Actor {
	case store.ActorOktaPush:
		if e.ActorID == "" {
			return "okta-push"
		}
		return "token " + e.ActorID
	case store.ActorReconciler:
		return "reconcile run " + e.ActorID
	case store.ActorOperator:
		return "operator " + e.ActorID
	}
	return e.Actor
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// SummarizeChanges renders an entry's changes on one line for tables:
// `active: true → false; name.givenName: "Ada" → "Adah"; members +2 -1`,
// cut after max runes (0: no limit).
func SummarizeChanges(cs []mapping.AttrChange, max int) string {
	parts := make([]string, 0, len(cs))
	for _, c := range cs {
		if c.Attr == "members" && c.Before == nil && c.After == nil {
			p := "members"
			if c.AddedCount > 0 {
				p += " +" + strconv.Itoa(c.AddedCount)
			}
			if c.RemovedCount > 0 {
				p += " -" + strconv.Itoa(c.RemovedCount)
			}
			parts = append(parts, p)
			continue
		}
		parts = append(parts, c.Attr+": "+showValue(c.Before)+" → "+showValue(c.After))
	}
	s := strings.Join(parts, "; ")
	if r := []rune(s); max > 0 && len(r) > max {
		s = string(r[:max-1]) + "…"
	}
	return s
}

// showValue renders one changed value compactly ("-" for absent).
func showValue(v any) string {
	switch x := v.(type) {
	case nil:
		return "-"
	case string:
		return strconv.Quote(x)
	case []any:
		if len(x) == 1 {
			if m, ok := x[0].(map[string]any); ok {
				if s, ok := m["value"].(string); ok {
					return "[" + strconv.Quote(s) + "]"
				}
			}
		}
		return fmt.Sprintf("[%d values]", len(x))
	case map[string]any:
		return fmt.Sprintf("{%d attributes}", len(x))
	}
	return fmt.Sprint(v)
}

// Operators: who did an operator action. The CLI and the admin API put the
// operator in the context of the service functions, which record what
// they change in the tenant's provisioning log (actor operator).

// WithOperator returns ctx naming the operator of the service functions
// called with it (recorded as the ActorID of their log entries): the CLI
// uses "cli:<os user>", the admin API "admin-api" (the principal its
// token authenticates), serve's configured roles "config". It is the
// store.Writer of the context (actor operator), attached once per edge.
func WithOperator(ctx context.Context, name string) context.Context {
	return store.WithWriter(ctx, store.Writer{Actor: store.ActorOperator, ID: name})
}

// withOperatorClaim is WithOperator with a self-asserted claim (the
// X-AxonFlow-Operator header) recorded beside the operator as
// LogEntry.OperatorClaim.
func withOperatorClaim(ctx context.Context, name, claim string) context.Context {
	return store.WithWriter(ctx, store.Writer{Actor: store.ActorOperator, ID: name, Claim: claim})
}

// OperatorOf returns the operator WithOperator put in ctx ("unknown" when
// none).
func OperatorOf(ctx context.Context) string {
	if w, ok := store.WriterOf(ctx); ok && w.Actor == store.ActorOperator && w.ID != "" {
		return w.ID
	}
	return "unknown"
}

// OperatorHeader is the optional admin API request header naming the
// person or system behind a request. Anyone with the admin token can say
// anything in it, so it is recorded as the entry's operatorClaim, beside
// the authenticated principal "admin-api", never as the principal.
const OperatorHeader = "X-AxonFlow-Operator"

// apiOperator is the principal of an authenticated admin API request.
const apiOperator = "admin-api"

// operatorClaim is the X-AxonFlow-Operator claim of an admin API request:
// printable characters only, at most 64 ("" when absent).
func operatorClaim(r *http.Request) string {
	name := strings.TrimSpace(r.Header.Get(OperatorHeader))
	if name == "" {
		return ""
	}
	name = strings.Map(func(c rune) rune {
		if unicode.IsPrint(c) {
			return c
		}
		return -1
	}, name)
	if r := []rune(name); len(r) > 64 {
		name = string(r[:64])
	}
	return name
}

// recordOperator records an operator action in tenant's log through the
// one provisioning log writer (store.Record: the Recorder st was wired
// with in cmd, which counts and logs a failed write). It never fails the
// action: the change is made.
func recordOperator(ctx context.Context, st store.State, tenant string, e store.LogEntry) {
	e.Time, e.Actor, e.ActorID = time.Now(), store.ActorOperator, OperatorOf(ctx)
	if w, ok := store.WriterOf(ctx); ok {
		e.OperatorClaim = w.Claim
	}
	if e.Status == 0 {
		e.Status = http.StatusOK
	}
	store.Record(ctx, st, tenant, e)
}

// logRoutes registers GET /admin/v1/tenants/{tenant}/log.
func (a *API) logRoutes() {
	a.Handle("GET /admin/v1/tenants/{tenant}/log", a.getLog)
}

// getLog is GET /admin/v1/tenants/{tenant}/log?user=&group=&since=&outcome=&actor=&limit=.
func (a *API) getLog(r *http.Request) (int, any, error) {
	q := r.URL.Query()
	since, err := ParseSince(q.Get("since"), a.now())
	if err != nil {
		return 0, nil, err
	}
	p := LogParams{User: q.Get("user"), Group: q.Get("group"), Since: since, Outcome: q.Get("outcome"), Actor: q.Get("actor")}
	if v := q.Get("limit"); v != "" {
		if p.Limit, err = strconv.Atoi(v); err != nil || p.Limit < 1 {
			return 0, nil, Invalid(fmt.Sprintf("limit must be between 1 and %d", MaxLogLimit))
		}
	}
	res, err := QueryLog(r.Context(), a.st, r.PathValue("tenant"), p)
	if err != nil {
		return 0, nil, err
	}
	return 200, res, nil
}

// RequireTenant returns every tenant when tenant is one of them, and
// otherwise a not_found error that lists the tenants there are.
func RequireTenant(ctx context.Context, st store.State, tenant string) ([]store.Tenant, error) {
	tenants, err := st.ListTenants(ctx)
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(tenants))
	for i, t := range tenants {
		if t.ID == tenant {
			return tenants, nil
		}
		ids[i] = t.ID
	}
	list := "there are none yet"
	if len(ids) > 0 {
		list = "tenants: " + strings.Join(ids, ", ")
	}
	return nil, notFound(fmt.Sprintf("tenant %s does not exist (%s)", tenant, list))
}
