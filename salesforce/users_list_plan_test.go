package salesforce

import "testing"

// pagingOf picks one strategy per ListQuery shape; the call budgets of each are checked by the
// ListUsers tests against the emulator.
func TestPagingOf(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name         string
		exact        bool
		start, count int
		cursor       bool
		want         paging
	}{
		{"count=0 asks only for the total", false, 1, 0, false, countOnly},
		{"count=0 deep in the listing", false, 5000, 0, true, countOnly},
		{"first page", false, 1, 100, false, byOffset},
		{"a page starting at OFFSET 2000", false, maxOffset + 1, 100, false, byOffset},
		{"a page within OFFSET ignores a cursor", false, 1981, 20, true, byOffset},
		{"sequential page past OFFSET 2000", false, maxOffset + 2, 20, true, afterCursor},
		{"random page past OFFSET 2000", false, maxOffset + 2, 20, false, byWalking},
		{"case-exact filter", true, 1, 100, false, byExactCheck},
		{"case-exact filter counts after the check", true, 1, 0, false, byExactCheck},
		{"case-exact filter past OFFSET 2000", true, 3000, 10, false, byExactCheck},
	} {
		if got := pagingOf(tc.exact, tc.start, tc.count, tc.cursor); got != tc.want {
			t.Errorf("%s: pagingOf(exact %v, start %d, count %d, cursor %v) = %d; want %d",
				tc.name, tc.exact, tc.start, tc.count, tc.cursor, got, tc.want)
		}
	}
}
