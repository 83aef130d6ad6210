package telemetry

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/axonflow/axonflow-sync/scimserver"
)

type recorder struct{ n int }

func (r *recorder) ObserveSCIM(scimserver.Event) { r.n++ }

func TestSCIMMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	next := &recorder{}
	m := NewSCIM(reg, next)
	m.ObserveSCIM(scimserver.Event{Resource: "Users", Method: "POST", Status: 201, Tenant: "acme", Duration: 3 * time.Millisecond, Changed: true})
	m.ObserveSCIM(scimserver.Event{Resource: "Users", Method: "GET", Status: 401, AuthFail: "revoked", Duration: time.Millisecond})
	m.ObserveSCIM(scimserver.Event{Resource: "Groups", Method: "PATCH", Status: 503, Tenant: "acme", Duration: time.Second})
	if next.n != 3 {
		t.Fatalf("next observer got %d events, want 3", next.n)
	}
	want := `
# HELP axonflow_scim_auth_failures_total Rejected SCIM authentications by reason (missing, scheme, malformed, unknown, expired, revoked, throttled).
# TYPE axonflow_scim_auth_failures_total counter
axonflow_scim_auth_failures_total{reason="revoked"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "axonflow_scim_auth_failures_total"); err != nil {
		t.Error(err)
	}
	if got := testutil.ToFloat64(m.requests.WithLabelValues("Users", "POST", "201", "acme")); got != 1 {
		t.Errorf("requests{Users,POST,201,acme} = %v", got)
	}
	if got := testutil.ToFloat64(m.storeErrors.WithLabelValues("Groups", "503")); got != 1 {
		t.Errorf("store errors = %v", got)
	}
	if got := testutil.ToFloat64(m.changes.WithLabelValues("Users", "POST", "acme")); got != 1 {
		t.Errorf("changes = %v", got)
	}
	if n := testutil.CollectAndCount(m.duration); n != 3 {
		t.Errorf("duration series = %d, want 3", n)
	}
}
