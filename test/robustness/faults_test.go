package robustness

import (
	"net/http"
	"testing"
	"time"

	"github.com/scim-bridge/scim-bridge/salesforce/emulator"
	"github.com/scim-bridge/scim-bridge/test/harness"
)

// TestSalesforceFaultsDuringWrites makes Salesforce fail every write (POST and PATCH on the REST API)
// the way it or the network in front of it does, and checks what the IdP sees: 429 for the API
// limit, 503 for an outage, both with Retry-After, never a 500 or Salesforce's text, and a failed
// write that Salesforce did not apply leaves nothing behind. Each case has its own bridge because
// faults are org-wide.
func TestSalesforceFaultsDuringWrites(t *testing.T) {
	t.Parallel()
	outage := expect{status: []int{http.StatusServiceUnavailable}}
	limited := expect{status: []int{http.StatusTooManyRequests}}
	cases := []struct {
		name  string
		fault emulator.Fault
		want  expect
		// applied: Salesforce carried the write out (only its answer was lost), so "nothing
		// changed" cannot be asserted.
		applied bool
		config  string
	}{
		{name: "500 UNKNOWN_EXCEPTION", fault: emulator.Fault{Status: 500, Times: -1}, want: outage},
		{name: "502 HTML gateway page", fault: emulator.Fault{HTML: true, Times: -1}, want: outage},
		{name: "503 HTML page", fault: emulator.Fault{Status: 503, HTML: true, Times: -1}, want: outage},
		{name: "503 SERVER_UNAVAILABLE", fault: emulator.Fault{Status: 503, Times: -1}, want: outage},
		{name: "dropped connection", fault: emulator.Fault{DropConnection: true, Times: -1}, want: outage},
		// The write happened; a bridge that reconciles (reads back what it wrote) may answer success.
		{name: "dropped connection after apply", fault: emulator.Fault{DropConnection: true, AfterApply: true, Times: 1},
			want: expect{status: []int{http.StatusOK, http.StatusCreated, http.StatusNoContent, http.StatusServiceUnavailable}}, applied: true},
		{name: "UNABLE_TO_LOCK_ROW every time", fault: emulator.Fault{ErrorCode: "UNABLE_TO_LOCK_ROW", Times: -1},
			want: expect{status: []int{http.StatusServiceUnavailable, http.StatusTooManyRequests}}},
		{name: "UNABLE_TO_LOCK_ROW once", fault: emulator.Fault{ErrorCode: "UNABLE_TO_LOCK_ROW", Times: 1},
			want: expect{status: []int{http.StatusOK, http.StatusCreated, http.StatusNoContent}}},
		{name: "REQUEST_LIMIT_EXCEEDED", fault: emulator.Fault{Status: 403, ErrorCode: "REQUEST_LIMIT_EXCEEDED", Times: -1}, want: limited},
		{name: "timeout", fault: emulator.Fault{Latency: 3 * time.Second, Times: -1}, want: outage, applied: true,
			config: "salesforce:\n  timeout: 1s\n"},
	}
	operations := []string{"create user", "patch user", "add member"}
	for _, tc := range cases {
		for _, operation := range operations {
			t.Run(tc.name+"/"+operation, func(t *testing.T) {
				t.Parallel()
				b := start(t, options{configYAML: tc.config})
				userID := b.createUser(t, b.marker("w"))
				groupID := b.groupID(t, "Analytics Viewer")
				b.do(t, http.MethodGet, "/Groups?excludedAttributes=members", nil)
				userBefore, groupBefore := b.Org.UserState(userID), b.Org.GroupState(groupID)
				for _, method := range []string{http.MethodPost, http.MethodPatch, http.MethodDelete} {
					f := tc.fault
					f.Method, f.PathPattern = method, "/services/data/*"
					b.Emulator.InjectFault(f)
				}
				m := b.marker("w")
				var resp harness.Response
				switch operation {
				case "create user":
					resp = b.do(t, http.MethodPost, "/Users", validUser(m))
				case "patch user":
					resp = b.do(t, http.MethodPatch, "/Users/"+userID, patchBody(
						op("replace", "title", m), op("replace", "active", false)))
				case "add member":
					resp = b.do(t, http.MethodPatch, "/Groups/"+groupID, patchBody(op("add", "members", members(userID))))
				}
				what := operation + " while Salesforce answers " + tc.name
				b.check(t, what, resp, tc.want)
				if resp.Status < 400 || tc.applied {
					return
				}
				switch operation {
				case "create user":
					if ids := b.Org.UsersWith(m); len(ids) > 0 {
						t.Errorf("%s = %d but Salesforce holds User %v", what, resp.Status, ids)
					}
				case "patch user":
					assertUnchanged(t, what, userBefore, b.Org.UserState(userID))
				case "add member":
					assertUnchanged(t, what, groupBefore, b.Org.GroupState(groupID))
				}
			})
		}
	}
}

// TestSalesforceFaultsDuringReads fails every Salesforce call of a list and a read.
func TestSalesforceFaultsDuringReads(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		fault emulator.Fault
		want  int
	}{
		{"500", emulator.Fault{Status: 500, Times: -1}, http.StatusServiceUnavailable},
		{"HTML", emulator.Fault{HTML: true, Times: -1}, http.StatusServiceUnavailable},
		{"dropped connection", emulator.Fault{DropConnection: true, Times: -1}, http.StatusServiceUnavailable},
		{"REQUEST_LIMIT_EXCEEDED", emulator.Fault{Status: 403, ErrorCode: "REQUEST_LIMIT_EXCEEDED", Times: -1}, http.StatusTooManyRequests},
		{"expired session and refresh refused", emulator.Fault{ForceInvalidGrant: true, PathPattern: "/services/oauth2/*", Times: -1},
			http.StatusServiceUnavailable},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := start(t, options{})
			userID := b.createUser(t, b.marker("r"))
			f := tc.fault
			if f.PathPattern == "" {
				f.PathPattern = "/services/data/*"
			} else {
				b.Emulator.ExpireTokens()
			}
			b.Emulator.InjectFault(f)
			for _, path := range []string{
				"/Users?filter=" + "userName%20eq%20%22" + b.marker("r") + "%40example.com%22",
				"/Users/" + userID,
				"/Groups?excludedAttributes=members",
			} {
				resp := b.do(t, http.MethodGet, path, nil)
				b.check(t, "GET "+path+" while Salesforce answers "+tc.name, resp, expect{status: []int{tc.want}})
			}
		})
	}
}
