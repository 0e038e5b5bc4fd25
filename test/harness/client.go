package harness

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// SCIMJSON is the SCIM media type (RFC 7644 §3.1).
const SCIMJSON = "application/scim+json"

// Client sends SCIM requests to one base URL with one bearer token.
type Client struct {
	// BaseURL is the SCIM base, e.g. http://127.0.0.1:8080/scim/v2.
	BaseURL string
	Token   string
	// HTTP sends the requests; nil = a shared NewHTTPClient().
	HTTP *http.Client
}

// NewHTTPClient is the harness's default HTTP client: a 30-second timeout, and redirects are
// answers (a SCIM server has no business redirecting).
func NewHTTPClient() *http.Client {
	return &http.Client{
		Timeout:       30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

var defaultHTTP = NewHTTPClient()

// Request is one raw HTTP request to the SCIM base.
type Request struct {
	Method string
	Path   string // under BaseURL, query included
	Body   []byte // nil = no body
	// ContentType: "" = application/scim+json when there is a body; "-" = no header.
	ContentType string
	// Token: "" = the client's; "-" = no Authorization header.
	Token string
}

// Response is what came back.
type Response struct {
	Status int
	Header http.Header
	Raw    []byte
	// Doc is the body decoded as a JSON object; nil when the body is empty or DecodeErr is set.
	Doc map[string]any
	// DecodeErr says why a non-empty body is not a JSON object.
	DecodeErr error
}

// String is the status and the start of the body, for failure messages.
func (r Response) String() string {
	raw := string(r.Raw)
	if len(raw) > 800 {
		raw = raw[:800] + "…"
	}
	return fmt.Sprintf("%d %s", r.Status, raw)
}

// Send sends one request; the error is a transport error (no answer).
func (c *Client) Send(req Request) (Response, error) {
	var rd io.Reader
	if req.Body != nil {
		rd = bytes.NewReader(req.Body)
	}
	hr, err := http.NewRequest(req.Method, c.BaseURL+req.Path, rd)
	if err != nil {
		return Response{}, err
	}
	switch req.Token {
	case "":
		hr.Header.Set("Authorization", "Bearer "+c.Token)
	case "-":
	default:
		hr.Header.Set("Authorization", "Bearer "+req.Token)
	}
	hr.Header.Set("Accept", SCIMJSON)
	switch {
	case req.ContentType == "-":
	case req.ContentType != "":
		hr.Header.Set("Content-Type", req.ContentType)
	case req.Body != nil:
		hr.Header.Set("Content-Type", SCIMJSON)
	}
	hc := c.HTTP
	if hc == nil {
		hc = defaultHTTP
	}
	resp, err := hc.Do(hr)
	if err != nil {
		return Response{}, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return Response{}, fmt.Errorf("reading the answer: %w", err)
	}
	out := Response{Status: resp.StatusCode, Header: resp.Header, Raw: raw}
	if len(bytes.TrimSpace(raw)) > 0 {
		if out.DecodeErr = json.Unmarshal(raw, &out.Doc); out.DecodeErr != nil {
			out.Doc = nil
		}
	}
	return out, nil
}

// Do sends a body (see Body) and fails the test when no answer comes.
func (c *Client) Do(t testing.TB, method, path string, body any) Response {
	t.Helper()
	resp, err := c.Send(Request{Method: method, Path: path, Body: Body(t, body)})
	if err != nil {
		t.Fatalf("%s %s: %v", method, Shorten(path), err)
	}
	return resp
}

// Body is a request body: nil for none, a []byte or string verbatim, anything else as JSON.
func Body(t testing.TB, body any) []byte {
	t.Helper()
	switch v := body.(type) {
	case nil:
		return nil
	case []byte:
		return v
	case string:
		return []byte(v)
	default:
		raw, err := json.Marshal(v)
		if err != nil {
			t.Fatalf("marshal a request body: %v", err)
		}
		return raw
	}
}

// Shorten cuts a long path (or body) for a failure message.
func Shorten(s string) string {
	if len(s) > 120 {
		return s[:120] + fmt.Sprintf("…(%d bytes)", len(s))
	}
	return s
}

// Metric reads one sample of a bridge's /metrics under rootURL ("name" or
// "name{label=\"v\"}"); ok is false when the sample is absent. The test fails when /metrics does
// not answer.
func Metric(t testing.TB, rootURL, sample string) (value float64, ok bool) {
	t.Helper()
	resp, err := defaultHTTP.Get(rootURL + "/metrics")
	if err != nil {
		t.Fatalf("GET %s/metrics: %v", rootURL, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(raw), "\n") {
		if v, found := strings.CutPrefix(line, sample+" "); found {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			return f, err == nil
		}
	}
	return 0, false
}
