package salesforce

import (
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/scim-bridge/scim-bridge/salesforce/rest"
	"github.com/scim-bridge/scim-bridge/scimschema"
)

// Assignments (PermissionSetAssignment rows) are written with sObject Collections, inside a
// composite when they ride along with other writes. provisioning.permission_sets decides what a
// complete desired set (PUT, replace) does: overwrite makes the assignments exactly that set,
// merge only adds and never removes an assignment the IdP did not name.

const collectionMax = 200 // records per sObject Collections request

// psaRecord is a PermissionSetAssignment for a collection create.
func psaRecord(assignee string, g group) map[string]any {
	return map[string]any{
		"attributes":        map[string]any{"type": "PermissionSetAssignment"},
		"AssigneeId":        assignee,
		g.assignmentField(): g.ID,
	}
}

// psaCreates are one POST sobjects/PermissionSetAssignment subrequest per record, referenced
// prefix0, prefix1, …, for assignments whose AssigneeId or PermissionSetId is a composite
// reference (@{u.id}). References in a subrequest's body are documented with exactly this shape
// (D-COMP: "AccountId" : "@{refAccount.id}" in a POST /sobjects body); inside the records of an
// sObject Collections body they are not, and the strict emulator leaves them unresolved.
func psaCreates(prefix string, records []map[string]any) []rest.Subrequest {
	out := make([]rest.Subrequest, len(records))
	for i, r := range records {
		body := make(map[string]any, len(r))
		for k, v := range r {
			if k != "attributes" {
				body[k] = v
			}
		}
		out[i] = rest.Subrequest{Method: "POST", Path: "sobjects/PermissionSetAssignment", ReferenceID: prefix + strconv.Itoa(i), Body: body}
	}
	return out
}

// createFailures are the psaCreates subrequests (prefix0…prefix(n-1)) that failed for a reason of
// their own, as record failures indexed like the records. ignore lists codes that count as
// success.
func createFailures(by map[string]rest.SubResponse, prefix string, n int, ignore ...string) []recordFailure {
	var out []recordFailure
	for i := range n {
		sr, ok := by[prefix+strconv.Itoa(i)]
		if !ok || sr.Status < 400 || sr.Err == nil || sr.Err.Code == "PROCESSING_HALTED" || slices.Contains(ignore, sr.Err.Code) {
			continue
		}
		out = append(out, recordFailure{index: i, code: sr.Err.Code, message: sr.Err.Message})
	}
	return out
}

func collectionCreate(ref string, allOrNone bool, records []map[string]any) rest.Subrequest {
	return rest.Subrequest{Method: "POST", Path: "composite/sobjects", ReferenceID: ref,
		Body: map[string]any{"allOrNone": allOrNone, "records": records}}
}

func collectionDelete(ref string, allOrNone bool, ids []string) rest.Subrequest {
	v := url.Values{}
	v.Set("ids", strings.Join(ids, ","))
	v.Set("allOrNone", fmt.Sprint(allOrNone))
	return rest.Subrequest{Method: "DELETE", Path: "composite/sobjects?" + v.Encode(), ReferenceID: ref}
}

// recordFailure is one failed record of a collection subrequest.
type recordFailure struct {
	index         int
	code, message string
}

// collectionFailures decodes a collection subresponse's per-record results and returns the
// records that failed for a reason of their own (not a rollback caused by another record).
// ignore lists codes that count as success (DUPLICATE_VALUE for an assignment that exists).
func collectionFailures(sr rest.SubResponse, ignore ...string) ([]recordFailure, error) {
	if sr.Status >= 400 {
		if sr.Err != nil {
			return nil, sr.Err
		}
		return nil, fmt.Errorf("collection %s: HTTP %d", sr.ReferenceID, sr.Status)
	}
	var results []saveResultBody
	if err := json.Unmarshal(sr.Body, &results); err != nil {
		return nil, fmt.Errorf("decoding the %s results: %w", sr.ReferenceID, err)
	}
	var out []recordFailure
next:
	for i, r := range results {
		if r.Success {
			continue
		}
		for _, e := range r.Errors {
			if e.StatusCode == "ALL_OR_NONE_OPERATION_ROLLED_BACK" {
				continue next
			}
			for _, ig := range ignore {
				if e.StatusCode == ig {
					continue next
				}
			}
		}
		f := recordFailure{index: i, code: "UNKNOWN"}
		if len(r.Errors) > 0 {
			f.code, f.message = r.Errors[0].StatusCode, r.Errors[0].Message
		}
		out = append(out, f)
	}
	return out, nil
}

// resolveGroups resolves permissionSets values (ids or API names) to exposed groups. attr names
// the attribute in errors.
func (o *operation) resolveGroups(attr string, values []string) ([]group, error) {
	var out []group
	seen := map[string]bool{}
	for i, v := range values {
		cat, ok, err := o.find(func(c *catalog) bool { _, ok := c.group(v); return ok })
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, invalid(fmt.Sprintf("%s[%d]: not a permission set exposed by this bridge (unknown, owned by a profile, or excluded by groups.source / groups.include)", attr, i), nil)
		}
		g, _ := cat.group(v)
		if !seen[g.ID] {
			seen[g.ID] = true
			out = append(out, g)
		}
	}
	return out, nil
}

// planPermissionSets turns a User's permissionSets change into assignments to create and delete,
// given the user's current exposed assignments (the membership policy: planMembership).
func (o *operation) planPermissionSets(mc *scimschema.MemberChange, current []assignment, target string) (add []group, del []assignment, err error) {
	attr := scimschema.SalesforceUserURN + ":permissionSets"
	change := membershipChange[group]{replace: mc.Replace}
	if change.add, err = o.resolveGroups(attr, mc.Add); err != nil {
		return nil, nil, err
	}
	if change.remove, err = o.resolveGroups(attr, mc.Remove); err != nil {
		return nil, nil, err
	}
	plan := planMembership(o.b.cfg.Provisioning.PermissionSets, current, change, assignment.member, group.member)
	if len(plan.kept) > 0 {
		o.b.skip(o.ctx, "permission_sets_merge", "unassign_permission_sets", target)
	}
	return plan.assign, plan.unassign, nil
}

// assignmentError explains failed assignments of one user or of one group's members. Its cause
// names the first failure's code, never Salesforce's message, which can echo submitted values and
// is logged.
func assignmentError(what string, failures []recordFailure, name func(int) string) error {
	var unknown, licence, other []string
	for _, f := range failures {
		n := name(f.index)
		switch f.code {
		case "INVALID_CROSS_REFERENCE_KEY", "ENTITY_IS_DELETED":
			unknown = append(unknown, n)
		case "FIELD_INTEGRITY_EXCEPTION", "INVALID_FIELD":
			licence = append(licence, n)
		default:
			other = append(other, n)
		}
	}
	var parts []string
	if len(unknown) > 0 {
		parts = append(parts, "unknown to Salesforce or not assignable: "+listSome(unknown))
	}
	if len(licence) > 0 {
		parts = append(parts, "not allowed by the user's Salesforce licence: "+listSome(licence))
	}
	if len(other) > 0 {
		parts = append(parts, "rejected by Salesforce: "+listSome(other))
	}
	return invalid(what+" failed; "+strings.Join(parts, "; "), fmt.Errorf("%d assignment failures, first %s", len(failures), failures[0].code))
}

// listSome joins up to 20 names and counts the rest, so that a PATCH of 1000 bad members gets a
// readable answer.
func listSome(names []string) string {
	const most = 20
	if len(names) <= most {
		return strings.Join(names, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(names[:most], ", "), len(names)-most)
}
