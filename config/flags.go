package config

import "flag"

// setting describes one global setting: its YAML key, environment variable,
// flag name, default and flag usage. The names are a contract.
type setting struct {
	key, env, flag, def, usage string
}

// keyConfig is the Source and Error key of the config file path.
const keyConfig = "config"

// configSetting names the YAML file; it has no YAML key of its own.
var configSetting = setting{keyConfig, "AXONFLOW_SYNC_CONFIG", "config", "",
	"path of the optional YAML config file"}

// settings are the global settings in the order they are validated.
var settings = []setting{
	{"listen", "AXONFLOW_SYNC_LISTEN", "listen", "127.0.0.1:8080",
		"SCIM API listen address, host:port (base path /scim/v2)"},
	{"adminListen", "AXONFLOW_SYNC_ADMIN_LISTEN", "admin-listen", "127.0.0.1:9090",
		"admin API listen address, host:port"},
	{"externalURL", "AXONFLOW_SYNC_EXTERNAL_URL", "external-url", "",
		"public base of the SCIM API, https://HOST[:PORT], for Location and meta.location; empty: from the request"},
	{"trustedProxies", "AXONFLOW_SYNC_TRUSTED_PROXIES", "trusted-proxies", "",
		"proxies whose X-Forwarded-Proto/X-Forwarded-Host are honoured, comma-separated CIDRs or IPs (a list in YAML); empty: none"},
	{"redis.url", "AXONFLOW_SYNC_REDIS_URL", "redis-url", "",
		"Redis URL, redis:// or rediss://; empty uses the embedded SQLite store in the data directory"},
	{"redis.timeout", "AXONFLOW_SYNC_REDIS_TIMEOUT", "redis-timeout", "2s",
		"deadline of one Redis command"},
	{"redis.clusterAddrs", "AXONFLOW_SYNC_REDIS_CLUSTER_ADDRS", "redis-cluster-addrs", "",
		"Redis Cluster seed nodes, comma-separated host:port (a list in YAML); instead of the Redis URL"},
	{"redis.sentinelMaster", "AXONFLOW_SYNC_REDIS_SENTINEL_MASTER", "redis-sentinel-master", "",
		"master name monitored by Redis Sentinel (with the Sentinel addresses); instead of the Redis URL"},
	{"redis.sentinelAddrs", "AXONFLOW_SYNC_REDIS_SENTINEL_ADDRS", "redis-sentinel-addrs", "",
		"Redis Sentinel addresses, comma-separated host:port (a list in YAML)"},
	{"redis.username", "AXONFLOW_SYNC_REDIS_USERNAME", "redis-username", "",
		"Redis ACL user name (or the user in the Redis URL)"},
	{"redis.password", "AXONFLOW_SYNC_REDIS_PASSWORD", "redis-password", "",
		"refused as a flag (process lists show flags): Redis password (or the password in the Redis URL)"},
	{"redis.sentinelPassword", "AXONFLOW_SYNC_REDIS_SENTINEL_PASSWORD", "redis-sentinel-password", "",
		"refused as a flag: password of the Redis Sentinels, if they require one"},
	{"redis.tls", "AXONFLOW_SYNC_REDIS_TLS", "redis-tls", "false",
		"connect to Redis with TLS (a rediss:// URL implies it)"},
	{"dataDir", "AXONFLOW_SYNC_DATA_DIR", "data-dir", "./data",
		"directory of the embedded SQLite store"},
	{"adminToken", "AXONFLOW_SYNC_ADMIN_TOKEN", "admin-token", "",
		"refused as a flag (process lists show flags): bearer token of the admin API, at least 32 random bytes; empty disables it"},
	{"metricsListen", "AXONFLOW_SYNC_METRICS_LISTEN", "metrics-listen", "",
		"listen address of /metrics alone, host:port; empty serves /metrics on the admin listener"},
	{"metricsToken", "AXONFLOW_SYNC_METRICS_TOKEN", "metrics-token", "",
		"refused as a flag: bearer token /metrics requires, at least 32 random bytes; empty: none"},
	{"log.level", "AXONFLOW_SYNC_LOG_LEVEL", "log-level", "info",
		"log level: debug, info, warn or error"},
	{"log.format", "AXONFLOW_SYNC_LOG_FORMAT", "log-format", "json",
		"log format: json or console"},
	{"shutdownTimeout", "AXONFLOW_SYNC_SHUTDOWN_TIMEOUT", "shutdown-timeout", "25s",
		"graceful shutdown deadline"},
	{"provisioningLog.maxEntries", "AXONFLOW_SYNC_PROVISIONING_LOG_MAX_ENTRIES", "provisioning-log-max-entries", "100000",
		"most provisioning log entries kept per tenant, at least 100 (the oldest are pruned)"},
	{"provisioningLog.maxRejections", "AXONFLOW_SYNC_PROVISIONING_LOG_MAX_REJECTIONS", "provisioning-log-max-rejections", "10000",
		"most rejected provisioning log entries kept per tenant, at least 100, apart from the other entries (rejections never evict changes)"},
	{"filter.maxScan", "AXONFLOW_SYNC_FILTER_MAX_SCAN", "filter-max-scan", "100000",
		"most users (groups) of a tenant one SCIM list with a non-indexed filter may scan, at least 1000 (a larger tenant gets 400 tooMany)"},
	{"provisioningLog.maxAge", "AXONFLOW_SYNC_PROVISIONING_LOG_MAX_AGE", "provisioning-log-max-age", "720h",
		"age after which provisioning log entries are pruned and no longer shown, at least 1m"},
}

// Flags holds the values of the global flags of one FlagSet and whether
// each was set explicitly; a flag that was not set does not override the
// environment, the YAML file or the default. Create it with RegisterFlags.
// The zero value and nil mean "no flag set".
type Flags struct {
	vals map[string]*flagValue // by setting key
}

// flagValue is a string flag that remembers whether it was set.
type flagValue struct {
	s   string
	set bool
}

// String returns the value (the default until set); it is safe on nil.
func (v *flagValue) String() string {
	if v == nil {
		return ""
	}
	return v.s
}

// Set records an explicit value.
func (v *flagValue) Set(s string) error {
	v.s, v.set = s, true
	return nil
}

// RegisterFlags adds the global flags (--config, --listen, --admin-listen,
// --redis-url, --redis-cluster-addrs, --redis-sentinel-master,
// --redis-sentinel-addrs, --redis-username, --redis-password,
// --redis-sentinel-password, --redis-tls, --data-dir, --admin-token,
// --log-level, --log-format, --redis-timeout, --shutdown-timeout,
// --provisioning-log-max-entries, --provisioning-log-max-age) to fs,
// typically a subcommand's FlagSet, and returns where their values land
// after fs.Parse.
func RegisterFlags(fs *flag.FlagSet) *Flags {
	f := &Flags{vals: make(map[string]*flagValue, len(settings)+1)}
	for _, s := range append([]setting{configSetting}, settings...) {
		v := &flagValue{s: s.def}
		f.vals[s.key] = v
		fs.Var(v, s.flag, s.usage+" (env "+s.env+")")
	}
	return f
}

// lookup returns the flag value of setting key if it was set explicitly.
func (f *Flags) lookup(key string) (string, bool) {
	if f == nil || f.vals[key] == nil || !f.vals[key].set {
		return "", false
	}
	return f.vals[key].s, true
}
