// Command axonflow-sync keeps the AxonFlow identity directory in step with
// Okta: it serves the SCIM 2.0 API Okta provisions (serve), manages the
// per-tenant SCIM tokens (token), and runs operator tools.
//
// This package only wires the others together: flags and config → store →
// scimserver, internal/admin (the admin API, reconcile runs and schedules
// included) and sync; its subcommands parse flags, call the functions they
// share with the admin API (internal/admin) and print the results, and
// failures become exit codes through one table (exitCodes). Nothing
// imports it.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"

	"github.com/axonflow/axonflow-sync/config"
	"github.com/axonflow/axonflow-sync/internal/logbuf"
	"github.com/axonflow/axonflow-sync/internal/provlog"
	"github.com/axonflow/axonflow-sync/internal/termtext"
	"github.com/axonflow/axonflow-sync/mapping"
	"github.com/axonflow/axonflow-sync/store"
	"github.com/axonflow/axonflow-sync/store/redisstore"
	"github.com/axonflow/axonflow-sync/store/sqlitestore"
)

// Exit codes.
const (
	exitOK     = 0
	exitFail   = 1
	exitConfig = 2 // bad configuration or usage
)

// exitCodes is the exit status of a command that failed with an error of
// each code (mapping.ErrorCode): a value the rules reject (e.g. an unknown
// role) is a usage error, 2; every other code (not found, conflict, the
// store unavailable, internal) is 1. reconcile --detailed-exitcode has its
// own (reconcile.go).
var exitCodes = map[string]int{
	mapping.CodeInvalid:          exitConfig,
	mapping.CodeNotFound:         exitFail,
	mapping.CodeConflict:         exitFail,
	mapping.CodeConcurrentChange: exitFail,
	mapping.CodeUnavailable:      exitFail,
	mapping.CodeInternal:         exitFail,
}

// exitCode is the exit status of a command that failed with err
// (exitCodes; exitFail for a code it lacks).
func exitCode(err error) int {
	if c, ok := exitCodes[mapping.ErrorCode(err)]; ok {
		return c
	}
	return exitFail
}

const usage = `axonflow-sync keeps the AxonFlow identity directory in step with Okta.

Usage:
  axonflow-sync serve                         run the SCIM API and the admin listener
  axonflow-sync token create --tenant ID [--name N] [--expires-in 720h]
  axonflow-sync token list   --tenant ID [--output json]
  axonflow-sync token revoke --tenant ID TOKEN_ID
  axonflow-sync token rotate --tenant ID --token-id OLD [--grace 24h] [--name N]
  axonflow-sync roles map|unmap --tenant ID --group NAME_OR_ID [--by-name] [--role ROLE]
  axonflow-sync roles list --tenant ID [--output json]
  axonflow-sync roles show --tenant ID --user USER_ID_OR_USERNAME [--output json]
  axonflow-sync roles assign|unassign --tenant ID --user USER_ID_OR_USERNAME --role ROLE
  axonflow-sync roles default --tenant ID --role ROLE|none
                                              group-to-role mappings, manual roles, the default role
  axonflow-sync doctor --url https://HOST/scim/v2 --token-file PATH [--tenant ID] [--write-test] [--output json]
                                              replay Okta's SCIM requests and diagnose what fails (no config needed)
  axonflow-sync reconcile --tenant ID [--mode report|correct] [--output table|json] [--detailed-exitcode]
                          [--max-changes N] [--max-change-percent P]
                                              compare the tenant with its Okta app; report or correct the drift
                                              (--detailed-exitcode: 0 no drift, 2 drift remains, 1 error)
  axonflow-sync reconcile plans   --tenant ID [--status S] [--output table|json]
  axonflow-sync reconcile plan    --tenant ID PLAN_ID [--output table|json]
  axonflow-sync reconcile approve|reject --tenant ID PLAN_ID [--item ID]...
                                              held corrections: list, show, approve (applied under the lease
                                              if they still hold) or reject (cancels a scheduled deactivation)
  axonflow-sync reconcile explain --tenant ID (--user NAME | --group NAME) [--output table|json]
                                              why the reconciler would (not) change one user or group
  axonflow-sync log --tenant ID [--user NAME | --group NAME] [--since 1h] [--outcome accepted|rejected]
                    [--actor okta-push|reconciler|operator] [--limit N] [--output table|json]
                                              the provisioning log: every change and rejected SCIM request, and why
                                              a user or group does not appear (never pushed, rejected, other tenant)
  axonflow-sync healthcheck [--url URL]        exit 0 when the admin listener's /readyz answers 200 (container health check)
  axonflow-sync store verify [--tenant ID] [--repair] [--output json]
                                              check indexes, lists, memberships and role assignments against the
                                              records; --repair rebuilds them (0 clean, 1 problems remain)
  axonflow-sync help

Global flags (every subcommand; each also has an environment variable and a YAML key):
  --config FILE        AXONFLOW_SYNC_CONFIG         YAML configuration file
  --listen ADDR        AXONFLOW_SYNC_LISTEN         SCIM API address (default 127.0.0.1:8080)
  --admin-listen ADDR  AXONFLOW_SYNC_ADMIN_LISTEN   admin/health address (default 127.0.0.1:9090)
  --external-url URL   AXONFLOW_SYNC_EXTERNAL_URL   public https://HOST of the SCIM API for Location and meta.location
  --trusted-proxies CIDR,...  AXONFLOW_SYNC_TRUSTED_PROXIES  proxies whose X-Forwarded-Proto/Host are honoured (default none)
  --redis-url URL      AXONFLOW_SYNC_REDIS_URL      redis:// or rediss:// store (default: embedded)
  --redis-cluster-addrs H:P,...  AXONFLOW_SYNC_REDIS_CLUSTER_ADDRS   Redis Cluster seed nodes (instead of --redis-url)
  --redis-sentinel-master NAME   AXONFLOW_SYNC_REDIS_SENTINEL_MASTER Redis Sentinel master name, with
  --redis-sentinel-addrs H:P,... AXONFLOW_SYNC_REDIS_SENTINEL_ADDRS  the Sentinels (instead of --redis-url)
  --data-dir DIR       AXONFLOW_SYNC_DATA_DIR       embedded store directory (default ./data)
  --log-level LEVEL    AXONFLOW_SYNC_LOG_LEVEL      debug, info, warn, error
  --log-format FORMAT  AXONFLOW_SYNC_LOG_FORMAT     json or console
  --provisioning-log-max-entries N  AXONFLOW_SYNC_PROVISIONING_LOG_MAX_ENTRIES  provisioning log entries kept per tenant (default 100000)
  --provisioning-log-max-rejections N  AXONFLOW_SYNC_PROVISIONING_LOG_MAX_REJECTIONS  rejected entries kept per tenant, apart (default 10000)
  --provisioning-log-max-age DUR    AXONFLOW_SYNC_PROVISIONING_LOG_MAX_AGE      and their longest age (default 720h, 30 days)
  --filter-max-scan N               AXONFLOW_SYNC_FILTER_MAX_SCAN               most users (groups) a non-indexed SCIM filter may scan (default 100000)
`

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr, os.Getenv))
}

// env is how the command reads its environment (os.Getenv in production).
type env struct {
	stdout, stderr io.Writer
	getenv         func(string) string
}

// run executes one command line and returns the process exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	e := env{stdout: stdout, stderr: stderr, getenv: getenv}
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitConfig
	}
	switch args[0] {
	case "serve":
		ctx, stop := signal.NotifyContext(ctx, syscall.SIGTERM, syscall.SIGINT)
		defer stop()
		return e.serve(ctx, args[1:])
	case "token":
		return e.token(ctx, args[1:])
	case "roles":
		return e.roles(ctx, args[1:])
	case "doctor":
		return e.doctor(ctx, args[1:])
	case "healthcheck":
		return e.healthcheck(ctx, args[1:])
	case "reconcile":
		return e.reconcile(ctx, args[1:])
	case "log":
		return e.log(ctx, args[1:])
	case "store":
		return e.storeCmd(ctx, args[1:])
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return exitOK
	}
	fmt.Fprintf(stderr, "axonflow-sync: unknown command %q\n\n%s", args[0], usage)
	return exitConfig
}

// parse parses a subcommand's flags plus the global ones and loads the
// configuration. A config error is printed naming its key; the caller
// returns exitConfig.
func (e env) parse(fs *flag.FlagSet, args []string) (*config.Config, bool) {
	fs.SetOutput(e.stderr)
	own := map[string]bool{}
	fs.VisitAll(func(f *flag.Flag) { own[f.Name] = true })
	gf := config.RegisterFlags(fs)
	if len(own) > 0 {
		fs.Usage = func() { commandUsage(e.stderr, fs, own) }
	}
	if err := fs.Parse(args); err != nil {
		return nil, false
	}
	cfg, err := config.Load(gf, e.getenv)
	if err != nil {
		termtext.Fprintf(e.stderr, "axonflow-sync: %v\n", err)
		return nil, false
	}
	return cfg, true
}

// commandUsage is the usage text of a command with flags of its own (own,
// by name): those flags with their help, then only the names of the
// configuration flags every command takes (config.RegisterFlags), which
// "axonflow-sync serve -h" describes, instead of all of them again.
func commandUsage(w io.Writer, fs *flag.FlagSet, own map[string]bool) {
	fmt.Fprintf(w, "Usage of %s:\n", fs.Name())
	sub := flag.NewFlagSet(fs.Name(), flag.ContinueOnError)
	sub.SetOutput(w)
	var common []string
	fs.VisitAll(func(f *flag.Flag) {
		if !own[f.Name] {
			common = append(common, "-"+f.Name)
			return
		}
		sub.Var(f.Value, f.Name, f.Usage)
		sub.Lookup(f.Name).DefValue = f.DefValue
	})
	sub.PrintDefaults()
	fmt.Fprintf(w, "Configuration flags, as for every command (axonflow-sync serve -h describes them):\n  %s\n", strings.Join(common, " "))
}

// newLogger builds the zerolog logger the configuration asks for.
func newLogger(cfg *config.Config, w io.Writer) zerolog.Logger {
	lvl, err := zerolog.ParseLevel(cfg.Log.Level)
	if err != nil {
		lvl = zerolog.InfoLevel
	}
	if cfg.Log.Format == "console" {
		w = zerolog.ConsoleWriter{Out: w, TimeFormat: "2006-01-02T15:04:05.000Z07:00"}
	}
	// Millisecond timestamps (zerolog's default is seconds), to line
	// request lines up with Okta's provisioning events.
	// The text of the time is kept for its millisecond (logbuf.Timestamp).
	zerolog.TimeFieldFormat = "2006-01-02T15:04:05.000Z07:00"
	l := zerolog.New(w).Level(lvl).Hook(&logbuf.Timestamp{})
	// go-redis logs connection-pool trouble itself; route it through
	// zerolog so every log line has the configured format.
	redis.SetLogger(redisLog{l.With().Str("component", "go-redis").Logger()})
	return l
}

// redisLog adapts zerolog to go-redis's logger (warn level).
type redisLog struct{ l zerolog.Logger }

// Printf implements go-redis's internal.Logging.
func (r redisLog) Printf(_ context.Context, format string, v ...any) {
	r.l.Warn().Msg(strings.TrimSpace(fmt.Sprintf(format, v...)))
}

// DBFile is the embedded store's file name inside the data directory.
const DBFile = "axonflow-sync.db"

// openStore opens the store the configuration selects: Redis when a Redis
// URL, Cluster or Sentinel is set, else the embedded SQLite file in the data
// directory; either keeps each tenant's provisioning log for the configured
// retention (logRetention).
func openStore(ctx context.Context, cfg *config.Config, log zerolog.Logger) (store.State, string, error) {
	if rc, key := redisConfig(cfg); key != "" {
		st, err := redisstore.OpenUniversal(ctx, rc, redisstore.Options{Timeout: cfg.RedisTimeout, LogRetention: logRetention(cfg),
			Warn: func(err error) { log.Warn().Err(err).Msg("redis token cache") }})
		if err != nil {
			return nil, "", fmt.Errorf("opening the Redis store (%s): %w", key, err)
		}
		return st, rc.String(), nil
	}
	path := filepath.Join(cfg.DataDir, DBFile)
	st, err := sqlitestore.Open(ctx, path, log)
	if err != nil {
		return nil, "", fmt.Errorf("opening the embedded store (dataDir %s): %w", cfg.DataDir, err)
	}
	st.SetLogRetention(logRetention(cfg))
	return st, "embedded " + path, nil
}

// withProvLog returns st with every write recorded in the provisioning log
// (internal/provlog: user and group changes atomically with the change,
// operator actions and failed reconciler writes through the Recorder,
// which logs a failed entry on log and counts it on reg when reg is not
// nil), and the Recorder (serve also observes SCIM rejections with it).
// Every command that changes state wraps its store with it, once.
func withProvLog(st store.State, log zerolog.Logger, reg prometheus.Registerer) (store.State, *provlog.Recorder) {
	rec := provlog.New(st, provlog.Options{Logger: log, Registerer: reg})
	return rec.Wrap(st), rec
}

// logRetention is the provisioning log retention the configuration sets
// (provisioningLog.maxEntries, maxRejections, maxAge); zero fields, as in
// a Config not made by config.Load, take the store defaults.
func logRetention(cfg *config.Config) store.LogRetention {
	return store.LogRetention{MaxEntries: cfg.ProvisioningLog.MaxEntries, MaxRejections: cfg.ProvisioningLog.MaxRejections,
		MaxAge: cfg.ProvisioningLog.MaxAge}.WithDefaults()
}

// redisConfig returns the Redis connection the configuration describes and
// the YAML key that selected it ("" when no Redis is configured).
func redisConfig(cfg *config.Config) (redisstore.Config, string) {
	rc := redisstore.Config{
		URL:              cfg.RedisURL,
		ClusterAddrs:     cfg.RedisClusterAddrs,
		SentinelMaster:   cfg.RedisSentinelMaster,
		SentinelAddrs:    cfg.RedisSentinelAddrs,
		SentinelPassword: cfg.RedisSentinelPassword,
		Username:         cfg.RedisUsername,
		Password:         cfg.RedisPassword,
		TLS:              cfg.RedisTLS,
	}
	switch {
	case cfg.RedisURL != "":
		return rc, "redis.url"
	case len(cfg.RedisClusterAddrs) > 0:
		return rc, "redis.clusterAddrs"
	case cfg.RedisSentinelMaster != "":
		return rc, "redis.sentinelMaster"
	}
	return rc, ""
}
