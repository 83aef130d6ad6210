package mapping

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/cases"
	"golang.org/x/text/runes"
	"golang.org/x/text/secure/precis"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
	"golang.org/x/text/width"
)

// FoldKey is the comparison key of a caseExact=false identifier such as
// userName or displayName, and the ONE definition of "the same name": the
// store's uniqueness indexes (both backends), role mappings by displayName,
// the provisioning log's name index, `eq` filters and the reconciler's
// matching all compare FoldKey values. Two names have the same key when
// they look the same, PRECIS-style (RFC 8264, RFC 8265 §3.3 UsernameCaseMapped,
// RFC 8266 Nickname), with golang.org/x/text:
//
//  1. width mapping: fullwidth and halfwidth forms to their usual forms
//     ("ａｄａ" → "ada");
//  2. default-ignorable code points removed (zero-width space, joiners,
//     soft hyphen, BOM, variation selectors);
//  3. every Unicode space to U+0020, then leading and trailing spaces
//     removed and runs of spaces collapsed to one;
//  4. Unicode full case folding (cases.Fold: "ADA" → "ada", "Straße" → "strasse");
//  5. Unicode Normalization Form C (NFC and NFD "josé" → NFC "josé").
//
// The key is only compared, never shown; the value is stored as sent.
// FoldKey never fails (stored data from before the rule gets a key too);
// CheckFoldable says whether a new value may be written. FoldKey is
// idempotent: FoldKey(FoldKey(s)) == FoldKey(s).
func FoldKey(s string) string {
	if k, ok := asciiFold(s); ok {
		return k
	}
	return collapseSpaces(foldText(s))
}

// FoldText is FoldKey without step 3's trimming and collapsing: what
// caseExact=false substring filters (co, sw, ew) compare.
func FoldText(s string) string {
	if isPlainASCII(s) {
		return strings.ToLower(s)
	}
	return foldText(s)
}

func foldText(s string) string {
	t := transform.Chain(width.Fold, runes.Remove(runes.Predicate(isIgnorable)), runes.Map(spaceToASCII), cases.Fold(), norm.NFC)
	out, _, err := transform.String(t, s)
	if err != nil { // cannot happen with these transformers; keep a key anyway
		return strings.ToLower(s)
	}
	return out
}

// CheckFoldable returns nil when value may be written as the identifier
// attr (userName, a group's displayName): its FoldKey is not empty and
// every character of the key is allowed by the PRECIS FreeformClass
// (RFC 8264 §4.3: no unassigned code points, noncharacters, controls or
// old Hangul jamo). Otherwise an *Error 400 invalidValue.
func CheckFoldable(attr, value string) error {
	k := FoldKey(value)
	if k == "" {
		return badRequest(ScimInvalidValue, "attribute %q has no visible characters", attr)
	}
	if isPlainASCII(k) {
		return nil
	}
	if _, err := freeform.String(k); err != nil {
		return badRequest(ScimInvalidValue, "attribute %q cannot be normalised (PRECIS FreeformClass: %v); see README, Identifiers", attr, err)
	}
	return nil
}

var freeform = precis.NewFreeform()

// asciiFold is FoldKey's fast path for printable ASCII: lower-case, trim
// and collapse spaces. ok is false when s has anything else.
func asciiFold(s string) (string, bool) {
	if !isPlainASCII(s) {
		return "", false
	}
	return collapseSpaces(strings.ToLower(s)), true
}

func isPlainASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f {
			return false
		}
	}
	return true
}

// collapseSpaces trims U+0020 at both ends and collapses runs of it.
func collapseSpaces(s string) string {
	if !strings.Contains(s, "  ") && !strings.HasPrefix(s, " ") && !strings.HasSuffix(s, " ") {
		return s
	}
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool { return r == ' ' }), " ")
}

// isIgnorable reports the Unicode Default_Ignorable_Code_Point property
// (DerivedCoreProperties: Other_Default_Ignorable_Code_Point, Cf except the
// prepended concatenation marks, Variation_Selector).
func isIgnorable(r rune) bool {
	switch r {
	case 0x0600, 0x0601, 0x0602, 0x0603, 0x0604, 0x0605, 0x06dd, 0x070f, 0x0890, 0x0891, 0x08e2, 0x110bd, 0x110cd:
		return false
	}
	return unicode.In(r, unicode.Other_Default_Ignorable_Code_Point, unicode.Cf, unicode.Variation_Selector)
}

func spaceToASCII(r rune) rune {
	if r != ' ' && r >= utf8.RuneSelf && (unicode.IsSpace(r) || unicode.Is(unicode.Zs, r)) {
		return ' '
	}
	return r
}
