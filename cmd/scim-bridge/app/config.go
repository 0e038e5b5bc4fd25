package app

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/scim-bridge/scim-bridge/scimschema"
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

// defaultConfig is the one place defaults live.
func defaultConfig() Config {
	return Config{
		Listen:        "127.0.0.1:8080",
		ShutdownDelay: 5 * time.Second,
		Salesforce: SalesforceConf{
			APIVersion:     "66.0",
			Flow:           "refresh_token",
			MaxConcurrency: 10,
			Timeout:        30 * time.Second,
			BatchWindow:    5 * time.Millisecond,
		},
		Provisioning: Provisioning{
			CreateUsers:      true,
			UpdateUsers:      true,
			DisableUsers:     true,
			DisableAction:    "disable",
			DeprovisionUsers: true,
			PermissionSets:   "merge",
			DeprovisionLimit: DeprovisionLimit{Max: 100, Window: time.Hour},
		},
		Users: UsersConfig{
			Defaults: map[string]string{
				"profile":           "Standard User",
				"TimeZoneSidKey":    "America/Los_Angeles",
				"LocaleSidKey":      "en_US",
				"LanguageLocaleKey": "en_US",
				"EmailEncodingKey":  "UTF-8",
			},
			UserTypes: []string{"Standard"},
		},
		Groups: GroupsConfig{
			Source:      "permission_sets",
			Include:     []string{"*"},
			AllowCreate: true,
		},
	}
}

// problems collects every configuration problem so that all are reported at once.
type problems []string

func (p *problems) add(key, format string, args ...any) {
	*p = append(*p, key+": "+fmt.Sprintf(format, args...))
}

// has reports whether a problem names key already.
func (p problems) has(key string) bool {
	return slices.ContainsFunc(p, func(s string) bool { return strings.HasPrefix(s, key+": ") })
}

func (p problems) err() error {
	if len(p) == 0 {
		return nil
	}
	return fmt.Errorf("invalid configuration:\n  %s", strings.Join(p, "\n  "))
}

// loadConfig reads the YAML file (path may be ""), then the environment, then secret files, then
// the --listen flag (listen may be ""), and validates the result. Every problem is reported together,
// each naming its key or environment variable.
func loadConfig(file string, env map[string]string, listen string, use purpose) (Config, error) {
	cfg := defaultConfig()
	var probs problems
	if file != "" {
		data, err := os.ReadFile(file)
		if err != nil {
			return cfg, fmt.Errorf("config file: %w", err)
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
	probs = append(probs, validate(&cfg, use)...)
	return cfg, probs.err()
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
	if f, ok := env[envLogFormat]; ok && f != "json" && f != "console" {
		probs.add(envKey(envLogFormat), "must be json or console")
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
		return problems{"config file: " + err.Error()}
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
		// users.defaults: entries merge into the defaults; a key's meaning is checked by validate
		// (syntax) and by the check command (the org's User fields).
		if n.Kind != yaml.MappingNode {
			probs.add(name, "must be a mapping such as {profile: Standard User} (line %d)", n.Line)
			return
		}
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
	default:
		if n.Kind != yaml.ScalarNode || n.Decode(v.Addr().Interface()) != nil {
			probs.add(name, "must be %s (line %d)", kindText(t.Kind()), n.Line)
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

var (
	apiVersionRE = regexp.MustCompile(`^[0-9]{2}\.0$`)
	domainRE     = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$`)
)

// purpose says what a configuration is loaded for: check needs no bearer tokens, status only
// admin_listen (the demo's file, say, has no salesforce section).
type purpose int

const (
	forServe purpose = iota
	forCheck
	forStatus
)

func validate(cfg *Config, use purpose) problems {
	var probs problems
	if _, _, err := net.SplitHostPort(cfg.Listen); err != nil {
		probs.add("listen", "must be host:port, such as 127.0.0.1:8080")
	}
	if cfg.AdminListen != "" {
		if _, _, err := net.SplitHostPort(cfg.AdminListen); err != nil {
			probs.add("admin_listen", "must be host:port, such as 127.0.0.1:9090, or empty (off)")
		}
	}
	if cfg.PublicURL != "" {
		if msg := checkPublicURL(cfg.PublicURL); msg != "" {
			probs.add("public_url", "%s", msg)
		}
	}
	if cfg.ShutdownDelay < 0 || cfg.ShutdownDelay > 5*time.Minute {
		probs.add("shutdown_delay", "must be a duration between 0s and 5m, such as 5s")
	}
	if (cfg.TLS.CertFile == "") != (cfg.TLS.KeyFile == "") {
		probs.add("tls", "set both cert_file and key_file, or neither")
	} else if cfg.TLS.CertFile != "" {
		if _, err := tls.LoadX509KeyPair(cfg.TLS.CertFile, cfg.TLS.KeyFile); err != nil {
			probs.add("tls.cert_file", "cannot load the certificate and key_file: %v", err)
		}
	}
	if use == forServe && len(cfg.Auth.Tokens) == 0 {
		probs.add("auth.tokens", "at least one bearer token is required (or set SCIM_BRIDGE_TOKEN)")
	}
	names := map[string]string{} // token name → where it was first given
	for i, t := range cfg.Auth.Tokens {
		key := fmt.Sprintf("auth.tokens[%d]", i)
		nameKey, tokenKey := key+".name", key+".token"
		if t.from != "" {
			key = envKey(t.from)
			nameKey, tokenKey = key, key
		}
		switch first, dup := names[t.Name]; {
		case t.Name == "":
			probs.add(nameKey, "is required (it names the IdP in audit lines)")
		case dup:
			probs.add(nameKey, "token name %q is used twice (first in %s): tokens from the environment are added to auth.tokens, and each name must be unique", t.Name, first)
		default:
			names[t.Name] = key
		}
		if len(t.Token) < 16 {
			probs.add(tokenKey, "must be at least 16 characters (use token or token_file)")
		}
	}
	if use == forStatus {
		return probs
	}
	sf := cfg.Salesforce
	if sf.URL == "" {
		probs.add("salesforce.url", "is required, such as https://acme.my.salesforce.com")
	} else if msg := checkSalesforceURL(sf.URL); msg != "" {
		probs.add("salesforce.url", "%s", msg)
	}
	if sf.LoginURL != "" {
		if msg := checkSalesforceURL(sf.LoginURL); msg != "" {
			probs.add("salesforce.login_url", "%s", msg)
		}
	}
	if sf.ClientID == "" {
		probs.add("salesforce.client_id", "is required (the connected app's consumer key)")
	}
	switch sf.Flow {
	case "refresh_token":
		if sf.RefreshToken == "" && sf.TokenFile == "" {
			probs.add("salesforce.refresh_token", "is required with flow refresh_token (or a token_file holding one)")
		}
	case "client_credentials":
		if sf.ClientSecret == "" {
			probs.add("salesforce.client_secret", "is required with flow client_credentials")
		}
	case "jwt":
		if sf.JWT.Username == "" {
			probs.add("salesforce.jwt.username", "is required with flow jwt")
		}
		if sf.JWT.PrivateKeyFile == "" {
			probs.add("salesforce.jwt.private_key_file", "is required with flow jwt")
		} else if _, err := os.Stat(sf.JWT.PrivateKeyFile); err != nil {
			probs.add("salesforce.jwt.private_key_file", "cannot read: %v", errors.Unwrap(err))
		}
	default:
		probs.add("salesforce.flow", "must be refresh_token, client_credentials or jwt")
	}
	if !apiVersionRE.MatchString(sf.APIVersion) {
		probs.add("salesforce.api_version", "must look like 66.0")
	}
	if sf.MaxConcurrency < 1 || sf.MaxConcurrency > 100 {
		probs.add("salesforce.max_concurrency", "must be between 1 and 100")
	}
	if sf.Timeout <= 0 {
		probs.add("salesforce.timeout", "must be a positive duration such as 30s")
	}
	if sf.BatchWindow < 0 || sf.BatchWindow > time.Second {
		probs.add("salesforce.batch_window", "must be between 0 (off) and 1s, such as 5ms")
	}
	p := cfg.Provisioning
	if p.DisableAction != "disable" && p.DisableAction != "freeze" {
		probs.add("provisioning.disable_action", "must be disable or freeze")
	}
	if p.PermissionSets != "merge" && p.PermissionSets != "overwrite" {
		probs.add("provisioning.permission_sets", "must be merge or overwrite")
	}
	if p.DeprovisionLimit.Max < 0 {
		probs.add("provisioning.deprovision_limit.max", "must be 0 (off) or a positive number of deprovisionings")
	}
	if p.DeprovisionLimit.Max > 0 && (p.DeprovisionLimit.Window < time.Minute || p.DeprovisionLimit.Window > 24*time.Hour) {
		probs.add("provisioning.deprovision_limit.window", "must be between 1m and 24h, such as 1h")
	}
	u := cfg.Users
	if u.UsernameDomain != "" && !domainRE.MatchString(u.UsernameDomain) {
		probs.add("users.username_domain", "must be a lower-case domain such as acme.com")
	}
	if u.UsernameSuffix != "" && !regexp.MustCompile(`^\.[a-z0-9]+$`).MatchString(u.UsernameSuffix) {
		probs.add("users.username_suffix", "must be a dot and lower-case letters or digits, such as .uat")
	}
	for i, name := range u.AssignableProfiles {
		if strings.TrimSpace(name) == "" {
			probs.add(fmt.Sprintf("users.assignable_profiles[%d]", i), "must be a profile name or id, not empty")
		}
	}
	if len(u.UserTypes) == 0 {
		probs.add("users.user_types", "must name at least one Salesforce UserType, such as Standard")
	}
	if _, err := scimschema.NewUserMapper(cfg.userMapping()); err != nil {
		for _, line := range strings.Split(err.Error(), "\n") {
			key, _, _ := strings.Cut(line, ":")
			if line = strings.TrimSpace(line); line != "" && !probs.has(key) {
				probs = append(probs, line)
			}
		}
	}
	g := cfg.Groups
	switch g.Source {
	case "permission_sets", "permission_set_groups", "both":
	default:
		probs.add("groups.source", "must be permission_sets, permission_set_groups or both")
	}
	for i, pat := range g.Include {
		if _, err := path.Match(pat, ""); err != nil {
			probs.add(fmt.Sprintf("groups.include[%d]", i), "is not a valid name pattern")
		}
	}
	return probs
}

// checkPublicURL accepts scheme://host[:port] only: the bridge appends /scim/v2 itself, so a path
// (often the SCIM base pasted from the IdP) would double it in every Location.
func checkPublicURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return "must be an absolute http(s) URL such as https://scim.example.com"
	}
	if u.Path != "" && u.Path != "/" {
		fix := u.Scheme + "://" + u.Host
		if strings.HasSuffix(strings.TrimRight(u.Path, "/"), "/scim/v2") {
			return fmt.Sprintf("must not include /scim/v2, which the bridge adds itself: set it to %s", fix)
		}
		return fmt.Sprintf("must have no path: set it to %s (behind a proxy that serves the bridge under a path prefix, leave public_url empty and use trust_proxy_headers with X-Forwarded-Prefix)", fix)
	}
	return ""
}

// checkSalesforceURL allows http:// only for loopback addresses (the emulator).
func checkSalesforceURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Path != "" && u.Path != "/") {
		return "must be a base URL such as https://acme.my.salesforce.com"
	}
	switch u.Scheme {
	case "https":
		return ""
	case "http":
		host := u.Hostname()
		if ip := net.ParseIP(host); (ip != nil && ip.IsLoopback()) || host == "localhost" {
			return ""
		}
		return "must be https unless it is a loopback address"
	default:
		return "must be https unless it is a loopback address"
	}
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
