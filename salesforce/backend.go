package salesforce

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/scim-bridge/scim-bridge/salesforce/rest"
	"github.com/scim-bridge/scim-bridge/scimschema"
)

// Backend is the Salesforce provisioning backend: it implements scimschema.Users and
// scimschema.Groups on top of a Client.
type Backend struct {
	c         *rest.Client
	cfg       BackendConfig
	mapper    *scimschema.UserMapper
	userTypes []any
	reverse   map[string]string // Salesforce User field (lower case) → SCIM attribute, for error details
	log       zerolog.Logger
	now       func() time.Time
	skipped   *prometheus.CounterVec
	soft      softMetrics
	cursors   cursors    // where sequential listings past OFFSET 2000 continue (users_cursor.go)
	batch     *coalescer // nil when salesforce.batch_window is 0
	brake     *brake
	// groupLocks serialises overwrite-mode replaces per group (groups_overwrite.go).
	groupLocks groupLocks

	mu  sync.Mutex // guards cat
	cat *catalog
	// loadMu serialises catalog loads so that concurrent misses cause one load.
	loadMu sync.Mutex
	// loadsStarted counts catalog loads begun (under mu); see operation.load.
	loadsStarted uint64
}

var (
	_ scimschema.Users  = (*Backend)(nil)
	_ scimschema.Groups = (*Backend)(nil)
)

// NewBackend fills the zero values BackendConfig's fields document, validates cfg (Validate, every
// problem at once) and returns a Backend. It does not call the network.
func NewBackend(c *rest.Client, cfg BackendConfig) (*Backend, error) {
	cfg = cfg.withDefaults()
	problems := cfg.Validate()
	if c == nil {
		problems.Add("salesforce", "a client is required")
	}
	if len(problems) > 0 {
		return nil, problems
	}
	mapper, err := scimschema.NewUserMapper(cfg.Users)
	if err != nil {
		return nil, err
	}
	b := &Backend{
		c:       c,
		cfg:     cfg,
		mapper:  mapper,
		reverse: reverseMapping(cfg.Users.Mapping),
		log:     cfg.Logger,
		now:     cfg.Now,
	}
	if b.now == nil {
		b.now = time.Now
	}
	for _, t := range cfg.UserTypes {
		b.userTypes = append(b.userTypes, t)
	}
	b.skipped = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "scim_bridge_skipped_actions_total",
		Help: "SCIM writes not sent to Salesforce because a setting is off or dry_run is on, by setting.",
	}, []string{"setting"})
	if cfg.Registerer != nil {
		if err := cfg.Registerer.Register(b.skipped); err != nil {
			var are prometheus.AlreadyRegisteredError
			if !errors.As(err, &are) {
				return nil, fmt.Errorf("registering metrics: %w", err)
			}
			b.skipped = are.ExistingCollector.(*prometheus.CounterVec)
		}
	}
	if cfg.BatchWindow > 0 {
		if b.batch, err = newCoalescer(cfg.BatchWindow, cfg.Registerer, cfg.Logger); err != nil {
			return nil, err
		}
	}
	if b.soft, err = newSoftMetrics(cfg.Registerer); err != nil {
		return nil, err
	}
	if b.brake, err = newBrake(cfg.Provisioning.DeprovisionLimit, cfg.Registerer); err != nil {
		return nil, fmt.Errorf("registering metrics: %w", err)
	}
	// Every series exists from the start at 0, so alerts on increase() see the first skip.
	for _, setting := range []string{"create_users", "update_users", "disable_users", "deprovision_users", "dry_run", "permission_sets_merge"} {
		b.skipped.WithLabelValues(setting)
	}
	return b, nil
}

// Ready reports whether the backend can serve: a token is obtained and the catalog is loaded
// (loading it when the cache is empty or stale).
func (b *Backend) Ready(ctx context.Context) error {
	if err := b.c.Token(ctx); err != nil {
		return b.fail(ctx, err)
	}
	o := b.operation(ctx)
	if _, err := o.catalog(); err != nil {
		return err
	}
	return nil
}

// logger returns the request's logger (it carries the request id), else the backend's.
func (b *Backend) logger(ctx context.Context) *zerolog.Logger {
	if l := zerolog.Ctx(ctx); l.GetLevel() != zerolog.Disabled {
		return l
	}
	return &b.log
}

// skip records an action a setting prevented: one log line and the skipped-actions metric.
func (b *Backend) skip(ctx context.Context, setting, operation, target string) {
	b.skipped.WithLabelValues(setting).Inc()
	b.logger(ctx).Info().Str("setting", setting).Str("operation", operation).Str("target", target).
		Str("actor", scimschema.Actor(ctx)).Msg("skipped")
}

// dryRun reports whether writes are skipped by dry_run, recording the skip.
func (b *Backend) dryRun(ctx context.Context, operation, target string) bool {
	if !b.cfg.Provisioning.DryRun {
		return false
	}
	b.skip(ctx, "dry_run", operation, target)
	return true
}

// Retry-After values. Salesforce sends no Retry-After. REQUEST_LIMIT_EXCEEDED is either the
// rolling 24-hour allowance (calls free up continuously as old ones age out, so a long wait is
// pointless but an immediate retry is wasteful) or the concurrent long-request limit (clears in
// seconds). When the last Sforce-Limit-Info shows the allowance used up we ask for 15 minutes,
// otherwise for one minute.
const (
	retryAfterLimited     = time.Minute
	retryAfterExhausted   = 15 * time.Minute
	retryAfterUnavailable = 30 * time.Second
)

// fail turns a client error into a *scimschema.Error with a safe Detail. Errors that are already
// *scimschema.Error pass through.
func (b *Backend) fail(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	var se *scimschema.Error
	if errors.As(err, &se) {
		return err
	}
	if errors.Is(err, context.Canceled) {
		return &scimschema.Error{Kind: scimschema.KindUnavailable, Detail: "the request was cancelled", RetryAfter: retryAfterUnavailable, Err: err}
	}
	switch rest.KindOf(err) {
	case rest.KindNotFound:
		return &scimschema.Error{Kind: scimschema.KindNotFound, Detail: "resource not found", Err: err}
	case rest.KindLimited:
		ra := retryAfterLimited
		if u := b.c.Usage(); u.Known && u.Max > 0 && u.Used >= u.Max {
			ra = retryAfterExhausted
		}
		return &scimschema.Error{Kind: scimschema.KindLimited, Detail: "the Salesforce API request limit is reached; retry later", RetryAfter: ra, Err: err}
	case rest.KindAuth:
		// Salesforce rejected the bridge's own credentials: the bridge's problem, not the IdP's.
		b.logger(ctx).Error().Err(err).Msg("Salesforce rejected the bridge's credentials")
		return &scimschema.Error{Kind: scimschema.KindUnavailable, Detail: "the bridge cannot authenticate to Salesforce", RetryAfter: retryAfterUnavailable, Err: err}
	case rest.KindUnavailable:
		return &scimschema.Error{Kind: scimschema.KindUnavailable, Detail: "Salesforce is unavailable; retry later", RetryAfter: retryAfterUnavailable, Err: err}
	case rest.KindLocked:
		return &scimschema.Error{Kind: scimschema.KindUnavailable, Detail: "the Salesforce record is locked by another operation; retry later", RetryAfter: retryAfterUnavailable, Err: err}
	case rest.KindInvalid:
		// A validation refusal no caller explained more precisely: the request's values, not the
		// bridge, are at fault. The error code is a Salesforce identifier, never its message.
		return &scimschema.Error{Kind: scimschema.KindInvalidValue, Detail: "Salesforce rejected the change (" + rest.CodeOf(err) + ")", Err: err}
	case rest.KindConflict:
		return &scimschema.Error{Kind: scimschema.KindUniqueness, Detail: "Salesforce rejected the change as conflicting with an existing record (" + rest.CodeOf(err) + ")", Err: err}
	}
	return &scimschema.Error{Kind: scimschema.KindInternal, Detail: "internal error", Err: err}
}

// forbidden is the answer when a setting forbids the operation.
func forbidden(detail string) error {
	return &scimschema.Error{Kind: scimschema.KindForbidden, Detail: detail}
}

func notFound(what string) error {
	return &scimschema.Error{Kind: scimschema.KindNotFound, Detail: what + " not found"}
}

func invalid(detail string, cause error) error {
	return &scimschema.Error{Kind: scimschema.KindInvalidValue, Detail: detail, Err: cause}
}
