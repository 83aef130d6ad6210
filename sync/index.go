package sync

import (
	"hash/maphash"
	"math/bits"
)

// strIndex finds the index of an item by a string key without a map of
// strings: an open-addressing hash table of int32 item indexes (4 bytes a
// slot, at most half full), the keys read from the items themselves. The
// desired and actual snapshots are indexed with it by id and name, so an
// index costs 8–16 bytes an item and no copy of any key.
type strIndex struct {
	slots []int32 // item index + 1; 0 is an empty slot
	mask  uint64
	seed  maphash.Seed
	key   func(int32) string

	warmed int32 // what newStrIndex's warming reads summed to (kept, so they are not dropped)
}

// newStrIndex indexes the items 0..n-1 for which in is true (all when in
// is nil) by key. When two items have one key, the later one is found (as
// in a map filled in index order).
func newStrIndex(n int, key func(int32) string, in func(int32) bool) *strIndex {
	size := 1 << bits.Len(uint(max(2*n, 8)-1))
	x := &strIndex{slots: make([]int32, size), mask: uint64(size - 1), seed: maphash.MakeSeed(), key: key}
	// A batch of items at a time: their keys and first slots are read
	// for the whole batch first, so that those cache misses overlap, then
	// the items are filed in order.
	var ks [getBatch]string
	var hs [getBatch]uint64
	var warm int32
	for start := int32(0); start < int32(n); start += getBatch {
		end := min(start+getBatch, int32(n))
		for i := start; i < end; i++ {
			if in == nil || in(i) {
				ks[i-start] = key(i)
				hs[i-start] = maphash.String(x.seed, ks[i-start]) & x.mask
				warm += x.slots[hs[i-start]]
			}
		}
		for i := start; i < end; i++ {
			if in != nil && !in(i) {
				continue
			}
			k := ks[i-start]
			for h := hs[i-start]; ; h = (h + 1) & x.mask {
				if s := x.slots[h]; s == 0 || key(s-1) == k {
					x.slots[h] = i + 1
					break
				}
			}
		}
	}
	x.warmed = warm
	return x
}

// get returns the index of the (last) item whose key is k, or -1.
func (x *strIndex) get(k string) int {
	return x.getFrom(maphash.String(x.seed, k)&x.mask, k)
}

// getFrom is get probing from slot h on.
func (x *strIndex) getFrom(h uint64, k string) int {
	for ; ; h = (h + 1) & x.mask {
		s := x.slots[h]
		if s == 0 {
			return -1
		}
		if x.key(s-1) == k {
			return int(s - 1)
		}
	}
}

// getBatch is the size of the batches getAll looks keys up in.
const getBatch = 32

// getAll sets out[j] to get(keys[j]) for every j (out must be as long as
// keys). It looks the keys up a batch at a time, each step for the whole
// batch before the next (hash and slot, then the slot's key, then the
// comparison; then the next slot of the lookups not yet decided, and so
// on), so the cache misses of a batch's lookups overlap instead of
// following each other: at a million items the slots and the keys are far
// beyond the caches.
func (x *strIndex) getAll(keys []string, out []int32) {
	var p [getBatch]uint64 // slot probed, per pending lookup
	var s [getBatch]int32
	var k [getBatch]string
	var pend [getBatch]uint8 // the batch's lookups not yet decided
	for len(keys) > 0 {
		n := min(len(keys), getBatch)
		for j := range n {
			p[j] = maphash.String(x.seed, keys[j]) & x.mask
			pend[j] = uint8(j)
		}
		for m := n; m > 0; {
			for _, j := range pend[:m] {
				s[j] = x.slots[p[j]]
			}
			for _, j := range pend[:m] {
				if s[j] != 0 {
					k[j] = x.key(s[j] - 1)
				}
			}
			left := 0
			for _, j := range pend[:m] {
				switch {
				case s[j] == 0:
					out[j] = -1
				case k[j] == keys[j]:
					out[j] = s[j] - 1
				default:
					p[j] = (p[j] + 1) & x.mask
					pend[left] = j
					left++
				}
			}
			m = left
		}
		keys, out = keys[n:], out[n:]
	}
}
