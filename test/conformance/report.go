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
	Passed       int           `json:"passed"`
	Failed       int           `json:"failed"`
	Skipped      int           `json:"skipped"`
	Results      []Result      `json:"results"`
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
		switch res.Status {
		case Passed:
			r.Passed++
		case Failed:
			r.Failed++
		case Skipped:
			r.Skipped++
		}
	}
	return r
}

// Summary is the one-line result: "N passed, N failed, N skipped".
func (r Report) Summary() string {
	return fmt.Sprintf("%d passed, %d failed, %d skipped", r.Passed, r.Failed, r.Skipped)
}

// WriteText writes the human-readable report: one line per check, then the summary line.
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
	for _, res := range r.Results {
		note := res.Detail
		if res.Deviation != "" {
			note = "by deviation " + string(res.Deviation)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", strings.ToUpper(string(res.Status)), res.Check, oneLine(note))
	}
	fmt.Fprintln(tw)
	fmt.Fprintln(tw, r.Summary())
	return tw.Flush()
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
