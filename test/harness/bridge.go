package harness

import (
	"context"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/scim-bridge/scim-bridge/cmd/scim-bridge/app"
	"github.com/scim-bridge/scim-bridge/salesforce/emulator"
)

// DefaultToken is the bearer token of a bridge started without Options.Token.
const DefaultToken = "harness-bearer-token-0123456789"

// Options says how the bridge and its emulator differ from the demo's.
type Options struct {
	// Config is YAML applied over the demo configuration (DESIGN.md key names), e.g. a
	// coalescing window "salesforce:\n  batch_window: 1s\n".
	Config string
	// Token is the bridge's bearer token; "" = DefaultToken.
	Token string
	// Seats, when positive, is the TotalLicenses of every licence of the default seed.
	Seats int
	// APILimit, when positive, is the org's daily API allowance.
	APILimit int
	// Emulator adjusts the emulator's configuration last (a seed, quirks, the profile).
	Emulator func(*emulator.Config)
	// Logs keeps the bridge's JSON log at LogLevel in Bridge.Logs (LogLevel's zero value is
	// debug); without it the log is discarded.
	Logs     bool
	LogLevel zerolog.Level
	// AdminListen turns the admin listener (the status page) on at this address, e.g.
	// "127.0.0.1:0".
	AdminListen string
	// HTTP sends the SCIM requests; nil = NewHTTPClient().
	HTTP *http.Client
}

// Bridge is one running bridge and its in-process emulator. Both stop when the test ends.
type Bridge struct {
	*app.Demo
	// SCIM talks to the bridge with its token.
	SCIM *Client
	// Org reads and writes what Salesforce holds, behind the bridge's back.
	Org Org
	// Logs is the captured log; nil unless Options.Logs.
	Logs *Logs
	// Secrets are the values that must reach neither a log nor a response: the bearer token and
	// the emulator's client secret and refresh token.
	Secrets []string
}

// Start runs a bridge in front of a fresh emulator (app.StartDemo: the production code path over
// loopback HTTP, both on free ports) and stops both when the test ends.
func Start(t testing.TB, opts Options) *Bridge {
	t.Helper()
	token := opts.Token
	if token == "" {
		token = DefaultToken
	}
	b := &Bridge{}
	demo := app.DemoOptions{
		Token:              token,
		ConfigYAML:         opts.Config,
		DefaultAdminListen: opts.AdminListen,
	}
	if opts.Logs {
		b.Logs = &Logs{}
		logger := zerolog.New(b.Logs).Level(opts.LogLevel).With().Timestamp().Logger()
		demo.Logger = &logger
	}
	var emuSecret, emuRefresh string
	profile := Profile(t)
	demo.Emulator = func(c *emulator.Config) {
		c.Profile = profile
		seedOrg(c, opts.Seats, opts.APILimit)
		if opts.Emulator != nil {
			opts.Emulator(c)
		}
		emuSecret, emuRefresh = c.ClientSecret, c.RefreshToken
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	d, err := app.StartDemo(ctx, demo)
	if err != nil {
		t.Fatalf("StartDemo: %v", err)
	}
	t.Cleanup(func() {
		if err := d.Close(); err != nil {
			t.Errorf("Demo.Close: %v", err)
		}
	})
	b.Demo = d
	b.SCIM = &Client{BaseURL: d.BaseURL, Token: d.Token, HTTP: opts.HTTP}
	b.Org = Org{d.Emulator}
	b.Secrets = []string{token, emuSecret, emuRefresh}
	return b
}

// Profile is the emulator profile SCIM_BRIDGE_TEST_EMULATOR_PROFILE names (default when unset).
func Profile(t testing.TB) emulator.Profile {
	t.Helper()
	p, err := emulator.ProfileFromEnv(os.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// seedOrg gives the org the default seed with seats licences of each kind (when seats > 0) and an
// API allowance of apiLimit calls (when apiLimit > 0).
func seedOrg(c *emulator.Config, seats, apiLimit int) {
	if seats > 0 {
		seed := emulator.DefaultSeed()
		for i := range seed.Licenses {
			seed.Licenses[i].TotalLicenses = seats
		}
		c.Seed = seed
	}
	if apiLimit > 0 {
		c.APILimit = apiLimit
	}
}
