// Package salesforce provisions SCIM users and groups into one Salesforce org: its Backend implements
// scimschema.Users and scimschema.Groups on top of the REST client in package rest (OAuth, SOQL
// builder, composite and sObject Collections, error Kinds, limits and retries; rest/doc.go lists
// the Salesforce quirks both rely on).
//
// The Backend keeps no state that replicas could disagree on: users and groups are read from
// Salesforce on every request; only the catalog of profile and permission-set names (for writes)
// and the User picklists are cached, where a stale copy heals itself.
//
// Each request's steps share one operation (operation.go): its context and the catalog reload a
// miss may cause, once per request. GET /Users is planned (users_list.go, pagingOf) and read by
// one strategy: OFFSET paging, keyset paging past row 2,000 (users_cursor.go), a walk of the
// ordered result, or a case-exact re-check in Go; a single equality is answered with concurrent
// lookups in one call (users_coalesce.go).
//
// Errors are translated once, where the Backend meets the seam (seam.go): every exported method
// that returns an error is a wrapper there that passes it through translate on its way out; inner
// code returns errors as they are and decides on them with rest.KindOf and rest.IsCode. A
// Salesforce refusal the backend did not explain more precisely becomes a *scimschema.Error with
// a Detail in the bridge's words (never Salesforce's message, which can echo values) and, for a
// limit or an outage, a Retry-After; server turns its Kind into the HTTP status.
//
// Soft data never refuses a person (soft.go): a CommunityNickname someone holds gets the first free
// numeric suffix, a manager given by username or federation id is looked up, what cannot be
// resolved is left unchanged; each such adjustment is audited and counted.
package salesforce
