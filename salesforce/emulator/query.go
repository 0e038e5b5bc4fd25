package emulator

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Query paging: a result larger than the batch size is kept as a cursor; the answer carries
// "nextRecordsUrl":"/services/data/vNN.0/query/<locator>-<offset>". Cursors live 15 minutes
// (Salesforce's idle timeout) and at most maxCursors are kept; an unknown or expired locator
// answers 404 INVALID_QUERY_LOCATOR.
//
// Under the strict profile child subqueries are paged too (SOAP API "queryMore()": a child
// relationship's results come in batches with their own query locator, and calling queryMore on
// the parent invalidates the child cursors of the previous batch): a parent row with more than
// childBatchSize children gets the first childBatchSize, "done":false and its own
// nextRecordsUrl; a queryMore on the parent invalidates the child cursors of every row before the
// batch it serves.

const (
	maxCursors       = 500
	cursorLifetime   = 15 * time.Minute
	defaultBatchSize = 2000
	minBatchSize     = 200
	childBatchSize   = 200 // strict: rows per child-subquery batch
	maxInValues      = 500 // strict: values per IN list
)

type cursor struct {
	records []*soqlRecord
	batch   int
	expires time.Time
	// A child cursor: the locator of its parent's cursor ("" while the parent fits one batch)
	// and the index of its parent row in the parent's result.
	child     bool
	parent    string
	parentRow int
}

type cursorCache struct {
	byLocator map[string]*cursor
	order     []string
}

func newCursorCache() *cursorCache { return &cursorCache{byLocator: map[string]*cursor{}} }

func (c *cursorCache) add(locator string, cur *cursor) {
	c.byLocator[locator] = cur
	c.order = append(c.order, locator)
	for len(c.order) > maxCursors {
		delete(c.byLocator, c.order[0])
		c.order = c.order[1:]
	}
}

// invalidateChildren drops the child cursors of parent's rows before row: the parent moved on.
func (c *cursorCache) invalidateChildren(parent string, row int) {
	for locator, cur := range c.byLocator {
		if cur.child && cur.parent == parent && cur.parentRow < row {
			delete(c.byLocator, locator)
		}
	}
}

// queryPage is a query answer: totalSize counts every row, records only this batch.
type queryPage struct {
	TotalSize      int           `json:"totalSize"`
	Done           bool          `json:"done"`
	NextRecordsURL string        `json:"nextRecordsUrl,omitempty"`
	Records        []*soqlRecord `json:"records"`
}

// batchSize reads Sforce-Query-Options: batchSize=N (200..2000, default 2000).
func batchSize(h http.Header) int {
	for _, opt := range strings.Split(h.Get("Sforce-Query-Options"), ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(opt), "=")
		if !ok || !strings.EqualFold(strings.TrimSpace(k), "batchSize") {
			continue
		}
		if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil {
			return min(max(n, minBatchSize), defaultBatchSize)
		}
	}
	return defaultBatchSize
}

func (e *Emulator) query(r *apiRequest, segs []string) *apiResponse {
	if r.method != http.MethodGet {
		return errorResponse(errMethodNotAllowed(r.method, "HEAD,GET"))
	}
	if len(segs) == 1 && segs[0] != "" {
		return e.queryMore(r, segs[0])
	}
	if len(segs) > 1 {
		return errorResponse(errNotFound())
	}
	q, present := r.query["q"]
	if !present {
		return errorResponse(newError(http.StatusBadRequest, "MALFORMED_QUERY", "A query string has to be specified"))
	}
	if r.query.Get("columns") == "true" {
		cols, err := soqlColumns(e.st, q[0])
		if err != nil {
			var se *soqlError
			if errors.As(err, &se) {
				return errorResponse(newError(http.StatusBadRequest, se.Code, se.Message))
			}
			return errorResponse(newError(http.StatusInternalServerError, "UNKNOWN_EXCEPTION", "An unexpected error occurred."))
		}
		return jsonResponse(http.StatusOK, cols)
	}
	var children []*cursor
	opts := soqlOptions{}
	if e.strict() {
		opts = soqlOptions{MaxInValues: maxInValues, ChildBatch: childBatchSize,
			ChildCursor: func(row int, recs []*soqlRecord) string {
				e.counter++
				locator := makeID("01g", e.counter)
				cur := &cursor{records: recs, batch: childBatchSize, expires: e.now().Add(cursorLifetime), child: true, parentRow: row}
				e.cursors.add(locator, cur)
				children = append(children, cur)
				return r.base() + "/query/" + locator + "-" + strconv.Itoa(childBatchSize)
			}}
	}
	res, err := runQuery(e.st, q[0], r.version, opts)
	if err != nil {
		var se *soqlError
		if errors.As(err, &se) {
			return errorResponse(newError(http.StatusBadRequest, se.Code, se.Message))
		}
		return errorResponse(newError(http.StatusInternalServerError, "UNKNOWN_EXCEPTION", "An unexpected error occurred."))
	}
	records := res.Records
	if records == nil {
		records = []*soqlRecord{}
	}
	page := queryPage{TotalSize: res.TotalSize, Done: true, Records: records}
	if batch := batchSize(r.header); len(records) > batch {
		e.counter++
		locator := makeID("01g", e.counter)
		e.cursors.add(locator, &cursor{records: records, batch: batch, expires: e.now().Add(cursorLifetime)})
		for _, c := range children {
			c.parent = locator
		}
		page.Done, page.Records = false, records[:batch]
		page.NextRecordsURL = r.base() + "/query/" + locator + "-" + strconv.Itoa(batch)
	}
	return jsonResponse(http.StatusOK, page)
}

// queryMore serves GET /query/<locator>-<offset>.
func (e *Emulator) queryMore(r *apiRequest, ref string) *apiResponse {
	invalid := errorResponse(newError(http.StatusNotFound, "INVALID_QUERY_LOCATOR", "invalid query locator"))
	i := strings.LastIndexByte(ref, '-')
	if i < 0 {
		return invalid
	}
	offset, err := strconv.Atoi(ref[i+1:])
	cur := e.cursors.byLocator[ref[:i]]
	if err != nil || cur == nil || offset < 0 || offset >= len(cur.records) || !e.now().Before(cur.expires) {
		return invalid
	}
	cur.expires = e.now().Add(cursorLifetime)
	e.cursors.invalidateChildren(ref[:i], offset)
	end := min(offset+cur.batch, len(cur.records))
	page := queryPage{TotalSize: len(cur.records), Done: end == len(cur.records), Records: cur.records[offset:end]}
	if !page.Done {
		page.NextRecordsURL = r.base() + "/query/" + ref[:i] + "-" + strconv.Itoa(end)
	}
	return jsonResponse(http.StatusOK, page)
}
