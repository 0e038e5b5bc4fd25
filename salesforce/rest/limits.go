package rest

import (
	"errors"
	"regexp"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Usage is the org's daily API consumption as last reported by Salesforce.
type Usage struct {
	Used, Max int
	Known     bool // false until a response carried Sforce-Limit-Info
}

// limitInfo matches "api-usage=USED/MAX" in Sforce-Limit-Info, which may carry a per-app suffix:
// "api-usage=18/5000; per-app-api-usage=17/250(appName=sample-connected-app)". The per-app part
// is not the org allowance and is ignored.
var limitInfo = regexp.MustCompile(`(?:^|[;,\s])api-usage=(\d+)/(\d+)`)

// parseLimitInfo reads the org usage from a Sforce-Limit-Info header value.
func parseLimitInfo(header string) (Usage, bool) {
	m := limitInfo.FindStringSubmatch(header)
	if m == nil {
		return Usage{}, false
	}
	used, err1 := strconv.Atoi(m[1])
	max, err2 := strconv.Atoi(m[2])
	if err1 != nil || err2 != nil {
		return Usage{}, false
	}
	return Usage{Used: used, Max: max, Known: true}, true
}

// Usage returns the last Sforce-Limit-Info the client saw.
func (c *Client) Usage() Usage {
	c.usageMu.Lock()
	defer c.usageMu.Unlock()
	return c.usage
}

func (c *Client) recordUsage(header string) {
	u, ok := parseLimitInfo(header)
	if !ok {
		return
	}
	c.usageMu.Lock()
	c.usage = u
	c.usageMu.Unlock()
	c.metrics.usage(u)
}

// metrics are the client's Prometheus collectors; a nil *metrics records nothing.
type metrics struct {
	requests  *prometheus.CounterVec
	duration  *prometheus.HistogramVec
	apiUsage  *prometheus.GaugeVec
	refreshes *prometheus.CounterVec
	persists  prometheus.Counter
	exhausted prometheus.Gauge
}

// newMetrics registers the collectors with reg, reusing ones already registered there (several
// clients, or a client re-created in a test, may share one registry).
func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	if reg == nil {
		return nil, nil
	}
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "scim_bridge_salesforce_requests_total",
			Help: "Salesforce HTTP calls by operation and HTTP status (\"error\" when no answer came).",
		}, []string{"operation", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "scim_bridge_salesforce_request_duration_seconds",
			Help:    "Duration of Salesforce HTTP calls.",
			Buckets: prometheus.DefBuckets,
		}, []string{"operation"}),
		apiUsage: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "scim_bridge_salesforce_api_usage",
			Help: "The org's daily API usage from Sforce-Limit-Info (kind=used|max).",
		}, []string{"kind"}),
		refreshes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "scim_bridge_salesforce_token_refreshes_total",
			Help: "OAuth token requests by result (ok|error).",
		}, []string{"result"}),
	}
	m.persists = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "scim_bridge_token_persist_failures_total",
		Help: "Rotated refresh tokens that could not be written to salesforce.token_file.",
	})
	m.exhausted = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "scim_bridge_salesforce_allowance_exhausted",
		Help: "1 while the org's daily API allowance is used up and SCIM requests are answered 429 without calling Salesforce.",
	})
	var err error
	m.persists = Register(reg, m.persists, &err)
	m.exhausted = Register(reg, m.exhausted, &err)
	m.requests = Register(reg, m.requests, &err)
	m.duration = Register(reg, m.duration, &err)
	m.apiUsage = Register(reg, m.apiUsage, &err)
	m.refreshes = Register(reg, m.refreshes, &err)
	return m, err
}

func Register[C prometheus.Collector](reg prometheus.Registerer, c C, errp *error) C {
	if err := reg.Register(c); err != nil {
		if are, ok := errors.AsType[prometheus.AlreadyRegisteredError](err); ok {
			if existing, ok := are.ExistingCollector.(C); ok {
				return existing
			}
		}
		if *errp == nil {
			*errp = err
		}
	}
	return c
}

func (m *metrics) request(operation, status string, d time.Duration) {
	if m == nil {
		return
	}
	m.requests.WithLabelValues(operation, status).Inc()
	m.duration.WithLabelValues(operation).Observe(d.Seconds())
}

func (m *metrics) usage(u Usage) {
	if m == nil {
		return
	}
	m.apiUsage.WithLabelValues("used").Set(float64(u.Used))
	m.apiUsage.WithLabelValues("max").Set(float64(u.Max))
}

func (m *metrics) tokenRefresh(ok bool) {
	if m == nil {
		return
	}
	result := "ok"
	if !ok {
		result = "error"
	}
	m.refreshes.WithLabelValues(result).Inc()
}

func (m *metrics) tokenPersistFailure() {
	if m == nil {
		return
	}
	m.persists.Inc()
}

func (m *metrics) allowanceExhausted(exhausted bool) {
	if m == nil {
		return
	}
	v := 0.0
	if exhausted {
		v = 1
	}
	m.exhausted.Set(v)
}
