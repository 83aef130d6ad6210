package config

import (
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// tenantIDPattern is what a tenant id looks like. Ids are embedded in Redis
// hash tags, so braces and other punctuation are excluded.
var tenantIDPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)

// The lowest provisioning log retention accepted: fewer entries or a
// shorter age would leave too little to troubleshoot with.
const (
	minLogMaxEntries = 100
	minFilterMaxScan = 1000
	minLogMaxAge     = time.Minute
)

// secretKeys are the settings that hold secrets: refused as flags, since
// process lists show a process's arguments (redis.url is refused as a
// flag only when it holds a password).
var secretKeys = map[string]bool{"adminToken": true, "metricsToken": true, "redis.password": true, "redis.sentinelPassword": true}

// MinSecretTokenLen is the shortest admin or metrics token accepted: 32
// random bytes in base64 without padding (openssl rand -base64 32 prints
// 44 characters).
const MinSecretTokenLen = 43

// minSecretTokenDistinct is the fewest different characters such a token
// must have (hex has 16, base64 about 30): "aaaa..." or a short word
// repeated is refused.
const minSecretTokenDistinct = 12

// checkSecretToken returns why v cannot be an admin or metrics token
// ("" if it can). It never echoes v.
func checkSecretToken(v string) string {
	distinct := map[rune]bool{}
	for _, c := range v {
		distinct[c] = true
	}
	if len(v) < MinSecretTokenLen || len(distinct) < minSecretTokenDistinct {
		return fmt.Sprintf("must be at least 32 random bytes (at least %d characters, %d of them different; got %d characters, %d different): generate one with: openssl rand -base64 32",
			MinSecretTokenLen, minSecretTokenDistinct, len(v), len(distinct))
	}
	if strings.ContainsAny(v, " \t\r\n") {
		return "must not contain spaces or line breaks"
	}
	return ""
}

// validate checks the merged global settings vals (by key) and the tenants,
// and stores the parsed durations and normalised values in cfg.
func validate(cfg *Config, vals map[string]string) error {
	for _, s := range settings {
		v := vals[s.key]
		fail := func(format string, a ...any) error {
			return &Error{Key: s.key, Msg: fmt.Sprintf(format, a...), Source: cfg.Source[s.key]}
		}
		if secretKeys[s.key] && v != "" && strings.HasPrefix(cfg.Source[s.key], "flag ") {
			return fail("must not be given as a flag: process lists (ps) show flags; set %s, or %s in the config file (%s: ${VAR} reads a variable)",
				s.env, s.key, s.key)
		}
		switch s.key {
		case "adminToken", "metricsToken":
			if v != "" {
				if msg := checkSecretToken(v); msg != "" {
					return fail("%s", msg)
				}
			}
			if s.key == "metricsToken" && v != "" && v == vals["adminToken"] {
				return fail("must differ from adminToken (whoever scrapes metrics must not hold the admin token)")
			}
		case "metricsListen":
			if v == "" {
				break
			}
			if msg := checkHostPort(v); msg != "" {
				return fail("%s", msg)
			}
			if (v == cfg.Listen || v == cfg.AdminListen) && !strings.HasSuffix(v, ":0") {
				return fail("must differ from listen and adminListen")
			}
		case "listen", "adminListen":
			if msg := checkHostPort(v); msg != "" {
				return fail("%s", msg)
			}
			if s.key == "adminListen" && v == cfg.Listen && !strings.HasSuffix(v, ":0") {
				return fail("must differ from listen (%s)", cfg.Listen)
			}
		case "externalURL":
			if v == "" {
				break
			}
			u, err := url.Parse(v)
			if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil ||
				(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
				return fail("must be https://HOST or https://HOST:PORT (no path: the SCIM API is at /scim/v2 under it), got %q", v)
			}
			cfg.ExternalURL = u.Scheme + "://" + u.Host
		case "trustedProxies":
			var nets []netip.Prefix
			for _, a := range strings.Split(v, ",") {
				if a = strings.TrimSpace(a); a == "" {
					continue
				}
				p, err := netip.ParsePrefix(a)
				if err != nil {
					ip, err2 := netip.ParseAddr(a)
					if err2 != nil {
						return fail("must be CIDRs or IP addresses separated by commas, such as 10.0.0.0/8, got %q", a)
					}
					p = netip.PrefixFrom(ip, ip.BitLen())
				}
				nets = append(nets, p.Masked())
			}
			cfg.TrustedProxies = nets
		case "redis.url":
			if v == "" {
				break
			}
			if !strings.HasPrefix(v, "redis://") && !strings.HasPrefix(v, "rediss://") {
				return fail("must start with redis:// or rediss://")
			}
			// The URL may hold a password: never echo it.
			u, err := url.Parse(v)
			if err != nil {
				return fail("must be a valid URL")
			}
			if _, has := u.User.Password(); has && strings.HasPrefix(cfg.Source[s.key], "flag ") {
				return fail("must not hold a password when given as a flag: process lists (ps) show flags; set %s (or %s) instead", s.env, "AXONFLOW_SYNC_REDIS_PASSWORD")
			}
			if u.Host == "" {
				return fail("must name a host")
			}
		case "redis.clusterAddrs", "redis.sentinelAddrs":
			addrs, msg := splitAddrs(v)
			if msg != "" {
				return fail("%s", msg)
			}
			if s.key == "redis.clusterAddrs" {
				cfg.RedisClusterAddrs = addrs
				if addrs != nil && vals["redis.url"] != "" {
					return fail("cannot be combined with redis.url: set one of them")
				}
				break
			}
			cfg.RedisSentinelAddrs = addrs
			if addrs != nil && vals["redis.sentinelMaster"] == "" {
				return fail("needs redis.sentinelMaster, the name of the master the Sentinels monitor")
			}
		case "redis.sentinelMaster":
			switch {
			case v == "":
			case vals["redis.url"] != "":
				return fail("cannot be combined with redis.url: set one of them")
			case cfg.RedisClusterAddrs != nil:
				return fail("cannot be combined with redis.clusterAddrs: Redis Cluster and Sentinel are exclusive")
			case strings.Trim(vals["redis.sentinelAddrs"], ", ") == "":
				return fail("needs redis.sentinelAddrs, the host:port addresses of the Sentinels")
			}
		case "redis.username", "redis.password", "redis.tls":
			if s.key == "redis.tls" {
				b, err := strconv.ParseBool(v)
				if err != nil {
					return fail("must be true or false, got %q", v)
				}
				cfg.RedisTLS = b
				if !b {
					break
				}
			}
			if v == "" {
				break
			}
			if vals["redis.url"] == "" && cfg.RedisClusterAddrs == nil && vals["redis.sentinelMaster"] == "" {
				return fail("is set but no Redis is configured (redis.url, redis.clusterAddrs or redis.sentinelMaster)")
			}
			if s.key != "redis.tls" && vals["redis.url"] != "" {
				// Never echo the URL: it may hold a password.
				if u, err := url.Parse(vals["redis.url"]); err == nil && u.User != nil {
					if _, hasPw := u.User.Password(); s.key == "redis.password" && hasPw {
						return fail("redis.url already holds a password: set it in one place")
					}
					if s.key == "redis.username" && u.User.Username() != "" {
						return fail("redis.url already holds a user name: set it in one place")
					}
				}
			}
		case "redis.sentinelPassword":
			if v != "" && vals["redis.sentinelMaster"] == "" {
				return fail("is only used with redis.sentinelMaster")
			}
		case "redis.timeout", "shutdownTimeout":
			d, err := time.ParseDuration(v)
			if err != nil {
				return fail("must be a duration such as 2s or 1m30s, got %q", v)
			}
			if d <= 0 {
				return fail("must be positive, got %q", v)
			}
			if s.key == "redis.timeout" {
				cfg.RedisTimeout = d
			} else {
				cfg.ShutdownTimeout = d
			}
		case "provisioningLog.maxEntries":
			n, err := strconv.Atoi(v)
			if err != nil {
				return fail("must be an integer such as 100000, got %q", v)
			}
			if n < minLogMaxEntries {
				return fail("must be at least %d, got %d", minLogMaxEntries, n)
			}
			cfg.ProvisioningLog.MaxEntries = n
		case "filter.maxScan":
			n, err := strconv.Atoi(v)
			if err != nil {
				return fail("must be an integer such as 100000, got %q", v)
			}
			if n < minFilterMaxScan {
				return fail("must be at least %d, got %d", minFilterMaxScan, n)
			}
			cfg.FilterMaxScan = n
		case "provisioningLog.maxRejections":
			n, err := strconv.Atoi(v)
			if err != nil {
				return fail("must be an integer such as 10000, got %q", v)
			}
			if n < minLogMaxEntries {
				return fail("must be at least %d, got %d", minLogMaxEntries, n)
			}
			cfg.ProvisioningLog.MaxRejections = n
		case "provisioningLog.maxAge":
			d, err := time.ParseDuration(v)
			if err != nil {
				return fail("must be a duration such as 720h or 168h, got %q", v)
			}
			if d < minLogMaxAge {
				return fail("must be at least 1m, got %q", v)
			}
			cfg.ProvisioningLog.MaxAge = d
		case "dataDir":
			if v == "" {
				return fail("must not be empty")
			}
		case "log.level":
			if !slices.Contains([]string{"debug", "info", "warn", "error"}, v) {
				return fail("must be one of debug, info, warn, error; got %q", v)
			}
		case "log.format":
			if !slices.Contains([]string{"json", "console"}, v) {
				return fail("must be one of json, console; got %q", v)
			}
		}
	}
	for _, id := range cfg.TenantIDs() {
		t, err := validateTenant(id, cfg.Tenants[id])
		if err != nil {
			err.(*Error).Source = "file " + cfg.ConfigFile
			return err
		}
		cfg.Tenants[id] = t
	}
	return nil
}

// checkHostPort returns why addr is not a listen address, or "".
func checkHostPort(addr string) string {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Sprintf("must be host:port, got %q", addr)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return fmt.Sprintf("must be host:port with a numeric port 0-65535, got %q", addr)
	}
	return ""
}

// validateTenant checks tenant id and its settings t and returns t with
// normalised values. Keys in errors are tenants.<id>.<key>.
func validateTenant(id string, t TenantConfig) (TenantConfig, error) {
	p := "tenants." + id
	fail := func(key, format string, a ...any) (TenantConfig, error) {
		return TenantConfig{}, &Error{Key: joinKey(p, key), Msg: fmt.Sprintf(format, a...)}
	}
	if !tenantIDPattern.MatchString(id) {
		return fail("", "tenant id must match %s", tenantIDPattern)
	}

	if t.Okta == nil {
		if t.Reconcile.Schedule != "" {
			return fail("reconcile.schedule", "needs an okta block to reconcile against")
		}
	} else {
		o := *t.Okta
		if o.OrgURL == "" {
			return fail("okta.orgURL", "must not be empty")
		}
		u, err := url.Parse(o.OrgURL)
		if err != nil {
			return fail("okta.orgURL", "must be a URL such as https://acme.okta.com, got %q", o.OrgURL)
		}
		switch {
		case u.Scheme == "https":
		case u.Scheme == "http" && o.AllowInsecureHTTP:
		case u.Scheme == "http":
			return fail("okta.orgURL", "must be https:// (http:// only with allowInsecureHTTP: true), got %q", o.OrgURL)
		default:
			return fail("okta.orgURL", "must be an https:// URL, got %q", o.OrgURL)
		}
		if u.Host == "" || u.Opaque != "" {
			return fail("okta.orgURL", "must name a host, got %q", o.OrgURL)
		}
		if u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.ForceQuery {
			return fail("okta.orgURL", "must be only scheme and host, without path, query or credentials, got %q", o.OrgURL)
		}
		o.OrgURL = u.Scheme + "://" + u.Host
		if o.AppID == "" {
			return fail("okta.appID", "must not be empty")
		}
		if (o.APIToken == "") == (o.OAuth == nil) {
			return fail("okta", "must set exactly one of apiToken or oauth")
		}
		if o.OAuth != nil {
			a := *o.OAuth
			if a.ClientID == "" {
				return fail("okta.oauth.clientID", "must not be empty")
			}
			if a.PrivateKeyFile == "" {
				return fail("okta.oauth.privateKeyFile", "must not be empty")
			}
			if len(a.Scopes) == 0 {
				return fail("okta.oauth.scopes", "must not be empty (omit the key for the default scopes)")
			}
			for i, s := range a.Scopes {
				if strings.TrimSpace(s) == "" {
					return fail(fmt.Sprintf("okta.oauth.scopes[%d]", i), "must not be empty")
				}
			}
			a.Scopes = slices.Clone(a.Scopes)
			o.OAuth = &a
		}
		for i, g := range o.PushGroups {
			if strings.TrimSpace(g) == "" {
				return fail(fmt.Sprintf("okta.pushGroups[%d]", i), "must not be empty")
			}
		}
		t.Okta = &o
	}

	r := t.Reconcile
	if r.Schedule != "" {
		if _, err := cron.ParseStandard(r.Schedule); err != nil {
			return fail("reconcile.schedule", "must be a cron spec or descriptor such as \"@every 1h\": %v", err)
		}
	}
	if r.Mode != ModeReport && r.Mode != ModeCorrect {
		return fail("reconcile.mode", "must be one of report, correct; got %q", r.Mode)
	}
	if r.MaxChanges < 0 {
		return fail("reconcile.maxChanges", "must be >= 0, got %d", r.MaxChanges)
	}
	if r.MaxChangePercent < 0 || r.MaxChangePercent > 100 {
		return fail("reconcile.maxChangePercent", "must be between 0 and 100, got %d", r.MaxChangePercent)
	}
	if r.Approval != ApprovalGuarded && r.Approval != ApprovalDestructive && r.Approval != ApprovalAll {
		return fail("reconcile.approval", "must be one of guarded, destructive, all; got %q", r.Approval)
	}
	ttl, err := time.ParseDuration(r.PlanTTLText)
	if err != nil || ttl < time.Minute {
		return fail("reconcile.planTTL", "must be a Go duration of at least 1m such as \"72h\"; got %q", r.PlanTTLText)
	}
	grace, err := time.ParseDuration(r.DeactivationGraceText)
	if err != nil || grace < 0 {
		return fail("reconcile.deactivationGrace", "must be a Go duration >= 0 such as \"24h\"; got %q", r.DeactivationGraceText)
	}
	t.Reconcile.PlanTTL, t.Reconcile.DeactivationGrace = ttl, grace

	if t.Roles.Default != RoleNone && !slices.Contains(roles, t.Roles.Default) {
		return fail("roles.default", "must be one of %s, none; got %q", strings.Join(roles, ", "), t.Roles.Default)
	}
	groups := map[string]bool{}
	for i, m := range t.Roles.Mappings {
		mp := fmt.Sprintf("roles.mappings[%d]", i)
		if strings.TrimSpace(m.Group) == "" {
			return fail(mp+".group", "must not be empty")
		}
		if groups[m.Group] {
			return fail(mp+".group", "group %q is mapped more than once", m.Group)
		}
		groups[m.Group] = true
		if !slices.Contains(roles, m.Role) {
			return fail(mp+".role", "must be one of %s; got %q", strings.Join(roles, ", "), m.Role)
		}
	}
	t.Roles.Mappings = slices.Clone(t.Roles.Mappings)
	return t, nil
}

// splitAddrs splits a comma-separated list of host:port addresses (the
// environment and flag form; the YAML list arrives joined), dropping empty
// items and spaces. It returns nil for no address, or why an item is not a
// Redis address.
func splitAddrs(v string) ([]string, string) {
	var out []string
	for _, a := range strings.Split(v, ",") {
		a = strings.TrimSpace(a)
		if a == "" {
			continue
		}
		host, port, err := net.SplitHostPort(a)
		if err != nil || host == "" {
			return nil, fmt.Sprintf("must be host:port addresses separated by commas, got %q", a)
		}
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return nil, fmt.Sprintf("must be host:port with a numeric port 1-65535, got %q", a)
		}
		out = append(out, a)
	}
	return out, ""
}
