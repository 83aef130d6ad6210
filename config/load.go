package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// fileConfig is the shape of the YAML file. Which keys were present is
// recorded separately (see parseFile), so plain types suffice.
type fileConfig struct {
	Listen         string   `yaml:"listen"`
	AdminListen    string   `yaml:"adminListen"`
	ExternalURL    string   `yaml:"externalURL"`
	TrustedProxies []string `yaml:"trustedProxies"`
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
		// MaxEntries is a string so that validate parses it exactly (the
		// YAML decoder would truncate 150.5 into an int).
		MaxEntries    string `yaml:"maxEntries"`
		MaxRejections string `yaml:"maxRejections"`
		MaxAge        string `yaml:"maxAge"`
	} `yaml:"provisioningLog"`
	Filter struct {
		MaxScan string `yaml:"maxScan"` // a string for exact parsing, as MaxEntries
	} `yaml:"filter"`
	Tenants map[string]TenantConfig `yaml:"tenants"`
	Console struct {
		OIDC               ConsoleOIDCConfig `yaml:"oidc"`
		SessionIdleTimeout string            `yaml:"sessionIdleTimeout"`
		SessionMaxAge      string            `yaml:"sessionMaxAge"`
	} `yaml:"console"`
}

// value returns the file's value of the global setting key.
func (fc *fileConfig) value(key string) string {
	switch key {
	case "listen":
		return fc.Listen
	case "adminListen":
		return fc.AdminListen
	case "redis.url":
		return fc.Redis.URL
	case "redis.timeout":
		return fc.Redis.Timeout
	case "metricsListen":
		return fc.MetricsListen
	case "metricsToken":
		return fc.MetricsToken
	case "externalURL":
		return fc.ExternalURL
	case "trustedProxies":
		return strings.Join(fc.TrustedProxies, ",")
	case "redis.clusterAddrs":
		return strings.Join(fc.Redis.ClusterAddrs, ",")
	case "redis.sentinelMaster":
		return fc.Redis.SentinelMaster
	case "redis.sentinelAddrs":
		return strings.Join(fc.Redis.SentinelAddrs, ",")
	case "redis.username":
		return fc.Redis.Username
	case "redis.password":
		return fc.Redis.Password
	case "redis.sentinelPassword":
		return fc.Redis.SentinelPassword
	case "redis.tls":
		return strconv.FormatBool(fc.Redis.TLS)
	case "dataDir":
		return fc.DataDir
	case "adminToken":
		return fc.AdminToken
	case "log.level":
		return fc.Log.Level
	case "log.format":
		return fc.Log.Format
	case "shutdownTimeout":
		return fc.ShutdownTimeout
	case "provisioningLog.maxEntries":
		return fc.ProvisioningLog.MaxEntries
	case "filter.maxScan":
		return fc.Filter.MaxScan
	case "provisioningLog.maxRejections":
		return fc.ProvisioningLog.MaxRejections
	case "provisioningLog.maxAge":
		return fc.ProvisioningLog.MaxAge
	}
	panic("config: no file value for " + key)
}

// Load merges flags f (nil: none), the environment read through getenv
// (nil: os.Getenv) and the YAML file they name with the defaults, fills in
// per-tenant defaults and validates the result. Precedence is: explicitly
// set flag > non-empty environment variable > YAML key > default. An empty
// environment variable counts as unset. Any problem is returned as a *Error.
func Load(f *Flags, getenv func(string) string) (*Config, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	cfg := &Config{Source: make(map[string]string, len(settings)+1)}

	path, src := resolve(configSetting, f, getenv, nil, nil)
	cfg.ConfigFile, cfg.Source[keyConfig] = path, src

	var fc fileConfig
	var present map[string]bool
	fileSrc := ""
	if path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, &Error{Key: keyConfig, Msg: "cannot read config file: " + err.Error(), Source: src}
		}
		if present, err = parseFile(data, &fc, getenv); err != nil {
			var ce *Error
			if errors.As(err, &ce) && ce.Source == "" {
				ce.Source = "file " + path
			}
			return nil, err
		}
		fileSrc = "file " + path
	}

	vals := make(map[string]string, len(settings))
	for _, s := range settings {
		var fileVal *string
		if present[s.key] {
			v := fc.value(s.key)
			fileVal = &v
		}
		vals[s.key], cfg.Source[s.key] = resolve(s, f, getenv, fileVal, &fileSrc)
	}
	cfg.Listen = vals["listen"]
	cfg.AdminListen = vals["adminListen"]
	cfg.RedisURL = vals["redis.url"]
	cfg.RedisSentinelMaster = vals["redis.sentinelMaster"]
	cfg.RedisUsername = vals["redis.username"]
	cfg.RedisPassword = vals["redis.password"]
	cfg.RedisSentinelPassword = vals["redis.sentinelPassword"]
	cfg.DataDir = vals["dataDir"]
	cfg.AdminToken = vals["adminToken"]
	cfg.MetricsListen = vals["metricsListen"]
	cfg.MetricsToken = vals["metricsToken"]
	cfg.Log = LogConfig{Level: vals["log.level"], Format: vals["log.format"]}

	cfg.Tenants = fc.Tenants
	if cfg.Tenants == nil {
		cfg.Tenants = map[string]TenantConfig{}
	}
	for id, t := range cfg.Tenants {
		cfg.Tenants[id] = withTenantDefaults(t, present, "tenants."+id)
	}

	if err := validate(cfg, vals); err != nil {
		return nil, err
	}
	if err := loadConsole(cfg, &fc, getenv, fileSrc); err != nil {
		return nil, err
	}
	return cfg, nil
}

// resolve picks the value of setting s by precedence and says where it came
// from. fileVal is nil when the file does not set s.
func resolve(s setting, f *Flags, getenv func(string) string, fileVal, fileSrc *string) (string, string) {
	if v, ok := f.lookup(s.key); ok {
		return v, "flag --" + s.flag
	}
	if v := getenv(s.env); v != "" {
		return v, "env " + s.env
	}
	if fileVal != nil {
		return *fileVal, *fileSrc
	}
	return s.def, "default"
}

// withTenantDefaults fills in the defaults of keys absent from tenant block
// path; present holds the key paths that the file set.
func withTenantDefaults(t TenantConfig, present map[string]bool, path string) TenantConfig {
	if t.Okta != nil && t.Okta.OAuth != nil && !present[path+".okta.oauth.scopes"] {
		o := *t.Okta.OAuth
		o.Scopes = append([]string(nil), defaultOAuthScopes...)
		ok := *t.Okta
		ok.OAuth = &o
		t.Okta = &ok
	}
	if !present[path+".reconcile.mode"] {
		t.Reconcile.Mode = ModeReport
	}
	if !present[path+".reconcile.maxChanges"] {
		t.Reconcile.MaxChanges = 50
	}
	if !present[path+".reconcile.maxChangePercent"] {
		t.Reconcile.MaxChangePercent = 10
	}
	if !present[path+".reconcile.approval"] {
		t.Reconcile.Approval = ApprovalGuarded
	}
	if !present[path+".reconcile.planTTL"] {
		t.Reconcile.PlanTTLText = DefaultPlanTTL.String()
	}
	if !present[path+".reconcile.deactivationGrace"] {
		t.Reconcile.DeactivationGraceText = "0s"
	}
	if !present[path+".roles.default"] {
		t.Roles.Default = "viewer"
	}
	return t
}

// parseFile decodes the YAML document data into fc. It rejects unknown and
// duplicate keys and ill-typed values, naming the key; expands ${VAR} in
// string values; and returns the set of key paths given a non-null value.
func parseFile(data []byte, fc *fileConfig, getenv func(string) string) (map[string]bool, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var root yaml.Node
	if err := dec.Decode(&root); err != nil {
		if errors.Is(err, io.EOF) { // empty file
			return map[string]bool{}, nil
		}
		return nil, &Error{Key: keyConfig, Msg: "invalid YAML: " + err.Error()}
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return nil, &Error{Key: keyConfig, Msg: "must hold exactly one YAML document"}
	}
	w := &walker{present: map[string]bool{}}
	if err := w.walk(&root, reflect.TypeOf(*fc), ""); err != nil {
		return nil, err
	}
	if err := root.Decode(fc); err != nil {
		return nil, &Error{Key: keyConfig, Msg: "invalid YAML: " + err.Error()}
	}
	if err := expand(reflect.ValueOf(fc).Elem(), "", getenv); err != nil {
		return nil, err
	}
	return w.present, nil
}

// walker checks a YAML node tree against the Go type it will be decoded
// into, so that errors name the full key path.
type walker struct {
	present map[string]bool
}

// walk checks n against type t at key path.
func (w *walker) walk(n *yaml.Node, t reflect.Type, path string) error {
	for n.Kind == yaml.DocumentNode || n.Kind == yaml.AliasNode {
		if n.Kind == yaml.AliasNode {
			n = n.Alias
		} else if len(n.Content) == 0 {
			return nil
		} else {
			n = n.Content[0]
		}
	}
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		return nil
	}
	if path != "" {
		w.present[path] = true
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	key := path
	if key == "" {
		key = keyConfig
	}
	switch t.Kind() {
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			return &Error{Key: key, Msg: "must be a mapping"}
		}
		seen := map[string]bool{}
		return w.mapping(n, path, seen, func(k string) (reflect.Type, bool) {
			f, ok := fieldByTag(t, k)
			return f.Type, ok
		})
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			return &Error{Key: key, Msg: "must be a mapping"}
		}
		seen := map[string]bool{}
		return w.mapping(n, path, seen, func(string) (reflect.Type, bool) { return t.Elem(), true })
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			return &Error{Key: key, Msg: "must be a list"}
		}
		for i, c := range n.Content {
			if err := w.walk(c, t.Elem(), path+"["+strconv.Itoa(i)+"]"); err != nil {
				return err
			}
		}
		return nil
	}
	if n.Kind != yaml.ScalarNode {
		return &Error{Key: key, Msg: "must be a single value"}
	}
	switch t.Kind() {
	case reflect.Int:
		var i int
		if n.Decode(&i) != nil {
			return &Error{Key: key, Msg: fmt.Sprintf("must be an integer, got %q", n.Value)}
		}
	case reflect.Bool:
		var b bool
		if n.Decode(&b) != nil {
			return &Error{Key: key, Msg: fmt.Sprintf("must be true or false, got %q", n.Value)}
		}
	}
	return nil
}

// mapping walks the pairs of mapping node n at path; field returns the type
// of a key's value, or false for an unknown key. seen collects keys across
// merged (<<) mappings so duplicates are caught.
func (w *walker) mapping(n *yaml.Node, path string, seen map[string]bool, field func(string) (reflect.Type, bool)) error {
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind == yaml.ScalarNode && k.Value == "<<" && k.ShortTag() == "!!merge" {
			if err := w.merge(v, path, seen, field); err != nil {
				return err
			}
			continue
		}
		kp := joinKey(path, k.Value)
		if k.Kind != yaml.ScalarNode {
			return &Error{Key: joinKey(path, "?"), Msg: "keys must be scalars"}
		}
		if seen[k.Value] {
			return &Error{Key: kp, Msg: "duplicate key"}
		}
		seen[k.Value] = true
		t, ok := field(k.Value)
		if !ok {
			return &Error{Key: kp, Msg: "unknown key"}
		}
		if err := w.walk(v, t, kp); err != nil {
			return err
		}
	}
	return nil
}

// merge walks the value of a << merge key: a mapping or a list of them.
// Keys given explicitly override merged ones, as in YAML.
func (w *walker) merge(v *yaml.Node, path string, seen map[string]bool, field func(string) (reflect.Type, bool)) error {
	for v.Kind == yaml.AliasNode {
		v = v.Alias
	}
	switch v.Kind {
	case yaml.MappingNode:
		// Merged keys may be overridden, so they are not marked seen.
		return w.mapping(v, path, map[string]bool{}, field)
	case yaml.SequenceNode:
		for _, c := range v.Content {
			if err := w.merge(c, path, seen, field); err != nil {
				return err
			}
		}
		return nil
	}
	return &Error{Key: joinKey(path, "<<"), Msg: "must be a mapping or a list of mappings"}
}

// fieldByTag finds the field of struct type t with YAML name name.
func fieldByTag(t reflect.Type, name string) (reflect.StructField, bool) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if tagName(f) == name {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

// tagName is the YAML name of field f.
func tagName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	return name
}

// joinKey appends key k to path.
func joinKey(path, k string) string {
	if k == "" {
		return path
	}
	if path == "" {
		return k
	}
	return path + "." + k
}

// expand replaces ${VAR} in every string reachable from v, naming the key
// path in errors. Map entries are visited in key order.
func expand(v reflect.Value, path string, getenv func(string) string) error {
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			return expand(v.Elem(), path, getenv)
		}
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			if err := expand(v.Field(i), joinKey(path, tagName(v.Type().Field(i))), getenv); err != nil {
				return err
			}
		}
	case reflect.Slice:
		for i := 0; i < v.Len(); i++ {
			if err := expand(v.Index(i), path+"["+strconv.Itoa(i)+"]", getenv); err != nil {
				return err
			}
		}
	case reflect.Map:
		keys := v.MapKeys()
		sort.Slice(keys, func(i, j int) bool { return keys[i].String() < keys[j].String() })
		for _, k := range keys {
			e := reflect.New(v.Type().Elem()).Elem()
			e.Set(v.MapIndex(k))
			if err := expand(e, joinKey(path, k.String()), getenv); err != nil {
				return err
			}
			v.SetMapIndex(k, e)
		}
	case reflect.String:
		s, err := expandString(v.String(), getenv)
		if err != nil {
			return &Error{Key: path, Msg: err.Error()}
		}
		v.SetString(s)
	}
	return nil
}

// expandString replaces each ${NAME} in s by getenv(NAME) and each $${ by a
// literal ${. An unset or empty variable, or a malformed reference, is an
// error.
func expandString(s string, getenv func(string) string) (string, error) {
	if !strings.Contains(s, "${") {
		return s, nil
	}
	var b strings.Builder
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			b.WriteString(s)
			return b.String(), nil
		}
		if i > 0 && s[i-1] == '$' { // $${ is a literal ${
			b.WriteString(s[:i-1])
			b.WriteString("${")
			s = s[i+2:]
			continue
		}
		b.WriteString(s[:i])
		end := strings.IndexByte(s[i:], '}')
		if end < 0 {
			return "", fmt.Errorf("unterminated ${ in value")
		}
		name := s[i+2 : i+end]
		if !isEnvName(name) {
			return "", fmt.Errorf("invalid variable reference ${%s}: want ${NAME}", name)
		}
		val := getenv(name)
		if val == "" {
			return "", fmt.Errorf("environment variable %s (referenced as ${%s}) is not set", name, name)
		}
		b.WriteString(val)
		s = s[i+end+1:]
	}
}

// isEnvName reports whether s is a valid environment variable name.
func isEnvName(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		switch {
		case c == '_', c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z':
		case c >= '0' && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}
