// Package termtext makes untrusted text safe to print on a terminal.
//
// Names, details and ids in the provisioning log, token names, role-mapping
// group names and reconcile reports come from SCIM clients, operators'
// headers and Okta: a pushed userName holding ESC, a C1 control or a bidi
// override could clear, rewrite or reorder an operator's screen. Every
// table and line the CLI prints from such text goes through Safe or Cell.
package termtext

import (
	"fmt"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Safe returns s with every character a terminal could act on, or that
// would hide or reorder what is shown, replaced by a visible escape:
// C0 controls (NUL, tab, newline, ESC …), DEL and C1 controls as \xNN,
// format characters (bidi overrides and isolates U+202A–U+202E,
// U+2066–U+2069, marks U+200E/U+200F/U+061C, zero-width characters, BOM)
// and the line and paragraph separators U+2028/U+2029 as \uNNNN, bytes that
// are not UTF-8 as \xNN. Everything else, including non-ASCII letters, is
// kept as it is. Safe(s) == s when s needs nothing.
func Safe(s string) string {
	i := 0
	for i < len(s) {
		r, n := utf8.DecodeRuneInString(s[i:])
		if unsafeRune(r, n) {
			break
		}
		i += n
	}
	if i == len(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	b.WriteString(s[:i])
	for i < len(s) {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r < 0x100 && unsafeRune(r, n):
			fmt.Fprintf(&b, `\x%02x`, r)
		case unsafeRune(r, n):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

// Cell is Safe for one cell of a table: "-" for an empty s.
func Cell(s string) string {
	if s == "" {
		return "-"
	}
	return Safe(s)
}

// unsafeRune reports whether the rune r, n bytes long in its string, must
// be escaped.
func unsafeRune(r rune, n int) bool {
	switch {
	case r == utf8.RuneError && n == 1:
		return true
	case r < 0x20 || r == 0x7f || r >= 0x80 && r < 0xa0:
		return true
	case r == '\u2028' || r == '\u2029':
		return true
	case r < 0x80:
		return false
	}
	return unicode.Is(unicode.Cf, r)
}

// Fprintf is fmt.Fprintf with every string argument, error and
// fmt.Stringer passed through Safe first (the format itself is trusted and
// printed as it is, tabs and newlines included). Use it for every table row
// and line that prints text from the store, a SCIM client, Okta or a
// remote server.
func Fprintf(w io.Writer, format string, args ...any) (int, error) {
	return fmt.Fprintf(w, format, safeArgs(args)...)
}

// Fprintln is fmt.Fprintln with its arguments made safe as in Fprintf.
func Fprintln(w io.Writer, args ...any) (int, error) {
	return fmt.Fprintln(w, safeArgs(args)...)
}

// Sprintf is fmt.Sprintf with its arguments made safe as in Fprintf.
func Sprintf(format string, args ...any) string {
	return fmt.Sprintf(format, safeArgs(args)...)
}

func safeArgs(args []any) []any {
	out := make([]any, len(args))
	for i, a := range args {
		switch v := a.(type) {
		case string:
			out[i] = Safe(v)
		case error:
			out[i] = Safe(v.Error())
		case fmt.Stringer:
			out[i] = Safe(v.String())
		default:
			out[i] = a
		}
	}
	return out
}
