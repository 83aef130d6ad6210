package console

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/axonflow/axonflow-sync/internal/admin"
)

// Plans is what the plan review pages and the user page's explanation need
// from the reconciler's held plans (issue 13): the functions the admin API
// and the CLI call (admin.ListPlans, GetPlan, DecidePlan, Explain), in the
// shapes of their JSON answers. Options.Plans nil hides plans and the
// reconciler's explanation.
type Plans interface {
	// ListPlans returns the tenant's plans, newest first.
	ListPlans(ctx context.Context, tenant string) ([]PlanView, error)
	// GetPlan returns one plan with its items (store.ErrNotFound or a
	// not_found *admin.APIError if there is none).
	GetPlan(ctx context.Context, tenant, id string) (PlanView, error)
	// DecidePlan approves (approve true) or rejects the plan's items ids
	// (nil: every pending item) as the context's operator, and returns the
	// plan afterwards.
	DecidePlan(ctx context.Context, tenant, id string, approve bool, items []string) (PlanView, error)
	// Explain returns the reconciler's explanation of the user (a
	// userName): each step of its decision, in order.
	Explain(ctx context.Context, tenant, userName string) ([]string, error)
}

// PlanView is a held plan as GET /admin/v1/tenants/{t}/reconcile/plans/{id}
// answers it.
type PlanView struct {
	ID        string    `json:"id"`
	Status    string    `json:"status"`
	RunID     string    `json:"runId"`
	CreatedAt time.Time `json:"createdAt"`
	ExpiresAt time.Time `json:"expiresAt"`
	Pending   int       `json:"pending"`
	// Scheduled counts the deactivations waiting for their grace.
	Scheduled int `json:"scheduled"`
	// Reason says why the run held the corrections.
	Reason string         `json:"reason"`
	Items  []PlanItemView `json:"items"`
}

// PlanItemView is one item of a plan: a correction waiting for (or after)
// a decision. Status is pending, approved, rejected, applied, stale,
// scheduled, cancelled or failed; Reason says why it is held (or stale).
type PlanItemView struct {
	ID          string    `json:"id"`
	Action      string    `json:"action"`
	Kind        string    `json:"kind"`
	UserName    string    `json:"userName,omitempty"`
	DisplayName string    `json:"displayName,omitempty"`
	OktaID      string    `json:"oktaId,omitempty"`
	AxonflowID  string    `json:"axonflowId,omitempty"`
	Reason      string    `json:"reason,omitempty"`
	Status      string    `json:"status"`
	DecidedBy   string    `json:"decidedBy,omitempty"`
	DecidedAt   time.Time `json:"decidedAt,omitzero"`
	ApplyAfter  time.Time `json:"applyAfter,omitzero"`
	// Detail says why an item is stale or failed.
	Detail string `json:"detail,omitempty"`
}

// PendingItems counts the plan's pending items.
func (p PlanView) PendingItems() int {
	n := 0
	for _, it := range p.Items {
		if it.Status == "pending" {
			n++
		}
	}
	return n
}

// planSummary is one plan with pending items on the tenant page.
type planSummary struct {
	ID        string
	Pending   int
	Scheduled int
	ExpiresAt time.Time
}

// reconcileExplanation is the reconciler's explanation of a user.
type reconcileExplanation struct {
	Lines []string
}

func (c *Console) planRoutes() {
	c.mux.HandleFunc("GET /ui/tenants/{tenant}/plans/{id}", c.get(c.planPage))
	c.mux.HandleFunc("POST /ui/tenants/{tenant}/plans/{id}/approve", c.post(true, c.decide(true)))
	c.mux.HandleFunc("POST /ui/tenants/{tenant}/plans/{id}/reject", c.post(true, c.decide(false)))
}

// pendingPlans lists the tenant's plans with pending items (none without
// Plans or when they cannot be read: the page still shows the rest).
func (c *Console) pendingPlans(ctx context.Context, tenant string) []planSummary {
	if c.plans == nil {
		return nil
	}
	ps, err := c.plans.ListPlans(ctx, tenant)
	if err != nil {
		c.log.Warn().Err(err).Str("tenant", tenant).Msg("console: cannot list plans")
		return nil
	}
	var out []planSummary
	for _, p := range ps {
		n := p.Pending
		if n == 0 && len(p.Items) > 0 {
			n = p.PendingItems()
		}
		if n > 0 || p.Scheduled > 0 {
			out = append(out, planSummary{ID: p.ID, Pending: n, Scheduled: p.Scheduled, ExpiresAt: p.ExpiresAt})
		}
	}
	return out
}

// pendingItems counts the tenant's pending plan items.
func (c *Console) pendingItems(ctx context.Context, tenant string) int {
	n := 0
	for _, p := range c.pendingPlans(ctx, tenant) {
		n += p.Pending
	}
	return n
}

// explainUser is the reconciler's explanation of a user, or nil.
func (c *Console) explainUser(ctx context.Context, tenant, userName string) *reconcileExplanation {
	if c.plans == nil {
		return nil
	}
	lines, err := c.plans.Explain(ctx, tenant, userName)
	if err != nil {
		return &reconcileExplanation{Lines: []string{"The reconciler cannot explain this user now: " + printable(err.Error())}}
	}
	if len(lines) == 0 {
		return nil
	}
	return &reconcileExplanation{Lines: lines}
}

// planKind is the items of one kind on the plan page.
type planKind struct {
	Kind    string
	Items   []PlanItemView
	Pending int
}

type planData struct {
	Plan    PlanView
	Kinds   []planKind
	Pending int
	Done    string
}

// planPage is GET /ui/tenants/{tenant}/plans/{id}.
func (c *Console) planPage(w http.ResponseWriter, r *http.Request, s *session) error {
	if c.plans == nil {
		return &admin.APIError{Status: http.StatusNotFound, Code: admin.CodeNotFound, Message: "held plans are not available in this process"}
	}
	tenant, id := r.PathValue("tenant"), r.PathValue("id")
	p, err := c.plans.GetPlan(r.Context(), tenant, id)
	if err != nil {
		return err
	}
	d := planData{Plan: p, Done: r.URL.Query().Get("done")}
	for _, it := range p.Items {
		i := slices.IndexFunc(d.Kinds, func(k planKind) bool { return k.Kind == it.Kind })
		if i < 0 {
			d.Kinds = append(d.Kinds, planKind{Kind: it.Kind})
			i = len(d.Kinds) - 1
		}
		d.Kinds[i].Items = append(d.Kinds[i].Items, it)
		if it.Status == "pending" {
			d.Kinds[i].Pending++
			d.Pending++
		}
	}
	c.render(w, r, s, http.StatusOK, "plan", view{Title: "Plan " + p.ID, Tenant: tenant, Section: "tenant", Data: d})
	return nil
}

// decide is POST /ui/tenants/{tenant}/plans/{id}/approve and .../reject.
// The form names what to decide: item (one item's button), kind (every
// pending item of a kind), all=1 (every pending item), or the checked
// boxes selected.
func (c *Console) decide(approve bool) pageFunc {
	return func(w http.ResponseWriter, r *http.Request, s *session) error {
		if c.plans == nil {
			return &admin.APIError{Status: http.StatusNotFound, Code: admin.CodeNotFound, Message: "held plans are not available in this process"}
		}
		tenant, id := r.PathValue("tenant"), r.PathValue("id")
		var items []string
		// One button is pressed at a time: a request naming more than one
		// of all, item and kind is refused rather than widened.
		buttons := 0
		for _, f := range []string{"all", "item", "kind"} {
			if r.PostFormValue(f) != "" {
				buttons++
			}
		}
		if buttons > 1 {
			return admin.Invalid("name one of item, kind or all, not several")
		}
		switch {
		case r.PostFormValue("all") == "1":
			items = nil
		case r.PostFormValue("item") != "":
			items = []string{r.PostFormValue("item")}
		case r.PostFormValue("kind") != "":
			p, err := c.plans.GetPlan(r.Context(), tenant, id)
			if err != nil {
				return err
			}
			for _, it := range p.Items {
				if it.Kind == r.PostFormValue("kind") && it.Status == "pending" {
					items = append(items, it.ID)
				}
			}
			if len(items) == 0 {
				return admin.Invalid("no pending item of kind " + printable(r.PostFormValue("kind")))
			}
		default:
			items = r.PostForm["selected"]
			if len(items) == 0 {
				return admin.Invalid("select at least one item (or use a kind's or the plan's button)")
			}
		}
		p, err := c.plans.DecidePlan(r.Context(), tenant, id, approve, items)
		if err != nil {
			return err
		}
		verb := "approved"
		if !approve {
			verb = "rejected"
		}
		n := len(items)
		what := itoa(n) + " items " + verb
		if items == nil {
			what = "every pending item " + verb
		}
		stale := 0
		for _, it := range p.Items {
			if it.Status == "stale" && (items == nil || slices.Contains(items, it.ID)) {
				stale++
			}
		}
		if stale > 0 {
			what += "; " + itoa(stale) + " no longer held and became stale (see why below)"
		}
		http.Redirect(w, r, "/ui/tenants/"+tenant+"/plans/"+url.PathEscape(id)+"?done="+url.QueryEscape(what), http.StatusSeeOther)
		return nil
	}
}

// actionText says in words what an item will do.
func actionText(it PlanItemView) string {
	a := strings.ReplaceAll(it.Action, "_", " ")
	if it.UserName != "" && it.DisplayName != "" {
		prep := " to "
		if strings.HasPrefix(it.Action, "remove") {
			prep = " from "
		}
		return a + " " + it.UserName + prep + it.DisplayName
	}
	name := it.UserName
	if name == "" {
		name = it.DisplayName
	}
	if name == "" {
		return a
	}
	return a + " " + name
}
