// Package testredis starts throw-away redis-server processes for tests. It is
// for tests only: import it from _test.go files (store/redisstore,
// scimserver, sync, ...), never from production code.
//
// Two entry points:
//
//   - URL returns the URL of a Redis shared by the whole test binary. If the
//     environment variable AXONFLOW_SYNC_TEST_REDIS_URL is set (for example
//     "redis://127.0.0.1:6379/15"), that URL is returned as is and nothing is
//     started; tests must then isolate themselves by unique tenant ids (or the
//     DB number in the URL) because the data outlives the run. Otherwise the
//     first call starts one redis-server (sync.Once) on a free loopback port
//     with a temporary directory, no RDB snapshots and no AOF
//     (--save "" --appendonly no), and waits until it answers PING.
//   - Start starts a private server for one test, for tests that stop and
//     restart it (outage tests). It is stopped by t.Cleanup.
//   - StartCluster starts a private Redis Cluster of N masters (private
//     servers with cluster-enabled yes, slots split evenly, joined with
//     CLUSTER MEET from Go, so redis-cli is not needed) and waits for
//     cluster_state:ok; StartSentinel starts a Sentinel (redis-server
//     --sentinel) monitoring a private server.
//
// The shared server is stopped when the test binary exits if the package
// under test routes its TestMain through Main:
//
//	func TestMain(m *testing.M) { os.Exit(testredis.Main(m)) }
//
// On Linux every redis-server started here also gets SIGKILL from the kernel
// when the test binary dies (Pdeathsig), so no redis-server outlives the test
// binary even without Main or after a panic or `go test -timeout` kill; Main
// additionally stops it cleanly and removes its temporary directory.
//
// If redis-server is not on PATH, URL and Start fail the test with a message
// saying to install the Debian package redis-server.
package testredis

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// EnvURL is the environment variable that, when set, makes URL return its
// value instead of starting a redis-server.
const EnvURL = "AXONFLOW_SYNC_TEST_REDIS_URL"

// startTimeout bounds how long a redis-server may take to answer PING.
const startTimeout = 10 * time.Second

var shared struct {
	once sync.Once
	mu   sync.Mutex
	srv  *Server
	err  error
}

// URL returns a redis:// URL for tests: the value of
// AXONFLOW_SYNC_TEST_REDIS_URL if set, else the URL of a redis-server shared
// by every test of this test binary (started on first use). It fails the test
// (t.Fatal) if the server cannot be started.
func URL(t testing.TB) string {
	t.Helper()
	if u := os.Getenv(EnvURL); u != "" {
		return u
	}
	shared.once.Do(func() {
		dir, err := os.MkdirTemp("", "testredis-shared-")
		if err != nil {
			shared.err = err
			return
		}
		s, err := start(dir, nil)
		shared.mu.Lock()
		shared.srv, shared.err = s, err
		shared.mu.Unlock()
		if err != nil {
			os.RemoveAll(dir)
		}
	})
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if shared.err != nil {
		t.Fatalf("testredis: %v", shared.err)
	}
	return shared.srv.URL()
}

// Main runs the tests of m and then stops the shared server started by URL
// (if any), returning m.Run's exit code. Use it from TestMain:
//
//	func TestMain(m *testing.M) { os.Exit(testredis.Main(m)) }
func Main(m *testing.M) int {
	code := m.Run()
	StopShared()
	return code
}

// StopShared stops the shared server started by URL, if any, and removes its
// directory. Main calls it; call it yourself from a custom TestMain.
func StopShared() {
	shared.mu.Lock()
	s := shared.srv
	shared.srv = nil
	shared.mu.Unlock()
	if s != nil {
		s.Stop()
		os.RemoveAll(s.dir)
	}
}

// Server is one redis-server process started by Start. Its methods are safe
// for concurrent use.
type Server struct {
	mu   sync.Mutex
	dir  string
	port int
	args []string
	conf string // sentinel mode: the sentinel config file (StartSentinel)
	cmd  *exec.Cmd
	done chan struct{} // closed when cmd has exited
}

// Start starts a private redis-server for the calling test on a free loopback
// port with a temporary directory and --save "" --appendonly no; args are
// extra redis-server arguments (e.g. "--maxmemory", "10mb"). It waits until
// the server answers PING and registers Stop with t.Cleanup. It fails the test
// if redis-server is missing or does not start within 10 s.
func Start(t testing.TB, args ...string) *Server {
	t.Helper()
	s, err := start(t.TempDir(), args)
	if err != nil {
		t.Fatalf("testredis: %v", err)
	}
	t.Cleanup(s.Stop)
	return s
}

// start picks a free port and starts redis-server there, retrying a few
// times in case another process grabbed the port in between.
func start(dir string, args []string) (*Server, error) {
	return startConf(dir, args, "")
}

// startConf is start with a sentinel config file (conf != "": sentinel mode).
func startConf(dir string, args []string, conf string) (*Server, error) {
	if _, err := exec.LookPath("redis-server"); err != nil {
		return nil, errors.New("redis-server not found on PATH; install the Debian package redis-server (apt-get install redis-server) or set " + EnvURL)
	}
	var lastErr error
	for range 5 {
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		s := &Server{dir: dir, port: port, args: args, conf: conf}
		if lastErr = s.launch(); lastErr == nil {
			return s, nil
		}
	}
	return nil, lastErr
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// launch starts the process on s.port and waits for PING. s.mu must not be
// held by another launch/Stop concurrently (callers lock).
func (s *Server) launch() error {
	argv := []string{
		"--port", strconv.Itoa(s.port),
		"--bind", "127.0.0.1",
		"--dir", s.dir,
		"--save", "",
		"--appendonly", "no",
		"--daemonize", "no",
		"--logfile", "",
		"--databases", "16",
	}
	if s.conf != "" {
		// Sentinel mode: the config file first; data settings do not apply.
		argv = []string{s.conf, "--sentinel",
			"--port", strconv.Itoa(s.port),
			"--bind", "127.0.0.1",
			"--dir", s.dir,
			"--daemonize", "no",
			"--logfile", "",
		}
	}
	argv = append(argv, s.args...)
	cmd := exec.Command("redis-server", argv...)
	log := &bytes.Buffer{}
	cmd.Stdout = &lockedWriter{b: log}
	cmd.Stderr = cmd.Stdout
	setDeathSignal(cmd)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start redis-server: %w", err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	deadline := time.Now().Add(startTimeout)
	for {
		if err := ping(s.addr(), 200*time.Millisecond); err == nil {
			break
		}
		select {
		case <-done:
			return fmt.Errorf("redis-server on port %d exited: %s", s.port, strings.TrimSpace(cmd.Stdout.(*lockedWriter).String()))
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			<-done
			return fmt.Errorf("redis-server on port %d did not answer PING within %v: %s", s.port, startTimeout, cmd.Stdout.(*lockedWriter).String())
		}
	}
	s.cmd, s.done = cmd, done
	return nil
}

// ping sends one RESP PING to addr and expects +PONG.
func ping(addr string, timeout time.Duration) error {
	c, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(timeout))
	if _, err := c.Write([]byte("*1\r\n$4\r\nPING\r\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return err
	}
	if !strings.HasPrefix(line, "+PONG") {
		return fmt.Errorf("unexpected PING reply %q", line)
	}
	return nil
}

// Addr returns the server's "127.0.0.1:port" address; it stays the same
// across Stop and Restart.
func (s *Server) Addr() string { return s.addr() }

func (s *Server) addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)) }

// URL returns "redis://127.0.0.1:port/0"; it stays the same across Stop and
// Restart.
func (s *Server) URL() string { return "redis://" + s.addr() + "/0" }

// Stop stops the server (SIGTERM, then SIGKILL after 5 s) and waits for the
// process to exit. Stopping a stopped server does nothing. Data is lost
// (nothing is persisted).
func (s *Server) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stopLocked()
}

func (s *Server) stopLocked() {
	if s.cmd == nil {
		return
	}
	resume(s.cmd.Process) // a paused server cannot act on SIGINT
	s.cmd.Process.Signal(os.Interrupt)
	select {
	case <-s.done:
	case <-time.After(5 * time.Second):
		s.cmd.Process.Kill()
		<-s.done
	}
	s.cmd, s.done = nil, nil
}

// Pause freezes the server process (SIGSTOP) without closing its socket:
// connections succeed or hang but nothing is answered, as with an overloaded
// or partitioned server. Resume undoes it; Stop resumes before stopping.
// Neither does anything when the server is stopped. On systems without
// SIGSTOP they fail the test.
func (s *Server) Pause(t testing.TB) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		if err := pause(s.cmd.Process); err != nil {
			t.Fatalf("testredis: pause: %v", err)
		}
	}
}

// Resume continues a server frozen by Pause (SIGCONT).
func (s *Server) Resume(t testing.TB) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		if err := resume(s.cmd.Process); err != nil {
			t.Fatalf("testredis: resume: %v", err)
		}
	}
}

// Restart stops the server if it runs and starts it again on the same port
// (so existing clients reconnect to the same URL), with an empty data set.
// It returns an error if the server does not come back within 10 s (for
// example because another process took the port meanwhile).
func (s *Server) Restart() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stopLocked()
	var err error
	// The port was just released; a few retries cover TIME_WAIT hiccups.
	for range 3 {
		if err = s.launch(); err == nil {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return err
}

// Log returns what the server wrote to stdout/stderr since it was last
// started (useful in failure messages).
func (s *Server) Log() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return ""
	}
	return s.cmd.Stdout.(*lockedWriter).String()
}

type lockedWriter struct {
	mu sync.Mutex
	b  *bytes.Buffer
}

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (w *lockedWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}
