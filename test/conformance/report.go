package conformance

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// Report is the compliance report of one run.
type Report struct {
	Target       string        `json:"target"`
	RunID        string        `json:"runId"`
	Started      time.Time     `json:"started"`
	Duration     time.Duration `json:"durationNs"`
	Requests     int           `json:"requests"`
	Capabilities Capabilities  `json:"capabilities"`
	Deviations   []Deviation   `json:"deviations"`
	// RFC counts the RFC section (and the suite's own cleanup); IdP the IdP-compatibility section.
	RFC     Tally    `json:"rfc"`
	IdP     Tally    `json:"idp"`
	Results []Result `json:"results"`
}

// Tally counts the results of one section.
type Tally struct {
	Passed  int `json:"passed"`
	Failed  int `json:"failed"`
	Skipped int `json:"skipped"`
	NotRun  int `json:"notRun"`
	// IdPSpecificFailed counts the failed steps marked IdP-specific (IdP section only).
	IdPSpecificFailed int `json:"idpSpecificFailed,omitempty"`
}

func (t *Tally) add(r Result) {
	switch r.Status {
	case Passed:
		t.Passed++
	case Failed:
		t.Failed++
		if r.Step == StepIdPSpecific {
			t.IdPSpecificFailed++
		}
	case Skipped:
		t.Skipped++
	case NotRun:
		t.NotRun++
	}
}

// String is "N passed, N failed, N skipped", with ", N not run" when some checks did not run.
func (t Tally) String() string {
	s := fmt.Sprintf("%d passed, %d failed, %d skipped", t.Passed, t.Failed, t.Skipped)
	if t.NotRun > 0 {
		s += fmt.Sprintf(", %d not run", t.NotRun)
	}
	return s
}

func (s *suite) report() Report {
	r := Report{
		Target:       s.base.String(),
		RunID:        s.run,
		Started:      s.started,
		Duration:     time.Since(s.started),
		Requests:     s.requests,
		Capabilities: s.caps,
		Deviations:   append([]Deviation{}, s.target.Deviations...),
		Results:      append([]Result{}, s.results...),
	}
	for _, res := range r.Results {
		if res.Section == SectionIdP {
			r.IdP.add(res)
		} else {
			r.RFC.add(res)
		}
	}
	return r
}

// OK reports whether the run succeeded: no RFC check failed, and with idp no IdP step failed
// either.
func (r Report) OK(idp bool) bool {
	return r.RFC.Failed == 0 && (!idp || r.IdP.Failed == 0)
}

// SummaryLines are the two result lines:
//
//	RFC: N passed, N failed, N skipped
//	IdP compatibility: N passed, N failed (N IdP-specific), N skipped
func (r Report) SummaryLines() []string {
	idp := r.IdP.String()
	if r.IdP.Failed > 0 {
		idp = strings.Replace(idp, " failed", fmt.Sprintf(" failed (%d IdP-specific)", r.IdP.IdPSpecificFailed), 1)
	}
	return []string{"RFC: " + r.RFC.String(), "IdP compatibility: " + idp}
}

// Summary is the summary lines joined by newlines.
func (r Report) Summary() string { return strings.Join(r.SummaryLines(), "\n") }

// WriteText writes the human-readable report: a header, the RFC section, the IdP-compatibility
// section (one line per replay step, marked standard or IdP-specific), then the two summary lines.
func (r Report) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "SCIM conformance report for %s (run %s, %d requests, %s)\n", r.Target, r.RunID, r.Requests, r.Duration.Round(time.Millisecond))
	c := r.Capabilities
	fmt.Fprintf(tw, "advertised: patch=%v bulk=%v filter=%v (maxResults %d) sort=%v etag=%v changePassword=%v\n",
		c.Patch, c.Bulk, c.Filter, c.FilterMaxResults, c.Sort, c.ETag, c.ChangePassword)
	if len(r.Deviations) > 0 {
		names := make([]string, len(r.Deviations))
		for i, d := range r.Deviations {
			names[i] = string(d)
		}
		fmt.Fprintf(tw, "deviations allowed: %s\n", strings.Join(names, ", "))
	}
	fmt.Fprintln(tw)
	fmt.Fprintln(tw, "RFC 7643/7644")
	for _, res := range r.Results {
		if res.Section != SectionIdP {
			writeLine(tw, res, "")
		}
	}
	fmt.Fprintln(tw)
	fmt.Fprintln(tw, "IdP compatibility (replays of Entra ID, Okta and PingOne; not part of the RFC result)")
	for _, res := range r.Results {
		if res.Section == SectionIdP {
			writeLine(tw, res, "["+string(res.Step)+"]")
		}
	}
	fmt.Fprintln(tw)
	for _, line := range r.SummaryLines() {
		fmt.Fprintln(tw, line)
	}
	return tw.Flush()
}

func writeLine(w io.Writer, res Result, mark string) {
	note := res.Detail
	switch {
	case res.Deviation != "":
		note = "by deviation " + string(res.Deviation)
	case res.Warning != "":
		note = "warning: " + res.Warning
	}
	if mark != "" {
		fmt.Fprintf(w, "%s\t%s %s\t%s\n", strings.ToUpper(string(res.Status)), res.Check, mark, oneLine(note))
		return
	}
	fmt.Fprintf(w, "%s\t%s\t%s\n", strings.ToUpper(string(res.Status)), res.Check, oneLine(note))
}

// WriteJSON writes the report as indented JSON.
func (r Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 400 {
		s = s[:400] + "…"
	}
	return s
}
