package setting

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestFieldErrorsInPutsTheSectionInFrontOfEveryKey(t *testing.T) {
	var es FieldErrors
	es.Add("api_version", "must look like %s", "66.0")
	es.Add("jwt.username", "is required with flow jwt")
	es.Add("[2]", "is not a valid name pattern")
	got := es.In("salesforce")
	want := FieldErrors{
		{"salesforce.api_version", "must look like 66.0"},
		{"salesforce.jwt.username", "is required with flow jwt"},
		{"salesforce[2]", "is not a valid name pattern"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("In(salesforce) mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(es, es.In("")); diff != "" {
		t.Errorf("In(\"\") changed the keys (-want +got):\n%s", diff)
	}
}

func TestFieldErrorsErrorListsEveryProblemOnItsOwnLine(t *testing.T) {
	es := FieldErrors{{"url", "is required"}, {"flow", "must be refresh_token, client_credentials or jwt"}}
	if got, want := es.Error(), "url: is required\nflow: must be refresh_token, client_credentials or jwt"; got != want {
		t.Errorf("Error() = %q; want %q", got, want)
	}
	var target FieldErrors
	if err := es.Err(); !errors.As(err, &target) || len(target) != 2 {
		t.Errorf("Err() = %v; want the FieldErrors themselves", err)
	}
	if err := FieldErrors(nil).Err(); err != nil {
		t.Errorf("Err() of no problems = %v; want nil", err)
	}
	if !es.Has("flow") || es.Has("jwt") {
		t.Errorf("Has: flow %v, jwt %v; want true, false", es.Has("flow"), es.Has("jwt"))
	}
}
