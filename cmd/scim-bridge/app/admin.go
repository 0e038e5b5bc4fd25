package app

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/scim-bridge/scim-bridge/salesforce"
	"github.com/scim-bridge/scim-bridge/server/status"
)

// demoAdminListen is where serve --demo puts the status page unless admin_listen says otherwise.
const demoAdminListen = "127.0.0.1:9090"

// auditEvent turns a backend audit event into the status page's.
func auditEvent(c salesforce.Change) status.Event {
	return status.Event{
		Time: c.Time, Actor: c.Actor, DryRun: c.DryRun, Operation: string(c.Operation), Target: c.Target,
		UserName: c.UserName, Changed: c.Changed, Added: c.Added, Removed: c.Removed, Failed: c.Failed,
		Result: string(c.Result), Error: c.Error,
	}
}

// statusConfig is where the status page reads from: the recorder, the policy in cfg, the client's
// view of the org and the metric registry.
func (b *bridge) statusConfig(cfg Config) status.Config {
	p := cfg.Provisioning
	return status.Config{
		Version:  version(),
		Recorder: b.recorder,
		Policy: status.Policy{
			CreateUsers: p.CreateUsers, UpdateUsers: p.UpdateUsers, DisableUsers: p.DisableUsers,
			DeprovisionUsers: p.DeprovisionUsers, DisableAction: p.DisableAction, PermissionSets: p.PermissionSets,
			DryRun: p.DryRun, DeprovisionLimit: deprovisionLimit(cfg),
			AllowCreateGroup: cfg.Groups.AllowCreate, AllowDeleteGroup: cfg.Groups.AllowDelete,
			IdentifyUsers: cfg.Audit.IdentifyUsers,
		},
		Salesforce: func() status.Salesforce {
			h, a := b.client.Health(), b.client.Activity()
			return status.Salesforce{
				URL: cfg.Salesforce.URL, Up: h.Known && h.Up, LastSuccess: a.LastSuccess, LastFailure: a.LastFailure,
				Flow: cfg.Salesforce.Flow, TokenAt: a.TokenAt, TokenOK: a.TokenOK, TokenError: a.TokenError,
				TokenRequests: a.TokenRequests, APIUsed: a.Usage.Used, APIMax: a.Usage.Max, APIKnown: a.Usage.Known,
			}
		},
		Gatherer: b.registry,
	}
}

// deprovisionLimit describes provisioning.deprovision_limit for the status page.
func deprovisionLimit(cfg Config) string {
	l := cfg.Provisioning.DeprovisionLimit
	if l.Max <= 0 {
		return "off"
	}
	return fmt.Sprintf("%d per %s", l.Max, shortDuration(l.Window))
}

// shortDuration writes a window as people do: 1h, 30m, 1h30m (Go's String says 1h0m0s).
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// adminHandler is the admin listener: the status page, and the bridge's own /metrics, /healthz
// and /readyz (the same handlers as on the main listener). Nothing else: no SCIM.
func (b *bridge) adminHandler(cfg Config) http.Handler {
	mux := http.NewServeMux()
	st := status.Handler(b.statusConfig(cfg))
	mux.Handle("GET /status", st)
	mux.Handle("GET /status.json", st)
	for _, p := range []string{"GET /metrics", "GET /healthz", "GET /readyz"} {
		mux.Handle(p, b.handler)
	}
	return mux
}

// startAdmin listens on cfg.AdminListen and serves the admin handler until ctx ends, sampling the
// API allowance for the chart once a minute. The returned stop waits for it to finish.
func (b *bridge) startAdmin(ctx context.Context, cfg Config, logger zerolog.Logger) (addr string, stop func(), err error) {
	ln, err := net.Listen("tcp", cfg.AdminListen)
	if err != nil {
		return "", nil, fmt.Errorf("admin_listen: cannot listen on %s: %w", cfg.AdminListen, err)
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{}, 2)
	logger = logger.With().Str("listener", "admin").Logger() // its lifecycle lines are not the SCIM listener's
	go func() {
		defer func() { done <- struct{}{} }()
		if err := serveUntilDone(ctx, ln, b.adminHandler(cfg), TLSConfig{}, logger); err != nil {
			logger.Warn().Err(err).Msg("admin listener stopped")
		}
	}()
	go func() {
		defer func() { done <- struct{}{} }()
		tick := time.NewTicker(time.Minute)
		defer tick.Stop()
		for {
			if u := b.client.Usage(); u.Known {
				b.recorder.SampleAllowance(u.Used, u.Max)
			}
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	}()
	return ln.Addr().String(), func() { cancel(); <-done; <-done }, nil
}

// announceDryRun says at start, loudly, that nothing will be written.
func announceDryRun(cfg Config, logger zerolog.Logger) {
	if cfg.Provisioning.DryRun {
		logger.Warn().Bool("dry_run", true).Msg("dry run: nothing is written to Salesforce; audit lines show what would have been done")
	}
}
