package robustness

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/scim-bridge/scim-bridge/test/harness"
)

// salesforceID returns the 18-character form of a 15-character Salesforce id (the suffix encodes
// which characters are upper case).
func salesforceID(id15 string) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
	suffix := make([]byte, 3)
	for chunk := range 3 {
		n := 0
		for i := range 5 {
			if c := id15[chunk*5+i]; c >= 'A' && c <= 'Z' {
				n |= 1 << i
			}
		}
		suffix[chunk] = alphabet[n]
	}
	return id15 + string(suffix)
}

// unknownUserIDs returns n distinct well-formed User ids that no org holds.
func unknownUserIDs(n int) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = salesforceID(fmt.Sprintf("005zz%010d", i))
	}
	return ids
}

// permissionSetsLabelled returns the ids of permission sets whose Label or Name contains s.
func (b *bridge) permissionSetsLabelled(s string) []string {
	var ids []string
	for _, row := range b.Emulator.List("PermissionSet") {
		label, _ := row["Label"].(string)
		name, _ := row["Name"].(string)
		if strings.Contains(strings.ToLower(label+" "+name), strings.ToLower(s)) {
			ids = append(ids, fmt.Sprint(row["Id"]))
		}
	}
	return ids
}

// createGroup makes a permission set through SCIM and returns its id.
func (b *bridge) createGroup(t testing.TB, m string) string {
	t.Helper()
	resp := b.do(t, http.MethodPost, "/Groups", map[string]any{"schemas": []any{harness.GroupURN}, "displayName": m})
	if resp.Status != http.StatusCreated {
		t.Fatalf("POST /Groups (fixture) = %s; want 201", resp)
	}
	return resp.Doc["id"].(string)
}

// TestCreateGroupRejectsBadBodies checks POST /Groups with bad names and members: a rejected create
// leaves no permission set and no assignment.
func TestCreateGroupRejectsBadBodies(t *testing.T) {
	t.Parallel()
	b := start(t, options{})
	userID := b.createUser(t, b.marker("m"))
	groupID := b.groupID(t, "Support Agent")
	userBefore := b.Org.UserState(userID)
	cases := []struct {
		name string
		body func(m string) any
		want expect
	}{
		{"displayName missing", func(m string) any { return map[string]any{"schemas": []any{harness.GroupURN}, "externalId": m} }, bad400},
		{"displayName empty", func(m string) any {
			return map[string]any{"schemas": []any{harness.GroupURN}, "displayName": "", "externalId": m}
		}, bad400},
		{"displayName blank", func(m string) any {
			return map[string]any{"schemas": []any{harness.GroupURN}, "displayName": "   ", "externalId": m}
		}, bad400},
		{"displayName a number", func(m string) any {
			return map[string]any{"schemas": []any{harness.GroupURN}, "displayName": 5, "externalId": m}
		}, bad400},
		{"displayName an array", func(m string) any { return map[string]any{"schemas": []any{harness.GroupURN}, "displayName": []any{m}} }, bad400},
		{"displayName 100k", func(m string) any {
			return map[string]any{"schemas": []any{harness.GroupURN}, "displayName": m + strings.Repeat("g", 100_000)}
		}, bad400},
		{"displayName 81 characters", func(m string) any {
			return map[string]any{"schemas": []any{harness.GroupURN}, "displayName": m + strings.Repeat("g", 81-len(m))}
		}, bad400},
		{"displayName control characters", func(m string) any {
			return map[string]any{"schemas": []any{harness.GroupURN}, "displayName": m + "\x00\x07\n"}
		}, expect{status: []int{http.StatusCreated, http.StatusBadRequest}}},
		{"displayName of a seeded group", func(m string) any {
			return map[string]any{"schemas": []any{harness.GroupURN}, "displayName": "Sales Operations", "externalId": m}
		}, expect{status: []int{http.StatusConflict}}},
		{"member not a user id", func(m string) any {
			return map[string]any{"schemas": []any{harness.GroupURN}, "displayName": m, "members": members(m)}
		}, badOr404},
		{"member an unknown user", func(m string) any {
			return map[string]any{"schemas": []any{harness.GroupURN}, "displayName": m, "members": members(userID, "005000000000zZZAAY")}
		}, badOr404},
		{"member a group id", func(m string) any {
			return map[string]any{"schemas": []any{harness.GroupURN}, "displayName": m, "members": members(userID, groupID)}
		}, badOr404},
		{"member value a number", func(m string) any {
			return map[string]any{"schemas": []any{harness.GroupURN}, "displayName": m, "members": []any{map[string]any{"value": 5}}}
		}, bad400},
		{"members a string", func(m string) any {
			return map[string]any{"schemas": []any{harness.GroupURN}, "displayName": m, "members": userID}
		}, bad400},
		// RFC 7643 §8.7.1 makes members.value optional, so a member naming nobody may be ignored.
		{"member without value", func(m string) any {
			return map[string]any{"schemas": []any{harness.GroupURN}, "displayName": m, "members": []any{map[string]any{"display": m + "x"}}}
		}, expect{status: []int{http.StatusCreated, http.StatusBadRequest}}},
		{"unknown schema", func(m string) any { return map[string]any{"schemas": []any{"urn:bad:" + m}, "displayName": m} }, bad400},
		{"a User schema", func(m string) any { return map[string]any{"schemas": []any{harness.UserURN}, "displayName": m} }, bad400},
		{"malformed JSON", func(m string) any { return `{"schemas":["` + harness.GroupURN + `"],"displayName":"` + m }, bad400},
		{"trailing garbage", func(m string) any { return `{"schemas":["` + harness.GroupURN + `"],"displayName":"` + m + `"}}` }, bad400},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m := b.marker("g")
			resp := b.do(t, http.MethodPost, "/Groups", tc.body(m))
			what := "POST /Groups (" + tc.name + ")"
			b.check(t, what, resp, tc.want)
			if resp.Status >= 400 {
				if ids := b.permissionSetsLabelled(m); len(ids) > 0 {
					t.Errorf("%s = %d but Salesforce now holds permission set %v", what, resp.Status, ids)
				}
			}
		})
	}
	t.Run("duplicate members", func(t *testing.T) {
		t.Parallel()
		m := b.marker("g")
		resp := b.do(t, http.MethodPost, "/Groups", map[string]any{
			"schemas": []any{harness.GroupURN}, "displayName": m, "members": members(userID, userID, strings.ToLower(userID)),
		})
		b.check(t, "POST /Groups with duplicate members", resp, expect{status: []int{http.StatusCreated, http.StatusBadRequest}})
		if resp.Status == http.StatusCreated {
			if got := b.Org.GroupState(resp.Doc["id"].(string))["assignees"].([]string); len(got) != 1 {
				t.Errorf("POST /Groups with one user three times assigned %v; want one assignment", got)
			}
		}
	})
	t.Cleanup(func() {
		after := b.Org.UserState(userID)
		if diff := len(after["assignments"].([]string)) - len(userBefore["assignments"].([]string)); diff > 1 {
			t.Errorf("rejected group creates assigned the user %d permission sets", diff)
		}
	})
}

// TestPatchGroupRejectsBadOperations sends bad member operations to a fresh group: each is a SCIM 4xx
// and changes neither the permission set nor its assignments.
func TestPatchGroupRejectsBadOperations(t *testing.T) {
	t.Parallel()
	b := start(t, options{})
	userID := b.createUser(t, b.marker("m"))
	otherGroup := b.groupID(t, "Marketing User")
	unknown := unknownUserIDs(1000)
	cases := []struct {
		name string
		body func(m string) any
		want expect
	}{
		{"add a non-id member", func(m string) any { return patchBody(op("add", "members", members(m))) }, badOr404},
		{"add an unknown user", func(m string) any { return patchBody(op("add", "members", members(unknown[0]))) }, badOr404},
		{"add a real and an unknown user", func(m string) any { return patchBody(op("add", "members", members(userID, unknown[1]))) }, bad400},
		{"add a group as member", func(m string) any { return patchBody(op("add", "members", members(userID, otherGroup))) }, bad400},
		{"add 1000 unknown users and a real one", func(m string) any {
			return patchBody(op("add", "members", members(append(unknown[2:], userID)...)))
		}, bad400},
		{"add 1000 junk ids", func(m string) any {
			junk := make([]string, 1000)
			for i := range junk {
				junk[i] = fmt.Sprintf("%s-%d", m, i)
			}
			return patchBody(op("add", "members", members(junk...)))
		}, badOr404},
		{"add member value a number", func(string) any { return patchBody(op("add", "members", []any{map[string]any{"value": 5}})) }, bad400},
		// RFC 7643 §8.7.1 makes members.value optional, so a member naming nobody may be ignored.
		{"add member without value", func(m string) any { return patchBody(op("add", "members", []any{map[string]any{"display": m}})) },
			expect{status: []int{http.StatusOK, http.StatusNoContent, http.StatusBadRequest}}},
		{"add members a string", func(string) any { return patchBody(op("add", "members", userID)) }, bad400},
		{"add members an object", func(string) any { return patchBody(op("add", "members", map[string]any{"value": 7})) }, bad400},
		{"replace members with junk", func(m string) any { return patchBody(op("replace", "members", members(m))) }, badOr404},
		{"remove members[value eq 1]", func(string) any { return patchBody(op("remove", "members[value eq 1]", nil)) }, bad400},
		{"remove members[value eq]", func(string) any { return patchBody(op("remove", "members[value eq]", nil)) }, bad400},
		{"remove members[display eq x]", func(m string) any { return patchBody(op("remove", `members[nope eq "`+m+`"]`, nil)) }, bad400},
		{"remove members with a non-array value", func(string) any { return patchBody(op("remove", "members", userID)) }, bad400},
		{"remove without path", func(string) any { return patchBody(op("remove", "", nil)) }, bad400},
		{"replace displayName empty", func(string) any { return patchBody(op("replace", "displayName", "")) }, bad400},
		{"replace displayName 100k", func(m string) any { return patchBody(op("replace", "displayName", m+strings.Repeat("d", 100_000))) }, bad400},
		{"replace displayName a number", func(string) any { return patchBody(op("replace", "displayName", 9)) }, bad400},
		{"replace displayName taken", func(string) any { return patchBody(op("replace", "displayName", "Sales Operations")) },
			expect{status: []int{http.StatusConflict}}},
		{"path-less displayName a number", func(string) any { return patchBody(op("replace", "", map[string]any{"displayName": 9})) }, bad400},
		{"path-less with a string", func(m string) any { return patchBody(op("replace", "", m)) }, bad400},
		{"unknown path", func(m string) any { return patchBody(op("replace", "nope", m)) }, bad400},
		{"unknown op", func(string) any { return patchBody(op("merge", "members", members(userID))) }, bad400},
		{"Entra remove with bad member", func(m string) any {
			return patchBody(op("Remove", "members", []any{map[string]any{"value": []any{m}}}))
		}, bad400},
		{"good add then bad op", func(m string) any {
			return patchBody(op("add", "members", members(userID)), op("replace", "displayName", 5))
		}, bad400},
	}
	// The groups issue's rule for membership: "a partial failure says which members failed and leaves
	// the rest applied". In these cases Salesforce refuses some members: the valid user is assigned
	// and nothing else changes. (A member that is not a user id at all, such as a group's, is refused
	// before Salesforce is called, and then nothing changes.)
	partial := map[string]bool{"add a real and an unknown user": true, "add 1000 unknown users and a real one": true}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m := b.marker("g")
			id := b.createGroup(t, m)
			before := b.Org.GroupState(id)
			resp := b.do(t, http.MethodPatch, "/Groups/"+id, tc.body(m))
			what := "PATCH /Groups/{id} (" + tc.name + ")"
			b.check(t, what, resp, tc.want)
			switch {
			case partial[tc.name]:
				after := b.Org.GroupState(id)
				if got := after["assignees"].([]string); len(got) != 1 || !harness.SameID(got[0], userID) {
					t.Errorf("%s: assignees = %v; want only the valid user %s", what, got, userID)
				}
				after["assignees"] = before["assignees"]
				assertUnchanged(t, what+" apart from the valid member", before, after)
			case resp.Status >= 400:
				assertUnchanged(t, what, before, b.Org.GroupState(id))
			}
		})
	}
	t.Run("add one user 1000 times", func(t *testing.T) {
		t.Parallel()
		id := b.createGroup(t, b.marker("g"))
		same := make([]string, 1000)
		for i := range same {
			same[i] = userID
		}
		resp := b.do(t, http.MethodPatch, "/Groups/"+id, patchBody(op("add", "members", members(same...))))
		b.check(t, "PATCH /Groups/{id} adding one user 1000 times", resp,
			expect{status: []int{http.StatusOK, http.StatusNoContent, http.StatusBadRequest}})
		got := b.Org.GroupState(id)["assignees"].([]string)
		switch {
		case resp.Status < 300 && len(got) != 1:
			t.Errorf("PATCH adding one user 1000 times left assignees %v; want exactly that user", got)
		case resp.Status >= 400 && len(got) != 0:
			t.Errorf("PATCH adding one user 1000 times was rejected but assigned %v", got)
		}
	})
}
