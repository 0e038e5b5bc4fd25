package salesforce

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/scim-bridge/scim-bridge/salesforce/rest"
	"github.com/scim-bridge/scim-bridge/scimschema"
)

// Permission set licences. Many permission sets need a permission set licence (their LicenseId
// is a PermissionSetLicense, id prefix 0PL): Salesforce refuses to assign such a permission set to
// a user who does not hold the licence (a PermissionSetLicenseAssign row). The error code of that
// refusal is not documented (docs/salesforce-behaviour.md), so the bridge recognises the case by
// the permission set, never by the code or the text. With groups.assign_permission_set_licenses
// the bridge assigns the licence first (where Okta's and Entra's connectors simply fail); it never
// removes a licence assignment, so none it did not make either.

const prefixPermSetLicense = "0PL"

// permissionSetLicence is the permission set licence g needs, "" when it needs none.
func (g group) permissionSetLicence() string {
	if !g.IsPSG && strings.HasPrefix(g.LicenseID, prefixPermSetLicense) {
		return g.LicenseID
	}
	return ""
}

// licenceLabel names a permission set licence for an error: its label, read on this error path
// only; its id when that read fails.
func (o *operation) licenceLabel(id string) string {
	q, err := rest.Select("MasterLabel").From("PermissionSetLicense").Where(rest.Eq("Id", id)).String()
	if err != nil {
		return id
	}
	res, err := o.b.c.Query(o.ctx, q, 0)
	if err != nil || len(res.Records) == 0 {
		return id
	}
	if l := str(res.Records[0]["MasterLabel"]); l != "" {
		return l + " (" + id + ")"
	}
	return id
}

// licenceError explains failed assignments of permission sets that need a permission set licence:
// a 400 naming each such permission set and its licence. nil when no failure is of that kind (the
// caller reports them as usual). groupOf and who describe failure i.
func (o *operation) licenceError(what string, failures []recordFailure, groupOf func(i int) group, who func(i int) string) error {
	var parts []string
	labels := map[string]string{}
	for _, f := range failures {
		g := groupOf(f.index)
		lic := g.permissionSetLicence()
		switch f.code {
		case "DUPLICATE_VALUE", "INVALID_CROSS_REFERENCE_KEY", "ENTITY_IS_DELETED", "UNABLE_TO_LOCK_ROW", "REQUEST_LIMIT_EXCEEDED":
			lic = "" // not a licence refusal
		}
		if lic == "" {
			return nil
		}
		if _, ok := labels[lic]; !ok {
			labels[lic] = o.licenceLabel(lic)
		}
		part := fmt.Sprintf("permission set %s (%s) needs the permission set licence %s", g.Label, g.ID, labels[lic])
		if w := who(f.index); w != "" {
			part += ", which " + w + " does not have"
		}
		if !slices.Contains(parts, part) {
			parts = append(parts, part)
		}
	}
	if len(parts) == 0 {
		return nil
	}
	hint := "; assign the licence in Salesforce, or set groups.assign_permission_set_licenses: true to let the bridge assign it"
	if o.b.cfg.Groups.AssignPermissionSetLicenses {
		hint = ""
	}
	return invalid(what+" failed: "+listSome(parts)+hint, fmt.Errorf("%d assignment failures, first %s", len(failures), failures[0].code))
}

// licencePair is a user who needs a permission set licence.
type licencePair struct{ user, licence string }

// licencesFor lists, with groups.assign_permission_set_licenses, the licence each user needs for
// the permission sets about to be assigned to them.
func (b *Backend) licencesFor(users []string, groups []group) []licencePair {
	if !b.cfg.Groups.AssignPermissionSetLicenses {
		return nil
	}
	var out []licencePair
	for _, g := range groups {
		if lic := g.permissionSetLicence(); lic != "" {
			for _, u := range users {
				if p := (licencePair{u, lic}); !slices.Contains(out, p) {
					out = append(out, p)
				}
			}
		}
	}
	return out
}

// assignLicences gives each user the licence it needs, in one sObject Collections call per 200
// (allOrNone false): a licence the user already holds (DUPLICATE_VALUE) is fine; any other
// failure is a 400 naming the licence (LICENSE_LIMIT_EXCEEDED: no free seat).
func (o *operation) assignLicences(pairs []licencePair) error {
	if len(pairs) == 0 {
		return nil
	}
	recs := make([]rest.Record, len(pairs))
	for i, p := range pairs {
		recs[i] = rest.Record{"attributes": map[string]any{"type": "PermissionSetLicenseAssign"}, "AssigneeId": p.user, "PermissionSetLicenseId": p.licence}
	}
	res, err := o.b.c.CreateRecords(o.ctx, false, recs)
	if err != nil {
		return err
	}
	for i, r := range res {
		if r.Success || len(r.Errors) == 0 || r.Errors[0].Code == "DUPLICATE_VALUE" {
			if r.Success {
				o.b.audit(o.ctx, Change{Operation: OpAssignLicence, Target: pairs[i].user, Changed: []string{"permissionSetLicense"}, Added: []string{pairs[i].licence}}, nil)
			}
			continue
		}
		e := r.Errors[0]
		detail := "assigning the permission set licence " + o.licenceLabel(pairs[i].licence) + " to user " + pairs[i].user + " failed"
		if e.Code == "LICENSE_LIMIT_EXCEEDED" {
			detail += ": no free seat"
		}
		return invalid(detail, &e)
	}
	return nil
}

// groupStatusError explains failed assignments of a permission set group Salesforce is
// recalculating: its Status is not Updated (help "Permission Set Group Considerations"; the
// refusal's errorCode is not documented, so the Status decides, read on this error path only).
// Updating or Outdated is a 503 with Retry-After (the recalculation ends by itself), Failed a 400.
// nil when g is not a group or its Status is Updated.
func (o *operation) groupStatusError(g group) error {
	if !g.IsPSG {
		return nil
	}
	q, err := rest.Select("Status").From("PermissionSetGroup").Where(rest.Eq("Id", g.ID)).String()
	if err != nil {
		return nil
	}
	res, err := o.b.c.Query(o.ctx, q, 0)
	if err != nil || len(res.Records) == 0 {
		return nil
	}
	switch status := str(res.Records[0]["Status"]); status {
	case "", "Updated":
		return nil
	case "Failed":
		return invalid(fmt.Sprintf("permission set group %s (%s) cannot be assigned: its last recalculation in Salesforce failed (Status Failed); recalculate it in Setup", g.Label, g.ID), nil)
	default:
		return &scimschema.Error{Kind: scimschema.KindUnavailable, RetryAfter: 30 * time.Second,
			Detail: fmt.Sprintf("permission set group %s (%s) is being recalculated by Salesforce (Status %s); retry later", g.Label, g.ID, status)}
	}
}

// failedGroupsError is the first licence or recalculation explanation for failed assignments of
// the given groups, nil when neither applies.
func (o *operation) failedGroupsError(what string, failures []recordFailure, groupOf func(i int) group, who func(i int) string) error {
	if err := o.licenceError(what, failures, groupOf, who); err != nil {
		return err
	}
	seen := map[string]bool{}
	for _, f := range failures {
		switch f.code {
		case "DUPLICATE_VALUE", "INVALID_CROSS_REFERENCE_KEY", "ENTITY_IS_DELETED":
			continue
		}
		g := groupOf(f.index)
		if !g.IsPSG || seen[g.ID] {
			continue
		}
		seen[g.ID] = true
		if err := o.groupStatusError(g); err != nil {
			return err
		}
	}
	return nil
}
