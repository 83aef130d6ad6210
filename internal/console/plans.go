package console

import "context"

// The plan review pages depend on internal/admin's plan functions
// (ListPlans, GetPlan, DecidePlan, Explain; issue 13). Until they exist the
// console shows no pending plans and no reconciler explanation.

// planSummary is one pending plan on the tenant page.
type planSummary struct {
	ID      string
	Pending int
}

// reconcileExplanation is the reconciler's explanation of a user.
type reconcileExplanation struct {
	Lines []string
}

func (c *Console) planRoutes() {}

func (c *Console) pendingPlans(ctx context.Context, tenant string) []planSummary { return nil }

func (c *Console) pendingItems(ctx context.Context, tenant string) int { return 0 }

func (c *Console) explainUser(ctx context.Context, tenant, userID string) *reconcileExplanation {
	return nil
}
