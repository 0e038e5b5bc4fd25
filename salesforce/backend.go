package salesforce

import (
	"context"
	"errors"
	"fmt"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/scim-bridge/scim-bridge/salesforce/rest"
	"github.com/scim-bridge/scim-bridge/scimschema"
)

// ProvisioningConfig is the provisioning section of the configuration: which SCIM writes reach
// Salesforce and how.
type ProvisioningConfig struct {
	CreateUsers, UpdateUsers, DisableUsers, DeprovisionUsers bool
	DisableAction                                            DisableAction
	PermissionSets                                           MembershipMode
	DryRun                                                   bool
	DeprovisionLimit                                         DeprovisionLimit
}

// GroupsConfig is the groups section of the configuration: which permission sets are SCIM Groups.
type GroupsConfig struct {
	Source      GroupSource
	Include     []string // name patterns (path.Match on the API Name and on the Label) of what is exposed
	AllowCreate bool
	AllowDelete bool
	// AssignPermissionSetLicenses makes the bridge assign the permission set licence a permission
	// set needs (PermissionSetLicenseAssign) before assigning the permission set. The bridge
	// never removes a licence assignment.
	AssignPermissionSetLicenses bool
}

// BackendConfig configures a Backend.
type BackendConfig struct {
	Provisioning ProvisioningConfig
	Users        scimschema.UserMappingConfig
	UserTypes    []string // Salesforce UserType values SCIM sees; empty = ["Standard"]
	// AssignableProfiles (users.assignable_profiles) are the profiles, by name or id, that a create
	// or update may name; empty = any.
	AssignableProfiles []string
	Groups             GroupsConfig
	Audit              AuditConfig
	CatalogTTL         time.Duration // 0 = 5m
	// BatchWindow is salesforce.batch_window: how long concurrent single-resource operations may
	// wait to be combined into one Salesforce call (coalesce.go); 0 = off.
	BatchWindow time.Duration
	Registerer  prometheus.Registerer
	Logger      zerolog.Logger
	Now         func() time.Time
}

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

// NewBackend validates cfg and returns a Backend. It does not call the network.
func NewBackend(c *rest.Client, cfg BackendConfig) (*Backend, error) {
	var problems []string
	if c == nil {
		problems = append(problems, "salesforce: a client is required")
	}
	p, g := &cfg.Provisioning, &cfg.Groups
	problems = append(problems, policyProblems(*p, *g)...)
	if len(g.Include) == 0 {
		g.Include = []string{"*"}
	}
	for i, pat := range g.Include {
		if _, err := path.Match(pat, ""); err != nil {
			problems = append(problems, fmt.Sprintf("groups.include[%d]: malformed pattern %q", i, pat))
		}
	}
	if len(cfg.UserTypes) == 0 {
		cfg.UserTypes = []string{"Standard"}
	}
	for i, t := range cfg.UserTypes {
		if !isIdentifier(t) {
			problems = append(problems, fmt.Sprintf("users.user_types[%d]: %q is not a Salesforce UserType value", i, t))
		}
	}
	if cfg.CatalogTTL < 0 {
		problems = append(problems, "catalog TTL: must not be negative")
	}
	if cfg.CatalogTTL == 0 {
		cfg.CatalogTTL = 5 * time.Minute
	}
	if cfg.BatchWindow < 0 {
		problems = append(problems, "salesforce.batch_window: must not be negative")
	}
	mapper, err := scimschema.NewUserMapper(cfg.Users)
	if err != nil {
		problems = append(problems, err.Error())
	}
	if len(problems) > 0 {
		return nil, errors.New(strings.Join(problems, "\n"))
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
	if p.DeprovisionLimit.Max < 0 || (p.DeprovisionLimit.Max > 0 && p.DeprovisionLimit.Window <= 0) {
		return nil, errors.New("provisioning.deprovision_limit: max must not be negative, and window must be positive when max is set")
	}
	if b.brake, err = newBrake(p.DeprovisionLimit, cfg.Registerer); err != nil {
		return nil, fmt.Errorf("registering metrics: %w", err)
	}
	// Every series exists from the start at 0, so alerts on increase() see the first skip.
	for _, setting := range []string{"create_users", "update_users", "disable_users", "deprovision_users", "dry_run", "permission_sets_merge"} {
		b.skipped.WithLabelValues(setting)
	}
	return b, nil
}

func isIdentifier(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_') {
			return false
		}
	}
	return true
}

// ready reports whether the backend can serve: a token is obtained and the catalog is loaded
// (loading it when the cache is empty or stale).
func (b *Backend) ready(ctx context.Context) error {
	if err := b.c.Token(ctx); err != nil {
		return err
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
