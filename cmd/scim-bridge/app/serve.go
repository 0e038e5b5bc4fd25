package app

import (
	"context"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/elimity-com/scim/schema"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/rs/zerolog"

	"github.com/scim-bridge/scim-bridge/salesforce"
	"github.com/scim-bridge/scim-bridge/salesforce/rest"
	"github.com/scim-bridge/scim-bridge/server"
	"github.com/scim-bridge/scim-bridge/server/status"
)

// allowStringBooleans sets the SCIM library's process-wide switch for Entra's string booleans
// ("active": "False") once: the library keeps it in an unsynchronised global.
var allowStringBooleans sync.Once

// bridge is the wired product: Salesforce client, provisioning backend and the HTTP handler, with
// the bearer tokens (replaced on SIGHUP) and the readiness state behind /readyz.
type bridge struct {
	client   *rest.Client
	backend  *salesforce.Backend
	handler  http.Handler
	tokens   *server.TokenSet
	ready    *readiness
	recorder *status.Recorder     // what the status page shows
	registry *prometheus.Registry // every metric of the process
}

// buildBridge wires everything from a validated Config. httpClient may be nil.
func buildBridge(ctx context.Context, cfg Config, logger zerolog.Logger, httpClient *http.Client) (*bridge, error) {
	allowStringBooleans.Do(func() { schema.SetAllowStringValues(true) })
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	b, err := buildBackend(ctx, cfg, logger, httpClient, reg)
	if err != nil {
		return nil, err
	}
	if b.tokens, err = server.NewTokenSet(serverTokens(cfg.Auth.Tokens)); err != nil {
		return nil, err
	}
	b.ready = &readiness{}
	sc := cfg.serverSettings()
	sc.Users, sc.Groups, sc.TokenSet = b.backend, b.backend, b.tokens
	sc.Logger, sc.Registerer, sc.Gatherer = logger, reg, reg
	sc.Ready, sc.TokenUsed = b.ready.check, b.recorder.TokenUsed
	b.handler, err = server.New(sc)
	if err != nil {
		return nil, err
	}
	return b, nil
}

// buildBackend wires the Salesforce client and the provisioning backend, registering their metrics
// in reg. check uses it alone; buildBridge adds the SCIM server.
func buildBackend(ctx context.Context, cfg Config, logger zerolog.Logger, httpClient *http.Client, reg *prometheus.Registry) (*bridge, error) {
	rc := cfg.restSettings()
	rc.HTTPClient, rc.Registerer, rc.Logger = httpClient, reg, logger
	client, err := rest.New(ctx, rc)
	if err != nil {
		return nil, err
	}
	recorder := status.NewRecorder(nil)
	bc, probs := cfg.backendSettings()
	if err := probs.err(); err != nil {
		return nil, err // validate reported it already
	}
	bc.Audit.OnChange = func(c salesforce.Change) { recorder.Audit(auditEvent(c)) }
	bc.Registerer, bc.Logger = reg, logger
	backend, err := salesforce.NewBackend(client, bc)
	if err != nil {
		return nil, err
	}
	return &bridge{client: client, backend: backend, recorder: recorder, registry: reg}, nil
}

func runServe(ctx context.Context, args []string, env []string, stdout, stderr io.Writer, sig Signals) error {
	fs := newFlagSet("serve", stderr)
	configFile := fs.String("config", "", "YAML configuration file (or SCIM_BRIDGE_CONFIG)")
	demo := fs.Bool("demo", false, "run on the built-in Salesforce emulator; needs no account and no config")
	listen := fs.String("listen", "", "address to listen on (overrides listen)")
	printConfig := fs.Bool("print-config", false, "print the effective configuration with secrets redacted, then exit")
	if ok, err := parseFlags(fs, args); !ok {
		return err
	}
	em := envMap(env)
	if *configFile == "" {
		*configFile = em[envConfig]
	}
	logger := newLogger(stdout, em)

	if *demo {
		return serveDemo(ctx, DemoOptions{Listen: *listen, ConfigFile: *configFile, Env: env, Logger: &logger, DefaultAdminListen: demoAdminListen}, *printConfig, stdout, stderr)
	}
	load := func() (Config, error) { return loadConfig(*configFile, em, *listen, forServe) }
	cfg, err := load()
	if err != nil {
		fmt.Fprintln(stderr, err)
		if *configFile == "" {
			fmt.Fprint(stderr, noConfigHint)
		}
		return ErrReported
	}
	if *printConfig {
		fmt.Fprint(stdout, cfg.redacted())
		return nil
	}
	return serveBridge(ctx, cfg, load, sig, logger, stderr)
}

// serveDemo is serve --demo: the bridge on the built-in emulator until ctx ends.
func serveDemo(ctx context.Context, opts DemoOptions, printConfig bool, stdout, stderr io.Writer) error {
	d, err := startDemo(ctx, opts, defaultConfig().Listen)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return ErrReported
	}
	if printConfig {
		fmt.Fprint(stdout, d.cfg.redacted())
		return d.Close()
	}
	printDemoBanner(stdout, d)
	<-ctx.Done()
	return d.Close()
}

// serveBridge builds the bridge from cfg and serves it until ctx ends; SIGHUP (sig.Reload) applies
// load's bearer tokens and certificate. A problem before serving starts is written to stderr.
func serveBridge(ctx context.Context, cfg Config, load func() (Config, error), sig Signals, logger zerolog.Logger, stderr io.Writer) error {
	reported := func(err error) error {
		fmt.Fprintln(stderr, err)
		return ErrReported
	}
	b, err := buildBridge(ctx, cfg, logger, nil)
	if err != nil {
		return reported(err)
	}
	var cert *certificate
	if cfg.TLS.CertFile != "" {
		if cert, err = loadCertificate(cfg.TLS); err != nil {
			return reported(err)
		}
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return reported(fmt.Errorf("listen: cannot listen on %s: %v", cfg.Listen, err))
	}
	tokenCtx, stopTokens := context.WithCancel(ctx)
	defer stopTokens()
	go awaitFirstToken(tokenCtx, b.client, b.ready, logger)
	rl := &reloader{load: load, tokens: b.tokens, cert: cert, cfg: cfg, logger: logger}
	if cfg.AdminListen != "" {
		addr, stopAdmin, err := b.startAdmin(ctx, cfg, logger)
		if err != nil {
			_ = ln.Close()
			return reported(err)
		}
		defer stopAdmin()
		logger.Info().Str("admin_listen", addr).Str("status", "http://"+addr+"/status").Msg("admin listener serving")
	}
	// Said once every listener is bound: a busy admin_listen ends the start before it.
	logger.Info().Str("listen", ln.Addr().String()).Bool("tls", cert != nil).Bool("dry_run", cfg.Provisioning.DryRun).Str("version", version()).Msg("scim-bridge serving")
	announceDryRun(cfg, logger)
	return serving{
		handler:       b.handler,
		ready:         b.ready,
		cert:          cert,
		shutdownDelay: cfg.ShutdownDelay,
		reload:        sig.Reload,
		onReload:      rl.reload,
		logger:        logger,
	}.run(ctx, ln)
}

// newHTTPServer sets the timeouts a server facing the internet needs. WriteTimeout is generous:
// a large group read is streamed from several Salesforce pages.
func newHTTPServer(h http.Handler, logger zerolog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      5 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          newStdLogger(logger),
	}
}

// newStdLogger routes net/http's own error messages (TLS handshakes, bad requests) to zerolog.
func newStdLogger(logger zerolog.Logger) *log.Logger {
	return log.New(stdLogWriter{logger}, "", 0)
}

type stdLogWriter struct{ logger zerolog.Logger }

func (w stdLogWriter) Write(p []byte) (int, error) {
	w.logger.Warn().Str("component", "http").Msg(strings.TrimSpace(string(p)))
	return len(p), nil
}
