package salesforce

import (
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/scim-bridge/scim-bridge/scimschema"
	"github.com/scim-bridge/scim-bridge/scimschema/setting"
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
	Include     []string // name patterns (path.Match on the API Name and on the Label) of what is exposed; empty = all
	AllowCreate bool
	AllowDelete bool
	// AssignPermissionSetLicenses makes the bridge assign the permission set licence a permission
	// set needs (PermissionSetLicenseAssign) before assigning the permission set. The bridge
	// never removes a licence assignment.
	AssignPermissionSetLicenses bool
}

// BackendConfig configures a Backend. It spans several sections of the configuration file
// (provisioning, users, groups, audit and salesforce.batch_window), so Validate keys its problems
// with full keys.
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

// DefaultBackendConfig is the documented defaults of the keys BackendConfig holds (DESIGN.md
// "Configuration"). NewBackend also fills the zero values the field comments name.
func DefaultBackendConfig() BackendConfig {
	return BackendConfig{
		Provisioning: ProvisioningConfig{
			CreateUsers:      true,
			UpdateUsers:      true,
			DisableUsers:     true,
			DisableAction:    Deactivate,
			DeprovisionUsers: true,
			PermissionSets:   Merge,
			DeprovisionLimit: DeprovisionLimit{Max: 100, Window: time.Hour},
		},
		Users:       scimschema.DefaultUserMappingConfig(),
		UserTypes:   []string{"Standard"},
		Groups:      GroupsConfig{Source: PermissionSets, Include: []string{"*"}, AllowCreate: true},
		CatalogTTL:  defaultCatalogTTL,
		BatchWindow: 5 * time.Millisecond,
	}
}

const defaultCatalogTTL = 5 * time.Minute

// withDefaults fills the zero values whose zero means "the default" (not the booleans, the
// deprovision limit or BatchWindow, whose zero is "off"; the policies' zero values are their
// defaults already, policy.go).
func (cfg BackendConfig) withDefaults() BackendConfig {
	if len(cfg.Groups.Include) == 0 {
		cfg.Groups.Include = []string{"*"}
	}
	if len(cfg.UserTypes) == 0 {
		cfg.UserTypes = []string{"Standard"}
	}
	if cfg.CatalogTTL == 0 {
		cfg.CatalogTTL = defaultCatalogTTL
	}
	return cfg
}

// Validate checks cfg as it will be used (zero values NewBackend would default are problems
// here; the configuration file starts from DefaultBackendConfig) and returns every problem, with
// full keys: provisioning.disable_action, users.mapping[2].scim, groups.include[0].
func (cfg BackendConfig) Validate() setting.FieldErrors {
	problems := policyProblems(cfg.Provisioning, cfg.Groups)
	p := cfg.Provisioning
	if p.DeprovisionLimit.Max < 0 {
		problems.Add("provisioning.deprovision_limit.max", "must be 0 (off) or a positive number of deprovisionings")
	}
	if w := p.DeprovisionLimit.Window; p.DeprovisionLimit.Max > 0 && (w < time.Minute || w > 24*time.Hour) {
		problems.Add("provisioning.deprovision_limit.window", "must be between 1m and 24h, such as 1h")
	}
	problems = append(problems, cfg.Users.Validate().In("users")...)
	for i, name := range cfg.AssignableProfiles {
		if strings.TrimSpace(name) == "" {
			problems.Add(fmt.Sprintf("users.assignable_profiles[%d]", i), "must be a profile name or id, not empty")
		}
	}
	if len(cfg.UserTypes) == 0 {
		problems.Add("users.user_types", "must name at least one Salesforce UserType, such as Standard")
	}
	for i, t := range cfg.UserTypes {
		if !isIdentifier(t) {
			problems.Add(fmt.Sprintf("users.user_types[%d]", i), "%q is not a Salesforce UserType value", t)
		}
	}
	for i, pat := range cfg.Groups.Include {
		if _, err := path.Match(pat, ""); err != nil {
			problems.Add(fmt.Sprintf("groups.include[%d]", i), "is not a valid name pattern")
		}
	}
	if cfg.CatalogTTL < 0 {
		problems.Add("CatalogTTL", "must not be negative")
	}
	if cfg.BatchWindow < 0 {
		problems.Add("salesforce.batch_window", "must be 0 (off) or a positive duration such as 5ms")
	}
	return problems
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
