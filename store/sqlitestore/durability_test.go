package sqlitestore

import (
	"context"
	"path/filepath"
	"testing"
)

// TestDurabilitySettings checks the settings README's "what a crash can
// lose" paragraph for the embedded store describes: WAL, synchronous=NORMAL
// (1) and the default automatic checkpoint (1,000 pages) on the writer.
func TestDurabilitySettings(t *testing.T) {
	s := openTB(t, filepath.Join(t.TempDir(), "state.db"))
	ctx := context.Background()
	for _, c := range []struct {
		pragma string
		want   string
	}{{"journal_mode", "wal"}, {"synchronous", "1"}, {"wal_autocheckpoint", "1000"}} {
		var got string
		if err := s.w.QueryRowContext(ctx, "PRAGMA "+c.pragma).Scan(&got); err != nil || got != c.want {
			t.Errorf("PRAGMA %s = %q, %v; want %q", c.pragma, got, err, c.want)
		}
	}
}
