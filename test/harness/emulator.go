package harness

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/scim-bridge/scim-bridge/salesforce/emulator"
)

// EmulatorOptions configures an emulator started on its own (for bridges that run as separate
// processes or through app.Run).
type EmulatorOptions struct {
	// ClientID, ClientSecret and RefreshToken are the connected app's credentials.
	ClientID, ClientSecret, RefreshToken string
	// Seats and APILimit as in Options.
	Seats, APILimit int
	// Emulator adjusts the configuration last.
	Emulator func(*emulator.Config)
	// Wrap, when set, wraps the emulator's handler: faults the test decides per request.
	Wrap func(*emulator.Emulator, http.Handler) http.Handler
}

// Emulator is a running emulator and the URL it serves.
type Emulator struct {
	*emulator.Emulator
	URL string
	// Org reads and writes what it holds.
	Org Org
}

// StartEmulator runs an emulator under the test profile on a free loopback port until the test
// ends.
func StartEmulator(t testing.TB, opts EmulatorOptions) *Emulator {
	t.Helper()
	cfg := emulator.Config{ClientID: opts.ClientID, ClientSecret: opts.ClientSecret, RefreshToken: opts.RefreshToken, Profile: Profile(t)}
	seedOrg(&cfg, opts.Seats, opts.APILimit)
	if opts.Emulator != nil {
		opts.Emulator(&cfg)
	}
	e, err := emulator.New(cfg)
	if err != nil {
		t.Fatalf("emulator.New: %v", err)
	}
	var h http.Handler = e.Handler()
	if opts.Wrap != nil {
		h = opts.Wrap(e, h)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &Emulator{Emulator: e, URL: srv.URL, Org: Org{e}}
}
