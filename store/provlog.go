package store

import (
	"context"
	"strings"
	"time"

	"github.com/axonflow/axonflow-sync/mapping"
)

// Actors of provisioning log entries.
const (
	// ActorOktaPush is a SCIM request (Okta's push); ActorID is the SCIM
	// token id.
	ActorOktaPush = "okta-push"
	// ActorReconciler is a reconciler correction; ActorID is the run id.
	ActorReconciler = "reconciler"
	// ActorOperator is an operator action (CLI or admin API); ActorID names
	// the operator ("cli:<os user>", "admin-api", "config").
	ActorOperator = "operator"
)

// Outcomes a LogQuery can select: accepted is Status < 400, rejected
// Status >= 400.
const (
	OutcomeAccepted = "accepted"
	OutcomeRejected = "rejected"
)

// Provisioning log retention defaults (per tenant) and the default query
// size.
const (
	DefaultLogMaxEntries = 100_000
	// DefaultLogMaxRejections is how many rejected entries (Status >= 400)
	// are kept per tenant, in a budget of their own (LogRetention).
	DefaultLogMaxRejections = 10_000
	DefaultLogMaxAge        = 30 * 24 * time.Hour
	DefaultLogLimit         = 100
)

// LogEntry is one provisioning log entry: a change (or a rejected attempt
// at one) of a tenant's users, groups, roles or tokens. It never holds a
// secret: no token, password or request body, only Changes (attribute
// values before and after, never a password).
type LogEntry struct {
	// Tenant is the tenant the entry belongs to; set by QueryLog (AppendLog
	// ignores it).
	Tenant string    `json:"tenant,omitempty"`
	Time   time.Time `json:"time"`
	// Actor is ActorOktaPush, ActorReconciler or ActorOperator; ActorID the
	// token id, run id or operator name.
	Actor   string `json:"actor"`
	ActorID string `json:"actorId,omitempty"`
	// OperatorClaim is who an operator request said it came from, as it
	// said it (the admin API's X-AxonFlow-Operator header, up to 64
	// printable characters): a self-asserted claim kept beside the
	// authenticated ActorID ("admin-api": the admin token), never as it.
	OperatorClaim string `json:"operatorClaim,omitempty"`
	RequestID     string `json:"requestId,omitempty"`
	// ResourceType is "User" or "Group" (operator actions also use "Token"
	// and "Tenant"); ResourceID its id; Name its userName or displayName
	// (the token's name for tokens).
	ResourceType string `json:"resourceType,omitempty"`
	ResourceID   string `json:"resourceId,omitempty"`
	Name         string `json:"name,omitempty"`
	// Operation is create, replace, patch, delete, deactivate, reactivate,
	// add_members, remove_members, update_members, update (reconciler),
	// link (reconciler: the group's Okta id), read (a rejected GET), or an
	// operator action (map_role, unmap_role, assign_role, unassign_role,
	// set_default_role, create_token, revoke_token, rotate_token).
	Operation string `json:"operation"`
	// Status is the HTTP status of the request (for reconciler and
	// operator entries, the status a SCIM request doing the same would
	// have had); ScimType and Detail say why a request was rejected.
	Status   int                  `json:"status"`
	ScimType string               `json:"scimType,omitempty"`
	Detail   string               `json:"detail,omitempty"`
	Changes  []mapping.AttrChange `json:"changes,omitempty"`
}

// Rejected reports whether the entry is a rejected request (Status >= 400).
func (e *LogEntry) Rejected() bool { return e.Status >= 400 }

// LogQuery selects provisioning log entries; zero fields select all.
type LogQuery struct {
	// Since keeps entries whose Time is not before it.
	Since time.Time
	// Name keeps entries whose Name equals it, ignoring case
	// (mapping.FoldKey).
	Name string
	// ResourceType keeps entries of one resource type ("User", "Group").
	ResourceType string
	// Outcome is OutcomeAccepted, OutcomeRejected or "" (both).
	Outcome string
	// Actor keeps entries of one actor (ActorOktaPush, ...).
	Actor string
	// Limit is the most entries returned; <= 0 means DefaultLogLimit.
	Limit int
}

// Match reports whether e passes every filter of q except Limit.
func (q *LogQuery) Match(e *LogEntry) bool {
	switch {
	case !q.Since.IsZero() && e.Time.Before(q.Since),
		q.Name != "" && mapping.FoldKey(e.Name) != mapping.FoldKey(q.Name),
		q.ResourceType != "" && e.ResourceType != q.ResourceType,
		q.Actor != "" && e.Actor != q.Actor,
		q.Outcome == OutcomeAccepted && e.Rejected(),
		q.Outcome == OutcomeRejected && !e.Rejected():
		return false
	}
	return true
}

// EffectiveLimit returns Limit, or DefaultLogLimit when Limit <= 0.
func (q *LogQuery) EffectiveLimit() int {
	if q.Limit <= 0 {
		return DefaultLogLimit
	}
	return q.Limit
}

// LogRetention bounds a tenant's provisioning log: at most MaxEntries
// accepted entries (changes and operator actions; the oldest go first),
// at most MaxRejections rejected entries (Status >= 400) in a separate
// budget, so that rejections, which anyone holding (or having held) a
// token can cause, never evict a change; and none older than MaxAge. Zero
// fields take the defaults (DefaultLogMaxEntries, DefaultLogMaxRejections,
// DefaultLogMaxAge). Both backends take it as an option and prune on
// append; entries older than MaxAge are never returned by QueryLog even
// before they are pruned.
type LogRetention struct {
	MaxEntries    int
	MaxRejections int
	MaxAge        time.Duration
}

// WithDefaults returns r with zero (or negative) fields set to the defaults.
func (r LogRetention) WithDefaults() LogRetention {
	if r.MaxEntries <= 0 {
		r.MaxEntries = DefaultLogMaxEntries
	}
	if r.MaxRejections <= 0 {
		r.MaxRejections = DefaultLogMaxRejections
	}
	if r.MaxAge <= 0 {
		r.MaxAge = DefaultLogMaxAge
	}
	return r
}

// MergeLogs merges two lists of entries, each newest first, into one list
// newest first (by Time; on equal times a's entry comes first), at most
// limit long. The backends keep accepted and rejected entries apart
// (LogRetention) and QueryLog merges them with it.
func MergeLogs(a, b []LogEntry, limit int) []LogEntry {
	out := make([]LogEntry, 0, min(limit, len(a)+len(b)))
	for len(out) < limit && (len(a) > 0 || len(b) > 0) {
		if len(b) == 0 || (len(a) > 0 && !a[0].Time.Before(b[0].Time)) {
			out, a = append(out, a[0]), a[1:]
		} else {
			out, b = append(out, b[0]), b[1:]
		}
	}
	return out
}

// ProvisioningLog is the per-tenant provisioning log: who changed what,
// and which requests were rejected and why, with bounded retention
// (LogRetention). The entry of a user or group change is written in the
// same atomic change as the change (Logged, LogEntryOf): a change without
// its entry cannot exist. Rejections and operator actions (tokens, roles)
// are appended on their own (AppendLog, through Record).
type ProvisioningLog interface {
	// AppendLog adds e (e.Time set by the caller) to tenant's log and
	// prunes entries beyond the retention: a rejected entry counts against
	// MaxRejections, any other against MaxEntries. e.Tenant is ignored.
	AppendLog(ctx context.Context, tenant string, e LogEntry) error
	// QueryLog returns the tenant's entries that match q, newest first
	// (in append order), at most q.EffectiveLimit(), each with Tenant set.
	// It never returns entries older than the retention's MaxAge. An
	// empty result is an empty slice, not an error.
	QueryLog(ctx context.Context, tenant string, q LogQuery) ([]LogEntry, error)
}

// ResourceTypeOf maps a SCIM endpoint name ("Users", "Groups") to the log's
// resource type ("User", "Group"); other names are returned as they are.
func ResourceTypeOf(endpoint string) string {
	switch endpoint {
	case "Users":
		return "User"
	case "Groups":
		return "Group"
	}
	return endpoint
}

// UpdateOperation names an update from what it changed: deactivate or
// reactivate when active flipped (mapping.ActiveChange); add_members,
// remove_members or update_members when only members changed; otherwise
// fallback (replace, patch, update).
func UpdateOperation(changes []mapping.AttrChange, fallback string) string {
	if op := mapping.ActiveChange(changes); op != "" {
		return op
	}
	if len(changes) == 1 && changes[0].Attr == "members" {
		switch c := changes[0]; {
		case c.AddedCount > 0 && c.RemovedCount == 0:
			return "add_members"
		case c.RemovedCount > 0 && c.AddedCount == 0:
			return "remove_members"
		default:
			return "update_members"
		}
	}
	return fallback
}

// trimDetail bounds a Detail kept in the log.
func trimDetail(s string) string {
	const maxDetail = 1024
	if len(s) <= maxDetail {
		return s
	}
	cut := maxDetail
	for cut > 0 && !utf8Start(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

func utf8Start(b byte) bool { return b&0xC0 != 0x80 }

// NormalizeLogEntry prepares e for storage: Time in UTC (now when zero),
// Detail bounded to 1 KiB, Tenant cleared, and any change of an attribute
// named password (in any letter case) dropped. Backends call it in
// AppendLog.
func NormalizeLogEntry(e LogEntry, now time.Time) LogEntry {
	e.Tenant = ""
	if e.Time.IsZero() {
		e.Time = now
	}
	e.Time = e.Time.UTC()
	e.Detail = trimDetail(e.Detail)
	if len(e.Changes) > 0 {
		kept := make([]mapping.AttrChange, 0, len(e.Changes))
		for _, c := range e.Changes {
			if !strings.Contains(strings.ToLower(c.Attr), "password") {
				kept = append(kept, c)
			}
		}
		e.Changes = kept
	}
	return e
}
