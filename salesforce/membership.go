package salesforce

// The membership policy, in one place. A membership is a set of PermissionSetAssignment rows
// seen from one side: the users of a group (members), or the groups of a user (permissionSets).
// Both are written by the same rule, provisioning.permission_sets (MembershipMode): a change that
// states the whole membership (PUT, PATCH replace) removes the assignments it does not name under
// Overwrite, and keeps them under Merge; an incremental change (PATCH add, remove) adds what is
// missing and removes what it names, under either mode.

// membershipChange is what a write asks of one membership; M is how it names a member (a user id,
// a resolved group).
type membershipChange[M any] struct {
	replace bool // add is the whole membership (PUT, PATCH replace)
	add     []M  // members to have (with replace: all of them, possibly none)
	remove  []M  // members not to have (never with replace)
}

// membershipPlan is the writes that make a membership what a change asks; A is one current
// assignment, M a requested member.
type membershipPlan[A, M any] struct {
	assign   []M // requested members without an assignment, each once, in request order
	unassign []A // assignments to delete
	stay     []A // assignments that remain, in current order: named by the request, or kept
	kept     []A // assignments a replace did not name, left alone under Merge
}

// planMembership plans change against the current assignments under mode. assigned gives the
// member of an assignment, named the member a request names, both as Salesforce ids; two ids name
// one member when their canonical forms are equal. It validates nothing: an id that names no member
// simply matches no assignment. Incremental removals come in the order the request names them,
// a replace's in current order.
func planMembership[A, M any](mode MembershipMode, current []A, change membershipChange[M], assigned func(A) string, named func(M) string) membershipPlan[A, M] {
	var plan membershipPlan[A, M]
	wanted := map[string]bool{}
	for _, m := range change.add {
		wanted[canonical(named(m))] = true
	}
	assignmentsOf := map[string][]int{} // member → indexes of its current assignments
	for i, a := range current {
		k := canonical(assigned(a))
		assignmentsOf[k] = append(assignmentsOf[k], i)
	}
	assigning := map[string]bool{}
	for _, m := range change.add {
		if k := canonical(named(m)); assignmentsOf[k] == nil && !assigning[k] {
			assigning[k] = true // a member named twice is assigned once
			plan.assign = append(plan.assign, m)
		}
	}
	unassigned := make([]bool, len(current))
	for _, m := range change.remove {
		k := canonical(named(m))
		if wanted[k] {
			continue
		}
		for _, i := range assignmentsOf[k] {
			if !unassigned[i] {
				unassigned[i] = true
				plan.unassign = append(plan.unassign, current[i])
			}
		}
	}
	for i, a := range current {
		switch {
		case unassigned[i]:
		case !change.replace || wanted[canonical(assigned(a))]:
			plan.stay = append(plan.stay, a)
		case mode == Overwrite:
			plan.unassign = append(plan.unassign, a)
		default:
			plan.kept = append(plan.kept, a)
			plan.stay = append(plan.stay, a)
		}
	}
	return plan
}

// canonical is the form in which two member ids are compared: the 15-character form of a
// Salesforce id (an 18-character id only adds a case-safe suffix; the first 15 characters are
// case-sensitive), any shorter string as it is.
func canonical(id string) string {
	if len(id) > 15 {
		return id[:15]
	}
	return id
}

// The two memberships name their members by Salesforce id: a group's assignment its user, a
// user's assignment its permission set (or permission set group).

func (m groupMember) member() string { return m.user }
func (a assignment) member() string  { return a.group.ID }
func (g group) member() string       { return g.ID }

// userID names a requested group member: a user id, as the request gives it.
func userID(id string) string { return id }
