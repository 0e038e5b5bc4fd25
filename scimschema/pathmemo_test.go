package scimschema

import (
	"fmt"
	"reflect"
	"testing"

	filter "github.com/scim2/filter-parser/v2"
)

// A memoised path is what the parser gives, each time; failures and paths past the bound are
// parsed again, not kept.
func TestPathMemoAnswersLikeTheParser(t *testing.T) {
	pm := newPathMemo()
	for _, raw := range []string{"active", "name.givenName", `emails[type eq "work"].value`,
		"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value", "active"} {
		want, err := filter.ParsePath([]byte(raw))
		if err != nil {
			t.Fatalf("ParsePath(%q): %v", raw, err)
		}
		for range 2 {
			got, err := pm.path(raw)
			if err != nil || !reflect.DeepEqual(got, want) {
				t.Errorf("path(%q) = %+v, %v; want %+v", raw, got, err, want)
			}
		}
	}
	if _, err := pm.path("a b"); err == nil {
		t.Error(`path("a b") parsed`)
	}
	if _, err := pm.attrPath("name..x"); err == nil {
		t.Error(`attrPath("name..x") parsed`)
	}
	if len(pm.paths) != 4 || len(pm.attrs) != 0 {
		t.Errorf("memo holds %d paths and %d attribute paths; want 4 and 0 (failures are not kept)", len(pm.paths), len(pm.attrs))
	}
	for i := range 2 * pathMemoSize {
		raw := fmt.Sprintf("attr%d", i)
		got, err := pm.attrPath(raw)
		if err != nil || got.AttributeName != raw {
			t.Fatalf("attrPath(%q) = %+v, %v", raw, got, err)
		}
	}
	if len(pm.attrs) != pathMemoSize {
		t.Errorf("memo holds %d attribute paths; want the bound %d", len(pm.attrs), pathMemoSize)
	}
}
