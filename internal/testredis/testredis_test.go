package testredis

import (
	"os"
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
