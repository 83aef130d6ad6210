package config

import (
	"net/netip"
	"sort"
	"time"
)

// Config is the merged, defaulted and validated configuration of the daemon.
// Load returns it; its fields are never empty where a default exists.
type Config struct {
	// ConfigFile is the path of the YAML file that was read, "" if none.
	ConfigFile string
	// Listen is the host:port of the SCIM API (base path /scim/v2).
	Listen string
	// AdminListen is the host:port of the admin API.
	AdminListen string
	// ExternalURL is the public scheme://host[:port] of the SCIM API (no
	// path): Location and meta.location are built from it; "" takes them
	// from the request (Host, or the forwarded headers of a trusted proxy).
	ExternalURL string
	// TrustedProxies are the networks (CIDRs; a bare IP is a /32 or /128)
	// whose X-Forwarded-Proto and X-Forwarded-Host the SCIM API honours;
	// nil: none (the headers are ignored).
	TrustedProxies []netip.Prefix
	// MetricsListen is the host:port of a listener serving only /metrics;
	// "" serves /metrics on the admin listener.
	MetricsListen string
	// MetricsToken, if set, is the bearer token /metrics requires (at
	// least 32 random bytes, like AdminToken).
	MetricsToken string
	// RedisURL is a redis:// or rediss:// URL; "" selects the embedded
	// SQLite store under DataDir.
	RedisURL string
	// RedisTimeout is the deadline of one Redis command.
	RedisTimeout time.Duration
	// RedisClusterAddrs are the host:port seed nodes of a Redis Cluster
	// (instead of RedisURL); nil when not set.
	RedisClusterAddrs []string
	// RedisSentinelMaster is the master name Redis Sentinel monitors
	// (instead of RedisURL); RedisSentinelAddrs are the Sentinels.
	RedisSentinelMaster string
	// RedisSentinelAddrs are the host:port addresses of the Sentinels; nil
	// when not set.
	RedisSentinelAddrs []string
	// RedisUsername is the Redis ACL user ("" for none, or the URL's).
	RedisUsername string
	// RedisPassword is the Redis password ("" for none, or the URL's). It is
	// a secret: String and GoString redact it.
	RedisPassword string
	// RedisSentinelPassword authenticates to the Sentinels. It is a
	// secret: String and GoString redact it.
	RedisSentinelPassword string
	// RedisTLS connects to Redis (every Cluster node, the Sentinel-chosen
	// master) with TLS; a rediss:// URL implies it.
	RedisTLS bool
	// DataDir is the directory of the embedded SQLite store.
	DataDir string
	// AdminToken is the bearer token of the admin API; "" disables the
	// admin API. It is a secret: String and GoString redact it.
	AdminToken string
	// ShutdownTimeout bounds graceful shutdown after SIGTERM.
	ShutdownTimeout time.Duration
	// Log configures logging.
	Log LogConfig
	// ProvisioningLog bounds each tenant's provisioning log.
	ProvisioningLog ProvisioningLogConfig
	// FilterMaxScan is the most users (or groups) of a tenant one SCIM list
	// request with a non-indexed filter may scan (scimserver
	// Options.MaxFilterScan); a larger tenant gets 400 tooMany. At least
	// 1000, default 100000.
	FilterMaxScan int
	// Tenants holds the per-tenant settings by tenant id; never nil.
	Tenants map[string]TenantConfig
	// Console configures the review console under /ui/ on the admin
	// listener (YAML key console; see ConsoleConfig).
	Console ConsoleConfig
	// Source says where each global setting came from, by YAML key
	// ("listen", "redis.url", ...) plus "config" for the file path:
	// "default", "file PATH", "env NAME" or "flag --NAME". It is meant for
	// diagnostics such as the doctor command.
	Source map[string]string
}

// LogConfig configures logging.
type LogConfig struct {
	// Level is debug, info, warn or error.
	Level string `yaml:"level"`
	// Format is json or console.
	Format string `yaml:"format"`
}

// ProvisioningLogConfig is the retention of each tenant's provisioning log
// (cmd passes it to the store as a store.LogRetention).
type ProvisioningLogConfig struct {
	// MaxEntries is the most entries kept per tenant (the oldest are
	// pruned first); at least 100, default 100000.
	MaxEntries int
	// MaxRejections is the most rejected entries kept per tenant, in a
	// budget apart from MaxEntries (rejections never evict changes); at
	// least 100, default 10000.
	MaxRejections int
	// MaxAge is how long an entry is kept (and shown); at least one
	// minute, default 720h (30 days).
	MaxAge time.Duration
}

// TenantConfig holds the settings of one tenant, from the YAML file's
// tenants.<id> block.
type TenantConfig struct {
	// Okta is the tenant's Okta connection; nil if the tenant has none (it is
	// then provisioned by SCIM push only and cannot be reconciled).
	Okta *OktaConfig `yaml:"okta,omitempty"`
	// Reconcile configures the periodic Okta-to-AxonFlow reconciliation.
	Reconcile ReconcileConfig `yaml:"reconcile"`
	// Roles maps Okta groups to AxonFlow roles.
	Roles RolesConfig `yaml:"roles"`
}

// OktaConfig is how one tenant reaches the Okta management API. Exactly one
// of APIToken and OAuth is set.
type OktaConfig struct {
	// OrgURL is the Okta org, e.g. https://acme.okta.com, without a path or
	// trailing slash.
	OrgURL string `yaml:"orgURL"`
	// AppID is the id of the AxonFlow app in Okta.
	AppID string `yaml:"appID"`
	// APIToken is an Okta SSWS API token. It is a secret: String and
	// GoString redact it.
	APIToken string `yaml:"apiToken,omitempty"`
	// OAuth configures OAuth 2.0 private-key-JWT client credentials instead
	// of an API token.
	OAuth *OAuthConfig `yaml:"oauth,omitempty"`
	// AllowInsecureHTTP permits an http:// OrgURL; only for local fakes.
	AllowInsecureHTTP bool `yaml:"allowInsecureHTTP,omitempty"`
	// PushGroups lists the Okta groups pushed to AxonFlow.
	PushGroups []string `yaml:"pushGroups,omitempty"`
}

// OAuthConfig is an Okta OAuth 2.0 service app using private-key JWT.
type OAuthConfig struct {
	// ClientID is the service app's client id.
	ClientID string `yaml:"clientID"`
	// PrivateKeyFile is the path of the PEM private key; it is not read here.
	PrivateKeyFile string `yaml:"privateKeyFile"`
	// KeyID is the kid of the key registered in Okta; optional.
	KeyID string `yaml:"keyID,omitempty"`
	// Scopes are the requested scopes; default okta.apps.read,
	// okta.groups.read, okta.users.read.
	Scopes []string `yaml:"scopes"`
}

// ReconcileConfig configures reconciliation of one tenant.
type ReconcileConfig struct {
	// Schedule is a standard five-field cron spec or a descriptor such as
	// "@every 1h" or "@hourly", as accepted by
	// github.com/robfig/cron/v3.ParseStandard (schedulers must parse it the
	// same way). "" means no scheduled reconciliation.
	Schedule string `yaml:"schedule,omitempty"`
	// Mode is "report" (default: only report drift) or "correct".
	Mode string `yaml:"mode"`
	// MaxChanges is the most changes one correcting run may make before it
	// stops; default 50.
	MaxChanges int `yaml:"maxChanges"`
	// MaxChangePercent is the most changes one correcting run may make, as
	// a percentage (0..100) of the tenant's resources; default 10.
	MaxChangePercent int `yaml:"maxChangePercent"`
	// Approval says which corrections wait for an operator's decision:
	// "guarded" (default: a run whose corrections trip a guard holds them
	// as a plan), "destructive" (deactivations, group deletions and
	// membership removals always wait; the rest applies) or "all".
	Approval string `yaml:"approval"`
	// PlanTTLText is planTTL as written (a Go duration); PlanTTL the parsed
	// value: how long a held plan's pending items may be decided (default
	// 72h).
	PlanTTLText string        `yaml:"planTTL"`
	PlanTTL     time.Duration `yaml:"-"`
	// DeactivationGraceText is deactivationGrace as written;
	// DeactivationGrace the parsed value: when > 0, every user deactivation
	// by the reconciler is scheduled this long ahead, and can be cancelled
	// meanwhile (default 0: at once).
	DeactivationGraceText string        `yaml:"deactivationGrace"`
	DeactivationGrace     time.Duration `yaml:"-"`
}

// Reconcile approval modes (reconcile.approval).
const (
	ApprovalGuarded     = "guarded"
	ApprovalDestructive = "destructive"
	ApprovalAll         = "all"
)

// DefaultPlanTTL is reconcile.planTTL's default.
const DefaultPlanTTL = 72 * time.Hour

// RolesConfig maps Okta groups to AxonFlow roles.
type RolesConfig struct {
	// Default is the role of a user in no mapped group: one of owner,
	// admin, policy_admin, developer, viewer, or "none" for no role;
	// default "viewer".
	Default string `yaml:"default"`
	// Mappings map a group to a role.
	Mappings []RoleMapping `yaml:"mappings,omitempty"`
}

// RoleMapping gives the members of an Okta group an AxonFlow role.
type RoleMapping struct {
	// Group is the Okta group name.
	Group string `yaml:"group"`
	// Role is one of owner, admin, policy_admin, developer, viewer.
	Role string `yaml:"role"`
}

// Reconcile modes.
const (
	// ModeReport only reports drift.
	ModeReport = "report"
	// ModeCorrect corrects drift, within the change limits.
	ModeCorrect = "correct"
)

// RoleNone as RolesConfig.Default gives unmapped users no role.
const RoleNone = "none"

// roles lists the AxonFlow roles a group may map to, highest first.
var roles = []string{"owner", "admin", "policy_admin", "developer", "viewer"}

// defaultOAuthScopes are the scopes requested when oauth.scopes is absent.
var defaultOAuthScopes = []string{"okta.apps.read", "okta.groups.read", "okta.users.read"}

// TenantIDs returns the ids of c.Tenants in ascending order.
func (c Config) TenantIDs() []string {
	ids := make([]string, 0, len(c.Tenants))
	for id := range c.Tenants {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// Error is a configuration problem. Key is the YAML key path of the setting
// ("redis.url", "tenants.acme.okta.appID"; "config" for the file itself),
// Msg what is wrong, and Source, if not "", where the bad value came from
// ("env AXONFLOW_SYNC_REDIS_URL", "flag --redis-url", "file PATH").
type Error struct {
	// Key is the YAML key path of the offending setting.
	Key string
	// Msg says what is wrong with it.
	Msg string
	// Source is where the value came from, or "" if unknown.
	Source string
}

// Error formats e as "config: KEY: MSG", followed by " (from SOURCE)" when
// the source is known.
func (e *Error) Error() string {
	s := "config: "
	if e.Key != "" {
		s += e.Key + ": "
	}
	s += e.Msg
	if e.Source != "" {
		s += " (from " + e.Source + ")"
	}
	return s
}

// ConsoleConfig is the YAML block console: the review console's sign-in
// and sessions. Durations are Go durations ("30m", "12h").
type ConsoleConfig struct {
	// OIDC configures sign-in through an OpenID Connect provider; without
	// an issuer the console signs in with the admin token (POST /ui/login).
	OIDC ConsoleOIDCConfig `yaml:"oidc"`
	// SessionIdleTimeout ends a session not used for this long (default 30m).
	SessionIdleTimeout time.Duration `yaml:"-"`
	// SessionMaxAge ends a session this long after sign-in (default 12h).
	SessionMaxAge time.Duration `yaml:"-"`
}

// ConsoleOIDCConfig is console.oidc: the console's OpenID Connect client
// (authorization code flow with PKCE; OpenID Connect Core 1.0 §3.1).
type ConsoleOIDCConfig struct {
	// Issuer is the provider's issuer URL (discovery at
	// Issuer/.well-known/openid-configuration); "" disables OIDC.
	Issuer string `yaml:"issuer"`
	// ClientID is the console's client id at the provider.
	ClientID string `yaml:"clientID"`
	// ClientSecret comes from AXONFLOW_SYNC_CONSOLE_OIDC_CLIENT_SECRET,
	// console.oidc.clientSecret or the file console.oidc.clientSecretFile
	// (never a flag: flags show in process lists).
	ClientSecret string `yaml:"clientSecret"`
	// ClientSecretFile is a file holding the client secret (trailing
	// whitespace is trimmed).
	ClientSecretFile string `yaml:"clientSecretFile"`
	// RedirectURL is the console's callback as registered at the provider:
	// an absolute URL whose path is /ui/oidc/callback.
	RedirectURL string `yaml:"redirectURL"`
	// ViewerGroups may look at every page (members of the ID token's
	// groups claim).
	ViewerGroups []string `yaml:"viewerGroups"`
	// ApproverGroups may also decide plans, edit mappings, run reports and
	// manage tokens.
	ApproverGroups []string `yaml:"approverGroups"`
}

// Enabled reports whether OIDC sign-in is configured (an issuer is set).
func (o ConsoleOIDCConfig) Enabled() bool { return o.Issuer != "" }
