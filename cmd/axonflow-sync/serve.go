package main

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"flag"
	"fmt"
	stdlog "log"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/rs/zerolog"

	adminapi "github.com/axonflow/axonflow-sync/internal/admin"
	"github.com/axonflow/axonflow-sync/internal/console"
	"github.com/axonflow/axonflow-sync/internal/logbuf"
	"github.com/axonflow/axonflow-sync/internal/telemetry"
	"github.com/axonflow/axonflow-sync/scimserver"
	"github.com/axonflow/axonflow-sync/store"
)

// HTTP server limits (seconds, bytes): slow clients cannot hold workers.
// Variables only so that the fault tests can build the binary with shorter
// timeouts (go build -overlay, faults_badinput_test.go); nothing changes
// them in production.
var (
	readHeaderTimeout = 10 * time.Second
	readTimeout       = 60 * time.Second
	writeTimeout      = 60 * time.Second
	idleTimeout       = 120 * time.Second
	maxHeaderBytes    = 64 << 10
)

func (e env) serve(ctx context.Context, args []string) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	defer gcTarget(e.getenv, serveGCPercent)()
	cfg, ok := e.parse(fs, args)
	if !ok {
		return exitConfig
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(e.stderr, "axonflow-sync serve: unexpected argument %q\n", fs.Arg(0))
		return exitConfig
	}
	// Request lines are batched (internal/logbuf: at most 100 ms late,
	// warnings and errors at once); the console format is for people
	// watching a terminal and stays line by line. The deferred Close runs
	// after the shutdown below, so the drain's lines are written too.
	logOut := e.stderr
	if cfg.Log.Format != "console" {
		lb := logbuf.New(e.stderr, 0)
		defer lb.Close()
		logOut = lb
	}
	log := newLogger(cfg, logOut)
	openCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	st, desc, err := openStore(openCtx, cfg, log)
	cancel()
	if err != nil {
		log.Error().Err(err).Msg("cannot open the store")
		return exitFail
	}
	defer st.Close()
	// One Prometheus registry for the process, served at /metrics on the
	// admin listener; every component registers its metrics on it.
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	// Every write of every actor is recorded in the provisioning log.
	st, provLog := withProvLog(st, log, reg)
	if err := adminapi.ApplyConfigRoles(ctx, st, cfg.Tenants, log, time.Now()); err != nil {
		log.Error().Err(err).Msg("cannot apply the configured roles (tenants.*.roles)")
		return exitFail
	}

	if tenants, err := st.ListTenants(ctx); err == nil && len(tenants) == 0 {
		log.Warn().Msg("no tenants yet: create a tenant and its SCIM token with: axonflow-sync token create --tenant YOUR_TENANT --name okta")
	}

	// Every SCIM request: metrics, then the provisioning log's rejections
	// (changes are recorded by st itself).
	scim := scimserver.New(scimserver.Options{Store: st, Logger: log, Observer: telemetry.NewSCIM(reg, provLog),
		ExternalURL: cfg.ExternalURL, TrustedProxies: cfg.TrustedProxies, MaxFilterScan: cfg.FilterMaxScan})
	admin := http.NewServeMux()
	admin.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"status":"ok"}` + "\n"))
	})
	admin.HandleFunc("GET /readyz", readyz(st))
	// /metrics: on the admin listener unless metricsListen gives it one of
	// its own; behind metricsToken when set.
	metrics := metricsHandler(promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}), cfg.MetricsToken)
	if cfg.MetricsListen == "" {
		admin.Handle("GET /metrics", metrics)
	}
	adminAPI := adminapi.New(adminapi.Options{Store: st, Token: cfg.AdminToken, Logger: log})
	admin.Handle("/admin/", adminAPI)
	// Reconciliation: metrics on reg, per-tenant schedules, admin routes.
	rec, err := adminapi.StartReconciler(cfg, st, reg, log)
	if err != nil {
		log.Error().Err(err).Msg("cannot start reconciliation")
		return exitFail
	}
	adminAPI.ReconcileRoutes(ctx, rec, cfg)
	// The review console (/ui/): the same store and reconciler.
	cons, err := console.New(ctx, console.Options{Store: st, AdminToken: cfg.AdminToken, Console: cfg.Console,
		Config: cfg, Reconciler: rec, RunContext: ctx, Logger: log})
	if err != nil {
		log.Error().Err(err).Msg("cannot start the review console")
		return exitFail
	}
	admin.Handle("/ui/", cons)
	admin.Handle("GET /ui", http.RedirectHandler("/ui/", http.StatusMovedPermanently))

	servers := []*http.Server{
		// scimserver is the whole API listener, so every path (also
		// /scim/v2//Users and paths outside /scim/v2) gets SCIM treatment.
		newHTTPServer(cfg.Listen, scim, log),
		newHTTPServer(cfg.AdminListen, admin, log),
	}
	keys := []string{"listen", "adminListen"}
	if cfg.MetricsListen != "" {
		m := http.NewServeMux()
		m.Handle("GET /metrics", metrics)
		servers = append(servers, newHTTPServer(cfg.MetricsListen, m, log))
		keys = append(keys, "metricsListen")
	}
	errc := make(chan error, len(servers))
	lns := make([]net.Listener, len(servers))
	for i, srv := range servers {
		ln, err := net.Listen("tcp", srv.Addr)
		if err != nil {
			key := keys[i]
			log.Error().Err(err).Str("key", key).Msg("cannot listen")
			for _, l := range lns[:i] {
				l.Close()
			}
			return exitFail
		}
		lns[i] = ln
	}
	metricsURL := "http://" + cfg.AdminListen + "/metrics"
	if cfg.MetricsListen != "" {
		metricsURL = "http://" + cfg.MetricsListen + "/metrics"
	}
	log.Info().Str("scim", "http://"+cfg.Listen+scimserver.BasePath).Str("admin", "http://"+cfg.AdminListen).
		Str("metrics", metricsURL).Str("store", desc).Msg("axonflow-sync serving")
	// The start-up lines are out before the first request is served.
	if f, ok := logOut.(interface{ Flush() }); ok {
		f.Flush()
	}
	for i, srv := range servers {
		go func() { errc <- srv.Serve(lns[i]) }()
	}

	select {
	case <-ctx.Done():
	case err := <-errc:
		log.Error().Err(err).Msg("listener failed")
		return exitFail
	}
	log.Info().Dur("timeout", cfg.ShutdownTimeout).Msg("shutting down: draining in-flight requests")
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	code := exitOK
	for _, srv := range servers {
		if err := srv.Shutdown(sctx); err != nil {
			log.Error().Err(err).Msg("graceful shutdown incomplete")
			code = exitFail
		}
	}
	if err := rec.Stop(sctx); err != nil {
		log.Error().Err(err).Msg("reconcile runs did not stop in time")
		code = exitFail
	}
	log.Info().Msg("stopped")
	return code
}

// net/http's own messages (accept errors such as running out of file
// descriptors, TLS handshake failures) go to log as warnings, so every line
// of the process is JSON in the configured format.
func newHTTPServer(addr string, h http.Handler, log zerolog.Logger) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           h,
		ErrorLog:          stdlog.New(httpErrorLog{log.With().Str("component", "net/http").Logger()}, "", 0),
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
	}
}

// metricsHandler serves h (Prometheus' /metrics) to requests bearing
// token ("Authorization: Bearer <token>", compared in constant time), or to
// every request when token is "". Others get 401 with WWW-Authenticate.
func metricsHandler(h http.Handler, token string) http.Handler {
	if token == "" {
		return h
	}
	want := sha256.Sum256([]byte(token))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		scheme, cred, ok := strings.Cut(r.Header.Get("Authorization"), " ")
		got := sha256.Sum256([]byte(strings.TrimSpace(cred)))
		if !ok || !strings.EqualFold(scheme, "Bearer") || subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="axonflow-sync metrics"`)
			http.Error(w, "send Authorization: Bearer <AXONFLOW_SYNC_METRICS_TOKEN>", http.StatusUnauthorized)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// readyz answers 200 when the store answers a ping within 2 s, else 503.
func readyz(st store.State) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		w.Header().Set("Content-Type", "application/json")
		if err := st.Ping(ctx); err != nil {
			w.WriteHeader(http.StatusServiceUnavailable)
			msg := "store unreachable"
			if !errors.Is(err, store.ErrUnavailable) {
				msg = "store check failed"
			}
			_, _ = fmt.Fprintf(w, `{"status":"unavailable","reason":%q}`+"\n", msg)
			return
		}
		_, _ = w.Write([]byte(`{"status":"ready"}` + "\n"))
	}
}

// httpErrorLog adapts zerolog to the standard library logger that
// http.Server.ErrorLog takes: each message becomes one warning.
type httpErrorLog struct{ l zerolog.Logger }

// Write logs p (one message of net/http's logger) and reports it written.
func (h httpErrorLog) Write(p []byte) (int, error) {
	h.l.Warn().Msg(strings.TrimSpace(string(p)))
	return len(p), nil
}
