package console

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"time"
)

// Cookie names. The session cookie holds the sealed session; the flow
// cookie holds an OIDC sign-in in progress (state, nonce, PKCE verifier);
// the pre-session cookie holds the CSRF token of the sign-in form.
const (
	sessionCookie = "axonflow_console"
	flowCookie    = "axonflow_console_oidc"
	preCookie     = "axonflow_console_pre"
	// csrfField is the form field carrying the CSRF token.
	csrfField = "csrf"
	// flowMaxAge bounds an OIDC sign-in round trip.
	flowMaxAge = 10 * time.Minute
)

// session is what the session cookie holds (sealed: the browser can read
// or change none of it).
type session struct {
	// Operator is recorded as the actor of every change made in the session
	// ("console:token", or "console:<email> sub=<subject>").
	Operator string `json:"op"`
	Subject  string `json:"sub,omitempty"`
	Email    string `json:"email,omitempty"`
	// Approver may change things (plans, mappings, tokens, runs).
	Approver bool   `json:"appr"`
	CSRF     string `json:"csrf"`
	Created  int64  `json:"c"` // unix seconds
	Seen     int64  `json:"s"` // unix seconds of the last request
}

// sealer seals and opens cookie values with AES-256-GCM; the cookie's name
// is the additional data, so one cookie's value is refused as another's.
type sealer struct{ aead cipher.AEAD }

// newSealer derives the key from secrets (the admin token, the OIDC client
// secret): changing either signs everybody out.
func newSealer(secrets ...string) *sealer {
	h := sha256.New()
	h.Write([]byte("axonflow-sync console cookie key v1"))
	for _, s := range secrets {
		h.Write([]byte{0})
		h.Write([]byte(s))
	}
	block, err := aes.NewCipher(h.Sum(nil))
	if err != nil {
		panic(err) // a 32-byte key: cannot fail
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		panic(err)
	}
	return &sealer{aead: aead}
}

func (s *sealer) seal(name string, v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // plain values: cannot fail
	}
	nonce := make([]byte, s.aead.NonceSize())
	_, _ = rand.Read(nonce)
	return base64.RawURLEncoding.EncodeToString(s.aead.Seal(nonce, nonce, b, []byte(name)))
}

var errBadCookie = errors.New("console: cookie cannot be opened")

func (s *sealer) open(name, value string, v any) error {
	b, err := base64.RawURLEncoding.DecodeString(value)
	if err != nil || len(b) < s.aead.NonceSize() {
		return errBadCookie
	}
	n := s.aead.NonceSize()
	plain, err := s.aead.Open(nil, b[:n], b[n:], []byte(name))
	if err != nil {
		return errBadCookie
	}
	if json.Unmarshal(plain, v) != nil {
		return errBadCookie
	}
	return nil
}

// randomToken returns 32 random bytes, base64url.
func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// equal compares two secrets in constant time.
func equal(a, b string) bool {
	x, y := sha256.Sum256([]byte(a)), sha256.Sum256([]byte(b))
	return subtle.ConstantTimeCompare(x[:], y[:]) == 1
}

// sessionState says why a request has no usable session.
type sessionState int

const (
	sessionNone sessionState = iota
	sessionOK
	sessionExpired
	// sessionUnknown: the store could not say whether the session was
	// signed out on another replica; the request is refused (503).
	sessionUnknown
)

// readSession returns the request's session and whether it is valid now
// (not past the idle or absolute timeout).
func (c *Console) readSession(r *http.Request) (*session, sessionState) {
	ck, err := r.Cookie(sessionCookie)
	if err != nil {
		return nil, sessionNone
	}
	var s session
	if c.seal.open(sessionCookie, ck.Value, &s) != nil {
		return nil, sessionNone
	}
	now := c.now()
	if now.Sub(time.Unix(s.Created, 0)) > c.maxAge || now.Sub(time.Unix(s.Seen, 0)) > c.idle || c.isSignedOut(s.CSRF) {
		return nil, sessionExpired
	}
	switch ended, err := c.st.SessionEnded(r.Context(), endedKey(s.CSRF)); {
	case err != nil:
		c.log.Warn().Err(err).Msg("console: cannot read whether the session was signed out")
		return nil, sessionUnknown
	case ended: // signed out on another replica (or before a restart)
		c.rememberSignOut(s.CSRF, c.sessionEnd(&s))
		return nil, sessionExpired
	}
	return &s, sessionOK
}

// endedKey is the store key of a signed-out session: a hash of its CSRF
// token (unique per session), so the store never holds the token itself.
func endedKey(csrf string) string {
	h := sha256.Sum256([]byte("axonflow-console-session\x00" + csrf))
	return hex.EncodeToString(h[:])
}

// sessionEnd is when s expires at the latest (sign-in plus sessionMaxAge).
func (c *Console) sessionEnd(s *session) time.Time { return time.Unix(s.Created, 0).Add(c.maxAge) }

// writeSession (re)sets the session cookie with s.Seen at now.
func (c *Console) writeSession(w http.ResponseWriter, r *http.Request, s *session) {
	s.Seen = c.now().Unix()
	c.setCookie(w, r, sessionCookie, c.seal.seal(sessionCookie, s), c.maxAge)
}

// setCookie sets an HttpOnly, SameSite=Lax cookie on /ui/, Secure behind
// https; maxAge <= 0 deletes it.
func (c *Console) setCookie(w http.ResponseWriter, r *http.Request, name, value string, maxAge time.Duration) {
	ck := &http.Cookie{Name: name, Value: value, Path: "/ui/", HttpOnly: true, SameSite: http.SameSiteLaxMode,
		Secure: c.secure(r), MaxAge: int(maxAge / time.Second)}
	if maxAge <= 0 {
		ck.Value, ck.MaxAge = "", -1
	}
	http.SetCookie(w, ck)
}

// secure reports whether the console is reached over https: TLS on the
// connection, a proxy's X-Forwarded-Proto https, or an https redirect URL.
func (c *Console) secure(r *http.Request) bool {
	return r.TLS != nil || r.Header.Get("X-Forwarded-Proto") == "https" || c.httpsRedirect
}

// newSession starts a session for a signed-in principal.
func (c *Console) newSession(w http.ResponseWriter, r *http.Request, s *session) {
	s.Created, s.CSRF = c.now().Unix(), randomToken()
	c.writeSession(w, r, s)
	c.setCookie(w, r, preCookie, "", 0)
	c.setCookie(w, r, flowCookie, "", 0)
}

// endSession records s as signed out until the session's absolute expiry:
// in the store (store.Sessions), so that every replica refuses its cookie
// (and any copy of it), and in this process, which refuses it even while
// the store is unreachable. A store failure is logged; this replica still
// refuses the session.
func (c *Console) endSession(ctx context.Context, s *session) {
	until := c.sessionEnd(s)
	if err := c.st.EndSession(ctx, endedKey(s.CSRF), until); err != nil {
		c.log.Warn().Err(err).Msg("console: sign-out not recorded in the store: other replicas accept this session until it expires")
	}
	c.rememberSignOut(s.CSRF, until)
}

// rememberSignOut records in this process that the session whose CSRF
// token is csrf ended, until until. Expired records are dropped on the way,
// so the set stays as small as the number of sessions signed out within
// one sessionMaxAge.
func (c *Console) rememberSignOut(csrf string, until time.Time) {
	now := c.now()
	c.signedOutMu.Lock()
	defer c.signedOutMu.Unlock()
	if c.signedOut == nil {
		c.signedOut = make(map[string]time.Time)
	}
	for k, until := range c.signedOut {
		if now.After(until) {
			delete(c.signedOut, k)
		}
	}
	c.signedOut[csrf] = until
}

// isSignedOut reports whether the session whose CSRF token is csrf was
// ended by Sign out in this process.
func (c *Console) isSignedOut(csrf string) bool {
	c.signedOutMu.Lock()
	defer c.signedOutMu.Unlock()
	_, ok := c.signedOut[csrf]
	return ok
}
