// Package salesforce talks to one Salesforce org and provisions SCIM users and groups into it.
//
// The transport layer (Client) covers what every call needs: OAuth 2.0 through golang.org/x/oauth2
// (refresh-token with rotation persisted to a token file, client-credentials, JWT-bearer), a SOQL
// builder that renders every value as an escaped literal, sObject CRUD and describe, composite and
// sObject Collections, Salesforce's error arrays classified into a few Kinds, retries with
// full-jitter backoff for calls that are safe to repeat, a bound on concurrent calls, a per-call
// timeout, Sforce-Limit-Info tracking and Prometheus metrics.
//
// Salesforce quirks the client relies on:
//
//   - The token response has no expires_in. An access token is used until REST answers 401
//     INVALID_SESSION_ID; the client then refreshes once and repeats the call once (a 401 means
//     the call was not executed, so this is safe for writes too).
//
//   - The REST base stays Config.URL even when the token response names another instance_url:
//     the configured My Domain or reverse proxy reaches the same org.
//
//   - REST errors are JSON arrays with "errorCode"; sObject Collections report per-record errors
//     with "statusCode"; gateways may answer with HTML, which never becomes error text.
//
//   - Rate limiting is 403 REQUEST_LIMIT_EXCEEDED, never 429, and is not retried.
//
//   - Only documented behaviour is relied on; docs/salesforce-behaviour.md lists each with its
//     source, and the emulator's strict profile takes the rest away in tests (permission set group
//     members come from PermissionSetAssignment; no decision reads an error message; child rows
//     past their first batch are queried, never read through a child cursor; INVALID_QUERY_LOCATOR
//     re-runs the query once).
//
//   - Composite requests say "collateSubrequests": false: from v49 Salesforce may otherwise run
//     unrelated subrequests out of order, and the backend's read-backs and conditional writes
//     rely on the order it sends.
//
// The provisioning backend (Backend) implements scimschema.Users and scimschema.Groups on top of
// the Client. It keeps no state that replicas could disagree on: users and groups are read from
// Salesforce on every request; only the catalog of profile and permission-set names (for writes)
// and the User picklists are cached, where a stale copy heals itself.
//
// Soft data never refuses a person (soft.go): a CommunityNickname someone holds gets the first free
// numeric suffix, a manager given by username or federation id is looked up, what cannot be
// resolved is left unchanged; each such adjustment is audited and counted.
package salesforce
