package rest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// Bodies recorded from Salesforce (see reference/salesforce-api.md §2.9).
func TestDecodeError(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		status int
		body   string
		want   Error
	}{
		{"session expired", 401, `[{"message":"Session expired or invalid","errorCode":"INVALID_SESSION_ID"}]`,
			Error{Status: 401, Code: "INVALID_SESSION_ID", Message: "Session expired or invalid", Kind: KindAuth}},
		{"not found", 404, `[{"errorCode":"NOT_FOUND","message":"The requested resource does not exist"}]`,
			Error{Status: 404, Code: "NOT_FOUND", Message: "The requested resource does not exist", Kind: KindNotFound}},
		{"duplicate username", 400, `[{"message":"Duplicate Username.<br>The username already exists","errorCode":"DUPLICATE_USERNAME","fields":["Username"]}]`,
			Error{Status: 400, Code: "DUPLICATE_USERNAME", Message: "Duplicate Username.<br>The username already exists", Fields: []string{"Username"}, Kind: KindConflict}},
		{"duplicate nickname", 400, `[{"message":"Duplicate Nickname.","errorCode":"DUPLICATE_COMM_NICKNAME","fields":["CommunityNickname"]}]`,
			Error{Status: 400, Code: "DUPLICATE_COMM_NICKNAME", Message: "Duplicate Nickname.", Fields: []string{"CommunityNickname"}, Kind: KindConflict}},
		{"required fields", 400, `[{"message":"Required fields are missing: [Alias, TimeZoneSidKey]","errorCode":"REQUIRED_FIELD_MISSING","fields":["Alias","TimeZoneSidKey"]}]`,
			Error{Status: 400, Code: "REQUIRED_FIELD_MISSING", Message: "Required fields are missing: [Alias, TimeZoneSidKey]", Fields: []string{"Alias", "TimeZoneSidKey"}, Kind: KindInvalid}},
		{"limit exceeded", 403, `[{"message":"TotalRequests Limit exceeded.","errorCode":"REQUEST_LIMIT_EXCEEDED"}]`,
			Error{Status: 403, Code: "REQUEST_LIMIT_EXCEEDED", Message: "TotalRequests Limit exceeded.", Kind: KindLimited}},
		{"lock contention", 400, `[{"message":"unable to obtain exclusive access to this record or 1 records: 005D2000005smGPIA","errorCode":"UNABLE_TO_LOCK_ROW","fields":[]}]`,
			Error{Status: 400, Code: "UNABLE_TO_LOCK_ROW", Message: "unable to obtain exclusive access to this record or 1 records: 005D2000005smGPIA", Fields: nil, Kind: KindLocked}},
		{"bad reference in a create is invalid", 400, `[{"message":"invalid cross reference id","errorCode":"INVALID_CROSS_REFERENCE_KEY"}]`,
			Error{Status: 400, Code: "INVALID_CROSS_REFERENCE_KEY", Message: "invalid cross reference id", Kind: KindInvalid}},
		{"bad direct id in composite is not found", 404, `[{"message":"invalid cross reference id","errorCode":"INVALID_CROSS_REFERENCE_KEY"}]`,
			Error{Status: 404, Code: "INVALID_CROSS_REFERENCE_KEY", Message: "invalid cross reference id", Kind: KindNotFound}},
		{"maintenance", 503, `[{"errorCode":"SERVER_UNAVAILABLE","message":"Server Unavailable"}]`,
			Error{Status: 503, Code: "SERVER_UNAVAILABLE", Message: "Server Unavailable", Kind: KindUnavailable}},
		{"server error", 500, `[{"errorCode":"UNKNOWN_EXCEPTION","message":"An unexpected error occurred."}]`,
			Error{Status: 500, Code: "UNKNOWN_EXCEPTION", Message: "An unexpected error occurred.", Kind: KindUnavailable}},
		{"gateway html", 502, `<html><body><h1>502 Bad Gateway</h1><script>alert(1)</script></body></html>`,
			Error{Status: 502, Message: "Salesforce answered HTTP 502 with a non-JSON body", Kind: KindUnavailable}},
		{"empty body", 500, ``,
			Error{Status: 500, Message: "Salesforce answered HTTP 500 with an empty body", Kind: KindUnavailable}},
		{"user delete refused", 405, `[{"errorCode":"METHOD_NOT_ALLOWED","message":"HTTP Method 'DELETE' not allowed. Allowed are HEAD,GET,PATCH"}]`,
			Error{Status: 405, Code: "METHOD_NOT_ALLOWED", Message: "HTTP Method 'DELETE' not allowed. Allowed are HEAD,GET,PATCH", Kind: KindOther}},
		{"stale locator", 404, `[{"errorCode":"INVALID_QUERY_LOCATOR","message":"Invalid query locator"}]`,
			Error{Status: 404, Code: "INVALID_QUERY_LOCATOR", Message: "Invalid query locator", Kind: KindUnavailable}},
		{"several errors", 400, `[{"errorCode":"STRING_TOO_LONG","message":"Alias: too long","fields":["Alias"]},{"errorCode":"INVALID_EMAIL_ADDRESS","message":"Email: invalid","fields":["Email","Alias"]}]`,
			Error{Status: 400, Code: "STRING_TOO_LONG", Message: "Alias: too long; Email: invalid", Fields: []string{"Alias", "Email"}, Kind: KindInvalid}},
		{"single object", 400, `{"errorCode":"MALFORMED_QUERY","message":"unexpected token"}`,
			Error{Status: 400, Code: "MALFORMED_QUERY", Message: "unexpected token", Kind: KindInvalid}},
		{"json without a code", 500, `{"oops":true}`,
			Error{Status: 500, Message: "Salesforce answered HTTP 500 with a non-JSON body", Kind: KindUnavailable}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := decodeError(tt.status, []byte(tt.body))
			if diff := cmp.Diff(tt.want, *got, cmpopts.IgnoreUnexported(Error{}), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("decodeError(%d, …) mismatch (-want +got):\n%s", tt.status, diff)
			}
		})
	}
}

func TestErrorTextLeavesOutSalesforceMessages(t *testing.T) {
	t.Parallel()
	e := decodeError(400, []byte(`[{"errorCode":"INVALID_EMAIL_ADDRESS","message":"Email: invalid email address: secret.person@example.com","fields":["Email"]}]`))
	got := e.Error()
	if strings.Contains(got, "secret.person") {
		t.Errorf("Error() = %q; it echoes a field value", got)
	}
	if want := "salesforce: HTTP 400 INVALID_EMAIL_ADDRESS (fields Email)"; got != want {
		t.Errorf("Error() = %q; want %q", got, want)
	}
	html := decodeError(502, []byte("<html><title>secret-internal-host</title></html>"))
	if got := html.Error(); strings.Contains(got, "secret") || !strings.Contains(got, "non-JSON") {
		t.Errorf("Error() = %q; want the non-JSON message and no body text", got)
	}
}

func TestKindOf(t *testing.T) {
	t.Parallel()
	limited := &Error{Status: 403, Code: "REQUEST_LIMIT_EXCEEDED", Kind: KindLimited}
	tests := []struct {
		name string
		err  error
		want Kind
	}{
		{"nil", nil, KindOther},
		{"direct", limited, KindLimited},
		{"wrapped", fmt.Errorf("creating user: %w", limited), KindLimited},
		{"deadline", context.DeadlineExceeded, KindUnavailable},
		{"wrapped deadline", fmt.Errorf("x: %w", context.DeadlineExceeded), KindUnavailable},
		{"network", &net.OpError{Op: "dial", Err: errors.New("connection refused")}, KindUnavailable},
		{"transport error", transportError(&net.OpError{Op: "read", Err: errors.New("reset")}), KindUnavailable},
		{"plain", errors.New("boom"), KindOther},
	}
	for _, tt := range tests {
		if got := KindOf(tt.err); got != tt.want {
			t.Errorf("KindOf(%s) = %v; want %v", tt.name, got, tt.want)
		}
	}
	if !IsCode(fmt.Errorf("w: %w", limited), "REQUEST_LIMIT_EXCEEDED") || IsCode(limited, "NOT_FOUND") || IsCode(nil, "") {
		t.Error("IsCode does not look through wrapping or matches the wrong code")
	}
	te := transportError(fmt.Errorf("Get \"https://x/services/data/v66.0/query?q=SELECT+Id+FROM+User+WHERE+Email='a@b'\": %w", context.DeadlineExceeded))
	if !errors.Is(te, context.DeadlineExceeded) {
		t.Error("transportError hides context.DeadlineExceeded from errors.Is")
	}
	if strings.Contains(te.Error(), "a@b") {
		t.Errorf("transportError text %q echoes the request URL", te.Error())
	}
}

// Errors decoded over HTTP from a handler that answers like Salesforce.
func TestErrorKindsOverHTTP(t *testing.T) {
	t.Parallel()
	tests := []struct {
		status int
		body   string
		want   Kind
		code   string
	}{
		{404, `[{"errorCode":"NOT_FOUND","message":"The requested resource does not exist"}]`, KindNotFound, "NOT_FOUND"},
		{400, `[{"errorCode":"DUPLICATE_VALUE","message":"duplicate value found"}]`, KindConflict, "DUPLICATE_VALUE"},
		{400, `[{"errorCode":"INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST","message":"bad value","fields":["TimeZoneSidKey"]}]`, KindInvalid, "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"},
		{403, `[{"errorCode":"REQUEST_LIMIT_EXCEEDED","message":"TotalRequests Limit exceeded."}]`, KindLimited, "REQUEST_LIMIT_EXCEEDED"},
		{403, `[{"errorCode":"INSUFFICIENT_ACCESS_OR_READONLY","message":"insufficient access rights"}]`, KindOther, "INSUFFICIENT_ACCESS_OR_READONLY"},
		{502, `<html>Bad Gateway</html>`, KindUnavailable, ""},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.status, tt.code), func(t *testing.T) {
			t.Parallel()
			c := fakeOrg(t, func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(tt.status)
				fmt.Fprint(w, tt.body)
			}, func(cfg *Config) { cfg.Retry = RetryPolicy{Attempts: 1} })
			_, err := c.Create(context.Background(), "User", Record{"LastName": "x"})
			if KindOf(err) != tt.want || !IsCode(err, tt.code) && tt.code != "" {
				t.Errorf("Create() error = %v (kind %v); want kind %v code %q", err, KindOf(err), tt.want, tt.code)
			}
		})
	}
}

func TestSafeReadsAsASentence(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		err  *Error
		want string
	}{
		{NewError(KindUnavailable, "token endpoint: Salesforce could not be reached: connection refused"), "token endpoint: Salesforce could not be reached: connection refused"},
		{&Error{Status: 400, Code: "invalid_grant", Kind: KindAuth, ownMessage: true, Message: "refresh token rejected"}, "HTTP 400 invalid_grant: refresh token rejected"},
		{&Error{Status: 403, Code: "REQUEST_LIMIT_EXCEEDED", Kind: KindLimited, Message: "TotalRequests Limit exceeded."}, "HTTP 403 REQUEST_LIMIT_EXCEEDED"},
		{&Error{Kind: KindUnavailable, Message: "Salesforce's own words"}, "unavailable"},
	} {
		if got := tc.err.Safe(); got != tc.want {
			t.Errorf("Safe() = %q; want %q", got, tc.want)
		}
	}
}
