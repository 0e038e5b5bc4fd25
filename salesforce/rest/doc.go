// Package rest is the Salesforce REST client: what every call to one org needs. It covers OAuth 2.0
// through golang.org/x/oauth2 (refresh-token with rotation persisted to a token file,
// client-credentials, JWT-bearer), Salesforce ids (15/18 characters), a SOQL builder that renders
// every value as an escaped literal, sObject CRUD and describe, composite and sObject Collections,
// Salesforce's error arrays classified into a few Kinds, retries with full-jitter backoff for calls
// that are safe to repeat, a bound on concurrent calls, a per-call timeout, Sforce-Limit-Info
// tracking and Prometheus metrics. It knows nothing of SCIM: package salesforce builds on it.
//
// Salesforce quirks it relies on:
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
package rest
