// Package sync is the Okta → AxonFlow drift reconciler. It reads what Okta
// says a tenant should contain (the app's user and group assignments and the
// members of the groups in scope), compares it with what the store holds,
// reports the drift and, in correct mode, repairs it through the same store
// operations the SCIM server uses.
//
// It is imported by internal/admin (the reconcile machinery of serve: the
// schedules, one-off runs and run history through the admin API, the
// reconcile metrics) and by cmd/axonflow-sync (the reconcile command). It
// imports mapping, store, config and sync/oktasource. Users and groups it
// writes get the validation and canonical form of a SCIM write
// (mapping.NormalizeUser, NormalizeGroup), and every write is recorded in
// the provisioning log (actor reconciler, the run id).
//
// # Pipeline
//
// Every run is a chain of plain functions; only the two reads (Okta and the
// store) and Apply do I/O:
//
//	Pull (sync/oktasource)  → complete? else report incomplete and stop
//	BuildDesired             Okta snapshot → Desired (status semantics below)
//	LoadActual               store → Actual (all users, groups, memberships)
//	MatchObjects             Desired × Actual → Matching (ids first, names last, never guessed)
//	Diff                     → []Drift (the kinds below)
//	MakePlan                 → Plan: ordered corrections, objects not ours left alone
//	CheckGuards              → []Refusal (empty source, maxChanges, maxChangePercent)
//	Apply                    corrections, lease checked before every write
//	Report                   JSON / table, stored (store.Runs), metrics
//
// # Desired state and Okta statuses
//
// A user is in the desired state when Okta lists it among the app's users
// (GET /api/v1/apps/{appId}/users?expand=user, scope USER or GROUP). It
// should have access (Identity.Active true) when the app user status is
// ACTIVE or PROVISIONED and the embedded Okta user status is one in which
// Okta lets the person sign in: ACTIVE, PROVISIONED, RECOVERY,
// PASSWORD_EXPIRED, LOCKED_OUT (or unknown because Okta did not embed the
// user). Every other combination revokes access: an app user that is
// INACTIVE, DEPROVISIONED, SUSPENDED, STAGED, PENDING, REVOKED or any other
// status, and an Okta user that is SUSPENDED, DEPROVISIONED or STAGED. A
// revoked user that exists in AxonFlow should be inactive there; one that
// does not exist is not missing (it is not created just to be deactivated).
//
// Groups in scope are the app's group assignments plus the configured push
// groups. Desired memberships are the members of in-scope groups who are
// also app users (whatever their status: Okta keeps memberships of
// deactivated users, and so does push).
//
// # Matching
//
// Users: an AxonFlow user whose externalId is the Okta user id; else the
// AxonFlow user whose id is the Okta app user's externalId (the id Okta
// recorded when it pushed the user); else the AxonFlow user with the same
// userName, ignoring case. A candidate found by the second or third rule
// whose externalId names another identity, two Okta users claiming one
// AxonFlow user, and a rename onto a userName held by another AxonFlow user
// are conflicts: reported as kind conflict and never acted on. Groups: the
// AxonFlow group whose stored Okta group id is the Okta group's id; else the
// one with the same displayName, ignoring case (and no other Okta id);
// ambiguities are conflicts too.
//
// # Drift kinds
//
// user_missing, user_orphaned (an active AxonFlow user Okta does not
// assign), user_attributes (one entry per differing field of
// mapping.IdentityFields), user_status, group_missing, group_orphaned,
// group_attributes (displayName), membership_missing, membership_extra,
// role_assignment (the group-derived roles of a user's stored memberships
// differ from those its Okta memberships imply; fixed by the membership
// corrections, never directly), conflict.
//
// # Corrections and guards
//
// Corrections run in this order: create/update users, create/update groups,
// add memberships, remove memberships, delete orphaned groups, deactivate
// orphaned users. Users are never deleted. Only objects whose origin is
// okta-push or reconciler are changed; drift on other objects is reported
// and listed under refused (guard not_managed). A read that did not complete
// yields complete:false and no drift and no corrections. The whole
// correction is refused when Okta lists no app users while the tenant has
// users (empty_source), when it has more corrections than Limits.MaxChanges
// (max_changes), or when a kind of destructive correction exceeds
// Limits.MaxChangePercent of the existing objects of that kind
// (max_change_percent: user deactivations / users, group deletions /
// groups, membership removals / memberships).
package sync
