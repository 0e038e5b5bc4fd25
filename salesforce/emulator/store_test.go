package emulator

import (
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// checkDerived recomputes what the store derives from its rows (indexes, seat counts, creation
// order) and fails when the maintained state differs.
func checkDerived(t testing.TB, e *Emulator) {
	t.Helper()
	e.mu.Lock()
	defer e.mu.Unlock()
	st := e.st
	for name, tb := range st.tables {
		var live []string
		seen := map[string]bool{}
		for _, id := range tb.order {
			if seen[id] {
				t.Errorf("%s: id %s twice in the creation order", name, id)
			}
			seen[id] = true
			if tb.rows[id] != nil {
				live = append(live, id)
			}
		}
		if len(live) != len(tb.rows) {
			t.Errorf("%s: %d rows but %d of them in the creation order", name, len(tb.rows), len(live))
		}
		for i := 1; i < len(live); i++ {
			if live[i-1] >= live[i] {
				t.Errorf("%s: creation order has %s before %s", name, live[i-1], live[i])
			}
		}
		for field, ix := range tb.indexes {
			want := map[string]map[string]struct{}{}
			for id, row := range tb.rows {
				if key := ix.key(row, ix.field); key != "" {
					if want[key] == nil {
						want[key] = map[string]struct{}{}
					}
					want[key][id] = struct{}{}
				}
			}
			if diff := cmp.Diff(want, ix.ids); diff != "" {
				t.Errorf("%s.%s index (-recomputed +maintained):\n%s", name, field, diff)
			}
		}
	}
	want := map[string]int{}
	for _, u := range st.tables["User"].rows {
		if lic := st.seatOf(u); lic != "" {
			want[lic]++
		}
	}
	got := map[string]int{}
	for lic, n := range st.seats {
		if n != 0 {
			got[lic] = n
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("seat counts (-recomputed +maintained):\n%s", diff)
	}
}

// snapshot copies every row of every type, in creation order.
func snapshot(e *Emulator) map[string][]map[string]any {
	out := map[string][]map[string]any{}
	for _, o := range e.schema.ordered {
		out[o.Name] = e.List(o.Name)
	}
	return out
}

func TestRollbackRestoresRowsOrderAndIndexes(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Config{})
	e := h.e
	ops := h.idOf("PermissionSet", "Name", "Sales_Ops")
	agent := h.idOf("PermissionSet", "Name", "Support_Agent")
	group := h.idOf("PermissionSetGroup", "DeveloperName", "Sales_Team")
	chatter := h.idOf("Profile", "Name", "Chatter Free User")
	var users, assignments []string
	for _, name := range []string{"ann", "bob", "cy"} {
		body := h.newUser(name+"@example.com", "Standard User")
		body["CommunityNickname"], body["FederationIdentifier"] = name, "fed-"+name
		status, _, resp := h.do("POST", v+"/sobjects/User", body)
		if status != http.StatusCreated {
			t.Fatalf("create %s = %d %s", name, status, resp)
		}
		id := decode(t, resp).(map[string]any)["id"].(string)
		users = append(users, id)
		for _, ps := range []string{ops, agent} {
			a, err := e.Insert("PermissionSetAssignment", map[string]any{"AssigneeId": id, "PermissionSetId": ps})
			if err != nil {
				t.Fatalf("assign: %v", err)
			}
			assignments = append(assignments, a)
		}
	}
	checkDerived(t, e)
	before := snapshot(e)

	res := compositeResponses(t, h, map[string]any{"allOrNone": true, "compositeRequest": []any{
		sub("DELETE", "/sobjects/PermissionSetAssignment/"+assignments[0], "unassign", nil),
		sub("PATCH", "/sobjects/User/"+users[1], "rename", map[string]any{"Username": "bobby@example.com",
			"CommunityNickname": "bobby", "FederationIdentifier": "fed-bobby", "ProfileId": chatter}),
		sub("PATCH", "/sobjects/User/"+users[2], "deactivate", map[string]any{"IsActive": false}),
		sub("POST", "/sobjects/User", "new", h.newUser("dee@example.com", "Standard User")),
		sub("POST", "/sobjects/PermissionSetAssignment", "group", map[string]any{"AssigneeId": "@{new.id}", "PermissionSetGroupId": group}),
		sub("DELETE", "/composite/sobjects?allOrNone=true&ids="+assignments[2]+","+assignments[3], "unassignMany", nil),
		sub("POST", "/sobjects/User", "duplicate", h.newUser("ANN@example.com", "Standard User")),
	}})
	if code := errorCodeOf(res[6]); code != "DUPLICATE_USERNAME" {
		t.Fatalf("last subrequest = %v; want DUPLICATE_USERNAME (all: %v)", res[6], res)
	}
	for _, r := range res[:6] {
		if code := errorCodeOf(r); code != "PROCESSING_HALTED" {
			t.Fatalf("subrequest %v = %v; want PROCESSING_HALTED", r["referenceId"], r)
		}
	}
	if diff := cmp.Diff(before, snapshot(e)); diff != "" {
		t.Errorf("rows after the rollback (-before +after):\n%s", diff)
	}
	checkDerived(t, e)

	// The rolled-back values are free again and the restored ones are taken.
	for _, c := range []struct {
		what   string
		fields map[string]any
		code   string
	}{
		{"restored username", map[string]any{"Username": "BOB@example.com"}, "DUPLICATE_USERNAME"},
		{"restored nickname", map[string]any{"Username": "x1@example.com", "CommunityNickname": "Bob"}, "DUPLICATE_COMM_NICKNAME"},
		{"restored federation id", map[string]any{"Username": "x2@example.com", "FederationIdentifier": "fed-bob"}, "DUPLICATE_VALUE"},
		{"rolled-back username", map[string]any{"Username": "bobby@example.com", "CommunityNickname": "bobby", "FederationIdentifier": "fed-bobby"}, ""},
	} {
		body := h.newUser("placeholder@example.com", "Standard User")
		for k, val := range c.fields {
			body[k] = val
		}
		_, err := e.Insert("User", body)
		if got := codeOf(err); got != c.code {
			t.Errorf("%s: Insert = %v; want %q", c.what, err, c.code)
		}
	}
	_, err := e.Insert("PermissionSetAssignment", map[string]any{"AssigneeId": users[0], "PermissionSetId": ops})
	if got := codeOf(err); got != "DUPLICATE_VALUE" {
		t.Errorf("re-assigning the restored assignment = %v; want DUPLICATE_VALUE", err)
	}
	checkDerived(t, e)
}

func codeOf(err error) string {
	if err == nil {
		return ""
	}
	if e, ok := err.(*Error); ok {
		return e.Code
	}
	return err.Error()
}

// TestDeletesKeepCreationOrder deletes most assignments (so that the creation order is compacted)
// and checks that what is left is listed, queried and indexed correctly.
func TestDeletesKeepCreationOrder(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Config{Seed: scaleSeed(500)})
	e := h.e
	standard := h.idOf("Profile", "Name", "Standard User")
	ops := h.idOf("PermissionSet", "Name", "Sales_Ops")
	others := []string{h.idOf("PermissionSet", "Name", "Support_Agent"), h.idOf("PermissionSet", "Name", "Marketing_User")}
	var kept []string
	for n := 1; n <= 300; n++ {
		id, err := e.Insert("User", scaleUser(n, standard))
		if err != nil {
			t.Fatal(err)
		}
		for _, ps := range append([]string{ops}, others...) {
			a, err := e.Insert("PermissionSetAssignment", map[string]any{"AssigneeId": id, "PermissionSetId": ps})
			if err != nil {
				t.Fatal(err)
			}
			if n%10 == 0 && ps == ops {
				kept = append(kept, a)
				continue
			}
			if err := e.Delete("PermissionSetAssignment", a); err != nil {
				t.Fatalf("Delete(%s) = %v", a, err)
			}
		}
	}
	e.mu.Lock()
	psa := e.st.tables["PermissionSetAssignment"]
	if len(psa.order) > 2*len(psa.rows)+64 {
		t.Errorf("creation order holds %d ids for %d rows; want it compacted", len(psa.order), len(psa.rows))
	}
	e.mu.Unlock()
	checkDerived(t, e)
	var got []string
	for _, r := range e.List("PermissionSetAssignment") {
		if r["PermissionSetId"] == ops {
			got = append(got, r["Id"].(string))
		}
	}
	if diff := cmp.Diff(kept, got); diff != "" {
		t.Errorf("assignments left (-want +got):\n%s", diff)
	}
	body := mustDo(t, h, "GET", v+"/query?q=SELECT+Id+FROM+PermissionSetAssignment+WHERE+PermissionSetId+=+'"+ops+"'", nil, 200)
	if n := decode(t, body).(map[string]any)["totalSize"]; n != float64(len(kept)) {
		t.Errorf("query totalSize = %v; want %d", n, len(kept))
	}
	// Deleting the permission set is refused while the kept assignments exist.
	if err := e.Delete("PermissionSet", ops); codeOf(err) != "DELETE_FAILED" {
		t.Errorf("Delete(assigned permission set) = %v; want DELETE_FAILED", err)
	}
}

func TestFoldKeyMatchesEqualFold(t *testing.T) {
	t.Parallel()
	words := []string{"", "a", "A", "admin@Example.com", "ADMIN@example.COM", "straße", "STRASSE", "Straße",
		"k", "K", "\u212a", "ǅ", "ǆ", "Ǆ", "σ", "ς", "Σ", "ﬀ", "ff", "\xff", "\xfe", "İ", "i", "ı", "I"}
	for _, a := range words {
		for _, b := range words {
			if got, want := foldKey(a) == foldKey(b), strings.EqualFold(a, b); got != want {
				t.Errorf("foldKey(%q) == foldKey(%q) is %v; strings.EqualFold says %v", a, b, got, want)
			}
		}
	}
}
