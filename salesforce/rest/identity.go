package rest

import (
	"context"
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
	id, ok := CanonicalID(path.Base(u.Path), PrefixUser)
	return id, ok
}

// IntegrationUserID is the 18-character id of the user the bridge authenticates as, "" until a
// token response named it (Ready obtains a token, so a ready backend knows it).
func (c *Client) IntegrationUserID() string {
	c.tokens.mu.Lock()
	defer c.tokens.mu.Unlock()
	return c.tokens.userID
}

// IntegrationUser returns the integration user's id, obtaining a new token when no token response
// named it yet (a configured access_token that REST accepted before any token call).
func (c *Client) IntegrationUser(ctx context.Context) (string, error) {
	t := c.tokens
	t.mu.Lock()
	id, gen := t.userID, t.gen
	t.mu.Unlock()
	if id != "" {
		return id, nil
	}
	if _, _, err := t.renew(ctx, gen); err != nil {
		return "", err
	}
	if id = c.IntegrationUserID(); id == "" {
		return "", &Error{Kind: KindUnavailable, ownMessage: true, Message: "the token response did not name the integration user (no identity URL)"}
	}
	return id, nil
}
