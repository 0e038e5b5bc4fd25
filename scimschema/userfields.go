package scimschema

import "strings"

// This file holds what the bridge knows of Salesforce User fields: the default users.mapping,
// their length limits, which are required, filled by the bridge or reserved, and the form of a
// field API name.

// defaultMapping is DESIGN.md's Users table: SCIM path → Salesforce User field. Several SCIM
// attributes may feed one field; the Salesforce extension's attribute wins. displayName is not
// stored: it reads as Salesforce's Name (FirstName LastName). CommunityNickname, which Salesforce
// keeps unique across the org, is derived from userName unless the extension gives it.
func defaultMapping() [][2]string {
	const ent = EnterpriseUserURN + ":"
	const sf = SalesforceUserURN + ":"
	return [][2]string{
		{"userName", "Username"},
		{"externalId", "FederationIdentifier"},
		{"name.givenName", "FirstName"},
		{"name.familyName", "LastName"},
		{`emails[type eq "work"].value`, "Email"},
		{"nickName", "Alias"},
		{"title", "Title"},
		{`phoneNumbers[type eq "work"].value`, "Phone"},
		{`phoneNumbers[type eq "mobile"].value`, "MobilePhone"},
		{`addresses[type eq "work"].streetAddress`, "Street"},
		{`addresses[type eq "work"].locality`, "City"},
		{`addresses[type eq "work"].region`, "State"},
		{`addresses[type eq "work"].postalCode`, "PostalCode"},
		{`addresses[type eq "work"].country`, "Country"},
		{"preferredLanguage", "LanguageLocaleKey"},
		{"locale", "LocaleSidKey"},
		{"timezone", "TimeZoneSidKey"},
		{ent + "employeeNumber", "EmployeeNumber"},
		{ent + "department", "Department"},
		{ent + "division", "Division"},
		{ent + "organization", "CompanyName"},
		{ent + "manager.value", "ManagerId"},
		{sf + "alias", "Alias"},
		{sf + "emailEncodingKey", "EmailEncodingKey"},
		{sf + "federationIdentifier", "FederationIdentifier"},
		{sf + "communityNickname", "CommunityNickname"},
	}
}

// maxLength is the Salesforce length limit of standard User fields (reference §3.3); custom fields
// are left to Salesforce.
func maxLength(field string) int {
	switch field {
	case "Username", "LastName", "Department", "Division", "Title", "CompanyName", "State", "Country":
		return 80
	case "FirstName", "CommunityNickname", "Phone", "MobilePhone", "Fax", "City",
		"TimeZoneSidKey", "LocaleSidKey", "LanguageLocaleKey", "EmailEncodingKey":
		return 40
	case "Email":
		return 128
	case "Alias":
		return 8
	case "FederationIdentifier":
		return 512
	case "EmployeeNumber", "PostalCode":
		return 20
	case "Street":
		return 255
	case "ManagerId":
		return 18
	}
	return 0
}

// requiredField reports whether field is required on create: the Salesforce User fields required
// by reference §3.2 (ProfileId aside) plus CommunityNickname, which is not nillable.
func requiredField(field string) bool {
	switch field {
	case "Username", "LastName", "Email", "Alias", "TimeZoneSidKey", "LocaleSidKey",
		"EmailEncodingKey", "LanguageLocaleKey", "CommunityNickname":
		return true
	}
	return false
}

// fallbackField reports whether the bridge fills a required field itself when no SCIM value is
// given (a default from users.defaults or a derivation). On update such a field is left as it is
// when its attributes are absent or removed.
func fallbackField(field string) bool {
	switch field {
	case "Alias", "CommunityNickname", "TimeZoneSidKey", "LocaleSidKey", "EmailEncodingKey", "LanguageLocaleKey":
		return true
	}
	return false
}

// reservedField says why a Salesforce field cannot be a mapping target ("" when it can).
func reservedField(field string) string {
	switch field {
	case "Id", "IsActive", "ProfileId":
		return "the bridge sets it itself"
	case "CreatedDate", "CreatedById", "LastModifiedDate", "LastModifiedById", "SystemModstamp",
		"UserType", "Name", "LastLoginDate":
		return "it is read-only in Salesforce"
	}
	return ""
}

// validFieldName reports whether s is a Salesforce field API name: a letter, then letters, digits
// and single underscores, not ending in an underscore; custom fields end in "__c".
func validFieldName(s string) bool {
	base, _ := strings.CutSuffix(s, "__c")
	if base == "" || len(s) > 80 {
		return false
	}
	for i, r := range base {
		switch {
		case r >= 'A' && r <= 'Z', r >= 'a' && r <= 'z':
		case r >= '0' && r <= '9' || r == '_':
			if i == 0 {
				return false
			}
		default:
			return false
		}
	}
	return !strings.Contains(base, "__") && !strings.HasSuffix(base, "_")
}
