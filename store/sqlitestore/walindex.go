package sqlitestore

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"unsafe"
)

// walIndex is a read-only view of the header of a database's WAL-index,
// the -shm file beside it: every SQLite connection of every process that
// uses the file in WAL mode maps that file, and every commit, by any of
// them, rewrites its header (https://www.sqlite.org/walformat.html, "The
// WAL-Index Header": the commit's frame count mxFrame, the change counter
// iChange that every commit increments, the WAL's salts, which a restart
// of the WAL changes, and checksums), after the commit's frames are in the
// WAL and before the commit returns. It is how SQLite's own readers learn
// that the database changed: a reader starting a transaction compares the
// header with the one it last saw and drops its page cache when they
// differ. So two equal reads of the header bracket a span in which nothing
// was committed to the file, and reading it costs two dozen memory loads
// instead of a statement (a read transaction's shared-memory locks and
// their fcntl calls).
//
// The -shm file must outlive the mapping: SQLite truncates it only when a
// connection opens the database while no connection of any process has it
// open (it then holds the file's DMS lock alone). The Store keeps one
// connection of its own open for as long as the mapping exists (see Open
// and anchor), so that cannot happen while a walIndex is in use.
//
// A file's walIndex is shared by every Store of the process that opens it
// (walIndexes) and closed with the last of them, after their connections:
// SQLite's locks on the -shm file are POSIX record locks, which the kernel
// drops for the whole process when any descriptor of the file is closed,
// so the descriptor behind the mapping may be closed only when no SQLite
// connection of this process uses the file.
type walIndex struct {
	key walFileKey
	f   *os.File
	// mu guards mem against release: a Store may be closed while requests
	// still read the header (a shutdown that did not drain them), and
	// reading an unmapped page is a fault, not an error. Readers hold it
	// shared for the two dozen loads of a header read.
	mu   sync.RWMutex
	mem  []byte
	refs int // guarded by walIndexes.mu
}

// walHeader is a snapshot of the WAL-index header: its 12 words (48
// bytes), as SQLite writes them.
type walHeader [walHeaderWords]uint32

// walHeaderWords is the size of one copy of the WAL-index header in
// 32-bit words; the second copy follows the first.
const walHeaderWords = 12

// walMapSize is how much of the -shm file is mapped: one page, of which
// the two header copies use the first 96 bytes. SQLite sizes the file in
// 32 KiB regions once a connection has read the database.
const walMapSize = 4096

// walFileKey identifies a -shm file (device and inode).
type walFileKey struct{ dev, ino uint64 }

// walIndexes holds the walIndex of every -shm file open in this process.
var walIndexes = struct {
	mu sync.Mutex
	m  map[walFileKey]*walIndex
}{m: map[walFileKey]*walIndex{}}

// errNoWALIndex: the -shm file cannot be mapped (not in WAL mode, not yet
// sized, or no mmap on this platform).
var errNoWALIndex = errors.New("sqlitestore: no WAL-index to map")

// openWALIndex maps the WAL-index of the database at dbPath, or returns
// this process's existing mapping of it with one more reference; release
// it once. The caller must have the database open (and read) on a SQLite
// connection of its own and keep it open until after release. A
// walIndex that could not be mapped (header never ok) is still returned
// and released the same way, for it holds a descriptor of the file too.
func openWALIndex(dbPath string) (*walIndex, error) {
	name := dbPath + "-shm"
	key, _, err := walFileInfo(name)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errNoWALIndex, err)
	}
	walIndexes.mu.Lock()
	defer walIndexes.mu.Unlock()
	if w := walIndexes.m[key]; w != nil {
		w.refs++
		return w, nil
	}
	f, err := os.Open(name)
	if err != nil {
		// Nothing was opened, so no lock of SQLite's was touched.
		return nil, fmt.Errorf("%w: %w", errNoWALIndex, err)
	}
	// From here on f is closed only by release: closing a descriptor of
	// the -shm file drops this process's locks on it (see walIndex).
	w := &walIndex{key: key, f: f, refs: 1}
	walIndexes.m[key] = w
	if k2, size, err := walFileInfo(name); err != nil || k2 != key || size < walMapSize {
		return w, fmt.Errorf("%w: %s: %d bytes, %v", errNoWALIndex, name, size, err)
	}
	mem, err := mapReadOnly(f, walMapSize)
	if err != nil {
		return w, fmt.Errorf("%w: %w", errNoWALIndex, err)
	}
	w.mu.Lock()
	w.mem = mem
	w.mu.Unlock()
	return w, nil
}

// release drops one reference; the last unmaps the header and closes the
// descriptor. Call it after closing the caller's SQLite connections.
func (w *walIndex) release() {
	walIndexes.mu.Lock()
	defer walIndexes.mu.Unlock()
	if w.refs--; w.refs > 0 {
		return
	}
	delete(walIndexes.m, w.key)
	w.mu.Lock()
	if w.mem != nil {
		unmap(w.mem)
		w.mem = nil
	}
	w.mu.Unlock()
	w.f.Close()
}

// header reads the WAL-index header; ok is false when there is no mapping
// (none was made, or it was released) or when the header is being
// rewritten (its two copies differ), and the caller must then read the
// database. Two reads that return equal headers (both ok) bracket a span
// in which no commit completed.
func (w *walIndex) header() (h walHeader, ok bool) {
	if w == nil {
		return h, false
	}
	w.mu.RLock()
	defer w.mu.RUnlock()
	if w.mem == nil {
		return h, false
	}
	// SQLite writes the second copy, then the first; read the first, then
	// the second, as its readers do (walIndexTryHdr).
	p := (*[2 * walHeaderWords]uint32)(unsafe.Pointer(&w.mem[0]))
	for i := range h {
		h[i] = atomic.LoadUint32(&p[i])
	}
	for i := range h {
		if atomic.LoadUint32(&p[walHeaderWords+i]) != h[i] {
			return h, false
		}
	}
	return h, true
}
