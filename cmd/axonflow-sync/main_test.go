package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/axonflow/axonflow-sync/internal/logbuf"
	"github.com/axonflow/axonflow-sync/internal/testredis"
)

var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "axonflow-sync-bin")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "axonflow-sync")
	if out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building the binary: %v\n%s", err, out)
		os.Exit(1)
	}
	code := testredis.Main(m)
	os.RemoveAll(dir)
	os.Exit(code)
}

// freeAddr returns a free loopback host:port.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// cli runs the binary with env (on top of a clean environment) and returns
// stdout, stderr and the exit code.
func cli(t *testing.T, env []string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}, env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), errb.String(), code
}

type daemon struct {
	cmd    *exec.Cmd
	api    string
	admin  string
	stderr *safeBuf
	done   chan error
}

// settledLog is the server's log once the lines of the requests made so
// far are written: serve batches info lines for up to logbuf.FlushInterval.
// Checks that a line is absent read this, not stderr directly.
func (d *daemon) settledLog() string {
	time.Sleep(3 * logbuf.FlushInterval)
	return d.stderr.String()
}

type safeBuf struct {
	mu  chan struct{}
	buf bytes.Buffer
}

func newSafeBuf() *safeBuf { b := &safeBuf{mu: make(chan struct{}, 1)}; return b }
func (b *safeBuf) Write(p []byte) (int, error) {
	b.mu <- struct{}{}
	defer func() { <-b.mu }()
	return b.buf.Write(p)
}
func (b *safeBuf) String() string {
	b.mu <- struct{}{}
	defer func() { <-b.mu }()
	return b.buf.String()
}

// startServe starts `axonflow-sync serve` and waits for /healthz.
func startServe(t *testing.T, env []string) *daemon {
	t.Helper()
	d := &daemon{api: freeAddr(t), admin: freeAddr(t), stderr: newSafeBuf(), done: make(chan error, 1)}
	d.cmd = exec.Command(binary, "serve")
	d.cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "AXONFLOW_SYNC_LISTEN=" + d.api, "AXONFLOW_SYNC_ADMIN_LISTEN=" + d.admin}, env...)
	d.cmd.Stderr = d.stderr
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { d.done <- d.cmd.Wait() }()
	t.Cleanup(func() {
		_ = d.cmd.Process.Kill()
		<-d.done
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get("http://" + d.admin + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return d
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve did not become healthy; log:\n%s", d.stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func scimReq(t *testing.T, method, url, token, body string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/scim+json; charset=utf-8")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

const userBody = `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"%s","name":{"givenName":"Ada","familyName":"Okafor"},"emails":[{"primary":true,"value":"%s","type":"work"}],"active":true}`

func TestBadConfigExits2NamingKey(t *testing.T) {
	cases := []struct {
		env  []string
		args []string
		key  string
	}{
		{[]string{"AXONFLOW_SYNC_REDIS_URL=http://localhost:6379"}, []string{"serve"}, "redis.url"},
		{[]string{"AXONFLOW_SYNC_LISTEN=nonsense"}, []string{"serve"}, "listen"},
		{nil, []string{"serve", "--log-level", "loud"}, "log.level"},
		{[]string{"AXONFLOW_SYNC_CONFIG=/does/not/exist.yaml"}, []string{"token", "list", "--tenant", "acme"}, "exist.yaml"},
		// Secrets are refused as flags (ps shows them); the error names the variable.
		{nil, []string{"serve", "--admin-token", "Vq3xK9pLm2Zt7Rw4Ys8Nb1Hc6Jd0Fg5Qe3Ua9Io2Lk4="}, "AXONFLOW_SYNC_ADMIN_TOKEN"},
		{nil, []string{"token", "list", "--tenant", "acme", "--redis-url", "redis://u:pw@127.0.0.1:1/0"}, "AXONFLOW_SYNC_REDIS_PASSWORD"},
		{nil, []string{"serve", "--redis-url", "redis://127.0.0.1:1/0", "--redis-password", "pw"}, "AXONFLOW_SYNC_REDIS_PASSWORD"},
		// An admin token that is not 32 random bytes.
		{[]string{"AXONFLOW_SYNC_ADMIN_TOKEN=adm_test_token_0123456789"}, []string{"serve"}, "openssl rand -base64 32"},
	}
	for _, c := range cases {
		_, stderr, code := cli(t, append(c.env, "AXONFLOW_SYNC_DATA_DIR="+t.TempDir()), c.args...)
		if code != exitConfig {
			t.Errorf("%v %v: exit %d, want 2; stderr %s", c.env, c.args, code, stderr)
		}
		if !strings.Contains(stderr, c.key) {
			t.Errorf("%v %v: stderr %q does not name %q", c.env, c.args, stderr, c.key)
		}
	}
	if _, _, code := cli(t, nil, "frobnicate"); code != exitConfig {
		t.Errorf("unknown command: exit %d, want 2", code)
	}
}

// TestMetricsListenerAndToken: with metricsListen and metricsToken,
// /metrics is served only on its own listener and only with the bearer
// token; the admin listener no longer serves it.
func TestMetricsListenerAndToken(t *testing.T) {
	const metricsToken = "Mt9xK2pLm7Zt4Rw1Ys6Nb3Hc8Jd5Fg0Qe2Ua7Io9Lk1="
	metricsAddr := freeAddr(t)
	d := startServe(t, []string{"AXONFLOW_SYNC_DATA_DIR=" + t.TempDir(), "AXONFLOW_SYNC_METRICS_LISTEN=" + metricsAddr,
		"AXONFLOW_SYNC_METRICS_TOKEN=" + metricsToken})
	get := func(url, token string) (int, string) {
		req, _ := http.NewRequest("GET", url, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, _ := get("http://"+d.admin+"/metrics", metricsToken); code != http.StatusNotFound {
		t.Errorf("admin listener /metrics: %d, want 404 (served on metricsListen)", code)
	}
	for _, tok := range []string{"", "wrong", scimserverToken} {
		if code, body := get("http://"+metricsAddr+"/metrics", tok); code != http.StatusUnauthorized || strings.Contains(body, "go_goroutines") {
			t.Errorf("metrics listener with token %q: %d", tok, code)
		}
	}
	if code, body := get("http://"+metricsAddr+"/metrics", metricsToken); code != 200 || !strings.Contains(body, "go_goroutines") {
		t.Errorf("metrics listener with the token: %d", code)
	}
}

// scimserverToken is a made-up SCIM token: never accepted by /metrics.
const scimserverToken = "scim_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"

func TestTokenLifecycleWhileServing(t *testing.T) {
	for _, backend := range []string{"embedded", "redis"} {
		t.Run(backend, func(t *testing.T) {
			var env []string
			tenant := "acme"
			if backend == "redis" {
				env = []string{"AXONFLOW_SYNC_REDIS_URL=" + testredis.URL(t)}
				tenant = fmt.Sprintf("acme-%d", time.Now().UnixNano())
			} else {
				env = []string{"AXONFLOW_SYNC_DATA_DIR=" + t.TempDir()}
			}
			d := startServe(t, env)
			if backend == "embedded" && !strings.Contains(d.stderr.String(), "axonflow-sync token create --tenant") {
				t.Errorf("serve on an empty store does not log the token command:\n%s", d.stderr.String())
			}
			// A second process creates a token while serve runs.
			out, stderr, code := cli(t, env, "token", "create", "--tenant", tenant, "--name", "okta-prod", "--expires-in", "720h")
			if code != 0 {
				t.Fatalf("token create: exit %d: %s", code, stderr)
			}
			tok := strings.TrimSpace(out)
			if !strings.HasPrefix(tok, "scim_") || strings.Count(out, "\n") != 1 {
				t.Fatalf("token create printed %q, want only the token", out)
			}
			base := "http://" + d.api + "/scim/v2"
			resp, body := scimReq(t, "POST", base+"/Users", tok, fmt.Sprintf(userBody, "ada@example.com", "ada@example.com"))
			if resp.StatusCode != 201 {
				t.Fatalf("POST /Users with the new token: %d %s", resp.StatusCode, body)
			}
			if got := resp.Header.Get("X-AxonFlow-Tenant"); got != tenant {
				t.Errorf("X-AxonFlow-Tenant = %q, want %q", got, tenant)
			}
			out, stderr, code = cli(t, env, "token", "list", "--tenant", tenant, "--output", "json")
			if code != 0 {
				t.Fatalf("token list: exit %d: %s", code, stderr)
			}
			var toks []map[string]any
			if err := json.Unmarshal([]byte(out), &toks); err != nil || len(toks) != 1 {
				t.Fatalf("token list json: %v %q", err, out)
			}
			for _, k := range []string{"id", "name", "prefix", "created", "expiresAt", "lastUsedAt"} {
				if _, ok := toks[0][k]; !ok {
					t.Errorf("token list json lacks %q: %v", k, toks[0])
				}
			}
			if strings.Contains(out, tok) || strings.Contains(out, tok[5:]) {
				t.Fatal("token list shows the secret")
			}
			id := toks[0]["id"].(string)
			if _, stderr, code := cli(t, env, "token", "revoke", "--tenant", tenant, id); code != 0 {
				t.Fatalf("token revoke: %d %s", code, stderr)
			}
			resp, body = scimReq(t, "GET", base+"/Users", tok, "")
			if resp.StatusCode != 401 || !strings.Contains(string(body), "revoked") {
				t.Fatalf("revoked token: %d %s", resp.StatusCode, body)
			}
			if _, _, code := cli(t, env, "token", "revoke", "--tenant", "other", id); code == 0 {
				t.Fatal("revoking another tenant's token id succeeded")
			}
			if strings.Contains(d.settledLog(), tok) {
				t.Fatal("the token secret appears in the server log")
			}
		})
	}
}

// TestSIGTERMDrains starts a request whose body is still being sent, sends
// SIGTERM, finishes the body, and expects the request to complete and the
// process to exit 0.
func TestSIGTERMDrains(t *testing.T) {
	dataDir := t.TempDir()
	env := []string{"AXONFLOW_SYNC_DATA_DIR=" + dataDir}
	out, stderr, code := cli(t, env, "token", "create", "--tenant", "acme")
	if code != 0 {
		t.Fatalf("token create: %d %s", code, stderr)
	}
	tok := strings.TrimSpace(out)
	d := startServe(t, env)

	conn, err := net.Dial("tcp", d.api)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	body := fmt.Sprintf(userBody, "drain@example.com", "drain@example.com")
	head := fmt.Sprintf("POST /scim/v2/Users HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\nContent-Type: application/scim+json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n", d.api, tok, len(body))
	if _, err := io.WriteString(conn, head+body[:10]); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond) // the server is now reading the body
	if err := d.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	if _, err := io.WriteString(conn, body[10:]); err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	status, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil || !strings.Contains(status, "201") {
		t.Fatalf("in-flight request during shutdown: %q %v\nlog:\n%s", status, err, d.stderr.String())
	}
	select {
	case err := <-d.done:
		if err != nil {
			t.Fatalf("serve exited with %v after SIGTERM; log:\n%s", err, d.stderr.String())
		}
		d.done <- nil // for the cleanup
	case <-time.After(15 * time.Second):
		t.Fatal("serve did not exit after SIGTERM")
	}
	// New connections are refused after shutdown.
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if c, err := (&net.Dialer{}).DialContext(ctx, "tcp", d.api); err == nil {
		c.Close()
		t.Fatal("listener still accepting after shutdown")
	}
}

func TestReadyzFollowsStore(t *testing.T) {
	srv := testredis.Start(t)
	d := startServe(t, []string{"AXONFLOW_SYNC_REDIS_URL=" + srv.URL(), "AXONFLOW_SYNC_REDIS_TIMEOUT=500ms"})
	get := func() int {
		resp, err := http.Get("http://" + d.admin + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if c := get(); c != 200 {
		t.Fatalf("readyz with Redis up: %d", c)
	}
	srv.Stop()
	if c := get(); c != 503 {
		t.Fatalf("readyz with Redis down: %d, want 503", c)
	}
	resp, err := http.Get("http://" + d.admin + "/healthz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("healthz with Redis down: %v %v (process is up: want 200)", resp, err)
	}
	resp.Body.Close()
}

func TestHealthcheckAndMetrics(t *testing.T) {
	env := []string{"AXONFLOW_SYNC_DATA_DIR=" + t.TempDir()}
	out, _, _ := cli(t, env, "token", "create", "--tenant", "acme")
	tok := strings.TrimSpace(out)
	d := startServe(t, env)
	_, port, _ := net.SplitHostPort(d.admin)
	if out, stderr, code := cli(t, append(env, "AXONFLOW_SYNC_ADMIN_LISTEN=0.0.0.0:"+port), "healthcheck"); code != 0 {
		t.Fatalf("healthcheck against a running serve: exit %d %s %s", code, out, stderr)
	}
	if _, _, code := cli(t, append(env, "AXONFLOW_SYNC_ADMIN_LISTEN="+freeAddr(t)), "healthcheck", "--timeout", "1s"); code != 1 {
		t.Fatalf("healthcheck with nothing listening: exit %d, want 1", code)
	}
	scimReq(t, "GET", "http://"+d.api+"/scim/v2/Users", tok, "")
	scimReq(t, "GET", "http://"+d.api+"/scim/v2/Users", "scim_wrong", "")
	resp, err := http.Get("http://" + d.admin + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		`axonflow_scim_requests_total{method="GET",resource="Users",status="200",tenant="acme"} 1`,
		`axonflow_scim_auth_failures_total{reason="unknown"} 1`,
		`axonflow_scim_request_duration_seconds_bucket`,
		`go_goroutines`,
	} {
		if !strings.Contains(string(b), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

// TestServeRoutesEverythingThroughSCIM checks the real listener: slash
// variants reach the SCIM handler (no 307 from an outer mux) and unknown
// paths get a SCIM error body.
func TestServeRoutesEverythingThroughSCIM(t *testing.T) {
	env := []string{"AXONFLOW_SYNC_DATA_DIR=" + t.TempDir()}
	out, _, _ := cli(t, env, "token", "create", "--tenant", "acme")
	tok := strings.TrimSpace(out)
	d := startServe(t, env)
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, p := range []string{"/scim/v2//Users", "/scim/v2/Users/", "/scim/v2/Users"} {
		req, _ := http.NewRequest("GET", "http://"+d.api+p, nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("GET %s: %d, want 200", p, resp.StatusCode)
		}
	}
	resp, body := scimReq(t, "GET", "http://"+d.api+"/scim/v1/Users", tok, "")
	if resp.StatusCode != 404 || !strings.Contains(string(body), "urn:ietf:params:scim:api:messages:2.0:Error") {
		t.Errorf("GET /scim/v1/Users: %d %s, want a SCIM 404", resp.StatusCode, body)
	}
}

// TestRevocationSeenByEveryReplica: two serve processes share one Redis and
// keep a per-process token cache invalidated by pub/sub. A token used on
// both (so answered from their caches: no Redis read for it any more) and
// revoked through the CLI, or through one replica's admin API, fails on both
// within a second. Then Redis restarts (empty): a token created and revoked
// right after the restart fails on both within a second, and so does one
// revoked once both have resubscribed and cached it again.
func TestRevocationSeenByEveryReplica(t *testing.T) {
	srv := testredis.Start(t)
	const adminToken = "adm1n-Secret-For-Revocation-Test-0123456789XYZ"
	env := []string{"AXONFLOW_SYNC_REDIS_URL=" + srv.URL(), "AXONFLOW_SYNC_ADMIN_TOKEN=" + adminToken}
	tenant := fmt.Sprintf("replicas-%d", time.Now().UnixNano())
	a, b := startServe(t, env), startServe(t, env)
	replicas := []*daemon{a, b}
	create := func() (secret, id string) {
		t.Helper()
		out, stderr, code := cli(t, env, "token", "create", "--tenant", tenant)
		if code != 0 {
			t.Fatalf("token create: %s", stderr)
		}
		secret = strings.TrimSpace(out)
		out, _, _ = cli(t, env, "token", "list", "--tenant", tenant, "--output", "json")
		var toks []map[string]any
		if err := json.Unmarshal([]byte(out), &toks); err != nil || len(toks) == 0 {
			t.Fatalf("token list: %v %s", err, out)
		}
		return secret, toks[len(toks)-1]["id"].(string)
	}
	get := func(d *daemon, tok string) int {
		resp, _ := scimReq(t, "GET", "http://"+d.api+"/scim/v2/Users?count=1", tok, "")
		return resp.StatusCode
	}
	// cached waits until tok authenticates on d without reading its record
	// from Redis (HMGET, counted by INFO commandstats; listing an empty
	// tenant makes no other HMGET).
	cached := func(d *daemon, tok string) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			before := hmgets(t, srv.Addr())
			if code := get(d, tok); code != 200 {
				t.Fatalf("replica %s: %d before revocation", d.api, code)
			}
			if hmgets(t, srv.Addr()) == before {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("replica %s never answered the token from its cache", d.api)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	refusedWithin := func(what, tok string) {
		t.Helper()
		start := time.Now()
		for _, d := range replicas {
			for get(d, tok) != 401 {
				if time.Since(start) > time.Second {
					t.Fatalf("%s: replica %s still accepts the revoked token after 1 s", what, d.api)
				}
				time.Sleep(20 * time.Millisecond)
			}
		}
	}
	revokeCLI := func(id string) {
		t.Helper()
		if _, stderr, code := cli(t, env, "token", "revoke", "--tenant", tenant, id); code != 0 {
			t.Fatalf("revoke: %s", stderr)
		}
	}

	tok, id := create()
	cached(a, tok)
	cached(b, tok)
	revokeCLI(id)
	refusedWithin("CLI revoke", tok)

	tok, id = create()
	cached(a, tok)
	cached(b, tok)
	req, _ := http.NewRequest("POST", "http://"+a.admin+"/admin/v1/tenants/"+tenant+"/tokens/"+id+"/revoke", nil)
	req.Header.Set("Authorization", "Bearer "+adminToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("admin API revoke: %d", resp.StatusCode)
	}
	refusedWithin("admin API revoke on replica A", tok)

	// Redis restarts empty; a token cached before is gone on both.
	tok, _ = create()
	cached(a, tok)
	cached(b, tok)
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	refusedWithin("token lost with Redis's data", tok)
	tok, id = create()
	for _, d := range replicas {
		if code := get(d, tok); code != 200 {
			t.Fatalf("replica %s right after the restart: %d", d.api, code)
		}
	}
	revokeCLI(id)
	refusedWithin("revoked right after the restart", tok)

	tok, id = create()
	cached(a, tok)
	cached(b, tok)
	revokeCLI(id)
	refusedWithin("revoked once resubscribed", tok)
}

// hmgets returns how many HMGET commands the Redis at addr has run
// (INFO commandstats).
func hmgets(t *testing.T, addr string) int64 {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := c.Write([]byte("*2\r\n$4\r\nINFO\r\n$12\r\ncommandstats\r\n")); err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(c)
	head, err := r.ReadString('\n')
	if err != nil || !strings.HasPrefix(head, "$") {
		t.Fatalf("INFO: %q %v", head, err)
	}
	n, _ := strconv.Atoi(strings.TrimSpace(head[1:]))
	body := make([]byte, n+2)
	if _, err := io.ReadFull(r, body); err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(body), "\n") {
		if rest, ok := strings.CutPrefix(line, "cmdstat_hmget:calls="); ok {
			v, _, _ := strings.Cut(rest, ",")
			calls, _ := strconv.ParseInt(v, 10, 64)
			return calls
		}
	}
	return 0
}

// TestCommandUsage: a flag error in a command with flags of its own (token
// create, reconcile) prints those flags with their help and only the names
// of the configuration flags every command takes, not their whole help
// again; serve, which has none of its own, prints them all.
func TestCommandUsage(t *testing.T) {
	env := []string{"AXONFLOW_SYNC_DATA_DIR=" + t.TempDir()}
	for _, args := range [][]string{{"token", "create", "--bogus"}, {"reconcile", "--bogus"}} {
		_, stderr, code := cli(t, env, args...)
		if code == 0 {
			t.Errorf("%v: exit 0", args)
		}
		for _, want := range []string{"flag provided but not defined: -bogus", "Usage of " + args[0], "-tenant", "\n    \ttenant id",
			"Configuration flags, as for every command", " -data-dir "} {
			if !strings.Contains(stderr, want) {
				t.Errorf("%v: stderr lacks %q:\n%s", args, want, stderr)
			}
		}
		if strings.Contains(stderr, "directory of the embedded SQLite store") {
			t.Errorf("%v: stderr repeats the configuration flags' help:\n%s", args, stderr)
		}
	}
	if _, stderr, _ := cli(t, env, "serve", "--bogus"); !strings.Contains(stderr, "directory of the embedded SQLite store") {
		t.Errorf("serve --bogus: stderr lacks the configuration flags' help:\n%s", stderr)
	}
}
