package emulator

import (
	"fmt"
	"net/http"
	"testing"
)

// scaleSeed is the default seed with the given number of Salesforce seats.
func scaleSeed(seats int) *Seed {
	s := DefaultSeed()
	s.Licenses[0].TotalLicenses = seats
	return s
}

// scaleUser is a valid User for Insert; n makes Username, Email and the nickname unique.
func scaleUser(n int, profileID string) map[string]any {
	username := fmt.Sprintf("user%06d@scale.example.com", n)
	return map[string]any{
		"Username": username, "LastName": "Scale", "FirstName": "User", "Email": username, "Alias": "scale",
		"TimeZoneSidKey": "America/Los_Angeles", "LocaleSidKey": "en_US", "EmailEncodingKey": "UTF-8",
		"LanguageLocaleKey": "en_US", "ProfileId": profileID, "FederationIdentifier": fmt.Sprintf("fed-%06d", n),
	}
}

func idByName(tb testing.TB, e *Emulator, object, field, value string) string {
	tb.Helper()
	for _, r := range e.List(object) {
		if r[field] == value {
			return r["Id"].(string)
		}
	}
	tb.Fatalf("no %s with %s=%s", object, field, value)
	return ""
}

func usedLicenses(tb testing.TB, e *Emulator, licenseID string) int {
	tb.Helper()
	used, ok := e.Get("UserLicense", licenseID)["UsedLicenses"].(int)
	if !ok {
		tb.Fatalf("UserLicense %s has no UsedLicenses", licenseID)
	}
	return used
}

// TestSeatCountingAtScale fills the Salesforce licence with 5,000 users and checks that seats are
// counted exactly through creation, deactivation, reactivation, profile changes and rollbacks.
func TestSeatCountingAtScale(t *testing.T) {
	t.Parallel()
	const seats = 5000
	h := newHarness(t, Config{Seed: scaleSeed(seats)})
	e := h.e
	standard := idByName(t, e, "Profile", "Name", "Standard User")
	chatter := idByName(t, e, "Profile", "Name", "Chatter Free User")
	salesforce := idByName(t, e, "UserLicense", "Name", "Salesforce")
	chatterLicense := idByName(t, e, "UserLicense", "Name", "Chatter Free")
	salesOps := idByName(t, e, "PermissionSet", "Name", "Sales_Ops")

	ids := make([]string, 0, seats)
	for n := 1; n < seats; n++ { // the integration user holds the first seat
		id, err := e.Insert("User", scaleUser(n, standard))
		if err != nil {
			t.Fatalf("Insert(user %d) = %v", n, err)
		}
		ids = append(ids, id)
	}
	if used := usedLicenses(t, e, salesforce); used != seats {
		t.Fatalf("UsedLicenses = %d; want %d", used, seats)
	}
	wantCode := func(what string, err error, code string) {
		t.Helper()
		if e, ok := err.(*Error); !ok || e.Code != code {
			t.Fatalf("%s = %v; want %s", what, err, code)
		}
	}

	_, err := e.Insert("User", scaleUser(seats, standard))
	wantCode("Insert beyond the seats", err, "LICENSE_LIMIT_EXCEEDED")
	inactive := scaleUser(seats, standard)
	inactive["IsActive"] = false
	spare, err := e.Insert("User", inactive)
	if err != nil {
		t.Fatalf("Insert(inactive user) = %v; inactive users take no seat", err)
	}
	wantCode("reactivating beyond the seats", e.Update("User", spare, map[string]any{"IsActive": true}), "LICENSE_LIMIT_EXCEEDED")

	if err := e.Update("User", ids[0], map[string]any{"IsActive": false}); err != nil {
		t.Fatalf("deactivate: %v", err)
	}
	if used := usedLicenses(t, e, salesforce); used != seats-1 {
		t.Fatalf("UsedLicenses after a deactivation = %d; want %d", used, seats-1)
	}
	if err := e.Update("User", spare, map[string]any{"IsActive": true}); err != nil {
		t.Fatalf("reactivating into the freed seat = %v", err)
	}
	wantCode("reactivating the deactivated user", e.Update("User", ids[0], map[string]any{"IsActive": true}), "LICENSE_LIMIT_EXCEEDED")

	// Moving a user to a Chatter Free profile frees a Salesforce seat and takes a Chatter one.
	if err := e.Update("User", ids[1], map[string]any{"ProfileId": chatter}); err != nil {
		t.Fatalf("profile change: %v", err)
	}
	if used, chatterUsed := usedLicenses(t, e, salesforce), usedLicenses(t, e, chatterLicense); used != seats-1 || chatterUsed != 1 {
		t.Fatalf("UsedLicenses after a profile change = %d, %d; want %d, 1", used, chatterUsed, seats-1)
	}

	// A failed allOrNone composite that frees a seat, fills the licence and then fails on one more
	// user leaves the counts as they were.
	status, _, body := h.do("POST", v+"/composite", map[string]any{"allOrNone": true, "compositeRequest": []any{
		map[string]any{"method": "PATCH", "url": v + "/sobjects/User/" + ids[2], "referenceId": "deactivate",
			"body": map[string]any{"IsActive": false}},
		map[string]any{"method": "POST", "url": v + "/sobjects/User", "referenceId": "newUser", "body": scaleUser(seats+1, standard)},
		map[string]any{"method": "POST", "url": v + "/sobjects/PermissionSetAssignment", "referenceId": "psa",
			"body": map[string]any{"AssigneeId": "@{newUser.id}", "PermissionSetId": salesOps}},
		map[string]any{"method": "POST", "url": v + "/sobjects/User", "referenceId": "lastSeat", "body": scaleUser(seats+2, standard)},
		map[string]any{"method": "POST", "url": v + "/sobjects/User", "referenceId": "oneTooMany", "body": scaleUser(seats+3, standard)},
	}})
	if status != http.StatusOK {
		t.Fatalf("composite = %d %s", status, body)
	}
	results := decode(t, body).(map[string]any)["compositeResponse"].([]any)
	if got := results[4].(map[string]any)["body"].([]any)[0].(map[string]any)["errorCode"]; got != "LICENSE_LIMIT_EXCEEDED" {
		t.Fatalf("composite last subrequest errorCode = %v; want LICENSE_LIMIT_EXCEEDED (%s)", got, body)
	}
	if used := usedLicenses(t, e, salesforce); used != seats-1 {
		t.Fatalf("UsedLicenses after the rollback = %d; want %d", used, seats-1)
	}
	if !e.Get("User", ids[2])["IsActive"].(bool) {
		t.Fatal("the rolled-back deactivation is still in effect")
	}
	// The rolled-back user's username, nickname and federation id are free again, and the
	// restored counts are the ones the rules use: exactly one seat is left.
	if _, err := e.Insert("User", scaleUser(seats+1, standard)); err != nil {
		t.Fatalf("Insert(the rolled-back user) = %v", err)
	}
	_, err = e.Insert("User", scaleUser(seats+2, standard))
	wantCode("Insert after the rollback, beyond the seats", err, "LICENSE_LIMIT_EXCEEDED")
	_, err = e.Insert("User", scaleUser(3, standard))
	wantCode("Insert of an existing username", err, "DUPLICATE_USERNAME")
	if used := usedLicenses(t, e, salesforce); used != seats {
		t.Fatalf("UsedLicenses at the end = %d; want %d", used, seats)
	}
}

// BenchmarkInsertUser measures one Insert of a user (with its UserLogin row, profile assignment
// and seat count) into an org of 0 to 20,000 users.
func BenchmarkInsertUser(b *testing.B) {
	const batch = 20000
	var e *Emulator
	var profile string
	n := 0
	b.ReportAllocs()
	for b.Loop() {
		if n%batch == 0 {
			b.StopTimer()
			var err error
			if e, err = New(Config{Seed: scaleSeed(batch + 1)}); err != nil {
				b.Fatal(err)
			}
			profile = idByName(b, e, "Profile", "Name", "Standard User")
			b.StartTimer()
		}
		n++
		if _, err := e.Insert("User", scaleUser(n, profile)); err != nil {
			b.Fatalf("Insert(user %d) = %v", n, err)
		}
	}
}

// BenchmarkInsert20kUsersWithAssignments inserts 20,000 users and one permission set assignment
// each into a fresh org; one op is the whole batch (target: well under 2 s).
func BenchmarkInsert20kUsersWithAssignments(b *testing.B) {
	const users = 20000
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		e, err := New(Config{Seed: scaleSeed(users + 1)})
		if err != nil {
			b.Fatal(err)
		}
		profile := idByName(b, e, "Profile", "Name", "Standard User")
		sets := []string{
			idByName(b, e, "PermissionSet", "Name", "Sales_Ops"),
			idByName(b, e, "PermissionSet", "Name", "Support_Agent"),
			idByName(b, e, "PermissionSet", "Name", "Marketing_User"),
		}
		b.StartTimer()
		for n := 1; n <= users; n++ {
			id, err := e.Insert("User", scaleUser(n, profile))
			if err != nil {
				b.Fatalf("Insert(user %d) = %v", n, err)
			}
			if _, err := e.Insert("PermissionSetAssignment", map[string]any{"AssigneeId": id, "PermissionSetId": sets[n%len(sets)]}); err != nil {
				b.Fatalf("Insert(assignment %d) = %v", n, err)
			}
		}
	}
}
