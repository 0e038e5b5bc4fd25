// Package scimschema holds the SCIM schemas the bridge serves, the provisioning interface between
// the SCIM server and a backend, and the pure mapping layer between SCIM resources and Salesforce
// records. It performs no I/O, reads no clock and keeps no package state (its package variables
// are read-only tables).
//
// Where things are:
//   - provisioning.go: the seam. The Users and Groups interfaces the server calls and a backend
//     implements, the types that cross it (Resource, ListQuery, ReadOptions, Page, PatchOp) and the
//     one error type with its Kind, which the server turns into a SCIM status. companions.go holds
//     the BulkRequest companions carried in the request context.
//   - schemas.go: the User, enterprise, Salesforce extension and Group schemas served by discovery.
//   - mapper.go: the users.mapping configuration and the UserMapper built from it.
//   - attrpath.go: SCIM attribute paths resolved in the User schemas, and the slots (mappable
//     values) they name; userfields.go: facts about Salesforce User fields (the default mapping,
//     lengths, required, reserved).
//   - userwrite.go (SCIM User → Salesforce fields), userderive.go (the defaults and derived values
//     the bridge fills in), userpatch.go (PATCH on a User), userread.go (Salesforce record → SCIM
//     User), explain.go (which attributes fed which field).
//   - group.go: Group create, replace, PATCH and read; members.go: member ids and member changes.
//   - filter.go: SCIM filter on Users → the neutral query of query.go (Cond), and sortBy;
//     groupfilter.go: the same for Groups; project.go: attributes/excludedAttributes.
//   - values.go: reading SCIM JSON values (and small list helpers); characters.go: the characters
//     hard data never holds; picklist.go: soft values matched to Salesforce picklists;
//     pathmemo.go: the memo of parsed attribute paths.
package scimschema
