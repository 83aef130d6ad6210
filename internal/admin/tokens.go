package admin

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/axonflow/axonflow-sync/mapping"
	"github.com/axonflow/axonflow-sync/store"
)

// TenantIDPattern is the syntax of tenant ids (they are embedded in Redis
// hash tags and URLs).
var TenantIDPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)

// CheckTenantID returns an invalid_request error for a malformed tenant id.
func CheckTenantID(id string) error {
	if !TenantIDPattern.MatchString(id) {
		return Invalid("tenant id " + quote(id) + " must match " + TenantIDPattern.String())
	}
	return nil
}

func quote(s string) string { return `"` + s + `"` }

// TokenView is how a token is shown: never the secret or its hash.
type TokenView struct {
	store.Token
	// Secret is set only in the response that created the token.
	Secret string `json:"token,omitempty"`
	Active bool   `json:"active"`
}

func view(t store.Token, now time.Time) TokenView {
	return TokenView{Token: t, Active: t.Valid(now)}
}

// CreateToken creates a SCIM token for tenant (creating the tenant if new)
// with the given name and lifetime (0: no expiry). It returns the token
// with its secret, shown this once. Shared by `token create` and the API.
func CreateToken(ctx context.Context, st store.State, tenant, name string, ttl time.Duration, now time.Time) (TokenView, error) {
	if err := CheckTenantID(tenant); err != nil {
		return TokenView{}, err
	}
	if ttl < 0 {
		return TokenView{}, Invalid("expiresIn must be positive")
	}
	if name == "" {
		name = "okta"
	}
	if err := checkTokenName(name); err != nil {
		return TokenView{}, err
	}
	secret, t, err := store.IssueToken(ctx, st, tenant, name, ttl, now)
	if err != nil {
		return TokenView{}, err
	}
	return created(ctx, st, secret, t, now), nil
}

// checkTokenName refuses a token name that could not be shown safely
// (invalid_request).
func checkTokenName(name string) error {
	if _, bad := mapping.BadIdentifierRune(name); bad {
		return Invalid("token name must not contain control or bidirectional formatting characters")
	}
	return nil
}

// created records the creation of t, a token just stored, in its tenant's
// provisioning log (never the secret) and returns its view with secret.
func created(ctx context.Context, st store.State, secret string, t store.Token, now time.Time) TokenView {
	e := store.LogEntry{ResourceType: "Token", ResourceID: t.ID, Name: t.Name, Operation: "create_token", Status: http.StatusCreated}
	if !t.ExpiresAt.IsZero() {
		e.Changes = []mapping.AttrChange{{Attr: "expiresAt", After: t.ExpiresAt.UTC().Format(time.RFC3339)}}
	}
	recordOperator(ctx, st, t.Tenant, e)
	v := view(t, now)
	v.Secret = secret
	return v
}

// RotateToken creates a new token for the tenant and makes the old one
// expire after grace (it keeps working until then, so Okta can be switched
// to the new token without a gap). A grace of 0 expires the old token now.
// The new token gets the old one's lifetime (created to expiry; none if it
// never expired) and the given name (the old one's if ""). The old token
// must exist, be valid and not have been rotated before (409 naming its
// replacement, which is the one to rotate): a second rotation would
// otherwise take the first one's grace as the lifetime. A rotation is
// known by the token's ReplacedBy, or, for one made by an older build, by
// its rotate_token entry in the provisioning log (rotatedInLog); of two
// rotations at once one wins (store.ErrTokenReplaced) and the other gets
// the 409. Returns the new token with its secret and the old token as
// updated.
func RotateToken(ctx context.Context, st store.State, tenant, oldID, name string, grace time.Duration, now time.Time) (TokenView, TokenView, error) {
	if grace < 0 {
		return TokenView{}, TokenView{}, Invalid("grace must not be negative")
	}
	old, err := findToken(ctx, st, tenant, oldID)
	if err != nil {
		return TokenView{}, TokenView{}, err
	}
	if !old.Valid(now) {
		return TokenView{}, TokenView{}, &APIError{Status: 409, Code: CodeConflict, Message: "token " + oldID + " is already expired or revoked; create a new token instead"}
	}
	if old.ReplacedBy == "" {
		old.ReplacedBy = rotatedInLog(ctx, st, tenant, old)
	}
	if old.ReplacedBy != "" {
		return TokenView{}, TokenView{}, alreadyRotated(ctx, st, tenant, old, now)
	}
	if name == "" {
		name = old.Name
	}
	if err := checkTokenName(name); err != nil {
		return TokenView{}, TokenView{}, err
	}
	var ttl time.Duration
	if !old.ExpiresAt.IsZero() {
		ttl = old.ExpiresAt.Sub(old.Created) // keep the same lifetime policy
	}
	secret, nt, err := store.NewToken(tenant, name, ttl, now)
	if err != nil {
		return TokenView{}, TokenView{}, err
	}
	exp := now.Add(grace).UTC()
	if !old.ExpiresAt.IsZero() && old.ExpiresAt.Before(exp) {
		exp = old.ExpiresAt // rotation never extends a token's life
	}
	// The old token's expiry (and its replacement's id) first: it is the
	// step a Redis user without the token-cache channel is refused (see
	// redisstore's SetTokenExpiry), and then nothing has changed. If
	// storing the new token fails after it, the old expiry is put back, so
	// a failed rotation leaves neither a shortened token nor a new one
	// whose secret nobody saw.
	if err := st.SetTokenExpiry(ctx, tenant, oldID, exp, nt.ID); err != nil {
		if errors.Is(err, store.ErrTokenReplaced) { // a rotation at the same time won
			if cur, ferr := findToken(ctx, st, tenant, oldID); ferr == nil && cur.ReplacedBy != "" {
				return TokenView{}, TokenView{}, alreadyRotated(ctx, st, tenant, cur, now)
			}
		}
		return TokenView{}, TokenView{}, err
	}
	if err := st.CreateToken(ctx, nt); err != nil {
		if rerr := st.SetTokenExpiry(context.WithoutCancel(ctx), tenant, oldID, old.ExpiresAt, ""); rerr != nil {
			return TokenView{}, TokenView{}, fmt.Errorf("%w; putting token %s's expiry back failed too (%v): it now expires at %s, so create a new token before then",
				err, oldID, rerr, exp.Format(time.RFC3339))
		}
		return TokenView{}, TokenView{}, err
	}
	nv := created(ctx, st, secret, nt, now)
	var before any
	if !old.ExpiresAt.IsZero() {
		before = old.ExpiresAt.UTC().Format(time.RFC3339)
	}
	recordOperator(ctx, st, tenant, store.LogEntry{ResourceType: "Token", ResourceID: oldID, Name: old.Name, Operation: "rotate_token",
		Detail: "replaced by token " + nt.ID, Changes: []mapping.AttrChange{{Attr: "expiresAt", Before: before, After: exp.Format(time.RFC3339)}}})
	old.ExpiresAt, old.ReplacedBy = exp, nt.ID
	return nv, view(old, now), nil
}

// alreadyRotated is the 409 for rotating old, which a rotation replaced
// with old.ReplacedBy: rotate that one, or, if it is no longer valid,
// create a new token.
func alreadyRotated(ctx context.Context, st store.State, tenant string, old store.Token, now time.Time) error {
	msg := "token " + old.ID + " was already rotated: token " + old.ReplacedBy + " replaces it"
	if !old.ExpiresAt.IsZero() {
		msg += " (" + old.ID + " expires at " + old.ExpiresAt.UTC().Format(time.RFC3339) + ")"
	}
	if repl, err := findToken(ctx, st, tenant, old.ReplacedBy); err == nil && !repl.Valid(now) {
		msg += "; " + old.ReplacedBy + " is expired or revoked, so create a new token"
	} else {
		msg += "; rotate " + old.ReplacedBy + " instead"
	}
	return &APIError{Status: 409, Code: CodeConflict, Message: msg}
}

// rotatedInLog returns the token that replaced t according to the tenant's
// provisioning log (its rotate_token entry, "replaced by token <id>"), or
// "". It finds rotations made before tokens recorded their replacement
// (store.Token.ReplacedBy; a data directory or Redis written by an older
// build) while their entry is within the log's retention.
func rotatedInLog(ctx context.Context, st store.State, tenant string, t store.Token) string {
	entries, err := st.QueryLog(ctx, tenant, store.LogQuery{Name: t.Name, ResourceType: "Token", Limit: 1000})
	if err != nil {
		return ""
	}
	for _, e := range entries {
		if e.ResourceID == t.ID && e.Operation == "rotate_token" && !e.Rejected() {
			if id, ok := strings.CutPrefix(e.Detail, "replaced by token "); ok && id != "" {
				return id
			}
		}
	}
	return ""
}

// RevokeToken revokes a tenant's token at now. On the embedded store it
// takes effect on the next request; on Redis within a second on every
// replica (the store announces it to their token caches over pub/sub, and a
// replica whose subscription is not confirmed reads every token from Redis:
// see store/redisstore's package doc).
func RevokeToken(ctx context.Context, st store.State, tenant, id string, now time.Time) (TokenView, error) {
	if err := st.RevokeToken(ctx, tenant, id, now); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return TokenView{}, noToken(tenant, id)
		}
		return TokenView{}, err
	}
	t, err := findToken(ctx, st, tenant, id)
	recordOperator(ctx, st, tenant, store.LogEntry{ResourceType: "Token", ResourceID: id, Name: t.Name, Operation: "revoke_token"})
	return view(t, now), err
}

// ListTokens returns a tenant's tokens, oldest first.
func ListTokens(ctx context.Context, st store.State, tenant string, now time.Time) ([]TokenView, error) {
	if _, err := RequireTenant(ctx, st, tenant); err != nil {
		return nil, err
	}
	toks, err := st.ListTokens(ctx, tenant)
	if err != nil {
		return nil, err
	}
	out := make([]TokenView, len(toks))
	for i, t := range toks {
		out[i] = view(t, now)
	}
	return out, nil
}

func findToken(ctx context.Context, st store.State, tenant, id string) (store.Token, error) {
	toks, err := st.ListTokens(ctx, tenant)
	if err != nil {
		return store.Token{}, err
	}
	for _, t := range toks {
		if t.ID == id {
			return t, nil
		}
	}
	return store.Token{}, noToken(tenant, id)
}

// noToken is the not_found error for a token id the tenant does not have;
// it wraps store.ErrNotFound.
func noToken(tenant, id string) error {
	return &notFoundErr{APIError{Status: 404, Code: CodeNotFound,
		Message: "tenant " + tenant + " has no token " + id + " (see: axonflow-sync token list --tenant " + tenant + ")"}}
}

// notFoundErr is an APIError that is also store.ErrNotFound for errors.Is.
type notFoundErr struct{ APIError }

func (e *notFoundErr) Is(target error) bool { return target == store.ErrNotFound }
func (e *notFoundErr) As(target any) bool {
	if p, ok := target.(**APIError); ok {
		*p = &e.APIError
		return true
	}
	return false
}
