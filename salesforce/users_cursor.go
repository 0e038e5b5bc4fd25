package salesforce

import (
	"crypto/sha256"
	"sync"
)

// Sequential paging past Salesforce's 2,000-row OFFSET.
//
// IdPs that read every user (Okta imports, reconciliations) ask for startIndex 1, 1+count,
// 1+2·count, … with the same filter. After each page ordered by Id the bridge remembers the Id of
// its last row, keyed on the query and the position of the row that follows; the next page past
// row 2,000 is then "… AND Id > last ORDER BY Id LIMIT count" (keyset paging, reference
// salesforce-api.md §7.3): one call, however deep, holding one page. A page that finds no cursor
// (random access, another replica served the previous page, an evicted entry) walks
// nextRecordsUrl as before. Nothing else depends on the cache: a stale or missing entry costs
// calls, never correctness beyond what paging a changing org gives anyway.

// maxCursors bounds the cache: enough for many concurrent listings, a few hundred KiB at most.
const maxCursors = 4096

// cursorKey is a listing (its ordered query, hashed) and the 1-based position of a row in it.
type cursorKey struct {
	query    [sha256.Size]byte
	position int
}

// cursors remembers, per listing and position, the Id of the row just before that position. The
// zero value is ready to use; it is safe for concurrent use.
type cursors struct {
	mu    sync.Mutex
	after map[cursorKey]string
	order []cursorKey // insertion order, for eviction (a ring of maxCursors)
	next  int
}

func listingKey(query string, position int) cursorKey {
	return cursorKey{query: sha256.Sum256([]byte(query)), position: position}
}

// lookup returns the Id of the row before position in the listing, if remembered.
func (c *cursors) lookup(query string, position int) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	id, ok := c.after[listingKey(query, position)]
	return id, ok
}

// remember records that the row before position in the listing has Id id.
func (c *cursors) remember(query string, position int, id string) {
	k := listingKey(query, position)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.after == nil {
		c.after = make(map[cursorKey]string)
	}
	if _, ok := c.after[k]; ok {
		c.after[k] = id
		return
	}
	if len(c.order) < maxCursors {
		c.order = append(c.order, k)
	} else {
		delete(c.after, c.order[c.next])
		c.order[c.next] = k
		c.next = (c.next + 1) % maxCursors
	}
	c.after[k] = id
}
