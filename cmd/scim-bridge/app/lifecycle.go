package app

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"reflect"
	"slices"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/scim-bridge/scim-bridge/salesforce/rest"
	"github.com/scim-bridge/scim-bridge/scimschema"
	"github.com/scim-bridge/scim-bridge/server"
)

// Signals carries the operating system's requests to a running command. The zero value has none.
type Signals struct {
	// Reload receives one value per SIGHUP: serve re-reads its bearer tokens (token_file included)
	// and TLS certificate without dropping a connection.
	Reload <-chan struct{}
}

// readiness backs /readyz: able to serve once the configuration is loaded, the listener is up and
// the first Salesforce token was obtained; not ready again from the moment shutdown starts.
// Salesforce's later health is deliberately not part of it (scim_bridge_salesforce_up): an outage
// must not take every replica out of the load balancer at once, nor make every probe call the token
// endpoint.
type readiness struct {
	listening, tokenObtained, stopping atomic.Bool
}

func (r *readiness) check(context.Context) error {
	switch {
	case r.stopping.Load():
		return scimschema.Errorf(scimschema.KindUnavailable, "shutting down")
	case !r.listening.Load():
		return scimschema.Errorf(scimschema.KindUnavailable, "starting: not listening yet")
	case !r.tokenObtained.Load():
		return scimschema.Errorf(scimschema.KindUnavailable, "starting: no Salesforce access token obtained yet (see the log)")
	}
	return nil
}

// awaitFirstToken asks for an access token until one is obtained or ctx ends, backing off from 1 s
// to 30 s, and then marks r. Each failure is logged with its cause.
func awaitFirstToken(ctx context.Context, client *rest.Client, r *readiness, logger zerolog.Logger) {
	for delay := time.Second; ; delay = min(2*delay, 30*time.Second) {
		err := client.Token(ctx)
		if err == nil {
			r.tokenObtained.Store(true)
			logger.Info().Msg("Salesforce access token obtained: ready")
			return
		}
		if ctx.Err() != nil {
			return
		}
		logger.Warn().Str("cause", err.Error()).Dur("retry_in", delay).Msg("no Salesforce access token yet: not ready")
		select {
		case <-ctx.Done():
			return
		case <-time.After(delay):
		}
	}
}

// certificate is the TLS certificate served; reload replaces it for new handshakes while
// established connections keep theirs.
type certificate struct {
	cert atomic.Pointer[tls.Certificate]
}

func loadCertificate(cfg TLSConfig) (*certificate, error) {
	c := &certificate{}
	return c, c.load(cfg)
}

func (c *certificate) load(cfg TLSConfig) error {
	pair, err := tls.LoadX509KeyPair(cfg.CertFile, cfg.KeyFile)
	if err != nil {
		return fmt.Errorf("tls.cert_file: cannot load the certificate and key_file: %w", err)
	}
	c.cert.Store(&pair)
	return nil
}

func (c *certificate) get(*tls.ClientHelloInfo) (*tls.Certificate, error) { return c.cert.Load(), nil }

// serving is a configured HTTP server's lifecycle: serve, reload on request, and on ctx's end fail
// readiness, wait shutdownDelay (the load balancer notices), then drain.
type serving struct {
	handler       http.Handler
	ready         *readiness
	cert          *certificate // nil: plain HTTP
	shutdownDelay time.Duration
	reload        <-chan struct{}
	onReload      func()
	logger        zerolog.Logger
}

// drainTimeout bounds the drain, within Kubernetes' default 30 s grace period together with the
// default shutdown_delay of 5 s.
const drainTimeout = 20 * time.Second

func (s serving) run(ctx context.Context, ln net.Listener) error {
	srv := newHTTPServer(s.handler, s.logger)
	errc := make(chan error, 1)
	// The listener is bound before run is called, so it is up now; marking it before Serve starts
	// means no request can see the server answer while readiness still says "not listening".
	s.ready.listening.Store(true)
	go func() {
		if s.cert != nil {
			srv.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: s.cert.get}
			errc <- srv.ServeTLS(ln, "", "")
			return
		}
		errc <- srv.Serve(ln)
	}()
	for done := false; !done; {
		select {
		case err := <-errc:
			return err
		case <-s.reload:
			if s.onReload != nil {
				s.onReload()
			}
		case <-ctx.Done():
			done = true
		}
	}

	s.ready.stopping.Store(true)
	srv.SetKeepAlivesEnabled(false) // answers now say Connection: close: clients move to other replicas
	s.logger.Info().Dur("shutdown_delay", s.shutdownDelay).Msg("shutting down: not ready from now on; draining after shutdown_delay")
	time.Sleep(s.shutdownDelay)
	s.logger.Info().Msg("shutting down: draining in-flight requests")
	drainCtx, cancel := context.WithTimeout(context.Background(), drainTimeout)
	defer cancel()
	if err := srv.Shutdown(drainCtx); err != nil {
		_ = srv.Close() // drop what is still running rather than hang past the orchestrator's grace period
		return fmt.Errorf("shutdown: requests still running after %s were cut off: %w", drainTimeout, err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// reloader re-reads the configuration on SIGHUP and applies what can change without a restart:
// the bearer tokens and the TLS certificate.
type reloader struct {
	load   func() (Config, error)
	tokens *server.TokenSet
	cert   *certificate // nil without TLS
	cfg    Config       // as last applied
	logger zerolog.Logger
}

func (r *reloader) reload() {
	cfg, err := r.load()
	if err != nil {
		r.logger.Error().Str("problems", err.Error()).Msg("reload refused: the configuration is invalid; still serving with the previous one")
		return
	}
	added, removed, changed := tokenChanges(r.cfg.Auth.Tokens, cfg.Auth.Tokens)
	if err := r.tokens.Replace(serverTokens(cfg.Auth.Tokens)); err != nil {
		r.logger.Error().Str("problems", err.Error()).Msg("reload refused: the bearer tokens are invalid; still serving with the previous ones")
		return
	}
	ev := r.logger.Info().Strs("tokens_added", added).Strs("tokens_removed", removed).Strs("tokens_changed", changed)
	switch {
	case r.cert == nil && cfg.TLS.CertFile != "":
		ev = ev.Str("tls", "tls.cert_file was set: TLS needs a restart")
	case r.cert != nil && cfg.TLS.CertFile == "":
		ev = ev.Str("tls", "tls.cert_file was removed: plain HTTP needs a restart; the old certificate stays")
	case r.cert != nil:
		if err := r.cert.load(cfg.TLS); err != nil {
			r.logger.Error().Str("cause", err.Error()).Msg("reload: the TLS certificate cannot be loaded; still serving the previous one")
		} else {
			ev = ev.Str("tls", "certificate reloaded")
		}
	}
	if others := restartOnlyChanges(r.cfg, cfg); len(others) > 0 {
		ev = ev.Strs("need_restart", others)
	}
	r.cfg.Auth, r.cfg.TLS = cfg.Auth, cfg.TLS
	ev.Msg("reloaded on SIGHUP")
}

func serverTokens(tokens []TokenConfig) []server.Token {
	out := make([]server.Token, 0, len(tokens))
	for _, t := range tokens {
		out = append(out, server.Token{Name: t.Name, Token: t.Token})
	}
	return out
}

// tokenChanges compares two token lists by name: names added, removed, and whose value changed.
// Values are compared, never logged.
func tokenChanges(before, after []TokenConfig) (added, removed, changed []string) {
	old := map[string][sha256.Size]byte{}
	for _, t := range before {
		old[t.Name] = sha256.Sum256([]byte(t.Token))
	}
	seen := map[string]bool{}
	for _, t := range after {
		seen[t.Name] = true
		d, ok := old[t.Name]
		switch {
		case !ok:
			added = append(added, t.Name)
		case d != sha256.Sum256([]byte(t.Token)):
			changed = append(changed, t.Name)
		}
	}
	for _, t := range before {
		if !seen[t.Name] {
			removed = append(removed, t.Name)
		}
	}
	return added, removed, changed
}

// restartOnlyChanges names the top-level sections, other than auth and tls, that differ: they take
// effect only after a restart.
func restartOnlyChanges(before, after Config) []string {
	var keys []string
	b, a := reflect.ValueOf(before), reflect.ValueOf(after)
	for i := 0; i < b.NumField(); i++ {
		key := yamlKey(b.Type().Field(i))
		if key == "auth" || key == "tls" {
			continue
		}
		if !reflect.DeepEqual(b.Field(i).Interface(), a.Field(i).Interface()) {
			keys = append(keys, key)
		}
	}
	slices.Sort(keys)
	return keys
}

// serveUntilDone serves h (the emulator command) until ctx ends, then drains; no reload and no
// shutdown delay.
func serveUntilDone(ctx context.Context, ln net.Listener, h http.Handler, tlsCfg TLSConfig, logger zerolog.Logger) error {
	s := serving{handler: h, ready: &readiness{}, logger: logger}
	if tlsCfg.CertFile != "" {
		var err error
		if s.cert, err = loadCertificate(tlsCfg); err != nil {
			return err
		}
	}
	return s.run(ctx, ln)
}
