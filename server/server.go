// Package server is the HTTP face of scim-bridge: the chi router, its middleware (request id, access
// log, panic recovery, bearer auth, body limit, metrics), the SCIM 2.0 endpoints built on
// github.com/elimity-com/scim, Bulk, discovery, the one error mapping, and /healthz, /readyz, /metrics.
// Every workaround of a behaviour of the SCIM library is in the scimlib*.go files, listed in scimlib.go.
//
// It speaks SCIM only and reaches provisioning through scimschema.Users and scimschema.Groups.
package server

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/elimity-com/scim"
	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/scim-bridge/scim-bridge/scimschema"
	"github.com/scim-bridge/scim-bridge/scimschema/setting"
)

// Token is one accepted bearer token. Name identifies the client (an IdP) in logs and audit lines.
type Token struct{ Name, Token string }

// Config is everything New needs. Zero values of the optional fields mean the documented default.
type Config struct {
	Users  scimschema.Users
	Groups scimschema.Groups
	Tokens []Token
	// TokenSet, when set, is used instead of Tokens: its holder can replace the tokens while the
	// handler serves (SIGHUP).
	TokenSet *TokenSet
	// PublicURL is the absolute external base, e.g. https://scim.example.com/base; the SCIM base is
	// PublicURL + "/scim/v2". "" derives it from each request.
	PublicURL string
	// TrustProxyHeaders honours X-Forwarded-Proto, X-Forwarded-Host and X-Forwarded-Prefix, only when
	// PublicURL is "".
	TrustProxyHeaders bool
	// MaxBodyBytes caps every /scim/v2 request body (0 = 1 MiB); beyond it the answer is 413. It is
	// also the advertised Bulk maxPayloadSize.
	MaxBodyBytes int64
	// MaxResults is the page-size cap: filter.maxResults in ServiceProviderConfig and the largest
	// count a list returns (0 = 200).
	MaxResults int
	Logger     zerolog.Logger
	// Registerer receives this package's metrics; nil registers none.
	Registerer prometheus.Registerer
	// Gatherer is served at /metrics; nil makes /metrics a 404.
	Gatherer prometheus.Gatherer
	// Ready backs /readyz; nil means always ready.
	Ready func(context.Context) error
	// TokenUsed, when set, is told the name of the token of every authenticated request (the
	// status page's "recent IdP token use"). It must not block.
	TokenUsed func(name string)
}

const (
	scimPrefix          = "/scim/v2"
	defaultMaxBodyBytes = 1 << 20
	defaultMaxResults   = 200
	maxBulkOperations   = 100
)

// server holds the validated configuration and everything built once from it.
type server struct {
	cfg           Config
	publicBase    string // PublicURL + "/scim/v2", "" when derived per request
	tokens        *TokenSet
	resourceTypes []scim.ResourceType
	metrics       *metrics
}

// Validate checks the settings of cfg (not its wiring: Users, Groups and the tokens are checked by
// New) and returns every problem, keyed by the Config field name (PublicURL, MaxResults).
func (cfg Config) Validate() setting.FieldErrors {
	var problems setting.FieldErrors
	if cfg.MaxBodyBytes < 0 {
		problems.Add("MaxBodyBytes", "must not be negative")
	}
	if cfg.MaxResults < 0 {
		problems.Add("MaxResults", "must not be negative")
	}
	if cfg.PublicURL != "" {
		u, err := url.Parse(cfg.PublicURL)
		switch {
		case err != nil || !u.IsAbs() || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https"):
			problems.Add("PublicURL", "must be an absolute http(s) URL such as https://scim.example.com")
		case u.RawQuery != "" || u.Fragment != "":
			problems.Add("PublicURL", "must not have a query or fragment")
		}
	}
	return problems
}

// withDefaults fills the optional fields left zero with their documented defaults.
func (cfg Config) withDefaults() Config {
	if cfg.MaxBodyBytes == 0 {
		cfg.MaxBodyBytes = defaultMaxBodyBytes
	}
	if cfg.MaxResults == 0 {
		cfg.MaxResults = defaultMaxResults
	}
	return cfg
}

// New validates cfg and returns the complete HTTP handler of the bridge.
func New(cfg Config) (http.Handler, error) {
	problems := cfg.Validate()
	if cfg.Users == nil {
		problems.Add("Users", "a users backend is required")
	}
	if cfg.Groups == nil {
		problems.Add("Groups", "a groups backend is required")
	}
	tokens := cfg.TokenSet
	switch {
	case tokens != nil && len(cfg.Tokens) > 0:
		problems.Add("Tokens", "set Tokens or TokenSet, not both")
	case tokens == nil:
		problems = append(problems, validateTokens(cfg.Tokens)...)
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("server: %w", problems)
	}
	if tokens == nil {
		var err error
		if tokens, err = NewTokenSet(cfg.Tokens); err != nil {
			return nil, fmt.Errorf("server: %w", err)
		}
	}
	cfg = cfg.withDefaults()
	publicBase := ""
	if cfg.PublicURL != "" {
		u, _ := url.Parse(cfg.PublicURL) // Validate parsed it
		publicBase = strings.TrimRight(u.String(), "/") + scimPrefix
	}

	m, err := newMetrics(cfg.Registerer)
	if err != nil {
		return nil, fmt.Errorf("server: registering metrics: %w", err)
	}
	s := &server{
		cfg:        cfg,
		publicBase: publicBase,
		tokens:     tokens,
		metrics:    m,
	}
	s.resourceTypes = s.buildResourceTypes()
	return s.routes(), nil
}

func (s *server) routes() http.Handler {
	r := chi.NewRouter()
	r.Use(s.requestID, s.accessLog, s.recoverPanic, canonicalPath)

	r.Get("/healthz", s.healthz)
	r.Get("/readyz", s.readyz)
	r.Get("/metrics", s.metricsHandler)

	r.Route(scimPrefix, func(r chi.Router) {
		r.Use(noStore, s.instrument, s.authenticate, s.limitBody)
		r.NotFound(func(w http.ResponseWriter, r *http.Request) {
			writeError(w, r, scimschema.Errorf(scimschema.KindNotFound, "the endpoint does not exist"))
		})
		r.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) {
			writeMethodNotAllowed(w, r, nil)
		})

		get := onlyMethods(map[string]http.HandlerFunc{http.MethodGet: s.serveSCIM})
		r.HandleFunc("/ServiceProviderConfig", onlyMethods(map[string]http.HandlerFunc{http.MethodGet: s.serviceProviderConfig}))
		r.HandleFunc("/Schemas", get)
		r.HandleFunc("/Schemas/*", get)
		r.HandleFunc("/ResourceTypes", get)
		r.HandleFunc("/ResourceTypes/*", get)
		r.HandleFunc("/Bulk", onlyMethods(map[string]http.HandlerFunc{http.MethodPost: s.bulk}))
		r.HandleFunc("/Me", notImplemented)
		r.HandleFunc("/Me/*", notImplemented)
		for _, endpoint := range []string{"/Users", "/Groups"} {
			r.HandleFunc(endpoint, onlyMethods(map[string]http.HandlerFunc{
				http.MethodGet:  s.serveSCIM,
				http.MethodPost: s.serveSCIM,
			}))
			// A static segment wins over {id} in chi, so GET /Users/.search lands here and gets a 405.
			r.HandleFunc(endpoint+"/.search", onlyMethods(map[string]http.HandlerFunc{http.MethodPost: s.search}))
			r.HandleFunc(endpoint+"/{id}", onlyMethods(map[string]http.HandlerFunc{
				http.MethodGet:    s.serveSCIM,
				http.MethodPut:    s.serveSCIM,
				http.MethodPatch:  s.serveSCIM,
				http.MethodDelete: s.serveSCIM,
			}))
		}
	})
	return r
}

// onlyMethods dispatches on the request method and answers any other method with a SCIM 405 that
// lists the allowed ones (Okta's spec test POSTs to discovery endpoints and expects 405).
func onlyMethods(handlers map[string]http.HandlerFunc) http.HandlerFunc {
	allowed := make([]string, 0, len(handlers))
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		if _, ok := handlers[m]; ok {
			allowed = append(allowed, m)
		}
	}
	return func(w http.ResponseWriter, r *http.Request) {
		if h, ok := handlers[r.Method]; ok {
			h(w, r)
			return
		}
		writeMethodNotAllowed(w, r, allowed)
	}
}

func notImplemented(w http.ResponseWriter, r *http.Request) {
	writeError(w, r, scimschema.Errorf(scimschema.KindNotImplemented, "/Me is not supported: a bearer token does not identify a user"))
}

// scimBase is the absolute SCIM base URL for r, without a trailing slash: PublicURL when configured,
// else the request's scheme and Host, or with TrustProxyHeaders the X-Forwarded-* values.
func (s *server) scimBase(r *http.Request) string {
	if s.publicBase != "" {
		return s.publicBase
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	host := r.Host
	prefix := ""
	if s.cfg.TrustProxyHeaders {
		if p := strings.ToLower(firstHeaderValue(r, "X-Forwarded-Proto")); p == "http" || p == "https" {
			scheme = p
		}
		if h := firstHeaderValue(r, "X-Forwarded-Host"); validHost(h) {
			host = h
		}
		if p := firstHeaderValue(r, "X-Forwarded-Prefix"); validPrefix(p) {
			prefix = strings.TrimRight(p, "/")
		}
	}
	if !validHost(host) {
		host = "localhost"
	}
	return scheme + "://" + host + prefix + scimPrefix
}

func firstHeaderValue(r *http.Request, name string) string {
	v, _, _ := strings.Cut(r.Header.Get(name), ",")
	return strings.TrimSpace(v)
}

// validHost accepts host[:port] made of the characters a DNS name, IPv4 or bracketed IPv6 literal use.
func validHost(h string) bool {
	if h == "" || len(h) > 255 {
		return false
	}
	for _, c := range h {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune(".-:[]_", c)) {
			return false
		}
	}
	return true
}

// validPrefix accepts an absolute path of plain segments such as /tenant-a/api.
func validPrefix(p string) bool {
	if p == "" || p[0] != '/' || len(p) > 200 || strings.Contains(p, "//") || strings.Contains(p, "..") {
		return false
	}
	for _, c := range p {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("/-._~", c)) {
			return false
		}
	}
	return true
}
