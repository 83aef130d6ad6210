package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// load writes yaml (if not "") to a temp file named by AXONFLOW_SYNC_CONFIG
// (unless env names one), parses args with the registered flags and loads.
func load(t *testing.T, yaml string, env map[string]string, args ...string) (*Config, error) {
	t.Helper()
	e := map[string]string{}
	for k, v := range env {
		e[k] = v
	}
	if yaml != "" {
		p := filepath.Join(t.TempDir(), "axonflow-sync.yaml")
		if err := os.WriteFile(p, []byte(yaml), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, ok := e["AXONFLOW_SYNC_CONFIG"]; !ok {
			e["AXONFLOW_SYNC_CONFIG"] = p
		}
	}
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	f := RegisterFlags(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatalf("parse %v: %v", args, err)
	}
	return Load(f, func(k string) string { return e[k] })
}

// mustLoad is load that fails the test on error.
func mustLoad(t *testing.T, yaml string, env map[string]string, args ...string) *Config {
	t.Helper()
	c, err := load(t, yaml, env, args...)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return c
}

// configErr asserts err is a *Error and returns it.
func configErr(t *testing.T, err error) *Error {
	t.Helper()
	var ce *Error
	if !errors.As(err, &ce) {
		t.Fatalf("error %v (%T) is not a *config.Error", err, err)
	}
	return ce
}

// okta is a valid okta block, indented for tenants.<id>.
const okta = `
    okta:
      orgURL: https://acme.okta.com
      appID: 0oa1
      apiToken: tok
`

func TestDefaults(t *testing.T) {
	for _, tc := range []struct {
		name string
		yaml string
	}{
		{"no file", ""},
		{"empty file", "\n"},
		{"comment-only file", "# nothing\n"},
		{"null values", "listen:\nredis: {url: ~}\nlog:\n"},
		{"null provisioningLog", "provisioningLog: {maxEntries: ~, maxAge: ~}\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := mustLoad(t, tc.yaml, nil)
			want := Config{
				ConfigFile:      c.ConfigFile,
				Listen:          "127.0.0.1:8080",
				AdminListen:     "127.0.0.1:9090",
				RedisURL:        "",
				RedisTimeout:    2 * time.Second,
				DataDir:         "./data",
				AdminToken:      "",
				ShutdownTimeout: 25 * time.Second,
				Log:             LogConfig{Level: "info", Format: "json"},
				ProvisioningLog: ProvisioningLogConfig{MaxEntries: 100000, MaxRejections: 10000, MaxAge: 30 * 24 * time.Hour},
				FilterMaxScan:   100000,
				Tenants:         map[string]TenantConfig{},
				Console:         ConsoleConfig{SessionIdleTimeout: 30 * time.Minute, SessionMaxAge: 12 * time.Hour},
				Source:          c.Source,
			}
			if !reflect.DeepEqual(*c, want) {
				t.Errorf("got\n%#v\nwant\n%#v", *c, want)
			}
			for _, s := range settings {
				if c.Source[s.key] != "default" {
					t.Errorf("Source[%s] = %q, want default", s.key, c.Source[s.key])
				}
			}
			if (tc.yaml == "") != (c.ConfigFile == "") {
				t.Errorf("ConfigFile = %q", c.ConfigFile)
			}
		})
	}
}

func TestPrecedence(t *testing.T) {
	// One row per setting: three distinct valid values and how to read it.
	rows := []struct {
		key, env, flag       string
		yaml                 string // file setting the key to fileVal
		fileVal, envV, flag2 string
		get                  func(*Config) string
		// companion, if set, returns the other settings (environment) that
		// make the expected value valid (a Sentinel master needs Sentinel
		// addresses, a password a Redis).
		companion func(want string) map[string]string
	}{
		{"listen", "AXONFLOW_SYNC_LISTEN", "listen", "listen: 10.0.0.1:1\n",
			"10.0.0.1:1", ":2", "localhost:3", func(c *Config) string { return c.Listen }, nil},
		{"adminListen", "AXONFLOW_SYNC_ADMIN_LISTEN", "admin-listen", "adminListen: 10.0.0.1:1\n",
			"10.0.0.1:1", ":2", "[::1]:3", func(c *Config) string { return c.AdminListen }, nil},
		{"redis.url", "AXONFLOW_SYNC_REDIS_URL", "redis-url", "redis: {url: 'redis://file:6379'}\n",
			"redis://file:6379", "rediss://env:6380/1", "redis://flag", func(c *Config) string { return c.RedisURL }, nil},
		{"externalURL", "AXONFLOW_SYNC_EXTERNAL_URL", "external-url", "externalURL: https://file.example\n",
			"https://file.example", "https://env.example:8443", "http://flag.example", func(c *Config) string { return c.ExternalURL }, nil},
		{"trustedProxies", "AXONFLOW_SYNC_TRUSTED_PROXIES", "trusted-proxies", "trustedProxies: [10.0.0.0/8, 192.168.1.7]\n",
			"10.0.0.0/8,192.168.1.7/32", "fd00::/8", "127.0.0.1/32", func(c *Config) string {
				var s []string
				for _, p := range c.TrustedProxies {
					s = append(s, p.String())
				}
				return strings.Join(s, ",")
			}, nil},
		{"redis.timeout", "AXONFLOW_SYNC_REDIS_TIMEOUT", "redis-timeout", "redis: {timeout: 1s}\n",
			"1s", "3s", "500ms", func(c *Config) string { return c.RedisTimeout.String() }, nil},
		{"dataDir", "AXONFLOW_SYNC_DATA_DIR", "data-dir", "dataDir: /file\n",
			"/file", "/env", "/flag", func(c *Config) string { return c.DataDir }, nil},
		{"adminToken", "AXONFLOW_SYNC_ADMIN_TOKEN", "admin-token", "adminToken: Tf1-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcd\n",
			"Tf1-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcd", "Te2-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcd", "Tg3-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcd", func(c *Config) string { return c.AdminToken }, nil},
		{"metricsToken", "AXONFLOW_SYNC_METRICS_TOKEN", "metrics-token", "metricsToken: Mf1-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcd\n",
			"Mf1-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcd", "Me2-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcd", "Tg3-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcdx", func(c *Config) string { return c.MetricsToken }, nil},
		{"metricsListen", "AXONFLOW_SYNC_METRICS_LISTEN", "metrics-listen", "metricsListen: 10.0.0.1:9\n",
			"10.0.0.1:9", ":9102", "127.0.0.1:9103", func(c *Config) string { return c.MetricsListen }, nil},
		{"log.level", "AXONFLOW_SYNC_LOG_LEVEL", "log-level", "log: {level: debug}\n",
			"debug", "warn", "error", func(c *Config) string { return c.Log.Level }, nil},
		{"log.format", "AXONFLOW_SYNC_LOG_FORMAT", "log-format", "log: {format: console}\n",
			"console", "json", "console", func(c *Config) string { return c.Log.Format }, nil},
		{"shutdownTimeout", "AXONFLOW_SYNC_SHUTDOWN_TIMEOUT", "shutdown-timeout", "shutdownTimeout: 1m0s\n",
			"1m0s", "5s", "1h0m0s", func(c *Config) string { return c.ShutdownTimeout.String() }, nil},
		{"redis.clusterAddrs", "AXONFLOW_SYNC_REDIS_CLUSTER_ADDRS", "redis-cluster-addrs", "redis: {clusterAddrs: [f1:1, f2:2]}\n",
			"f1:1,f2:2", "e1:1,e2:2,e3:3", "g1:1", func(c *Config) string { return strings.Join(c.RedisClusterAddrs, ",") }, nil},
		{"redis.sentinelMaster", "AXONFLOW_SYNC_REDIS_SENTINEL_MASTER", "redis-sentinel-master", "redis: {sentinelMaster: filemaster}\n",
			"filemaster", "envmaster", "flagmaster", func(c *Config) string { return c.RedisSentinelMaster },
			needs("AXONFLOW_SYNC_REDIS_SENTINEL_ADDRS", "s:26379")},
		{"redis.sentinelAddrs", "AXONFLOW_SYNC_REDIS_SENTINEL_ADDRS", "redis-sentinel-addrs", "redis: {sentinelAddrs: ['f:1']}\n",
			"f:1", "e:1,e:2", "g:1", func(c *Config) string { return strings.Join(c.RedisSentinelAddrs, ",") },
			needs("AXONFLOW_SYNC_REDIS_SENTINEL_MASTER", "m")},
		{"redis.username", "AXONFLOW_SYNC_REDIS_USERNAME", "redis-username", "redis: {username: fileuser}\n",
			"fileuser", "envuser", "flaguser", func(c *Config) string { return c.RedisUsername },
			needs("AXONFLOW_SYNC_REDIS_CLUSTER_ADDRS", "c:1")},
		{"redis.password", "AXONFLOW_SYNC_REDIS_PASSWORD", "redis-password", "redis: {password: filepw}\n",
			"filepw", "envpw", "flagpw", func(c *Config) string { return c.RedisPassword },
			needs("AXONFLOW_SYNC_REDIS_URL", "redis://h:1")},
		{"redis.sentinelPassword", "AXONFLOW_SYNC_REDIS_SENTINEL_PASSWORD", "redis-sentinel-password", "redis: {sentinelPassword: filepw}\n",
			"filepw", "envpw", "flagpw", func(c *Config) string { return c.RedisSentinelPassword },
			needs("AXONFLOW_SYNC_REDIS_SENTINEL_MASTER", "m", "AXONFLOW_SYNC_REDIS_SENTINEL_ADDRS", "s:1")},
		{"redis.tls", "AXONFLOW_SYNC_REDIS_TLS", "redis-tls", "redis: {tls: true}\n",
			"true", "false", "true", func(c *Config) string { return fmt.Sprint(c.RedisTLS) },
			needs("AXONFLOW_SYNC_REDIS_URL", "redis://h:1")},
		{"provisioningLog.maxEntries", "AXONFLOW_SYNC_PROVISIONING_LOG_MAX_ENTRIES", "provisioning-log-max-entries", "provisioningLog: {maxEntries: 5000}\n",
			"5000", "100", "250000", func(c *Config) string { return fmt.Sprint(c.ProvisioningLog.MaxEntries) }, nil},
		{"provisioningLog.maxRejections", "AXONFLOW_SYNC_PROVISIONING_LOG_MAX_REJECTIONS", "provisioning-log-max-rejections", "provisioningLog: {maxRejections: 500}\n",
			"500", "100", "20000", func(c *Config) string { return fmt.Sprint(c.ProvisioningLog.MaxRejections) }, nil},
		{"provisioningLog.maxAge", "AXONFLOW_SYNC_PROVISIONING_LOG_MAX_AGE", "provisioning-log-max-age", "provisioningLog: {maxAge: 168h}\n",
			"168h0m0s", "1m0s", "2160h0m0s", func(c *Config) string { return c.ProvisioningLog.MaxAge.String() }, nil},
		{"filter.maxScan", "AXONFLOW_SYNC_FILTER_MAX_SCAN", "filter-max-scan", "filter: {maxScan: 5000}\n",
			"5000", "1000", "250000", func(c *Config) string { return fmt.Sprint(c.FilterMaxScan) }, nil},
	}
	if len(rows) != len(settings) {
		t.Fatalf("%d rows for %d settings", len(rows), len(settings))
	}
	for _, r := range rows {
		t.Run(r.key, func(t *testing.T) {
			var def string
			for _, s := range settings {
				if s.key == r.key {
					def = s.def
					if s.env != r.env || s.flag != r.flag {
						t.Fatalf("names changed: env %s flag %s", s.env, s.flag)
					}
				}
			}
			for _, tc := range []struct {
				name    string
				yaml    string
				env     map[string]string
				args    []string
				want    string
				wantSrc string
			}{
				{"default", "", nil, nil, def, "default"},
				{"file without the key", "tenants: {}\nlog: {}\nredis: {}\n", nil, nil, def, "default"},
				{"file > default", r.yaml, nil, nil, r.fileVal, "file "},
				{"env > file", r.yaml, map[string]string{r.env: r.envV}, nil, r.envV, "env " + r.env},
				{"empty env is unset", r.yaml, map[string]string{r.env: ""}, nil, r.fileVal, "file "},
				{"flag > env", r.yaml, map[string]string{r.env: r.envV}, []string{"--" + r.flag + "=" + r.flag2}, r.flag2, "flag --" + r.flag},
				{"flag > default", "", nil, []string{"--" + r.flag, r.flag2}, r.flag2, "flag --" + r.flag},
				{"explicit flag equal to default wins", r.yaml, map[string]string{r.env: r.envV}, []string{"--" + r.flag + "=" + def}, def, "flag --" + r.flag},
			} {
				if secretKeys[r.key] && strings.Contains(tc.name, "flag") {
					continue // refused as flags: TestSecretFlagsRefused
				}
				t.Run(tc.name, func(t *testing.T) {
					if d, err := time.ParseDuration(tc.want); err == nil {
						tc.want = d.String() // "1m0s", not "1m"
					}
					if r.companion != nil {
						env := r.companion(tc.want)
						for k, v := range tc.env {
							env[k] = v
						}
						tc.env = env
					}
					c := mustLoad(t, tc.yaml, tc.env, tc.args...)
					if got := r.get(c); got != tc.want {
						t.Errorf("%s = %q, want %q", r.key, got, tc.want)
					}
					if got := c.Source[r.key]; !strings.HasPrefix(got, tc.wantSrc) || (tc.wantSrc == "file " && got != "file "+c.ConfigFile) {
						t.Errorf("Source[%s] = %q, want %q…", r.key, got, tc.wantSrc)
					}
				})
			}
		})
	}
}

func TestConfigFileSelection(t *testing.T) {
	dir := t.TempDir()
	envFile := filepath.Join(dir, "env.yaml")
	flagFile := filepath.Join(dir, "flag.yaml")
	if err := os.WriteFile(envFile, []byte("dataDir: /from-env-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(flagFile, []byte("dataDir: /from-flag-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"AXONFLOW_SYNC_CONFIG": envFile}
	for _, tc := range []struct {
		name                string
		args                []string
		wantDir, wantFile   string
		wantSrcOfConfigPath string
	}{
		{"env names the file", nil, "/from-env-file", envFile, "env AXONFLOW_SYNC_CONFIG"},
		{"flag beats env", []string{"--config", flagFile}, "/from-flag-file", flagFile, "flag --config"},
		{"empty flag disables the file", []string{"--config="}, "./data", "", "flag --config"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := mustLoad(t, "", env, tc.args...)
			if c.DataDir != tc.wantDir || c.ConfigFile != tc.wantFile || c.Source["config"] != tc.wantSrcOfConfigPath {
				t.Errorf("DataDir %q ConfigFile %q Source[config] %q", c.DataDir, c.ConfigFile, c.Source["config"])
			}
		})
	}
	_, err := load(t, "", map[string]string{"AXONFLOW_SYNC_CONFIG": filepath.Join(dir, "missing.yaml")})
	if ce := configErr(t, err); ce.Key != "config" || ce.Source != "env AXONFLOW_SYNC_CONFIG" {
		t.Errorf("missing file: %#v", ce)
	}
}

func TestLoadNilFlagsAndGetenv(t *testing.T) {
	t.Setenv("AXONFLOW_SYNC_LOG_LEVEL", "debug")
	t.Setenv("AXONFLOW_SYNC_CONFIG", "")
	c, err := Load(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Log.Level != "debug" || c.Source["log.level"] != "env AXONFLOW_SYNC_LOG_LEVEL" {
		t.Errorf("nil getenv does not read the process environment: %q %q", c.Log.Level, c.Source["log.level"])
	}
}

func TestExpansion(t *testing.T) {
	env := map[string]string{"TOKEN": "s3cretAbCdEfGhIjKlMnOpQrStUvWxYz0123456789xy", "A": "x", "GROUP": "Eng", "HOST": "acme"}
	c := mustLoad(t, `
adminToken: ${TOKEN}
dataDir: "/d/${A}/$A/$${A}/${A}${A}"
tenants:
  acme:
    okta:
      orgURL: https://${HOST}.okta.com
      appID: "0oa${A}"
      apiToken: ${TOKEN}
      pushGroups: ["${GROUP}", "$GROUP"]
`, env)
	if c.AdminToken != "s3cretAbCdEfGhIjKlMnOpQrStUvWxYz0123456789xy" {
		t.Errorf("adminToken = %q", c.AdminToken)
	}
	if want := "/d/x/$A/${A}/xx"; c.DataDir != want {
		t.Errorf("dataDir = %q, want %q", c.DataDir, want)
	}
	o := c.Tenants["acme"].Okta
	if o.OrgURL != "https://acme.okta.com" || o.AppID != "0oax" || o.APIToken != "s3cretAbCdEfGhIjKlMnOpQrStUvWxYz0123456789xy" ||
		!reflect.DeepEqual(o.PushGroups, []string{"Eng", "$GROUP"}) {
		t.Errorf("okta = %#v", *o)
	}

	// Environment and flag values are taken literally.
	c = mustLoad(t, "", map[string]string{"AXONFLOW_SYNC_ADMIN_TOKEN": "${TOKEN}AbCdEfGhIjKlMnOpQrStUvWxYz0123456789"}, "--data-dir=${A}")
	if c.AdminToken != "${TOKEN}AbCdEfGhIjKlMnOpQrStUvWxYz0123456789" || c.DataDir != "${A}" {
		t.Errorf("env/flag values expanded: %q %q", c.AdminToken, c.DataDir)
	}

	for _, tc := range []struct {
		name, yaml, key, msg string
	}{
		{"unset top-level", "adminToken: ${NOPE}\n", "adminToken", "NOPE"},
		{"unset nested", "redis: {url: 'redis://${NOPE}'}\n", "redis.url", "NOPE"},
		{"unset in tenant", "tenants:\n  acme:\n    okta: {orgURL: https://a.okta.com, appID: x, apiToken: '${OKTA_API_TOKEN}'}\n",
			"tenants.acme.okta.apiToken", "OKTA_API_TOKEN"},
		{"unset in list", "tenants:\n  acme:\n    roles: {mappings: [{group: a, role: admin}, {group: '${G2}', role: admin}]}\n",
			"tenants.acme.roles.mappings[1].group", "G2"},
		{"empty counts as unset", "dataDir: ${EMPTY}\n", "dataDir", "EMPTY"},
		{"unterminated", "dataDir: ${A\n", "dataDir", "unterminated"},
		{"bad name", "dataDir: ${A:-x}\n", "dataDir", "invalid variable reference"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := load(t, tc.yaml, map[string]string{"A": "x", "EMPTY": ""})
			ce := configErr(t, err)
			if ce.Key != tc.key || !strings.Contains(ce.Msg, tc.msg) || !strings.HasPrefix(ce.Source, "file ") {
				t.Errorf("got %#v (%v), want key %s msg ~%q", ce, err, tc.key, tc.msg)
			}
		})
	}
}

func TestYAMLStructureErrors(t *testing.T) {
	for _, tc := range []struct {
		name, yaml, key, msg string
	}{
		{"unknown top-level key", "lisen: :1\n", "lisen", "unknown key"},
		{"unknown nested key", "redis:\n  urll: redis://x\n", "redis.urll", "unknown key"},
		{"env-style name is not a key", "redisUrl: redis://x\n", "redisUrl", "unknown key"},
		{"wrong case", "tenants:\n  acme:\n    okta: {orgUrl: https://a.okta.com}\n", "tenants.acme.okta.orgUrl", "unknown key"},
		{"unknown tenant key", "tenants:\n  acme:\n    reconcil: {}\n", "tenants.acme.reconcil", "unknown key"},
		{"unknown oauth key", "tenants:\n  acme:\n    okta: {oauth: {clientId: x}}\n", "tenants.acme.okta.oauth.clientId", "unknown key"},
		{"unknown key in list item", "tenants:\n  acme:\n    roles: {mappings: [{grup: a}]}\n", "tenants.acme.roles.mappings[0].grup", "unknown key"},
		{"duplicate key", "listen: ':1'\nlisten: ':2'\n", "listen", "duplicate key"},
		{"not an integer", "tenants:\n  acme:\n    reconcile: {maxChanges: lots}\n", "tenants.acme.reconcile.maxChanges", "must be an integer"},
		{"not a bool", "tenants:\n  acme:\n    okta: {allowInsecureHTTP: maybe}\n", "tenants.acme.okta.allowInsecureHTTP", "must be true or false"},
		{"mapping expected", "redis: redis://x\n", "redis", "must be a mapping"},
		{"tenants must be a mapping", "tenants: [acme]\n", "tenants", "must be a mapping"},
		{"list expected", "tenants:\n  acme:\n    okta: {pushGroups: Eng}\n", "tenants.acme.okta.pushGroups", "must be a list"},
		{"scalar expected", "listen: {host: x}\n", "listen", "must be a single value"},
		{"top level not a mapping", "- a\n", "config", "must be a mapping"},
		{"syntax error", "listen: [\n", "config", "invalid YAML"},
		{"two documents", "listen: ':1'\n---\nlisten: ':2'\n", "config", "exactly one YAML document"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := load(t, tc.yaml, nil)
			ce := configErr(t, err)
			if ce.Key != tc.key || !strings.Contains(ce.Msg, tc.msg) {
				t.Errorf("got key %q msg %q, want key %q msg ~%q", ce.Key, ce.Msg, tc.key, tc.msg)
			}
			if !strings.HasPrefix(err.Error(), "config: "+tc.key+": ") {
				t.Errorf("Error() = %q does not name the key", err)
			}
		})
	}
}

func TestYAMLAnchorsAndMerge(t *testing.T) {
	c := mustLoad(t, `
tenants:
  acme: &t
    okta: &o {orgURL: https://acme.okta.com, appID: a, apiToken: t}
    roles: {default: none}
  beta:
    <<: *t
    okta:
      <<: *o
      appID: b
    reconcile: {mode: correct}
`, nil)
	a, b := c.Tenants["acme"], c.Tenants["beta"]
	if a.Okta.AppID != "a" || b.Okta.AppID != "b" || b.Okta.OrgURL != "https://acme.okta.com" ||
		b.Roles.Default != "none" || b.Reconcile.Mode != ModeCorrect || a.Reconcile.Mode != ModeReport {
		t.Errorf("acme %+v beta %+v", a, b)
	}
	_, err := load(t, "tenants:\n  a: &x {okta: {orgURL: https://a.okta.com, appID: a, apiToken: t, bogus: 1}}\n  b: *x\n", nil)
	if ce := configErr(t, err); ce.Key != "tenants.a.okta.bogus" {
		t.Errorf("got %v", err)
	}
}

func TestValidationErrors(t *testing.T) {
	tenant := func(block string) string { return "tenants:\n  acme:\n" + block }
	for _, tc := range []struct {
		name string
		yaml string
		env  map[string]string
		args []string
		key  string
		msg  string
		src  string // prefix of Error.Source
	}{
		{name: "listen not host:port", yaml: "listen: '8080'\n", key: "listen", msg: "must be host:port", src: "file "},
		{name: "listen bad port", args: []string{"--listen=:http"}, key: "listen", msg: "numeric port", src: "flag --listen"},
		{name: "listen port range", env: map[string]string{"AXONFLOW_SYNC_LISTEN": ":70000"}, key: "listen", msg: "0-65535", src: "env AXONFLOW_SYNC_LISTEN"},
		{name: "listen empty", yaml: "listen: ''\n", key: "listen", msg: "must be host:port"},
		{name: "adminListen not host:port", env: map[string]string{"AXONFLOW_SYNC_ADMIN_LISTEN": "localhost"}, key: "adminListen", msg: "must be host:port"},
		{name: "adminListen same as listen", args: []string{"--listen=:1", "--admin-listen=:1"}, key: "adminListen", msg: "must differ from listen"},
		{name: "redis.url scheme", args: []string{"--redis-url=http://x"}, key: "redis.url", msg: "must start with redis:// or rediss://", src: "flag --redis-url"},
		{name: "redis.url no host", yaml: "redis: {url: 'redis://'}\n", key: "redis.url", msg: "must name a host"},
		{name: "redis.timeout unparsable", env: map[string]string{"AXONFLOW_SYNC_REDIS_TIMEOUT": "2"}, key: "redis.timeout", msg: "must be a duration"},
		{name: "redis.timeout zero", yaml: "redis: {timeout: 0s}\n", key: "redis.timeout", msg: "must be positive"},
		{name: "redis.clusterAddrs and url", yaml: "redis: {url: 'redis://h:1', clusterAddrs: [a:1]}\n", key: "redis.clusterAddrs", msg: "cannot be combined with redis.url"},
		{name: "redis.clusterAddrs no port", env: map[string]string{"AXONFLOW_SYNC_REDIS_CLUSTER_ADDRS": "a:1,b"}, key: "redis.clusterAddrs", msg: `host:port addresses separated by commas, got "b"`, src: "env AXONFLOW_SYNC_REDIS_CLUSTER_ADDRS"},
		{name: "redis.clusterAddrs port 0", args: []string{"--redis-cluster-addrs=a:0"}, key: "redis.clusterAddrs", msg: "port 1-65535", src: "flag --redis-cluster-addrs"},
		{name: "redis.clusterAddrs not a list of strings", yaml: "redis: {clusterAddrs: [{a: 1}]}\n", key: "redis.clusterAddrs[0]", msg: "must be a single value"},
		{name: "redis.clusterAddrs scalar in YAML", yaml: "redis: {clusterAddrs: 'a:1'}\n", key: "redis.clusterAddrs", msg: "must be a list"},
		{name: "redis.sentinelMaster without addrs", yaml: "redis: {sentinelMaster: m}\n", key: "redis.sentinelMaster", msg: "needs redis.sentinelAddrs"},
		{name: "redis.sentinelAddrs without master", args: []string{"--redis-sentinel-addrs=s:1"}, key: "redis.sentinelAddrs", msg: "needs redis.sentinelMaster"},
		{name: "redis.sentinelMaster and url", env: map[string]string{"AXONFLOW_SYNC_REDIS_URL": "redis://h:1", "AXONFLOW_SYNC_REDIS_SENTINEL_MASTER": "m", "AXONFLOW_SYNC_REDIS_SENTINEL_ADDRS": "s:1"}, key: "redis.sentinelMaster", msg: "cannot be combined with redis.url"},
		{name: "redis cluster and sentinel", yaml: "redis: {clusterAddrs: [a:1], sentinelMaster: m, sentinelAddrs: [s:1]}\n", key: "redis.sentinelMaster", msg: "Redis Cluster and Sentinel are exclusive"},
		{name: "redis.password twice", yaml: "redis: {url: 'redis://:pw@h:1', password: other}\n", key: "redis.password", msg: "already holds a password"},
		{name: "redis.username twice", yaml: "redis: {url: 'redis://u:pw@h:1', username: other}\n", key: "redis.username", msg: "already holds a user name"},
		{name: "redis.password without redis", env: map[string]string{"AXONFLOW_SYNC_REDIS_PASSWORD": "pw"}, key: "redis.password", msg: "no Redis is configured"},
		{name: "redis.tls without redis", yaml: "redis: {tls: true}\n", key: "redis.tls", msg: "no Redis is configured"},
		{name: "redis.tls not a bool", env: map[string]string{"AXONFLOW_SYNC_REDIS_TLS": "yes please"}, key: "redis.tls", msg: "must be true or false"},
		{name: "redis.tls YAML not a bool", yaml: "redis: {tls: maybe}\n", key: "redis.tls", msg: "must be true or false"},
		{name: "redis.sentinelPassword without sentinel", yaml: "redis: {url: 'redis://h:1', sentinelPassword: x}\n", key: "redis.sentinelPassword", msg: "only used with redis.sentinelMaster"},
		{name: "shutdownTimeout unparsable", args: []string{"--shutdown-timeout=soon"}, key: "shutdownTimeout", msg: "must be a duration"},
		{name: "shutdownTimeout negative", yaml: "shutdownTimeout: -1s\n", key: "shutdownTimeout", msg: "must be positive"},
		{name: "dataDir empty", args: []string{"--data-dir="}, key: "dataDir", msg: "must not be empty"},
		{name: "log.level", env: map[string]string{"AXONFLOW_SYNC_LOG_LEVEL": "trace"}, key: "log.level", msg: "debug, info, warn, error"},
		{name: "log.level case", yaml: "log: {level: INFO}\n", key: "log.level", msg: "debug, info, warn, error"},
		{name: "log.format", args: []string{"--log-format=text"}, key: "log.format", msg: "json, console"},
		{name: "externalURL with a path", env: map[string]string{"AXONFLOW_SYNC_EXTERNAL_URL": "https://h/scim/v2"}, key: "externalURL", msg: "no path"},
		{name: "externalURL not http(s)", env: map[string]string{"AXONFLOW_SYNC_EXTERNAL_URL": "h:443"}, key: "externalURL", msg: "must be https://HOST"},
		{name: "trustedProxies not a CIDR", env: map[string]string{"AXONFLOW_SYNC_TRUSTED_PROXIES": "10.0.0.0/8,proxy.local"}, key: "trustedProxies", msg: "must be CIDRs"},
		{name: "provisioningLog.maxRejections below 100", args: []string{"--provisioning-log-max-rejections=99"}, key: "provisioningLog.maxRejections", msg: "must be at least 100, got 99", src: "flag --provisioning-log-max-rejections"},
		{name: "provisioningLog.maxEntries not an integer", env: map[string]string{"AXONFLOW_SYNC_PROVISIONING_LOG_MAX_ENTRIES": "100k"}, key: "provisioningLog.maxEntries", msg: "must be an integer", src: "env AXONFLOW_SYNC_PROVISIONING_LOG_MAX_ENTRIES"},
		{name: "provisioningLog.maxEntries below 100", args: []string{"--provisioning-log-max-entries=99"}, key: "provisioningLog.maxEntries", msg: "must be at least 100, got 99", src: "flag --provisioning-log-max-entries"},
		{name: "provisioningLog.maxEntries zero", yaml: "provisioningLog: {maxEntries: 0}\n", key: "provisioningLog.maxEntries", msg: "must be at least 100", src: "file "},
		{name: "provisioningLog.maxEntries negative", env: map[string]string{"AXONFLOW_SYNC_PROVISIONING_LOG_MAX_ENTRIES": "-1"}, key: "provisioningLog.maxEntries", msg: "must be at least 100"},
		{name: "provisioningLog.maxEntries YAML not an integer", yaml: "provisioningLog: {maxEntries: lots}\n", key: "provisioningLog.maxEntries", msg: "must be an integer"},
		{name: "provisioningLog.maxEntries YAML exponent", yaml: "provisioningLog: {maxEntries: 1e5}\n", key: "provisioningLog.maxEntries", msg: "must be an integer"},
		{name: "provisioningLog.maxEntries YAML list", yaml: "provisioningLog: {maxEntries: [100]}\n", key: "provisioningLog.maxEntries", msg: "must be a single value"},
		{name: "provisioningLog.maxEntries YAML fraction", yaml: "provisioningLog: {maxEntries: 150.5}\n", key: "provisioningLog.maxEntries", msg: "must be an integer"},
		{name: "provisioningLog.maxAge unparsable", env: map[string]string{"AXONFLOW_SYNC_PROVISIONING_LOG_MAX_AGE": "30d"}, key: "provisioningLog.maxAge", msg: "must be a duration", src: "env AXONFLOW_SYNC_PROVISIONING_LOG_MAX_AGE"},
		{name: "provisioningLog.maxAge without unit", yaml: "provisioningLog: {maxAge: 3600}\n", key: "provisioningLog.maxAge", msg: "must be a duration", src: "file "},
		{name: "provisioningLog.maxAge below 1m", args: []string{"--provisioning-log-max-age=59s"}, key: "provisioningLog.maxAge", msg: "must be at least 1m", src: "flag --provisioning-log-max-age"},
		{name: "provisioningLog.maxAge zero", yaml: "provisioningLog: {maxAge: 0s}\n", key: "provisioningLog.maxAge", msg: "must be at least 1m"},
		{name: "provisioningLog.maxAge negative", env: map[string]string{"AXONFLOW_SYNC_PROVISIONING_LOG_MAX_AGE": "-720h"}, key: "provisioningLog.maxAge", msg: "must be at least 1m"},
		{name: "provisioningLog unknown key", yaml: "provisioningLog: {maxSize: 10}\n", key: "provisioningLog.maxSize", msg: "unknown key"},

		{name: "tenant id upper case", yaml: "tenants:\n  Acme: {}\n", key: "tenants.Acme", msg: "tenant id must match"},
		{name: "tenant id brace", yaml: "tenants:\n  '{acme}': {}\n", key: "tenants.{acme}", msg: "tenant id must match"},
		{name: "tenant id leading dash", yaml: "tenants:\n  -acme: {}\n", key: "tenants.-acme", msg: "tenant id must match"},
		{name: "tenant id too long", yaml: "tenants:\n  a" + strings.Repeat("b", 63) + ": {}\n", key: "tenants.a" + strings.Repeat("b", 63), msg: "tenant id must match"},
		{name: "orgURL empty", yaml: tenant("    okta: {appID: a, apiToken: t}\n"), key: "tenants.acme.okta.orgURL", msg: "must not be empty"},
		{name: "orgURL http", yaml: tenant("    okta: {orgURL: http://acme.okta.com, appID: a, apiToken: t}\n"), key: "tenants.acme.okta.orgURL", msg: "allowInsecureHTTP"},
		{name: "orgURL other scheme", yaml: tenant("    okta: {orgURL: ftp://acme.okta.com, appID: a, apiToken: t}\n"), key: "tenants.acme.okta.orgURL", msg: "https://"},
		{name: "orgURL no scheme", yaml: tenant("    okta: {orgURL: acme.okta.com, appID: a, apiToken: t}\n"), key: "tenants.acme.okta.orgURL", msg: "https://"},
		{name: "orgURL path", yaml: tenant("    okta: {orgURL: https://acme.okta.com/api/v1, appID: a, apiToken: t}\n"), key: "tenants.acme.okta.orgURL", msg: "without path"},
		{name: "orgURL query", yaml: tenant("    okta: {orgURL: 'https://acme.okta.com?x=1', appID: a, apiToken: t}\n"), key: "tenants.acme.okta.orgURL", msg: "without path"},
		{name: "orgURL credentials", yaml: tenant("    okta: {orgURL: 'https://u:p@acme.okta.com', appID: a, apiToken: t}\n"), key: "tenants.acme.okta.orgURL", msg: "credentials"},
		{name: "appID empty", yaml: tenant("    okta: {orgURL: https://acme.okta.com, apiToken: t}\n"), key: "tenants.acme.okta.appID", msg: "must not be empty"},
		{name: "neither apiToken nor oauth", yaml: tenant("    okta: {orgURL: https://acme.okta.com, appID: a}\n"), key: "tenants.acme.okta", msg: "exactly one of apiToken or oauth"},
		{name: "both apiToken and oauth", yaml: tenant("    okta: {orgURL: https://acme.okta.com, appID: a, apiToken: t, oauth: {clientID: c, privateKeyFile: k}}\n"), key: "tenants.acme.okta", msg: "exactly one of apiToken or oauth"},
		{name: "oauth clientID", yaml: tenant("    okta: {orgURL: https://acme.okta.com, appID: a, oauth: {privateKeyFile: k}}\n"), key: "tenants.acme.okta.oauth.clientID", msg: "must not be empty"},
		{name: "oauth privateKeyFile", yaml: tenant("    okta: {orgURL: https://acme.okta.com, appID: a, oauth: {clientID: c}}\n"), key: "tenants.acme.okta.oauth.privateKeyFile", msg: "must not be empty"},
		{name: "oauth scopes empty list", yaml: tenant("    okta: {orgURL: https://acme.okta.com, appID: a, oauth: {clientID: c, privateKeyFile: k, scopes: []}}\n"), key: "tenants.acme.okta.oauth.scopes", msg: "must not be empty"},
		{name: "oauth scope blank", yaml: tenant("    okta: {orgURL: https://acme.okta.com, appID: a, oauth: {clientID: c, privateKeyFile: k, scopes: [a, '']}}\n"), key: "tenants.acme.okta.oauth.scopes[1]", msg: "must not be empty"},
		{name: "pushGroups blank", yaml: tenant("    okta: {orgURL: https://acme.okta.com, appID: a, apiToken: t, pushGroups: [' ']}\n"), key: "tenants.acme.okta.pushGroups[0]", msg: "must not be empty"},
		{name: "approval unknown", yaml: tenant(okta + "    reconcile: {approval: sometimes}\n"), key: "tenants.acme.reconcile.approval", msg: "guarded, destructive, all"},
		{name: "planTTL bad", yaml: tenant(okta + "    reconcile: {planTTL: 3days}\n"), key: "tenants.acme.reconcile.planTTL", msg: "Go duration"},
		{name: "grace negative", yaml: tenant(okta + "    reconcile: {deactivationGrace: -1h}\n"), key: "tenants.acme.reconcile.deactivationGrace", msg: "Go duration"},
		{name: "schedule unparsable", yaml: tenant(okta + "    reconcile: {schedule: 'every hour'}\n"), key: "tenants.acme.reconcile.schedule", msg: "cron spec"},
		{name: "schedule bad every", yaml: tenant(okta + "    reconcile: {schedule: '@every 1 hour'}\n"), key: "tenants.acme.reconcile.schedule", msg: "cron spec"},
		{name: "schedule without okta", yaml: tenant("    reconcile: {schedule: '@hourly'}\n"), key: "tenants.acme.reconcile.schedule", msg: "needs an okta block"},
		{name: "mode", yaml: tenant("    reconcile: {mode: fix}\n"), key: "tenants.acme.reconcile.mode", msg: "report, correct"},
		{name: "mode empty", yaml: tenant("    reconcile: {mode: ''}\n"), key: "tenants.acme.reconcile.mode", msg: "report, correct"},
		{name: "maxChanges negative", yaml: tenant("    reconcile: {maxChanges: -1}\n"), key: "tenants.acme.reconcile.maxChanges", msg: ">= 0"},
		{name: "maxChangePercent over 100", yaml: tenant("    reconcile: {maxChangePercent: 101}\n"), key: "tenants.acme.reconcile.maxChangePercent", msg: "between 0 and 100"},
		{name: "maxChangePercent negative", yaml: tenant("    reconcile: {maxChangePercent: -1}\n"), key: "tenants.acme.reconcile.maxChangePercent", msg: "between 0 and 100"},
		{name: "roles.default", yaml: tenant("    roles: {default: superuser}\n"), key: "tenants.acme.roles.default", msg: "must be one of owner, admin, policy_admin, developer, viewer, none"},
		{name: "mapping group empty", yaml: tenant("    roles: {mappings: [{role: admin}]}\n"), key: "tenants.acme.roles.mappings[0].group", msg: "must not be empty"},
		{name: "mapping role none", yaml: tenant("    roles: {mappings: [{group: g, role: none}]}\n"), key: "tenants.acme.roles.mappings[0].role", msg: "must be one of owner, admin, policy_admin, developer, viewer;"},
		{name: "mapping role unknown", yaml: tenant("    roles: {mappings: [{group: g, role: admin}, {group: h, role: root}]}\n"), key: "tenants.acme.roles.mappings[1].role", msg: "must be one of"},
		{name: "mapping duplicate group", yaml: tenant("    roles: {mappings: [{group: g, role: admin}, {group: g, role: viewer}]}\n"), key: "tenants.acme.roles.mappings[1].group", msg: "more than once"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := load(t, tc.yaml, tc.env, tc.args...)
			if err == nil {
				t.Fatalf("no error, want %s: %s", tc.key, tc.msg)
			}
			ce := configErr(t, err)
			if ce.Key != tc.key || !strings.Contains(ce.Msg, tc.msg) || !strings.HasPrefix(ce.Source, tc.src) {
				t.Errorf("got key %q msg %q source %q, want key %q msg ~%q source %q…", ce.Key, ce.Msg, ce.Source, tc.key, tc.msg, tc.src)
			}
			if !strings.HasPrefix(err.Error(), "config: "+tc.key+": ") {
				t.Errorf("Error() = %q does not start with the key", err)
			}
		})
	}
}

func TestValidValues(t *testing.T) {
	for _, tc := range []struct {
		name string
		yaml string
		args []string
	}{
		{"ipv6 and port 0", "", []string{"--listen=[::1]:0", "--admin-listen=[::1]:0"}},
		{"all interfaces", "listen: ':8080'\nadminListen: '0.0.0.0:9090'\n", nil},
		{"rediss with password and db", "redis: {url: 'rediss://:pw@redis.internal:6380/2'}\n", nil},
		{"url with separate password", "redis: {url: 'redis://redis.internal:6379/0', password: pw, tls: true}\n", nil},
		{"cluster", "redis: {clusterAddrs: [r1:6379, '[::1]:7000'], username: app, password: pw, tls: true}\n", nil},
		{"sentinel", "redis: {sentinelMaster: axf, sentinelAddrs: [s1:26379, s2:26379], sentinelPassword: spw, password: pw}\n", nil},
		{"cluster from env with spaces", "", []string{"--redis-cluster-addrs= a:1 , b:2,"}},
		{"every level and format", "log: {level: warn, format: console}\n", nil},
		{"provisioning log retention at its minimum", "provisioningLog: {maxEntries: 100, maxAge: 1m}\n", nil},
		{"provisioning log retention from flags", "", []string{"--provisioning-log-max-entries=1000000", "--provisioning-log-max-age=8760h"}},
		{"tenant id forms", "tenants:\n  '0': {}\n  a_b-c: {}\n  a" + strings.Repeat("b", 62) + ": {}\n", nil},
		{"http with allowInsecureHTTP", "tenants:\n  a:\n    okta: {orgURL: 'http://127.0.0.1:8081', allowInsecureHTTP: true, appID: x, apiToken: t}\n", nil},
		{"cron spec", "tenants:\n  a:\n" + okta + "    reconcile: {schedule: '*/15 * * * *'}\n", nil},
		{"descriptor", "tenants:\n  a:\n" + okta + "    reconcile: {schedule: '@hourly'}\n", nil},
		{"limits at bounds", "tenants:\n  a:\n    reconcile: {maxChanges: 0, maxChangePercent: 100}\n", nil},
		{"every role", "tenants:\n  a:\n    roles:\n      default: none\n      mappings: [{group: a, role: owner}, {group: b, role: admin}, {group: c, role: policy_admin}, {group: d, role: developer}, {group: e, role: viewer}]\n", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mustLoad(t, tc.yaml, nil, tc.args...)
		})
	}
}

func TestTenantParsing(t *testing.T) {
	c := mustLoad(t, `
tenants:
  acme:
    okta:
      orgURL: https://acme.okta.com/
      appID: 0oa123
      apiToken: ${OKTA_API_TOKEN}
      pushGroups: ["Engineering", "Sales"]
    reconcile: {schedule: "@every 1h", mode: correct, maxChanges: 0, maxChangePercent: 25}
    roles:
      default: none
      mappings: [{group: "AxonFlow Admins", role: admin}, {group: Devs, role: developer}]
  beta:
    okta:
      orgURL: http://localhost:8081
      allowInsecureHTTP: true
      appID: app
      oauth: {clientID: cid, privateKeyFile: /keys/beta.pem, keyID: kid1}
  gamma:
    okta:
      orgURL: https://gamma.okta.com
      appID: app
      oauth: {clientID: cid, privateKeyFile: k.pem, scopes: [okta.users.read]}
    reconcile: {}
    roles: {}
  delta: {}
`, map[string]string{"OKTA_API_TOKEN": "00abc"})
	defaults := ReconcileConfig{Mode: "report", MaxChanges: 50, MaxChangePercent: 10, Approval: "guarded",
		PlanTTLText: "72h0m0s", PlanTTL: 72 * time.Hour, DeactivationGraceText: "0s"}
	want := map[string]TenantConfig{
		"acme": {
			Okta: &OktaConfig{OrgURL: "https://acme.okta.com", AppID: "0oa123", APIToken: "00abc",
				PushGroups: []string{"Engineering", "Sales"}},
			Reconcile: ReconcileConfig{Schedule: "@every 1h", Mode: "correct", MaxChanges: 0, MaxChangePercent: 25,
				Approval: "guarded", PlanTTLText: "72h0m0s", PlanTTL: 72 * time.Hour, DeactivationGraceText: "0s"},
			Roles: RolesConfig{Default: "none", Mappings: []RoleMapping{
				{Group: "AxonFlow Admins", Role: "admin"}, {Group: "Devs", Role: "developer"}}},
		},
		"beta": {
			Okta: &OktaConfig{OrgURL: "http://localhost:8081", AllowInsecureHTTP: true, AppID: "app",
				OAuth: &OAuthConfig{ClientID: "cid", PrivateKeyFile: "/keys/beta.pem", KeyID: "kid1",
					Scopes: []string{"okta.apps.read", "okta.groups.read", "okta.users.read"}}},
			Reconcile: defaults,
			Roles:     RolesConfig{Default: "viewer"},
		},
		"gamma": {
			Okta: &OktaConfig{OrgURL: "https://gamma.okta.com", AppID: "app",
				OAuth: &OAuthConfig{ClientID: "cid", PrivateKeyFile: "k.pem", Scopes: []string{"okta.users.read"}}},
			Reconcile: defaults,
			Roles:     RolesConfig{Default: "viewer"},
		},
		"delta": {Reconcile: defaults, Roles: RolesConfig{Default: "viewer"}},
	}
	for id, w := range want {
		got, ok := c.Tenants[id]
		if !ok {
			t.Errorf("tenant %s missing", id)
			continue
		}
		if !reflect.DeepEqual(got.Okta, w.Okta) {
			t.Errorf("%s okta:\n got %#v\nwant %#v", id, got.Okta, w.Okta)
		}
		if got.Okta != nil && w.Okta != nil && !reflect.DeepEqual(got.Okta.OAuth, w.Okta.OAuth) {
			t.Errorf("%s oauth:\n got %#v\nwant %#v", id, got.Okta.OAuth, w.Okta.OAuth)
		}
		if !reflect.DeepEqual(got.Reconcile, w.Reconcile) {
			t.Errorf("%s reconcile = %+v, want %+v", id, got.Reconcile, w.Reconcile)
		}
		if !reflect.DeepEqual(got.Roles, w.Roles) {
			t.Errorf("%s roles = %+v, want %+v", id, got.Roles, w.Roles)
		}
	}
	if len(c.Tenants) != len(want) {
		t.Errorf("%d tenants, want %d", len(c.Tenants), len(want))
	}
	if ids := c.TenantIDs(); !reflect.DeepEqual(ids, []string{"acme", "beta", "delta", "gamma"}) {
		t.Errorf("TenantIDs = %v", ids)
	}
	// The default scopes are a copy: changing one tenant's leaves the default alone.
	c.Tenants["beta"].Okta.OAuth.Scopes[0] = "changed"
	if defaultOAuthScopes[0] != "okta.apps.read" {
		t.Error("default scopes share storage with a tenant")
	}
}

func TestSecretsRedacted(t *testing.T) {
	c := mustLoad(t, `
adminToken: admin-SECRET-1-AbCdEfGhIjKlMnOpQrStUvWxYz012345
redis: {url: 'redis://user:redis-SECRET-2@localhost:6379/0'}
tenants:
  acme:
    okta: {orgURL: https://acme.okta.com, appID: app, apiToken: okta-SECRET-3}
  beta:
    okta: {orgURL: https://beta.okta.com, appID: app, oauth: {clientID: cid, privateKeyFile: k.pem}}
`, nil)
	if c.AdminToken != "admin-SECRET-1-AbCdEfGhIjKlMnOpQrStUvWxYz012345" || c.Tenants["acme"].Okta.APIToken != "okta-SECRET-3" {
		t.Fatal("secrets not loaded")
	}
	okta := *c.Tenants["acme"].Okta
	tenant := c.Tenants["acme"]
	for _, tc := range []struct {
		name string
		s    string
		want []string
	}{
		{"Config.String", c.String(), []string{"[REDACTED]", "user:xxxxx@localhost", "clientID: cid", "listen: 127.0.0.1:8080 # default"}},
		{"%v *Config", fmt.Sprintf("%v", c), []string{"[REDACTED]"}},
		{"%+v Config", fmt.Sprintf("%+v", *c), []string{"[REDACTED]"}},
		{"%#v Config", fmt.Sprintf("%#v", *c), []string{"[REDACTED]"}},
		{"%s Config", fmt.Sprintf("%s", *c), []string{"[REDACTED]"}},
		{"%v Tenants", fmt.Sprintf("%v", c.Tenants), []string{"[REDACTED]"}},
		{"%+v TenantConfig", fmt.Sprintf("%+v", tenant), []string{"[REDACTED]", "appID: app"}},
		{"%#v TenantConfig", fmt.Sprintf("%#v", tenant), []string{`APIToken:"[REDACTED]"`}},
		{"%v OktaConfig", fmt.Sprintf("%v", okta), []string{"apiToken: '[REDACTED]'"}},
		{"%#v *OktaConfig", fmt.Sprintf("%#v", &okta), []string{`APIToken:"[REDACTED]"`}},
		{"%#v oauth OktaConfig", fmt.Sprintf("%#v", *c.Tenants["beta"].Okta), []string{`ClientID:"cid"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if strings.Contains(tc.s, "SECRET") {
				t.Errorf("secret leaked:\n%s", tc.s)
			}
			for _, w := range tc.want {
				if !strings.Contains(tc.s, w) {
					t.Errorf("missing %q in:\n%s", w, tc.s)
				}
			}
		})
	}
	// Redaction works on copies: the loaded values are intact.
	if c.AdminToken != "admin-SECRET-1-AbCdEfGhIjKlMnOpQrStUvWxYz012345" || c.Tenants["acme"].Okta.APIToken != "okta-SECRET-3" ||
		!strings.Contains(c.RedisURL, "redis-SECRET-2") {
		t.Error("String changed the config")
	}
	// Empty secrets stay visibly empty.
	if s := mustLoad(t, "", nil).String(); !strings.Contains(s, `adminToken: ""`) {
		t.Errorf("empty admin token not shown as empty:\n%s", s)
	}
}

func TestRegisterFlags(t *testing.T) {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	RegisterFlags(fs)
	want := map[string]string{
		"config": "AXONFLOW_SYNC_CONFIG", "listen": "AXONFLOW_SYNC_LISTEN", "admin-listen": "AXONFLOW_SYNC_ADMIN_LISTEN",
		"redis-url": "AXONFLOW_SYNC_REDIS_URL", "data-dir": "AXONFLOW_SYNC_DATA_DIR", "admin-token": "AXONFLOW_SYNC_ADMIN_TOKEN",
		"log-level": "AXONFLOW_SYNC_LOG_LEVEL", "log-format": "AXONFLOW_SYNC_LOG_FORMAT",
		"redis-timeout": "AXONFLOW_SYNC_REDIS_TIMEOUT", "shutdown-timeout": "AXONFLOW_SYNC_SHUTDOWN_TIMEOUT",
		"redis-cluster-addrs": "AXONFLOW_SYNC_REDIS_CLUSTER_ADDRS", "redis-sentinel-master": "AXONFLOW_SYNC_REDIS_SENTINEL_MASTER",
		"redis-sentinel-addrs": "AXONFLOW_SYNC_REDIS_SENTINEL_ADDRS", "redis-username": "AXONFLOW_SYNC_REDIS_USERNAME",
		"redis-password": "AXONFLOW_SYNC_REDIS_PASSWORD", "redis-sentinel-password": "AXONFLOW_SYNC_REDIS_SENTINEL_PASSWORD",
		"redis-tls":      "AXONFLOW_SYNC_REDIS_TLS",
		"metrics-listen": "AXONFLOW_SYNC_METRICS_LISTEN", "metrics-token": "AXONFLOW_SYNC_METRICS_TOKEN",
		"external-url": "AXONFLOW_SYNC_EXTERNAL_URL", "trusted-proxies": "AXONFLOW_SYNC_TRUSTED_PROXIES",
		"provisioning-log-max-entries":    "AXONFLOW_SYNC_PROVISIONING_LOG_MAX_ENTRIES",
		"provisioning-log-max-rejections": "AXONFLOW_SYNC_PROVISIONING_LOG_MAX_REJECTIONS",
		"provisioning-log-max-age":        "AXONFLOW_SYNC_PROVISIONING_LOG_MAX_AGE",
		"filter-max-scan":                 "AXONFLOW_SYNC_FILTER_MAX_SCAN",
	}
	n := 0
	fs.VisitAll(func(f *flag.Flag) {
		n++
		env, ok := want[f.Name]
		if !ok {
			t.Errorf("unexpected flag --%s", f.Name)
		} else if !strings.Contains(f.Usage, env) {
			t.Errorf("--%s usage %q does not name %s", f.Name, f.Usage, env)
		}
	})
	if n != len(want) {
		t.Errorf("%d flags, want %d", n, len(want))
	}
	if d := fs.Lookup("listen").DefValue; d != "127.0.0.1:8080" {
		t.Errorf("--listen default shown as %q", d)
	}
	if d := fs.Lookup("provisioning-log-max-entries").DefValue; d != "100000" {
		t.Errorf("--provisioning-log-max-entries default shown as %q", d)
	}
	if d := fs.Lookup("provisioning-log-max-age").DefValue; d != "720h" {
		t.Errorf("--provisioning-log-max-age default shown as %q", d)
	}
	var nilFlags *Flags
	if _, ok := nilFlags.lookup("listen"); ok {
		t.Error("nil Flags reports a set flag")
	}
}

func TestErrorString(t *testing.T) {
	for _, tc := range []struct {
		err  *Error
		want string
	}{
		{&Error{Key: "redis.url", Msg: "must start with redis:// or rediss://"}, "config: redis.url: must start with redis:// or rediss://"},
		{&Error{Key: "listen", Msg: "m", Source: "flag --listen"}, "config: listen: m (from flag --listen)"},
		{&Error{Msg: "m"}, "config: m"},
	} {
		if got := tc.err.Error(); got != tc.want {
			t.Errorf("got %q, want %q", got, tc.want)
		}
	}
}

// needs returns a TestPrecedence companion: the environment pairs kv when
// the value under test is set (not "" or "false").
func needs(kv ...string) func(string) map[string]string {
	return func(want string) map[string]string {
		env := map[string]string{}
		if want != "" && want != "false" {
			for i := 0; i+1 < len(kv); i += 2 {
				env[kv[i]] = kv[i+1]
			}
		}
		return env
	}
}

func TestRedisModes(t *testing.T) {
	c := mustLoad(t, "redis:\n  clusterAddrs: [r1:6379, r2:6379]\n  password: ${PW}\n  tls: true\n", map[string]string{"PW": "s3cret"})
	if !reflect.DeepEqual(c.RedisClusterAddrs, []string{"r1:6379", "r2:6379"}) || c.RedisPassword != "s3cret" || !c.RedisTLS || c.RedisURL != "" {
		t.Errorf("cluster config: %#v %q %v", c.RedisClusterAddrs, c.RedisPassword, c.RedisTLS)
	}
	if s := c.String(); strings.Contains(s, "s3cret") || !strings.Contains(s, "password: '[REDACTED]'") || !strings.Contains(s, "- r2:6379") {
		t.Errorf("String():\n%s", s)
	}
	c = mustLoad(t, "", map[string]string{
		"AXONFLOW_SYNC_REDIS_SENTINEL_MASTER":   "axf",
		"AXONFLOW_SYNC_REDIS_SENTINEL_ADDRS":    "s1:26379,s2:26379",
		"AXONFLOW_SYNC_REDIS_SENTINEL_PASSWORD": "sentinel-SECRET",
	})
	if c.RedisSentinelMaster != "axf" || !reflect.DeepEqual(c.RedisSentinelAddrs, []string{"s1:26379", "s2:26379"}) || c.RedisSentinelPassword != "sentinel-SECRET" {
		t.Errorf("sentinel config: %q %#v", c.RedisSentinelMaster, c.RedisSentinelAddrs)
	}
	if s := fmt.Sprintf("%#v", *c); strings.Contains(s, "SECRET") {
		t.Errorf("sentinel password leaked:\n%s", s)
	}
	// The URL alone keeps working, and an empty list is no list.
	c = mustLoad(t, "redis: {url: 'redis://h:1/0', clusterAddrs: []}\n", nil)
	if c.RedisURL != "redis://h:1/0" || c.RedisClusterAddrs != nil {
		t.Errorf("url config: %q %#v", c.RedisURL, c.RedisClusterAddrs)
	}
}

// TestProvisioningLogRetention loads both retention keys from different
// sources and checks the typed values, the sources and the dump, which must
// load back to the same retention.
func TestProvisioningLogRetention(t *testing.T) {
	c := mustLoad(t, "provisioningLog:\n  maxEntries: 500\n  maxAge: 72h\n",
		map[string]string{"AXONFLOW_SYNC_PROVISIONING_LOG_MAX_AGE": "168h"})
	if want := (ProvisioningLogConfig{MaxEntries: 500, MaxRejections: 10000, MaxAge: 168 * time.Hour}); c.ProvisioningLog != want {
		t.Errorf("ProvisioningLog = %+v, want %+v", c.ProvisioningLog, want)
	}
	if got := c.Source["provisioningLog.maxEntries"]; got != "file "+c.ConfigFile {
		t.Errorf("Source[provisioningLog.maxEntries] = %q", got)
	}
	if got := c.Source["provisioningLog.maxAge"]; got != "env AXONFLOW_SYNC_PROVISIONING_LOG_MAX_AGE" {
		t.Errorf("Source[provisioningLog.maxAge] = %q", got)
	}
	s := c.String()
	for _, w := range []string{
		"provisioningLog:\n  maxEntries: 500 # file " + c.ConfigFile + "\n",
		"  maxAge: 168h0m0s # env AXONFLOW_SYNC_PROVISIONING_LOG_MAX_AGE\n",
	} {
		if !strings.Contains(s, w) {
			t.Errorf("String() lacks %q:\n%s", w, s)
		}
	}
	if back := mustLoad(t, s, nil); back.ProvisioningLog != c.ProvisioningLog {
		t.Errorf("dump loads back as %+v, want %+v", back.ProvisioningLog, c.ProvisioningLog)
	}
}

// TestSecretFlagsRefused: a secret given as a flag (which process lists
// show) stops the command with an error naming the variable to use
// instead; the same value from the environment is accepted.
func TestSecretFlagsRefused(t *testing.T) {
	const tok = "Tf1-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcd"
	for _, tc := range []struct {
		args []string
		key  string
		env  string
	}{
		{[]string{"--admin-token=" + tok}, "adminToken", "AXONFLOW_SYNC_ADMIN_TOKEN"},
		{[]string{"--metrics-token", tok}, "metricsToken", "AXONFLOW_SYNC_METRICS_TOKEN"},
		{[]string{"--redis-url=redis://h:1", "--redis-password=pw"}, "redis.password", "AXONFLOW_SYNC_REDIS_PASSWORD"},
		{[]string{"--redis-sentinel-master=m", "--redis-sentinel-addrs=s:1", "--redis-sentinel-password=pw"}, "redis.sentinelPassword", "AXONFLOW_SYNC_REDIS_SENTINEL_PASSWORD"},
		{[]string{"--redis-url=redis://u:pw@h:1/0"}, "redis.url", "AXONFLOW_SYNC_REDIS_PASSWORD"},
	} {
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		f := RegisterFlags(fs)
		if err := fs.Parse(tc.args); err != nil {
			t.Fatal(err)
		}
		_, err := Load(f, func(string) string { return "" })
		var ce *Error
		if !errors.As(err, &ce) || ce.Key != tc.key || !strings.Contains(ce.Msg, tc.env) || !strings.Contains(ce.Msg, "flag") {
			t.Errorf("%v: %v; want an error for %s naming %s", tc.args, err, tc.key, tc.env)
		}
		if err != nil && (strings.Contains(err.Error(), tok) || strings.Contains(err.Error(), "pw@")) {
			t.Errorf("%v: the error echoes the secret: %v", tc.args, err)
		}
	}
	// A URL without a password is fine as a flag.
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	f := RegisterFlags(fs)
	_ = fs.Parse([]string{"--redis-url=redis://h:1/0"})
	if _, err := Load(f, func(string) string { return "" }); err != nil {
		t.Errorf("a Redis URL without a password as a flag: %v", err)
	}
}

// TestAdminTokenStrength: admin and metrics tokens must be at least 32
// random bytes; what openssl rand -base64 32 and -hex 32 print passes.
func TestAdminTokenStrength(t *testing.T) {
	for _, tc := range []struct {
		tok string
		ok  bool
	}{
		{"adm_test_token_0123456789", false},
		{strings.Repeat("a", 64), false},
		{strings.Repeat("abcdef", 8), false},
		{"Vq3xK9pLm2Zt7Rw4Ys8Nb1Hc6Jd0Fg5Qe3Ua9Io2Lk4=", true},                     // openssl rand -base64 32
		{"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", true}, // openssl rand -hex 32
	} {
		for _, key := range []string{"AXONFLOW_SYNC_ADMIN_TOKEN", "AXONFLOW_SYNC_METRICS_TOKEN"} {
			_, err := Load(nil, func(k string) string {
				if k == key {
					return tc.tok
				}
				return ""
			})
			if (err == nil) != tc.ok {
				t.Errorf("%s=%q: %v, want ok=%v", key, tc.tok, err, tc.ok)
			}
			if err != nil && (strings.Contains(err.Error(), tc.tok) || !strings.Contains(err.Error(), "openssl rand -base64 32")) {
				t.Errorf("%s: error %q echoes the token or does not say how to make one", key, err)
			}
		}
	}
}
