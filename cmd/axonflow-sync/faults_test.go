package main

// Shared helpers of the fault tests (issue 6): faults_sigkill_test.go,
// faults_reconcile_test.go, faults_model_test.go and faults_badinput_test.go.
// Every fault test is bounded in operations and time and runs in the normal
// suite (CI); each stays well under 30 s on the shared 2-core machine.

import (
	"bufio"
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
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/axonflow/axonflow-sync/internal/testredis"
	"github.com/axonflow/axonflow-sync/store"
	"github.com/axonflow/axonflow-sync/store/redisstore"
	"github.com/axonflow/axonflow-sync/store/sqlitestore"
)

// overlayBins holds the binaries overlayBinary built, by name.
var overlayBins struct {
	mu   sync.Mutex
	bins map[string]*overlayBin
}

type overlayBin struct {
	once sync.Once
	path string
	err  error
}

// overlayBinary builds, once per test binary and name, axonflow-sync with
// an extra source file (go build -overlay) whose init function runs stmts,
// statements of package main that set its package variables (for example
// "readTimeout = 3 * time.Second"; package time is imported). It returns the
// binary's path, next to the test's regular binary.
func overlayBinary(t *testing.T, name, stmts string) string {
	t.Helper()
	return overlaySource(t, name, "package main\n\nimport \"time\"\n\nvar _ = time.Second\n\nfunc init() {\n\t"+stmts+"\n}\n")
}

// overlaySource builds, once per test binary and name, axonflow-sync with
// code, a whole extra source file of package main, and returns the binary's
// path, next to the test's regular binary.
func overlaySource(t *testing.T, name, code string) string {
	t.Helper()
	overlayBins.mu.Lock()
	if overlayBins.bins == nil {
		overlayBins.bins = map[string]*overlayBin{}
	}
	b := overlayBins.bins[name]
	if b == nil {
		b = &overlayBin{}
		overlayBins.bins[name] = b
	}
	overlayBins.mu.Unlock()
	b.once.Do(func() {
		dir := filepath.Dir(binary)
		pkg, err := os.Getwd()
		if err != nil {
			b.err = err
			return
		}
		file := "zz_overlay_" + name + ".go"
		src := filepath.Join(dir, file)
		overlay, _ := json.Marshal(map[string]any{"Replace": map[string]string{filepath.Join(pkg, file): src}})
		ovFile := filepath.Join(dir, "overlay-"+name+".json")
		if err := os.WriteFile(src, []byte(code), 0o600); err != nil {
			b.err = err
			return
		}
		if err := os.WriteFile(ovFile, overlay, 0o600); err != nil {
			b.err = err
			return
		}
		b.path = filepath.Join(dir, "axonflow-sync-"+name)
		if out, err := exec.Command("go", "build", "-overlay", ovFile, "-o", b.path, ".").CombinedOutput(); err != nil {
			b.err = fmt.Errorf("go build -overlay (%s): %v\n%s", name, err, out)
		}
	})
	if b.err != nil {
		t.Fatal(b.err)
	}
	return b.path
}

// storeBackend is one store the binary can run on, plus a way for the test
// process to open the same store (to check it and run Verify).
type storeBackend struct {
	name string
	env  []string // AXONFLOW_SYNC_REDIS_URL or AXONFLOW_SYNC_DATA_DIR
	open func(t *testing.T) store.State
}

// embeddedBackend is the embedded SQLite store in a fresh directory.
func embeddedBackend(t *testing.T) storeBackend {
	dir := t.TempDir()
	return storeBackend{name: "embedded", env: []string{"AXONFLOW_SYNC_DATA_DIR=" + dir},
		open: func(t *testing.T) store.State {
			t.Helper()
			st, err := sqlitestore.Open(context.Background(), filepath.Join(dir, DBFile), zerolog.Nop())
			if err != nil {
				t.Fatalf("opening the embedded store: %v", err)
			}
			t.Cleanup(func() { st.Close() })
			return st
		}}
}

// redisBackend is the Redis store at url.
func redisBackend(url string) storeBackend {
	return storeBackend{name: "redis", env: []string{"AXONFLOW_SYNC_REDIS_URL=" + url},
		open: func(t *testing.T) store.State {
			t.Helper()
			st, err := redisstore.Open(context.Background(), url, redisstore.Options{})
			if err != nil {
				t.Fatalf("opening the Redis store: %v", err)
			}
			t.Cleanup(func() { st.Close() })
			return st
		}}
}

// verifyClean runs `axonflow-sync store verify --tenant ID` on the store
// env selects and fails the test unless it exits 0 having found nothing.
func verifyClean(t *testing.T, env []string, tenant string) {
	t.Helper()
	out, code := verifyJSON(t, env, "--tenant", tenant)
	if code != 0 || !out.Clean || out.Found != 0 || len(out.Tenants) != 1 {
		b, _ := json.MarshalIndent(out, "", "  ")
		t.Errorf("store verify --tenant %s: exit %d\n%s", tenant, code, b)
	}
}

// killRedis SIGKILLs the redis-server of srv (no shutdown, no final AOF
// rewrite or fsync: a crash) and restarts it on the same port and directory,
// so it loads whatever its append-only file holds.
func killRedis(t *testing.T, srv *testredis.Server) {
	t.Helper()
	pid, err := redisPID(srv.Addr())
	if err != nil {
		t.Fatalf("finding the redis-server pid: %v", err)
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatalf("SIGKILL redis-server %d: %v", pid, err)
	}
	// Wait until the port is closed, then restart from the AOF.
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, err := redisPID(srv.Addr()); err != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("redis-server still answers 5 s after SIGKILL")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := srv.Restart(); err != nil {
		t.Fatalf("restarting redis-server from its AOF: %v", err)
	}
}

// redisPID asks the Redis at addr for its process id (INFO server).
func redisPID(addr string) (int, error) {
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := io.WriteString(c, "*2\r\n$4\r\nINFO\r\n$6\r\nserver\r\n"); err != nil {
		return 0, err
	}
	rd := bufio.NewReader(c)
	head, err := rd.ReadString('\n')
	if err != nil {
		return 0, err
	}
	n, err := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(head, "$")))
	if err != nil || !strings.HasPrefix(head, "$") {
		return 0, fmt.Errorf("unexpected INFO reply %q", head)
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(rd, body); err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(body), "\r\n") {
		if v, ok := strings.CutPrefix(line, "process_id:"); ok {
			return strconv.Atoi(v)
		}
	}
	return 0, fmt.Errorf("no process_id in INFO server")
}

// scimClient talks to one serve process as one tenant.
type scimClient struct {
	base  string // http://host:port/scim/v2
	token string
	hc    *http.Client
}

func newSCIMClient(api, token string, conns int) *scimClient {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = conns
	return &scimClient{base: "http://" + api + "/scim/v2", token: token,
		hc: &http.Client{Transport: tr, Timeout: 10 * time.Second}}
}

// do sends one request; body "" sends none. It returns the status and the
// body, or the transport error (connection refused, reset, timeout).
func (c *scimClient) do(method, path, body string) (int, []byte, error) {
	req, err := http.NewRequest(method, c.base+path, strings.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	if body != "" {
		req.Header.Set("Content-Type", "application/scim+json; charset=utf-8")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, b, err
	}
	return resp.StatusCode, b, nil
}

// must sends a request that must answer want and decodes a JSON answer.
func (c *scimClient) must(t *testing.T, want int, method, path, body string) map[string]any {
	t.Helper()
	code, b, err := c.do(method, path, body)
	if err != nil || code != want {
		t.Fatalf("%s %s: %d %v %s (want %d)", method, path, code, err, b, want)
	}
	var m map[string]any
	if len(b) > 0 {
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("%s %s: not JSON: %v %s", method, path, err, b)
		}
	}
	return m
}

// Okta-shaped request bodies.

func oktaUserBody(userName, given, family string) string {
	return fmt.Sprintf(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":%q,`+
		`"name":{"givenName":%q,"familyName":%q},"emails":[{"primary":true,"value":%q,"type":"work"}],`+
		`"displayName":%q,"locale":"en-US","groups":[],"password":"Pa55-word!","active":true}`,
		userName, given, family, userName, given+" "+family)
}

func oktaGroupBody(displayName string) string {
	return fmt.Sprintf(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":%q,"members":[]}`, displayName)
}

const patchOpURN = `"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"]`

// oktaActiveBody is Okta's path-less deactivate/reactivate PATCH.
func oktaActiveBody(active bool) string {
	return fmt.Sprintf(`{%s,"Operations":[{"op":"replace","value":{"active":%t}}]}`, patchOpURN, active)
}

func oktaReplaceBody(path, value string) string {
	return fmt.Sprintf(`{%s,"Operations":[{"op":"replace","path":%q,"value":%q}]}`, patchOpURN, path, value)
}

func oktaAddMemberBody(uid, display string) string {
	return fmt.Sprintf(`{%s,"Operations":[{"op":"add","path":"members","value":[{"value":%q,"display":%q}]}]}`,
		patchOpURN, uid, display)
}

func oktaRemoveMemberBody(uid string) string {
	return fmt.Sprintf(`{%s,"Operations":[{"op":"remove","path":"members[value eq \"%s\"]"}]}`, patchOpURN, uid)
}

// listAll pages through GET path (Users or Groups) and returns every
// resource.
func (c *scimClient) listAll(t *testing.T, path string) []map[string]any {
	t.Helper()
	var all []map[string]any
	for start := 1; ; {
		m := c.must(t, 200, "GET", fmt.Sprintf("%s?startIndex=%d&count=1000", path, start), "")
		res, _ := m["Resources"].([]any)
		for _, r := range res {
			all = append(all, r.(map[string]any))
		}
		total := int(m["totalResults"].(float64))
		start += len(res)
		if len(res) == 0 || start > total {
			if len(all) != total {
				t.Fatalf("GET %s: paged %d resources, totalResults %d", path, len(all), total)
			}
			return all
		}
	}
}

// memberIDs returns the member ids of a rendered group.
func memberIDs(g map[string]any) map[string]int {
	out := map[string]int{}
	ms, _ := g["members"].([]any)
	for _, m := range ms {
		out[m.(map[string]any)["value"].(string)]++
	}
	return out
}
