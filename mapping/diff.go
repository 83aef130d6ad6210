package mapping

import (
	"slices"
	"strings"
)

// MaxListedMembers is the most member ids one "members" AttrChange lists
// in Added or Removed; AddedCount and RemovedCount always count them all.
const MaxListedMembers = 100

// AttrChange is one changed attribute of a resource, as the provisioning
// log records it: Attr is the attribute's path and Before/After its values
// (nil: absent). Paths are top-level names ("userName", "emails"), complex
// sub-attributes ("name.givenName") and enterprise extension attributes
// written "<URN>:department" or "<URN>:manager.value". A multi-valued
// attribute changes as a whole.
//
// Group membership changes use Attr "members" with Added and Removed (the
// member ids, at most MaxListedMembers each) and AddedCount/RemovedCount
// (all of them); Before and After are then nil.
type AttrChange struct {
	Attr         string   `json:"attr"`
	Before       any      `json:"before,omitempty"`
	After        any      `json:"after,omitempty"`
	Added        []string `json:"added,omitempty"`
	Removed      []string `json:"removed,omitempty"`
	AddedCount   int      `json:"addedCount,omitempty"`
	RemovedCount int      `json:"removedCount,omitempty"`
}

// secretAttr reports whether an attribute name must never be recorded
// (password is never in Attrs; this is a second line of defence).
func secretAttr(name string) bool {
	return strings.EqualFold(name, "password")
}

// DiffAttrs returns what changed from before to after (either may be nil:
// a create diffs from nil, a delete to nil), ordered by path. Complex
// attributes (name, the enterprise extension and its manager) are compared
// sub-attribute by sub-attribute; everything else, including multi-valued
// attributes, as a whole value. A password attribute is never reported.
// Values are shared with the inputs, not copied.
func DiffAttrs(before, after Attrs) []AttrChange {
	var out []AttrChange
	diffMaps(&out, "", map[string]any(before), map[string]any(after))
	slices.SortFunc(out, func(a, b AttrChange) int { return strings.Compare(a.Attr, b.Attr) })
	return out
}

// diffMaps appends the changes between two JSON objects, prefixing paths
// with prefix ("", "name.", "<URN>:" or "<URN>:manager.").
func diffMaps(out *[]AttrChange, prefix string, before, after map[string]any) {
	keys := make([]string, 0, len(before)+len(after))
	for k := range before {
		keys = append(keys, k)
	}
	for k := range after {
		if _, ok := before[k]; !ok {
			keys = append(keys, k)
		}
	}
	for _, k := range keys {
		if secretAttr(k) {
			continue
		}
		b, hadB := before[k]
		a, hadA := after[k]
		if hadB && hadA && deepEqual(b, a) {
			continue
		}
		bm, bIsMap := b.(map[string]any)
		am, aIsMap := a.(map[string]any)
		if (bIsMap || !hadB) && (aIsMap || !hadA) && (bIsMap || aIsMap) {
			sep := "."
			if strings.HasPrefix(k, "urn:") {
				sep = ":"
			}
			diffMaps(out, prefix+k+sep, bm, am)
			continue
		}
		*out = append(*out, AttrChange{Attr: prefix + k, Before: b, After: a})
	}
}

// MemberChange returns the "members" change for the given added and
// removed member ids (lists capped at MaxListedMembers, counts exact), and
// false when both are empty.
func MemberChange(added, removed []string) (AttrChange, bool) {
	if len(added) == 0 && len(removed) == 0 {
		return AttrChange{}, false
	}
	capped := func(ids []string) []string {
		if len(ids) > MaxListedMembers {
			ids = ids[:MaxListedMembers]
		}
		return slices.Clone(ids)
	}
	return AttrChange{Attr: "members", Added: capped(added), Removed: capped(removed),
		AddedCount: len(added), RemovedCount: len(removed)}, true
}

// ActiveChange reports how changes set the active attribute: "deactivate"
// when it goes from true (or absent) to false, "reactivate" when it goes
// from false to true (or absent), "" otherwise.
func ActiveChange(changes []AttrChange) string {
	for _, c := range changes {
		if c.Attr != "active" {
			continue
		}
		before, after := c.Before != false, c.After != false
		switch {
		case before && !after:
			return "deactivate"
		case !before && after:
			return "reactivate"
		}
	}
	return ""
}
