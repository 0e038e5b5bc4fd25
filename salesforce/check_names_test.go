package salesforce

import (
	"fmt"
	"strings"
	"testing"
)

func TestProfileNamesAreCut(t *testing.T) {
	cat := &catalog{}
	for i := range 32 {
		cat.profiles = append(cat.profiles, profile{Name: fmt.Sprintf("P%02d", i)})
	}
	got := profileNames(cat)
	if !strings.HasPrefix(got, `"P00", "P01"`) || !strings.Contains(got, `"P29" and 2 more`) || strings.Contains(got, "P30") {
		t.Errorf("profileNames = %q; want 30 sorted names and a count of the rest", got)
	}
}
