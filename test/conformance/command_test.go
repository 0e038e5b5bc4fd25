package conformance

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// A --json file that cannot be written is known before the run sends a single request to the
// server under test; a run stopped by a setup error leaves no empty report behind.
func TestCommandChecksTheJSONFileFirst(t *testing.T) {
	t.Parallel()
	var requests atomic.Int64
	fake := newFakeServer("fake-token", permissive)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		fake.ServeHTTP(w, r)
	}))
	defer srv.Close()

	unwritable := filepath.Join(t.TempDir(), "no-such-dir", "report.json")
	var stdout, stderr bytes.Buffer
	if Command(context.Background(), []string{"--url", srv.URL + "/scim/v2", "--token", "fake-token", "--json", unwritable}, nil, &stdout, &stderr) {
		t.Fatal("Command succeeded with an unwritable --json file")
	}
	if !strings.Contains(stderr.String(), "--json: cannot create "+unwritable) || requests.Load() != 0 {
		t.Errorf("stderr %q after %d requests; want the file named before any request", stderr.String(), requests.Load())
	}

	report := filepath.Join(t.TempDir(), "report.json")
	stderr.Reset()
	if Command(context.Background(), []string{"--url", srv.URL + "/scim/v2", "--token", "wrong-token", "--json", report}, nil, &stdout, &stderr) {
		t.Fatal("Command succeeded with a wrong token")
	}
	if !strings.Contains(stderr.String(), "the token was rejected") {
		t.Errorf("stderr %q; want the token rejected", stderr.String())
	}
	if _, err := os.Stat(report); !os.IsNotExist(err) {
		t.Errorf("a run stopped by a setup error left %s behind (stat: %v)", report, err)
	}
}
