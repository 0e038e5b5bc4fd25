package rest

import (
	"crypto/rsa"
	"errors"
	"net/url"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/scim-bridge/scim-bridge/scimschema/setting"
)

// DefaultAPIVersion is the REST API version used when Config.APIVersion is empty (Spring '26).
const DefaultAPIVersion = "66.0"

// DefaultConfig is the salesforce section's defaults (DESIGN.md "Configuration"). New also
// fills APIVersion, MaxConcurrency and Timeout from it when they are zero.
func DefaultConfig() Config {
	return Config{
		APIVersion:     DefaultAPIVersion,
		Flow:           FlowRefreshToken,
		MaxConcurrency: 10,
		Timeout:        30 * time.Second,
	}
}

// withDefaults fills the zero values New documents (APIVersion, MaxConcurrency, Timeout). Flow has
// no such default: a Config without one is a mistake.
func (cfg Config) withDefaults() Config {
	d := DefaultConfig()
	if cfg.APIVersion == "" {
		cfg.APIVersion = d.APIVersion
	}
	if cfg.MaxConcurrency == 0 {
		cfg.MaxConcurrency = d.MaxConcurrency
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = d.Timeout
	}
	return cfg
}

// Validate checks cfg as it will be used (zero values New would default are problems here; the
// configuration file starts from DefaultConfig) and returns every problem, keyed relative to the
// salesforce section: url, api_version, jwt.private_key_file. It reads TokenFile and
// JWTPrivateKeyFile, and makes no network call.
func (cfg Config) Validate() setting.FieldErrors {
	problems, _ := cfg.check()
	return problems
}

// validConfig is what check parsed from a valid Config, for New.
type validConfig struct {
	base, login *url.URL
	refresh     string // RefreshToken, or the one TokenFile holds
	jwtKey      *rsa.PrivateKey
}

// apiVersionPattern is a REST API version: two digits, ".0" (v20.0 was Spring '11; v100.0 is
// decades away).
var apiVersionPattern = regexp.MustCompile(`^[1-9][0-9]\.0$`)

// check is the one place the salesforce section's rules live; Validate reports its problems and
// New uses what it parsed.
func (cfg Config) check() (problems setting.FieldErrors, c validConfig) {
	c.base = checkBaseURL(&problems, "url", cfg.URL)
	c.login = c.base
	if cfg.LoginURL != "" {
		c.login = checkBaseURL(&problems, "login_url", cfg.LoginURL)
	}
	if !apiVersionPattern.MatchString(cfg.APIVersion) {
		problems.Add("api_version", "must look like %s", DefaultAPIVersion)
	}
	if cfg.ClientID == "" {
		problems.Add("client_id", "is required (the connected app's consumer key)")
	}
	switch cfg.Flow {
	case FlowRefreshToken:
		c.refresh = cfg.refreshToken(&problems)
	case FlowClientCredentials:
		if cfg.ClientSecret == "" {
			problems.Add("client_secret", "is required with flow client_credentials")
		}
		if c.login != nil && sharedLoginHost(c.login.Hostname()) {
			// Salesforce answers the client-credentials grant on the shared login hosts with
			// invalid_grant "request not supported on this domain": only the org's My Domain
			// serves it (pozil/pub-sub-api-node-client#58; reference §9 known unknowns).
			key := "login_url"
			if cfg.LoginURL == "" {
				key = "url"
			}
			problems.Add(key, "flow client_credentials needs the org's My Domain (https://<domain>.my.salesforce.com); %s does not serve it", c.login.Hostname())
		}
	case FlowJWT:
		if cfg.JWTUsername == "" {
			problems.Add("jwt.username", "is required with flow jwt")
		}
		c.jwtKey = cfg.privateKey(&problems)
	default:
		problems.Add("flow", "must be refresh_token, client_credentials or jwt")
	}
	if cfg.MaxConcurrency < 1 || cfg.MaxConcurrency > 100 {
		problems.Add("max_concurrency", "must be between 1 and 100")
	}
	if cfg.Timeout <= 0 {
		problems.Add("timeout", "must be a positive duration such as 30s")
	}
	if cfg.Retry.Attempts < 0 || cfg.Retry.Base < 0 || cfg.Retry.Max < 0 {
		problems.Add("retry", "attempts and delays must not be negative")
	}
	return problems, c
}

// checkBaseURL checks an instance or login URL: scheme://host[:port], https unless loopback. It
// returns the URL, or nil when it is unusable.
func checkBaseURL(problems *setting.FieldErrors, key, raw string) *url.URL {
	u, err := url.Parse(raw)
	switch {
	case raw == "":
		problems.Add(key, "is required, such as https://acme.my.salesforce.com")
		return nil
	case err != nil || u.Host == "" || (u.Path != "" && u.Path != "/"):
		problems.Add(key, "must be a base URL such as https://acme.my.salesforce.com")
		return nil
	case u.Scheme != "https" && !(u.Scheme == "http" && isLoopback(u.Hostname())):
		problems.Add(key, "must be https unless it is a loopback address")
		return nil
	case u.RawQuery != "" || u.Fragment != "" || u.User != nil:
		problems.Add(key, "must not carry user info, a query or a fragment")
		return nil
	}
	u.Path, u.RawPath = "", ""
	return u
}

// refreshToken is the refresh token the refresh_token flow starts with: TokenFile's when it holds
// one (a rotated token wins), else RefreshToken.
func (cfg Config) refreshToken(problems *setting.FieldErrors) string {
	refresh := cfg.RefreshToken
	if cfg.TokenFile != "" {
		stored, ok, err := readTokenFile(cfg.TokenFile)
		if err != nil {
			problems.Add("token_file", "%v", err)
		} else if ok {
			refresh = stored
		}
	}
	if refresh == "" {
		problems.Add("refresh_token", "is required with flow refresh_token (or a token_file holding one)")
	}
	return refresh
}

// privateKey is the jwt flow's RS256 key: JWTPrivateKeyPEM, else the file JWTPrivateKeyFile.
func (cfg Config) privateKey(problems *setting.FieldErrors) *rsa.PrivateKey {
	pem := cfg.JWTPrivateKeyPEM
	switch {
	case len(pem) > 0:
	case cfg.JWTPrivateKeyFile == "":
		problems.Add("jwt.private_key_file", "is required with flow jwt")
		return nil
	default:
		var err error
		if pem, err = os.ReadFile(cfg.JWTPrivateKeyFile); err != nil {
			problems.Add("jwt.private_key_file", "cannot read: %v", errors.Unwrap(err))
			return nil
		}
	}
	k, err := jwt.ParseRSAPrivateKeyFromPEM(pem)
	if err != nil {
		problems.Add("jwt.private_key_file", "not a PEM-encoded RSA private key (PKCS#1 or PKCS#8)")
		return nil
	}
	return k
}

// sharedLoginHost reports whether host is one of Salesforce's shared login hosts rather than an
// org's own domain.
func sharedLoginHost(host string) bool {
	switch strings.ToLower(host) {
	case "login.salesforce.com", "test.salesforce.com":
		return true
	}
	return false
}
