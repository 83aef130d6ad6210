// Package logbuf batches log lines before they reach the process's output.
// A busy serve logs one line per SCIM request; written one write(2) each,
// those lines cost more CPU than some of the requests they describe, so
// serve writes them through a Writer that collects lines and writes them
// together: when 32 KiB have collected, every 100 ms, and at Close. Warnings
// and errors go out at once, with everything before them, so the lines an
// operator needs when something breaks are never waiting in memory. Its
// Timestamp hook writes each line's time without formatting it again for
// every line of the same millisecond.
// Imported by cmd/axonflow-sync only.
package logbuf

import (
	"io"
	"sync"
	"time"

	"github.com/rs/zerolog"
)

// Defaults of New.
const (
	// FlushInterval is the longest a line waits (100 ms).
	FlushInterval = 100 * time.Millisecond
	// FlushBytes is how many bytes of lines trigger a write (32 KiB).
	FlushBytes = 32 << 10
)

// Writer is an io.Writer and zerolog.LevelWriter that batches lines for
// an underlying writer. Each Write must be whole lines (zerolog writes one
// event per call), which are never split or interleaved. Safe for
// concurrent use. Write errors of the underlying writer are dropped, as
// zerolog drops them.
type Writer struct {
	mu     sync.Mutex
	out    io.Writer
	buf    []byte
	stop   chan struct{}
	done   chan struct{}
	closed bool
}

// New returns a Writer for out that flushes every interval (FlushInterval
// when 0) and whenever FlushBytes have collected. Close it to flush the
// rest and stop its timer goroutine.
func New(out io.Writer, interval time.Duration) *Writer {
	if interval <= 0 {
		interval = FlushInterval
	}
	w := &Writer{out: out, buf: make([]byte, 0, FlushBytes+4096), stop: make(chan struct{}), done: make(chan struct{})}
	go w.loop(interval)
	return w
}

func (w *Writer) loop(interval time.Duration) {
	defer close(w.done)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			w.Flush()
		case <-w.stop:
			return
		}
	}
}

// Write collects p; it writes the collected lines when they reach
// FlushBytes or the Writer is closed. It always reports len(p), nil.
func (w *Writer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		_, _ = w.out.Write(p)
		return len(p), nil
	}
	w.buf = append(w.buf, p...)
	if len(w.buf) >= FlushBytes {
		w.flushLocked()
	}
	return len(p), nil
}

// WriteLevel implements zerolog.LevelWriter: lines at warn level and above
// are written at once, after the lines collected before them.
func (w *Writer) WriteLevel(l zerolog.Level, p []byte) (int, error) {
	n, err := w.Write(p)
	if l >= zerolog.WarnLevel && l != zerolog.NoLevel {
		w.Flush()
	}
	return n, err
}

// Flush writes the collected lines now.
func (w *Writer) Flush() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.flushLocked()
}

func (w *Writer) flushLocked() {
	if len(w.buf) == 0 {
		return
	}
	_, _ = w.out.Write(w.buf)
	if cap(w.buf) > 4*FlushBytes { // one huge line: do not keep its buffer
		w.buf = make([]byte, 0, FlushBytes+4096)
	} else {
		w.buf = w.buf[:0]
	}
}

// Close flushes and stops the timer; later writes go straight to out.
// It returns nil; calling it twice is harmless.
func (w *Writer) Close() error {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return nil
	}
	w.closed = true
	w.flushLocked()
	w.mu.Unlock()
	close(w.stop)
	<-w.done
	return nil
}
