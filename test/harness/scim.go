package harness

// SCIM schema and message URNs (RFC 7643 §8.7, RFC 7644 §3.5.2, §3.7, §3.12) and the bridge's
// Salesforce extension (DESIGN.md).
const (
	UserURN       = "urn:ietf:params:scim:schemas:core:2.0:User"
	GroupURN      = "urn:ietf:params:scim:schemas:core:2.0:Group"
	EnterpriseURN = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
	SalesforceURN = "urn:scim-bridge:params:scim:schemas:extension:salesforce:2.0:User"
	PatchURN      = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
	BulkURN       = "urn:ietf:params:scim:api:messages:2.0:BulkRequest"
	ErrorURN      = "urn:ietf:params:scim:api:messages:2.0:Error"
	ListURN       = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
)

// Patch is a PatchOp message (RFC 7644 §3.5.2) with the given operations.
func Patch(ops ...map[string]any) map[string]any {
	list := make([]any, len(ops))
	for i, op := range ops {
		list[i] = op
	}
	return map[string]any{"schemas": []any{PatchURN}, "Operations": list}
}

// Op is one PATCH operation; a nil value is omitted, path "" is a path-less operation.
func Op(name, path string, value any) map[string]any {
	o := map[string]any{"op": name}
	if path != "" {
		o["path"] = path
	}
	if value != nil {
		o["value"] = value
	}
	return o
}

// Members is the SCIM members (or groups) array of ids: [{"value": id}, …].
func Members(ids ...string) []any {
	out := make([]any, len(ids))
	for i, id := range ids {
		out[i] = map[string]any{"value": id}
	}
	return out
}
