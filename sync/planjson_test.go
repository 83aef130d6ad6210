package sync

import (
	"encoding/json"
	"testing"
	"time"
)

// TestPlanItemJSON: every pinned item field is present (empty or null when
// unset), and the JSON round-trips.
func TestPlanItemJSON(t *testing.T) {
	it := PlanItem{ID: "1", Action: ActCreateUser, Kind: "user", UserName: "ada@example.com", Reason: "r", Status: ItemPending}
	b, err := json.Marshal(it)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"id", "action", "kind", "userName", "oktaId", "axonflowId", "reason", "status", "decidedBy", "decidedAt", "applyAfter"} {
		if _, ok := m[k]; !ok {
			t.Errorf("item JSON lacks %s: %s", k, b)
		}
	}
	if m["decidedAt"] != nil || m["applyAfter"] != nil {
		t.Errorf("unset times not null: %s", b)
	}
	it.DecidedAt, it.ApplyAfter, it.DecidedBy = time.Date(2026, 12, 5, 6, 0, 0, 0, time.UTC), time.Date(2026, 12, 6, 6, 0, 0, 0, time.UTC), "cli:ada"
	b, _ = json.Marshal(it)
	var back PlanItem
	if err := json.Unmarshal(b, &back); err != nil || !back.DecidedAt.Equal(it.DecidedAt) || !back.ApplyAfter.Equal(it.ApplyAfter) || back.DecidedBy != "cli:ada" {
		t.Fatalf("round trip %+v, %v (%s)", back, err, b)
	}
}
