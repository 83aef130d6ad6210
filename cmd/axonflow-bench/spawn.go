package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// serverModule is the axonflow-sync module; serverPkg is the package of it
// spawn mode builds.
const (
	serverModule = "github.com/axonflow/axonflow-sync"
	serverPkg    = serverModule + "/cmd/axonflow-sync"
)

// child is a process spawn mode started; stop ends it.
type child struct {
	name    string
	cmd     *exec.Cmd
	done    chan struct{}
	out     *tailBuffer // its output, unless it writes to logFile
	logFile string
}

// startChild starts cmd. Its output goes to logFile when given (a file
// the child writes itself, so the benchmark spends no CPU copying a busy
// server's request log), else into a small buffer for error messages.
// It runs on cpus when given (see startPinned).
func startChild(name string, cmd *exec.Cmd, logFile string, cpus []int) (*child, error) {
	c := &child{name: name, cmd: cmd, done: make(chan struct{}), out: &tailBuffer{max: 16 << 10}, logFile: logFile}
	if logFile != "" {
		f, err := os.Create(logFile)
		if err != nil {
			return nil, err
		}
		defer f.Close() // the child has its own descriptor
		cmd.Stdout, cmd.Stderr = f, f
	} else {
		cmd.Stdout, cmd.Stderr = c.out, c.out
	}
	// The kernel kills the child if the benchmark dies, so an interrupted
	// run leaves no redis-server or server behind.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := startPinned(cmd, cpus, cmd.Start); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	go func() { _ = cmd.Wait(); close(c.done) }()
	return c, nil
}

// output is the end of the child's output.
func (c *child) output() string {
	if c.logFile == "" {
		return c.out.String()
	}
	b, _ := os.ReadFile(c.logFile)
	t := &tailBuffer{max: 4 << 10}
	t.Write(b)
	return t.String()
}

func (c *child) pid() int { return c.cmd.Process.Pid }

func (c *child) exited() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// stop sends SIGTERM, waits up to grace, then SIGKILLs.
func (c *child) stop(grace time.Duration) {
	if c == nil || c.exited() {
		return
	}
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.done:
	case <-time.After(grace):
		_ = c.cmd.Process.Kill()
		<-c.done
	}
}

// tailBuffer keeps the last max bytes written (a child's output, for error
// messages).
type tailBuffer struct {
	mu  sync.Mutex
	max int
	b   []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if len(t.b) > t.max {
		t.b = t.b[len(t.b)-t.max:]
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return strings.TrimSpace(string(t.b))
}

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// spawned is what spawn mode started for one run.
type spawned struct {
	dir      string
	redis    *child // nil on the embedded store
	server   *child
	redisURL string // "" on the embedded store
	dataDir  string // the embedded store's data directory
	scimURL  string
	token    string
	tenant   string
	pprofURL string // overlay profiler, when --cpuprofile
	layout   cpuLayout
}

func (s *spawned) close() {
	if s == nil {
		return
	}
	s.server.stop(30 * time.Second)
	s.redis.stop(5 * time.Second)
	if s.dir != "" {
		_ = os.RemoveAll(s.dir)
	}
}

// pprofOverlay is added to package main of cmd/axonflow-sync at build time
// (go build -overlay) when --cpuprofile is given, so the profiled server is
// the real binary plus this file; the repository is not changed. It serves
// POST /start?file=F and POST /stop on the loopback address in
// AXONFLOW_BENCH_PPROF_LISTEN and does nothing when that is unset.
const pprofOverlay = `package main

import (
	"net/http"
	"os"
	"runtime/pprof"
	"sync"
)

func init() {
	addr := os.Getenv("AXONFLOW_BENCH_PPROF_LISTEN")
	if addr == "" {
		return
	}
	var mu sync.Mutex
	var f *os.File
	mux := http.NewServeMux()
	mux.HandleFunc("POST /start", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if f != nil {
			http.Error(w, "already profiling", http.StatusConflict)
			return
		}
		out, err := os.Create(r.URL.Query().Get("file"))
		if err == nil {
			if err = pprof.StartCPUProfile(out); err != nil {
				out.Close()
			}
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		f = out
	})
	mux.HandleFunc("POST /stop", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if f == nil {
			http.Error(w, "not profiling", http.StatusConflict)
			return
		}
		pprof.StopCPUProfile()
		err := f.Close()
		f = nil
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	})
	go http.ListenAndServe(addr, mux)
}
`

// buildServer builds cmd/axonflow-sync from the module in src into dir,
// with the profiling overlay when profile is set.
func buildServer(ctx context.Context, src, dir string, profile bool, log io.Writer) (string, error) {
	pkgDir, err := goList(ctx, src, serverPkg)
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "axonflow-sync")
	args := []string{"build", "-o", bin}
	if profile {
		file := filepath.Join(dir, "zz_axonflow_bench_pprof.go")
		if err := os.WriteFile(file, []byte(pprofOverlay), 0o600); err != nil {
			return "", err
		}
		ov, _ := json.Marshal(map[string]any{"Replace": map[string]string{filepath.Join(pkgDir, "zz_axonflow_bench_pprof.go"): file}})
		ovFile := filepath.Join(dir, "overlay.json")
		if err := os.WriteFile(ovFile, ov, 0o600); err != nil {
			return "", err
		}
		args = append(args, "-overlay", ovFile)
	}
	args = append(args, serverPkg)
	fmt.Fprintf(log, "axonflow-bench: go %s (in %s)\n", strings.Join(args, " "), src)
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = src
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("building the server: %v\n%s", err, out.String())
	}
	return bin, nil
}

func goList(ctx context.Context, src, pkg string) (string, error) {
	cmd := exec.CommandContext(ctx, "go", "list", "-f", "{{.Dir}}", pkg)
	cmd.Dir = src
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return "", fmt.Errorf("go list %s in %s: %v: %s (run from the axonflow-sync module or give --server-src)", pkg, src, err, ee.Stderr)
		}
		return "", fmt.Errorf("go list %s: %w", pkg, err)
	}
	return strings.TrimSpace(string(out)), nil
}

// serverEnv is the environment of the spawned axonflow-sync: the caller's,
// without any AXONFLOW_SYNC_* setting (a config file or listen address set
// in the shell must not leak in), plus extra.
func serverEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AXONFLOW_SYNC_") && !strings.HasPrefix(kv, "AXONFLOW_BENCH_") {
			env = append(env, kv)
		}
	}
	return append(env, extra...)
}

// spawn starts a fresh store (st: storeRedis, a redis-server without
// persistence; storeEmbedded, a temporary data directory) and binary's
// serve on it with a fresh tenant token, as the options say.
func spawn(ctx context.Context, o options, st, binary string, log io.Writer) (s *spawned, err error) {
	s = &spawned{tenant: "bench"}
	defer func() {
		if err != nil {
			s.close()
			s = nil
		}
	}()
	if s.dir, err = os.MkdirTemp("", "axonflow-bench-run-"); err != nil {
		return s, err
	}
	if o.pin {
		cpus, err := allowedCPUs()
		if err != nil {
			return s, err
		}
		if l, ok := planLayout(cpus, st == storeRedis); ok {
			s.layout = l
		} else {
			fmt.Fprintf(log, "axonflow-bench: --pin: only %d CPU, nothing to pin\n", len(cpus))
		}
	}

	// The store: the environment of every axonflow-sync command below.
	var storeEnv string
	switch st {
	case storeRedis:
		if s.redisURL, err = s.startRedis(ctx, log); err != nil {
			return s, err
		}
		storeEnv = "AXONFLOW_SYNC_REDIS_URL=" + s.redisURL
	case storeEmbedded:
		s.dataDir = filepath.Join(s.dir, "data")
		if err := os.Mkdir(s.dataDir, 0o700); err != nil {
			return s, err
		}
		storeEnv = "AXONFLOW_SYNC_DATA_DIR=" + s.dataDir
		fmt.Fprintf(log, "axonflow-bench: embedded store in %s\n", s.dataDir)
	default:
		return s, fmt.Errorf("unknown store %q", st)
	}

	// The tenant's token, through the CLI as an operator would (the
	// embedded store allows the second process, serve, beside it).
	tok := exec.CommandContext(ctx, binary, "token", "create", "--tenant", s.tenant, "--name", "axonflow-bench")
	tok.Env = serverEnv(storeEnv)
	var stderr bytes.Buffer
	tok.Stderr = &stderr
	out, err := tok.Output()
	if err != nil {
		return s, fmt.Errorf("axonflow-sync token create: %v: %s", err, stderr.String())
	}
	s.token = strings.TrimSpace(string(out))

	scimPort, err := freePort()
	if err != nil {
		return s, err
	}
	adminPort, err := freePort()
	if err != nil {
		return s, err
	}
	if st == storeRedis && o.serverRedisQuery != "" {
		storeEnv += "?" + o.serverRedisQuery
	}
	env := serverEnv(
		storeEnv,
		"AXONFLOW_SYNC_LISTEN=127.0.0.1:"+strconv.Itoa(scimPort),
		"AXONFLOW_SYNC_ADMIN_LISTEN=127.0.0.1:"+strconv.Itoa(adminPort),
		"AXONFLOW_SYNC_LOG_LEVEL="+o.serverLogLevel,
		"AXONFLOW_SYNC_LOG_FORMAT=json",
	)
	if o.cpuprofile != "" {
		pp, err := freePort()
		if err != nil {
			return s, err
		}
		env = append(env, "AXONFLOW_BENCH_PPROF_LISTEN=127.0.0.1:"+strconv.Itoa(pp))
		s.pprofURL = "http://127.0.0.1:" + strconv.Itoa(pp)
	}
	cmd := exec.Command(binary, "serve")
	cmd.Env = env
	logFile := o.serverLog
	if logFile == "" {
		logFile = filepath.Join(s.dir, "server.log")
	}
	if s.server, err = startChild("axonflow-sync serve", cmd, logFile, s.layout.Server); err != nil {
		return s, err
	}
	ready := "http://127.0.0.1:" + strconv.Itoa(adminPort) + "/readyz"
	if err := waitFor(ctx, s.server, 30*time.Second, func() error {
		r, err := http.Get(ready)
		if err != nil {
			return err
		}
		r.Body.Close()
		if r.StatusCode != 200 {
			return fmt.Errorf("readyz %d", r.StatusCode)
		}
		return nil
	}); err != nil {
		return s, err
	}
	s.scimURL = "http://127.0.0.1:" + strconv.Itoa(scimPort) + "/scim/v2"
	fmt.Fprintf(log, "axonflow-bench: axonflow-sync serve pid %d at %s (%s store, tenant %q, log level %s)\n", s.server.pid(), s.scimURL, st, s.tenant, o.serverLogLevel)
	if len(s.layout.Server) > 0 {
		fmt.Fprintf(log, "axonflow-bench: CPU layout (--pin): %s\n", s.layout)
	}
	return s, nil
}

// startRedis starts redis-server from PATH on a free port, without
// persistence (the benchmark measures the server, not the disk), and
// returns its URL.
func (s *spawned) startRedis(ctx context.Context, log io.Writer) (string, error) {
	redisBin, err := exec.LookPath("redis-server")
	if err != nil {
		return "", errors.New("redis-server not found on PATH (Debian: apt-get install redis-server)")
	}
	port, err := freePort()
	if err != nil {
		return "", err
	}
	s.redis, err = startChild("redis-server", exec.Command(redisBin,
		"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--dir", s.dir,
		"--save", "", "--appendonly", "no", "--daemonize", "no", "--logfile", ""), "", s.layout.Redis)
	if err != nil {
		return "", err
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	if err := waitFor(ctx, s.redis, 10*time.Second, func() error {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
		}
		return err
	}); err != nil {
		return "", err
	}
	fmt.Fprintf(log, "axonflow-bench: redis-server pid %d on %s (no persistence)\n", s.redis.pid(), addr)
	return "redis://" + addr + "/0", nil
}

// waitFor polls ready until it succeeds, c exits or timeout passes.
func waitFor(ctx context.Context, c *child, timeout time.Duration, ready func() error) error {
	deadline := time.Now().Add(timeout)
	for {
		err := ready()
		if err == nil {
			return nil
		}
		if c.exited() {
			return fmt.Errorf("%s exited: %s", c.name, c.output())
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not ready after %v: %v: %s", c.name, timeout, err, c.output())
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// profiler takes one CPU profile of the server per phase.
type profiler interface {
	start(phase string) (file string, err error)
	stop() error
}

// overlayProfiler drives the profiling overlay of a spawned server.
type overlayProfiler struct {
	base, dir string
}

func (p *overlayProfiler) start(phase string) (string, error) {
	file, err := filepath.Abs(filepath.Join(p.dir, "server-"+sanitize(phase)+".pprof"))
	if err != nil {
		return "", err
	}
	return file, p.post("/start?file=" + url.QueryEscape(file))
}

func (p *overlayProfiler) stop() error { return p.post("/stop") }

func (p *overlayProfiler) post(path string) error {
	r, err := http.Post(p.base+path, "text/plain", nil)
	if err != nil {
		return err
	}
	defer r.Body.Close()
	if r.StatusCode != 200 {
		b, _ := io.ReadAll(r.Body)
		return fmt.Errorf("%s: %d %s", path, r.StatusCode, bytes.TrimSpace(b))
	}
	return nil
}

// sanitize makes a phase name a file name: "member-add (100000)" →
// "member-add_100000_".
func sanitize(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.' {
			return r
		}
		return '_'
	}, s)
}
