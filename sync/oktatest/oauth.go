package oktatest

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Default scopes granted to a service app registered without explicit scopes.
var DefaultScopes = []string{"okta.apps.read", "okta.groups.read", "okta.users.read"}

type serviceApp struct {
	clientID string
	key      *rsa.PublicKey
	keyID    string
	scopes   map[string]bool
}

type accessTok struct {
	clientID string
	scopes   map[string]bool
	exp      time.Time
}

type oauthState struct {
	mu     sync.Mutex
	apps   map[string]*serviceApp
	tokens map[string]*accessTok
	seq    atomic.Uint64
	issued atomic.Int64
}

func (o *oauthState) init() {
	o.apps = map[string]*serviceApp{}
	o.tokens = map[string]*accessTok{}
}

func (o *oauthState) lookup(tok string, now time.Time) (*accessTok, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	t, ok := o.tokens[tok]
	if !ok || !now.Before(t.exp) {
		return nil, false
	}
	return t, true
}

// RegisterServiceApp registers an OAuth 2.0 service app (client credentials
// with private_key_jwt, Okta: https://developer.okta.com/docs/guides/implement-oauth-for-okta-serviceapp/).
// Client assertions for clientID must be RS256 JWTs signed by the private key
// matching pub; when keyID is not empty the JWT's kid header must equal it.
// scopes are the grantable scopes (empty: DefaultScopes).
func (s *Server) RegisterServiceApp(clientID string, pub *rsa.PublicKey, keyID string, scopes ...string) {
	if len(scopes) == 0 {
		scopes = DefaultScopes
	}
	a := &serviceApp{clientID: clientID, key: pub, keyID: keyID, scopes: map[string]bool{}}
	for _, sc := range scopes {
		a.scopes[sc] = true
	}
	s.oauth.mu.Lock()
	defer s.oauth.mu.Unlock()
	s.oauth.apps[clientID] = a
}

// TokensIssued returns how many access tokens the token endpoint issued.
func (s *Server) TokensIssued() int64 { return s.oauth.issued.Load() }

// RevokeAccessTokens invalidates every issued access token (the next API call
// with one gets 401 invalid_token).
func (s *Server) RevokeAccessTokens() {
	s.oauth.mu.Lock()
	defer s.oauth.mu.Unlock()
	s.oauth.tokens = map[string]*accessTok{}
}

func (s *Server) tokenError(w http.ResponseWriter, status int, code, desc string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": desc})
}

// handleToken serves POST /oauth2/v1/token for grant_type=client_credentials
// with a private_key_jwt client assertion. Parameters may come in the query
// string (as okta-sdk-golang sends them) or a form body.
func (s *Server) handleToken(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	if err := r.ParseForm(); err != nil {
		s.tokenError(w, http.StatusBadRequest, "invalid_request", "malformed request body")
		return
	}
	p := r.Form
	if p.Get("grant_type") != "client_credentials" {
		s.tokenError(w, http.StatusBadRequest, "unsupported_grant_type", "The authorization grant type is not supported by the authorization server.")
		return
	}
	if p.Get("client_assertion_type") != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" {
		s.tokenError(w, http.StatusUnauthorized, "invalid_client", "client_assertion_type must be urn:ietf:params:oauth:client-assertion-type:jwt-bearer.")
		return
	}
	app, err := s.verifyAssertion(p.Get("client_assertion"), rc.now)
	if err != nil {
		s.tokenError(w, http.StatusUnauthorized, "invalid_client", "The client_assertion is invalid: "+err.Error())
		return
	}
	requested := strings.Fields(p.Get("scope"))
	if len(requested) == 0 {
		s.tokenError(w, http.StatusBadRequest, "invalid_scope", "The authorization server resource does not have any configured default scopes, 'scope' must be provided.")
		return
	}
	granted := map[string]bool{}
	var denied []string
	for _, sc := range requested {
		if !app.scopes[sc] {
			denied = append(denied, sc)
		}
		granted[sc] = true
	}
	if len(denied) > 0 {
		s.tokenError(w, http.StatusBadRequest, "invalid_scope", "The following scopes are not allowed: "+strings.Join(denied, ", "))
		return
	}
	tok := fmt.Sprintf("oktatest-at-%d-%s", s.oauth.seq.Add(1), app.clientID)
	s.oauth.mu.Lock()
	s.oauth.tokens[tok] = &accessTok{clientID: app.clientID, scopes: granted, exp: rc.now.Add(s.tokenTTL)}
	s.oauth.mu.Unlock()
	s.oauth.issued.Add(1)
	s.writeJSON(w, mustJSON(map[string]any{
		"token_type":   "Bearer",
		"expires_in":   int(s.tokenTTL / time.Second),
		"access_token": tok,
		"scope":        strings.Join(requested, " "),
	}))
}

// verifyAssertion checks an RS256 client assertion: signature against the
// registered key, iss == sub == client id, aud == <org>/oauth2/v1/token, exp in
// the future, kid when the app has one.
func (s *Server) verifyAssertion(jwt string, now time.Time) (*serviceApp, error) {
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		return nil, fmt.Errorf("not a compact JWS")
	}
	var hdr struct {
		Alg string `json:"alg"`
		Kid string `json:"kid"`
	}
	var claims struct {
		Iss string          `json:"iss"`
		Sub string          `json:"sub"`
		Aud json.RawMessage `json:"aud"`
		Exp int64           `json:"exp"`
		Iat int64           `json:"iat"`
	}
	if err := decodeSegment(parts[0], &hdr); err != nil {
		return nil, fmt.Errorf("header: %w", err)
	}
	if err := decodeSegment(parts[1], &claims); err != nil {
		return nil, fmt.Errorf("claims: %w", err)
	}
	if hdr.Alg != "RS256" {
		return nil, fmt.Errorf("alg %q not supported", hdr.Alg)
	}
	s.oauth.mu.Lock()
	app, ok := s.oauth.apps[claims.Iss]
	s.oauth.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("unknown client %q", claims.Iss)
	}
	if claims.Sub != claims.Iss {
		return nil, fmt.Errorf("sub must equal iss")
	}
	if app.keyID != "" && hdr.Kid != app.keyID {
		return nil, fmt.Errorf("kid %q does not match a registered key", hdr.Kid)
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return nil, fmt.Errorf("signature encoding: %w", err)
	}
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if err := rsa.VerifyPKCS1v15(app.key, crypto.SHA256, sum[:], sig); err != nil {
		return nil, fmt.Errorf("signature verification failed")
	}
	wantAud := s.URL + "/oauth2/v1/token"
	var aud string
	var auds []string
	if json.Unmarshal(claims.Aud, &aud) == nil {
		auds = []string{aud}
	} else if json.Unmarshal(claims.Aud, &auds) != nil {
		return nil, fmt.Errorf("aud malformed")
	}
	audOK := false
	for _, a := range auds {
		audOK = audOK || a == wantAud
	}
	if !audOK {
		return nil, fmt.Errorf("aud must be %s", wantAud)
	}
	if claims.Exp == 0 || !now.Before(time.Unix(claims.Exp, 0)) {
		return nil, fmt.Errorf("expired")
	}
	if claims.Iat > now.Add(time.Minute).Unix() {
		return nil, fmt.Errorf("issued in the future")
	}
	return app, nil
}

func decodeSegment(seg string, v any) error {
	b, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}
