package status

import (
	"embed"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"strings"
	"time"
)

//go:embed status.html
var pageFS embed.FS

var page = template.Must(template.New("status.html").Funcs(template.FuncMap{
	"ago":    ago,
	"join":   func(s []string) string { return strings.Join(s, ", ") },
	"onoff":  onoff,
	"counts": sortedCounts,
	"total":  total,
	"pct":    pct,
}).ParseFS(pageFS, "status.html"))

// Handler serves /status (HTML) and /status.json. The admin listener mounts it beside /metrics,
// /healthz and /readyz.
func Handler(cfg Config) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /status", func(w http.ResponseWriter, r *http.Request) {
		s := cfg.Snapshot()
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:")
		if err := page.Execute(w, pageData{Snapshot: s, Chart: chart(s.Allowance, s.Time)}); err != nil {
			http.Error(w, "internal error", http.StatusInternalServerError)
		}
	})
	mux.HandleFunc("GET /status.json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		_ = enc.Encode(cfg.Snapshot())
	})
	return mux
}

type pageData struct {
	Snapshot
	Chart svgChart
}

// svgChart is the allowance chart: API calls used in the org's rolling 24 hours, over the last 6
// hours of this replica's samples. The y axis runs from 0 to a little above the highest sample,
// so that a small org's curve is visible; the page states the allowance beside it.
type svgChart struct {
	Width, Height int
	Points        string // polyline points, "x,y x,y …"
	Last          *point
	Top           int // the calls the top of the chart stands for
}

type point struct{ X, Y float64 }

const chartWidth, chartHeight = 600, 120

func chart(samples []Sample, now time.Time) svgChart {
	c := svgChart{Width: chartWidth, Height: chartHeight, Top: 10}
	for _, s := range samples {
		c.Top = max(c.Top, s.Used+s.Used/4)
	}
	span := float64(keepSamples * sampleEvery)
	start := now.Add(-keepSamples * sampleEvery)
	var pts []string
	for _, s := range samples {
		x := float64(s.Time.Sub(start)) / span * chartWidth
		y := chartHeight - float64(s.Used)/float64(c.Top)*chartHeight
		x, y = min(max(x, 0), chartWidth), min(max(y, 0), chartHeight)
		pts = append(pts, fmt.Sprintf("%.1f,%.1f", x, y))
		c.Last = &point{x, y}
	}
	c.Points = strings.Join(pts, " ")
	return c
}

func pct(used, max int) string {
	if max <= 0 {
		return "–"
	}
	return fmt.Sprintf("%.1f%%", float64(used)/float64(max)*100)
}

func onoff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

// ago renders how long before now t was: "never", "12s ago", "5m ago", "3h ago".
func ago(now, t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	d := now.Sub(t)
	switch {
	case d < time.Second:
		return "just now"
	case d < time.Minute:
		return fmt.Sprintf("%ds ago", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm ago", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh ago", int(d.Hours()))
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

// WriteText renders a snapshot for a terminal: what the page shows, in the same order.
func WriteText(w io.Writer, s Snapshot) error {
	t := &textPage{}
	t.line("scim-bridge %s — status at %s", s.Version, s.Time.UTC().Format(time.RFC3339))
	if s.DryRun {
		t.line("DRY RUN: nothing is written to Salesforce; the audit shows what would have been done")
	}
	t.line("")
	t.salesforce(s.Time, s.Salesforce)
	t.line("")
	t.policy(s.Policy)
	t.line("")
	t.counts(s.Counts)
	t.line("")
	t.line("IdP tokens")
	if len(s.Tokens) == 0 {
		t.line("  none used since the start")
	}
	for _, tok := range s.Tokens {
		t.line("  %-20s last used %s, %d requests", tok.Name, ago(s.Time, tok.LastUsed), tok.Requests)
	}
	t.line("")
	t.line("Last %d audit events (newest first)", len(s.Events))
	for _, e := range s.Events {
		t.line("  %s", eventText(s.Time, e))
	}
	_, err := io.WriteString(w, t.String())
	return err
}

// textPage is the text status page being written, one section at a time.
type textPage struct{ strings.Builder }

func (t *textPage) line(format string, args ...any) { fmt.Fprintf(t, format+"\n", args...) }

func (t *textPage) salesforce(now time.Time, sf Salesforce) {
	state := "DOWN"
	if sf.Up {
		state = "up"
	}
	t.line("Salesforce  %s  %s", sf.URL, state)
	t.line("  last successful call  %s", ago(now, sf.LastSuccess))
	if !sf.LastFailure.IsZero() {
		t.line("  last failed call      %s", ago(now, sf.LastFailure))
	}
	token := "ok"
	if !sf.TokenOK {
		token = "failed (" + sf.TokenError + ")"
	}
	if sf.TokenAt.IsZero() {
		token = "none requested yet"
	}
	t.line("  token (%s)  %s, last request %s, %d requests", sf.Flow, token, ago(now, sf.TokenAt), sf.TokenRequests)
	if sf.APIKnown {
		t.line("  API allowance         %d of %d used (%s)", sf.APIUsed, sf.APIMax, pct(sf.APIUsed, sf.APIMax))
	} else {
		t.line("  API allowance         not known yet (no Salesforce answer carried Sforce-Limit-Info)")
	}
}

func (t *textPage) policy(p Policy) {
	t.line("Policy")
	t.line("  create users %s, update users %s, disable users %s (action %s), deprovision users %s",
		onoff(p.CreateUsers), onoff(p.UpdateUsers), onoff(p.DisableUsers), p.DisableAction, onoff(p.DeprovisionUsers))
	t.line("  permission sets %s, dry run %s, deprovision brake %s", p.PermissionSets, onoff(p.DryRun), brake(p.DeprovisionLimit))
	t.line("  groups: create %s, delete %s; audit identifies users %s", onoff(p.AllowCreateGroup), onoff(p.AllowDeleteGroup), onoff(p.IdentifyUsers))
}

func (t *textPage) counts(c Counts) {
	t.line("Counts since start  skipped %g, defaulted %g, unresolved %g", total(c.Skipped), total(c.Defaulted), total(c.Unresolved))
	for _, group := range []struct {
		name string
		m    map[string]float64
	}{{"skipped", c.Skipped}, {"defaulted", c.Defaulted}, {"unresolved", c.Unresolved}} {
		for _, r := range sortedCounts(group.m) {
			if r.Value > 0 {
				t.line("  %s %s: %g", group.name, r.Label, r.Value)
			}
		}
	}
}

func brake(limit string) string {
	if limit == "" {
		return "not available in this version"
	}
	return limit
}

func eventText(now time.Time, e Event) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%-9s %-16s %-18s %s", ago(now, e.Time), e.Operation, e.Target, e.Result)
	if e.DryRun {
		b.WriteString(" (dry run)")
	}
	if e.UserName != "" {
		fmt.Fprintf(&b, " userName=%s", e.UserName)
	}
	for _, part := range []struct {
		key string
		ids []string
	}{{"changed", e.Changed}, {"added", e.Added}, {"removed", e.Removed}, {"failed", e.Failed}} {
		if len(part.ids) > 0 {
			fmt.Fprintf(&b, " %s=%s", part.key, strings.Join(part.ids, ","))
		}
	}
	if e.Actor != "" {
		fmt.Fprintf(&b, " by %s", e.Actor)
	}
	if e.Error != "" {
		fmt.Fprintf(&b, ": %s", e.Error)
	}
	return b.String()
}
