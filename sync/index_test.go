package sync

import (
	"fmt"
	"testing"
)

// TestStrIndexAsMap: a strIndex finds what a map filled in index order
// finds (the last item of a key), misses absent keys and leaves out items
// that in rejects, with the table crowded enough that probes pass other
// items' slots.
func TestStrIndexAsMap(t *testing.T) {
	const n = 20_000
	keys := make([]string, n)
	for i := range keys {
		keys[i] = fmt.Sprintf("k%d", i%(n/2)) // every key twice
	}
	in := func(i int32) bool { return i%7 != 3 }
	x := newStrIndex(n, func(i int32) string { return keys[i] }, in)
	want := map[string]int{}
	for i, k := range keys {
		if in(int32(i)) {
			want[k] = i
		}
	}
	for i := range n + 100 {
		k := fmt.Sprintf("k%d", i)
		w, ok := want[k]
		if !ok {
			w = -1
		}
		if got := x.get(k); got != w {
			t.Fatalf("get(%q) = %d; want %d", k, got, w)
		}
	}
}
