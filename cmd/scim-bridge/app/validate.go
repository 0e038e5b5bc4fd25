package app

import (
	"crypto/tls"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/scim-bridge/scim-bridge/salesforce"
	"github.com/scim-bridge/scim-bridge/salesforce/rest"
	"github.com/scim-bridge/scim-bridge/server"
)

// purpose says what a configuration is loaded for: check needs no bearer tokens, status only
// admin_listen (the demo's file, say, has no salesforce section).
type purpose int

const (
	forServe purpose = iota
	forCheck
	forStatus
)

// validate checks cfg completely and returns every problem, keyed by its full key. The rules of a
// package's settings live in that package's Validate (server.Config, rest.Config,
// salesforce.BackendConfig, which runs scimschema.UserMappingConfig's); validate gives each its
// section and adds the rules only the process has (listeners, TLS files, bearer tokens).
func validate(cfg *Config, use purpose) problems {
	probs := validateListeners(cfg)
	probs = append(probs, validateTokens(cfg.Auth.Tokens, use)...)
	if use == forStatus {
		return probs
	}
	probs = append(probs, cfg.restSettings().Validate().In("salesforce")...)
	backend, wordProbs := cfg.backendSettings()
	probs = append(probs, wordProbs...)
	probs = append(probs, backend.Validate()...)
	if cfg.Salesforce.BatchWindow > time.Second {
		// The operator's bound (every single-resource write may wait this long); the library
		// allows longer windows, which its tests use to hold a batch open.
		probs.add("salesforce.batch_window", "must be between 0 (off) and 1s, such as 5ms")
	}
	return probs
}

// restSettings is the salesforce section as a rest.Config; buildBackend adds the wiring.
func (c Config) restSettings() rest.Config {
	sf := c.Salesforce
	return rest.Config{
		URL:               sf.URL,
		LoginURL:          sf.LoginURL,
		APIVersion:        sf.APIVersion,
		Flow:              rest.Flow(sf.Flow), // checked by Validate
		ClientID:          sf.ClientID,
		ClientSecret:      sf.ClientSecret,
		AccessToken:       sf.AccessToken,
		RefreshToken:      sf.RefreshToken,
		TokenFile:         sf.TokenFile,
		JWTUsername:       sf.JWT.Username,
		JWTPrivateKeyFile: sf.JWT.PrivateKeyFile,
		MaxConcurrency:    sf.MaxConcurrency,
		Timeout:           sf.Timeout,
	}
}

// backendSettings is the provisioning, users, groups and audit sections and salesforce.batch_window
// as a salesforce.BackendConfig; buildBackend adds the wiring. The policy words become policies
// through salesforce.ParseX, the one place that reads them; a word that is none is a problem.
func (c Config) backendSettings() (salesforce.BackendConfig, problems) {
	var probs problems
	parse := func(key string, err error) {
		if err != nil {
			probs.add(key, "%v", err)
		}
	}
	p, g := c.Provisioning, c.Groups
	disableAction, err := salesforce.ParseDisableAction(p.DisableAction)
	parse("provisioning.disable_action", err)
	membership, err := salesforce.ParseMembershipMode(p.PermissionSets)
	parse("provisioning.permission_sets", err)
	source, err := salesforce.ParseGroupSource(g.Source)
	parse("groups.source", err)
	return salesforce.BackendConfig{
		Provisioning: salesforce.ProvisioningConfig{
			CreateUsers:      p.CreateUsers,
			UpdateUsers:      p.UpdateUsers,
			DisableUsers:     p.DisableUsers,
			DeprovisionUsers: p.DeprovisionUsers,
			DisableAction:    disableAction,
			PermissionSets:   membership,
			DryRun:           p.DryRun,
			DeprovisionLimit: salesforce.DeprovisionLimit{Max: p.DeprovisionLimit.Max, Window: p.DeprovisionLimit.Window},
		},
		Users:              c.userMapping(),
		UserTypes:          c.Users.UserTypes,
		AssignableProfiles: c.Users.AssignableProfiles,
		Groups: salesforce.GroupsConfig{
			Source:                      source,
			Include:                     g.Include,
			AllowCreate:                 g.AllowCreate,
			AllowDelete:                 g.AllowDelete,
			AssignPermissionSetLicenses: g.AssignPermissionSetLicenses,
		},
		Audit:       salesforce.AuditConfig{IdentifyUsers: c.Audit.IdentifyUsers},
		BatchWindow: c.Salesforce.BatchWindow,
	}, probs
}

// serverKeys names the configuration key of each server.Config field the file sets.
var serverKeys = map[string]string{"PublicURL": "public_url", "TrustProxyHeaders": "trust_proxy_headers"}

// validateListeners checks what the process listens on and how: listen, admin_listen, public_url,
// shutdown_delay and tls.
func validateListeners(cfg *Config) problems {
	var probs problems
	if _, _, err := net.SplitHostPort(cfg.Listen); err != nil {
		probs.add("listen", "must be host:port, such as 127.0.0.1:8080")
	}
	if cfg.AdminListen != "" {
		if _, _, err := net.SplitHostPort(cfg.AdminListen); err != nil {
			probs.add("admin_listen", "must be host:port, such as 127.0.0.1:9090, or empty (off)")
		}
	}
	serverProbs := cfg.serverSettings().Validate()
	for _, p := range serverProbs {
		probs.add(serverKeys[p.Key], "%s", p.Problem)
	}
	if cfg.PublicURL != "" && !serverProbs.Has("PublicURL") {
		if msg := publicURLPath(cfg.PublicURL); msg != "" {
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
	return probs
}

// serverSettings is the part of server.Config the file sets; buildBridge adds the wiring.
func (c Config) serverSettings() server.Config {
	return server.Config{PublicURL: c.PublicURL, TrustProxyHeaders: c.TrustProxyHeaders}
}

// publicURLPath refuses a path in public_url (server.Config allows one; the operator's file does
// not): the bridge appends /scim/v2 itself, so a path (often the SCIM base pasted from the IdP)
// would double it in every Location.
func publicURLPath(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Path == "" || u.Path == "/" {
		return ""
	}
	fix := u.Scheme + "://" + u.Host
	if strings.HasSuffix(strings.TrimRight(u.Path, "/"), "/scim/v2") {
		return fmt.Sprintf("must not include /scim/v2, which the bridge adds itself: set it to %s", fix)
	}
	return fmt.Sprintf("must have no path: set it to %s (behind a proxy that serves the bridge under a path prefix, leave public_url empty and use trust_proxy_headers with X-Forwarded-Prefix)", fix)
}

// validateTokens checks auth.tokens, those from the environment included (named by their
// variable). check needs no token.
func validateTokens(tokens []TokenConfig, use purpose) problems {
	var probs problems
	if use == forServe && len(tokens) == 0 {
		probs.add("auth.tokens", "at least one bearer token is required (or set SCIM_BRIDGE_TOKEN)")
	}
	names := map[string]string{} // token name → where it was first given
	for i, t := range tokens {
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
	return probs
}

// withOrigins adds to each problem where its value came from: the variable that set it, else its
// line in the configuration file (data). A listen given by --listen has neither.
func withOrigins(probs problems, data []byte, env map[string]string, listenFlag bool) problems {
	out := make(problems, len(probs))
	for i, p := range probs {
		out[i] = p
		if p.Key == "listen" && listenFlag {
			continue
		}
		if name := envVariableOf(p.Key, env); name != "" {
			out[i].Problem += fmt.Sprintf(" (set by %s)", name)
		} else if line := lineOf(data, p.Key); line > 0 {
			out[i].Problem += fmt.Sprintf(" (line %d)", line)
		}
	}
	return out
}

// envVariableOf is the SCIM_BRIDGE_* variable in env that sets key (or its …_FILE), or "".
func envVariableOf(key string, env map[string]string) string {
	if strings.ContainsAny(key, "[ ") {
		return "" // a list entry, or no key ("environment SCIM_BRIDGE_TOKEN")
	}
	name := "SCIM_BRIDGE_" + strings.ToUpper(strings.ReplaceAll(key, ".", "_"))
	for _, n := range []string{name, name + "_FILE"} {
		if _, ok := env[n]; ok {
			return n
		}
	}
	return ""
}

// lineOf is the line of key (salesforce.url, users.mapping[2].scim) in the YAML document data, or
// 0 when the file does not set it.
func lineOf(data []byte, key string) int {
	var doc yaml.Node
	if len(data) == 0 || yaml.Unmarshal(data, &doc) != nil || len(doc.Content) == 0 {
		return 0
	}
	n, line := doc.Content[0], 0
	for _, part := range keyParts(key) {
		if n.Kind == yaml.AliasNode {
			n = n.Alias
		}
		n, line = child(n, part)
		if n == nil {
			return 0
		}
	}
	return line
}

// keyParts splits users.mapping[2].scim into users, mapping, [2], scim.
func keyParts(key string) []string {
	var parts []string
	for _, dotted := range strings.Split(key, ".") {
		name, index, _ := strings.Cut(dotted, "[")
		if name != "" {
			parts = append(parts, name)
		}
		for index != "" {
			var i string
			i, index, _ = strings.Cut(index, "[")
			parts = append(parts, "["+i)
		}
	}
	return parts
}

// child is n's entry named part (a mapping key, or "[i]" of a list) and the line it starts on.
func child(n *yaml.Node, part string) (*yaml.Node, int) {
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == part {
				return n.Content[i+1], n.Content[i].Line
			}
		}
	case yaml.SequenceNode:
		var i int
		if _, err := fmt.Sscanf(part, "[%d]", &i); err == nil && i >= 0 && i < len(n.Content) {
			return n.Content[i], n.Content[i].Line
		}
	}
	return nil, 0
}
