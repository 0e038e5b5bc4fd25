package salesforce

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// testAssignment is a current assignment in the planner's tests: its row id and its member.
type testAssignment struct{ Row, Member string }

func TestMembershipPlan(t *testing.T) {
	t.Parallel()
	const (
		alice15 = "005Ab0000000001"
		alice18 = alice15 + "AAA"
		bob     = "005Ab0000000002AAA"
		carol   = "005Ab0000000003AAA"
		// 15-character ids are case-sensitive: this is not alice.
		aliceOtherCase = "005aB0000000001AAA"
	)
	row := func(r, m string) testAssignment { return testAssignment{Row: r, Member: m} }
	alice, bobRow, carolRow := row("0Pa1", alice18), row("0Pa2", bob), row("0Pa3", carol)
	replace := func(add ...string) membershipChange[string] {
		return membershipChange[string]{replace: true, add: append([]string{}, add...)}
	}
	type plan = membershipPlan[testAssignment, string]
	for _, tc := range []struct {
		name    string
		mode    MembershipMode
		current []testAssignment
		change  membershipChange[string]
		want    plan
	}{
		{name: "merge replace keeps members the request does not name", mode: Merge,
			current: []testAssignment{alice, bobRow}, change: replace(bob, carol),
			want: plan{assign: []string{carol}, stay: []testAssignment{alice, bobRow}, kept: []testAssignment{alice}}},
		{name: "overwrite replace removes members the request does not name", mode: Overwrite,
			current: []testAssignment{alice, bobRow}, change: replace(bob, carol),
			want: plan{assign: []string{carol}, unassign: []testAssignment{alice}, stay: []testAssignment{bobRow}}},
		{name: "merge replace with nothing requested removes nothing", mode: Merge,
			current: []testAssignment{alice, bobRow}, change: replace(),
			want: plan{stay: []testAssignment{alice, bobRow}, kept: []testAssignment{alice, bobRow}}},
		{name: "overwrite replace with nothing requested removes every member", mode: Overwrite,
			current: []testAssignment{alice, bobRow}, change: replace(),
			want: plan{unassign: []testAssignment{alice, bobRow}}},
		{name: "replace of an empty membership assigns every requested member", mode: Overwrite,
			change: replace(alice18, bob),
			want:   plan{assign: []string{alice18, bob}}},
		{name: "replace naming exactly the current members changes nothing", mode: Overwrite,
			current: []testAssignment{alice, bobRow}, change: replace(bob, alice18),
			want: plan{stay: []testAssignment{alice, bobRow}}},
		{name: "a member named twice is assigned once", mode: Merge,
			change: replace(carol, carol),
			want:   plan{assign: []string{carol}}},
		{name: "a 15-character id names the member of an 18-character one", mode: Overwrite,
			current: []testAssignment{alice}, change: replace(alice15),
			want: plan{stay: []testAssignment{alice}}},
		{name: "ids differing in case name different members", mode: Overwrite,
			current: []testAssignment{alice}, change: replace(aliceOtherCase),
			want: plan{assign: []string{aliceOtherCase}, unassign: []testAssignment{alice}}},
		{name: "an unknown id matches no assignment", mode: Overwrite,
			current: []testAssignment{bobRow}, change: replace("not-an-id", bob),
			want: plan{assign: []string{"not-an-id"}, stay: []testAssignment{bobRow}}},
		{name: "incremental add assigns only members without an assignment", mode: Overwrite,
			current: []testAssignment{alice}, change: membershipChange[string]{add: []string{alice15, bob}},
			want: plan{assign: []string{bob}, stay: []testAssignment{alice}}},
		{name: "incremental change never removes an unnamed member, whatever the mode", mode: Overwrite,
			current: []testAssignment{alice, bobRow}, change: membershipChange[string]{add: []string{carol}},
			want: plan{assign: []string{carol}, stay: []testAssignment{alice, bobRow}}},
		{name: "incremental remove unassigns named members in request order", mode: Merge,
			current: []testAssignment{alice, bobRow, carolRow}, change: membershipChange[string]{remove: []string{carol, alice15}},
			want: plan{unassign: []testAssignment{carolRow, alice}, stay: []testAssignment{bobRow}}},
		{name: "removing a non-member or an unknown id is a no-op", mode: Overwrite,
			current: []testAssignment{alice}, change: membershipChange[string]{remove: []string{bob, "x"}},
			want: plan{stay: []testAssignment{alice}}},
		{name: "a member both added and removed stays", mode: Overwrite,
			current: []testAssignment{alice}, change: membershipChange[string]{add: []string{alice15}, remove: []string{alice18}},
			want: plan{stay: []testAssignment{alice}}},
		{name: "every assignment of a removed member goes", mode: Merge,
			current: []testAssignment{alice, row("0Pa9", alice15)}, change: membershipChange[string]{remove: []string{alice18, alice18}},
			want: plan{unassign: []testAssignment{alice, row("0Pa9", alice15)}}},
		{name: "duplicate current assignments of an unnamed member all go under overwrite", mode: Overwrite,
			current: []testAssignment{alice, row("0Pa9", alice15)}, change: replace(bob),
			want: plan{assign: []string{bob}, unassign: []testAssignment{alice, row("0Pa9", alice15)}}},
		{name: "empty current, empty request", mode: Overwrite, change: replace(), want: plan{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := planMembership(tc.mode, tc.current, tc.change,
				func(a testAssignment) string { return a.Member }, func(m string) string { return m })
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(plan{}), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("planMembership(%v, %v, %+v) (-want +got):\n%s", tc.mode, tc.current, tc.change, diff)
			}
		})
	}
}
