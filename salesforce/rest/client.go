package rest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
)

// Config configures a Client: the salesforce section of the configuration. DefaultConfig holds
// its defaults and Validate its rules (config.go); keys in error messages are the config-file
// names (salesforce.url …).
type Config struct {
	URL        string // instance base, e.g. https://acme.my.salesforce.com (http only for loopback)
	LoginURL   string // token endpoint host; "" = URL
	APIVersion string // "66.0"; "" = "66.0"
	Flow       Flow   // FlowRefreshToken | FlowClientCredentials | FlowJWT

	ClientID, ClientSecret string
	AccessToken            string // optional starting access token, used until REST refuses it
	RefreshToken           string
	// TokenFile is where a rotated refresh token is persisted (temp file + rename, 0600). When it
	// exists at start its token wins over RefreshToken.
	TokenFile        string
	JWTUsername      string
	JWTPrivateKeyPEM []byte // RS256 key (PKCS#1 or PKCS#8 PEM) for the jwt flow
	// JWTPrivateKeyFile is read for the key when JWTPrivateKeyPEM is empty.
	JWTPrivateKeyFile string

	MaxConcurrency int           // in-flight HTTP calls, token calls included; 0 = 10
	Timeout        time.Duration // per HTTP call; 0 = 30s
	HTTPClient     *http.Client  // base client (transport); nil = a sane default
	Registerer     prometheus.Registerer
	Logger         zerolog.Logger // fallback logger; per-call logs use zerolog.Ctx(ctx) when it has one
	Now            func() time.Time
	Retry          RetryPolicy
}

// maxBody bounds how much of a response the client reads (a 2000-record query page is a few MB).
const maxBody = 64 << 20

// Client calls one Salesforce org's REST API. It is safe for concurrent use.
//
// The REST base is always Config.URL, even when the token response names another instance_url:
// the configured URL is the org's My Domain (stable across instance moves) or a reverse proxy the
// operator put in front of Salesforce, and both serve the same REST API as the instance host.
type Client struct {
	base     *url.URL
	version  string
	dataBase string // "/services/data/v66.0/"
	http     *http.Client
	tokens   *tokens
	timeout  time.Duration
	retry    RetryPolicy
	metrics  *metrics
	health   *healthTracker
	activity *activity
	log      zerolog.Logger

	usageMu sync.Mutex
	usage   Usage

	allowance allowance // the daily allowance, when used up (allowance.go)
}

// New fills the zero values DefaultConfig documents, validates cfg (Validate's rules, every problem
// at once, keyed salesforce.…) and returns a client. It makes no network call (it only reads
// Config.TokenFile and JWTPrivateKeyFile); use Token to check the credentials.
func New(ctx context.Context, cfg Config) (*Client, error) {
	cfg = cfg.withDefaults()
	problems, valid := cfg.check()
	if len(problems) > 0 {
		return nil, problems.In("salesforce")
	}
	var errs []error
	metrics, err := newMetrics(cfg.Registerer)
	if err != nil {
		errs = append(errs, fmt.Errorf("salesforce: registering metrics: %w", err))
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	health, err := newHealthTracker(cfg.Registerer, now)
	if err != nil {
		errs = append(errs, fmt.Errorf("salesforce: registering metrics: %w", err))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}

	timeout := cfg.Timeout
	httpClient := limitedClient(cfg.HTTPClient, cfg.MaxConcurrency)
	httpClient.Transport = health.observe(httpClient.Transport)

	c := &Client{
		base:     valid.base,
		version:  cfg.APIVersion,
		dataBase: "/services/data/v" + cfg.APIVersion + "/",
		http:     httpClient,
		timeout:  timeout,
		retry:    cfg.Retry.withDefaults(),
		metrics:  metrics,
		health:   health,
		activity: &activity{now: now},
		log:      cfg.Logger,
	}
	c.tokens = &tokens{
		activity:     c.activity,
		flow:         cfg.Flow,
		tokenURL:     valid.login.String() + "/services/oauth2/token",
		audience:     jwtAudience(valid.login),
		clientID:     cfg.ClientID,
		clientSecret: cfg.ClientSecret,
		jwtUsername:  cfg.JWTUsername,
		jwtKey:       valid.jwtKey,
		tokenFile:    cfg.TokenFile,
		httpClient:   httpClient,
		timeout:      timeout,
		now:          now,
		metrics:      metrics,
		log:          cfg.Logger,
		fetching:     make(chan struct{}, 1),
		access:       cfg.AccessToken,
		refresh:      valid.refresh,
	}
	if cfg.AccessToken != "" {
		c.tokens.gen = 1
	}
	return c, nil
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// limitedClient returns a copy of base (or of a default client) whose transport admits at most n
// calls at a time. A slot is held from sending the request until the response body is closed.
func limitedClient(base *http.Client, n int) *http.Client {
	var c http.Client
	if base != nil {
		c = *base
	}
	rt := c.Transport
	if rt == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConnsPerHost = n
		t.ResponseHeaderTimeout = 0 // the per-call context deadline governs
		rt = t
	}
	c.Transport = &limitTransport{base: rt, slots: make(chan struct{}, n)}
	return &c
}

type limitTransport struct {
	base  http.RoundTripper
	slots chan struct{}
}

func (t *limitTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	select {
	case t.slots <- struct{}{}:
	case <-req.Context().Done():
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, req.Context().Err()
	}
	resp, err := t.base.RoundTrip(req)
	if err != nil {
		<-t.slots
		return nil, err
	}
	resp.Body = &releasingBody{ReadCloser: resp.Body, release: sync.OnceFunc(func() { <-t.slots })}
	return resp, nil
}

type releasingBody struct {
	io.ReadCloser
	release func()
}

func (b *releasingBody) Close() error {
	err := b.ReadCloser.Close()
	b.release()
	return err
}

// APIVersion is the REST API version in use, e.g. "66.0".
func (c *Client) APIVersion() string { return c.version }

// Token obtains an access token now, or confirms the one in hand, so that "check" and readiness
// probes see OAuth problems. A token that came from the token endpoint, or that a REST call
// accepted, counts as confirmed; a configured starting access token that was never used is
// replaced by a fresh one, which also proves the refresh token.
func (c *Client) Token(ctx context.Context) error {
	t := c.tokens
	t.mu.Lock()
	access, gen, verified := t.access, t.gen, t.verified
	t.mu.Unlock()
	if access != "" && verified {
		return nil
	}
	_, _, err := t.renew(ctx, gen)
	return err
}

// request describes one REST call.
type request struct {
	op     string // metrics operation: query, get, create, update, delete, describe, composite, collections, versions, other
	method string
	path   string // absolute path, e.g. /services/data/v66.0/sobjects/User
	query  url.Values
	body   any // JSON-encoded when non-nil
	header map[string]string
	safe   bool // repeatable after any failure: a read, or a call the caller declared idempotent
	noAuth bool
	probe  bool // the allowance probe: sent even while the allowance is used up
}

// DataPath is the REST path of the configured API version joined with segments
// ("/services/data/v62.0/query").
func (c *Client) DataPath(segments ...string) string {
	escaped := make([]string, len(segments))
	for i, s := range segments {
		escaped[i] = url.PathEscape(s)
	}
	return c.dataBase + strings.Join(escaped, "/")
}

// rawAnswer is an out value for call that receives a 2xx body undecoded.
type rawAnswer []byte

// call runs r with authentication, retries and error decoding, and decodes a 2xx body into out.
func (c *Client) call(ctx context.Context, r request, out any) error {
	var payload []byte
	if r.body != nil {
		var err error
		if payload, err = json.Marshal(r.body); err != nil {
			return fmt.Errorf("salesforce: encoding the %s request: %w", r.op, err)
		}
	}
	for attempt := 1; ; attempt++ {
		body, err := c.attempt(ctx, r, payload, attempt)
		if err == nil {
			if out == nil || len(bytes.TrimSpace(body)) == 0 {
				return nil
			}
			if raw, ok := out.(*rawAnswer); ok {
				*raw = body // decoded by the caller
				return nil
			}
			if jerr := json.Unmarshal(body, out); jerr != nil {
				return &Error{Kind: KindOther, ownMessage: true,
					Message: fmt.Sprintf("the %s answer is not the JSON the client expects", r.op)}
			}
			return nil
		}
		if ctx.Err() != nil || attempt >= c.retry.Attempts || !retryable(err, r.safe) {
			return err
		}
		delay := c.retry.backoff(attempt)
		c.logger(ctx).Debug().Str("operation", r.op).Int("attempt", attempt).Str("kind", err.Kind.String()).
			Str("code", err.Code).Int("status", err.Status).Dur("delay", delay).Msg("salesforce call failed; retrying")
		if serr := Sleep(ctx, delay); serr != nil {
			return transportError(serr)
		}
	}
}

// attempt sends r once, refreshing the token and resending once when Salesforce answers 401
// (a 401 means the call was not executed, so resending is safe even for writes).
func (c *Client) attempt(ctx context.Context, r request, payload []byte, n int) ([]byte, *Error) {
	var token string
	var gen uint64
	if !r.noAuth && !r.probe {
		if e := c.admit(ctx); e != nil {
			return nil, e
		}
	}
	if !r.noAuth {
		var err error
		if token, gen, err = c.tokens.current(ctx); err != nil {
			return nil, notSent(err)
		}
	}
	status, body, err := c.send(ctx, r, payload, token, n)
	if err != nil {
		return nil, transportError(err)
	}
	if status == http.StatusUnauthorized && !r.noAuth {
		if token, gen, err = c.tokens.renew(ctx, gen); err != nil {
			return nil, notSent(err)
		}
		if status, body, err = c.send(ctx, r, payload, token, n); err != nil {
			return nil, transportError(err)
		}
	}
	if status >= 200 && status < 300 {
		if !r.noAuth {
			c.tokens.markVerified(gen)
		}
		return body, nil
	}
	e := decodeError(status, body)
	c.noteRefusal(ctx, e)
	return nil, e
}

// notSent marks a failure that happened before the request left (no token): repeating it cannot
// apply a write twice.
func notSent(err error) *Error {
	e, ok := errors.AsType[*Error](err)
	if !ok {
		e = &Error{Kind: KindOther, ownMessage: true, Message: "obtaining an access token failed"}
	}
	cp := *e
	cp.notSent = true
	return &cp
}

// send performs one HTTP exchange under the per-call timeout and reads the whole body.
func (c *Client) send(ctx context.Context, r request, payload []byte, token string, n int) (int, []byte, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	u := *c.base
	u.Path = c.base.Path + r.path
	u.RawQuery = r.query.Encode()
	var rdr io.Reader
	if payload != nil {
		rdr = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, u.String(), rdr)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Accept", "application/json")
	if payload != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range r.header {
		req.Header.Set(k, v)
	}
	start := time.Now()
	resp, err := c.http.Do(req)
	if err != nil {
		c.metrics.request(r.op, "error", time.Since(start))
		c.activity.call(0)
		c.logCall(ctx, r, "error", start, n)
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	status := strconv.Itoa(resp.StatusCode)
	c.recordUsage(resp.Header.Get("Sforce-Limit-Info"))
	c.metrics.request(r.op, status, time.Since(start))
	c.activity.call(resp.StatusCode)
	c.logCall(ctx, r, status, start, n)
	if err != nil {
		return 0, nil, err
	}
	return resp.StatusCode, body, nil
}

// logCall writes the per-call debug line: no query string, body, token or field value.
func (c *Client) logCall(ctx context.Context, r request, status string, start time.Time, attempt int) {
	c.logger(ctx).Debug().Str("method", r.method).Str("operation", r.op).Str("path", r.path).
		Str("status", status).Dur("duration", time.Since(start)).Int("attempt", attempt).Msg("salesforce call")
}

func (c *Client) logger(ctx context.Context) *zerolog.Logger {
	if l := zerolog.Ctx(ctx); l.GetLevel() != zerolog.Disabled {
		return l
	}
	return &c.log
}

// Record is one sObject record as JSON-decoded: field name → value (string, float64, bool, nil,
// nested map for relationships and "attributes").
type Record map[string]any

// QueryResult is one page of a SOQL query. TotalSize counts every matching row, not the page.
type QueryResult struct {
	TotalSize      int      `json:"totalSize"`
	Done           bool     `json:"done"`
	Records        []Record `json:"records"`
	NextRecordsURL string   `json:"nextRecordsUrl"`
}

// Query runs a SOQL query and returns its first page. batchSize > 0 asks for that page size via
// Sforce-Query-Options (Salesforce accepts 200–2000 and treats it as a hint); 0 = Salesforce's
// default of 2000.
func (c *Client) Query(ctx context.Context, soql string, batchSize int) (*QueryResult, error) {
	if strings.TrimSpace(soql) == "" {
		return nil, errors.New("salesforce: empty SOQL query")
	}
	r := request{op: "query", method: http.MethodGet, path: c.DataPath("query"), query: url.Values{"q": {soql}}, safe: true}
	if batchSize > 0 {
		r.header = map[string]string{"Sforce-Query-Options": "batchSize=" + strconv.Itoa(min(max(batchSize, 200), 2000))}
	}
	var res QueryResult
	if err := c.call(ctx, r, &res); err != nil {
		return nil, err
	}
	return &res, nil
}

// QueryMore fetches the page a previous result's NextRecordsURL names.
func (c *Client) QueryMore(ctx context.Context, nextRecordsURL string) (*QueryResult, error) {
	u, err := url.Parse(nextRecordsURL)
	if err != nil || u.Scheme != "" || u.Host != "" || u.RawQuery != "" || !strings.HasPrefix(u.Path, "/services/data/") ||
		strings.Contains(u.Path, "..") {
		return nil, errors.New("salesforce: nextRecordsUrl is not a Salesforce query locator path")
	}
	var res QueryResult
	if err := c.call(ctx, request{op: "query", method: http.MethodGet, path: u.Path, safe: true}, &res); err != nil {
		return nil, err
	}
	return &res, nil
}

// QueryEach runs soql and calls fn for every record of every page, holding one page at a time.
// It returns Salesforce's totalSize for the query; an error from fn stops the walk and is
// returned as is. A cursor that expires or is invalidated on the way (INVALID_QUERY_LOCATOR)
// runs the query once more, skipping the records fn already had (by Id; soql must select Id when
// it can return more than one batch); a second one is returned (KindUnavailable).
func (c *Client) QueryEach(ctx context.Context, soql string, batchSize int, fn func(Record) error) (total int, err error) {
	seen := map[string]bool{}
	for attempt := 0; ; attempt++ {
		total, err = c.QueryEachExcept(ctx, soql, batchSize, seen, fn)
		if attempt == 0 && IsCode(err, "INVALID_QUERY_LOCATOR") {
			c.logger(ctx).Info().Msg("query cursor invalidated; running the query again")
			continue
		}
		return total, err
	}
}

// QueryEachExcept runs soql once like QueryEach, without the re-run, handing fn only the records
// whose Id is not in seen and adding each one it hands to seen. A caller that read part of a
// result before its cursor was invalidated (INVALID_QUERY_LOCATOR) re-runs the query with it.
func (c *Client) QueryEachExcept(ctx context.Context, soql string, batchSize int, seen map[string]bool, fn func(Record) error) (total int, err error) {
	res, err := c.Query(ctx, soql, batchSize)
	if err != nil {
		return 0, err
	}
	total = res.TotalSize
	for {
		for _, rec := range res.Records {
			id, _ := rec["Id"].(string)
			if id != "" {
				if seen[id] {
					continue
				}
				seen[id] = true
			}
			if err := fn(rec); err != nil {
				return total, err
			}
		}
		if res.Done || res.NextRecordsURL == "" {
			return total, nil
		}
		next := res.NextRecordsURL
		res = nil // let the finished page go before fetching the next
		if res, err = c.QueryMore(ctx, next); err != nil {
			return total, err
		}
	}
}

// checkObject validates an sObject type name for use in a path.
func checkObject(sobject string) error {
	if err := checkName(sobject); err != nil || strings.Contains(sobject, ".") {
		return fmt.Errorf("salesforce: %q is not an sObject name", sobject)
	}
	return nil
}

// validID reports whether id looks like a Salesforce id: 15 or 18 letters and digits.
func validID(id string) bool {
	if len(id) != 15 && len(id) != 18 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}

// malformedID is the error for an id that cannot exist: for a direct lookup that means "not found".
func malformedID() *Error {
	return &Error{Code: "MALFORMED_ID", Kind: KindNotFound, ownMessage: true,
		Message: "not a Salesforce id (15 or 18 letters and digits)"}
}

func (c *Client) recordPath(sobject, id string) (string, error) {
	if err := checkObject(sobject); err != nil {
		return "", err
	}
	if !validID(id) {
		return "", malformedID()
	}
	return c.DataPath("sobjects", sobject, id), nil
}

// Get reads one record; with no fields Salesforce returns every readable field.
func (c *Client) Get(ctx context.Context, sobject, id string, fields ...string) (Record, error) {
	path, err := c.recordPath(sobject, id)
	if err != nil {
		return nil, err
	}
	r := request{op: "get", method: http.MethodGet, path: path, safe: true}
	if len(fields) > 0 {
		for _, f := range fields {
			if err := checkName(f); err != nil {
				return nil, fmt.Errorf("salesforce: %w", err)
			}
		}
		r.query = url.Values{"fields": {strings.Join(fields, ",")}}
	}
	var rec Record
	if err := c.call(ctx, r, &rec); err != nil {
		return nil, err
	}
	return rec, nil
}

// SaveResponse is the body of a create (and of each sObject Collections element).
type SaveResponse struct {
	ID      string        `json:"id"`
	Success bool          `json:"success"`
	Errors  []RecordError `json:"errors"`
}

// Create inserts a record and returns its id. It is never retried after a lost answer: the
// caller must look the record up before creating it again.
func (c *Client) Create(ctx context.Context, sobject string, rec Record) (string, error) {
	if err := checkObject(sobject); err != nil {
		return "", err
	}
	var res SaveResponse
	if err := c.call(ctx, request{op: "create", method: http.MethodPost, path: c.DataPath("sobjects", sobject), body: rec}, &res); err != nil {
		return "", err
	}
	if !res.Success || res.ID == "" {
		if len(res.Errors) > 0 {
			e := res.Errors[0].AsError()
			return "", &e
		}
		return "", &Error{Kind: KindOther, ownMessage: true, Message: "create answered without an id"}
	}
	return res.ID, nil
}

// Update changes the given fields of a record (PATCH; fields absent from rec stay as they are,
// nil clears a field).
func (c *Client) Update(ctx context.Context, sobject, id string, rec Record) error {
	path, err := c.recordPath(sobject, id)
	if err != nil {
		return err
	}
	return c.call(ctx, request{op: "update", method: http.MethodPatch, path: path, body: rec}, nil)
}

// Delete removes a record. Salesforce refuses this for User (405): users are deactivated instead.
func (c *Client) Delete(ctx context.Context, sobject, id string) error {
	path, err := c.recordPath(sobject, id)
	if err != nil {
		return err
	}
	return c.call(ctx, request{op: "delete", method: http.MethodDelete, path: path}, nil)
}

// Describe is the part of an sObject describe the bridge uses.
type Describe struct {
	Name   string          `json:"name"`
	Fields []DescribeField `json:"fields"`
}

// DescribeField is one field of a describe.
type DescribeField struct {
	Name               string          `json:"name"`
	Type               string          `json:"type"`
	Length             int             `json:"length"`
	Nillable           bool            `json:"nillable"`
	Createable         bool            `json:"createable"`
	Updateable         bool            `json:"updateable"`
	DefaultedOnCreate  bool            `json:"defaultedOnCreate"`
	RestrictedPicklist bool            `json:"restrictedPicklist"`
	PicklistValues     []PicklistValue `json:"picklistValues"`
	ReferenceTo        []string        `json:"referenceTo"`
	RelationshipName   string          `json:"relationshipName"`
}

// PicklistValue is one value of a picklist field.
type PicklistValue struct {
	Value        string `json:"value"`
	Label        string `json:"label"`
	Active       bool   `json:"active"`
	DefaultValue bool   `json:"defaultValue"`
}

// Describe reads an sObject's metadata (GET sobjects/{sobject}/describe).
func (c *Client) Describe(ctx context.Context, sobject string) (*Describe, error) {
	if err := checkObject(sobject); err != nil {
		return nil, err
	}
	var d Describe
	if err := c.call(ctx, request{op: "describe", method: http.MethodGet, path: c.DataPath("sobjects", sobject, "describe"), safe: true}, &d); err != nil {
		return nil, err
	}
	return &d, nil
}

// Version is one REST API version the org offers.
type Version struct {
	Label   string `json:"label"`
	URL     string `json:"url"`
	Version string `json:"version"`
}

// Versions lists the org's REST API versions (GET /services/data/). It needs no token and
// Salesforce does not count it against the API allowance.
func (c *Client) Versions(ctx context.Context) ([]Version, error) {
	var vs []Version
	if err := c.call(ctx, request{op: "versions", method: http.MethodGet, path: "/services/data/", safe: true, noAuth: true}, &vs); err != nil {
		return nil, err
	}
	return vs, nil
}

// Do is the escape hatch for any other REST call. path is relative to the versioned base
// ("sobjects/UserLogin/0Yw…", "limits", "query?q=…") or absolute when it starts with
// "/services/". body is JSON-encoded when non-nil; a 2xx answer is decoded into out when out is
// non-nil. GET and HEAD are retried like reads; other methods only when idempotent is true (or
// when the failure proves nothing was applied).
func (c *Client) Do(ctx context.Context, method, path string, body any, out any, idempotent bool) error {
	p, q, err := c.relativePath(path)
	if err != nil {
		return err
	}
	safe := method == http.MethodGet || method == http.MethodHead || idempotent
	return c.call(ctx, request{op: "other", method: method, path: p, query: q, body: body, safe: safe}, out)
}

// relativePath resolves a caller's path against the versioned base; it never leaves the host.
func (c *Client) relativePath(path string) (string, url.Values, error) {
	u, err := url.Parse(path)
	if err != nil || u.Scheme != "" || u.Host != "" || u.Fragment != "" || strings.Contains(u.Path, "..") {
		return "", nil, fmt.Errorf("salesforce: %q is not a REST path", path)
	}
	p := u.Path
	if !strings.HasPrefix(p, "/services/") {
		p = c.dataBase + strings.TrimPrefix(p, "/")
	}
	return p, u.Query(), nil
}
