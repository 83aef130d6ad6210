package config

import (
	"fmt"
	"net/url"
	"strings"

	"go.yaml.in/yaml/v3"
)

// redacted replaces a non-empty secret in dumps; an empty one stays empty so
// that "not set" remains visible.
const redacted = "[REDACTED]"

// redact returns redacted for a non-empty secret s, else "".
func redact(s string) string {
	if s == "" {
		return ""
	}
	return redacted
}

// redactURL hides the password of a URL such as redis://:pw@host.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		if strings.Contains(s, "@") {
			return redacted
		}
		return s
	}
	return u.Redacted() // password as xxxxx
}

// redacted returns a copy of o with APIToken redacted.
func (o OktaConfig) redacted() OktaConfig {
	o.APIToken = redact(o.APIToken)
	return o
}

// redacted returns a deep-enough copy of c with AdminToken, the Redis
// passwords and every tenant's apiToken redacted.
func (c Config) redacted() Config {
	c.AdminToken = redact(c.AdminToken)
	c.MetricsToken = redact(c.MetricsToken)
	c.RedisURL = redactURL(c.RedisURL)
	c.RedisPassword = redact(c.RedisPassword)
	c.RedisSentinelPassword = redact(c.RedisSentinelPassword)
	c.Console.OIDC.ClientSecret = redact(c.Console.OIDC.ClientSecret)
	ts := make(map[string]TenantConfig, len(c.Tenants))
	for id, t := range c.Tenants {
		if t.Okta != nil {
			o := t.Okta.redacted()
			t.Okta = &o
		}
		ts[id] = t
	}
	c.Tenants = ts
	return c
}

// dumpConfig is the YAML shape of Config.String.
type dumpConfig struct {
	Listen         string   `yaml:"listen"`
	AdminListen    string   `yaml:"adminListen"`
	ExternalURL    string   `yaml:"externalURL,omitempty"`
	TrustedProxies []string `yaml:"trustedProxies,omitempty"`
	Redis          struct {
		URL              string   `yaml:"url"`
		Timeout          string   `yaml:"timeout"`
		ClusterAddrs     []string `yaml:"clusterAddrs"`
		SentinelMaster   string   `yaml:"sentinelMaster"`
		SentinelAddrs    []string `yaml:"sentinelAddrs"`
		Username         string   `yaml:"username"`
		Password         string   `yaml:"password"`
		SentinelPassword string   `yaml:"sentinelPassword"`
		TLS              bool     `yaml:"tls"`
	} `yaml:"redis"`
	DataDir         string    `yaml:"dataDir"`
	AdminToken      string    `yaml:"adminToken"`
	MetricsListen   string    `yaml:"metricsListen"`
	MetricsToken    string    `yaml:"metricsToken"`
	Log             LogConfig `yaml:"log"`
	ShutdownTimeout string    `yaml:"shutdownTimeout"`
	ProvisioningLog struct {
		MaxEntries    int    `yaml:"maxEntries"`
		MaxRejections int    `yaml:"maxRejections"`
		MaxAge        string `yaml:"maxAge"`
	} `yaml:"provisioningLog"`
	Filter struct {
		MaxScan int `yaml:"maxScan"`
	} `yaml:"filter"`
	Tenants map[string]TenantConfig `yaml:"tenants,omitempty"`
	Console *struct {
		OIDC               ConsoleOIDCConfig `yaml:"oidc"`
		SessionIdleTimeout string            `yaml:"sessionIdleTimeout"`
		SessionMaxAge      string            `yaml:"sessionMaxAge"`
	} `yaml:"console,omitempty"`
}

// String returns the effective configuration as YAML in the file's format,
// each global setting commented with its source, with adminToken, the Redis
// passwords and every apiToken replaced by [REDACTED] and the Redis URL's
// password by xxxxx.
func (c Config) String() string {
	r := c.redacted()
	d := dumpConfig{
		Listen:          r.Listen,
		AdminListen:     r.AdminListen,
		ExternalURL:     r.ExternalURL,
		DataDir:         r.DataDir,
		AdminToken:      r.AdminToken,
		MetricsListen:   r.MetricsListen,
		MetricsToken:    r.MetricsToken,
		Log:             r.Log,
		ShutdownTimeout: r.ShutdownTimeout.String(),
		Tenants:         r.Tenants,
	}
	for _, p := range r.TrustedProxies {
		d.TrustedProxies = append(d.TrustedProxies, p.String())
	}
	d.ProvisioningLog.MaxEntries, d.ProvisioningLog.MaxAge = r.ProvisioningLog.MaxEntries, r.ProvisioningLog.MaxAge.String()
	d.ProvisioningLog.MaxRejections = r.ProvisioningLog.MaxRejections
	d.Filter.MaxScan = r.FilterMaxScan
	d.Redis.URL, d.Redis.Timeout = r.RedisURL, r.RedisTimeout.String()
	d.Redis.ClusterAddrs, d.Redis.SentinelMaster, d.Redis.SentinelAddrs = r.RedisClusterAddrs, r.RedisSentinelMaster, r.RedisSentinelAddrs
	d.Redis.Username, d.Redis.Password, d.Redis.SentinelPassword, d.Redis.TLS = r.RedisUsername, r.RedisPassword, r.RedisSentinelPassword, r.RedisTLS
	if r.Console.OIDC.Enabled() {
		d.Console = &struct {
			OIDC               ConsoleOIDCConfig `yaml:"oidc"`
			SessionIdleTimeout string            `yaml:"sessionIdleTimeout"`
			SessionMaxAge      string            `yaml:"sessionMaxAge"`
		}{r.Console.OIDC, r.Console.SessionIdleTimeout.String(), r.Console.SessionMaxAge.String()}
	}
	var n yaml.Node
	if err := n.Encode(d); err != nil {
		return "# config: cannot encode: " + err.Error()
	}
	for key, src := range c.Source {
		if v := lookupNode(&n, key); v != nil {
			v.LineComment = src
		}
	}
	if c.ConfigFile != "" {
		n.HeadComment = "config file " + c.ConfigFile + " (" + c.Source[keyConfig] + ")"
	}
	var b strings.Builder
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(&n); err != nil {
		return "# config: cannot encode: " + err.Error()
	}
	_ = enc.Close()
	return b.String()
}

// GoString is String, so that %#v does not reveal secrets either.
func (c Config) GoString() string { return c.String() }

// lookupNode returns the value node of dotted key path in mapping n.
func lookupNode(n *yaml.Node, path string) *yaml.Node {
	for _, k := range strings.Split(path, ".") {
		if n.Kind != yaml.MappingNode {
			return nil
		}
		var next *yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == k {
				next = n.Content[i+1]
				break
			}
		}
		if next == nil {
			return nil
		}
		n = next
	}
	return n
}

// String returns o as one line of YAML with apiToken redacted.
func (o OktaConfig) String() string {
	var n yaml.Node
	if err := n.Encode(o.redacted()); err != nil {
		return "{}"
	}
	setFlow(&n)
	b, err := yaml.Marshal(&n)
	if err != nil {
		return "{}"
	}
	return strings.TrimSpace(string(b))
}

// GoString returns o in Go syntax with apiToken redacted.
func (o OktaConfig) GoString() string {
	type plain OktaConfig // no methods: no recursion
	r := o.redacted()
	s := fmt.Sprintf("%#v", plain(r))
	if r.OAuth != nil { // show the OAuth settings, not a pointer
		s = strings.Replace(s, fmt.Sprintf("(*config.OAuthConfig)(%p)", r.OAuth), fmt.Sprintf("&%#v", *r.OAuth), 1)
	}
	return strings.Replace(s, "config.plain", "config.OktaConfig", 1)
}

// setFlow makes n and its children flow style, for one-line output.
func setFlow(n *yaml.Node) {
	if n.Kind == yaml.MappingNode || n.Kind == yaml.SequenceNode {
		n.Style |= yaml.FlowStyle
	}
	for _, c := range n.Content {
		setFlow(c)
	}
}
