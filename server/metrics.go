package server

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are the SCIM request counters. Labels are bounded: resource is one of a fixed set, never a
// raw path.
type metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "scim_bridge_scim_requests_total",
			Help: "SCIM requests served, by resource, method and HTTP status.",
		}, []string{"resource", "method", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "scim_bridge_scim_request_duration_seconds",
			Help:    "Time to serve a SCIM request, by resource and method.",
			Buckets: prometheus.DefBuckets,
		}, []string{"resource", "method"}),
	}
	if reg == nil {
		return m, nil
	}
	var err error
	m.requests, err = register(reg, m.requests)
	if err != nil {
		return nil, err
	}
	m.duration, err = register(reg, m.duration)
	if err != nil {
		return nil, err
	}
	return m, nil
}

// register registers c, or reuses an identical collector already registered (a second handler
// built on the same registry).
func register[C prometheus.Collector](reg prometheus.Registerer, c C) (C, error) {
	err := reg.Register(c)
	var are prometheus.AlreadyRegisteredError
	if errors.As(err, &are) {
		if existing, ok := are.ExistingCollector.(C); ok {
			return existing, nil
		}
	}
	return c, err
}

// scimEndpoint names the endpoint of a /scim/v2 path (one of endpointNames, "other" for any other
// path): the resource label of the metrics.
func scimEndpoint(path string) string {
	first, _, _ := strings.Cut(strings.TrimPrefix(strings.TrimPrefix(path, scimPrefix), "/"), "/")
	for _, r := range endpointNames {
		if first == r {
			return r
		}
	}
	return "other"
}

func metricMethod(method string) string {
	switch method {
	case http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
		return method
	}
	return "other"
}

// instrument counts and times /scim/v2 requests.
func (s *server) instrument(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		resource, method := scimEndpoint(r.URL.Path), metricMethod(r.Method)
		s.metrics.requests.WithLabelValues(resource, method, strconv.Itoa(rec.statusOrOK())).Inc()
		s.metrics.duration.WithLabelValues(resource, method).Observe(time.Since(start).Seconds())
	})
}

func (s *server) metricsHandler(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Gatherer == nil {
		http.NotFound(w, r)
		return
	}
	promhttp.HandlerFor(s.cfg.Gatherer, promhttp.HandlerOpts{}).ServeHTTP(w, r)
}
