// Package salesforce provisions SCIM users and groups into one Salesforce org: its Backend implements
// scimschema.Users and scimschema.Groups on top of the REST client in package rest (OAuth, SOQL
// builder, composite and sObject Collections, error Kinds, limits and retries; rest/doc.go lists
// the Salesforce quirks both rely on).
//
// The Backend keeps no state that replicas could disagree on: users and groups are read from
// Salesforce on every request; only the catalog of profile and permission-set names (for writes)
// and the User picklists are cached, where a stale copy heals itself.
//
// Soft data never refuses a person (soft.go): a CommunityNickname someone holds gets the first free
// numeric suffix, a manager given by username or federation id is looked up, what cannot be
// resolved is left unchanged; each such adjustment is audited and counted.
package salesforce
