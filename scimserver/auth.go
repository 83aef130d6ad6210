package scimserver

import (
	"crypto/subtle"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"github.com/axonflow/axonflow-sync/internal/auththrottle"
	"github.com/axonflow/axonflow-sync/mapping"
	"github.com/axonflow/axonflow-sync/store"
)

// Authentication failure reasons, reported in the 401 detail, the
// Event.AuthFail field and metrics.
const (
	AuthMissing   = "missing"
	AuthScheme    = "scheme"
	AuthMalformed = "malformed"
	AuthUnknown   = "unknown"
	AuthExpired   = "expired"
	AuthRevoked   = "revoked"
	// AuthThrottled: the request failed to authenticate and its client
	// address had used up its failures (429 instead of 401).
	AuthThrottled = "throttled"
)

// authenticate resolves the bearer token of r (RFC 6750 §2.1; the scheme
// name is case-insensitive) to its tenant. It returns the token, or a
// reason and a human detail (with the token when it is known but expired or
// revoked). A well-formed credential costs one SHA-256 and one token-index
// read; a missing or malformed one costs nothing.
func (s *Server) authenticate(r *http.Request) (store.Token, string, string, error) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return store.Token{}, AuthMissing, "missing Authorization header; send \"Authorization: Bearer scim_...\"", nil
	}
	scheme, cred, ok := strings.Cut(strings.TrimSpace(h), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return store.Token{}, AuthScheme, "the Authorization header must use the Bearer scheme: \"Bearer scim_...\"", nil
	}
	cred = strings.TrimSpace(cred)
	if s2, _, ok := strings.Cut(cred, " "); ok && strings.EqualFold(s2, "Bearer") {
		return store.Token{}, AuthMalformed, "\"Bearer\" appears twice in the Authorization header; enter it once", nil
	}
	if cred == "" || strings.ContainsAny(cred, " \t") {
		return store.Token{}, AuthMalformed, "the bearer token is malformed", nil
	}
	// The hash in the request's allocation (TokenByHash keeps no
	// reference to it).
	rc := getReqCtx(r)
	hb := store.AppendHashToken(rc.hashBuf[:0], cred)
	hash := unsafe.String(unsafe.SliceData(hb), len(hb))
	ctx, cancel := storeCtx(r)
	defer cancel()
	tok, err := s.st.TokenByHash(ctx, hash)
	if errors.Is(err, store.ErrNotFound) {
		return store.Token{}, AuthUnknown, "the bearer token is not known; create one with \"axonflow-sync token create --tenant ID\"", nil
	}
	if err != nil {
		return store.Token{}, "", "", err
	}
	if subtle.ConstantTimeCompare([]byte(tok.Hash), []byte(hash)) != 1 {
		return store.Token{}, AuthUnknown, "the bearer token is not known", nil
	}
	now := s.now()
	if !tok.RevokedAt.IsZero() {
		return tok, AuthRevoked, "the bearer token " + tok.Prefix + "... was revoked at " + tok.RevokedAt.UTC().Format(time.RFC3339) + "; create a new one", nil
	}
	if !tok.ExpiresAt.IsZero() && !now.Before(tok.ExpiresAt) {
		return tok, AuthExpired, "the bearer token " + tok.Prefix + "... expired at " + tok.ExpiresAt.UTC().Format(time.RFC3339) + "; create a new one", nil
	}
	s.touch(r, tok, now)
	return tok, "", "", nil
}

// touch writes lastUsedAt at most once per TouchInterval per token.
func (s *Server) touch(r *http.Request, tok store.Token, now time.Time) {
	s.touchMu.Lock()
	last, seen := s.touched[tok.ID]
	if !seen {
		last = tok.LastUsedAt
	}
	due := now.Sub(last) >= s.touchInt
	if due {
		s.touched[tok.ID] = now
	}
	s.touchMu.Unlock()
	if !due {
		return
	}
	ctx, cancel := storeCtx(r)
	defer cancel()
	if err := s.st.TouchToken(ctx, tok.Tenant, tok.ID, now); err != nil {
		s.log.Warn().Err(err).Str("token_id", tok.ID).Msg("recording token use failed")
	}
}

// authed wraps a handler with bearer authentication; the token's tenant
// scopes everything the handler does.
func (s *Server) authed(resource string, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		rc := getReqCtx(r)
		rc.ev.Resource = resource
		// The credential is checked first: a valid token is never refused
		// by the throttle, whatever else fails from the same address
		// (behind a proxy every client has the proxy's address). Only a
		// failure is charged to the address's bucket; once it is empty the
		// failure is answered 429 instead of 401.
		tok, reason, detail, err := s.authenticate(r)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if reason != "" {
			if wait := s.throttle.Fail(auththrottle.ClientAddr(r), s.now()); wait > 0 {
				// Not recorded in the token's tenant's log (no TokenTenant):
				// a throttled address writes nothing anywhere.
				secs := auththrottle.RetryAfterSeconds(wait)
				rc.ev.AuthFail = AuthThrottled
				w.Header().Set("Retry-After", strconv.Itoa(secs))
				s.failStatus(w, r, http.StatusTooManyRequests, "", "too many failed authentications from this address; retry in "+strconv.Itoa(secs)+" s")
				return
			}
			rc.ev.AuthFail = reason
			rc.ev.TokenID, rc.ev.TokenTenant = tok.ID, tok.Tenant // expired or revoked: known
			w.Header().Set("WWW-Authenticate", `Bearer realm="SCIM"`)
			s.failStatus(w, r, http.StatusUnauthorized, "", detail)
			return
		}
		rc.tenant, rc.token = tok.Tenant, tok
		rc.ev.Tenant, rc.ev.TokenID = tok.Tenant, tok.ID
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			// The provisioning log's actor of every write of this request;
			// rejections are recorded from the Event (provlog), with the
			// status and detail answered.
			rc.setWriter(store.Writer{Actor: store.ActorOktaPush, ID: tok.ID, RequestID: rc.id,
				UpdateOp: updateOp(r.Method), OwnRejections: true})
		}
		setHeader(w, "X-Axonflow-Tenant", tok.Tenant) // X-AxonFlow-Tenant, canonical
		// A query string that does not parse loses its bad pairs in
		// r.URL.Query() without a word: a mis-encoded filter would be
		// dropped and a userName lookup would list every user. Refuse it.
		// (An empty one has nothing to check.)
		if err := checkQuery(r.URL.RawQuery); err != nil {
			scimType := mapping.ScimInvalidValue
			if strings.Contains(r.URL.RawQuery, "filter=") {
				scimType = mapping.ScimInvalidFilter
			}
			s.failStatus(w, r, http.StatusBadRequest, scimType,
				"the query string is malformed ("+err.Error()+"); percent-encode the filter and the other parameters")
			return
		}
		h(w, r)
	}
}

// checkQuery returns url.ParseQuery's error for a raw query string; an
// empty one is not parsed (ParseQuery would allocate an empty map).
func checkQuery(raw string) error {
	if raw == "" {
		return nil
	}
	_, err := url.ParseQuery(raw)
	return err
}

// discovery wraps an unauthenticated, read-only discovery handler.
func (s *Server) discovery(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		getReqCtx(r).ev.Resource = "discovery"
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			s.methodNotAllowed(w, r, "GET")
			return
		}
		h(w, r)
	}
}

// updateOp names an update by a SCIM method in the provisioning log
// (store.Writer.UpdateOp): replace (PUT) or patch (PATCH).
func updateOp(method string) string {
	if method == http.MethodPatch {
		return "patch"
	}
	return "replace"
}
