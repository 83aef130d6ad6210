//go:build !unix

package sqlitestore

import "os"

// walFileInfo: without mmap there is no WAL-index view (the caches that
// use it are bypassed).
func walFileInfo(string) (walFileKey, int64, error) { return walFileKey{}, 0, errNoWALIndex }

func mapReadOnly(*os.File, int) ([]byte, error) { return nil, errNoWALIndex }

func unmap([]byte) {}
