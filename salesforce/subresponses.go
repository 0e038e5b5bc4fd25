package salesforce

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/scim-bridge/scim-bridge/salesforce/rest"
)

// Reading composite answers: query results inside subresponses walked past their first batch (the
// parent's cursor, a re-run after INVALID_QUERY_LOCATOR, child rows read by query), and the first
// failure among a composite's subresponses.

// queryBody is a query result inside a composite response.
type queryBody struct {
	TotalSize      int              `json:"totalSize"`
	Done           bool             `json:"done"`
	Records        []map[string]any `json:"records"`
	NextRecordsURL string           `json:"nextRecordsUrl"`
}

// saveResultBody is one per-record result of an sObject Collections call inside a composite.
type saveResultBody struct {
	ID      string `json:"id"`
	Success bool   `json:"success"`
	Errors  []struct {
		StatusCode string   `json:"statusCode"`
		Message    string   `json:"message"`
		Fields     []string `json:"fields"`
	} `json:"errors"`
}

func decodeQuery(sr rest.SubResponse) (*queryBody, error) {
	var q queryBody
	if err := json.Unmarshal(sr.Body, &q); err != nil {
		return nil, fmt.Errorf("decoding the %s subresponse: %w", sr.ReferenceID, err)
	}
	return &q, nil
}

// walk hands fn every record of a query result, following nextRecordsUrl one batch at a time,
// until the result is complete or fn returns false.
func (b *Backend) walk(ctx context.Context, q *queryBody, fn func(map[string]any) bool) error {
	for {
		for _, r := range q.Records {
			if !fn(r) {
				return nil
			}
		}
		if q.Done || q.NextRecordsURL == "" {
			return nil
		}
		res, err := b.c.QueryMore(ctx, q.NextRecordsURL)
		if err != nil {
			return err
		}
		q = fromResult(res)
	}
}

// walkRerun is walk for a query whose text is known (soql; "" = not known): when its cursor
// expires or is invalidated on the way (INVALID_QUERY_LOCATOR), the query runs once more and fn
// gets the rows it did not have yet (by Id). A second INVALID_QUERY_LOCATOR is KindUnavailable:
// 503 with Retry-After, never "not found".
//
// Like readChildRest it reads the rest of a result with queryExcept; unlike it, the rest is read
// only after the cursor failed, with the same query, and without a further re-run: the walk
// already was the query's first run.
func (b *Backend) walkRerun(ctx context.Context, q *queryBody, soql string, fn func(map[string]any) bool) error {
	seen := map[string]bool{}
	err := b.walk(ctx, q, func(r map[string]any) bool {
		if id := str(r["Id"]); id != "" {
			seen[id] = true
		}
		return fn(r)
	})
	if soql == "" || !rest.IsCode(err, "INVALID_QUERY_LOCATOR") {
		return err
	}
	b.logger(ctx).Info().Msg("query cursor invalidated; running the query again")
	return b.queryExcept(ctx, soql, seen, 0, fn)
}

// queryExcept runs soql, handing fn the rows whose Id is not in seen and adding each one it hands
// to seen; fn returning false stops the read without an error. An INVALID_QUERY_LOCATOR on the
// way runs the query again up to reruns times, skipping the rows fn already had; the next one is
// returned (KindUnavailable).
func (b *Backend) queryExcept(ctx context.Context, soql string, seen map[string]bool, reruns int, fn func(map[string]any) bool) error {
	each := func(r rest.Record) error {
		if !fn(r) {
			return errStopWalk
		}
		return nil
	}
	for attempt := 0; ; attempt++ {
		_, err := b.c.QueryEachExcept(ctx, soql, 0, seen, each)
		if attempt < reruns && rest.IsCode(err, "INVALID_QUERY_LOCATOR") {
			b.logger(ctx).Info().Msg("query cursor invalidated; running the query again")
			continue
		}
		if errors.Is(err, errStopWalk) {
			return nil
		}
		return err
	}
}

// soqlOf is the SOQL of a QueryPath subrequest path, "" for any other path.
func soqlOf(path string) string {
	rest, ok := strings.CutPrefix(path, "query?q=")
	if !ok {
		return ""
	}
	q, err := url.QueryUnescape(rest)
	if err != nil {
		return ""
	}
	return q
}

// pathsByRef indexes composite subrequest paths by reference id.
func pathsByRef(subs []rest.Subrequest) map[string]string {
	m := make(map[string]string, len(subs))
	for _, s := range subs {
		m[s.ReferenceID] = s.Path
	}
	return m
}

// walkChild hands fn every row of a child subquery's result (q may be nil: no children).
// Salesforce pages child results with a cursor of their own, and the parent's next queryMore
// invalidates the child cursors of the batch before (SOAP API queryMore(); the strict emulator
// does both), while the bridge reads children after walking the parent. So rows past the first
// batch are read with remaining, a query of the same rows on the child object, never through the
// child's cursor; rows fn already had are skipped by Id.
func (b *Backend) walkChild(ctx context.Context, q *queryBody, remaining *rest.Query, fn func(map[string]any) bool) error {
	if q == nil {
		return nil
	}
	seen := make(map[string]bool, len(q.Records))
	for _, r := range q.Records {
		if !fn(r) {
			return nil
		}
		seen[str(r["Id"])] = true
	}
	if q.Done || q.NextRecordsURL == "" {
		return nil
	}
	return b.readChildRest(ctx, remaining, seen, fn)
}

// readChildRest reads a child subquery's rows past its first batch with remaining (a query of the
// same rows on the child object, never the child's cursor: see walkChild), handing fn the rows
// whose Id is not in seen; fn returning false stops the read without an error.
//
// Like walkRerun it reads with queryExcept; unlike it, remaining is a query of its own (the
// child's first batch came with the parent's query), so its cursor may be invalidated and the
// query re-run once, as any query walked by QueryEach.
func (b *Backend) readChildRest(ctx context.Context, remaining *rest.Query, seen map[string]bool, fn func(map[string]any) bool) error {
	soql, err := remaining.String()
	if err != nil {
		return err
	}
	return b.queryExcept(ctx, soql, seen, 1, fn)
}

// errStopWalk ends a QueryEach early without an error.
var errStopWalk = errors.New("stop")

func fromResult(res *rest.QueryResult) *queryBody {
	q := &queryBody{TotalSize: res.TotalSize, Done: res.Done, NextRecordsURL: res.NextRecordsURL}
	for _, r := range res.Records {
		q.Records = append(q.Records, map[string]any(r))
	}
	return q
}

// refQueryPath is QueryPath for a query whose literals include composite references such as
// '@{u.id}': the references must reach Salesforce unencoded to be resolved.
func refQueryPath(soql string, refs ...string) string {
	p := "query?q=" + url.QueryEscape(soql)
	for _, r := range refs {
		p = strings.ReplaceAll(p, url.QueryEscape(r), r)
	}
	return p
}

// subErr finds the root failure of a composite: the first subrequest error that is not a
// consequence of another one (PROCESSING_HALTED); else the first error. allOrNone rollbacks
// replace the results of earlier subrequests with PROCESSING_HALTED too. Which PROCESSING_HALTED
// is an unresolvable reference is never read from its message: Salesforce words it differently
// across versions (docs/salesforce-behaviour.md); callers decide from the referenced query's
// result (emptyReference) or from the shape of the composite (allHalted).
func subErr(subs []rest.SubResponse) (int, *rest.Error) {
	first := -1
	for i, s := range subs {
		if s.Status < 400 {
			continue
		}
		e := s.Err
		if e == nil {
			e = &rest.Error{Status: s.Status, Code: "UNKNOWN", Kind: rest.KindOther}
			subs[i].Err = e
		}
		if e.Code != "PROCESSING_HALTED" {
			return i, e
		}
		if first < 0 {
			first = i
		}
	}
	if first >= 0 {
		return first, subs[first].Err
	}
	return -1, nil
}

// emptyReference reports whether subrequest sr did not run because the query it references
// (for instance @{ref.records[0].Id}) found nothing: sr is PROCESSING_HALTED and ref's result, which
// stays in the answer of a composite without allOrNone, has no rows.
func emptyReference(by map[string]rest.SubResponse, sr rest.SubResponse, ref string) bool {
	if sr.Err == nil || sr.Err.Code != "PROCESSING_HALTED" {
		return false
	}
	q, ok := by[ref]
	if !ok || q.Status >= 400 {
		return false
	}
	body, err := decodeQuery(q)
	return err == nil && body.TotalSize == 0
}

// allHalted reports whether every failed subrequest of a composite is PROCESSING_HALTED: none
// failed for a reason of its own, so the composite stopped at a reference that had no value.
func allHalted(subs []rest.SubResponse) bool {
	failed := false
	for _, s := range subs {
		if s.Status < 400 {
			continue
		}
		failed = true
		if s.Err == nil || s.Err.Code != "PROCESSING_HALTED" {
			return false
		}
	}
	return failed
}

// byRef indexes composite subresponses by reference id.
func byRef(subs []rest.SubResponse) map[string]rest.SubResponse {
	m := make(map[string]rest.SubResponse, len(subs))
	for _, s := range subs {
		m[s.ReferenceID] = s
	}
	return m
}

// str is v when it is a string, "" otherwise (a JSON field that is null or absent).
func str(v any) string {
	s, _ := v.(string)
	return s
}
