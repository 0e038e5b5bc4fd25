package salesforce

import (
	"strings"

	"github.com/scim-bridge/scim-bridge/scimschema"
)

// SCIM names of Salesforce User fields, for the error details built from the "fields" Salesforce
// names in a refusal: the default mapping, overridden by users.mapping (reverseMapping, built once
// by NewBackend).

// defaultSCIMNames names the SCIM attribute of each default-mapped Salesforce User field, for error
// details built from Salesforce's "fields".
var defaultSCIMNames = map[string]string{
	"username":             "userName",
	"federationidentifier": "externalId",
	"firstname":            "name.givenName",
	"lastname":             "name.familyName",
	"email":                "emails",
	"isactive":             "active",
	"alias":                "nickName",
	"communitynickname":    "displayName",
	"title":                "title",
	"phone":                "phoneNumbers",
	"mobilephone":          "phoneNumbers",
	"street":               "addresses",
	"city":                 "addresses",
	"state":                "addresses",
	"postalcode":           "addresses",
	"country":              "addresses",
	"languagelocalekey":    "preferredLanguage",
	"localesidkey":         "locale",
	"timezonesidkey":       "timezone",
	"employeenumber":       scimschema.EnterpriseUserURN + ":employeeNumber",
	"department":           scimschema.EnterpriseUserURN + ":department",
	"division":             scimschema.EnterpriseUserURN + ":division",
	"companyname":          scimschema.EnterpriseUserURN + ":organization",
	"managerid":            scimschema.EnterpriseUserURN + ":manager",
	"profileid":            scimschema.SalesforceUserURN + ":profile",
	"emailencodingkey":     scimschema.SalesforceUserURN + ":emailEncodingKey",
}

func reverseMapping(entries []scimschema.MappingEntry) map[string]string {
	m := make(map[string]string, len(defaultSCIMNames)+len(entries))
	for k, v := range defaultSCIMNames {
		m[k] = v
	}
	for _, e := range entries {
		if e.Salesforce != "" {
			m[strings.ToLower(e.Salesforce)] = e.SCIM
		}
	}
	return m
}

// scimNames turns Salesforce field names into the SCIM attribute names they map from.
func (b *Backend) scimNames(fields []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, f := range fields {
		n, ok := b.reverse[strings.ToLower(f)]
		if !ok {
			n = f
		}
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	return out
}
