// Package store defines the state of axonflow-sync behind one interface,
// State, and the typed errors every backend returns. Backends live in
// sub-packages (store/redisstore, store/sqlitestore); store/storetest is the
// conformance suite every backend passes.
//
// scimserver, sync, internal/admin, internal/provlog and cmd import this
// package; it imports only mapping and the standard library, never HTTP or
// Okta code. Its errors (errors.go) carry codes of the one error vocabulary
// (mapping.ErrorCode); what a code means on the wire is the edges' business.
package store

import (
	"context"
	"time"

	"github.com/axonflow/axonflow-sync/mapping"
)

// Tenant is one AxonFlow tenant: the unit of isolation.
type Tenant struct {
	ID      string    `json:"id"`
	Created time.Time `json:"created"`
}

// Token is a SCIM bearer token of one tenant. Only the SHA-256 hash of the
// secret is stored (hex, lower case), plus a short display prefix.
type Token struct {
	ID         string    `json:"id"`
	Tenant     string    `json:"tenant"`
	Name       string    `json:"name"`
	Prefix     string    `json:"prefix"`
	Hash       string    `json:"-"`
	Created    time.Time `json:"created"`
	ExpiresAt  time.Time `json:"expiresAt,omitzero"`  // zero: never
	LastUsedAt time.Time `json:"lastUsedAt,omitzero"` // zero: never used
	RevokedAt  time.Time `json:"revokedAt,omitzero"`  // zero: not revoked
	// ReplacedBy is the id of the token a rotation made to replace this
	// one (set with the rotation's expiry, SetTokenExpiry); "" if it was
	// never rotated.
	ReplacedBy string `json:"replacedBy,omitempty"`
}

// Valid reports whether the token may authenticate at time now.
func (t *Token) Valid(now time.Time) bool {
	return t.RevokedAt.IsZero() && (t.ExpiresAt.IsZero() || now.Before(t.ExpiresAt))
}

// Index names an indexed attribute for FindUser / FindGroup.
type Index string

// Indexed attributes. UserName and DisplayName are case-insensitive
// (mapping.FoldKey); ExternalID is exact.
const (
	IndexUserName    Index = "userName"
	IndexExternalID  Index = "externalId"
	IndexDisplayName Index = "displayName"
)

// GroupChange is one atomic change of a group: optionally new attributes,
// then membership deltas. Apply order: Attrs; if ReplaceMembers, the member
// set becomes Members; then Remove; then Add. A user id must not be in both
// Add and Remove (callers fold PATCH operations into net deltas).
type GroupChange struct {
	Attrs          mapping.Attrs // nil: unchanged
	OktaID         *string       // nil: unchanged
	ExpectVersion  int64         // 0: any version
	ReplaceMembers bool
	Members        []string
	Add            []string
	Remove         []string
	// At is the time written to LastModified if anything changed.
	At time.Time
}

// Page is a slice of a tenant's users or groups in creation order.
// Offset is 0-based; Total counts all resources of that type in the tenant.
type Page[T any] struct {
	Items []T
	Total int
}

// Cursor is a position in a tenant's users or groups in creation order,
// for keyset paging (ScanUsers, ScanGroups): 0 is before the first record;
// a page's Next is after the last record it listed. Every record keeps the
// position it was created at and a new one is placed after all others, so
// a scan continued from Next never lists a record twice, and lists every
// record that exists for the whole scan, whatever is written meanwhile. A
// page costs the same wherever it starts (no OFFSET).
type Cursor int64

// ScanPage is one page of a keyset scan (ScanUsers, ScanGroups).
type ScanPage[T any] struct {
	Items []T
	// Next continues the scan after this page.
	Next Cursor
	// Done says that no record after this page existed when it was read.
	Done bool
}

// UserSummary is the part of a stored user the reconciler compares: no
// attribute document, only the identity read from it.
type UserSummary struct {
	ID, Origin string
	// Version is mapping.User.Version.
	Version int64
	// Identity is mapping.IdentityOf of the user.
	Identity mapping.Identity
}

// GroupSummary is the part of a stored group the reconciler compares, with
// its members.
type GroupSummary struct {
	ID, Origin, OktaID string
	// DisplayName is mapping.Group.DisplayName.
	DisplayName string
	// Version is mapping.Group.Version.
	Version int64
	// Members are the user ids of its members, in any order.
	Members []string
}

// State is everything axonflow-sync keeps. Every method is safe for
// concurrent use by many goroutines and by several processes (replicas)
// sharing one backend. Every method that changes more than one record does
// so atomically: indexes and records never disagree, and a failed call
// changes nothing. Errors: ErrNotFound, ErrVersionMismatch, *ConflictError,
// *UnknownMembersError, or an error wrapping ErrUnavailable.
type State interface {
	Sessions

	// Ping checks that the backend is reachable.
	Ping(ctx context.Context) error
	// Close releases connections.
	Close() error

	// EnsureTenant creates the tenant if it does not exist; created says
	// whether it did.
	EnsureTenant(ctx context.Context, id string, at time.Time) (created bool, err error)
	// ListTenants returns all tenants ordered by id.
	ListTenants(ctx context.Context) ([]Tenant, error)

	// CreateToken stores a new token (its tenant must exist).
	CreateToken(ctx context.Context, t Token) error
	// TokenByHash returns the token whose secret hashes to hash, or
	// ErrNotFound. It keeps no reference to hash's bytes past the call
	// (a caller may pass a string that shares a request's buffer).
	TokenByHash(ctx context.Context, hash string) (Token, error)
	// ListTokens returns the tenant's tokens ordered by creation time.
	ListTokens(ctx context.Context, tenant string) ([]Token, error)
	// RevokeToken marks a token revoked at the given time (idempotent:
	// an already revoked token keeps its first revocation time).
	RevokeToken(ctx context.Context, tenant, tokenID string, at time.Time) error
	// SetTokenExpiry sets a token's expiry time (zero: never) and its
	// ReplacedBy (the token a rotation replaces it with; "" for none), in
	// one change. With replacedBy set, only a token without a replacement
	// is changed: ErrTokenReplaced otherwise, so of two rotations at once
	// one wins.
	SetTokenExpiry(ctx context.Context, tenant, tokenID string, at time.Time, replacedBy string) error
	// TouchToken records that a token was used at the given time.
	TouchToken(ctx context.Context, tenant, tokenID string, at time.Time) error

	// CreateUser stores a new user. The caller sets ID, Attrs, Origin,
	// Created and LastModified; the store sets Version to 1. userName
	// (case-insensitive) and externalId (exact, when set) must be unique in
	// the tenant, else *ConflictError.
	CreateUser(ctx context.Context, tenant string, u *mapping.User) error
	// GetUser returns one user or ErrNotFound.
	GetUser(ctx context.Context, tenant, id string) (*mapping.User, error)
	// GetUsers returns the users that exist among ids, in the order of ids.
	GetUsers(ctx context.Context, tenant string, ids []string) ([]*mapping.User, error)
	// UpdateUser replaces a user's Attrs (and LastModified) if its stored
	// version equals expectVersion (0: any), re-indexing userName and
	// externalId atomically; on success u.Version is the new version.
	UpdateUser(ctx context.Context, tenant string, u *mapping.User, expectVersion int64) error
	// DeleteUser removes a user, its memberships and its role assignments.
	DeleteUser(ctx context.Context, tenant, id string) error
	// FindUser returns the id of the user whose indexed attribute (userName
	// or externalId) equals value, or ErrNotFound.
	FindUser(ctx context.Context, tenant string, idx Index, value string) (string, error)
	// ListUsers returns up to limit users from the 0-based offset in creation order.
	ListUsers(ctx context.Context, tenant string, offset, limit int) (Page[*mapping.User], error)
	// ScanUsers returns up to limit (> 0) users created after cursor after,
	// in creation order, as summaries (see Cursor: keyset paging, for
	// reading a whole tenant).
	ScanUsers(ctx context.Context, tenant string, after Cursor, limit int) (ScanPage[UserSummary], error)
	// UserGroups returns, for each of uids, the ids of the groups it belongs to.
	UserGroups(ctx context.Context, tenant string, uids []string) (map[string][]string, error)

	// CreateGroup stores a new group with its initial members (all must
	// exist, else *UnknownMembersError). displayName (case-insensitive) and
	// externalId (exact, when set) must be unique, else *ConflictError.
	CreateGroup(ctx context.Context, tenant string, g *mapping.Group, members []string) error
	// GetGroup returns one group (without members) or ErrNotFound.
	GetGroup(ctx context.Context, tenant, id string) (*mapping.Group, error)
	// GetGroups returns the groups that exist among ids, in the order of ids.
	GetGroups(ctx context.Context, tenant string, ids []string) ([]*mapping.Group, error)
	// UpdateGroup applies one GroupChange atomically and returns the group
	// after it. Version and LastModified change only if attributes or
	// members actually changed. Added ids must exist (*UnknownMembersError).
	UpdateGroup(ctx context.Context, tenant, id string, c GroupChange) (*mapping.Group, error)
	// DeleteGroup removes a group and its memberships. With expectVersion
	// > 0 it deletes only while the group's version (mapping.Group.Version)
	// is expectVersion, else nothing changes and it returns
	// ErrVersionMismatch; 0 deletes any version. ErrNotFound if there is no
	// such group.
	DeleteGroup(ctx context.Context, tenant, id string, expectVersion int64) error
	// FindGroup returns the id of the group whose indexed attribute
	// (displayName or externalId) equals value, or ErrNotFound.
	FindGroup(ctx context.Context, tenant string, idx Index, value string) (string, error)
	// ListGroups returns up to limit groups from the 0-based offset in creation order.
	ListGroups(ctx context.Context, tenant string, offset, limit int) (Page[*mapping.Group], error)
	// ScanGroups returns up to limit (> 0) groups created after cursor
	// after, in creation order, as summaries with their members (see
	// Cursor). Each group's members are read together with the group.
	ScanGroups(ctx context.Context, tenant string, after Cursor, limit int) (ScanPage[GroupSummary], error)
	// GroupMembers returns the user ids of a group's members (any order).
	GroupMembers(ctx context.Context, tenant, id string) ([]string, error)

	// Leases: per-tenant expiring locks (the reconciler's one run per
	// tenant across replicas).
	Leases
	// Runs: the latest reconcile run reports of each tenant.
	Runs
	// Plans: reconcile plans held for an operator's decision.
	Plans
	// Roles: role mappings, manual/api role assignments and the default
	// role of each tenant.
	Roles
	// ProvisioningLog: who changed what and which requests were rejected
	// (and why), per tenant, with bounded retention.
	ProvisioningLog
}

// Roles is the stored part of the role model: per tenant, the group-to-role
// mappings, the manual and api role assignments of users, and the default
// role. Group-derived (scim) roles are never stored: they follow from
// memberships and mappings at read time (mapping.EffectiveRoles), so a
// membership change changes them in the same atomic change, and group sync
// never touches manual or api assignments. Role names and sources are
// validated by callers (mapping.CheckRole); the store keeps what it is given.
type Roles interface {
	// PutRoleMapping stores m in tenant, replacing the mapping with the
	// same key (m.Key(): the group id, or the folded displayName when
	// m.ByName). The group need not exist. Errors: m.Group empty.
	PutRoleMapping(ctx context.Context, tenant string, m mapping.RoleMapping) error
	// DeleteRoleMapping removes the tenant's mapping whose key is
	// mapping.RoleMappingKey(group, byName) (a by-name group in any letter
	// case), or returns ErrNotFound.
	DeleteRoleMapping(ctx context.Context, tenant, group string, byName bool) error
	// ListRoleMappings returns the tenant's mappings in
	// mapping.SortRoleMappings order (empty, not nil, when none).
	ListRoleMappings(ctx context.Context, tenant string) ([]mapping.RoleMapping, error)

	// AssignRole gives the tenant's user userID the role with source
	// (mapping.SourceManual or mapping.SourceAPI; other sources are an
	// error); assigning an assignment the user has changes nothing. The
	// user must exist (ErrNotFound), checked atomically with the write, so
	// a concurrent DeleteUser never leaves an assignment behind.
	AssignRole(ctx context.Context, tenant, userID, role, source string) error
	// UnassignRole removes one (role, source) assignment of a user, or
	// returns ErrNotFound if the user does not have it (or does not exist).
	UnassignRole(ctx context.Context, tenant, userID, role, source string) error
	// UserRoles returns the stored (manual and api) assignments of each of
	// userIDs that has any, in mapping.SortRoleAssignments order (Group is
	// ""); users without assignments, and unknown ids, have no entry. One
	// batched read (one round trip on Redis) whatever len(userIDs).
	UserRoles(ctx context.Context, tenant string, userIDs []string) (map[string][]mapping.RoleAssignment, error)

	// SetDefaultRole sets the tenant's default role; "" means none (no role
	// for a user who has no other). The store does not validate it.
	SetDefaultRole(ctx context.Context, tenant, role string) error
	// DefaultRole returns the tenant's default role as last set ("" for
	// none), with set false (and role "") if it was never set; see
	// mapping.TenantDefaultRole for what applies then.
	DefaultRole(ctx context.Context, tenant string) (role string, set bool, err error)
	// UserContext returns, in one read (one round trip on Redis, whether or
	// not the users are in groups), everything the SCIM server needs to
	// render users: when withUsers, the users among userIDs (as GetUsers);
	// their group ids (as UserGroups) and those groups (as GetGroups of the
	// union of the group ids, without members); and what effective roles
	// derive from besides memberships: the tenant's mappings (as
	// ListRoleMappings), its default role (as DefaultRole) and the users'
	// stored assignments (as UserRoles). Its cost grows with len(userIDs)
	// and the number of their memberships.
	UserContext(ctx context.Context, tenant string, userIDs []string, withUsers bool) (UserContext, error)
	// LookupUserContext finds the user whose indexed attribute idx
	// (IndexUserName, case-insensitive, or IndexExternalID, exact) equals
	// value, as FindUser, and returns UserContext(tenant, []string{id},
	// true) of it, in one read (one round trip on Redis). ErrNotFound when
	// no user has that value (an empty value included); an unsupported idx
	// is an error.
	LookupUserContext(ctx context.Context, tenant string, idx Index, value string) (UserContext, error)
}

// UserContext is the result of Roles.UserContext.
type UserContext struct {
	Users    []*mapping.User     // nil unless withUsers
	MemberOf map[string][]string // user id → its group ids (as UserGroups)
	// Groups holds, by id, every group named in MemberOf that exists (as
	// GetGroups: attributes, creation time, no members); a membership of a
	// group that is not there is not in it. Never nil.
	Groups      map[string]*mapping.Group
	Mappings    []mapping.RoleMapping
	DefaultRole string
	DefaultSet  bool
	Assigned    map[string][]mapping.RoleAssignment
}

// UserDocs is the optional interface of a store that can read a user's
// context with the user's attributes left as the JSON document it stores
// them as, for a caller that renders them without decoding them
// (mapping.UserDoc). A Logged store has it when its underlying store does.
type UserDocs interface {
	// UserDocContext is UserContext(ctx, tenant, []string{id}, true) with
	// the user's attributes not decoded: uc.Users holds the user (none when
	// it does not exist) with Attrs nil, and doc is its attribute document
	// (mapping.DecodeAttrsJSON's input). Same cost as UserContext.
	UserDocContext(ctx context.Context, tenant, id string) (uc UserContext, doc string, err error)
	// DecodeUserDoc sets u.Attrs from doc, a document UserDocContext
	// returned with u, and returns the error UserContext would have
	// returned for that user instead (the document does not decode); it
	// makes no store call.
	DecodeUserDoc(u *mapping.User, doc string) error
}

// Leases are named, expiring, per-tenant locks that coordinate work across
// replicas sharing one backend (the reconciler holds the lease "reconcile"
// of a tenant while it runs). A lease is held by one owner (an opaque token
// unique to the holder, e.g. host/pid/run id) until it expires or is
// released. Expiry uses the backend's clock (Redis server time; the local
// clock of the host for the embedded store).
type Leases interface {
	// AcquireLease takes the lease name of tenant for owner for ttl (> 0)
	// if it is free or expired, or extends it if owner already holds it.
	// acquired says whether owner holds it now; holder is the owner that
	// holds it (owner itself when acquired). An error means nothing is
	// known about the lease.
	AcquireLease(ctx context.Context, tenant, name, owner string, ttl time.Duration) (acquired bool, holder string, err error)
	// RenewLease extends owner's lease to ttl (> 0) from now. It returns
	// ErrLeaseLost when owner does not hold the lease any more (expired,
	// taken by another owner, or released).
	RenewLease(ctx context.Context, tenant, name, owner string, ttl time.Duration) error
	// ReleaseLease frees the lease if owner holds it; releasing a lease
	// that owner does not hold changes nothing and is not an error.
	ReleaseLease(ctx context.Context, tenant, name, owner string) error
}

// RunRecord is one stored reconcile run: its id, start time and report
// (Data, the JSON the reconciler produced; the store treats it as opaque
// bytes).
type RunRecord struct {
	ID        string
	StartedAt time.Time
	Data      []byte
}

// Runs keeps the latest reconcile run reports of each tenant.
type Runs interface {
	// SaveRun stores r in tenant, replacing a stored run with the same ID,
	// then deletes the tenant's oldest runs (by StartedAt, ties by ID) so
	// that at most keep (>= 1) remain, all in one atomic change. r.ID must
	// not be empty.
	SaveRun(ctx context.Context, tenant string, r RunRecord, keep int) error
	// ListRuns returns up to limit (<= 0: all) of the tenant's runs, newest
	// StartedAt first (ties: greater ID first).
	ListRuns(ctx context.Context, tenant string, limit int) ([]RunRecord, error)
	// GetRun returns one run of the tenant or ErrNotFound.
	GetRun(ctx context.Context, tenant, id string) (RunRecord, error)
}

// Sessions records the console sessions ended by Sign out, so that every
// replica sharing the backend refuses a copy of an ended session's cookie
// (not only the replica that served the sign-out). Records are global (a
// console session is not a tenant's) and expire on their own.
type Sessions interface {
	// EndSession records the session id (an opaque key of at most 128
	// bytes; the console passes a hash, never the cookie) as ended until
	// until, when the session would have expired anyway. Idempotent; a
	// later until extends the record. A record whose until has passed is
	// gone.
	EndSession(ctx context.Context, id string, until time.Time) error
	// SessionEnded reports whether id was ended and its record has not
	// expired. An error means nothing is known (the caller fails closed).
	SessionEnded(ctx context.Context, id string) (bool, error)
}
