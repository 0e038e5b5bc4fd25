package salesforce

import (
	"net/url"
	"path"

	"golang.org/x/oauth2"
)

// identityUserID reads the integration user's id from a token response. Every Salesforce token
// response carries "id", the identity URL https://login.salesforce.com/id/<org id>/<user id>
// (https://help.salesforce.com/s/articleView?id=sf.remoteaccess_using_openid.htm; reference
// salesforce-api.md §1.2 "id = identity URL"), for all three flows.
func identityUserID(tok *oauth2.Token) (string, bool) {
	raw, _ := tok.Extra("id").(string)
	u, err := url.Parse(raw)
	if err != nil || raw == "" {
		return "", false
	}
	id, ok := canonicalID(path.Base(u.Path), prefixUser)
	return id, ok
}

// IntegrationUserID is the 18-character id of the user the bridge authenticates as, "" until a
// token response named it (Ready obtains a token, so a ready backend knows it).
func (c *Client) IntegrationUserID() string {
	c.tokens.mu.Lock()
	defer c.tokens.mu.Unlock()
	return c.tokens.userID
}
