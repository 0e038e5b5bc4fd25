package status

import (
	"sort"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Snapshot is everything the status page shows, as served at /status.json and read back by the
// status command.
type Snapshot struct {
	Version    string     `json:"version"`
	Time       time.Time  `json:"time"`
	DryRun     bool       `json:"dry_run"`
	Salesforce Salesforce `json:"salesforce"`
	Allowance  []Sample   `json:"allowance"`
	Policy     Policy     `json:"policy"`
	Counts     Counts     `json:"counts"`
	Tokens     []TokenUse `json:"tokens"`
	Events     []Event    `json:"events"`
}

// Salesforce is the connection as this replica sees it.
type Salesforce struct {
	URL         string    `json:"url"`
	Up          bool      `json:"up"`
	LastSuccess time.Time `json:"last_success,omitzero"`
	LastFailure time.Time `json:"last_failure,omitzero"`
	// The OAuth flow and the last token request.
	Flow          string    `json:"flow"`
	TokenAt       time.Time `json:"token_at,omitzero"`
	TokenOK       bool      `json:"token_ok"`
	TokenError    string    `json:"token_error,omitempty"`
	TokenRequests int       `json:"token_requests"`
	// The org's daily API allowance from the last Sforce-Limit-Info; Known false before the first.
	APIUsed  int  `json:"api_used"`
	APIMax   int  `json:"api_max"`
	APIKnown bool `json:"api_known"`
}

// Policy is the provisioning policy in force.
type Policy struct {
	CreateUsers      bool   `json:"create_users"`
	UpdateUsers      bool   `json:"update_users"`
	DisableUsers     bool   `json:"disable_users"`
	DeprovisionUsers bool   `json:"deprovision_users"`
	DisableAction    string `json:"disable_action"`
	PermissionSets   string `json:"permission_sets"`
	DryRun           bool   `json:"dry_run"`
	// DeprovisionLimit describes the deprovision brake: "100 per 1h", "off", or "" when this build
	// has none.
	DeprovisionLimit string `json:"deprovision_limit"`
	AllowCreateGroup bool   `json:"allow_create_groups"`
	AllowDeleteGroup bool   `json:"allow_delete_groups"`
	IdentifyUsers    bool   `json:"identify_users"`
}

// Counts are the soft-data and skip counters since the start, by label.
type Counts struct {
	Skipped    map[string]float64 `json:"skipped"`
	Defaulted  map[string]float64 `json:"defaulted"`
	Unresolved map[string]float64 `json:"unresolved"`
}

// The metrics the counts are read from. A metric this build does not register counts nothing.
const (
	metricSkipped    = "scim_bridge_skipped_actions_total"
	metricDefaulted  = "scim_bridge_defaulted_values_total"
	metricUnresolved = "scim_bridge_unresolved_references_total"
)

// Config is where a Snapshot's parts come from.
type Config struct {
	Version  string
	Recorder *Recorder
	Policy   Policy
	// Salesforce returns the connection state now.
	Salesforce func() Salesforce
	// Gatherer is the bridge's metric registry, read for Counts.
	Gatherer prometheus.Gatherer
	Now      func() time.Time
}

// Snapshot builds the current snapshot. It also records an allowance sample, so the chart has a
// point for now.
func (c Config) Snapshot() Snapshot {
	now := time.Now
	if c.Now != nil {
		now = c.Now
	}
	s := Snapshot{Version: c.Version, Time: now(), DryRun: c.Policy.DryRun, Policy: c.Policy}
	if c.Salesforce != nil {
		s.Salesforce = c.Salesforce()
	}
	if c.Recorder != nil {
		if s.Salesforce.APIKnown {
			c.Recorder.SampleAllowance(s.Salesforce.APIUsed, s.Salesforce.APIMax)
		}
		s.Allowance, s.Tokens, s.Events = c.Recorder.Allowance(), c.Recorder.Tokens(), c.Recorder.Events()
	}
	s.Counts = counts(c.Gatherer)
	return s
}

// counts reads the counters from the registry: one entry per label set, keyed by its values.
func counts(g prometheus.Gatherer) Counts {
	out := Counts{Skipped: map[string]float64{}, Defaulted: map[string]float64{}, Unresolved: map[string]float64{}}
	if g == nil {
		return out
	}
	families, err := g.Gather()
	if err != nil && len(families) == 0 {
		return out
	}
	into := map[string]map[string]float64{metricSkipped: out.Skipped, metricDefaulted: out.Defaulted, metricUnresolved: out.Unresolved}
	for _, f := range families {
		m, ok := into[f.GetName()]
		if !ok {
			continue
		}
		for _, metric := range f.GetMetric() {
			var labels []string
			for _, l := range metric.GetLabel() {
				labels = append(labels, l.GetValue())
			}
			key := strings.Join(labels, " ")
			if key == "" {
				key = "all"
			}
			m[key] += metric.GetCounter().GetValue()
		}
	}
	return out
}

// sortedCounts lists a count map by key, for stable rendering.
func sortedCounts(m map[string]float64) []countRow {
	rows := make([]countRow, 0, len(m))
	for k, v := range m {
		rows = append(rows, countRow{k, v})
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].Label < rows[j].Label })
	return rows
}

type countRow struct {
	Label string
	Value float64
}

func total(m map[string]float64) float64 {
	var t float64
	for _, v := range m {
		t += v
	}
	return t
}
