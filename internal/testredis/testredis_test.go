package testredis

import (
	"os"
	"strconv"
	"strings"
	"testing"
)

func TestMain(m *testing.M) { os.Exit(Main(m)) }

func TestURLShared(t *testing.T) {
	u1 := URL(t)
	u2 := URL(t)
	if u1 != u2 {
		t.Fatalf("URL not shared: %q vs %q", u1, u2)
	}
	if os.Getenv(EnvURL) != "" {
		t.Skip("external Redis in use")
	}
	addr := strings.TrimSuffix(strings.TrimPrefix(u1, "redis://"), "/0")
	if err := ping(addr, 0x7fffffff); err != nil {
		t.Fatalf("shared server does not answer PING: %v", err)
	}
}

func TestStartStopRestart(t *testing.T) {
	s := Start(t)
	if err := ping(s.Addr(), 1e9); err != nil {
		t.Fatalf("PING after Start: %v", err)
	}
	if !strings.HasPrefix(s.URL(), "redis://127.0.0.1:") {
		t.Fatalf("URL = %q", s.URL())
	}
	s.Stop()
	if err := ping(s.Addr(), 2e8); err == nil {
		t.Fatal("PING succeeded after Stop")
	}
	s.Stop() // idempotent
	if err := s.Restart(); err != nil {
		t.Fatalf("Restart: %v", err)
	}
	if err := ping(s.Addr(), 1e9); err != nil {
		t.Fatalf("PING after Restart: %v", err)
	}
}

func TestStartArgs(t *testing.T) {
	s := Start(t, "--maxmemory", "10mb")
	if err := ping(s.Addr(), 1e9); err != nil {
		t.Fatal(err)
	}
	if s.Log() == "" {
		t.Log("no log output captured")
	}
}

func TestPauseResume(t *testing.T) {
	s := Start(t)
	s.Pause(t)
	if err := ping(s.Addr(), 2e8); err == nil {
		t.Fatal("PING answered while paused")
	}
	s.Resume(t)
	if err := ping(s.Addr(), 1e9); err != nil {
		t.Fatalf("PING after Resume: %v", err)
	}
	s.Pause(t) // Stop (via Cleanup) must cope with a paused server
}

func TestStartCluster(t *testing.T) {
	c := StartCluster(t, 3)
	if len(c.Addrs()) != 3 {
		t.Fatalf("Addrs = %v", c.Addrs())
	}
	for _, n := range c.Nodes {
		v, err := do(n.Addr(), "CLUSTER", "INFO")
		if err != nil || !strings.Contains(v.(string), "cluster_slots_assigned:16384") {
			t.Fatalf("CLUSTER INFO on %s: %v %v", n.Addr(), v, err)
		}
	}
	// Every node owns a share: a key lands on exactly one node, the others
	// redirect.
	moved := 0
	for _, n := range c.Nodes {
		if _, err := do(n.Addr(), "SET", "k", "v"); err != nil {
			if !strings.HasPrefix(err.Error(), "MOVED") {
				t.Fatalf("SET on %s: %v", n.Addr(), err)
			}
			moved++
		}
	}
	if moved != 2 {
		t.Fatalf("%d of 3 nodes redirected SET k; want 2", moved)
	}
}

func TestStartSentinel(t *testing.T) {
	m := Start(t)
	s := StartSentinel(t, "mymaster", m)
	v, err := do(s.Addr(), "SENTINEL", "GET-MASTER-ADDR-BY-NAME", "mymaster")
	if err != nil {
		t.Fatal(err)
	}
	a, ok := v.([]any)
	if !ok || len(a) != 2 || a[1] != strconv.Itoa(m.port) {
		t.Fatalf("sentinel master addr = %#v; want port %d", v, m.port)
	}
}
