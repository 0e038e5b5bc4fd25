package emulator

// This file is the contract between the emulator's store (store.go and friends) and its SOQL engine
// (soql*.go). The store describes its sObjects and hands out rows; the engine parses and runs a
// query against them. Neither side reaches into the other's internals.

// fieldMeta describes one field of an sObject type.
type fieldMeta struct {
	Name string // canonical API name, e.g. "Username"
	// Type is the describe type: "id", "string", "email", "phone", "textarea", "picklist",
	// "boolean", "int", "double", "date", "datetime", "reference".
	Type string
	// ReferenceTo is the target sObject of a "reference" field ("User" for AssigneeId).
	ReferenceTo string
	// RelationshipName is the parent relationship a reference field opens ("Assignee" for
	// AssigneeId), "" when it has none.
	RelationshipName string
	Filterable       bool
	Sortable         bool
}

// childRelationship is a parent-to-child relationship usable as a SOQL subquery, e.g. User's
// "PermissionSetAssignments" (PermissionSetAssignment.AssigneeId) or PermissionSet's "Assignments"
// (PermissionSetAssignment.PermissionSetId).
type childRelationship struct {
	Name   string // canonical, e.g. "PermissionSetAssignments"
	Object string // child sObject, e.g. "PermissionSetAssignment"
	Field  string // the child's reference field pointing at the parent, e.g. "AssigneeId"
}

// objectMeta describes one sObject type.
type objectMeta struct {
	Name string // canonical, e.g. "PermissionSetAssignment"
	// Fields is keyed by lower-cased API name.
	Fields map[string]*fieldMeta
	// Children is keyed by lower-cased relationship name.
	Children map[string]*childRelationship
}

// soqlSource is what the SOQL engine reads. The store implements it. Rows are maps keyed by
// canonical field name; values are string, bool, int, float64, time.Time (UTC; a date field uses
// midnight UTC) or nil. Rows handed out must not be modified by the engine.
type soqlSource interface {
	// object looks an sObject type up by case-insensitive name.
	object(name string) (*objectMeta, bool)
	// rows returns every row of the type (canonical name), in creation order.
	rows(object string) []map[string]any
	// row returns one row by its 18-character Id, or nil.
	row(object, id string) map[string]any
}

// soqlError is a query error as Salesforce reports it: HTTP 400 with [{"message","errorCode"}].
// Codes: MALFORMED_QUERY, INVALID_FIELD, INVALID_TYPE, NUMBER_OUTSIDE_VALID_RANGE.
type soqlError struct {
	Code    string
	Message string
}

func (e *soqlError) Error() string { return e.Code + ": " + e.Message }

// soqlResult is a query's outcome before paging. For "SELECT COUNT() …" Count is set, TotalSize
// equals it and Records is empty. Otherwise TotalSize is len(Records) (after LIMIT/OFFSET).
type soqlResult struct {
	TotalSize int
	Records   []*soqlRecord
	IsCount   bool
}

// soqlRecord is one result row, JSON-encoded by the engine exactly as Salesforce writes it:
// {"attributes":{"type":"User","url":"/services/data/vNN.0/sobjects/User/005…"}, then the selected
// fields in SELECT order under canonical names, parent paths as nested objects with their own
// attributes (null when the reference is empty), child subqueries as
// {"totalSize":n,"done":true,"records":[…]} or null when there are no children. Datetimes are
// written as "2006-01-02T15:04:05.000+0000", dates as "2006-01-02".
type soqlRecord struct {
	Object string
	ID     string
	JSON   []byte // the complete encoded object
}

// MarshalJSON writes the pre-encoded record.
func (r *soqlRecord) MarshalJSON() ([]byte, error) { return r.JSON, nil }
