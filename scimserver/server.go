// Package scimserver is the SCIM 2.0 service provider Okta provisions
// (RFC 7644): bearer-token authentication that resolves a tenant, routing on
// net/http.ServeMux under /scim/v2, discovery endpoints, Users and Groups
// handlers, and SCIM error rendering. It reaches state only through the
// store.State interface and SCIM semantics only through package mapping.
//
// cmd imports it to serve; internal/provlog and internal/telemetry
// implement its Observer; tests import it to build handlers. It must not
// import sync or config.
package scimserver

import (
	"context"
	"crypto/sha256"
	"math/rand/v2"
	"net/http"
	"net/netip"
	"strings"
	gosync "sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/rs/zerolog"

	"github.com/axonflow/axonflow-sync/internal/auththrottle"
	"github.com/axonflow/axonflow-sync/mapping"
	"github.com/axonflow/axonflow-sync/store"
)

// BasePath is where the SCIM API is mounted.
const BasePath = "/scim/v2"

// Defaults for Options.
const (
	DefaultMaxBodyBytes  = 1 << 20 // 1 MiB; larger bodies get 413
	DefaultTouchInterval = time.Minute
	DefaultMaxResults    = 1000 // the most resources one list response holds
	DefaultPageSize      = 100  // count when the client gives none
	// DefaultMaxFilterScan is the most records one filtered list request
	// may scan (a filter the store cannot answer from an index).
	DefaultMaxFilterScan      = 100_000
	defaultStoreOpTimeoutSecs = 10
)

// Options configures a Server. Store is required; zero values elsewhere
// take the defaults above.
type Options struct {
	Store  store.State
	Logger zerolog.Logger
	// MaxBodyBytes caps request bodies (bytes); larger gets 413.
	MaxBodyBytes int64
	// TouchInterval is the least time between two lastUsedAt writes of one
	// token, so a busy Okta does not turn reads into writes.
	TouchInterval time.Duration
	// Now returns the current time (tests may fix it).
	Now func() time.Time
	// AuthFailBurst is how many failed authentications one client address
	// may make before it is throttled (429 with Retry-After);
	// AuthFailRefill how often one more is allowed (DefaultAuthFailBurst,
	// DefaultAuthFailRefill when zero). Only failures are charged and a
	// valid token is checked before the throttle: it is never refused.
	AuthFailBurst  int
	AuthFailRefill time.Duration
	// ExternalURL, if set, is the public scheme://host[:port] (no path) that
	// Location and meta.location are built from, whatever the request
	// says.
	ExternalURL string
	// TrustedProxies are the networks whose X-Forwarded-Proto and
	// X-Forwarded-Host are honoured (when ExternalURL is not set); from any
	// other peer they are ignored. Nil trusts none.
	TrustedProxies []netip.Prefix
	// Observer, if set, is told about each request (metrics, provisioning log).
	Observer Observer
	// MaxFilterScan bounds the work of one filtered list request: a filter
	// that is not an indexed eq (userName pr, co, sw, ...) reads the
	// tenant page by page, and a tenant with more than MaxFilterScan users
	// (or groups) is refused with 400 tooMany before anything is scanned
	// (DefaultMaxFilterScan when zero; config filter.maxScan).
	MaxFilterScan int
}

// Observer receives one event per SCIM request after it completes.
type Observer interface {
	ObserveSCIM(ev Event)
}

// Event describes one completed SCIM request. It never carries a token or
// a request body.
type Event struct {
	RequestID  string
	Tenant     string // "" when authentication failed
	TokenID    string
	Method     string // MethodLabel of the request's method: a closed set
	Resource   string // "Users", "Groups", "discovery", "other"
	ResourceID string
	Name       string // userName or displayName when known
	Status     int
	ScimType   string
	Detail     string // error detail, for rejected requests
	AuthFail   string // reason when Status is 401/429 from authentication
	Duration   time.Duration
	Changed    bool // whether the request changed stored state
	// Changes lists what a user write or a group create changed:
	// attributes before → after (mapping.DiffAttrs; never a password) and a
	// created group's members (mapping.MemberChange). Empty for reads,
	// rejected requests, deletes and group updates (the provisioning log
	// entry of every change, with its Changes, is written by the store in
	// the same atomic change: store.Logged).
	Changes []mapping.AttrChange
	// TokenTenant is the tenant of a known but expired or revoked token
	// when authentication failed (Tenant stays ""), so the provisioning log
	// can record the rejection for that tenant; "" otherwise.
	TokenTenant string
}

// Server serves the SCIM API. Create one with New.
type Server struct {
	st       store.State
	log      zerolog.Logger
	maxBody  int64
	touchInt time.Duration
	now      func() time.Time
	obs      Observer
	mux      *http.ServeMux

	throttle *auththrottle.Throttle

	externalURL string
	// externalBase is externalURL + BasePath; lastBase the last base URL
	// baseURL built from a request (without externalURL).
	externalBase string
	lastBase     atomic.Pointer[builtBase]
	trusted      []netip.Prefix

	maxScan int

	touchMu gosync.Mutex
	touched map[string]time.Time // token id → last lastUsedAt write

	// storeBounded: the store bounds each of its calls to at most half of
	// storeCtx's lifetime itself (store.OpTimeout), so storeCtx adds no
	// deadline of its own (it could never be the one that ends a call).
	storeBounded bool
}

// New returns a Server for opts. It panics only if opts.Store is nil
// (a programming error).
func New(opts Options) *Server {
	if opts.Store == nil {
		panic("scimserver: Options.Store is required")
	}
	s := &Server{
		st:       opts.Store,
		log:      opts.Logger,
		maxBody:  opts.MaxBodyBytes,
		touchInt: opts.TouchInterval,
		now:      opts.Now,
		maxScan:  opts.MaxFilterScan,
		obs:      opts.Observer,
		touched:  map[string]time.Time{},
		throttle: auththrottle.New(opts.AuthFailBurst, opts.AuthFailRefill),

		externalURL: strings.TrimSuffix(opts.ExternalURL, "/"),
		trusted:     opts.TrustedProxies,
	}
	if s.externalURL != "" {
		s.externalBase = s.externalURL + BasePath
	}
	if s.maxScan <= 0 {
		s.maxScan = DefaultMaxFilterScan
	}
	if s.maxBody <= 0 {
		s.maxBody = DefaultMaxBodyBytes
	}
	if s.touchInt <= 0 {
		s.touchInt = DefaultTouchInterval
	}
	if s.now == nil {
		s.now = time.Now
	}
	if ot, ok := opts.Store.(store.OpTimeout); ok {
		d := ot.OpTimeout()
		s.storeBounded = d > 0 && d <= defaultStoreOpTimeoutSecs*time.Second/2
	}
	s.routes()
	return s
}

func (s *Server) routes() {
	m := http.NewServeMux()
	m.HandleFunc(BasePath+"/ServiceProviderConfig", s.discovery(s.serviceProviderConfig))
	m.HandleFunc(BasePath+"/ResourceTypes", s.discovery(s.resourceTypes))
	m.HandleFunc(BasePath+"/ResourceTypes/{name}", s.discovery(s.resourceType))
	m.HandleFunc(BasePath+"/Schemas", s.discovery(s.schemas))
	m.HandleFunc(BasePath+"/Schemas/{id}", s.discovery(s.schema))
	m.HandleFunc(BasePath+"/Users", s.authed("Users", s.users))
	m.HandleFunc(BasePath+"/Users/{id}", s.authed("Users", s.user))
	m.HandleFunc(BasePath+"/Groups", s.authed("Groups", s.groups))
	m.HandleFunc(BasePath+"/Groups/{id}", s.authed("Groups", s.group))
	m.HandleFunc(BasePath+"/", s.authed("other", s.notFound))
	m.HandleFunc(BasePath, s.authed("other", s.notFound))
	// Outside the SCIM base path: a SCIM 404 too (every error body is SCIM
	// JSON), without authentication since nothing is served there.
	m.HandleFunc("/", s.notFound)
	s.mux = m
}

// ServeHTTP implements http.Handler. Paths are normalised first (repeated
// and trailing slashes removed) so /scim/v2//Users and /scim/v2/Users/
// behave like /scim/v2/Users; panics become a 500 SCIM error.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	// One allocation holds the request's facts, its context, the
	// response recorder and the bytes of a request id made here.
	rc := &reqCtx{Context: r.Context(), storeBounded: s.storeBounded}
	reqID := r.Header.Get("X-Request-Id")
	if reqID == "" || len(reqID) > 128 {
		reqID = newRequestID(&rc.idBuf)
	}
	method := MethodLabel(r.Method)
	rc.id, rc.ev = reqID, Event{RequestID: reqID, Method: method, Resource: "other"}
	rw := &rc.rec
	rw.ResponseWriter, rw.status = w, 200
	setHeader(rw, "X-Request-Id", reqID)
	r = r.WithContext(rc)
	defer func() {
		for _, cancel := range rc.storeCancels {
			cancel()
		}
		if p := recover(); p != nil {
			s.log.Error().Str("request_id", reqID).Interface("panic", p).Str("path", r.URL.Path).Msg("panic in SCIM handler")
			if !rw.wrote {
				writeError(rw, http.StatusInternalServerError, "", "internal error; see the server log for request id "+reqID)
			}
		}
		rc.ev.Status = rw.status
		rc.ev.Duration = time.Since(start)
		lvl := zerolog.InfoLevel
		if rw.status >= 500 {
			lvl = zerolog.ErrorLevel
		}
		e := s.log.WithLevel(lvl).Str("request_id", reqID).Str("method", method).
			Str("path", r.URL.Path).Int("status", rw.status).Dur("duration", rc.ev.Duration)
		if rc.ev.Tenant != "" {
			e = e.Str("tenant", rc.ev.Tenant)
		}
		if rc.ev.ScimType != "" {
			e = e.Str("scim_type", rc.ev.ScimType)
		}
		if rc.ev.Detail != "" && rw.status >= 400 {
			e = e.Str("detail", rc.ev.Detail)
		}
		e.Msg("scim request")
		if s.obs != nil {
			s.obs.ObserveSCIM(rc.ev)
		}
	}()
	r.URL.Path = cleanPath(r.URL.Path)
	r.URL.RawPath = ""
	s.mux.ServeHTTP(rw, r)
}

// MethodLabel returns m when it is one of the HTTP methods the SCIM API
// knows (GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS) and "other" for any
// other string. Metric labels and log fields take the method from here,
// so a client inventing methods cannot grow them (a label value is kept
// for the life of the process).
func MethodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions:
		return m
	}
	return "other"
}

// cleanPath collapses repeated slashes and drops a trailing slash.
func cleanPath(p string) string {
	if !strings.Contains(p, "//") && (len(p) <= 1 || p[len(p)-1] != '/') {
		return p
	}
	var b strings.Builder
	b.Grow(len(p))
	prevSlash := false
	for i := 0; i < len(p); i++ {
		c := p[i]
		if c == '/' {
			if prevSlash {
				continue
			}
			prevSlash = true
		} else {
			prevSlash = false
		}
		b.WriteByte(c)
	}
	out := b.String()
	if len(out) > 1 && out[len(out)-1] == '/' {
		out = out[:len(out)-1]
	}
	return out
}

// newRequestID returns 16 random hex digits, written to *b, which the
// string shares (no allocation of its own): b must not change afterwards
// (a reqCtx's idBuf, written once). Request ids must be unique enough to
// find a request in the logs, not secret, so they come from math/rand/v2
// (no system call per request).
func newRequestID(b *[16]byte) string {
	v := rand.Uint64()
	for i := 15; i >= 0; i-- {
		b[i] = "0123456789abcdef"[v&0xF]
		v >>= 4
	}
	return unsafe.String(&b[0], len(b))
}

// reqCtxKey is the context key of a request's *reqCtx.
type reqCtxKey struct{}

// reqCtx carries per-request facts from handlers to the logging wrapper.
// It is the request's context too (the request's own, with the value
// reqCtxKey{} → itself: context.WithValue without its allocation), and
// holds the response recorder.
type reqCtx struct {
	context.Context
	rec recorder

	id     string
	tenant string
	token  store.Token
	ev     Event

	// storeCtx is the deadline context of the request's store calls
	// (see storeCtx), ending at storeDeadline; storeCancels cancel every
	// one made, when the request ends.
	storeCtx      context.Context
	storeDeadline time.Time
	storeCancels  []context.CancelFunc
	// storeBounded is Server.storeBounded: storeCtx is the request's
	// context (with the writer), without a deadline.
	storeBounded bool

	// idBuf holds the bytes of the request id when ServeHTTP made it
	// (newRequestID), hashBuf those of the token hash (authenticate),
	// roles room for a single user's roles (userParts): the request's
	// allocation serves them.
	idBuf   [16]byte
	hashBuf [2 * sha256.Size]byte
	roles   [1]mapping.RoleAssignment

	// writer is who the request's writes are recorded as in the
	// provisioning log (set by authed for writing methods); storeCtx
	// carries it to the store (store.WithWriter).
	writer *store.Writer
}

// Value returns rc for reqCtxKey{}, else the request context's value.
func (rc *reqCtx) Value(key any) any {
	if _, ok := key.(reqCtxKey); ok {
		return rc
	}
	return rc.Context.Value(key)
}

// setWriter attaches w to the request's store calls (see storeCtx).
func (rc *reqCtx) setWriter(w store.Writer) {
	rc.writer = &w
	if rc.storeCtx != nil {
		rc.storeCtx = store.WithWriter(rc.storeCtx, w)
	}
}

func getReqCtx(r *http.Request) *reqCtx {
	rc, _ := r.Context().Value(reqCtxKey{}).(*reqCtx)
	if rc == nil {
		rc = &reqCtx{}
	}
	return rc
}

// recorder remembers the status written.
type recorder struct {
	http.ResponseWriter
	status int
	wrote  bool
	// vals backs the one-value slices of the headers set with setHeader
	// (nvals of them so far).
	vals  [4]string
	nvals int
}

// setHeader sets the header key, which must be in canonical form
// (textproto.CanonicalMIMEHeaderKey: "X-Request-Id", "Etag"), to the one
// value v, as w.Header().Set does; when w is the request's recorder the
// value's slice is the recorder's (no allocation) for the first
// len(recorder.vals) headers set.
func setHeader(w http.ResponseWriter, key, v string) {
	h := w.Header()
	if rec, ok := w.(*recorder); ok && rec.nvals < len(rec.vals) {
		i := rec.nvals
		rec.nvals++
		rec.vals[i] = v
		h[key] = rec.vals[i : i+1 : i+1]
		return
	}
	h[key] = []string{v}
}

func (r *recorder) WriteHeader(code int) {
	if !r.wrote {
		r.status, r.wrote = code, true
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	r.wrote = true
	return r.ResponseWriter.Write(b)
}

// storeCtx bounds store calls so a hung backend cannot hold a worker: the
// context it returns ends defaultStoreOpTimeoutSecs (10 s) after it was
// made. One such context serves all the store calls of a request (a timer
// per call was a measurable part of a GET's cost); a call made when less
// than half of it is left gets a fresh one, so every call has 5–10 s. They
// are all cancelled when the request ends (ServeHTTP); the returned cancel
// does nothing and is kept so that call sites read as before. The context
// carries the request's store.Writer once authentication set one, so the
// store records the request's writes in the provisioning log. With a
// store that bounds its calls itself to at most 5 s (store.OpTimeout, as
// the Redis store does), it is the request's context with no deadline of
// its own: each call's deadline is the store's, as it would be anyway.
func storeCtx(r *http.Request) (context.Context, context.CancelFunc) {
	rc, _ := r.Context().Value(reqCtxKey{}).(*reqCtx)
	if rc == nil { // outside ServeHTTP (tests calling a handler directly)
		return context.WithTimeout(r.Context(), defaultStoreOpTimeoutSecs*time.Second)
	}
	if rc.storeBounded {
		if rc.storeCtx == nil {
			rc.storeCtx = r.Context()
			if rc.writer != nil {
				rc.storeCtx = store.WithWriter(rc.storeCtx, *rc.writer)
			}
		}
		return rc.storeCtx, noCancel
	}
	const ttl = defaultStoreOpTimeoutSecs * time.Second
	if rc.storeCtx == nil || time.Until(rc.storeDeadline) < ttl/2 {
		var cancel context.CancelFunc
		rc.storeDeadline = time.Now().Add(ttl)
		rc.storeCtx, cancel = context.WithDeadline(r.Context(), rc.storeDeadline)
		rc.storeCancels = append(rc.storeCancels, cancel)
		if rc.writer != nil {
			rc.storeCtx = store.WithWriter(rc.storeCtx, *rc.writer)
		}
	}
	return rc.storeCtx, noCancel
}

func noCancel() {}
