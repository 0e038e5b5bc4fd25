package scimschema

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/elimity-com/scim/schema"
)

func TestSchemasMarshalWithoutNulls(t *testing.T) {
	t.Parallel()
	for _, s := range []schema.Schema{UserSchema(), EnterpriseUserSchema(), SalesforceUserSchema(), GroupSchema()} {
		b, err := json.Marshal(s)
		if err != nil {
			t.Fatalf("Marshal(%s): %v", s.ID, err)
		}
		if strings.Contains(string(b), "null") {
			t.Errorf("schema %s contains null: Entra rejects nulls in /Schemas:\n%s", s.ID, b)
		}
	}
}

func TestSchemasValidateIdPBodies(t *testing.T) {
	t.Parallel()
	user := UserSchema()
	got, scimErr := user.Validate(decode(t, `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"a@b.co",
		"name":{"familyName":"A"},"emails":[{"value":"a@b.co","type":"work","primary":true}],"password":"x","active":true}`))
	if scimErr != nil {
		t.Fatalf("Validate(Okta user): %v", scimErr)
	}
	if got["userName"] != "a@b.co" {
		t.Errorf("Validate kept userName = %v", got["userName"])
	}
	if _, scimErr := user.Validate(decode(t, `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"name":{"familyName":"A"}}`)); scimErr == nil {
		t.Errorf("Validate without userName succeeded; want an error (userName is required)")
	}
	group := GroupSchema()
	if _, scimErr := group.Validate(decode(t, `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"G","members":[{"value":"005A"}]}`)); scimErr != nil {
		t.Errorf("Validate(group): %v", scimErr)
	}
	ext := SalesforceUserSchema()
	if _, scimErr := ext.ValidateExtension(decode(t, `{"profile":"Standard User","permissionSets":[{"value":"Sales_Ops"}]}`)); scimErr != nil {
		t.Errorf("ValidateExtension(salesforce): %v", scimErr)
	}
}
