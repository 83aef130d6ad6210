// Package console is the review console: server-rendered HTML pages under
// /ui/ on the admin listener (html/template and embed; one small static
// script, no inline scripts) over the same functions of internal/admin
// that the admin API and the CLI call. It signs people in with OpenID
// Connect (console.oidc.*: authorization code with PKCE, state and nonce
// checked, the ID token's groups claim giving viewer or approver rights) or,
// without OIDC, with the admin token posted as the form field token to
// POST /ui/login. Sessions are AES-GCM sealed cookies (HttpOnly,
// SameSite=Lax, Secure behind https) with idle and absolute timeouts; every
// POST carries a CSRF token (403 without); every page sends a
// Content-Security-Policy with frame-ancestors 'none'. The signed-in
// principal is the operator recorded in the provisioning log
// (admin.WithOperator).
//
// It is imported by cmd/axonflow-sync only.
package console

import (
	"context"
	"embed"
	"errors"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"strings"
	gosync "sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/axonflow/axonflow-sync/config"
	"github.com/axonflow/axonflow-sync/internal/admin"
	"github.com/axonflow/axonflow-sync/internal/auththrottle"
	"github.com/axonflow/axonflow-sync/mapping"
	"github.com/axonflow/axonflow-sync/store"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// csp is every page's Content-Security-Policy: own scripts, styles and
// images only, forms posting only to the console, never framed.
const csp = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
	"form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// Options configures the console.
type Options struct {
	// Store is the state (wrapped with the provisioning log's writer, as
	// the admin API's).
	Store store.State
	// AdminToken signs in through the token form when OIDC is not
	// configured; with neither, the console only says how to enable it.
	AdminToken string
	// Console is the console's configuration (OIDC, session timeouts).
	Console config.ConsoleConfig
	// Config is the process configuration: the tenants' Okta settings for
	// "run a report now".
	Config *config.Config
	// Reconciler runs reports and lists runs; nil hides runs.
	Reconciler *admin.Reconciler
	// Plans are the reconciler's held plans and its explanation of a user
	// (issue 13); nil: internal/admin's plan functions on Reconciler (none
	// without a Reconciler).
	Plans Plans
	// RunContext is the context runs started from the console run under
	// (serve's: SIGTERM stops them); nil: context.Background().
	RunContext context.Context
	Logger     zerolog.Logger
	// Now is the clock (sessions, token expiry); nil: time.Now.
	Now func() time.Time
	// Throttle limits failed token sign-ins per client address (nil: one
	// with auththrottle's defaults, 20 at once then one every 3 s).
	Throttle *auththrottle.Throttle
	// HTTPClient is used to talk to the OIDC provider; nil: a client with
	// a 10 s timeout.
	HTTPClient *http.Client
}

// Console is the review console's http.Handler, mounted at /ui/.
type Console struct {
	st            store.State
	adminToken    string
	cfg           *config.Config
	rc            *admin.Reconciler
	plans         Plans
	throttle      *auththrottle.Throttle
	runCtx        context.Context
	log           zerolog.Logger
	now           func() time.Time
	idle, maxAge  time.Duration
	seal          *sealer
	oidcCfg       config.ConsoleOIDCConfig
	httpClient    *http.Client
	oidcMu        gosync.Mutex
	oidcRP        *oidcClient // discovered on first use
	httpsRedirect bool
	// signedOut holds the sessions ended by Sign out in this process
	// (keyed by their CSRF token, unique per session) until their absolute
	// expiry, so a copy of the cookie is refused afterwards.
	signedOutMu gosync.Mutex
	signedOut   map[string]time.Time
	pages       map[string]*template.Template
	mux         *http.ServeMux
}

// New returns the console. With console.oidc configured it fetches the
// provider's discovery document under ctx (a failure is logged and retried
// at the next sign-in). Errors: the templates do not parse (a build
// defect).
func New(ctx context.Context, o Options) (*Console, error) {
	c := &Console{st: o.Store, adminToken: o.AdminToken, cfg: o.Config, rc: o.Reconciler, plans: o.Plans, runCtx: o.RunContext,
		log: o.Logger, now: o.Now, idle: o.Console.SessionIdleTimeout, maxAge: o.Console.SessionMaxAge}
	if c.now == nil {
		c.now = time.Now
	}
	if c.throttle = o.Throttle; c.throttle == nil {
		c.throttle = auththrottle.New(0, 0)
	}
	if c.runCtx == nil {
		c.runCtx = context.Background()
	}
	if c.cfg == nil {
		c.cfg = &config.Config{}
	}
	if c.plans == nil && c.rc != nil {
		c.plans = adminPlans{rc: c.rc, st: c.st, cfg: c.cfg}
	}
	if c.idle <= 0 {
		c.idle = config.DefaultSessionIdleTimeout
	}
	if c.maxAge <= 0 {
		c.maxAge = config.DefaultSessionMaxAge
	}
	c.seal = newSealer(o.AdminToken, o.Console.OIDC.ClientSecret)
	c.oidcCfg, c.httpClient = o.Console.OIDC, o.HTTPClient
	if c.oidcCfg.Enabled() {
		// Discovery now, so that a wrong issuer shows in the start-up log;
		// an unreachable provider is retried at the next sign-in (the SCIM
		// API must not depend on the IdP).
		if _, err := c.relyingParty(ctx); err != nil {
			c.log.Error().Err(err).Msg("console: OIDC provider discovery failed; retried at the next sign-in")
		}
		if u, err := url.Parse(o.Console.OIDC.RedirectURL); err == nil && u.Scheme == "https" {
			c.httpsRedirect = true
		}
	}
	if err := c.parseTemplates(); err != nil {
		return nil, err
	}
	c.routes()
	return c, nil
}

// ServeHTTP implements http.Handler: every answer carries the security
// headers.
func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", csp)
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	if !strings.HasPrefix(r.URL.Path, "/ui/static/") {
		h.Set("Cache-Control", "no-store")
	}
	c.mux.ServeHTTP(w, r)
}

// enabled reports whether anybody can sign in.
func (c *Console) enabled() bool { return c.oidcCfg.Enabled() || c.adminToken != "" }

// relyingParty returns the OIDC client, discovering the provider on first
// use.
func (c *Console) relyingParty(ctx context.Context) (*oidcClient, error) {
	c.oidcMu.Lock()
	defer c.oidcMu.Unlock()
	if c.oidcRP != nil {
		return c.oidcRP, nil
	}
	rp, err := newOIDC(ctx, c.oidcCfg, c.httpClient)
	if err != nil {
		return nil, err
	}
	c.oidcRP = rp
	return rp, nil
}

// routes registers every console route.
func (c *Console) routes() {
	c.mux = http.NewServeMux()
	static, _ := fs.Sub(staticFS, "static")
	c.mux.Handle("GET /ui/static/", http.StripPrefix("/ui/static/", http.FileServerFS(static)))
	c.mux.HandleFunc("GET /ui/{$}", c.home)
	c.mux.HandleFunc("POST /ui/login", c.tokenLogin)
	c.mux.HandleFunc("GET /ui/login/oidc", c.oidcStart)
	c.mux.HandleFunc("GET "+config.ConsoleCallbackPath, c.oidcCallback)
	c.mux.HandleFunc("POST /ui/logout", c.post(false, c.logout))

	c.mux.HandleFunc("GET /ui/tenants/{tenant}", c.get(c.tenantPage))
	c.mux.HandleFunc("POST /ui/tenants/{tenant}/reconcile", c.post(true, c.runReport))
	c.mux.HandleFunc("GET /ui/tenants/{tenant}/roles", c.get(c.rolesPage))
	c.mux.HandleFunc("GET /ui/tenants/{tenant}/roles/preview", c.get(c.rolePreview))
	c.mux.HandleFunc("POST /ui/tenants/{tenant}/roles/map", c.post(true, c.mapRole))
	c.mux.HandleFunc("POST /ui/tenants/{tenant}/roles/unmap", c.post(true, c.unmapRole))
	c.mux.HandleFunc("GET /ui/tenants/{tenant}/users", c.get(c.userSearch))
	c.mux.HandleFunc("GET /ui/tenants/{tenant}/users/{id}", c.get(c.userPage))
	c.mux.HandleFunc("GET /ui/tenants/{tenant}/log", c.get(c.logPage))
	c.mux.HandleFunc("GET /ui/tenants/{tenant}/tokens", c.get(c.tokensPage))
	c.mux.HandleFunc("POST /ui/tenants/{tenant}/tokens", c.post(true, c.createToken))
	c.mux.HandleFunc("POST /ui/tenants/{tenant}/tokens/{id}/rotate", c.post(true, c.rotateToken))
	c.mux.HandleFunc("POST /ui/tenants/{tenant}/tokens/{id}/revoke", c.post(true, c.revokeToken))
	c.planRoutes()
	c.mux.HandleFunc("/ui/", func(w http.ResponseWriter, r *http.Request) {
		c.errorPage(w, r, nil, http.StatusNotFound, "No such page", "There is no console page "+r.URL.Path+".")
	})
}

// pageFunc renders a page for a signed-in session, or returns an error
// (mapped like the admin API's: not found, invalid, store unavailable).
type pageFunc func(w http.ResponseWriter, r *http.Request, s *session) error

// get wraps a page: without a valid session it sends the browser to the
// sign-in form; with one it refreshes the idle timeout and puts the
// operator in the request context.
func (c *Console) get(h pageFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s, state := c.readSession(r)
		if state == sessionUnknown {
			c.storeDown(w, r)
			return
		}
		if state != sessionOK {
			q := url.Values{"next": {r.URL.RequestURI()}}
			if state == sessionExpired {
				q.Set("expired", "1")
			}
			http.Redirect(w, r, "/ui/?"+q.Encode(), http.StatusSeeOther)
			return
		}
		if t := r.PathValue("tenant"); t != "" {
			if err := admin.CheckTenantID(t); err != nil {
				c.fail(w, r, s, err)
				return
			}
		}
		c.writeSession(w, r, s)
		r = r.WithContext(admin.WithOperator(r.Context(), s.Operator))
		if err := h(w, r, s); err != nil {
			c.fail(w, r, s, err)
		}
	}
}

// storeDown answers a request whose session cannot be checked against the
// store's sign-outs: 503 with Retry-After, nothing done.
func (c *Console) storeDown(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Retry-After", "5")
	c.errorPage(w, r, nil, http.StatusServiceUnavailable, "Store unavailable",
		"The console cannot reach its store to check your session, so nothing was done. Retry in a few seconds; see the server log.")
}

// post wraps a state-changing form: it needs a valid session (401
// otherwise: nothing changes), the session's CSRF token in the form field
// csrf (403 otherwise) and, when approver is set, approver rights (403).
func (c *Console) post(approver bool, h pageFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
		s, state := c.readSession(r)
		if state == sessionUnknown {
			c.storeDown(w, r)
			return
		}
		if state != sessionOK {
			msg := "You are not signed in, so nothing was changed. Sign in and try again."
			if state == sessionExpired {
				msg = "Your session expired, so nothing was changed. Sign in again and repeat the action."
			}
			c.errorPage(w, r, nil, http.StatusUnauthorized, "Sign in again", msg)
			return
		}
		if !equal(r.PostFormValue(csrfField), s.CSRF) {
			c.errorPage(w, r, s, http.StatusForbidden, "Request refused",
				"The form did not carry this session's CSRF token (it may come from another site or an old page), so nothing was changed. Reload the page and try again.")
			return
		}
		if approver && !s.Approver {
			c.errorPage(w, r, s, http.StatusForbidden, "Not allowed",
				"Your groups let you look, not change: ask to be added to one of console.oidc.approverGroups.")
			return
		}
		if t := r.PathValue("tenant"); t != "" {
			if err := admin.CheckTenantID(t); err != nil {
				c.fail(w, r, s, err)
				return
			}
		}
		c.writeSession(w, r, s)
		r = r.WithContext(admin.WithOperator(r.Context(), s.Operator))
		if err := h(w, r, s); err != nil {
			c.fail(w, r, s, err)
		}
	}
}

// fail renders err as an error page with the admin API's status and
// message (mapping's error vocabulary); internal errors are logged.
func (c *Console) fail(w http.ResponseWriter, r *http.Request, s *session, err error) {
	var ae *admin.APIError
	if !errors.As(err, &ae) {
		code := mapping.ErrorCode(err)
		switch code {
		case mapping.CodeNotFound:
			ae = &admin.APIError{Status: 404, Message: "not found"}
		case mapping.CodeInvalid, mapping.CodeConflict, mapping.CodeConcurrentChange:
			ae = &admin.APIError{Status: 400, Message: mapping.ErrorMessage(err)}
		case mapping.CodeUnavailable:
			ae = &admin.APIError{Status: 503, Message: "the store is unavailable; retry later"}
		default:
			c.log.Error().Err(err).Str("path", r.URL.Path).Msg("console request failed")
			ae = &admin.APIError{Status: 500, Message: "internal error; see the server log"}
		}
	}
	title := map[int]string{400: "Request rejected", 404: "Not found", 409: "Conflict", 503: "Store unavailable"}[ae.Status]
	if title == "" {
		title = "Error"
	}
	c.errorPage(w, r, s, ae.Status, title, ae.Message)
}
