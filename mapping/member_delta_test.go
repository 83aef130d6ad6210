package mapping_test

import (
	"encoding/json"
	"fmt"
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

// TestMemberDeltaLinear: folding a PATCH is linear in the number of member
// ids. 25,000 adds, removes of them all, adds again, a 2,500-term value
// filter, a replace and a removal of half took seconds to minutes when each
// id scanned the delta's lists (about 10^9 string comparisons); they take a
// fraction of a second now.
func TestMemberDeltaLinear(t *testing.T) {
	const n = 25_000
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
	done := make(chan mapping.MemberDelta, 1)
	start := time.Now()
	go func() {
		_, d, err := mapping.ApplyGroupPatch(mapping.Attrs{"displayName": "g"}, "gid", parsed, nil)
		if err != nil {
			t.Error(err)
		}
		done <- d
	}()
	select {
	case d := <-done:
		if !d.Replace || len(d.Members) != n/2 || d.Members[0] != ids[n/2] {
			t.Fatalf("delta: replace %t, %d members", d.Replace, len(d.Members))
		}
		t.Logf("%d member ids in %d operations folded in %v", 5*n/2+len(terms), len(parsed), time.Since(start))
	case <-time.After(3 * time.Second):
		t.Fatal("folding the member operations takes more than 3 s: quadratic in the number of ids?")
	}
}
