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
	probes := make([]string, n+100)
	for i := range probes {
		k := fmt.Sprintf("k%d", i)
		probes[i] = k
		w, ok := want[k]
		if !ok {
			w = -1
		}
		if got := x.get(k); got != w {
			t.Fatalf("get(%q) = %d; want %d", k, got, w)
		}
	}
	// getAll finds what get finds, whatever the batches' lengths.
	for _, m := range []int{0, 1, getBatch - 1, getBatch, getBatch + 1, len(probes)} {
		out := make([]int32, m)
		x.getAll(probes[:m], out)
		for j, k := range probes[:m] {
			if w := x.get(k); int(out[j]) != w {
				t.Fatalf("getAll of %d keys: %q = %d; want %d", m, k, out[j], w)
			}
		}
	}
}
