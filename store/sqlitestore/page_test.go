package sqlitestore

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/axonflow/axonflow-sync/mapping"
)

// userIDs lists the ids of a page of the tenant's users, and whether the
// page was read from a cursor (one remembered for its offset, before the
// call).
func userIDs(t *testing.T, s *Store, offset, limit int) ([]string, bool) {
	t.Helper()
	_, hit, _, _ := s.cursors.get(pageKey{tenant: "acme", offset: offset})
	p, err := s.ListUsers(context.Background(), "acme", offset, limit)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, u := range p.Items {
		ids = append(ids, u.ID)
	}
	return ids, hit
}

// TestListPagesFromCursors: pages read one after the other start from the
// previous page's end (a cursor), and every page is the one OFFSET gives:
// with nothing committed in between, after a deletion and after an
// insertion (a commit forgets the cursors), for any offset. Groups too.
func TestListPagesFromCursors(t *testing.T) {
	ctx := context.Background()
	s := openTB(t, filepath.Join(t.TempDir(), "state.db"))
	var all []string
	for i := range 250 {
		id := fmt.Sprintf("u%03d", i)
		if err := s.CreateUser(ctx, "acme", &mapping.User{ID: id, Attrs: mapping.Attrs{"userName": id}, Created: time.Unix(1, 0)}); err != nil {
			t.Fatal(err)
		}
		all = append(all, id)
	}
	want := func(offset, limit int) []string { return all[min(offset, len(all)):min(offset+limit, len(all))] }
	walk := func(what string, limit int, wantHits bool) {
		t.Helper()
		for off := 0; off < len(all); off += limit {
			got, hit := userIDs(t, s, off, limit)
			if !slices.Equal(got, want(off, limit)) {
				t.Fatalf("%s: page at %d = %v; want %v", what, off, got, want(off, limit))
			}
			if off > 0 && hit != wantHits {
				t.Fatalf("%s: page at %d read from a cursor: %v; want %v", what, off, hit, wantHits)
			}
		}
	}
	// The cursor is what a page starts from: one planted for offset 100
	// (the seq of the 200th user) moves the page there.
	userIDs(t, s, 0, 100)
	_, _, ver, ok := s.cursors.get(pageKey{tenant: "acme", offset: 100})
	if !ok {
		t.Skip("no WAL-index mapping on this platform: pages are read with OFFSET")
	}
	s.cursors.put(pageKey{tenant: "acme", offset: 100}, 200, ver) // seq 200: u199
	if got, hit := userIDs(t, s, 100, 3); !hit || !slices.Equal(got, all[200:203]) {
		t.Fatalf("page at 100 from a planted cursor = %v (hit %v); want %v", got, hit, all[200:203])
	}
	if err := s.CreateUser(ctx, "acme", &mapping.User{ID: "zz", Attrs: mapping.Attrs{"userName": "zz"}}); err != nil {
		t.Fatal(err) // a commit: the planted cursor is gone
	}
	if err := s.DeleteUser(ctx, "acme", "zz"); err != nil {
		t.Fatal(err)
	}

	walk("first walk", 100, true)
	walk("second walk", 100, true)
	walk("pages of 7", 7, true)

	// A deletion commits: the cursors are forgotten and the page at 100
	// starts one record later than before, as OFFSET's does.
	userIDs(t, s, 0, 100)
	if err := s.DeleteUser(ctx, "acme", "u050"); err != nil {
		t.Fatal(err)
	}
	all = slices.DeleteFunc(all, func(id string) bool { return id == "u050" })
	if got, hit := userIDs(t, s, 100, 100); hit || !slices.Equal(got, want(100, 100)) {
		t.Fatalf("after a deletion: page at 100 = %v (from a cursor: %v); want %v", got, hit, want(100, 100))
	}
	// An insertion: the same.
	if err := s.CreateUser(ctx, "acme", &mapping.User{ID: "u999", Attrs: mapping.Attrs{"userName": "u999"}}); err != nil {
		t.Fatal(err)
	}
	all = append(all, "u999")
	walk("after an insertion", 100, true)
	// Random offsets, cursors or not.
	for _, off := range []int{3, 249, 248, 0, 120, 57, 250, 1000} {
		if got, _ := userIDs(t, s, off, 10); !slices.Equal(got, want(off, 10)) {
			t.Fatalf("page at %d = %v; want %v", off, got, want(off, 10))
		}
	}

	// Groups page the same way, with cursors of their own.
	var groups []string
	for i := range 30 {
		id := fmt.Sprintf("g%02d", i)
		if err := s.CreateGroup(ctx, "acme", &mapping.Group{ID: id, Attrs: mapping.Attrs{"displayName": id}}, nil); err != nil {
			t.Fatal(err)
		}
		groups = append(groups, id)
	}
	for pass := range 2 {
		for off := 0; off < len(groups); off += 8 {
			_, hit, _, _ := s.cursors.get(pageKey{tenant: "acme", groups: true, offset: off})
			p, err := s.ListGroups(ctx, "acme", off, 8)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, g := range p.Items {
				got = append(got, g.ID)
			}
			if w := groups[off:min(off+8, len(groups))]; !slices.Equal(got, w) || p.Total != len(groups) {
				t.Fatalf("groups pass %d at %d = %v (total %d); want %v", pass, off, got, p.Total, w)
			}
			if off > 0 && !hit {
				t.Fatalf("groups pass %d: page at %d not read from a cursor", pass, off)
			}
		}
	}
}
