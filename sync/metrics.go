package sync

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the reconciler's Prometheus metrics, all labelled by tenant:
//
//	axonflow_reconcile_runs_total{tenant,result}            counter: runs by result (ok, incomplete, refused, failed, lease_lost, busy)
//	axonflow_reconcile_duration_seconds{tenant}            histogram: wall time of runs that took the lease
//	axonflow_reconcile_drift{tenant,kind}                  gauge: drift entries of the last complete run, by kind
//	axonflow_reconcile_corrections_applied_total{tenant,action}  counter: corrections written
//	axonflow_reconcile_corrections_refused_total{tenant,guard}   counter: corrections withheld by a guard (correct mode)
//	axonflow_okta_api_calls_total{tenant}                  counter: Okta HTTP requests (retries included)
//	axonflow_okta_rate_limited_total{tenant}               counter: Okta 429 responses
//	axonflow_reconcile_last_success_timestamp_seconds{tenant}    gauge: Unix time a run last finished with result ok
//	axonflow_reconcile_plan_items_pending{tenant}          gauge: plan items waiting for a decision (not expired)
//	axonflow_reconcile_plan_decisions_total{tenant,outcome}      counter: plan item outcomes (approved, rejected, cancelled, applied, stale, failed)
//	axonflow_reconcile_corrections_deferred_total{tenant}  counter: destructive corrections deferred (stale snapshot)
//
// A nil *Metrics is valid and records nothing.
type Metrics struct {
	runs        *prometheus.CounterVec
	duration    *prometheus.HistogramVec
	drift       *prometheus.GaugeVec
	applied     *prometheus.CounterVec
	refused     *prometheus.CounterVec
	oktaCalls   *prometheus.CounterVec
	okta429     *prometheus.CounterVec
	lastSuccess *prometheus.GaugeVec
	pending     *prometheus.GaugeVec
	decisions   *prometheus.CounterVec
	deferred    *prometheus.CounterVec
}

// NewMetrics creates the metrics and registers them on reg (e.g.
// prometheus.NewRegistry() served by promhttp.HandlerFor). It returns the
// registration error, e.g. when they are registered twice on one registry.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	const ns = "axonflow"
	m := &Metrics{
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "reconcile_runs_total",
			Help: "Reconcile runs by result (ok, incomplete, refused, failed, lease_lost, busy)."}, []string{"tenant", "result"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: ns, Name: "reconcile_duration_seconds",
			Help:    "Wall time of reconcile runs that held the tenant's lease.",
			Buckets: []float64{0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800}}, []string{"tenant"}),
		drift: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: ns, Name: "reconcile_drift",
			Help: "Drift entries found by the last complete reconcile run, by kind."}, []string{"tenant", "kind"}),
		applied: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "reconcile_corrections_applied_total",
			Help: "Corrections written by correcting runs, by action."}, []string{"tenant", "action"}),
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "reconcile_corrections_refused_total",
			Help: "Corrections withheld in correct mode, by guard."}, []string{"tenant", "guard"}),
		oktaCalls: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "okta_api_calls_total",
			Help: "HTTP requests sent to the Okta Management API by reconcile runs, retries included."}, []string{"tenant"}),
		okta429: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "okta_rate_limited_total",
			Help: "HTTP 429 responses from Okta to reconcile runs."}, []string{"tenant"}),
		lastSuccess: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: ns, Name: "reconcile_last_success_timestamp_seconds",
			Help: "Unix time at which a reconcile run of the tenant last finished with result ok."}, []string{"tenant"}),
		pending: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: ns, Name: "reconcile_plan_items_pending",
			Help: "Held reconcile plan items waiting for a decision (plans not expired)."}, []string{"tenant"}),
		decisions: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "reconcile_plan_decisions_total",
			Help: "Held plan item outcomes: approved, rejected, cancelled (operators); applied, stale, failed (runs)."}, []string{"tenant", "outcome"}),
		deferred: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "reconcile_corrections_deferred_total",
			Help: "Destructive corrections not applied because their objects changed after the run's Okta read began."}, []string{"tenant"}),
	}
	for _, c := range []prometheus.Collector{m.runs, m.duration, m.drift, m.applied, m.refused, m.oktaCalls, m.okta429, m.lastSuccess,
		m.pending, m.decisions, m.deferred} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func (m *Metrics) observeBusy(tenant string) {
	if m == nil {
		return
	}
	m.runs.WithLabelValues(tenant, resultBusy).Inc()
}

// observe records a finished run.
func (m *Metrics) observe(rep *Report, result string) {
	if m == nil {
		return
	}
	t := rep.Tenant
	m.runs.WithLabelValues(t, result).Inc()
	if !rep.FinishedAt.IsZero() {
		m.duration.WithLabelValues(t).Observe(rep.FinishedAt.Sub(rep.StartedAt).Seconds())
	}
	m.oktaCalls.WithLabelValues(t).Add(float64(rep.Okta.APICalls))
	m.okta429.WithLabelValues(t).Add(float64(rep.Okta.RateLimited))
	if rep.Complete {
		for _, k := range Kinds {
			m.drift.WithLabelValues(t, string(k)).Set(float64(rep.Summary[k]))
		}
	}
	for _, a := range rep.Applied {
		if a.Result == ResultOK {
			m.applied.WithLabelValues(t, string(a.Action)).Inc()
		}
	}
	if n := len(rep.Deferred); n > 0 {
		m.deferred.WithLabelValues(t).Add(float64(n))
	}
	if rep.Mode == ModeCorrect {
		for _, f := range rep.Refused {
			m.refused.WithLabelValues(t, f.Guard).Add(float64(f.Corrections))
		}
	}
	if result == resultOK {
		m.lastSuccess.WithLabelValues(t).Set(float64(rep.FinishedAt.Unix()))
	}
}

// observeDecisions counts the operator decisions on items of p.
func (m *Metrics) observeDecisions(tenant string, p *HeldPlan, ids []string) {
	if m == nil {
		return
	}
	for _, id := range ids {
		if it := p.Item(id); it != nil {
			m.decisions.WithLabelValues(tenant, it.Status).Inc()
		}
	}
}

// observeItem counts one item outcome settled by a run.
func (m *Metrics) observeItem(tenant, outcome string) {
	if m == nil {
		return
	}
	m.decisions.WithLabelValues(tenant, outcome).Inc()
}

// setPending sets the tenant's pending item gauge.
func (m *Metrics) setPending(tenant string, n int) {
	if m == nil {
		return
	}
	m.pending.WithLabelValues(tenant).Set(float64(n))
}
