package emulator

import (
	"net/http"
	"strings"
)

// serveUserInfo is GET (or POST) /services/oauth2/userinfo, the OpenID Connect UserInfo endpoint:
// who the access token runs as and in which org (help: "Query for User Information",
// https://help.salesforce.com/HTViewHelpDoc?id=remoteaccess_using_userinfo_endpoint.htm). The
// Salesforce CLI reads it when it logs in with an access token. An invalid token answers 403
// "Bad_OAuth_Token", as the identity URL does (developer docs "Using Identity URLs"). Not an API
// call.
func (e *Emulator) serveUserInfo(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, "Method Not Allowed", http.StatusMethodNotAllowed)
		return
	}
	if r.Header.Get("Authorization") == "" {
		if t := r.URL.Query().Get("access_token"); t != "" {
			r.Header.Set("Authorization", "Bearer "+t)
		}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	userID, err := e.authenticate(r)
	user := e.st.get("User", userID)
	if err != nil || user == nil {
		w.Header().Set("Content-Type", "text/plain;charset=UTF-8")
		w.WriteHeader(http.StatusForbidden)
		_, _ = w.Write([]byte("Bad_OAuth_Token"))
		return
	}
	instance := instanceURL(r)
	userID = soqlId18(userID)
	org := soqlId18(e.orgID)
	rest := instance + "/services/data/v{version}/"
	userType := "STANDARD"
	if t := strValue(user, "UserType"); t != "" && t != "Standard" {
		userType = strings.ToUpper(t)
	}
	info := map[string]any{
		"sub":                instance + "/id/" + org + "/" + userID,
		"user_id":            userID,
		"organization_id":    org,
		"preferred_username": strValue(user, "Username"),
		"nickname":           strValue(user, "CommunityNickname"),
		"name":               strValue(user, "Name"),
		"email":              strValue(user, "Email"),
		"email_verified":     true,
		"given_name":         strValue(user, "FirstName"),
		"family_name":        strValue(user, "LastName"),
		"zoneinfo":           strValue(user, "TimeZoneSidKey"),
		"locale":             strValue(user, "LocaleSidKey"),
		"language":           strValue(user, "LanguageLocaleKey"),
		"active":             boolValue(user, "IsActive"),
		"user_type":          userType,
		"urls": map[string]string{
			"rest":     rest,
			"sobjects": rest + "sobjects/",
			"query":    rest + "query/",
			"profile":  instance + "/" + userID,
		},
	}
	writeResponse(w, r, jsonResponse(http.StatusOK, info), "")
}

// cleanPath collapses runs of slashes in a request path ("//services/data/…" from a client that
// joins an instance URL ending in "/" with an absolute path), which Salesforce's servers accept.
func cleanPath(p string) string {
	if !strings.Contains(p, "//") {
		return p
	}
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		if p[i] == '/' && i > 0 && p[i-1] == '/' {
			continue
		}
		b.WriteByte(p[i])
	}
	return b.String()
}
