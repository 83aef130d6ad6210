package config

import (
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"
)

// EnvConsoleClientSecret is the environment variable of the console's OIDC
// client secret (console.oidc.clientSecret); it beats the YAML keys.
const EnvConsoleClientSecret = "AXONFLOW_SYNC_CONSOLE_OIDC_CLIENT_SECRET"

// ConsoleCallbackPath is the path console.oidc.redirectURL must have.
const ConsoleCallbackPath = "/ui/oidc/callback"

// Console session defaults (console.sessionIdleTimeout, console.sessionMaxAge).
const (
	DefaultSessionIdleTimeout = 30 * time.Minute
	DefaultSessionMaxAge      = 12 * time.Hour
)

// loadConsole fills cfg.Console from the file's console block and the
// environment and validates it; errors name the key.
func loadConsole(cfg *Config, fc *fileConfig, getenv func(string) string, fileSrc string) error {
	c := ConsoleConfig{OIDC: fc.Console.OIDC, SessionIdleTimeout: DefaultSessionIdleTimeout, SessionMaxAge: DefaultSessionMaxAge}
	fail := func(key, format string, a ...any) error {
		return &Error{Key: key, Msg: fmt.Sprintf(format, a...), Source: fileSrc}
	}
	for _, d := range []struct {
		key string
		v   string
		dst *time.Duration
	}{{"console.sessionIdleTimeout", fc.Console.SessionIdleTimeout, &c.SessionIdleTimeout},
		{"console.sessionMaxAge", fc.Console.SessionMaxAge, &c.SessionMaxAge}} {
		if d.v == "" {
			continue
		}
		v, err := time.ParseDuration(d.v)
		if err != nil || v < time.Minute {
			return fail(d.key, "must be a duration of at least 1m such as 30m or 12h, got %q", d.v)
		}
		*d.dst = v
	}
	if c.SessionIdleTimeout > c.SessionMaxAge {
		return fail("console.sessionIdleTimeout", "must not exceed console.sessionMaxAge (%s)", c.SessionMaxAge)
	}
	o := &c.OIDC
	if v := getenv(EnvConsoleClientSecret); v != "" {
		o.ClientSecret, o.ClientSecretFile = v, ""
	}
	if o.ClientSecret != "" && o.ClientSecretFile != "" {
		return fail("console.oidc.clientSecretFile", "give clientSecret or clientSecretFile, not both")
	}
	if o.ClientSecretFile != "" {
		b, err := os.ReadFile(o.ClientSecretFile)
		if err != nil {
			return fail("console.oidc.clientSecretFile", "cannot read: %v", err)
		}
		o.ClientSecret = strings.TrimSpace(string(b))
	}
	if !o.Enabled() {
		if o.ClientID != "" || o.RedirectURL != "" || len(o.ViewerGroups)+len(o.ApproverGroups) > 0 {
			return fail("console.oidc.issuer", "must be set when other console.oidc keys are")
		}
		cfg.Console = c
		return nil
	}
	if u, err := url.Parse(o.Issuer); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fail("console.oidc.issuer", "must be an http(s) URL, got %q", o.Issuer)
	}
	if o.ClientID == "" {
		return fail("console.oidc.clientID", "must not be empty")
	}
	if o.ClientSecret == "" {
		return &Error{Key: "console.oidc.clientSecret", Msg: "must be set: env " + EnvConsoleClientSecret + ", console.oidc.clientSecret or console.oidc.clientSecretFile", Source: fileSrc}
	}
	u, err := url.Parse(o.RedirectURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.Path != ConsoleCallbackPath {
		return fail("console.oidc.redirectURL", "must be an absolute http(s) URL with path %s, got %q", ConsoleCallbackPath, o.RedirectURL)
	}
	if len(o.ViewerGroups)+len(o.ApproverGroups) == 0 {
		return fail("console.oidc.viewerGroups", "name at least one group (viewerGroups or approverGroups): nobody could sign in")
	}
	cfg.Console = c
	return nil
}
