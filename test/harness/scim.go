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
