package emulator

// IssueRefreshToken stands for an administrator authorising the connected app again (the web-server
// or device flow, which the emulator does not serve): it returns a new refresh token of the
// integration user. Older refresh tokens stay valid, as they do in Salesforce until revoked or
// rotated out (https://help.salesforce.com/s/articleView?id=sf.remoteaccess_oauth_refresh_token_flow.htm).
func (e *Emulator) IssueRefreshToken() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	token := e.orgID[:15] + "!" + randomString(60)
	e.refreshes[token] = &refreshGrant{userID: e.adminID}
	return token
}
