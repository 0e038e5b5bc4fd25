package app

import (
	"errors"
	"fmt"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/scim-bridge/scim-bridge/salesforce"
	"github.com/scim-bridge/scim-bridge/salesforce/rest"
	"github.com/scim-bridge/scim-bridge/scimschema"
	"github.com/scim-bridge/scim-bridge/scimschema/setting"
)

// Config is the whole configuration file. Its YAML keys are public interface (DESIGN.md
// "Configuration"); every scalar key can be overridden by SCIM_BRIDGE_<SECTION>_<KEY>.
type Config struct {
	Listen            string         `yaml:"listen"`
	AdminListen       string         `yaml:"admin_listen"`
	PublicURL         string         `yaml:"public_url"`
	TrustProxyHeaders bool           `yaml:"trust_proxy_headers"`
	ShutdownDelay     time.Duration  `yaml:"shutdown_delay"`
	TLS               TLSConfig      `yaml:"tls"`
	Auth              AuthConfig     `yaml:"auth"`
	Salesforce        SalesforceConf `yaml:"salesforce"`
	Provisioning      Provisioning   `yaml:"provisioning"`
	Users             UsersConfig    `yaml:"users"`
	Groups            GroupsConfig   `yaml:"groups"`
	Audit             AuditConfig    `yaml:"audit"`
}

// AuditConfig is the audit section: what audit lines and the status page may say about people.
type AuditConfig struct {
	IdentifyUsers bool `yaml:"identify_users"`
}

type TLSConfig struct {
	CertFile string `yaml:"cert_file"`
	KeyFile  string `yaml:"key_file"`
}

type AuthConfig struct {
	Tokens []TokenConfig `yaml:"tokens"`
}

// TokenConfig is one bearer token an IdP presents; several allow rotation.
type TokenConfig struct {
	Name      string `yaml:"name"`
	Token     string `yaml:"token" secret:"true"`
	TokenFile string `yaml:"token_file"`
	// from names the environment variable a token came from; "" for auth.tokens in the file.
	from string
}

type SalesforceConf struct {
	URL            string        `yaml:"url"`
	LoginURL       string        `yaml:"login_url"`
	APIVersion     string        `yaml:"api_version"`
	Flow           string        `yaml:"flow"`
	ClientID       string        `yaml:"client_id"`
	ClientSecret   string        `yaml:"client_secret" secret:"true"`
	AccessToken    string        `yaml:"access_token" secret:"true"`
	RefreshToken   string        `yaml:"refresh_token" secret:"true"`
	TokenFile      string        `yaml:"token_file"`
	JWT            JWTConfig     `yaml:"jwt"`
	MaxConcurrency int           `yaml:"max_concurrency"`
	Timeout        time.Duration `yaml:"timeout"`
	BatchWindow    time.Duration `yaml:"batch_window"`
}

type JWTConfig struct {
	Username       string `yaml:"username"`
	PrivateKeyFile string `yaml:"private_key_file"`
}

type Provisioning struct {
	CreateUsers      bool   `yaml:"create_users"`
	UpdateUsers      bool   `yaml:"update_users"`
	DisableUsers     bool   `yaml:"disable_users"`
	DisableAction    string `yaml:"disable_action"`
	DeprovisionUsers bool   `yaml:"deprovision_users"`
	PermissionSets   string `yaml:"permission_sets"`
	DryRun           bool   `yaml:"dry_run"`
	// DeprovisionLimit is the mass-deprovision brake (see salesforce.DeprovisionLimit).
	DeprovisionLimit DeprovisionLimit `yaml:"deprovision_limit"`
}

// DeprovisionLimit is provisioning.deprovision_limit: at most Max deactivations, freezes and
// deletes within Window; Max 0 turns the brake off.
type DeprovisionLimit struct {
	Max    int           `yaml:"max"`
	Window time.Duration `yaml:"window"`
}

type UsersConfig struct {
	Defaults       map[string]string `yaml:"defaults"`
	Mapping        []MappingConfig   `yaml:"mapping"`
	UsernameDomain string            `yaml:"username_domain"`
	UsernameSuffix string            `yaml:"username_suffix"`
	UserTypes      []string          `yaml:"user_types"`
	// StrictPicklists: a language, locale or time zone the org lacks is a 400, not the default.
	StrictPicklists bool `yaml:"strict_picklists"`
	// AssignableProfiles are the profiles (names or ids) a create or update may name; empty = any.
	AssignableProfiles []string `yaml:"assignable_profiles"`
}

// MappingConfig is one users.mapping entry: a SCIM attribute path and the Salesforce User field it
// maps to. on_update is the seed's "apply on update" checkbox; required can make a Salesforce-required
// field optional on update.
type MappingConfig struct {
	SCIM       string `yaml:"scim"`
	Salesforce string `yaml:"salesforce"`
	OnUpdate   *bool  `yaml:"on_update"`
	Required   *bool  `yaml:"required"`
}

type GroupsConfig struct {
	Source      string   `yaml:"source"`
	Include     []string `yaml:"include"`
	AllowCreate bool     `yaml:"allow_create"`
	AllowDelete bool     `yaml:"allow_delete"`
	// AssignPermissionSetLicenses assigns the permission set licence a permission set needs
	// before assigning the permission set.
	AssignPermissionSetLicenses bool `yaml:"assign_permission_set_licenses"`
}

// defaultConfig is the file's defaults: the process's own (listen, shutdown_delay) and, for the
// other sections, those of the packages that own them (rest.DefaultConfig,
// salesforce.DefaultBackendConfig, which takes scimschema.DefaultUserMappingConfig's).
func defaultConfig() Config {
	sf, be := rest.DefaultConfig(), salesforce.DefaultBackendConfig()
	p, g := be.Provisioning, be.Groups
	return Config{
		Listen:        "127.0.0.1:8080",
		ShutdownDelay: 5 * time.Second,
		Salesforce: SalesforceConf{
			APIVersion:     sf.APIVersion,
			Flow:           string(sf.Flow),
			MaxConcurrency: sf.MaxConcurrency,
			Timeout:        sf.Timeout,
			BatchWindow:    be.BatchWindow,
		},
		Provisioning: Provisioning{
			CreateUsers:      p.CreateUsers,
			UpdateUsers:      p.UpdateUsers,
			DisableUsers:     p.DisableUsers,
			DisableAction:    p.DisableAction.String(),
			DeprovisionUsers: p.DeprovisionUsers,
			PermissionSets:   p.PermissionSets.String(),
			DryRun:           p.DryRun,
			DeprovisionLimit: DeprovisionLimit{Max: p.DeprovisionLimit.Max, Window: p.DeprovisionLimit.Window},
		},
		Users: UsersConfig{
			Defaults:        be.Users.Defaults,
			UsernameDomain:  be.Users.UsernameDomain,
			UsernameSuffix:  be.Users.UsernameSuffix,
			UserTypes:       be.UserTypes,
			StrictPicklists: be.Users.StrictPicklists,
		},
		Groups: GroupsConfig{
			Source:                      g.Source.String(),
			Include:                     g.Include,
			AllowCreate:                 g.AllowCreate,
			AllowDelete:                 g.AllowDelete,
			AssignPermissionSetLicenses: g.AssignPermissionSetLicenses,
		},
		Audit: AuditConfig{IdentifyUsers: be.Audit.IdentifyUsers},
	}
}

// problems collects every configuration problem, each keyed by its full key (salesforce.url), so
// that all are reported at once.
type problems setting.FieldErrors

func (p *problems) add(key, format string, args ...any) {
	(*setting.FieldErrors)(p).Add(key, format, args...)
}

func (p problems) err() error {
	if len(p) == 0 {
		return nil
	}
	lines := make([]string, len(p))
	for i, e := range p {
		lines[i] = e.Error()
	}
	return fmt.Errorf("invalid configuration:\n  %s", strings.Join(lines, "\n  "))
}

// loadConfig reads the YAML file (path may be ""), then the environment, then secret files, then
// the --listen flag (listen may be ""), and validates the result. Every problem is reported together,
// each naming its key or environment variable.
func loadConfig(file string, env map[string]string, listen string, use purpose) (Config, error) {
	return loadConfigWith(file, env, listen, use, nil)
}

// loadConfigWith is loadConfig with adjust (when not nil) applied to the configuration just before
// it is validated: a command that overrides part of it (explain --offline) loads it the same way.
func loadConfigWith(file string, env map[string]string, listen string, use purpose, adjust func(*Config)) (Config, error) {
	cfg := defaultConfig()
	var probs problems
	var data []byte
	if file != "" {
		var err error
		if data, err = readFile(file); err != nil {
			return cfg, err
		}
		if err := yamlSyntax(data); err != nil {
			return cfg, err // alone: every other message would follow from it
		}
		probs = append(probs, decodeYAML(data, &cfg)...)
	}
	probs = append(probs, applyEnvironment(&cfg, env)...)
	probs = append(probs, readSecretFiles(&cfg)...)
	if listen != "" {
		cfg.Listen = listen
	}
	if adjust != nil {
		adjust(&cfg)
	}
	probs = append(probs, withOrigins(validate(&cfg, use), data, env, listen != "")...)
	return cfg, probs.err()
}

// readFile reads the configuration file, naming it in the error.
func readFile(name string) ([]byte, error) {
	b, err := os.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("config file: %w", err)
	}
	return b, nil
}

// Variables that are not configuration keys.
const (
	envConfig    = "SCIM_BRIDGE_CONFIG"     // the configuration file
	envLogLevel  = "SCIM_BRIDGE_LOG_LEVEL"  // debug, info, warn or error
	envLogFormat = "SCIM_BRIDGE_LOG_FORMAT" // json or console; unset: console on a terminal, else json
	envToken     = "SCIM_BRIDGE_TOKEN"      // one bearer token, named "env"
	envTokens    = "SCIM_BRIDGE_AUTH_TOKENS"
)

// applyEnvironment applies every SCIM_BRIDGE_* variable to cfg. A variable that names no key is an
// error, like an unknown key in the file: a typo must not silently leave a setting at its default.
func applyEnvironment(cfg *Config, env map[string]string) problems {
	known := map[string]bool{envConfig: true, envLogLevel: true, envLogFormat: true}
	probs := applyEnv(reflect.ValueOf(cfg).Elem(), "SCIM_BRIDGE", env, known)
	probs = append(probs, applyEnvTokens(cfg, env, known)...)
	if lvl, ok := env[envLogLevel]; ok {
		if _, err := parseLogLevel(lvl); err != nil {
			probs.add(envKey(envLogLevel), "must be debug, info, warn or error")
		}
	}
	if _, err := parseLogFormat(env[envLogFormat]); err != nil {
		probs.add(envKey(envLogFormat), "%s", err)
	}
	var unknown []string
	for name := range env {
		if !known[name] {
			unknown = append(unknown, name)
		}
	}
	slices.Sort(unknown)
	for _, name := range unknown {
		probs.add(envKey(name), "names no configuration key; see README.md \"Configuration\"")
	}
	return probs
}

// yamlSyntax reports a file that is not YAML at all, as the only problem: the keys it holds are
// unknown, so "is required" messages about them would mislead.
func yamlSyntax(data []byte) error {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return fmt.Errorf("invalid configuration: the config file is not valid YAML (%s); nothing else was checked", strings.TrimPrefix(err.Error(), "yaml: "))
	}
	return nil
}

// decodeYAML decodes strictly into cfg, which already holds the defaults: keys absent from the file
// (or set to null) keep them. Every problem is reported with its dotted key and line: unknown keys,
// keys set twice, and values of the wrong type. Values are never echoed (they may be secrets).
func decodeYAML(data []byte, cfg *Config) problems {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return problems{{Key: "config file", Problem: err.Error()}}
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return nil // an empty file
	}
	var probs problems
	decodeNode(doc.Content[0], reflect.ValueOf(cfg).Elem(), "", &probs)
	return probs
}

func joinKey(parent, key string) string {
	if parent == "" {
		return key
	}
	return parent + "." + key
}

// decodeNode decodes n into v, naming key in every problem.
func decodeNode(n *yaml.Node, v reflect.Value, key string, probs *problems) {
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return
	}
	name := key
	if name == "" {
		name = "config file"
	}
	t := v.Type()
	switch {
	case t == durationType:
		d, err := time.ParseDuration(n.Value)
		if n.Kind != yaml.ScalarNode || err != nil {
			probs.add(name, "must be a duration with a unit, such as 30s (line %d)", n.Line)
			return
		}
		v.SetInt(int64(d))
	case t.Kind() == reflect.Struct:
		if n.Kind != yaml.MappingNode {
			probs.add(name, "must be a mapping of keys (%s) (line %d)", strings.Join(yamlKeys(t), ", "), n.Line)
			return
		}
		decodeStruct(n, v, key, probs)
	case t.Kind() == reflect.Pointer:
		elem := reflect.New(t.Elem())
		if !v.IsNil() {
			elem.Elem().Set(v.Elem())
		}
		decodeNode(n, elem.Elem(), key, probs)
		v.Set(elem)
	case t.Kind() == reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			probs.add(name, "must be a list, such as [a, b] (line %d)", n.Line)
			return
		}
		list := reflect.MakeSlice(t, len(n.Content), len(n.Content))
		for i, item := range n.Content {
			decodeNode(item, list.Index(i), fmt.Sprintf("%s[%d]", key, i), probs)
		}
		v.Set(list)
	case t.Kind() == reflect.Map:
		if n.Kind != yaml.MappingNode {
			probs.add(name, "must be a mapping such as {profile: Standard User} (line %d)", n.Line)
			return
		}
		decodeMap(n, v, key, probs)
	default:
		if n.Kind != yaml.ScalarNode || n.Decode(v.Addr().Interface()) != nil {
			probs.add(name, "must be %s (line %d)", kindText(t.Kind()), n.Line)
		}
	}
}

// decodeStruct decodes the mapping n into the struct v: every key must name a field, once.
func decodeStruct(n *yaml.Node, v reflect.Value, key string, probs *problems) {
	t := v.Type()
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		if k.Value == "<<" { // a YAML merge key: the merged mapping's keys, then these
			decodeNode(val, v, key, probs)
			continue
		}
		if line, dup := seen[k.Value]; dup {
			probs.add(joinKey(key, k.Value), "is set twice (lines %d and %d)", line, k.Line)
			continue
		}
		seen[k.Value] = k.Line
		f, ok := fieldByYAMLKey(t, k.Value)
		if !ok {
			probs.add(joinKey(key, k.Value), "unknown key (line %d); known keys here: %s", k.Line, strings.Join(yamlKeys(t), ", "))
			continue
		}
		decodeNode(val, v.FieldByIndex(f.Index), joinKey(key, k.Value), probs)
	}
}

// decodeMap merges the mapping n into the map v (users.defaults: entries merge into the defaults);
// an entry's meaning is checked by validate (syntax) and by the check command (the org's User
// fields).
func decodeMap(n *yaml.Node, v reflect.Value, key string, probs *problems) {
	t := v.Type()
	if v.IsNil() {
		v.Set(reflect.MakeMap(t))
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		elem, before := reflect.New(t.Elem()).Elem(), len(*probs)
		if decodeNode(val, elem, joinKey(key, k.Value), probs); len(*probs) == before {
			v.SetMapIndex(reflect.ValueOf(k.Value), elem)
		}
	}
}

func kindText(k reflect.Kind) string {
	switch k {
	case reflect.Bool:
		return "true or false"
	case reflect.Int:
		return "a whole number"
	default:
		return "a single value"
	}
}

// yamlKeys lists a struct's YAML keys, for "known keys here" hints.
func yamlKeys(t reflect.Type) []string {
	keys := make([]string, 0, t.NumField())
	for i := 0; i < t.NumField(); i++ {
		if t.Field(i).IsExported() {
			keys = append(keys, yamlKey(t.Field(i)))
		}
	}
	return keys
}

func yamlKey(f reflect.StructField) string { return strings.Split(f.Tag.Get("yaml"), ",")[0] }

func fieldByYAMLKey(t reflect.Type, key string) (reflect.StructField, bool) {
	for i := 0; i < t.NumField(); i++ {
		if t.Field(i).IsExported() && yamlKey(t.Field(i)) == key {
			return t.Field(i), true
		}
	}
	return reflect.StructField{}, false
}

var durationType = reflect.TypeOf(time.Duration(0))

// applyEnv overrides every scalar (and string-list) key from SCIM_BRIDGE_<SECTION>_<KEY>, and
// secrets also from …_FILE. users.defaults entries are SCIM_BRIDGE_USERS_DEFAULTS_<KEY>. Every
// variable it consumes is added to known.
func applyEnv(v reflect.Value, prefix string, env map[string]string, known map[string]bool) problems {
	var probs problems
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name := prefix + "_" + strings.ToUpper(yamlKey(f))
		fv := v.Field(i)
		if f.Type.Kind() == reflect.Struct && f.Type != durationType {
			probs = append(probs, applyEnv(fv, name, env, known)...)
			continue
		}
		if f.Type.Kind() == reflect.Map && f.Type.Key().Kind() == reflect.String {
			for k, ev := range env {
				if sub, found := strings.CutPrefix(k, name+"_"); found && sub != "" {
					known[k] = true
					if fv.IsNil() {
						fv.Set(reflect.MakeMap(f.Type))
					}
					fv.SetMapIndex(reflect.ValueOf(envMapKey(fv, sub)), reflect.ValueOf(ev))
				}
			}
			continue
		}
		val, ok := env[name]
		known[name] = true
		if f.Tag.Get("secret") == "true" {
			known[name+"_FILE"] = true
			if p, okFile := env[name+"_FILE"]; okFile {
				if ok {
					probs.add(envKey(name), "set either %s or %s_FILE, not both", name, name)
					continue
				}
				b, err := os.ReadFile(p)
				if err != nil {
					probs.add(envKey(name+"_FILE"), "cannot read the secret file: %v", errors.Unwrap(err))
					continue
				}
				val, ok = strings.TrimSpace(string(b)), true
			}
		}
		if !ok {
			continue
		}
		if f.Type.Kind() == reflect.Slice && f.Type.Elem().Kind() == reflect.Struct {
			if name != envTokens { // auth.tokens has its own format (applyEnvTokens)
				probs.add(envKey(name), "cannot be set from the environment; use the config file")
			}
			continue
		}
		if err := setScalar(fv, val); err != nil {
			probs.add(envKey(name), "%v", err)
		}
	}
	return probs
}

// envMapKey finds the existing map key matching an upper-cased env suffix (TIMEZONESIDKEY →
// TimeZoneSidKey), else keeps the suffix as given.
func envMapKey(m reflect.Value, sub string) string {
	for _, k := range m.MapKeys() {
		if strings.EqualFold(strings.ReplaceAll(k.String(), "_", ""), strings.ReplaceAll(sub, "_", "")) {
			return k.String()
		}
	}
	return strings.ToLower(sub)
}

func envKey(name string) string { return "environment " + name }

func setScalar(fv reflect.Value, val string) error {
	switch {
	case fv.Type() == durationType:
		d, err := time.ParseDuration(val)
		if err != nil {
			return fmt.Errorf("must be a duration with a unit, such as 30s")
		}
		fv.SetInt(int64(d))
	case fv.Kind() == reflect.String:
		fv.SetString(val)
	case fv.Kind() == reflect.Bool:
		b, err := strconv.ParseBool(val)
		if err != nil {
			return fmt.Errorf("must be true or false")
		}
		fv.SetBool(b)
	case fv.Kind() == reflect.Int:
		n, err := strconv.Atoi(val)
		if err != nil {
			return fmt.Errorf("must be a whole number")
		}
		fv.SetInt(int64(n))
	case fv.Kind() == reflect.Slice && fv.Type().Elem().Kind() == reflect.String:
		var list []string
		for _, s := range strings.Split(val, ",") {
			if s = strings.TrimSpace(s); s != "" {
				list = append(list, s)
			}
		}
		fv.Set(reflect.ValueOf(list))
	default:
		return fmt.Errorf("cannot be set from the environment; use the config file")
	}
	return nil
}

// applyEnvTokens reads bearer tokens from the environment and adds them to auth.tokens:
// SCIM_BRIDGE_AUTH_TOKENS ("name:token,…", or …_FILE), and SCIM_BRIDGE_TOKEN (or …_FILE), one token
// named "env". A name used twice is refused by validate.
func applyEnvTokens(cfg *Config, env map[string]string, known map[string]bool) problems {
	var probs problems
	read := func(name string) (string, bool) {
		known[name], known[name+"_FILE"] = true, true
		p, okFile := env[name+"_FILE"]
		v, ok := env[name]
		switch {
		case okFile && ok:
			probs.add(envKey(name), "set either %s or %s_FILE, not both", name, name)
			return "", false
		case okFile:
			b, err := os.ReadFile(p)
			if err != nil {
				probs.add(envKey(name+"_FILE"), "cannot read the secret file: %v", errors.Unwrap(err))
				return "", false
			}
			return strings.TrimSpace(string(b)), true
		}
		return v, ok
	}
	if list, ok := read(envTokens); ok {
		for i, item := range strings.Split(list, ",") {
			name, tok, found := strings.Cut(strings.TrimSpace(item), ":")
			if !found {
				probs.add(envKey(envTokens), "entry %d must be name:token", i+1)
				continue
			}
			cfg.Auth.Tokens = append(cfg.Auth.Tokens, TokenConfig{Name: name, Token: tok, from: envTokens})
		}
	}
	if tok, ok := read(envToken); ok && tok != "" {
		cfg.Auth.Tokens = append(cfg.Auth.Tokens, TokenConfig{Name: "env", Token: tok, from: envToken})
	}
	return probs
}

func readSecretFiles(cfg *Config) problems {
	var probs problems
	for i := range cfg.Auth.Tokens {
		t := &cfg.Auth.Tokens[i]
		if t.TokenFile == "" {
			continue
		}
		b, err := os.ReadFile(t.TokenFile)
		if err != nil {
			probs.add(fmt.Sprintf("auth.tokens[%d].token_file", i), "cannot read: %v", errors.Unwrap(err))
			continue
		}
		t.Token = strings.TrimSpace(string(b))
	}
	return probs
}

func (c Config) userMapping() scimschema.UserMappingConfig {
	m := scimschema.UserMappingConfig{
		Defaults:        c.Users.Defaults,
		UsernameDomain:  c.Users.UsernameDomain,
		UsernameSuffix:  c.Users.UsernameSuffix,
		StrictPicklists: c.Users.StrictPicklists,
	}
	for _, e := range c.Users.Mapping {
		m.Mapping = append(m.Mapping, scimschema.MappingEntry{SCIM: e.SCIM, Salesforce: e.Salesforce, OnUpdate: e.OnUpdate, Required: e.Required})
	}
	return m
}

// redacted returns the config as YAML with every secret replaced, for --print-config.
func (c Config) redacted() string {
	cp := c
	cp.Auth.Tokens = append([]TokenConfig(nil), c.Auth.Tokens...)
	for i := range cp.Auth.Tokens {
		cp.Auth.Tokens[i].Token = redact(cp.Auth.Tokens[i].Token)
	}
	cp.Salesforce.ClientSecret = redact(c.Salesforce.ClientSecret)
	cp.Salesforce.AccessToken = redact(c.Salesforce.AccessToken)
	cp.Salesforce.RefreshToken = redact(c.Salesforce.RefreshToken)
	out, err := yaml.Marshal(cp)
	if err != nil {
		return "# cannot render the configuration\n"
	}
	return string(out)
}

func redact(s string) string {
	if s == "" {
		return ""
	}
	return "<redacted>"
}

// envMap turns os.Environ-style entries into a map, keeping only SCIM_BRIDGE_* variables.
func envMap(env []string) map[string]string {
	m := map[string]string{}
	for _, kv := range env {
		k, v, ok := strings.Cut(kv, "=")
		if ok && strings.HasPrefix(k, "SCIM_BRIDGE_") {
			m[k] = v
		}
	}
	return m
}
