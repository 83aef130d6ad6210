package mapping

import (
	"fmt"
	"unicode/utf8"
)

// Identifiers are the attributes that name a resource: what Okta matches
// on, what the provisioning log files entries under and what operators
// read in `axonflow-sync log`, `roles` and `reconcile` output.
var identifierAttrs = map[*ResourceType][]string{
	UserType:  {"userName", "displayName", "externalId"},
	GroupType: {"displayName", "externalId"},
}

// foldedAttr is the identifier of each resource type that the store
// indexes by FoldKey; a new value must pass CheckFoldable.
var foldedAttr = map[*ResourceType]string{UserType: "userName", GroupType: "displayName"}

// BadIdentifierRune returns the first character of s that an identifier
// may not hold, and whether there is one: C0 controls (NUL, tab, newline,
// ESC …), DEL, C1 controls (U+0080–U+009F), the bidi formatting characters
// (embeddings and overrides U+202A–U+202E, isolates U+2066–U+2069, marks
// U+200E, U+200F, U+061C) and the line and paragraph separators U+2028,
// U+2029. They are invisible or act on a terminal (clear, rewrite or
// reorder an operator's screen), so two identifiers that differ only by
// them would look the same. Bytes that are not UTF-8 are returned as
// utf8.RuneError.
func BadIdentifierRune(s string) (rune, bool) {
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		i += n
		switch {
		case r == utf8.RuneError && n == 1,
			r < 0x20, r == 0x7f, r >= 0x80 && r < 0xa0,
			r == 0x061c, r == 0x200e, r == 0x200f,
			r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069,
			r == 0x2028, r == 0x2029:
			return r, true
		}
	}
	return 0, false
}

// CheckIdentifier returns nil when value may be the identifier attr (e.g.
// "userName", "token name"), else an *Error 400 invalidValue naming the
// attribute and the offending character (as U+XXXX; the value itself is not
// echoed). See BadIdentifierRune for what is refused.
func CheckIdentifier(attr, value string) error {
	if r, bad := BadIdentifierRune(value); bad {
		return badRequest(ScimInvalidValue, "attribute %q must not contain control or bidirectional formatting characters (found %s)", attr, runeName(r))
	}
	return nil
}

func runeName(r rune) string {
	if r == utf8.RuneError {
		return "a byte that is not UTF-8"
	}
	return fmt.Sprintf("U+%04X", r)
}

// checkIdentifiers applies CheckIdentifier to the identifier attributes of
// attrs (a resource of type rt) whose value differs from old (nil for a
// new resource), so a stored value from before the rule does not block an
// update that leaves it alone.
func checkIdentifiers(rt *ResourceType, attrs, old Attrs) error {
	for _, name := range identifierAttrs[rt] {
		v, _ := attrs[name].(string)
		if ov, _ := old[name].(string); old != nil && ov == v {
			continue
		}
		if err := CheckIdentifier(name, v); err != nil {
			return err
		}
		if name == foldedAttr[rt] { // the name compared by FoldKey
			if _, set := attrs[name]; set {
				if err := CheckFoldable(name, v); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func badIdentifier(s string) bool {
	_, bad := BadIdentifierRune(s)
	return bad
}
