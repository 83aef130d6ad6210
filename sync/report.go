package sync

import (
	"encoding/json"
	"fmt"
	"github.com/axonflow/axonflow-sync/internal/termtext"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// Mode says whether a run changes anything.
type Mode string

// Modes (config: reconcile.mode).
const (
	// ModeReport only reports drift (the default).
	ModeReport Mode = "report"
	// ModeCorrect reports drift and applies the corrections the guards allow.
	ModeCorrect Mode = "correct"
)

// ParseMode returns the Mode named s ("" means report).
func ParseMode(s string) (Mode, error) {
	switch Mode(s) {
	case "", ModeReport:
		return ModeReport, nil
	case ModeCorrect:
		return ModeCorrect, nil
	}
	return "", fmt.Errorf("mode must be report or correct, got %q", s)
}

// Triggers say what started a run.
const (
	TriggerCLI      = "cli"      // axonflow-sync reconcile
	TriggerSchedule = "schedule" // the per-tenant cron schedule inside serve
	TriggerAPI      = "api"      // POST /admin/v1/tenants/{tenant}/reconcile
	TriggerConsole  = "console"  // "Run a report now" on the console's tenant page
)

// OktaTraffic is the Okta API traffic of a run (oktasource.Stats).
type OktaTraffic struct {
	// APICalls counts HTTP requests sent to Okta, retries included.
	APICalls int64 `json:"apiCalls"`
	// Pages counts list pages received.
	Pages int64 `json:"pages"`
	// Retries counts requests re-sent after a 429, a 5xx or a network error.
	Retries int64 `json:"retries"`
	// RateLimited counts 429 responses.
	RateLimited int64 `json:"rateLimited"`
}

// Report is the result of one run; its JSON form is the stored and printed
// report:
//
//	{tenant, runId, mode, trigger, startedAt, finishedAt, complete,
//	 incompleteReason, okta:{apiCalls, pages, retries, rateLimited},
//	 summary:{kind:count}, drift:[...], applied:[...], refused:[...],
//	 deferred:[...]}
//
// summary has every kind of Kinds (0 included); drift, applied and refused
// are arrays, empty rather than null. A run whose reads did not complete
// has complete false, the reason in incompleteReason, and no drift.
type Report struct {
	Tenant           string       `json:"tenant"`
	RunID            string       `json:"runId"`
	Mode             Mode         `json:"mode"`
	Trigger          string       `json:"trigger"`
	StartedAt        time.Time    `json:"startedAt"`
	FinishedAt       time.Time    `json:"finishedAt"`
	Complete         bool         `json:"complete"`
	IncompleteReason string       `json:"incompleteReason"`
	Okta             OktaTraffic  `json:"okta"`
	Summary          map[Kind]int `json:"summary"`
	Drift            []Drift      `json:"drift"`
	Applied          []Applied    `json:"applied"`
	Refused          []Refusal    `json:"refused"`
	// Deferred lists destructive corrections not applied because their
	// objects changed in AxonFlow after the run's Okta read began (see
	// Mark); the next run decides them.
	Deferred []Deferred `json:"deferred"`
	// PlanID names the held plan this run created (corrections held for
	// approval, deactivations scheduled), or else the newest plan whose
	// items hold corrections of this run; absent when none.
	PlanID string `json:"planId,omitempty"`

	// remaining counts the drift entries this run did not correct (see
	// Remaining); not part of the JSON.
	remaining    int
	remainingSet bool
}

// newReport returns a report with empty (non-nil) lists and a zero summary.
func newReport(tenant, runID string, mode Mode, trigger string, started time.Time) *Report {
	r := &Report{Tenant: tenant, RunID: runID, Mode: mode, Trigger: trigger, StartedAt: started.UTC(),
		Drift: []Drift{}, Applied: []Applied{}, Refused: []Refusal{}, Deferred: []Deferred{}}
	r.summarize()
	return r
}

func (r *Report) summarize() {
	r.Summary = make(map[Kind]int, len(Kinds))
	for _, k := range Kinds {
		r.Summary[k] = 0
	}
	for _, d := range r.Drift {
		r.Summary[d.Kind]++
	}
}

// Remaining returns how many drift entries are left after the run: all of
// them in report mode, after an incomplete read (none found) or when the
// correction was refused; in correct mode those whose corrections were not
// all applied (conflicts, objects not managed, failed writes). It is what
// --detailed-exitcode tests. A Report decoded from JSON does not know which
// corrections resolved which entries and returns len(Drift).
func (r *Report) Remaining() int {
	if !r.remainingSet {
		return len(r.Drift)
	}
	return r.remaining
}

// JSON returns the report as indented JSON followed by a newline.
func (r *Report) JSON() []byte {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		panic(err) // only plain values: cannot fail
	}
	return append(b, '\n')
}

// WriteTable writes the report for people: a header, the summary, the
// drift, the corrections applied and the refusals, as aligned columns.
func (r *Report) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	p := func(format string, a ...any) { termtext.Fprintf(tw, format, a...) }
	p("Reconcile run %s of tenant %s (mode %s, trigger %s)\n", r.RunID, r.Tenant, r.Mode, r.Trigger)
	p("Started %s, took %s\n", r.StartedAt.Format(time.RFC3339), r.FinishedAt.Sub(r.StartedAt).Round(time.Millisecond))
	p("Okta: %d API calls, %d pages, %d retries, %d rate-limited\n", r.Okta.APICalls, r.Okta.Pages, r.Okta.Retries, r.Okta.RateLimited)
	if !r.Complete {
		p("\nINCOMPLETE: %s\nNothing was compared and nothing was changed.\n", r.IncompleteReason)
		return tw.Flush()
	}
	p("\nDRIFT SUMMARY\n")
	total := 0
	for _, k := range Kinds {
		if n := r.Summary[k]; n > 0 {
			p("  %s\t%d\n", k, n)
			total += n
		}
	}
	if total == 0 {
		p("  none: AxonFlow matches Okta\n")
	}
	if len(r.Drift) > 0 {
		p("\nKIND\tNAME\tOKTA ID\tAXONFLOW ID\tFIELD\tOKTA\tAXONFLOW\n")
		for _, d := range r.Drift {
			name := d.UserName
			if d.DisplayName != "" {
				name = d.DisplayName
				if d.UserName != "" {
					name += " / " + d.UserName
				}
			}
			p("%s\t%s\t%s\t%s\t%s\t%s\t%s\n", d.Kind, cell(name), cell(d.OktaID), cell(d.AxonflowID),
				cell(d.Field), cell(d.Okta), cell(d.AxonFlow))
		}
	}
	if len(r.Applied) > 0 {
		ok := 0
		for _, a := range r.Applied {
			if a.Result == ResultOK {
				ok++
			}
		}
		p("\nAPPLIED (%d of %d succeeded)\nACTION\tNAME\tAXONFLOW ID\tMEMBER\tRESULT\n", ok, len(r.Applied))
		for _, a := range r.Applied {
			name := a.UserName
			if a.DisplayName != "" {
				name = a.DisplayName
				if a.UserName != "" {
					name += " / " + a.UserName
				}
			}
			res := a.Result
			if a.Error != "" {
				res += ": " + a.Error
			}
			p("%s\t%s\t%s\t%s\t%s\n", a.Action, cell(name), cell(a.AxonflowID), cell(a.Member), res)
		}
	}
	if len(r.Deferred) > 0 {
		p("\nDEFERRED (changed in AxonFlow during the run; the next run decides)\nACTION\tNAME\tAXONFLOW ID\tMEMBER\tREASON\n")
		for _, d := range r.Deferred {
			name := d.UserName
			if d.DisplayName != "" {
				name = d.DisplayName
				if d.UserName != "" {
					name += " / " + d.UserName
				}
			}
			p("%s\t%s\t%s\t%s\t%s\n", d.Action, cell(name), cell(d.AxonflowID), cell(d.Member), d.Reason)
		}
	}
	if r.PlanID != "" {
		p("\nPLAN %s: corrections wait for a decision (axonflow-sync reconcile plan --tenant %s %s)\n", r.PlanID, r.Tenant, r.PlanID)
	}
	if len(r.Refused) > 0 {
		p("\nREFUSED\n")
		for _, f := range r.Refused {
			p("  %s: %s\n", f.Guard, f.Reason)
		}
	}
	if r.Mode == ModeReport && total > 0 {
		p("\nReport mode: nothing was changed. Run with --mode correct to apply the corrections.\n")
	}
	return tw.Flush()
}

// cell makes a value printable in one table cell.
func cell(s string) string {
	if s == "" {
		return "-"
	}
	return strings.NewReplacer("\t", " ", "\n", " ").Replace(s)
}

// DecodeReport parses a report's JSON (as stored by the Runner).
func DecodeReport(b []byte) (*Report, error) {
	var r Report
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, err
	}
	return &r, nil
}
