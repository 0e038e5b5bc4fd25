package emulator

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

const grantJWTBearer = "urn:ietf:params:oauth:grant-type:jwt-bearer"

// accessToken is an issued opaque access token.
type accessToken struct {
	userID  string
	expires time.Time
	refresh string // the refresh token it was issued from, "" for other grants
}

// refreshGrant is a valid refresh token.
type refreshGrant struct{ userID string }

// tokenResponse is Salesforce's token success body (§1.2): no expires_in.
type tokenResponse struct {
	AccessToken    string `json:"access_token"`
	RefreshToken   string `json:"refresh_token,omitempty"`
	Signature      string `json:"signature"`
	Scope          string `json:"scope"`
	InstanceURL    string `json:"instance_url"`
	APIInstanceURL string `json:"api_instance_url,omitempty"` // Quirks.TokenAPIInstanceURL
	ID             string `json:"id"`
	TokenType      string `json:"token_type"`
	IssuedAt       string `json:"issued_at"`
}

// oauthError is a token-endpoint error: HTTP 400 {"error","error_description"}.
type oauthError struct {
	Error       string `json:"error"`
	Description string `json:"error_description"`
}

var (
	errExpiredGrant   = &oauthError{"invalid_grant", "expired access/refresh token"}
	errClientID       = &oauthError{"invalid_client_id", "client identifier invalid"}
	errClientSecret   = &oauthError{"invalid_client", "invalid client credentials"}
	errGrantType      = &oauthError{"unsupported_grant_type", "grant type not supported"}
	errNotApproved    = &oauthError{"invalid_grant", "user hasn't approved this consumer"}
	errInvalidJWT     = &oauthError{"invalid_grant", "invalid assertion"}
	errJWTAudience    = &oauthError{"invalid_grant", "audience is invalid"}
	errJWTExpiry      = &oauthError{"invalid_grant", "expiration time of the assertion must be within 3 minutes"}
	errInactiveUser   = &oauthError{"inactive_user", "user is inactive"}
	errMissingRefresh = &oauthError{"invalid_request", "missing required parameter: refresh_token"}
)

func writeOAuthError(w http.ResponseWriter, oe *oauthError) {
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.WriteHeader(http.StatusBadRequest)
	_ = json.NewEncoder(w).Encode(oe)
}

// instanceURL is the URL the request came to: the emulator is its own login host and instance.
func instanceURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// serveToken is POST /services/oauth2/token. Token calls are not API calls.
func (e *Emulator) serveToken(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		writeOAuthError(w, &oauthError{"invalid_request", "must use HTTP POST"})
		return
	}
	if err := r.ParseForm(); err != nil {
		writeOAuthError(w, &oauthError{"invalid_request", "malformed form body"})
		return
	}
	clientID, clientSecret := r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	if id, secret, ok := r.BasicAuth(); ok {
		clientID, clientSecret = id, secret
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.countTokenCall()
	var (
		userID, refresh string
		oe              *oauthError
	)
	switch r.PostForm.Get("grant_type") {
	case "refresh_token":
		userID, refresh, oe = e.refreshGrant(clientID, clientSecret, r.PostForm.Get("refresh_token"))
	case "client_credentials":
		userID, oe = e.clientCredentialsGrant(clientID, clientSecret)
	case grantJWTBearer:
		userID, oe = e.jwtGrant(r.PostForm.Get("assertion"), instanceURL(r))
	default:
		oe = errGrantType
	}
	if oe != nil {
		writeOAuthError(w, oe)
		return
	}
	instance := instanceURL(r)
	token := e.orgID[:15] + "!" + randomString(72)
	refreshLink := r.PostForm.Get("refresh_token")
	if refresh != "" {
		refreshLink = refresh
	}
	e.tokens[token] = &accessToken{userID: userID, expires: e.now().Add(e.cfg.TokenTTL), refresh: refreshLink}
	idURL := instance + "/id/" + e.orgID + "/" + userID
	issuedAt := strconv.FormatInt(e.now().UnixMilli(), 10)
	mac := hmac.New(sha256.New, []byte(e.cfg.ClientSecret))
	mac.Write([]byte(idURL + issuedAt))
	resp := tokenResponse{
		AccessToken: token, RefreshToken: refresh, Signature: base64.StdEncoding.EncodeToString(mac.Sum(nil)),
		Scope: "api refresh_token", InstanceURL: instance, ID: idURL, TokenType: "Bearer", IssuedAt: issuedAt,
	}
	if e.cfg.Quirks.TokenAPIInstanceURL {
		resp.APIInstanceURL = instance
	}
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.Header().Set("Cache-Control", "no-cache,must-revalidate,max-age=0,no-store,private")
	_ = json.NewEncoder(w).Encode(resp)
}

// countTokenCall records a token-endpoint call; only Quirks.CountTokenRequests makes it an API call
// (whether Salesforce counts OAuth calls is unconfirmed; believed not).
func (e *Emulator) countTokenCall() {
	e.byKind["token"]++
	if e.cfg.Quirks.CountTokenRequests {
		e.apiCalls++
	}
}

// checkClient verifies the connected-app credentials; the secret is optional for the refresh grant.
func (e *Emulator) checkClient(clientID, clientSecret string, secretRequired bool) *oauthError {
	if e.cfg.ClientID == "" || clientID != e.cfg.ClientID {
		return errClientID
	}
	if (secretRequired || clientSecret != "") && !hmac.Equal([]byte(clientSecret), []byte(e.cfg.ClientSecret)) {
		return errClientSecret
	}
	return nil
}

func (e *Emulator) refreshGrant(clientID, clientSecret, token string) (userID, rotated string, oe *oauthError) {
	if oe := e.checkClient(clientID, clientSecret, false); oe != nil {
		return "", "", oe
	}
	if token == "" {
		return "", "", errMissingRefresh
	}
	grant, ok := e.refreshes[token]
	if !ok {
		return "", "", errExpiredGrant
	}
	if oe := e.activeUser(grant.userID); oe != nil {
		return "", "", oe
	}
	if e.cfg.RotateRefreshTokens {
		// Rotation: a new refresh token is returned and the presented one stops working.
		delete(e.refreshes, token)
		rotated = e.orgID[:15] + "!" + randomString(60)
		e.refreshes[rotated] = &refreshGrant{userID: grant.userID}
	}
	return grant.userID, rotated, nil
}

func (e *Emulator) clientCredentialsGrant(clientID, clientSecret string) (string, *oauthError) {
	if oe := e.checkClient(clientID, clientSecret, true); oe != nil {
		return "", oe
	}
	// The flow runs as the connected app's "Run As" user: the integration user.
	return e.adminID, e.activeUser(e.adminID)
}

func (e *Emulator) activeUser(userID string) *oauthError {
	u := e.st.get("User", userID)
	if u == nil {
		return errExpiredGrant
	}
	if !boolValue(u, "IsActive") {
		return errInactiveUser
	}
	return nil
}

// jwtGrant verifies an RS256 assertion: iss = client id, sub = an active username, aud in the
// allow-list, exp no more than 3 minutes ahead (5 tolerated, as some clients use 5).
func (e *Emulator) jwtGrant(assertion, instance string) (string, *oauthError) {
	if e.jwtKey == nil || assertion == "" {
		return "", errInvalidJWT
	}
	var claims jwt.RegisteredClaims
	_, err := jwt.ParseWithClaims(assertion, &claims, func(*jwt.Token) (any, error) { return e.jwtKey, nil },
		jwt.WithValidMethods([]string{"RS256"}), jwt.WithTimeFunc(e.now), jwt.WithExpirationRequired())
	if err != nil {
		if errors.Is(err, jwt.ErrTokenExpired) {
			return "", errJWTExpiry
		}
		return "", errInvalidJWT
	}
	if e.cfg.ClientID == "" || claims.Issuer != e.cfg.ClientID {
		return "", errClientID
	}
	exp := claims.ExpiresAt.Time
	if s := exp.Unix(); s > 1e11 {
		// An exp in milliseconds, as the Salesforce CLI signs it (@salesforce/core AuthInfo:
		// Date.now() + 300); Salesforce accepts it (reference §9 known unknowns), so the
		// emulator reads it as milliseconds and applies the same window.
		exp = time.UnixMilli(s)
	}
	if !exp.After(e.now()) || exp.Sub(e.now()) > 300*time.Second {
		return "", errJWTExpiry
	}
	audiences := e.cfg.JWTAudiences
	if audiences == nil {
		audiences = []string{"https://login.salesforce.com", "https://test.salesforce.com", instance}
	}
	if !audienceAllowed(claims.Audience, audiences) {
		return "", errJWTAudience
	}
	user := e.st.findBy("User", "Username", claims.Subject, nil)
	if user == nil || claims.Subject == "" {
		return "", errNotApproved
	}
	if !boolValue(user, "IsActive") {
		return "", errInactiveUser
	}
	return user["Id"].(string), nil
}

func audienceAllowed(got jwt.ClaimStrings, allowed []string) bool {
	for _, a := range got {
		for _, b := range allowed {
			if strings.TrimSuffix(a, "/") == strings.TrimSuffix(b, "/") {
				return true
			}
		}
	}
	return false
}

// serveRevoke is POST /services/oauth2/revoke: revoking a refresh token also revokes the access
// tokens issued from it.
func (e *Emulator) serveRevoke(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		writeOAuthError(w, &oauthError{"invalid_request", "malformed form body"})
		return
	}
	token := r.Form.Get("token")
	e.mu.Lock()
	defer e.mu.Unlock()
	e.countTokenCall()
	switch {
	case e.tokens[token] != nil:
		delete(e.tokens, token)
	case e.refreshes[token] != nil:
		delete(e.refreshes, token)
		for k, t := range e.tokens {
			if t.refresh == token {
				delete(e.tokens, k)
			}
		}
	default:
		writeOAuthError(w, &oauthError{"invalid_token", "invalid token"})
		return
	}
	w.WriteHeader(http.StatusOK)
}

// authenticate resolves the bearer token of a REST request to the acting user.
func (e *Emulator) authenticate(r *http.Request) (string, *Error) {
	h := strings.TrimSpace(r.Header.Get("Authorization"))
	if h == "" {
		return "", errSession()
	}
	// A header that is not "Bearer <token>" (or the older "OAuth <token>") is refused as
	// malformed rather than as an invalid session (O-PYFN).
	scheme, token, _ := strings.Cut(h, " ")
	if !strings.EqualFold(scheme, "Bearer") && !strings.EqualFold(scheme, "OAuth") {
		return "", errAuthHeader()
	}
	token = strings.TrimSpace(token)
	t := e.tokens[token]
	if t == nil {
		return "", errSession()
	}
	if !e.now().Before(t.expires) {
		delete(e.tokens, token)
		return "", errSession()
	}
	if u := e.st.get("User", t.userID); u == nil || !boolValue(u, "IsActive") {
		return "", errSession()
	}
	return t.userID, nil
}

func randomString(n int) string {
	b := make([]byte, n*3/4+1)
	_, _ = rand.Read(b)
	s := base64.RawURLEncoding.EncodeToString(b)
	s = strings.NewReplacer("-", ".", "_", "A").Replace(s)
	return s[:n]
}

// parseRSAPublicKey reads an RSA public key from a PEM certificate, PKIX or PKCS#1 public key.
func parseRSAPublicKey(data []byte) (*rsa.PublicKey, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, errors.New("no PEM block found")
	}
	var key any
	var err error
	switch block.Type {
	case "CERTIFICATE":
		var cert *x509.Certificate
		if cert, err = x509.ParseCertificate(block.Bytes); err == nil {
			key = cert.PublicKey
		}
	case "PUBLIC KEY":
		key, err = x509.ParsePKIXPublicKey(block.Bytes)
	case "RSA PUBLIC KEY":
		key, err = x509.ParsePKCS1PublicKey(block.Bytes)
	default:
		return nil, errors.New("PEM block " + block.Type + " is not a certificate or public key")
	}
	if err != nil {
		return nil, err
	}
	rsaKey, ok := key.(*rsa.PublicKey)
	if !ok {
		return nil, errors.New("the key is not an RSA key (jwt-bearer uses RS256)")
	}
	return rsaKey, nil
}
