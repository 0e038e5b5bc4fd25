package status

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
)

// clock is a settable test clock.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func TestRecorderKeepsTheLast100EventsNewestFirst(t *testing.T) {
	t.Parallel()
	c := &clock{time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)}
	r := NewRecorder(c.now)
	for i := range 150 {
		r.Audit(Event{Operation: "create_user", Target: string(rune('A' + i%26)), Result: "ok", Time: c.t.Add(time.Duration(i) * time.Second)})
	}
	ev := r.Events()
	if len(ev) != MaxEvents {
		t.Fatalf("Events() has %d; want %d", len(ev), MaxEvents)
	}
	if want := c.t.Add(149 * time.Second); !ev[0].Time.Equal(want) {
		t.Errorf("newest event at %v; want %v", ev[0].Time, want)
	}
	if want := c.t.Add(50 * time.Second); !ev[MaxEvents-1].Time.Equal(want) {
		t.Errorf("oldest kept event at %v; want %v", ev[MaxEvents-1].Time, want)
	}
}

func TestRecorderTokenUseAndAllowanceBuckets(t *testing.T) {
	t.Parallel()
	c := &clock{time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)}
	r := NewRecorder(c.now)
	r.TokenUsed("entra")
	c.t = c.t.Add(time.Minute)
	r.TokenUsed("okta")
	r.TokenUsed("okta")
	want := []TokenUse{{Name: "okta", LastUsed: c.t, Requests: 2}, {Name: "entra", LastUsed: c.t.Add(-time.Minute), Requests: 1}}
	if diff := cmp.Diff(want, r.Tokens()); diff != "" {
		t.Errorf("Tokens() (-want +got):\n%s", diff)
	}

	start := c.t
	for i := range 8 * 60 { // one sample a minute for 8 hours
		c.t = start.Add(time.Duration(i) * time.Minute)
		r.SampleAllowance(i, 15000)
	}
	s := r.Allowance()
	if len(s) < keepSamples-1 || len(s) > keepSamples+1 {
		t.Errorf("kept %d samples; want one per 5 minutes over 6 hours (~%d)", len(s), keepSamples)
	}
	if last := s[len(s)-1]; last.Used != 8*60-1 {
		t.Errorf("last sample used %d; want the latest in its bucket (%d)", last.Used, 8*60-1)
	}
	if first := s[0]; c.t.Sub(first.Time) > keepSamples*sampleEvery {
		t.Errorf("a sample from %v is older than 6 hours", first.Time)
	}
}

func TestCountsReadFromTheRegistry(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	skipped := prometheus.NewCounterVec(prometheus.CounterOpts{Name: metricSkipped, Help: "h"}, []string{"setting"})
	defaulted := prometheus.NewCounterVec(prometheus.CounterOpts{Name: metricDefaulted, Help: "h"}, []string{"attribute"})
	reg.MustRegister(skipped, defaulted)
	skipped.WithLabelValues("dry_run").Add(3)
	skipped.WithLabelValues("update_users").Add(1)
	defaulted.WithLabelValues("timezone").Inc()
	got := counts(reg)
	want := Counts{
		Skipped:    map[string]float64{"dry_run": 3, "update_users": 1},
		Defaulted:  map[string]float64{"timezone": 1},
		Unresolved: map[string]float64{}, // not registered in this build: nothing counted
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("counts (-want +got):\n%s", diff)
	}
}

func testConfig(c *clock) Config {
	r := NewRecorder(c.now)
	r.TokenUsed("entra")
	r.Audit(Event{Actor: "entra", Operation: "create_user", Target: "005000000000001AAA", UserName: "<script>alert(1)</script>@example.com",
		Changed: []string{"userName", "active"}, Result: "ok"})
	r.Audit(Event{Actor: "entra", Operation: "add_members", Target: "0PS000000000001AAA", Added: []string{"005000000000001AAA"},
		Failed: []string{"005000000000002AAA"}, Result: "partial", Error: "permission set licence missing"})
	return Config{
		Version:  "v1.2.3",
		Recorder: r,
		Now:      c.now,
		Policy:   Policy{CreateUsers: true, DisableAction: "freeze", PermissionSets: "merge", DryRun: true, DeprovisionLimit: "100 per 1h"},
		Salesforce: func() Salesforce {
			return Salesforce{URL: "https://acme.my.salesforce.com", Up: true, LastSuccess: c.t.Add(-5 * time.Second), Flow: "jwt",
				TokenAt: c.t.Add(-time.Hour), TokenOK: true, TokenRequests: 1, APIUsed: 1200, APIMax: 15000, APIKnown: true}
		},
	}
}

func TestStatusPageAndJSONShowTheSameSnapshot(t *testing.T) {
	t.Parallel()
	c := &clock{time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)}
	srv := httptest.NewServer(Handler(testConfig(c)))
	defer srv.Close()

	resp, err := http.Get(srv.URL + "/status")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	html := string(body)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("GET /status = %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	for _, want := range []string{
		"Dry run: nothing is written", "https://acme.my.salesforce.com", `class="up"`, "1200</strong> of 15000", "8.0%",
		"<polyline", "freeze", "100 per 1h", "entra", "005000000000001AAA", "partial: permission set licence missing",
		"failed: 005000000000002AAA", "&lt;script&gt;",
	} {
		if !strings.Contains(html, want) {
			t.Errorf("/status does not show %q", want)
		}
	}
	if strings.Contains(html, "<script>") {
		t.Error("/status renders a value unescaped")
	}

	resp, err = http.Get(srv.URL + "/status.json")
	if err != nil {
		t.Fatal(err)
	}
	var s Snapshot
	if err := json.NewDecoder(resp.Body).Decode(&s); err != nil {
		t.Fatalf("decoding /status.json: %v", err)
	}
	resp.Body.Close()
	if !s.DryRun || s.Salesforce.APIUsed != 1200 || len(s.Events) != 2 || s.Events[0].Operation != "add_members" || len(s.Allowance) != 1 {
		t.Errorf("/status.json = %+v", s)
	}

	var text bytes.Buffer
	if err := WriteText(&text, s); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"DRY RUN", "Salesforce  https://acme.my.salesforce.com  up", "1200 of 15000 used (8.0%)",
		"deprovision brake 100 per 1h", "entra", "add_members", "added=005000000000001AAA", "failed=005000000000002AAA"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("status text does not show %q:\n%s", want, text.String())
		}
	}
}
