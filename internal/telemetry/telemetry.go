// Package telemetry turns SCIM request events into Prometheus metrics
// (prometheus/client_golang) served at /metrics on the admin listener. It
// implements scimserver.Observer. Imported by cmd/axonflow-sync only.
package telemetry

import (
	"strconv"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/axonflow/axonflow-sync/scimserver"
)

// SCIM holds the SCIM request metrics:
//
//	axonflow_scim_requests_total{resource,method,status,tenant}   counter
//	axonflow_scim_request_duration_seconds{resource,method}       histogram (seconds)
//	axonflow_scim_auth_failures_total{reason}                     counter
//	axonflow_scim_store_errors_total{resource,status}             counter (503/500 answers)
//	axonflow_scim_changes_total{resource,method,tenant}           counter (requests that changed state)
type SCIM struct {
	requests    *prometheus.CounterVec
	duration    *prometheus.HistogramVec
	authFail    *prometheus.CounterVec
	storeErrors *prometheus.CounterVec
	changes     *prometheus.CounterVec
	next        scimserver.Observer

	// The children of requests and duration that requests used, resolved
	// once: WithLabelValues validates and hashes every label value on
	// every call, a measurable part of a request's cost. A child is
	// cached when first used, so /metrics shows the same series as
	// without the cache (none is created in advance); no series is ever
	// deleted, so a cached child stays the vector's.
	mu       sync.RWMutex
	reqByKey map[requestKey]prometheus.Counter
	durByKey map[durationKey]prometheus.Observer
}

// requestKey identifies a child of requests (the status as a number, so
// that a hit formats nothing).
type requestKey struct {
	resource, method string
	status           int
	tenant           string
}

// durationKey identifies a child of duration.
type durationKey struct{ resource, method string }

// NewSCIM registers the SCIM metrics on reg. next, if not nil, also
// receives every event (e.g. the provisioning log). It panics if the
// metrics are already registered on reg (a wiring bug).
func NewSCIM(reg prometheus.Registerer, next scimserver.Observer) *SCIM {
	m := &SCIM{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "axonflow_scim_requests_total",
			Help: "SCIM requests by resource, method, HTTP status and tenant (empty when unauthenticated).",
		}, []string{"resource", "method", "status", "tenant"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "axonflow_scim_request_duration_seconds",
			Help:    "SCIM request latency in seconds, by resource and method.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"resource", "method"}),
		authFail: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "axonflow_scim_auth_failures_total",
			Help: "Rejected SCIM authentications by reason (missing, scheme, malformed, unknown, expired, revoked, throttled).",
		}, []string{"reason"}),
		storeErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "axonflow_scim_store_errors_total",
			Help: "SCIM requests answered 5xx because of the store, by resource and status.",
		}, []string{"resource", "status"}),
		changes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "axonflow_scim_changes_total",
			Help: "SCIM requests that changed stored state, by resource, method and tenant.",
		}, []string{"resource", "method", "tenant"}),
		next:     next,
		reqByKey: map[requestKey]prometheus.Counter{},
		durByKey: map[durationKey]prometheus.Observer{},
	}
	reg.MustRegister(m.requests, m.duration, m.authFail, m.storeErrors, m.changes)
	return m
}

// ObserveSCIM records one request (scimserver.Observer). Every label
// comes from a closed set, since a label value lives as long as the
// process: resource and method are mapped to known values or "other",
// status to a 3-digit code, the auth-failure reason to the known reasons;
// tenant is set only for an authenticated request (a tenant that exists).
func (m *SCIM) ObserveSCIM(ev scimserver.Event) {
	resource, method := resourceLabel(ev.Resource), scimserver.MethodLabel(ev.Method)
	rk, dk := requestKey{resource, method, ev.Status, ev.Tenant}, durationKey{resource, method}
	m.mu.RLock()
	req, dur := m.reqByKey[rk], m.durByKey[dk]
	m.mu.RUnlock()
	if req == nil || dur == nil {
		req = m.requests.WithLabelValues(resource, method, statusLabel(ev.Status), ev.Tenant)
		dur = m.duration.WithLabelValues(resource, method)
		m.mu.Lock()
		m.reqByKey[rk], m.durByKey[dk] = req, dur
		m.mu.Unlock()
	}
	req.Inc()
	dur.Observe(ev.Duration.Seconds())
	if ev.AuthFail != "" {
		m.authFail.WithLabelValues(reasonLabel(ev.AuthFail)).Inc()
	}
	if ev.Status >= 500 {
		m.storeErrors.WithLabelValues(resource, statusLabel(ev.Status)).Inc()
	}
	if ev.Changed {
		m.changes.WithLabelValues(resource, method, ev.Tenant).Inc()
	}
	if m.next != nil {
		m.next.ObserveSCIM(ev)
	}
}

// resourceLabel maps an Event.Resource to its closed set.
func resourceLabel(r string) string {
	switch r {
	case "Users", "Groups", "discovery":
		return r
	}
	return "other"
}

// statusLabel is the HTTP status code as a label ("other" outside 100-599).
func statusLabel(s int) string {
	if s < 100 || s > 599 {
		return "other"
	}
	return strconv.Itoa(s)
}

// reasonLabel maps an Event.AuthFail to its closed set.
func reasonLabel(r string) string {
	switch r {
	case scimserver.AuthMissing, scimserver.AuthScheme, scimserver.AuthMalformed, scimserver.AuthUnknown,
		scimserver.AuthExpired, scimserver.AuthRevoked, scimserver.AuthThrottled:
		return r
	}
	return "other"
}
