// Package scimschema holds the SCIM schemas the bridge serves and the pure mapping layer between
// SCIM resources and Salesforce records: attribute mapping both ways, PATCH application, filter
// translation into a neutral query and attribute projection. It performs no I/O, reads no clock
// and keeps no package state; seam.go defines the types the server and the backends share.
package scimschema
