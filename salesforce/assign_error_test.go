package salesforce

import (
	"errors"
	"strings"
	"testing"

	"github.com/scim-bridge/scim-bridge/scimschema"
)

// A refused assignment's error (its detail and the cause that is logged) names the members and
// Salesforce's code, never Salesforce's message, which can echo submitted values.
func TestAssignmentErrorLeavesOutSalesforceMessages(t *testing.T) {
	const secret = "jane.secret@example.com"
	failures := []recordFailure{{index: 0, code: "FIELD_CUSTOM_VALIDATION_EXCEPTION", message: "value " + secret + " is not allowed"}}
	err := assignmentError("updating members of group 0PS000000000001", failures, func(int) string { return "member 005000000000001" })
	var se *scimschema.Error
	if !errors.As(err, &se) || se.Kind != scimschema.KindInvalidValue {
		t.Fatalf("assignmentError = %v; want an invalidValue *scimschema.Error", err)
	}
	if se.Err == nil {
		t.Fatal("no cause")
	}
	for what, text := range map[string]string{"detail": se.Detail, "cause": se.Err.Error(), "error": err.Error()} {
		if strings.Contains(text, secret) {
			t.Errorf("%s %q holds Salesforce's message", what, text)
		}
	}
	if !strings.Contains(se.Err.Error(), "FIELD_CUSTOM_VALIDATION_EXCEPTION") || !strings.Contains(se.Detail, "member 005000000000001") {
		t.Errorf("detail %q, cause %q; want the member in the detail and the code in the cause", se.Detail, se.Err)
	}
}
