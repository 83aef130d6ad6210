//go:build unix

package sqlitestore

import (
	"os"
	"syscall"
)

// walFileInfo returns the identity and size of the file at name.
func walFileInfo(name string) (walFileKey, int64, error) {
	fi, err := os.Stat(name)
	if err != nil {
		return walFileKey{}, 0, err
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return walFileKey{}, 0, errNoWALIndex
	}
	return walFileKey{dev: uint64(st.Dev), ino: uint64(st.Ino)}, fi.Size(), nil //nolint:unconvert // Dev's type differs by platform
}

// mapReadOnly maps the first n bytes of f, shared and read-only.
func mapReadOnly(f *os.File, n int) ([]byte, error) {
	return syscall.Mmap(int(f.Fd()), 0, n, syscall.PROT_READ, syscall.MAP_SHARED)
}

// unmap undoes mapReadOnly.
func unmap(b []byte) { _ = syscall.Munmap(b) }
