package logbuf

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

// syncBuf is a bytes.Buffer that counts writes, safe for concurrent use.
type syncBuf struct {
	mu     sync.Mutex
	b      bytes.Buffer
	writes int
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.writes++
	return s.b.Write(p)
}

func (s *syncBuf) snapshot() (string, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String(), s.writes
}

func TestBatchesUntilIntervalOrSize(t *testing.T) {
	out := &syncBuf{}
	w := New(out, time.Hour) // no timer flush during the test
	defer w.Close()
	for i := range 10 {
		fmt.Fprintf(w, "line %d\n", i)
	}
	if got, n := out.snapshot(); got != "" || n != 0 {
		t.Fatalf("written before a flush: %q (%d writes)", got, n)
	}
	w.Flush()
	got, n := out.snapshot()
	if n != 1 || strings.Count(got, "\n") != 10 {
		t.Fatalf("%d writes, %q", n, got)
	}
	big := strings.Repeat("x", FlushBytes) + "\n"
	_, _ = w.Write([]byte(big))
	if _, n := out.snapshot(); n != 2 {
		t.Fatalf("FlushBytes did not trigger a write: %d writes", n)
	}
}

func TestTimerFlushes(t *testing.T) {
	out := &syncBuf{}
	w := New(out, 10*time.Millisecond)
	defer w.Close()
	_, _ = w.Write([]byte("a\n"))
	deadline := time.Now().Add(5 * time.Second)
	for {
		if got, _ := out.snapshot(); got == "a\n" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the line was not flushed by the timer")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestWarningsGoOutAtOnceInOrder(t *testing.T) {
	out := &syncBuf{}
	w := New(out, time.Hour)
	defer w.Close()
	l := zerolog.New(w)
	l.Info().Msg("first")
	l.Debug().Msg("second")
	if got, _ := out.snapshot(); got != "" {
		t.Fatalf("info written at once: %q", got)
	}
	l.Error().Msg("broken")
	got, _ := out.snapshot()
	if !(strings.Index(got, "first") < strings.Index(got, "second") && strings.Index(got, "second") < strings.Index(got, "broken")) || strings.Count(got, "\n") != 3 {
		t.Fatalf("after an error: %q", got)
	}
}

func TestCloseFlushesAndLaterWritesPass(t *testing.T) {
	out := &syncBuf{}
	w := New(out, time.Hour)
	_, _ = w.Write([]byte("a\n"))
	_ = w.Close()
	_ = w.Close()
	_, _ = w.Write([]byte("b\n"))
	if got, _ := out.snapshot(); got != "a\nb\n" {
		t.Fatalf("%q", got)
	}
}

// TestConcurrentLinesStayWhole writes from many goroutines through zerolog
// and checks every line arrives whole and once.
func TestConcurrentLinesStayWhole(t *testing.T) {
	out := &syncBuf{}
	w := New(out, time.Millisecond)
	l := zerolog.New(w)
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 500 {
				l.Info().Int("g", g).Int("i", i).Str("pad", strings.Repeat("p", i%200)).Msg("m")
			}
		}()
	}
	wg.Wait()
	_ = w.Close()
	got, _ := out.snapshot()
	lines := strings.Split(strings.TrimSuffix(got, "\n"), "\n")
	if len(lines) != 16*500 {
		t.Fatalf("%d lines", len(lines))
	}
	seen := map[string]bool{}
	for _, line := range lines {
		if !strings.HasPrefix(line, `{"level":"info","g":`) || !strings.HasSuffix(line, `"message":"m"}`) || seen[line] {
			t.Fatalf("bad or repeated line %q", line)
		}
		seen[line] = true
	}
}
