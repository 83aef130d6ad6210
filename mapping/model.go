// Package mapping is the one place that says what an AxonFlow identity is and
// how it is written as a SCIM resource (RFC 7643) or read from an Okta
// profile. It holds the stored resource model (User, Group), the SCIM schema
// definitions, resource validation and normalisation, PATCH application
// (RFC 7644 §3.5.2), filter evaluation (RFC 7644 §3.4.2.2), the
// normalisers the pull side uses (NormalizeUser, NormalizeGroup), role
// evaluation, the JSON encoder of the model's values (AppendJSON), and the
// error vocabulary every package shares (ErrorCode, ErrorMessage; the SCIM
// status and scimType of each code, SCIMStatus, since SCIM statuses are
// what the provisioning log records).
//
// It is pure: no I/O, no net/http, no Okta or store imports. Every other
// package of the module may import it; it imports only mapping/filter and
// the standard library.
package mapping

import (
	"time"
)

// Schema URNs (RFC 7643 §8.7.1, §4.3, RFC 7644 §3.12, §3.5.2, §3.4.2).
const (
	SchemaUser           = "urn:ietf:params:scim:schemas:core:2.0:User"
	SchemaGroup          = "urn:ietf:params:scim:schemas:core:2.0:Group"
	SchemaEnterpriseUser = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
	SchemaError          = "urn:ietf:params:scim:api:messages:2.0:Error"
	SchemaPatchOp        = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
	SchemaListResponse   = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
)

// Origins say who created a resource. The reconciler only changes resources
// whose origin is OriginOktaPush or OriginReconciler.
const (
	OriginOktaPush   = "okta-push"
	OriginReconciler = "reconciler"
	OriginOperator   = "operator"
)

// Attrs is a resource's attribute document: canonical attribute names
// (as spelled in the schema) mapped to JSON-shaped values (string, bool,
// json.Number, []any, map[string]any). The enterprise extension lives under
// the key SchemaEnterpriseUser. It never holds id, meta, schemas, password,
// groups, roles or members: those are server-managed or stored elsewhere.
type Attrs map[string]any

// User is one stored SCIM User resource of a tenant.
type User struct {
	// ID is the server-issued, immutable resource id (RFC 7643 §3.1).
	ID string `json:"id"`
	// Attrs holds every client-writable attribute, normalised as DecodeUser
	// and ApplyUserPatch return it.
	Attrs Attrs `json:"attrs"`
	// Origin is who created the user (OriginOktaPush, OriginReconciler, ...).
	Origin string `json:"origin,omitempty"`
	// Created and LastModified are meta.created / meta.lastModified (UTC).
	Created      time.Time `json:"created"`
	LastModified time.Time `json:"lastModified"`
	// Version increases by one on every stored change; the store sets it.
	Version int64 `json:"version"`
}

// UserName returns the userName attribute ("" if unset).
func (u *User) UserName() string { return str(u.Attrs, "userName") }

// ExternalID returns the externalId attribute ("" if unset).
func (u *User) ExternalID() string { return str(u.Attrs, "externalId") }

// Active reports the active attribute; a user without one is active.
func (u *User) Active() bool {
	b, ok := u.Attrs["active"].(bool)
	return !ok || b
}

// Group is one stored SCIM Group resource of a tenant. Its members are a set
// kept by the store beside the record, changed only by deltas.
type Group struct {
	ID    string `json:"id"`
	Attrs Attrs  `json:"attrs"` // displayName, externalId
	// OktaID is the Okta group id the reconciler matched or created this group
	// from ("" when unknown). It is not a SCIM attribute.
	OktaID       string    `json:"oktaId,omitempty"`
	Origin       string    `json:"origin,omitempty"`
	Created      time.Time `json:"created"`
	LastModified time.Time `json:"lastModified"`
	Version      int64     `json:"version"`
}

// DisplayName returns the displayName attribute ("" if unset).
func (g *Group) DisplayName() string { return str(g.Attrs, "displayName") }

// ExternalID returns the externalId attribute ("" if unset).
func (g *Group) ExternalID() string { return str(g.Attrs, "externalId") }

func str(a Attrs, k string) string {
	s, _ := a[k].(string)
	return s
}
