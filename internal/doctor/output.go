package doctor

import (
	"encoding/json"
	"github.com/axonflow/axonflow-sync/internal/termtext"
	"io"
	"strings"
)

// Mark returns the symbol the human output shows for a severity:
// ✓ passed, ! warning, ✗ failed.
func (s Severity) Mark() string {
	switch s {
	case SeverityOK:
		return "✓"
	case SeverityWarning:
		return "!"
	}
	return "✗"
}

// WriteCheck writes one check as one human-readable line: the mark, the
// name, the diagnosis, the HTTP status and time, and the fix (so that
// grepping for ✗ shows the fixes too).
func WriteCheck(w io.Writer, c Check) {
	termtext.Fprintf(w, "%s %s: %s", c.Severity.Mark(), c.Name, c.Detail)
	if c.Status != 0 {
		termtext.Fprintf(w, " [HTTP %d, %d ms]", c.Status, c.DurationMs)
	}
	if c.Fix != "" {
		termtext.Fprintf(w, " → fix: %s", c.Fix)
	}
	termtext.Fprintln(w)
}

// WriteHeader writes the first line of the human output.
func WriteHeader(w io.Writer, opts Options) {
	mode := "read-only"
	if opts.WriteTest {
		mode = "with --write-test (creates and removes a test user and group)"
	}
	termtext.Fprintf(w, "doctor: replaying Okta's SCIM requests against %s, %s\n", strings.TrimSpace(opts.URL), mode)
}

// WriteSummary writes the closing lines of the human output: the tenant,
// the counts and the verdict.
func (r *Report) WriteSummary(w io.Writer) {
	if r.Tenant != "" {
		termtext.Fprintf(w, "\nTenant: %s (from the server's %s header)\n", r.Tenant, TenantHeader)
	} else {
		termtext.Fprintln(w)
	}
	s := r.Summary
	termtext.Fprintf(w, "Summary: %d passed, %d failed, %d warnings", s.Passed, s.Failed, s.Warnings)
	if s.Skipped > 0 {
		termtext.Fprintf(w, ", %d skipped (fix the failures above first)", s.Skipped)
	}
	termtext.Fprintf(w, ".\n%s\n", r.Verdict)
}

// WriteText writes the whole report in the human format.
func (r *Report) WriteText(w io.Writer) {
	for _, c := range r.Checks {
		WriteCheck(w, c)
	}
	r.WriteSummary(w)
}

// WriteJSON writes the report as indented JSON (the --output json format).
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(r)
}
