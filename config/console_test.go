package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const consoleOIDC = `
console:
  sessionIdleTimeout: 10m
  sessionMaxAge: 2h
  oidc:
    issuer: https://acme.okta.com
    clientID: 0oaconsole
    redirectURL: https://sync.example.com:9090/ui/oidc/callback
    viewerGroups: [AxonFlow Viewers]
    approverGroups: [AxonFlow IAM]
`

func TestConsoleConfig(t *testing.T) {
	c := mustLoad(t, consoleOIDC, map[string]string{EnvConsoleClientSecret: "s3cret"})
	o := c.Console.OIDC
	if !o.Enabled() || o.ClientSecret != "s3cret" || o.ClientID != "0oaconsole" || o.ApproverGroups[0] != "AxonFlow IAM" {
		t.Fatalf("console.oidc = %+v", o)
	}
	if c.Console.SessionIdleTimeout != 10*time.Minute || c.Console.SessionMaxAge != 2*time.Hour {
		t.Fatalf("session timeouts = %v, %v", c.Console.SessionIdleTimeout, c.Console.SessionMaxAge)
	}
	if s := c.String(); strings.Contains(s, "s3cret") || !strings.Contains(s, "clientSecret: '[REDACTED]'") {
		t.Errorf("String() does not redact the client secret:\n%s", s)
	}

	p := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(p, []byte("from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c = mustLoad(t, consoleOIDC+"    clientSecretFile: "+p+"\n", nil)
	if c.Console.OIDC.ClientSecret != "from-file" {
		t.Errorf("clientSecretFile: secret = %q", c.Console.OIDC.ClientSecret)
	}
}

func TestConsoleConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		name, yaml, key string
		env             map[string]string
	}{
		{"no secret", consoleOIDC, "console.oidc.clientSecret", nil},
		{"bad redirect path", strings.Replace(consoleOIDC, "/ui/oidc/callback", "/callback", 1), "console.oidc.redirectURL", map[string]string{EnvConsoleClientSecret: "x"}},
		{"no groups", strings.Replace(strings.Replace(consoleOIDC, "    viewerGroups: [AxonFlow Viewers]\n", "", 1), "    approverGroups: [AxonFlow IAM]\n", "", 1), "console.oidc.viewerGroups", map[string]string{EnvConsoleClientSecret: "x"}},
		{"no client id", strings.Replace(consoleOIDC, "    clientID: 0oaconsole\n", "", 1), "console.oidc.clientID", map[string]string{EnvConsoleClientSecret: "x"}},
		{"client id without issuer", "console:\n  oidc:\n    clientID: x\n", "console.oidc.issuer", nil},
		{"bad idle", "console:\n  sessionIdleTimeout: 5s\n", "console.sessionIdleTimeout", nil},
		{"idle above max", "console:\n  sessionIdleTimeout: 3h\n  sessionMaxAge: 1h\n", "console.sessionIdleTimeout", nil},
		{"unknown key", "console:\n  oidc:\n    secret: x\n", "console.oidc.secret", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := load(t, tc.yaml, tc.env)
			if ce := configErr(t, err); ce.Key != tc.key {
				t.Errorf("key = %q, want %q (%v)", ce.Key, tc.key, err)
			}
		})
	}
}
