package salesforce

import "context"

// operation is the handle of one SCIM request inside the backend: every exported Backend method
// that reads the catalog or writes makes one (b.operation(ctx)) and passes it down, so that the
// steps of a request share its context (deadline, request id for the logs) and its catalog
// state. The catalog may be reloaded at most once per request (orgcatalog.go: find, refresh): a
// name or id missing from a fresh reload is really missing.
//
// Its methods live beside the step they take: reading users (users_read.go), writing them
// (users_write.go, users_update.go), groups and memberships (groups_*.go, assign.go), licences
// (licences.go), soft data (soft.go) and the catalog itself (orgcatalog.go).
type operation struct {
	b        *Backend
	ctx      context.Context
	reloaded bool // this request reloaded the catalog
}

func (b *Backend) operation(ctx context.Context) *operation { return &operation{b: b, ctx: ctx} }
