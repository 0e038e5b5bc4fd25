package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/scim-bridge/scim-bridge/salesforce/emulator"
	"github.com/scim-bridge/scim-bridge/salesforce/rest"
)

// DemoOptions configures StartDemo.
type DemoOptions struct {
	// Listen is the bridge's address; "" = listen from ConfigFile or SCIM_BRIDGE_LISTEN, else
	// 127.0.0.1:0 (a free port).
	Listen string
	// Token is the bearer token; "" = SCIM_BRIDGE_TOKEN (or …_FILE) from Env, else a generated one.
	Token string
	// ConfigFile is an optional YAML file applied before the demo settings.
	ConfigFile string
	// ConfigYAML is applied after the demo settings (tests use it to switch provisioning options).
	ConfigYAML string
	// Env is os.Environ-style; SCIM_BRIDGE_* variables apply as in serve, except that the demo
	// always sets the salesforce connection and the one bearer token.
	Env []string
	// Emulator adjusts the emulator's configuration before it starts (tests use it).
	Emulator func(*emulator.Config)
	// Logger receives the bridge's logs; nil = discard.
	Logger *zerolog.Logger
	// DefaultAdminListen turns the admin listener (the status page) on at this address when the
	// configuration leaves admin_listen empty; "" leaves it as configured.
	DefaultAdminListen string
}

// Demo is a running bridge on the built-in Salesforce emulator.
type Demo struct {
	// BaseURL is the SCIM base, e.g. http://127.0.0.1:8080/scim/v2.
	BaseURL string
	// URL is the bridge's root (for /healthz, /metrics).
	URL string
	// AdminURL is the admin listener's root (/status); "" when it is off.
	AdminURL string
	Token    string
	// Emulator is the in-process Salesforce; EmulatorURL is where the bridge reaches it over HTTP.
	Emulator    *emulator.Emulator
	EmulatorURL string

	cfg      Config
	stop     context.CancelFunc
	done     chan error
	emulator *http.Server
	admin    func() // stops the admin listener; nil when it is off
}

// StartDemo starts the emulator on a loopback port and the bridge in front of it, connected over
// real HTTP with real OAuth (refresh-token flow). Everything but the Salesforce org is the
// production code path. Close stops both.
func StartDemo(ctx context.Context, opts DemoOptions) (*Demo, error) {
	return startDemo(ctx, opts, "127.0.0.1:0")
}

// startDemo is StartDemo listening on defaultListen unless opts, the file or the environment say
// otherwise (serve --demo: 127.0.0.1:8080).
func startDemo(ctx context.Context, opts DemoOptions, defaultListen string) (*Demo, error) {
	logger := zerolog.Nop()
	if opts.Logger != nil {
		logger = *opts.Logger
	}
	emu, err := startDemoEmulator(opts)
	if err != nil {
		return nil, err
	}
	fail := func(err error) (*Demo, error) {
		_ = emu.server.Close()
		return nil, err
	}
	cfg, token, adminDefaulted, err := demoConfig(opts, emu, defaultListen)
	if err != nil {
		return fail(err)
	}

	runCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
	b, err := buildBridge(runCtx, cfg, logger, nil)
	if err != nil {
		stop()
		return fail(err)
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		stop()
		return fail(fmt.Errorf("listen: cannot listen on %s: %w", cfg.Listen, err))
	}
	if err := b.backend.Ready(runCtx); err != nil {
		stop()
		_ = ln.Close()
		return fail(fmt.Errorf("the bridge cannot reach its emulator: %w", err))
	}
	adminURL, stopAdmin, err := b.startDemoAdmin(runCtx, &cfg, adminDefaulted, logger)
	if err != nil {
		stop()
		_ = ln.Close()
		return fail(err)
	}
	announceDryRun(cfg, logger)
	root := "http://" + ln.Addr().String()
	d := &Demo{
		AdminURL:    adminURL,
		admin:       stopAdmin,
		BaseURL:     root + "/scim/v2",
		URL:         root,
		Token:       token,
		Emulator:    emu.emulator,
		EmulatorURL: emu.url,
		cfg:         cfg,
		stop:        stop,
		done:        make(chan error, 1),
		emulator:    emu.server,
	}
	b.ready.tokenObtained.Store(true) // Ready above obtained one
	// A demo is stopped by hand, not behind a load balancer: no shutdown_delay.
	go func() { d.done <- serving{handler: b.handler, ready: b.ready, logger: logger}.run(runCtx, ln) }()
	return d, nil
}

// demoEmulator is the demo's Salesforce org, serving on a loopback port.
type demoEmulator struct {
	emulator *emulator.Emulator
	config   emulator.Config // its connected app and refresh token
	server   *http.Server
	url      string
}

func startDemoEmulator(opts DemoOptions) (*demoEmulator, error) {
	emuCfg := emulator.Config{
		ClientID:     "scim-bridge-demo",
		ClientSecret: randomToken(16),
		RefreshToken: "5Aep" + randomToken(24),
		// Like a real org: audit datetimes in whole seconds.
		Quirks: emulator.Quirks{SecondResolutionTimestamps: true},
	}
	if opts.Emulator != nil {
		opts.Emulator(&emuCfg)
	}
	emu, err := emulator.New(emuCfg)
	if err != nil {
		return nil, fmt.Errorf("emulator: %w", err)
	}
	emuLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("emulator: %w", err)
	}
	emuSrv := &http.Server{Handler: emu.Handler(), ReadHeaderTimeout: 10 * time.Second, ErrorLog: log.New(io.Discard, "", 0)}
	go func() { _ = emuSrv.Serve(emuLn) }()
	return &demoEmulator{emulator: emu, config: emuCfg, server: emuSrv, url: "http://" + emuLn.Addr().String()}, nil
}

// useEmulator points cfg's Salesforce connection at an emulator listening on url (the demo's, or
// explain --offline's), replacing whatever the file and environment said about it.
func useEmulator(cfg *Config, url string, emu emulator.Config) {
	cfg.Salesforce.URL = url
	cfg.Salesforce.LoginURL = ""
	cfg.Salesforce.Flow = string(rest.FlowRefreshToken)
	cfg.Salesforce.ClientID = emu.ClientID
	cfg.Salesforce.ClientSecret = emu.ClientSecret
	cfg.Salesforce.RefreshToken = emu.RefreshToken
	cfg.Salesforce.AccessToken = ""
	cfg.Salesforce.TokenFile = ""
	cfg.Salesforce.JWT = JWTConfig{}
}

// demoConfig is the demo's validated configuration: opts.ConfigFile and the environment, the
// connection to emu and the one bearer token (returned too), then opts.ConfigYAML. adminDefaulted
// says that admin_listen is opts.DefaultAdminListen, not a setting.
func demoConfig(opts DemoOptions, emu *demoEmulator, defaultListen string) (cfg Config, token string, adminDefaulted bool, err error) {
	cfg = defaultConfig()
	cfg.Listen = ""
	var probs problems
	if opts.ConfigFile != "" {
		data, err := readFile(opts.ConfigFile)
		if err != nil {
			return cfg, "", false, err
		}
		probs = append(probs, decodeYAML(data, &cfg)...)
	}
	probs = append(probs, applyEnvironment(&cfg, envMap(opts.Env))...)
	token = opts.Token
	for _, t := range cfg.Auth.Tokens {
		if token == "" && t.Name == "env" { // SCIM_BRIDGE_TOKEN or SCIM_BRIDGE_TOKEN_FILE
			token = t.Token
		}
	}
	if token == "" {
		token = randomToken(24)
	}
	useEmulator(&cfg, emu.url, emu.config)
	cfg.Auth.Tokens = []TokenConfig{{Name: "demo", Token: token}}
	if opts.ConfigYAML != "" {
		probs = append(probs, decodeYAML([]byte(opts.ConfigYAML), &cfg)...)
	}
	switch {
	case opts.Listen != "":
		cfg.Listen = opts.Listen
	case cfg.Listen == "":
		cfg.Listen = defaultListen
	}
	adminDefaulted = cfg.AdminListen == "" && opts.DefaultAdminListen != ""
	if cfg.AdminListen == "" {
		cfg.AdminListen = opts.DefaultAdminListen
	}
	probs = append(probs, validate(&cfg, forServe)...)
	return cfg, token, adminDefaulted, probs.err()
}

// startDemoAdmin starts the admin listener (the status page) when cfg has one, and returns its URL
// and how to stop it. A busy admin_listen the demo chose itself is replaced by a free port.
func (b *bridge) startDemoAdmin(ctx context.Context, cfg *Config, adminDefaulted bool, logger zerolog.Logger) (url string, stop func(), err error) {
	if cfg.AdminListen == "" {
		return "", nil, nil
	}
	addr, stop, err := b.startAdmin(ctx, *cfg, logger)
	if err != nil && adminDefaulted {
		// The demo's own default port is busy (9090 is also Prometheus's, or another demo
		// runs): any free port will do, the banner prints it. An admin_listen the user set
		// is never changed.
		if host, _, serr := net.SplitHostPort(cfg.AdminListen); serr == nil {
			cfg.AdminListen = net.JoinHostPort(host, "0")
			addr, stop, err = b.startAdmin(ctx, *cfg, logger)
		}
	}
	if err != nil {
		return "", nil, err
	}
	return "http://" + addr, stop, nil
}

// Close stops the bridge (draining requests) and then the emulator.
func (d *Demo) Close() error {
	d.stop()
	err := <-d.done
	if d.admin != nil {
		d.admin()
	}
	if cerr := d.emulator.Close(); cerr != nil && err == nil && !errors.Is(cerr, http.ErrServerClosed) {
		err = cerr
	}
	return err
}

func printDemoBanner(w io.Writer, d *Demo) {
	var b strings.Builder
	fmt.Fprintf(&b, "\nscim-bridge demo: a SCIM 2.0 server in front of a built-in Salesforce emulator\n\n")
	fmt.Fprintf(&b, "  SCIM base URL   %s\n", d.BaseURL)
	fmt.Fprintf(&b, "  Bearer token    %s\n", d.Token)
	fmt.Fprintf(&b, "  Salesforce      %s (emulator)\n", d.EmulatorURL)
	// For Salesforce clients (sf, jsforce, …) against the demo org: a client-credentials token
	// runs as the integration user (docs/emulator.md).
	fmt.Fprintf(&b, "  Connected app   client id %s, client secret %s\n", d.cfg.Salesforce.ClientID, d.cfg.Salesforce.ClientSecret)
	if d.AdminURL != "" {
		fmt.Fprintf(&b, "  Status page     %s/status\n", d.AdminURL)
	}
	fmt.Fprintf(&b, "\n")
	fmt.Fprintf(&b, "Try:\n\n")
	fmt.Fprintf(&b, "  curl -s -H 'Authorization: Bearer %s' '%s/Users?count=5'\n\n", d.Token, d.BaseURL)
	fmt.Fprintf(&b, "  curl -s -H 'Authorization: Bearer %s' -H 'Content-Type: application/scim+json' \\\n", d.Token)
	fmt.Fprintf(&b, "    -d '{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\"],\"userName\":\"ada@example.com\",\"name\":{\"givenName\":\"Ada\",\"familyName\":\"Lovelace\"},\"emails\":[{\"value\":\"ada@example.com\",\"type\":\"work\",\"primary\":true}]}' \\\n")
	fmt.Fprintf(&b, "    '%s/Users'\n\n", d.BaseURL)
	fmt.Fprintf(&b, "Press Ctrl-C to stop.\n\n")
	fmt.Fprint(w, b.String())
}
