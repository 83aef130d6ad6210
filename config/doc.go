// Package config loads, merges and validates the configuration of the
// axonflow-sync daemon into one typed, defaulted Config.
//
// # Sources and precedence
//
// Every global setting comes from, highest first: a command-line flag that
// was set explicitly, an environment variable that is non-empty, a key of the
// optional YAML file, and a built-in default. The YAML file is named by
// --config or, if that flag is not set, by AXONFLOW_SYNC_CONFIG; with neither,
// no file is read. Names (a contract: scripts and manifests rely on them):
//
//	env                                         YAML key                    flag                            default
//	AXONFLOW_SYNC_CONFIG                        -                           --config                        ""
//	AXONFLOW_SYNC_LISTEN                        listen                      --listen                        127.0.0.1:8080
//	AXONFLOW_SYNC_ADMIN_LISTEN                  adminListen                 --admin-listen                  127.0.0.1:9090
//	AXONFLOW_SYNC_REDIS_URL                     redis.url                   --redis-url                     "" (embedded SQLite)
//	AXONFLOW_SYNC_REDIS_CLUSTER_ADDRS           redis.clusterAddrs          --redis-cluster-addrs           "" (list)
//	AXONFLOW_SYNC_REDIS_SENTINEL_MASTER         redis.sentinelMaster        --redis-sentinel-master         ""
//	AXONFLOW_SYNC_REDIS_SENTINEL_ADDRS          redis.sentinelAddrs         --redis-sentinel-addrs          "" (list)
//	AXONFLOW_SYNC_REDIS_USERNAME                redis.username              --redis-username                ""
//	AXONFLOW_SYNC_REDIS_PASSWORD                redis.password              (flag refused)                  "" (secret)
//	AXONFLOW_SYNC_REDIS_SENTINEL_PASSWORD       redis.sentinelPassword      --redis-sentinel-password       "" (secret)
//	AXONFLOW_SYNC_REDIS_TLS                     redis.tls                   --redis-tls                     false
//	AXONFLOW_SYNC_DATA_DIR                      dataDir                     --data-dir                      ./data
//	AXONFLOW_SYNC_EXTERNAL_URL                  externalURL                 --external-url                  "" (from the request)
//	AXONFLOW_SYNC_TRUSTED_PROXIES               trustedProxies              --trusted-proxies               "" (list of CIDRs; none trusted)
//	AXONFLOW_SYNC_ADMIN_TOKEN                   adminToken                  (flag refused)                  "" (admin API off; >= 32 random bytes)
//	AXONFLOW_SYNC_METRICS_LISTEN                metricsListen               --metrics-listen                "" (/metrics on the admin listener)
//	AXONFLOW_SYNC_METRICS_TOKEN                 metricsToken                (flag refused)                  "" (/metrics without a token)
//	AXONFLOW_SYNC_LOG_LEVEL                     log.level                   --log-level                     info
//	AXONFLOW_SYNC_LOG_FORMAT                    log.format                  --log-format                    json
//	AXONFLOW_SYNC_REDIS_TIMEOUT                 redis.timeout               --redis-timeout                 2s
//	AXONFLOW_SYNC_SHUTDOWN_TIMEOUT              shutdownTimeout             --shutdown-timeout              25s
//	AXONFLOW_SYNC_PROVISIONING_LOG_MAX_ENTRIES  provisioningLog.maxEntries  --provisioning-log-max-entries  100000 (>= 100)
//	AXONFLOW_SYNC_PROVISIONING_LOG_MAX_REJECTIONS  provisioningLog.maxRejections  --provisioning-log-max-rejections  10000 (>= 100)
//	AXONFLOW_SYNC_PROVISIONING_LOG_MAX_AGE      provisioningLog.maxAge      --provisioning-log-max-age      720h (30 days, >= 1m)
//	AXONFLOW_SYNC_FILTER_MAX_SCAN               filter.maxScan              --filter-max-scan               100000 (>= 1000)
//
// Redis is selected by exactly one of redis.url (one server),
// redis.clusterAddrs (Redis Cluster seed nodes) or redis.sentinelMaster with
// redis.sentinelAddrs (Redis Sentinel). The address lists are YAML lists, or
// comma-separated host:port in the environment variable and the flag.
// Credentials come from the URL or from redis.username and redis.password
// (not both); a password in YAML is best given as ${VAR}.
//
// Secrets (adminToken, metricsToken, redis.password,
// redis.sentinelPassword, a redis.url with a password) are refused as
// flags, since process lists show them: Load returns an *Error naming the
// environment variable to use. adminToken and metricsToken must be at least
// 32 random bytes (MinSecretTokenLen characters, a dozen of them
// different).
//
// provisioningLog.maxEntries (an integer, at least 100),
// provisioningLog.maxRejections (the same, for rejected entries, counted
// apart) and provisioningLog.maxAge (a duration, at least 1m) bound each tenant's
// provisioning log on either store; cmd hands them to the store as a
// store.LogRetention (Config.ProvisioningLog).
//
// Per-tenant settings (Okta connection, reconciliation, role mapping) are
// read from the YAML file only, under tenants.<id>; see TenantConfig.
//
// # YAML file
//
// Unknown keys are an error naming the key, so a typo never silently does
// nothing. In YAML string values, ${NAME} is replaced by the environment
// variable NAME; a referenced variable that is unset or empty is an error
// naming the key. $${ stands for a literal ${. Nothing else is expanded
// ($NAME stays as written), and values from flags or environment variables
// are never expanded.
//
// # Errors
//
// Every problem is reported as a *Error whose Key is the YAML key path of the
// offending setting (for example redis.url or
// tenants.acme.okta.orgURL), also when the value came from a flag or an
// environment variable; cmd prints it and exits with status 2.
//
// # Who imports it
//
// Only cmd imports this package. scimserver, sync and the stores take plain
// values (addresses, durations, per-tenant settings) from cmd and never see a
// Config. The package does no I/O besides reading the YAML file: files named
// in it, such as oauth.privateKeyFile, are returned as paths, unread and
// unresolved (relative paths are relative to the working directory).
package config
