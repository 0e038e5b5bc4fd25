package scimschema

import (
	"github.com/elimity-com/scim/optional"
	"github.com/elimity-com/scim/schema"
)

// Schema URNs served by the bridge.
const (
	UserSchemaURN     = "urn:ietf:params:scim:schemas:core:2.0:User"
	GroupSchemaURN    = "urn:ietf:params:scim:schemas:core:2.0:Group"
	EnterpriseUserURN = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
	SalesforceUserURN = "urn:scim-bridge:params:scim:schemas:extension:salesforce:2.0:User"
)

// stringParam is a readWrite, case-insensitive, optional string sub-attribute.
func stringParam(name, description string) schema.SimpleParams {
	return schema.SimpleStringParams(schema.StringParams{Name: name, Description: optional.NewString(description)})
}

func readOnlyString(name, description string) schema.SimpleParams {
	return schema.SimpleStringParams(schema.StringParams{
		Name: name, Description: optional.NewString(description), Mutability: schema.AttributeMutabilityReadOnly(),
	})
}

func primaryParam() schema.SimpleParams {
	return schema.SimpleBooleanParams(schema.BooleanParams{
		Name: "primary", Description: optional.NewString("Whether this value is the preferred one."),
	})
}

func stringAttr(name, description string) schema.CoreAttribute {
	return schema.SimpleCoreAttribute(stringParam(name, description))
}

// UserSchema is the core User schema as the bridge supports it: only the attributes it can map to
// Salesforce (no profileUrl, ims, photos, entitlements, roles or x509Certificates). It is a data
// table (one entry per attribute, as RFC 7643 §4.1 lists them), long by nature and not split.
func UserSchema() schema.Schema {
	return schema.Schema{
		ID:          UserSchemaURN,
		Name:        optional.NewString("User"),
		Description: optional.NewString("User Account (a Salesforce User)"),
		Attributes: []schema.CoreAttribute{
			schema.SimpleCoreAttribute(schema.SimpleStringParams(schema.StringParams{
				Name:        "userName",
				Description: optional.NewString("Unique identifier for the User; the Salesforce Username (an email address, after username_domain and username_suffix). REQUIRED."),
				Required:    true,
				Uniqueness:  schema.AttributeUniquenessServer(),
			})),
			schema.ComplexCoreAttribute(schema.ComplexParams{
				Name:        "name",
				Description: optional.NewString("The components of the user's real name."),
				SubAttributes: []schema.SimpleParams{
					stringParam("formatted", "The full name, formatted for display. Accepted and ignored unless users.mapping maps it."),
					stringParam("familyName", "The family name (Salesforce LastName, required on create)."),
					stringParam("givenName", "The given name (Salesforce FirstName)."),
					stringParam("middleName", "The middle name(s). Accepted and ignored unless users.mapping maps it."),
					stringParam("honorificPrefix", "The honorific prefix(es). Accepted and ignored unless users.mapping maps it."),
					stringParam("honorificSuffix", "The honorific suffix(es). Accepted and ignored unless users.mapping maps it."),
				},
			}),
			stringAttr("displayName", "The name of the User, suitable for display (Salesforce CommunityNickname)."),
			stringAttr("nickName", "The casual way to address the user (Salesforce Alias, at most 8 characters, unless the Salesforce extension sets alias)."),
			stringAttr("title", "The user's title (Salesforce Title)."),
			stringAttr("userType", "The relationship between the organization and the user. Accepted and ignored unless users.mapping maps it."),
			stringAttr("preferredLanguage", "The user's preferred language, e.g. en_US (Salesforce LanguageLocaleKey)."),
			stringAttr("locale", "The user's locale, e.g. en_US (Salesforce LocaleSidKey)."),
			stringAttr("timezone", "The user's time zone in Olson format, e.g. America/Los_Angeles (Salesforce TimeZoneSidKey)."),
			schema.SimpleCoreAttribute(schema.SimpleBooleanParams(schema.BooleanParams{
				Name:        "active",
				Description: optional.NewString("The user's administrative status: Salesforce IsActive and not frozen."),
			})),
			schema.SimpleCoreAttribute(schema.SimpleStringParams(schema.StringParams{
				Name:        "password",
				Description: optional.NewString("Accepted and ignored: Salesforce users sign in through single sign-on or a reset e-mail."),
				Mutability:  schema.AttributeMutabilityWriteOnly(),
				Returned:    schema.AttributeReturnedNever(),
			})),
			schema.ComplexCoreAttribute(schema.ComplexParams{
				Name:        "emails",
				Description: optional.NewString("Email addresses for the user; the primary (else the work, else the first) is the Salesforce Email; the others are accepted and ignored."),
				MultiValued: true,
				SubAttributes: []schema.SimpleParams{
					stringParam("value", "The email address."),
					stringParam("display", "A human-readable name, for display."),
					schema.SimpleStringParams(schema.StringParams{
						Name: "type", CanonicalValues: []string{"work", "home", "other"},
						Description: optional.NewString("The function of the address, e.g. work or home."),
					}),
					primaryParam(),
				},
			}),
			schema.ComplexCoreAttribute(schema.ComplexParams{
				Name:        "phoneNumbers",
				Description: optional.NewString("Phone numbers for the user: work is Salesforce Phone, mobile is MobilePhone; other types are accepted and ignored."),
				MultiValued: true,
				SubAttributes: []schema.SimpleParams{
					stringParam("value", "The phone number."),
					schema.SimpleStringParams(schema.StringParams{
						Name: "type", CanonicalValues: []string{"work", "mobile", "home", "fax", "pager", "other"},
						Description: optional.NewString("The function of the number, e.g. work or mobile."),
					}),
					primaryParam(),
				},
			}),
			schema.ComplexCoreAttribute(schema.ComplexParams{
				Name:        "addresses",
				Description: optional.NewString("Physical mailing addresses; the work address is the Salesforce Street, City, State, PostalCode and Country; other types are accepted and ignored."),
				MultiValued: true,
				SubAttributes: []schema.SimpleParams{
					schema.SimpleStringParams(schema.StringParams{
						Name: "type", CanonicalValues: []string{"work", "home", "other"},
						Description: optional.NewString("The function of the address, e.g. work or home."),
					}),
					stringParam("streetAddress", "The full street address."),
					stringParam("locality", "The city or locality."),
					stringParam("region", "The state or region."),
					stringParam("postalCode", "The zip code or postal code."),
					stringParam("country", "The country."),
					stringParam("formatted", "The full mailing address, formatted for display."),
					primaryParam(),
				},
			}),
			schema.ComplexCoreAttribute(schema.ComplexParams{
				Name:        "groups",
				Description: optional.NewString("The groups (Salesforce permission sets) the user belongs to. Read-only: change memberships through the Group or the Salesforce extension's permissionSets."),
				MultiValued: true,
				Mutability:  schema.AttributeMutabilityReadOnly(),
				SubAttributes: []schema.SimpleParams{
					readOnlyString("value", "The identifier of the group."),
					schema.SimpleReferenceParams(schema.ReferenceParams{
						Name: "$ref", ReferenceTypes: []schema.AttributeReferenceType{"Group"},
						Mutability:  schema.AttributeMutabilityReadOnly(),
						Description: optional.NewString("The URI of the group."),
					}),
					readOnlyString("display", "A human-readable name of the group."),
					readOnlyString("type", "How the membership was made: direct."),
				},
			}),
		},
	}
}

// EnterpriseUserSchema is the RFC 7643 §4.3 enterprise extension.
func EnterpriseUserSchema() schema.Schema {
	return schema.Schema{
		ID:          EnterpriseUserURN,
		Name:        optional.NewString("EnterpriseUser"),
		Description: optional.NewString("Enterprise User"),
		Attributes: []schema.CoreAttribute{
			stringAttr("employeeNumber", "The employee number (Salesforce EmployeeNumber)."),
			stringAttr("costCenter", "The name of a cost center. Accepted and ignored unless users.mapping maps it."),
			stringAttr("organization", "The name of an organization (Salesforce CompanyName)."),
			stringAttr("division", "The name of a division (Salesforce Division)."),
			stringAttr("department", "The name of a department (Salesforce Department)."),
			schema.ComplexCoreAttribute(schema.ComplexParams{
				Name:        "manager",
				Description: optional.NewString("The user's manager (Salesforce ManagerId)."),
				SubAttributes: []schema.SimpleParams{
					stringParam("value", "The id of the manager's User."),
					schema.SimpleReferenceParams(schema.ReferenceParams{
						Name: "$ref", ReferenceTypes: []schema.AttributeReferenceType{"User"},
						Description: optional.NewString("The URI of the manager's User."),
					}),
					readOnlyString("displayName", "The displayName of the manager."),
				},
			}),
		},
	}
}

// SalesforceUserSchema is the bridge's own extension: it lets an IdP set every Salesforce-specific
// User field.
func SalesforceUserSchema() schema.Schema {
	return schema.Schema{
		ID:          SalesforceUserURN,
		Name:        optional.NewString("SalesforceUser"),
		Description: optional.NewString("Salesforce-specific User fields"),
		Attributes: []schema.CoreAttribute{
			stringAttr("profile", "The Salesforce profile, by name or by Id (ProfileId)."),
			stringAttr("alias", "The Salesforce Alias, at most 8 characters; wins over nickName."),
			stringAttr("emailEncodingKey", "The Salesforce EmailEncodingKey, e.g. UTF-8."),
			stringAttr("federationIdentifier", "The Salesforce FederationIdentifier (SAML subject)."),
			stringAttr("communityNickname", "The Salesforce CommunityNickname, unique in the org; wins over displayName."),
			schema.SimpleCoreAttribute(schema.SimpleStringParams(schema.StringParams{
				Name:        "userType",
				Description: optional.NewString("The Salesforce UserType, e.g. Standard."),
				Mutability:  schema.AttributeMutabilityReadOnly(),
			})),
			schema.SimpleCoreAttribute(schema.SimpleBooleanParams(schema.BooleanParams{
				Name:        "frozen",
				Description: optional.NewString("Whether the user's login is frozen (UserLogin.IsFrozen)."),
				Mutability:  schema.AttributeMutabilityReadOnly(),
			})),
			schema.ComplexCoreAttribute(schema.ComplexParams{
				Name:        "permissionSets",
				Description: optional.NewString("The permission sets assigned to the user."),
				MultiValued: true,
				SubAttributes: []schema.SimpleParams{
					stringParam("value", "The permission set, by Id or API name."),
					readOnlyString("display", "The permission set's label."),
				},
			}),
		},
	}
}

// GroupSchema is the core Group schema: a Salesforce permission set (or permission set group).
func GroupSchema() schema.Schema {
	return schema.Schema{
		ID:          GroupSchemaURN,
		Name:        optional.NewString("Group"),
		Description: optional.NewString("Group (a Salesforce permission set)"),
		Attributes: []schema.CoreAttribute{
			schema.SimpleCoreAttribute(schema.SimpleStringParams(schema.StringParams{
				Name:        "displayName",
				Description: optional.NewString("The permission set's Label. REQUIRED."),
				Required:    true,
			})),
			schema.ComplexCoreAttribute(schema.ComplexParams{
				Name:        "members",
				Description: optional.NewString("The users assigned the permission set."),
				MultiValued: true,
				SubAttributes: []schema.SimpleParams{
					schema.SimpleStringParams(schema.StringParams{
						Name: "value", Description: optional.NewString("The id of the member User."),
						Mutability: schema.AttributeMutabilityImmutable(),
					}),
					schema.SimpleReferenceParams(schema.ReferenceParams{
						Name: "$ref", ReferenceTypes: []schema.AttributeReferenceType{"User"},
						Description: optional.NewString("The URI of the member User."),
						Mutability:  schema.AttributeMutabilityImmutable(),
					}),
					schema.SimpleStringParams(schema.StringParams{
						Name: "display", Description: optional.NewString("The member's name, for display."),
						Mutability: schema.AttributeMutabilityImmutable(),
					}),
					schema.SimpleStringParams(schema.StringParams{
						Name: "type", CanonicalValues: []string{"User"},
						Description: optional.NewString("The type of the member: User."),
						Mutability:  schema.AttributeMutabilityImmutable(),
					}),
				},
			}),
		},
	}
}
