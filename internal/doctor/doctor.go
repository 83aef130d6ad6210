package doctor

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"encoding/hex"
	"net"
	"net/http"
	"net/url"
	"time"
)

// DefaultTimeout is how long doctor waits for one response. Okta gives up
// after 60 s; a healthy server answers in well under a second.
const DefaultTimeout = 15 * time.Second

// TenantHeader is the response header in which an AxonFlow server names the
// tenant an authenticated request's token belongs to.
const TenantHeader = "X-AxonFlow-Tenant"

// What Okta's SCIM client sends.
const (
	OktaUserAgent   = "Okta SCIM Client 1.0.0"
	OktaContentType = "application/scim+json; charset=utf-8"
	OktaAccept      = "application/scim+json"
)

// Severity says how much a Check matters to Okta.
type Severity string

// Severities of a Check.
const (
	// SeverityOK: the check passed.
	SeverityOK Severity = "ok"
	// SeverityWarning: something to fix or know, but Okta would not fail on it.
	SeverityWarning Severity = "warning"
	// SeverityError: Okta would fail (a connection test, an import, a push).
	SeverityError Severity = "error"
)

// Check is the outcome of one diagnosis step. Its JSON field names are
// stable (scripts read them).
type Check struct {
	// Name identifies the step, e.g. "base-url", "authentication", "users-list".
	Name string `json:"name"`
	// OK is false only for SeverityError.
	OK bool `json:"ok"`
	// Severity is ok, warning or error.
	Severity Severity `json:"severity"`
	// Detail says, in plain words, what doctor saw.
	Detail string `json:"detail"`
	// Fix says what to change; empty when the check passed.
	Fix string `json:"fix"`
	// Status is the HTTP status of the step's main response (0: none).
	Status int `json:"status"`
	// DurationMs is the time the step's requests took, in milliseconds.
	DurationMs int64 `json:"durationMs"`
}

// Summary counts the checks of a Report by severity. Skipped counts steps
// not run because an earlier failure made them meaningless.
type Summary struct {
	// Passed counts SeverityOK checks.
	Passed int `json:"passed"`
	// Failed counts SeverityError checks: Okta would fail.
	Failed int `json:"failed"`
	// Warnings counts SeverityWarning checks.
	Warnings int `json:"warnings"`
	// Skipped counts planned checks not run.
	Skipped int `json:"skipped"`
}

// Report is the result of Run.
type Report struct {
	// URL is the SCIM Base URL as given.
	URL string `json:"url"`
	// WriteTest says whether the run created and deleted test resources.
	WriteTest bool `json:"writeTest"`
	// Tenant is what the server's X-AxonFlow-Tenant header said ("" if none).
	Tenant string `json:"tenant"`
	// Checks are in the order they ran; never nil.
	Checks []Check `json:"checks"`
	// Summary counts Checks by severity.
	Summary Summary `json:"summary"`
	// Verdict is one sentence: would Okta succeed, and if not, where it fails.
	Verdict string `json:"verdict"`
}

// OK reports whether Okta would succeed: no check failed.
func (r *Report) OK() bool { return r.Summary.Failed == 0 }

// Check returns the check called name, if the report has one.
func (r *Report) Check(name string) (Check, bool) {
	for _, c := range r.Checks {
		if c.Name == name {
			return c, true
		}
	}
	return Check{}, false
}

// Options configures Run.
type Options struct {
	// URL is the SCIM Base URL exactly as entered in Okta.
	URL string
	// Authorization is the value of Okta's Authorization field
	// ("Bearer scim_..."). A bare token is tested as typed: an error when
	// the server refuses it (Okta would fail), a warning when it accepts it.
	Authorization string
	// Tenant, if set, is the AxonFlow tenant the token must belong to.
	Tenant string
	// WriteTest also creates, changes and deletes a test user and group.
	WriteTest bool
	// Timeout bounds each request (default DefaultTimeout).
	Timeout time.Duration
	// Progress, if set, is called with each check as soon as it is decided.
	Progress func(Check)

	// Tests only: dial everything here, and trust these roots.
	dial    func(ctx context.Context, network, addr string) (net.Conn, error)
	rootCAs *x509.CertPool
	now     func() time.Time
}

// Run diagnoses the SCIM server at opts.URL and returns the report. It
// never returns nil; when ctx is cancelled it stops early (cleaning up what
// a write test created) and says so in the report.
func Run(ctx context.Context, opts Options) *Report {
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.now == nil {
		opts.now = time.Now
	}
	r := &runner{
		opts:   opts,
		rep:    &Report{URL: opts.URL, WriteTest: opts.WriteTest, Checks: []Check{}},
		suffix: randomHex(6),
	}
	r.client = r.newClient()
	r.run(ctx)
	r.finish()
	return r.rep
}

// runner carries the state of one Run.
type runner struct {
	opts   Options
	rep    *Report
	client *http.Client
	base   string   // base URL requests are built on (as Okta would)
	parsed *url.URL // base, parsed
	auth   string   // Authorization value sent on authenticated requests
	suffix string   // random part of test names and unknown ids

	badCT []string // "GET /Users: text/html" for responses with a wrong Content-Type
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// add records a check and reports it to Progress.
func (r *runner) add(c Check) {
	c.OK = c.Severity != SeverityError
	if c.Severity == SeverityOK {
		c.Fix = ""
	}
	r.rep.Checks = append(r.rep.Checks, c)
	if r.opts.Progress != nil {
		r.opts.Progress(c)
	}
}

func (r *runner) pass(name, detail string, res *response) {
	r.add(Check{Name: name, Severity: SeverityOK, Detail: detail, Status: res.statusCode(), DurationMs: res.ms()})
}

func (r *runner) warn(name, detail, fix string, res *response) {
	r.add(Check{Name: name, Severity: SeverityWarning, Detail: detail, Fix: fix, Status: res.statusCode(), DurationMs: res.ms()})
}

func (r *runner) fail(name, detail, fix string, res *response) {
	r.add(Check{Name: name, Severity: SeverityError, Detail: detail, Fix: fix, Status: res.statusCode(), DurationMs: res.ms()})
}

func (r *runner) skip(n int) { r.rep.Summary.Skipped += n }

// finish computes the summary and the verdict.
func (r *runner) finish() {
	s := &r.rep.Summary
	s.Passed, s.Failed, s.Warnings = 0, 0, 0
	for _, c := range r.rep.Checks {
		switch c.Severity {
		case SeverityOK:
			s.Passed++
		case SeverityWarning:
			s.Warnings++
		default:
			s.Failed++
		}
	}
	r.rep.Verdict = verdict(r.rep)
}

// stageOf maps a check to the Okta operation that needs it.
func stageOf(name string) string {
	switch name {
	case "base-url", "hostname", "authorization-format", "connection", "authentication", "users-list", "tenant", "content-type", "interrupted":
		return "connect"
	case "groups-list", "groups-lookup", "groups-create", "groups-add-member", "groups-remove-member", "groups-delete":
		return "groups"
	case "users-first-user", "users-get-by-id", "users-unknown-id", "bad-token":
		return "import"
	}
	return "users"
}

func verdict(rep *Report) string {
	failed := map[string]bool{}
	for _, c := range rep.Checks {
		if c.Severity == SeverityError {
			failed[stageOf(c.Name)] = true
		}
	}
	switch {
	case failed["connect"]:
		return `Okta's "Test API Credentials" would fail; fix the ✗ items above in order.`
	case len(failed) == 0 && rep.Summary.Warnings > 0:
		return "Okta would succeed; the warnings are worth fixing."
	case len(failed) == 0:
		return "Okta would succeed."
	}
	var parts []string
	if failed["users"] {
		parts = append(parts, "user provisioning (users assigned in Okta may not appear, or update/deactivate fail)")
	}
	if failed["import"] {
		parts = append(parts, "import and Okta's SCIM SPEC test")
	}
	if failed["groups"] {
		parts = append(parts, "Group Push (group sync would be inconsistent)")
	}
	s := `"Test API Credentials" would pass, but `
	for i, p := range parts {
		if i > 0 {
			s += " and "
		}
		s += p
	}
	return s + " would fail."
}
