package main

import (
	"crypto/rand"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestServeConsole: serve mounts the review console at /ui/ on the admin
// listener (token sign-in when no OIDC is configured), and an OIDC provider
// that cannot be reached does not keep serve from starting (the SCIM API
// never waits for the IdP): the error is logged.
func TestServeConsole(t *testing.T) {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	adminToken := base64.RawURLEncoding.EncodeToString(b)
	env := []string{"AXONFLOW_SYNC_DATA_DIR=" + t.TempDir(), "AXONFLOW_SYNC_ADMIN_TOKEN=" + adminToken}
	if _, stderr, code := cli(t, env, "token", "create", "--tenant", "acme"); code != 0 {
		t.Fatalf("token create: %d %s", code, stderr)
	}
	d := startServe(t, env)
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	get := func(path string) (*http.Response, string) {
		t.Helper()
		res, err := c.Get("http://" + d.admin + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		return res, string(body)
	}
	res, body := get("/ui/")
	if res.StatusCode != 200 || !strings.Contains(res.Header.Get("Content-Security-Policy"), "frame-ancestors 'none'") || !strings.Contains(body, `name="token"`) {
		t.Fatalf("GET /ui/: %d %v\n%s", res.StatusCode, res.Header, body)
	}
	csrf := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(body)[1]
	res, err := c.PostForm("http://"+d.admin+"/ui/login", url.Values{"csrf": {csrf}, "token": {adminToken}})
	if err != nil {
		t.Fatal(err)
	}
	body2, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !strings.Contains(string(body2), "Overview") || !strings.Contains(string(body2), "/ui/tenants/acme") {
		t.Fatalf("after sign-in: %d\n%s", res.StatusCode, body2)
	}

	// An unreachable OIDC provider: serve starts, logs it, and the console
	// offers the IdP sign-in (which fails with a clear page until it is up).
	cfg := filepath.Join(t.TempDir(), "axonflow-sync.yaml")
	yaml := "console:\n  oidc:\n    issuer: http://" + freeAddr(t) + "\n    clientID: console\n    redirectURL: http://127.0.0.1:1/ui/oidc/callback\n    approverGroups: [IAM]\n"
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	d2 := startServe(t, append(env, "AXONFLOW_SYNC_CONFIG="+cfg, "AXONFLOW_SYNC_CONSOLE_OIDC_CLIENT_SECRET=s3cret-value", "AXONFLOW_SYNC_DATA_DIR="+t.TempDir()))
	res, err = http.Get("http://" + d2.admin + "/ui/login/oidc")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusBadGateway {
		t.Errorf("OIDC sign-in with the IdP down: %d, want 502", res.StatusCode)
	}
	if log := d2.settledLog(); !strings.Contains(log, "OIDC provider discovery failed") || strings.Contains(log, "s3cret-value") {
		t.Errorf("serve's log does not report the unreachable IdP (or shows the secret):\n%s", log)
	}
}
