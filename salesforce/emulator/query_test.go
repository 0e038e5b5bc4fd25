package emulator

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// bigSeed is the default seed with enough Salesforce seats for paging tests.
func bigSeed() *Seed {
	s := DefaultSeed()
	s.Licenses[0].TotalLicenses = 5000
	return s
}

func TestQueryPaging(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Config{Seed: bigSeed()})
	profile := h.idOf("Profile", "Name", "Standard User")
	for i := 0; i < 450; i++ {
		u := h.newUser(fmt.Sprintf("p%03d@example.com", i), "Standard User")
		u["ProfileId"] = profile
		if _, err := h.e.Insert("User", u); err != nil {
			t.Fatalf("Insert #%d: %v", i, err)
		}
	}
	q := url.QueryEscape("SELECT Id, Username FROM User ORDER BY Username")
	status, _, body := h.do("GET", v+"/query?q="+q, nil, "Sforce-Query-Options", "batchSize=200")
	if status != 200 {
		t.Fatalf("query = %d %s", status, body)
	}
	page := decode(t, body).(map[string]any)
	seen := map[string]bool{}
	pages := 0
	next := regexp.MustCompile(`^/services/data/v66\.0/query/01g[0-9A-Za-z]{15}-[0-9]+$`)
	for {
		pages++
		if page["totalSize"] != float64(451) {
			t.Fatalf("page %d totalSize = %v; want 451", pages, page["totalSize"])
		}
		for _, r := range page["records"].([]any) {
			seen[r.(map[string]any)["Id"].(string)] = true
		}
		if page["done"] == true {
			if _, has := page["nextRecordsUrl"]; has {
				t.Errorf("last page has nextRecordsUrl")
			}
			break
		}
		if n := len(page["records"].([]any)); n != 200 {
			t.Errorf("page %d has %d records; want 200", pages, n)
		}
		nextURL := page["nextRecordsUrl"].(string)
		if !next.MatchString(nextURL) {
			t.Fatalf("nextRecordsUrl = %q", nextURL)
		}
		page = decode(t, mustDo(t, h, "GET", nextURL, nil, 200)).(map[string]any)
	}
	if pages != 3 || len(seen) != 451 {
		t.Errorf("%d pages with %d distinct records; want 3 pages, 451 records", pages, len(seen))
	}
	if s := h.e.Stats(); s.ByKind["query"] != 3 {
		t.Errorf("query calls = %d; want 3 (each page counts)", s.ByKind["query"])
	}

	// The default and the clamped batch sizes.
	page = decode(t, mustDo(t, h, "GET", v+"/query?q="+q, nil, 200)).(map[string]any)
	if page["done"] != true || len(page["records"].([]any)) != 451 {
		t.Errorf("default batch: done=%v, %d records; want everything in one page", page["done"], len(page["records"].([]any)))
	}
	_, _, body = h.do("GET", v+"/queryAll?q="+q, nil, "Sforce-Query-Options", "batchSize=10")
	if n := len(decode(t, body).(map[string]any)["records"].([]any)); n != 200 {
		t.Errorf("batchSize=10 gave %d records; want the minimum 200", n)
	}

	for _, ref := range []string{"01g000000000000AAA-200", "garbage", strings.TrimPrefix(page["records"].([]any)[0].(map[string]any)["Id"].(string), "") + "-0"} {
		status, _, body = h.do("GET", v+"/query/"+ref, nil)
		if first := wantError(t, "locator "+ref, status, body, 404, "INVALID_QUERY_LOCATOR"); first["message"] != "invalid query locator" {
			t.Errorf("message = %v", first["message"])
		}
	}

	count := decode(t, mustDo(t, h, "GET", v+"/query?q="+url.QueryEscape("SELECT COUNT() FROM User WHERE IsActive = true"), nil, 200)).(map[string]any)
	if count["totalSize"] != float64(451) || len(count["records"].([]any)) != 0 {
		t.Errorf("COUNT() = %v", count)
	}
}
