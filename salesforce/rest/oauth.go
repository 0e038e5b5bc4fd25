package rest

import (
	"context"
	"crypto/rsa"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/rs/zerolog"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// Flow is salesforce.flow: the OAuth flow that obtains access tokens. Config.Validate is where a
// configuration word is checked to be one of these.
type Flow string

const (
	FlowRefreshToken      Flow = "refresh_token"
	FlowClientCredentials Flow = "client_credentials"
	FlowJWT               Flow = "jwt"
)

const jwtBearerGrant = "urn:ietf:params:oauth:grant-type:jwt-bearer"

// tokens holds the access token and obtains new ones.
//
// Salesforce's token response has no expires_in: an access token lives until the session timeout
// of the org or connected app, which the client cannot see. So a token is used until a REST call
// answers 401 INVALID_SESSION_ID; the caller then asks renew for a token newer than the one that
// failed. The generation counter makes concurrent 401s cost one token call: the first caller
// fetches, the others find a newer generation and reuse it.
type tokens struct {
	flow         Flow
	tokenURL     string
	audience     string // jwt "aud"
	clientID     string
	clientSecret string
	jwtUsername  string
	jwtKey       *rsa.PrivateKey
	tokenFile    string
	httpClient   *http.Client
	timeout      time.Duration
	now          func() time.Time
	metrics      *metrics
	activity     *activity
	log          zerolog.Logger

	fetching chan struct{} // one slot: serialises token calls; waiting honours ctx

	mu          sync.Mutex // guards the fields below
	access      string
	gen         uint64 // bumped whenever access changes
	verified    bool   // access came from the token endpoint or was accepted by a REST call
	refresh     string
	instanceURL string
	userID      string // the integration user, from the identity URL of the last token response
}

// current returns a token to use, fetching one when there is none.
func (t *tokens) current(ctx context.Context) (string, uint64, error) {
	t.mu.Lock()
	access, gen := t.access, t.gen
	t.mu.Unlock()
	if access != "" {
		return access, gen, nil
	}
	return t.renew(ctx, gen)
}

// renew returns a token newer than generation stale, fetching one unless another caller already
// did.
func (t *tokens) renew(ctx context.Context, stale uint64) (string, uint64, error) {
	select {
	case t.fetching <- struct{}{}:
	case <-ctx.Done():
		return "", 0, transportError(ctx.Err())
	}
	defer func() { <-t.fetching }()

	t.mu.Lock()
	if t.gen != stale && t.access != "" {
		access, gen := t.access, t.gen
		t.mu.Unlock()
		return access, gen, nil
	}
	// The token of generation stale was refused (or there was none): never send it again.
	t.access = ""
	t.mu.Unlock()

	tok, err := t.obtain(ctx)
	if err != nil {
		t.metrics.tokenRefresh(false)
		t.activity.token(err)
		return "", 0, err
	}
	t.metrics.tokenRefresh(true)
	t.activity.token(nil)

	t.mu.Lock()
	t.access = tok.AccessToken
	t.gen++
	t.verified = true
	gen := t.gen
	if iu, ok := tok.Extra("instance_url").(string); ok {
		t.instanceURL = iu
	}
	if id, ok := identityUserID(tok); ok {
		t.userID = id
	}
	t.mu.Unlock()
	return tok.AccessToken, gen, nil
}

// markVerified records that REST accepted the token of generation gen.
func (t *tokens) markVerified(gen uint64) {
	t.mu.Lock()
	if t.gen == gen {
		t.verified = true
	}
	t.mu.Unlock()
}

func (t *tokens) logger(ctx context.Context) *zerolog.Logger {
	if l := zerolog.Ctx(ctx); l.GetLevel() != zerolog.Disabled {
		return l
	}
	return &t.log
}

// fetch calls the token endpoint once for the configured flow.
func (t *tokens) fetch(ctx context.Context, refresh string) (*oauth2.Token, error) {
	ctx, cancel := context.WithTimeout(ctx, t.timeout)
	defer cancel()
	ctx = context.WithValue(ctx, oauth2.HTTPClient, t.httpClient)

	start := time.Now()
	var tok *oauth2.Token
	var err error
	switch t.flow {
	case FlowRefreshToken:
		conf := &oauth2.Config{
			ClientID:     t.clientID,
			ClientSecret: t.clientSecret,
			// In-params, not auto-detect: auto-detect repeats a refused grant with the other style,
			// which doubles every invalid_grant.
			Endpoint: oauth2.Endpoint{TokenURL: t.tokenURL, AuthStyle: oauth2.AuthStyleInParams},
		}
		// An empty access token makes the source refresh at once; caching is ours, not oauth2's.
		tok, err = conf.TokenSource(ctx, &oauth2.Token{RefreshToken: refresh}).Token()
	case FlowClientCredentials:
		conf := &clientcredentials.Config{
			ClientID:     t.clientID,
			ClientSecret: t.clientSecret,
			TokenURL:     t.tokenURL,
			AuthStyle:    oauth2.AuthStyleInParams,
		}
		tok, err = conf.Token(ctx)
	case FlowJWT:
		var assertion string
		assertion, err = t.assertion()
		if err != nil {
			return nil, &Error{Kind: KindAuth, ownMessage: true,
				Message: "cannot sign the JWT assertion: check salesforce.jwt.private_key_file"}
		}
		// clientcredentials lets grant_type be overridden; with no client id or secret it sends
		// exactly grant_type and assertion, as the jwt-bearer flow wants.
		conf := &clientcredentials.Config{
			TokenURL:  t.tokenURL,
			AuthStyle: oauth2.AuthStyleInParams,
			EndpointParams: url.Values{
				"grant_type": {jwtBearerGrant},
				"assertion":  {assertion},
			},
		}
		tok, err = conf.Token(ctx)
	default:
		return nil, ownError(0, "", "unknown OAuth flow")
	}
	status := "error"
	if err == nil {
		status = "200"
	} else if re, ok := errors.AsType[*oauth2.RetrieveError](err); ok && re.Response != nil {
		status = fmt.Sprint(re.Response.StatusCode)
	}
	t.metrics.request("token", status, time.Since(start))
	t.logger(ctx).Debug().Str("operation", "token").Str("flow", string(t.flow)).Str("status", status).
		Dur("duration", time.Since(start)).Msg("salesforce token call")
	if err != nil {
		return nil, t.tokenError(err)
	}
	return tok, nil
}

// assertion builds the RS256 JWT of the jwt-bearer flow: iss = client id, sub = username,
// aud = login host, exp = now + 3 minutes (Salesforce's documented maximum).
func (t *tokens) assertion() (string, error) {
	claims := jwt.RegisteredClaims{
		Issuer:    t.clientID,
		Subject:   t.jwtUsername,
		Audience:  jwt.ClaimStrings{t.audience},
		ExpiresAt: jwt.NewNumericDate(t.now().Add(3 * time.Minute)),
	}
	return jwt.NewWithClaims(jwt.SigningMethodRS256, claims).SignedString(t.jwtKey)
}

// jwtAudience is the "aud" Salesforce expects: https://login.salesforce.com for production (also
// when the token endpoint is a My Domain), https://test.salesforce.com for sandboxes, and the
// token host itself for anything else (an Experience Cloud site, an emulator).
func jwtAudience(loginURL *url.URL) string {
	host := strings.ToLower(loginURL.Hostname())
	switch {
	case host == "login.salesforce.com" || host == "test.salesforce.com":
		return "https://" + host
	case strings.HasSuffix(host, ".sandbox.my.salesforce.com"):
		return "https://test.salesforce.com"
	case strings.HasSuffix(host, ".my.salesforce.com"):
		return "https://login.salesforce.com"
	}
	return loginURL.Scheme + "://" + loginURL.Host
}

// tokenError turns a token-endpoint failure into an *Error that says what to fix. It never
// carries the token, the secret or the raw response.
func (t *tokens) tokenError(err error) error {
	re, ok := errors.AsType[*oauth2.RetrieveError](err)
	if !ok {
		if _, isNet := errors.AsType[net.Error](err); isNet ||
			errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
			e := transportError(err)
			e.Message = "token endpoint: " + e.Message
			return e
		}
		return &Error{Kind: KindUnavailable, ownMessage: true,
			Message: "the token endpoint's answer could not be used (no access token)"}
	}
	status := 0
	if re.Response != nil {
		status = re.Response.StatusCode
	}
	e := &Error{Status: status, Code: re.ErrorCode, Kind: KindAuth, ownMessage: true}
	switch {
	case status >= 500 || (re.ErrorCode == "" && status != 400 && status != 401):
		e.Kind = KindUnavailable
		e.Message = fmt.Sprintf("the token endpoint answered HTTP %d", status)
		return e
	case re.ErrorCode == "invalid_grant":
		switch t.flow {
		case FlowRefreshToken:
			e.Message = "refresh token expired or revoked: issue a new one and set salesforce.refresh_token (and remove a stale salesforce.token_file)"
		case FlowClientCredentials:
			e.Message = "client credentials grant refused: enable the flow on the connected app and set its Run As user"
		default:
			e.Message = "JWT assertion refused: check salesforce.jwt.username, that the user is pre-authorised for the connected app, and that the app holds the certificate of salesforce.jwt.private_key_file"
		}
	case re.ErrorCode == "invalid_client_id" || re.ErrorCode == "invalid_client":
		e.Message = "client id/secret rejected: check salesforce.client_id and salesforce.client_secret"
	case re.ErrorCode == "invalid_app_access":
		e.Message = "the user is not admin-approved for the connected app"
	case re.ErrorCode == "inactive_user":
		e.Message = "the integration user is inactive"
	case re.ErrorCode == "unsupported_grant_type":
		e.Message = fmt.Sprintf("the token endpoint does not offer flow %s: check salesforce.flow and salesforce.login_url", t.flow)
	case re.ErrorCode == "rate_limit_exceeded":
		e.Kind = KindLimited
		e.Message = "the token endpoint is rate limiting this client"
	case re.ErrorCode == "":
		e.Message = fmt.Sprintf("the token endpoint answered HTTP %d without an OAuth error", status)
	default:
		e.Message = "the token endpoint refused the request"
	}
	if d := t.redact(re.ErrorDescription); d != "" {
		e.Message += fmt.Sprintf(" (Salesforce says %q)", d)
	}
	return e
}

// redact shortens an OAuth error_description and removes anything secret from it.
func (t *tokens) redact(s string) string {
	t.mu.Lock()
	secrets := []string{t.clientSecret, t.refresh, t.access}
	t.mu.Unlock()
	for _, sec := range secrets {
		if len(sec) >= 4 {
			s = strings.ReplaceAll(s, sec, "[redacted]")
		}
	}
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}
