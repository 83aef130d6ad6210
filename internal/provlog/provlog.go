// Package provlog is the one writer of the provisioning log (README
// "Provisioning log"). A Recorder, made once per process in cmd, is used
// three ways, all ending in the same function, Recorder.Record, or in the
// store write it wraps:
//
//   - Wrap(st) is the store every edge uses (store.Logged): each user and
//     group create, update and delete stores its entry in the same atomic
//     change as the change (the Redis write script, the SQLite
//     transaction), built by store.Logged from the store.Writer that the
//     edge attached to the context once (the SCIM authentication
//     middleware: okta-push, token id, request id; the reconcile run:
//     reconciler, run id; the operator commands: operator, cli:<login>,
//     admin-api[:name] or config). A change without its entry cannot
//     exist. Failed reconciler writes are recorded as rejected entries
//     through Record.
//   - store.Record(ctx, wrapped, tenant, e), for operator actions (tokens,
//     roles), reaches Record through the wrapped store.
//   - As a scimserver.Observer (chained after the metrics, like
//     internal/telemetry) it records each rejected SCIM request (4xx/5xx)
//     through Record, with actor okta-push and the token id, in the tenant
//     of the request's token, with the status and detail it was answered.
//
// Successful reads are not recorded. A 401 is recorded only when the token
// is known (expired or revoked: its tenant is known); a missing, malformed
// or unknown token has no tenant, so it stays out of every tenant's log
// (the metrics count it). A rejection's entry is written synchronously,
// after the handler and before the response is flushed, so a client that
// saw the response can find it in the log; a failed write never fails the
// request or the action: it is logged as a warning and counted in
// axonflow_provisioning_log_errors_total. The one exception is a 503 (the
// store could not be reached): its entry is written in the background (at
// most MaxPendingUnavailable at a time, further ones are dropped and
// counted), so a store outage does not also cost every request a second
// store timeout.
//
// Imported by cmd/axonflow-sync only.
package provlog

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/axonflow/axonflow-sync/scimserver"
	"github.com/axonflow/axonflow-sync/store"
)

// DefaultTimeout bounds one AppendLog when Options.Timeout is 0.
const DefaultTimeout = 2 * time.Second

// MaxPendingUnavailable is how many entries of 503 answers may be being
// written in the background at once.
const MaxPendingUnavailable = 4

// Options configures a Recorder; the zero value works.
type Options struct {
	// Logger receives a warning for each entry that could not be written.
	Logger zerolog.Logger
	// Registerer, if set, gets the recorder's metrics:
	//
	//	axonflow_provisioning_log_entries_total{outcome}   counter (entries of SCIM requests written: accepted, rejected)
	//	axonflow_provisioning_log_errors_total             counter (entries of any actor that could not be written)
	Registerer prometheus.Registerer
	// Timeout bounds one AppendLog (default DefaultTimeout).
	Timeout time.Duration
	// Now returns the time written to entries (default time.Now).
	Now func() time.Time
	// Next, if set, also receives every event.
	Next scimserver.Observer
}

// Recorder writes the provisioning log: Wrap, Record, and ObserveSCIM (a
// scimserver.Observer) for rejected SCIM requests.
type Recorder struct {
	st      store.ProvisioningLog
	log     zerolog.Logger
	timeout time.Duration
	now     func() time.Time
	next    scimserver.Observer
	entries *prometheus.CounterVec
	errors  prometheus.Counter
	pending chan struct{} // background writes of 503 entries in flight
}

var _ scimserver.Observer = (*Recorder)(nil)

// New returns a Recorder writing to st (the unwrapped store). It panics
// if its metrics are already registered on o.Registerer (a wiring bug).
func New(st store.ProvisioningLog, o Options) *Recorder {
	r := &Recorder{st: st, log: o.Logger, timeout: o.Timeout, now: o.Now, next: o.Next,
		pending: make(chan struct{}, MaxPendingUnavailable),
		entries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "axonflow_provisioning_log_entries_total",
			Help: "Provisioning log entries written for SCIM requests, by outcome (accepted, rejected).",
		}, []string{"outcome"}),
		errors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "axonflow_provisioning_log_errors_total",
			Help: "Provisioning log entries that could not be written (the SCIM request itself was answered).",
		}),
	}
	if r.timeout <= 0 {
		r.timeout = DefaultTimeout
	}
	if r.now == nil {
		r.now = time.Now
	}
	if o.Registerer != nil {
		o.Registerer.MustRegister(r.entries, r.errors)
	}
	return r
}

// Wrap returns st with every user and group write recorded in the same
// atomic change as the write (store.Logged), failed reconciler writes and
// store.Record entries through r.Record. cmd wraps each store once.
func (r *Recorder) Wrap(st store.State) store.State {
	return store.Logged(st, r.Record)
}

// Record writes one entry on its own: e stamped with the store.Writer of
// ctx (store.Stamp) and the time (when zero), appended to tenant's log
// within Options.Timeout (whatever ctx's deadline). A failure is logged
// as a warning and counted in axonflow_provisioning_log_errors_total
// (axonflow_provisioning_log_entries_total counts SCIM requests' entries
// only, as before).
func (r *Recorder) Record(ctx context.Context, tenant string, e store.LogEntry) {
	e = store.Stamp(ctx, e)
	if e.Time.IsZero() {
		e.Time = r.now()
	}
	r.write(tenant, e)
}

// ObserveSCIM records ev if it was rejected and its tenant is known
// (scimserver.Observer), then passes it on. An accepted change's entry
// was written by the store with the change (Wrap); it is only counted.
func (r *Recorder) ObserveSCIM(ev scimserver.Event) {
	// A read that succeeded (most requests) is not recorded: no clock
	// read, no entry.
	if _, ok := entryTenant(&ev); ok {
		r.observe(&ev)
	}
	if r.next != nil {
		r.next.ObserveSCIM(ev)
	}
}

// observe counts or writes the entry of ev, a recorded event (Entry).
func (r *Recorder) observe(ev *scimserver.Event) {
	tenant, e, _ := Entry(*ev, r.now())
	switch {
	case !e.Rejected():
		r.entries.WithLabelValues(store.OutcomeAccepted).Inc()
	case ev.Status == http.StatusServiceUnavailable:
		select {
		case r.pending <- struct{}{}:
			go func() {
				defer func() { <-r.pending }()
				r.writeSCIM(tenant, e)
			}()
		default:
			r.errors.Inc()
			r.log.Warn().Str("request_id", ev.RequestID).Str("tenant", tenant).
				Msg("provisioning log entry of a 503 dropped: the store is failing")
		}
	default:
		r.writeSCIM(tenant, e)
	}
}

// write appends e to tenant's log; a failure is counted and logged.
func (r *Recorder) write(tenant string, e store.LogEntry) bool {
	ctx, cancel := context.WithTimeout(context.Background(), r.timeout)
	err := r.st.AppendLog(ctx, tenant, e)
	cancel()
	if err != nil {
		r.errors.Inc()
		r.log.Warn().Err(err).Str("request_id", e.RequestID).Str("tenant", tenant).
			Str("actor", e.Actor).Str("actor_id", e.ActorID).Str("operation", e.Operation).
			Msg("provisioning log entry not written")
		return false
	}
	return true
}

// writeSCIM writes the entry of a rejected SCIM request, counting it.
func (r *Recorder) writeSCIM(tenant string, e store.LogEntry) {
	if r.write(tenant, e) {
		r.entries.WithLabelValues(store.OutcomeRejected).Inc()
	}
}

// entryTenant returns the tenant whose log records ev, and whether ev is
// recorded at all (see Entry).
func entryTenant(ev *scimserver.Event) (string, bool) {
	tenant := ev.Tenant
	if tenant == "" {
		tenant = ev.TokenTenant
	}
	return tenant, tenant != "" && (ev.Changed || ev.Status >= 400)
}

// Entry returns the log entry for a SCIM request event, the tenant to log
// it in, and whether it is recorded at all: only requests that changed
// state or were rejected (status >= 400), whose tenant is known (the
// token's, also for an expired or revoked token). The entry has no
// secret: events carry no token, password or body.
func Entry(ev scimserver.Event, at time.Time) (string, store.LogEntry, bool) {
	tenant, ok := entryTenant(&ev)
	if !ok {
		return "", store.LogEntry{}, false
	}
	e := store.LogEntry{
		Time:         at,
		Actor:        store.ActorOktaPush,
		ActorID:      ev.TokenID,
		RequestID:    ev.RequestID,
		ResourceType: store.ResourceTypeOf(ev.Resource),
		ResourceID:   ev.ResourceID,
		Name:         ev.Name,
		Operation:    Operation(ev),
		Status:       ev.Status,
	}
	if ev.Status >= 400 {
		e.ScimType, e.Detail = ev.ScimType, ev.Detail
		if ev.Method == http.MethodPost {
			e.ResourceID = "" // the id the rejected create would have had
		}
	} else {
		e.Changes = ev.Changes
	}
	return tenant, e, true
}

// Operation names what a SCIM request did (or tried to do): create
// (POST), replace (PUT), patch (PATCH), delete (DELETE), read (GET, HEAD);
// a PUT or PATCH that flipped active is deactivate or reactivate, and one
// that only changed a group's members add_members, remove_members or
// update_members (store.UpdateOperation).
func Operation(ev scimserver.Event) string {
	switch ev.Method {
	case http.MethodPost:
		return "create"
	case http.MethodPut:
		return store.UpdateOperation(ev.Changes, "replace")
	case http.MethodPatch:
		return store.UpdateOperation(ev.Changes, "patch")
	case http.MethodDelete:
		return "delete"
	case http.MethodGet, http.MethodHead:
		return "read"
	}
	return strings.ToLower(ev.Method)
}
