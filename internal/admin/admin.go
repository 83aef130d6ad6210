// Package admin is the operator API served on the admin listener under
// /admin/v1 (JSON, versioned): every /admin/v1 route is registered here
// (tenants, SCIM tokens, role mappings and assignments, the provisioning
// log, reconcile runs), and the service functions the CLI shares with it
// live here too, in files without HTTP code: tokens.go (tenant ids, token
// create, list, revoke, rotate), roles.go and configroles.go (role
// mappings, assignments, default role), reconcile.go (run options, the
// reconcile machinery of serve), provlog.go (the log query and its
// explanation; its one route is there too). The other routes are in
// admin.go and the *api.go files.
//
// It is imported by cmd/axonflow-sync only. Every route requires
// "Authorization: Bearer $AXONFLOW_SYNC_ADMIN_TOKEN"; with no admin token
// configured the API is disabled. SCIM tokens never authenticate here.
package admin

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/axonflow/axonflow-sync/internal/auththrottle"
	"github.com/axonflow/axonflow-sync/mapping"
	"github.com/axonflow/axonflow-sync/store"
)

// Error codes of the admin API: stable strings scripts may match.
const (
	CodeUnauthorized = "unauthorized"
	CodeDisabled     = "admin_api_disabled"
	CodeNotFound     = "not_found"
	CodeInvalid      = "invalid_request"
	CodeConflict     = "conflict"
	CodeUnavailable  = "store_unavailable"
	CodeInternal     = "internal"
	// CodeThrottled: too many failed admin authentications from the
	// client address (429 with Retry-After).
	CodeThrottled = "throttled"
)

// APIError is an admin API error: an HTTP status, a stable code and a
// human message. Rendered as {"error":{"code":...,"message":...}}.
type APIError struct {
	Status  int    `json:"-"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

func (e *APIError) Error() string { return e.Code + ": " + e.Message }

// Invalid returns a 400 invalid_request error.
func Invalid(msg string) *APIError { return &APIError{Status: 400, Code: CodeInvalid, Message: msg} }

// Options configures the admin API.
type Options struct {
	Store store.State
	// Token is the admin bearer token; "" disables the API (every route
	// answers 403 admin_api_disabled).
	Token  string
	Logger zerolog.Logger
	Now    func() time.Time
	// AuthFailBurst and AuthFailRefill throttle failed authentications per
	// client address (internal/auththrottle; its defaults when zero).
	AuthFailBurst  int
	AuthFailRefill time.Duration
}

// API is the admin HTTP API. Register extra routes with Handle before
// serving.
type API struct {
	st        store.State
	tokenHash [32]byte
	enabled   bool
	log       zerolog.Logger
	now       func() time.Time
	mux       *http.ServeMux
	throttle  *auththrottle.Throttle
}

// New returns the admin API with its tenant, token and role routes.
func New(o Options) *API {
	a := &API{st: o.Store, log: o.Logger, now: o.Now, mux: http.NewServeMux(), enabled: o.Token != "",
		throttle: auththrottle.New(o.AuthFailBurst, o.AuthFailRefill)}
	if a.now == nil {
		a.now = time.Now
	}
	a.tokenHash = sha256.Sum256([]byte(o.Token))
	a.Handle("GET /admin/v1/tenants", a.listTenants)
	a.Handle("POST /admin/v1/tenants", a.createTenant)
	a.Handle("GET /admin/v1/tenants/{tenant}/tokens", a.listTokens)
	a.Handle("POST /admin/v1/tenants/{tenant}/tokens", a.createToken)
	a.Handle("POST /admin/v1/tenants/{tenant}/tokens/{id}/revoke", a.revokeToken)
	a.Handle("DELETE /admin/v1/tenants/{tenant}/tokens/{id}", a.revokeToken)
	a.Handle("POST /admin/v1/tenants/{tenant}/tokens/{id}/rotate", a.rotateToken)
	a.roleRoutes()
	a.logRoutes()
	a.mux.HandleFunc("/admin/", func(w http.ResponseWriter, r *http.Request) {
		if !a.authorized(w, r) {
			return
		}
		writeError(w, &APIError{Status: 404, Code: CodeNotFound, Message: "no admin route " + r.Method + " " + r.URL.Path})
	})
	return a
}

// HandlerFunc is an admin route: it returns a value to encode as JSON with
// the given status, or an error (an *APIError, or a store error mapped to
// one).
type HandlerFunc func(r *http.Request) (status int, body any, err error)

// Handle registers an authenticated route; pattern is a net/http.ServeMux
// pattern such as "GET /admin/v1/tenants/{tenant}/log".
func (a *API) Handle(pattern string, h HandlerFunc) {
	a.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		if !a.authorized(w, r) {
			return
		}
		r = r.WithContext(withOperatorClaim(r.Context(), apiOperator, operatorClaim(r))) // for the provisioning log
		status, body, err := h(r)
		if err != nil {
			a.fail(w, r, err)
			return
		}
		writeJSON(w, status, body)
	})
}

// ServeHTTP implements http.Handler.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) { a.mux.ServeHTTP(w, r) }

// authorized checks the admin bearer token in constant time. SCIM tokens
// (scim_...) are never accepted here. The token is checked first, so the
// right token is never refused; each failure is charged to the client
// address, and once its budget is spent (auththrottle) a failure is
// answered 429 throttled with Retry-After instead of 401.
func (a *API) authorized(w http.ResponseWriter, r *http.Request) bool {
	if !a.enabled {
		writeError(w, &APIError{Status: 403, Code: CodeDisabled, Message: "the admin API is disabled: set AXONFLOW_SYNC_ADMIN_TOKEN (adminToken) to enable it"})
		return false
	}
	scheme, cred, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	sum := sha256.Sum256([]byte(strings.TrimSpace(cred)))
	if !ok || !strings.EqualFold(scheme, "Bearer") || subtle.ConstantTimeCompare(sum[:], a.tokenHash[:]) != 1 {
		if wait := a.throttle.Fail(auththrottle.ClientAddr(r), a.now()); wait > 0 {
			secs := auththrottle.RetryAfterSeconds(wait)
			w.Header().Set("Retry-After", strconv.Itoa(secs))
			writeError(w, &APIError{Status: http.StatusTooManyRequests, Code: CodeThrottled,
				Message: "too many failed admin authentications from this address; retry in " + strconv.Itoa(secs) + " s"})
			return false
		}
		w.Header().Set("WWW-Authenticate", `Bearer realm="axonflow-sync admin"`)
		writeError(w, &APIError{Status: 401, Code: CodeUnauthorized, Message: "send Authorization: Bearer <AXONFLOW_SYNC_ADMIN_TOKEN>; SCIM tokens are not accepted here"})
		return false
	}
	return true
}

// fail maps err to an APIError and writes it.
func (a *API) fail(w http.ResponseWriter, r *http.Request, err error) {
	writeError(w, a.toAPIError(r, err))
}

// apiErrors is the admin API's wire form of each error code (mapping.Code*,
// the one vocabulary of store and mapping errors): the HTTP status, the
// admin code and, when not "", a fixed message (else mapping.ErrorMessage;
// not_found names the path). A store outage or a context deadline is 503
// here as on the SCIM API.
var apiErrors = map[string]struct {
	status  int
	code    string
	message string
}{
	mapping.CodeInvalid:          {http.StatusBadRequest, CodeInvalid, ""},
	mapping.CodeNotFound:         {http.StatusNotFound, CodeNotFound, ""},
	mapping.CodeConflict:         {http.StatusConflict, CodeConflict, ""},
	mapping.CodeConcurrentChange: {http.StatusConflict, CodeConflict, "the resource changed concurrently; retry the request"},
	mapping.CodeUnavailable:      {http.StatusServiceUnavailable, CodeUnavailable, "the store is unavailable; retry later"},
	mapping.CodeInternal:         {http.StatusInternalServerError, CodeInternal, "internal error; see the server log"},
}

// toAPIError returns err as the API answers it: an *APIError as it is,
// anything else by its code (apiErrors); internal errors are logged.
func (a *API) toAPIError(r *http.Request, err error) *APIError {
	var ae *APIError
	if errors.As(err, &ae) {
		return ae
	}
	code := mapping.ErrorCode(err)
	w, ok := apiErrors[code]
	if !ok {
		code, w = mapping.CodeInternal, apiErrors[mapping.CodeInternal]
	}
	msg := w.message
	switch {
	case code == mapping.CodeNotFound:
		msg = "not found: " + r.URL.Path
	case msg == "":
		msg = mapping.ErrorMessage(err)
	}
	if code == mapping.CodeInternal {
		a.log.Error().Err(err).Str("path", r.URL.Path).Msg("admin request failed")
	}
	return &APIError{Status: w.status, Code: w.code, Message: msg}
}

// ErrorCode returns the error code (mapping.Code*) of e's admin code:
// invalid for invalid_request (and unauthorized, admin_api_disabled),
// not_found, conflict, unavailable for store_unavailable, else internal.
// The CLI's exit status follows it.
func (e *APIError) ErrorCode() string {
	switch e.Code {
	case CodeInvalid, CodeUnauthorized, CodeDisabled:
		return mapping.CodeInvalid
	case CodeNotFound:
		return mapping.CodeNotFound
	case CodeConflict:
		return mapping.CodeConflict
	case CodeUnavailable:
		return mapping.CodeUnavailable
	}
	return mapping.CodeInternal
}

// ErrorMessage returns e.Message.
func (e *APIError) ErrorMessage() string { return e.Message }

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if v == nil {
		return
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

func writeError(w http.ResponseWriter, e *APIError) {
	writeJSON(w, e.Status, map[string]any{"error": e})
}

// decode reads a JSON request body of at most 64 KiB into v, rejecting
// unknown fields: an empty body (also a chunked one) leaves v as it is; a
// larger body is 413, malformed JSON or an unknown field 400 (code invalid).
func decode(r *http.Request, v any) error {
	if r.Body == nil || r.ContentLength == 0 {
		return nil
	}
	dec := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil && !errors.Is(err, io.EOF) {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return &APIError{Status: http.StatusRequestEntityTooLarge, Code: CodeInvalid, Message: "request body is larger than 64 KiB"}
		}
		return Invalid("request body: " + err.Error())
	}
	return nil
}
