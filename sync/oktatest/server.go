package oktatest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Route names: the method and path pattern of each endpoint the fake serves.
// They key request counters (Server.Calls), rate-limit buckets and faults.
const (
	RouteAppUsers   = "GET /api/v1/apps/{appId}/users"
	RouteAppGroups  = "GET /api/v1/apps/{appId}/groups"
	RouteGroups     = "GET /api/v1/groups"
	RouteGroup      = "GET /api/v1/groups/{groupId}"
	RouteGroupUsers = "GET /api/v1/groups/{groupId}/users"
	RouteUsers      = "GET /api/v1/users"
	RouteUser       = "GET /api/v1/users/{id}"
	// RouteAppUser, RouteAppGroup and RouteUserGroups are single-object
	// reads (the reconciler's explain).
	RouteAppUser    = "GET /api/v1/apps/{appId}/users/{userId}"
	RouteAppGroup   = "GET /api/v1/apps/{appId}/groups/{groupId}"
	RouteUserGroups = "GET /api/v1/users/{id}/groups"
	RouteToken      = "POST /oauth2/v1/token"
	// RouteOther counts requests to paths the fake does not serve (404).
	RouteOther = "other"
)

// Rate-limit bucket names (Okta: https://developer.okta.com/docs/reference/rl-global-mgmt/).
const (
	BucketApps   = "apps"   // every /api/v1/apps endpoint; Okta: ~100 requests/minute
	BucketGroups = "groups" // /api/v1/groups endpoints
	BucketUsers  = "users"  // /api/v1/users endpoints
	BucketToken  = "token"  // /oauth2/v1/token
)

var routeBucket = map[string]string{
	RouteAppUsers: BucketApps, RouteAppGroups: BucketApps, RouteAppUser: BucketApps, RouteAppGroup: BucketApps,
	RouteUserGroups: BucketUsers,
	RouteGroups:     BucketGroups, RouteGroup: BucketGroups, RouteGroupUsers: BucketGroups,
	RouteUsers: BucketUsers, RouteUser: BucketUsers,
	RouteToken: BucketToken, RouteOther: BucketUsers,
}

var allRoutes = []string{RouteAppUsers, RouteAppGroups, RouteGroups, RouteGroup, RouteGroupUsers,
	RouteUsers, RouteUser, RouteToken, RouteOther, RouteAppUser, RouteAppGroup, RouteUserGroups}

// DefaultToken is the SSWS API token a Server accepts unless WithToken is used.
const DefaultToken = "00oktatest-ssws-token"

// Server is a running fake Okta org. Create it with New and stop it with Close.
// All methods are safe for concurrent use, also while requests are served.
type Server struct {
	// URL is the org URL (http://127.0.0.1:port, no trailing slash).
	URL string
	// Token is the SSWS API token the server accepts ("Authorization: SSWS <Token>").
	Token string

	srv *httptest.Server

	mu       sync.RWMutex // guards the state below
	users    map[string]*userRec
	groups   map[string]*groupRec
	apps     map[string]*appRec
	seq      int
	userSeq  int
	groupSeq int
	dirty    bool
	idx      *index

	clock          func() time.Time
	buckets        map[string]*bucket
	resetInPast    bool
	concLimit      int64
	tokenTTL       time.Duration
	faults         faultSet
	oauth          oauthState
	nonce          atomic.Uint64
	reqID          atomic.Uint64
	inflight       atomic.Int64
	maxInflight    atomic.Int64
	calls          map[string]*atomic.Int64
	served429      atomic.Int64
	served5xx      atomic.Int64
	servedStatuses sync.Map // int -> *atomic.Int64
}

// Option configures a Server in New.
type Option func(*Server)

// WithToken sets the accepted SSWS API token (default DefaultToken).
func WithToken(token string) Option { return func(s *Server) { s.Token = token } }

// WithClock makes the server read time from now (Date header, rate-limit
// windows, token expiry). Default time.Now.
func WithClock(now func() time.Time) Option { return func(s *Server) { s.clock = now } }

// WithRateLimit sets bucket's limit to limit requests per window (window is
// truncated to whole seconds, minimum 1 s, because X-Rate-Limit-Reset has
// second resolution). limit <= 0 disables limiting for the bucket (headers still
// report a very large limit). Defaults: apps 100/min, groups 1000/min, users
// 600/min, token 600/min.
func WithRateLimit(bucketName string, limit int, window time.Duration) Option {
	return func(s *Server) {
		window = window.Truncate(time.Second)
		if window < time.Second {
			window = time.Second
		}
		if limit <= 0 {
			limit = unlimited
		}
		s.buckets[bucketName] = &bucket{name: bucketName, limit: limit, window: window}
	}
}

// WithoutRateLimits disables every bucket (for benchmarks); rate-limit headers
// are still sent.
func WithoutRateLimits() Option {
	return func(s *Server) {
		for name, b := range s.buckets {
			s.buckets[name] = &bucket{name: name, limit: unlimited, window: b.window}
		}
	}
}

// WithResetInPast makes every 429 carry X-Rate-Limit-Reset one second before
// the Date header and restarts the exhausted bucket's window, so clients that
// honour the reset (including okta-sdk-golang) retry at once. Keeps tests fast.
func WithResetInPast() Option { return func(s *Server) { s.resetInPast = true } }

// WithConcurrencyLimit answers 429 E0000047 to requests that arrive while n
// others are in flight (Okta's per-org concurrent rate limit; 0 = no limit).
func WithConcurrencyLimit(n int) Option { return func(s *Server) { s.concLimit = int64(n) } }

// WithAccessTokenTTL sets the lifetime of OAuth access tokens (default 1 h).
func WithAccessTokenTTL(d time.Duration) Option { return func(s *Server) { s.tokenTTL = d } }

// New starts a fake Okta org on a loopback port. Callers must Close it
// (t.Cleanup(s.Close)).
func New(opts ...Option) *Server {
	s := &Server{
		Token:    DefaultToken,
		users:    map[string]*userRec{},
		groups:   map[string]*groupRec{},
		apps:     map[string]*appRec{},
		clock:    time.Now,
		tokenTTL: time.Hour,
		calls:    map[string]*atomic.Int64{},
		buckets: map[string]*bucket{
			BucketApps:   {name: BucketApps, limit: 100, window: time.Minute},
			BucketGroups: {name: BucketGroups, limit: 1000, window: time.Minute},
			BucketUsers:  {name: BucketUsers, limit: 600, window: time.Minute},
			BucketToken:  {name: BucketToken, limit: 600, window: time.Minute},
		},
	}
	s.oauth.init()
	for _, r := range allRoutes {
		s.calls[r] = new(atomic.Int64)
	}
	for _, o := range opts {
		o(s)
	}
	mux := http.NewServeMux()
	mux.HandleFunc(RouteAppUsers, s.wrap(RouteAppUsers, s.handleAppUsers))
	mux.HandleFunc(RouteAppGroups, s.wrap(RouteAppGroups, s.handleAppGroups))
	mux.HandleFunc(RouteGroups, s.wrap(RouteGroups, s.handleGroups))
	mux.HandleFunc(RouteGroup, s.wrap(RouteGroup, s.handleGroup))
	mux.HandleFunc(RouteGroupUsers, s.wrap(RouteGroupUsers, s.handleGroupUsers))
	mux.HandleFunc(RouteUsers, s.wrap(RouteUsers, s.handleUsers))
	mux.HandleFunc(RouteUser, s.wrap(RouteUser, s.handleUser))
	mux.HandleFunc(RouteAppUser, s.wrap(RouteAppUser, s.handleAppUser))
	mux.HandleFunc(RouteAppGroup, s.wrap(RouteAppGroup, s.handleAppGroup))
	mux.HandleFunc(RouteUserGroups, s.wrap(RouteUserGroups, s.handleUserGroups))
	mux.HandleFunc(RouteToken, s.wrap(RouteToken, s.handleToken))
	mux.HandleFunc("/", s.wrap(RouteOther, func(w http.ResponseWriter, r *http.Request, _ *reqCtx) {
		s.writeError(w, http.StatusNotFound, "E0000007", "Not found: Resource not found: "+r.URL.Path)
	}))
	s.srv = httptest.NewServer(mux)
	s.URL = s.srv.URL
	return s
}

// Close shuts the server down, blocking until outstanding requests finish.
func (s *Server) Close() { s.srv.Close() }

// Client returns an *http.Client configured for the server (plain HTTP).
func (s *Server) Client() *http.Client { return s.srv.Client() }

func (s *Server) now() time.Time { return s.clock() }

// Calls returns how many requests the server received for route (one of the
// Route* constants), whatever their outcome, since New or ResetCounters.
func (s *Server) Calls(route string) int64 {
	c, ok := s.calls[route]
	if !ok {
		return 0
	}
	return c.Load()
}

// TotalCalls returns the number of requests received on all routes.
func (s *Server) TotalCalls() int64 {
	var n int64
	for _, c := range s.calls {
		n += c.Load()
	}
	return n
}

// Served429 returns how many 429 responses the server sent (rate limit,
// concurrency limit and injected storms).
func (s *Server) Served429() int64 { return s.served429.Load() }

// Served5xx returns how many 5xx responses the server sent.
func (s *Server) Served5xx() int64 { return s.served5xx.Load() }

// ServedStatus returns how many responses with the given status were sent.
func (s *Server) ServedStatus(status int) int64 {
	if c, ok := s.servedStatuses.Load(status); ok {
		return c.(*atomic.Int64).Load()
	}
	return 0
}

// MaxConcurrent returns the highest number of requests that were in flight at
// the same time since New or ResetCounters.
func (s *Server) MaxConcurrent() int64 { return s.maxInflight.Load() }

// BucketPeak returns the highest number of requests counted against bucket
// within one rate-limit window (0 for unknown buckets).
func (s *Server) BucketPeak(bucketName string) int {
	b, ok := s.buckets[bucketName]
	if !ok {
		return 0
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.peak
}

// ResetCounters zeroes request counters, status counters, MaxConcurrent and
// bucket peaks (not the buckets' current windows).
func (s *Server) ResetCounters() {
	for _, c := range s.calls {
		c.Store(0)
	}
	s.served429.Store(0)
	s.served5xx.Store(0)
	s.servedStatuses.Range(func(_, v any) bool { v.(*atomic.Int64).Store(0); return true })
	s.maxInflight.Store(0)
	for _, b := range s.buckets {
		b.mu.Lock()
		b.peak = 0
		b.mu.Unlock()
	}
}

// reqCtx carries per-request decisions from the middleware to handlers.
type reqCtx struct {
	route string
	now   time.Time
	eff   effects
}

type handlerFunc func(http.ResponseWriter, *http.Request, *reqCtx)

type statusWriter struct {
	http.ResponseWriter
	status   int
	truncate bool // FaultTruncateBody: write half of a 200 body, then abort
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	if w.truncate && w.status == http.StatusOK && len(b) > 1 {
		_, _ = w.ResponseWriter.Write(b[:len(b)/2])
		if f, ok := w.ResponseWriter.(http.Flusher); ok {
			f.Flush()
		}
		panic(http.ErrAbortHandler) // net/http closes the connection
	}
	return w.ResponseWriter.Write(b)
}

func (s *Server) wrap(route string, h handlerFunc) http.HandlerFunc {
	counter := s.calls[route]
	bkt := s.buckets[routeBucket[route]]
	return func(rw http.ResponseWriter, r *http.Request) {
		cur := s.inflight.Add(1)
		defer s.inflight.Add(-1)
		for {
			m := s.maxInflight.Load()
			if cur <= m || s.maxInflight.CompareAndSwap(m, cur) {
				break
			}
		}
		counter.Add(1)
		w := &statusWriter{ResponseWriter: rw}
		defer func() { s.countStatus(w.status) }()

		rc := &reqCtx{route: route, eff: s.faults.decide(route, r)}
		w.truncate = rc.eff.truncate
		if rc.eff.delay > 0 {
			sleepCtx(r.Context(), rc.eff.delay)
		}
		if rc.eff.disconnect {
			if hj, ok := rw.(http.Hijacker); ok {
				if conn, _, err := hj.Hijack(); err == nil {
					_ = conn.Close()
					w.status = -1 // not counted as a served status
					return
				}
			}
		}
		rc.now = s.now()
		hdr := w.Header()
		hdr.Set("Date", rc.now.UTC().Format(http.TimeFormat))
		hdr.Set("X-Okta-Request-Id", fmt.Sprintf("oktatest-%08d", s.reqID.Add(1)))
		hdr.Set("Content-Type", "application/json")

		if s.concLimit > 0 && cur > s.concLimit {
			s.setRateHeaders(w, bkt.peek(rc.now))
			s.write429(w, rc.now, true)
			return
		}
		if route != RouteToken && route != RouteOther {
			if !s.authorize(w, r, route, bkt, rc.now) {
				return
			}
		}
		if rc.eff.rateLimit {
			st := bkt.peek(rc.now)
			st.remaining = 0
			s.setRateHeaders(w, st)
			s.write429(w, rc.now, true)
			return
		}
		st := bkt.take(rc.now, s.resetInPast)
		s.setRateHeaders(w, st)
		if !st.ok {
			s.write429(w, rc.now, s.resetInPast)
			return
		}
		if rc.eff.status != 0 {
			s.writeError(w, rc.eff.status, errorCodeFor(rc.eff.status), http.StatusText(rc.eff.status))
			return
		}
		h(w, r, rc)
	}
}

func (s *Server) countStatus(status int) {
	if status < 0 {
		return
	}
	if status == 0 {
		status = http.StatusOK
	}
	if status == http.StatusTooManyRequests {
		s.served429.Add(1)
	}
	if status >= 500 {
		s.served5xx.Add(1)
	}
	c, _ := s.servedStatuses.LoadOrStore(status, new(atomic.Int64))
	c.(*atomic.Int64).Add(1)
}

func (s *Server) setRateHeaders(w http.ResponseWriter, st bucketState) {
	h := w.Header()
	h.Set("X-Rate-Limit-Limit", strconv.Itoa(st.limit))
	h.Set("X-Rate-Limit-Remaining", strconv.Itoa(st.remaining))
	h.Set("X-Rate-Limit-Reset", strconv.FormatInt(st.reset.Unix(), 10))
}

// write429 writes Okta's rate-limit error. immediate sets X-Rate-Limit-Reset to
// one second before Date (retry at once).
func (s *Server) write429(w http.ResponseWriter, now time.Time, immediate bool) {
	if immediate {
		w.Header().Set("X-Rate-Limit-Reset", strconv.FormatInt(now.Unix()-1, 10))
	}
	w.Header().Set("X-Rate-Limit-Remaining", "0")
	s.writeError(w, http.StatusTooManyRequests, "E0000047", "API call exceeded rate limit due to too many requests.")
}

func errorCodeFor(status int) string {
	switch status {
	case http.StatusBadRequest:
		return "E0000001"
	case http.StatusUnauthorized:
		return "E0000011"
	case http.StatusForbidden:
		return "E0000006"
	case http.StatusNotFound:
		return "E0000007"
	case http.StatusTooManyRequests:
		return "E0000047"
	case http.StatusServiceUnavailable:
		return "E0000010"
	default:
		return "E0000009"
	}
}

// okError is Okta's error body.
type okError struct {
	ErrorCode    string           `json:"errorCode"`
	ErrorSummary string           `json:"errorSummary"`
	ErrorLink    string           `json:"errorLink"`
	ErrorID      string           `json:"errorId"`
	ErrorCauses  []map[string]any `json:"errorCauses"`
}

func (s *Server) writeError(w http.ResponseWriter, status int, code, summary string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(okError{
		ErrorCode: code, ErrorSummary: summary, ErrorLink: code,
		ErrorID: fmt.Sprintf("oae%017d", s.reqID.Load()), ErrorCauses: []map[string]any{},
	})
}

func (s *Server) writeJSON(w http.ResponseWriter, b []byte) {
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
}

// sleepCtx waits d or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}
