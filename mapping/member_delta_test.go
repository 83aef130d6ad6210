package mapping_test

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/axonflow/axonflow-sync/mapping"
)

// refDelta is the member fold as first written (slices scanned per id):
// the reference the indexed fold must match exactly, order included.
type refDelta struct{ mapping.MemberDelta }

func (d *refDelta) add(ids []string) {
	for _, id := range ids {
		if d.Replace {
			if !slices.Contains(d.Members, id) {
				d.Members = append(d.Members, id)
			}
			continue
		}
		if i := slices.Index(d.Remove, id); i >= 0 {
			d.Remove = slices.Delete(d.Remove, i, i+1)
		}
		if !slices.Contains(d.Add, id) {
			d.Add = append(d.Add, id)
		}
	}
}

func (d *refDelta) remove(ids []string) {
	for _, id := range ids {
		if d.Replace {
			if i := slices.Index(d.Members, id); i >= 0 {
				d.Members = slices.Delete(d.Members, i, i+1)
			}
			continue
		}
		if i := slices.Index(d.Add, id); i >= 0 {
			d.Add = slices.Delete(d.Add, i, i+1)
		}
		if !slices.Contains(d.Remove, id) {
			d.Remove = append(d.Remove, id)
		}
	}
}

func (d *refDelta) replace(ids []string) {
	d.MemberDelta = mapping.MemberDelta{Replace: true, Members: append([]string{}, ids...)}
}

func memberValues(ids []string) []any {
	out := make([]any, len(ids))
	for i, id := range ids {
		out[i] = map[string]any{"value": id}
	}
	return out
}

// TestMemberDeltaMatchesReference: random sequences of member adds,
// removes (by value list and by value filter), replaces and remove-alls
// fold to exactly the delta of the reference fold, and member filters
// that need the current members see the same set.
func TestMemberDeltaMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	pool := []string{"u1", "u2", "u3", "u4", "u5", "u6", "u7", "u8"}
	base := []string{"u2", "u4", "u6"}
	pick := func() []string {
		n := rng.IntN(4)
		seen := map[string]bool{}
		var ids []string
		for range n {
			id := pool[rng.IntN(len(pool))]
			if !seen[id] {
				seen[id] = true
				ids = append(ids, id)
			}
		}
		return ids
	}
	for iter := range 3000 {
		var ref refDelta
		var ops []any
		for range 1 + rng.IntN(6) {
			ids := pick()
			switch rng.IntN(6) {
			case 0, 1:
				ops = append(ops, map[string]any{"op": "add", "path": "members", "value": memberValues(ids)})
				ref.add(ids)
			case 2:
				ops = append(ops, map[string]any{"op": "remove", "path": "members", "value": memberValues(ids)})
				ref.remove(ids)
			case 3:
				if len(ids) == 0 {
					continue
				}
				terms := make([]string, len(ids))
				for i, id := range ids {
					terms[i] = fmt.Sprintf("value eq %q", id)
				}
				ops = append(ops, map[string]any{"op": "remove", "path": "members[" + strings.Join(terms, " or ") + "]"})
				ref.remove(ids)
			case 4:
				ops = append(ops, map[string]any{"op": "replace", "path": "members", "value": memberValues(ids)})
				ref.replace(ids)
			case 5:
				// A filter other than value eq: evaluated against the
				// current members (base with the delta so far).
				ops = append(ops, map[string]any{"op": "remove", "path": `members[value sw "u" and value ew "4"]`})
				cur := slices.Clone(ref.Members)
				if !ref.Replace {
					cur = nil
					for _, id := range base {
						if !slices.Contains(ref.Remove, id) {
							cur = append(cur, id)
						}
					}
					for _, id := range ref.Add {
						if !slices.Contains(cur, id) {
							cur = append(cur, id)
						}
					}
				}
				var hit []string
				for _, id := range cur {
					if strings.HasSuffix(id, "4") {
						hit = append(hit, id)
					}
				}
				ref.remove(hit)
			}
		}
		if len(ops) == 0 {
			continue
		}
		body, _ := json.Marshal(map[string]any{"schemas": []any{mapping.SchemaPatchOp}, "Operations": ops})
		parsed, err := mapping.DecodePatch(body)
		if err != nil {
			t.Fatalf("%s: %v", body, err)
		}
		_, got, err := mapping.ApplyGroupPatch(mapping.Attrs{"displayName": "g"}, "gid", parsed,
			func() ([]string, error) { return slices.Clone(base), nil })
		if err != nil {
			t.Fatalf("%s: %v", body, err)
		}
		want := ref.MemberDelta
		if len(want.Add) == 0 {
			want.Add = nil
		}
		if len(want.Remove) == 0 {
			want.Remove = nil
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("iteration %d: %s\ngot  %+v\nwant %+v", iter, body, got, want)
		}
	}
}

// memberPatch is a PATCH of n member ids (UUID-shaped) that folds every
// way: n adds, removes of them all, adds again, an n/10-term value filter,
// a replace of all n and a removal of the first half. It leaves a replace
// by the second half (Members[0] is ids[n/2]).
func memberPatch(t testing.TB, n int) ([]mapping.PatchOp, []string) {
	t.Helper()
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("00000000-0000-0000-0000-%012d", i)
	}
	values := func(ids []string) string {
		var b strings.Builder
		for i, id := range ids {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(`{"value":"` + id + `"}`)
		}
		return "[" + b.String() + "]"
	}
	terms := make([]string, n/10)
	for i := range terms {
		terms[i] = fmt.Sprintf(`value eq \"%s\"`, ids[i])
	}
	all := values(ids)
	body := `{"schemas":["` + mapping.SchemaPatchOp + `"],"Operations":[` +
		`{"op":"add","path":"members","value":` + all + `},` +
		`{"op":"remove","path":"members","value":` + all + `},` +
		`{"op":"add","path":"members","value":` + all + `},` +
		`{"op":"remove","path":"members[` + strings.Join(terms, " or ") + `]"},` +
		`{"op":"replace","path":"members","value":` + all + `},` +
		`{"op":"remove","path":"members","value":` + values(ids[:n/2]) + `}]}`
	parsed, err := mapping.DecodePatch([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	return parsed, ids
}

// foldMembers applies ops to a group and checks the delta memberPatch leaves.
func foldMembers(t testing.TB, ops []mapping.PatchOp, ids []string) {
	_, d, err := mapping.ApplyGroupPatch(mapping.Attrs{"displayName": "g"}, "gid", ops, nil)
	if err != nil {
		t.Fatal(err)
	}
	n := len(ids)
	if !d.Replace || len(d.Members) != n/2 || d.Members[0] != ids[n/2] || d.Members[n/2-1] != ids[n-1] {
		t.Fatalf("%d ids: delta: replace %t, %d members", n, d.Replace, len(d.Members))
	}
}

// TestMemberDeltaLinear: folding a PATCH is linear in the number of member
// ids. The same six-operation PATCH (memberPatch) is folded at 1,000 and
// at 16,000 ids, and the CPU time of the folding thread is compared (the
// least of 5 interleaved runs at each size): linear work costs about 16
// times more at 16 times the size, quadratic work (each id scanning the
// delta's lists, as the first fold did: 25,000 ids took seconds to
// minutes) 256 times more. The bound, 64, is a factor 4 from both. Thread
// CPU time, not wall-clock time, so other load on the machine does not
// count; no absolute time is asserted (BenchmarkMemberDelta measures the
// speed). Skipped under -race, whose instrumentation is not linear.
func TestMemberDeltaLinear(t *testing.T) {
	const small, big, runs, maxRatio = 1_000, 16_000, 5, 64.0
	type size struct {
		ops  []mapping.PatchOp
		ids  []string
		best time.Duration
	}
	sizes := []*size{{}, {}}
	for i, n := range []int{small, big} {
		sizes[i].ops, sizes[i].ids = memberPatch(t, n)
		sizes[i].best = time.Duration(math.MaxInt64)
	}
	for range runs {
		for _, s := range sizes {
			cpu, ok := threadCPU(func() { foldMembers(t, s.ops, s.ids) })
			if !ok {
				t.Skip("no per-thread CPU clock on this system")
			}
			s.best = min(s.best, cpu)
		}
	}
	ratio := float64(sizes[1].best) / float64(max(sizes[0].best, time.Microsecond))
	t.Logf("folding %d ids: %v CPU; %d ids: %v CPU; ratio %.1f (linear %d, quadratic %d)",
		small, sizes[0].best, big, sizes[1].best, ratio, big/small, (big/small)*(big/small))
	if raceEnabled {
		// The race detector's shadow memory makes every access cost more
		// the more memory is in use: 16 times the ids then costs some 60 to
		// 90 times the CPU, quadratic or not. The ratio says nothing.
		t.Skip("-race: the CPU ratio is the race detector's, not the fold's")
	}
	if ratio > maxRatio {
		t.Errorf("folding %d member ids costs %.0f times the CPU of %d ids (linear: about %d): quadratic in the number of ids?",
			big, ratio, small, big/small)
	}
}

// BenchmarkMemberDelta folds memberPatch at two sizes; ns/id should not
// grow with the size.
func BenchmarkMemberDelta(b *testing.B) {
	for _, n := range []int{1_000, 16_000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			ops, ids := memberPatch(b, n)
			b.ReportAllocs()
			for b.Loop() {
				foldMembers(b, ops, ids)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/id")
		})
	}
}
