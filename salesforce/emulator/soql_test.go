package emulator

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// fakeSource is a small in-memory soqlSource: metadata for User, Profile, PermissionSet,
// PermissionSetAssignment and UserLogin plus rows in creation order.
type soqlFakeSource struct {
	objects map[string]*objectMeta // lower-cased name
	data    map[string][]map[string]any
	byID    map[string]map[string]any // 18-character id
	types   map[string]string         // 18-character id -> object
}

func (f *soqlFakeSource) object(name string) (*objectMeta, bool) {
	o, ok := f.objects[strings.ToLower(name)]
	return o, ok
}

func (f *soqlFakeSource) rows(object string) []map[string]any { return f.data[object] }

func (f *soqlFakeSource) row(object, id string) map[string]any {
	if f.types[id] != object {
		return nil
	}
	return f.byID[id]
}

func (f *soqlFakeSource) add(object string, r map[string]any) string {
	id := r["Id"].(string)
	f.data[object] = append(f.data[object], r)
	f.byID[id] = r
	f.types[id] = object
	return id
}

// testID returns the 18-character id number n with the key prefix; ids mix cases on purpose.
func soqlTestID(prefix string, n int) string {
	return soqlId18(fmt.Sprintf("%sxY%010d", prefix, n))
}

func soqlNewMeta(name string, fields []*fieldMeta, children ...*childRelationship) *objectMeta {
	o := &objectMeta{Name: name, Fields: map[string]*fieldMeta{}, Children: map[string]*childRelationship{}}
	for _, f := range fields {
		o.Fields[strings.ToLower(f.Name)] = f
	}
	for _, c := range children {
		o.Children[strings.ToLower(c.Name)] = c
	}
	return o
}

func soqlFld(name, typ string) *fieldMeta {
	return &fieldMeta{Name: name, Type: typ, Filterable: true, Sortable: true}
}

func soqlRef(name, to, rel string) *fieldMeta {
	return &fieldMeta{Name: name, Type: "reference", ReferenceTo: to, RelationshipName: rel, Filterable: true, Sortable: true}
}

// fixture is the fake org: users alice, bob, carol, dave, eve (in that creation order).
type soqlFixture struct {
	src                    *soqlFakeSource
	user, profile, ps, psa map[string]string // short name -> id
}

func soqlDate(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t.UTC()
}

func soqlNewFixture(t testing.TB) *soqlFixture {
	t.Helper()
	aboutMe := &fieldMeta{Name: "AboutMe", Type: "textarea"}
	src := &soqlFakeSource{
		objects: map[string]*objectMeta{},
		data:    map[string][]map[string]any{},
		byID:    map[string]map[string]any{},
		types:   map[string]string{},
	}
	for _, o := range []*objectMeta{
		soqlNewMeta("User", []*fieldMeta{
			soqlFld("Id", "id"), soqlFld("Username", "string"), soqlFld("Email", "email"), soqlFld("FirstName", "string"),
			soqlFld("LastName", "string"), soqlFld("IsActive", "boolean"), soqlRef("ProfileId", "Profile", "Profile"),
			soqlRef("ManagerId", "User", "Manager"), soqlFld("FederationIdentifier", "string"),
			soqlFld("CreatedDate", "datetime"), soqlFld("HireDate__c", "date"), soqlFld("Score__c", "double"),
			soqlFld("LoginCount__c", "int"), aboutMe,
		}, &childRelationship{Name: "PermissionSetAssignments", Object: "PermissionSetAssignment", Field: "AssigneeId"}),
		soqlNewMeta("Profile", []*fieldMeta{soqlFld("Id", "id"), soqlFld("Name", "string")}),
		soqlNewMeta("PermissionSet", []*fieldMeta{
			soqlFld("Id", "id"), soqlFld("Name", "string"), soqlFld("IsOwnedByProfile", "boolean"), soqlRef("ProfileId", "Profile", "Profile"),
		}, &childRelationship{Name: "Assignments", Object: "PermissionSetAssignment", Field: "PermissionSetId"}),
		soqlNewMeta("PermissionSetAssignment", []*fieldMeta{
			soqlFld("Id", "id"), soqlRef("AssigneeId", "User", "Assignee"), soqlRef("PermissionSetId", "PermissionSet", "PermissionSet"),
		}),
		soqlNewMeta("UserLogin", []*fieldMeta{soqlFld("Id", "id"), soqlRef("UserId", "User", ""), soqlFld("IsFrozen", "boolean")}),
	} {
		src.objects[strings.ToLower(o.Name)] = o
	}
	fx := &soqlFixture{src: src, user: map[string]string{}, profile: map[string]string{}, ps: map[string]string{}, psa: map[string]string{}}

	fx.profile["admin"] = src.add("Profile", map[string]any{"Id": soqlTestID("00e", 1), "Name": "System Administrator"})
	fx.profile["standard"] = src.add("Profile", map[string]any{"Id": soqlTestID("00e", 2), "Name": "Standard User"})

	users := []map[string]any{
		{"Username": "alice@example.com", "FirstName": "Alice", "LastName": "Smith", "IsActive": true,
			"ProfileId": fx.profile["admin"], "FederationIdentifier": "alice", "CreatedDate": soqlDate("2024-01-01T00:00:00Z"),
			"HireDate__c": soqlDate("2020-05-01T00:00:00Z"), "Score__c": 1.5, "LoginCount__c": 3},
		// bob's ProfileId is stored in its 15-character form; output must still be 18 characters.
		{"Username": "bob@example.com", "FirstName": "Bob", "LastName": "Jones", "IsActive": true,
			"ProfileId": fx.profile["standard"][:15], "CreatedDate": soqlDate("2024-02-01T10:00:00Z"),
			"HireDate__c": soqlDate("2021-03-01T00:00:00Z"), "Score__c": 2.0, "AboutMe": "<b>\"hi\" & bye</b>\n"},
		{"Username": "carol@example.com", "FirstName": "Carol", "LastName": "O'Brien", "IsActive": false,
			"ProfileId": fx.profile["standard"], "FederationIdentifier": "CAROL", "CreatedDate": soqlDate("2023-06-15T12:30:00Z"),
			"Score__c": -1.0, "LoginCount__c": 0},
		{"Username": "dave_x@example.com", "FirstName": "dave", "LastName": "100%", "IsActive": true,
			"FederationIdentifier": "dave", "CreatedDate": soqlDate("2024-03-01T00:00:00Z")},
		{"Username": "eve@example.com", "LastName": "Émile", "IsActive": false, "ProfileId": fx.profile["admin"],
			"CreatedDate": soqlDate("2024-01-01T00:00:00Z")},
	}
	names := []string{"alice", "bob", "carol", "dave", "eve"}
	for i, u := range users {
		u["Id"] = soqlTestID("005", i+1)
		u["Email"] = u["Username"]
		fx.user[names[i]] = src.add("User", u)
	}
	fx.src.byID[fx.user["bob"]]["ManagerId"] = fx.user["alice"]
	fx.src.byID[fx.user["carol"]]["ManagerId"] = fx.user["alice"]
	fx.src.byID[fx.user["dave"]]["ManagerId"] = fx.user["bob"]

	fx.ps["sales"] = src.add("PermissionSet", map[string]any{"Id": soqlTestID("0PS", 1), "Name": "Sales", "IsOwnedByProfile": false})
	fx.ps["admin"] = src.add("PermissionSet", map[string]any{"Id": soqlTestID("0PS", 2), "Name": "X00e_Admin", "IsOwnedByProfile": true,
		"ProfileId": fx.profile["admin"]})
	fx.ps["support"] = src.add("PermissionSet", map[string]any{"Id": soqlTestID("0PS", 3), "Name": "Support", "IsOwnedByProfile": false})

	for i, a := range [][3]string{
		{"alice-sales", "alice", "sales"}, {"alice-admin", "alice", "admin"}, {"bob-sales", "bob", "sales"},
		{"carol-support", "carol", "support"}, {"alice-support", "alice", "support"}, {"eve-admin", "eve", "admin"},
	} {
		fx.psa[a[0]] = src.add("PermissionSetAssignment", map[string]any{"Id": soqlTestID("0Pa", i+1),
			"AssigneeId": fx.user[a[1]], "PermissionSetId": fx.ps[a[2]]})
	}
	for i, frozen := range []bool{false, true, false, false, true} {
		src.add("UserLogin", map[string]any{"Id": soqlTestID("0Yw", i+1), "UserId": fx.user[names[i]], "IsFrozen": frozen})
	}
	return fx
}

func (fx *soqlFixture) mustQuery(t *testing.T, q string) *soqlResult {
	t.Helper()
	res, err := runQuery(fx.src, q, "66.0", soqlOptions{})
	if err != nil {
		t.Fatalf("runQuery(%q) error: %v", q, err)
	}
	return res
}

func (fx *soqlFixture) queryError(t *testing.T, q string) *soqlError {
	t.Helper()
	res, err := runQuery(fx.src, q, "66.0", soqlOptions{})
	if err == nil {
		t.Fatalf("runQuery(%q) = %d records; want an error", q, res.TotalSize)
	}
	var se *soqlError
	if !errors.As(err, &se) {
		t.Fatalf("runQuery(%q) error %T %v; want *soqlError", q, err, err)
	}
	return se
}

// userNames maps result ids back to the fixture's short user names.
func (fx *soqlFixture) userNames(res *soqlResult) []string {
	out := []string{}
	for _, r := range res.Records {
		for name, id := range fx.user {
			if id == r.ID {
				out = append(out, name)
			}
		}
	}
	return out
}

func TestQueryWhereOperators(t *testing.T) {
	t.Parallel()
	fx := soqlNewFixture(t)
	alice15 := fx.user["alice"][:15]
	bobLower := fx.user["bob"][:15] + strings.ToLower(fx.user["bob"][15:])
	tests := []struct {
		name, where string
		want        []string
	}{
		{"equals ignores case", "Username = 'ALICE@Example.com'", []string{"alice"}},
		{"equals unicode folds case", "LastName = 'émile'", []string{"eve"}},
		{"not equals includes nulls", "FederationIdentifier != 'alice'", []string{"bob", "carol", "dave", "eve"}},
		{"diamond not equals", "FederationIdentifier <> 'ALICE'", []string{"bob", "carol", "dave", "eve"}},
		{"equals null", "FederationIdentifier = null", []string{"bob", "eve"}},
		{"not equals NULL", "FederationIdentifier != NULL", []string{"alice", "carol", "dave"}},
		{"string less than ignores case", "FirstName < 'CAROL'", []string{"alice", "bob"}},
		{"string greater or equal skips nulls", "FirstName >= 'carol'", []string{"carol", "dave"}},
		{"datetime greater", "CreatedDate > 2024-01-01T00:00:00Z", []string{"bob", "dave"}},
		{"datetime with offset and fraction", "CreatedDate >= 2024-01-01T01:00:00.000+01:00", []string{"alice", "bob", "dave", "eve"}},
		{"datetime equals", "CreatedDate = 2023-06-15T12:30:00Z", []string{"carol"}},
		{"date less than", "HireDate__c < 2021-01-01", []string{"alice"}},
		{"date less or equal", "HireDate__c <= 2021-03-01", []string{"alice", "bob"}},
		{"double greater or equal", "Score__c >= 1.5", []string{"alice", "bob"}},
		{"negative number", "Score__c < -0.5", []string{"carol"}},
		{"int equals", "LoginCount__c = 0", []string{"carol"}},
		{"int compares with double literal", "LoginCount__c > 2.5", []string{"alice"}},
		{"boolean false", "IsActive = false", []string{"carol", "eve"}},
		{"boolean keyword case", "IsActive = TRUE", []string{"alice", "bob", "dave"}},
		{"in ignores case", "FirstName IN ('ALICE', 'bob')", []string{"alice", "bob"}},
		{"in with null", "FirstName IN ('Alice', null)", []string{"alice", "eve"}},
		{"not in includes nulls", "FirstName NOT IN ('Alice', 'Bob')", []string{"carol", "dave", "eve"}},
		{"id in accepts 15 and case-folded 18", "Id IN ('" + alice15 + "', '" + bobLower + "')", []string{"alice", "bob"}},
		{"reference equals 15-character id", "ManagerId = '" + alice15 + "'", []string{"bob", "carol"}},
		{"reference stored as 15 characters", "ProfileId = '" + fx.profile["standard"] + "'", []string{"bob", "carol"}},
		{"like prefix ignores case", "Username LIKE 'A%'", []string{"alice"}},
		{"like single character", "FirstName LIKE '_ob'", []string{"bob"}},
		{"like contains", "FirstName LIKE '%O%'", []string{"bob", "carol"}},
		{"like escaped underscore", "Username LIKE 'dave\\_%'", []string{"dave"}},
		{"like escaped underscore is literal", "Username LIKE 'bob\\_%'", []string{}},
		{"like underscore is a wildcard", "Username LIKE 'dave_x%'", []string{"dave"}},
		{"like escaped percent", "LastName LIKE '100\\%'", []string{"dave"}},
		{"like skips nulls", "FirstName LIKE '%'", []string{"alice", "bob", "carol", "dave"}},
		{"and", "IsActive = true AND FirstName != 'dave'", []string{"alice", "bob"}},
		{"or", "FirstName = 'Alice' OR LastName = 'Jones'", []string{"alice", "bob"}},
		{"parentheses group or under and", "IsActive = true AND (FirstName = 'Alice' OR FirstName = 'dave')", []string{"alice", "dave"}},
		{"parentheses group and under or", "(IsActive = true AND FirstName = 'Bob') OR LastName = 'Émile'", []string{"bob", "eve"}},
		{"not parenthesised", "NOT (IsActive = true OR FirstName = null)", []string{"carol"}},
		{"not binds to one comparison", "NOT IsActive = true AND FederationIdentifier != null", []string{"carol"}},
		{"and not", "IsActive = true AND NOT FirstName = 'Bob'", []string{"alice", "dave"}},
		{"nested parentheses", "((FirstName = 'Alice'))", []string{"alice"}},
		{"parent path", "Profile.Name = 'standard user'", []string{"bob", "carol"}},
		{"parent path null when reference empty", "Profile.Name = null", []string{"dave"}},
		{"two-level parent path", "Manager.Manager.Username = 'alice@example.com'", []string{"dave"}},
		{"object-qualified field", "User.FirstName = 'Bob'", []string{"bob"}},
		{"semi-join", "Id IN (SELECT AssigneeId FROM PermissionSetAssignment WHERE PermissionSet.Name = 'Support')", []string{"alice", "carol"}},
		{"anti-join", "Id NOT IN (SELECT UserId FROM UserLogin WHERE IsFrozen = true)", []string{"alice", "carol", "dave"}},
		{"semi-join on reference field", "ManagerId IN (SELECT Id FROM User WHERE FirstName = 'Bob')", []string{"dave"}},
		{"quote escape stays literal", "LastName = 'O\\'Brien'", []string{"carol"}},
		{"injection attempt stays literal", "Username = 'x\\' OR Username != \\''", []string{}},
		{"unicode escape", "LastName = '\\u00c9mile'", []string{"eve"}},
		{"backslash escape", "LastName = 'a\\\\b'", []string{}},
		{"keywords are case-insensitive", "firstname = 'Bob' or LASTNAME = 'Smith'", []string{"alice", "bob"}},
		{"multi-line", "IsActive = true\nAND\tFirstName = 'Bob'", []string{"bob"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			q := "SELECT Id FROM User WHERE " + tc.where
			got := fx.userNames(fx.mustQuery(t, q))
			if !slices.Equal(got, tc.want) {
				t.Errorf("runQuery(%q) = %v; want %v", q, got, tc.want)
			}
		})
	}
}

func TestQueryOrderLimitOffset(t *testing.T) {
	t.Parallel()
	fx := soqlNewFixture(t)
	tests := []struct {
		name, tail string
		want       []string
	}{
		{"creation order without ORDER BY", "", []string{"alice", "bob", "carol", "dave", "eve"}},
		{"ascending puts nulls first and ignores case", "ORDER BY FirstName", []string{"eve", "alice", "bob", "carol", "dave"}},
		{"explicit ASC NULLS LAST", "ORDER BY FirstName ASC NULLS LAST", []string{"alice", "bob", "carol", "dave", "eve"}},
		{"descending puts nulls last", "ORDER BY FirstName DESC", []string{"dave", "carol", "bob", "alice", "eve"}},
		{"descending NULLS FIRST", "ORDER BY FirstName DESC NULLS FIRST", []string{"eve", "dave", "carol", "bob", "alice"}},
		{"several keys", "ORDER BY IsActive, CreatedDate DESC", []string{"eve", "carol", "dave", "bob", "alice"}},
		{"stable for equal keys", "ORDER BY CreatedDate", []string{"carol", "alice", "eve", "bob", "dave"}},
		{"parent path key", "ORDER BY Profile.Name DESC NULLS LAST, Username", []string{"alice", "eve", "bob", "carol", "dave"}},
		{"numbers", "ORDER BY Score__c DESC", []string{"bob", "alice", "carol", "dave", "eve"}},
		{"limit", "ORDER BY Username LIMIT 2", []string{"alice", "bob"}},
		{"limit and offset", "ORDER BY Username LIMIT 2 OFFSET 1", []string{"bob", "carol"}},
		{"offset only", "ORDER BY Username OFFSET 3", []string{"dave", "eve"}},
		{"offset past the end", "OFFSET 2000", []string{}},
		{"limit zero", "LIMIT 0", []string{}},
		{"where then order", "WHERE IsActive = true ORDER BY Username DESC LIMIT 2", []string{"dave", "bob"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			q := "SELECT Id FROM User " + tc.tail
			res := fx.mustQuery(t, q)
			got := fx.userNames(res)
			if !slices.Equal(got, tc.want) {
				t.Errorf("runQuery(%q) = %v; want %v", q, got, tc.want)
			}
			if res.TotalSize != len(tc.want) || res.IsCount {
				t.Errorf("runQuery(%q) TotalSize %d IsCount %v; want %d false", q, res.TotalSize, res.IsCount, len(tc.want))
			}
		})
	}
}

func TestQueryCount(t *testing.T) {
	t.Parallel()
	fx := soqlNewFixture(t)
	tests := []struct {
		q    string
		want int
	}{
		{"SELECT COUNT() FROM User", 5},
		{"select count() from User where IsActive = true", 3},
		{"SELECT COUNT() FROM User WHERE IsActive = true LIMIT 2", 2},
		{"SELECT COUNT() FROM User OFFSET 4", 1},
		{"SELECT COUNT() FROM PermissionSetAssignment WHERE PermissionSet.IsOwnedByProfile = false", 4},
		{"SELECT COUNT() FROM User WHERE Username = 'nobody'", 0},
	}
	for _, tc := range tests {
		res := fx.mustQuery(t, tc.q)
		if !res.IsCount || res.TotalSize != tc.want || res.Records == nil || len(res.Records) != 0 {
			t.Errorf("runQuery(%q) = {IsCount:%v TotalSize:%d Records:%v}; want {true %d []}", tc.q, res.IsCount, res.TotalSize, res.Records, tc.want)
		}
	}
}

func TestQueryJSON(t *testing.T) {
	t.Parallel()
	fx := soqlNewFixture(t)
	url := func(object, id string) string { return "/services/data/v66.0/sobjects/" + object + "/" + id }
	attrs := func(object, id string) string {
		return `{"attributes":{"type":"` + object + `","url":"` + url(object, id) + `"}`
	}
	alice, bob, dave := fx.user["alice"], fx.user["bob"], fx.user["dave"]
	tests := []struct {
		name, q string
		want    []string
	}{
		{
			name: "scalar types and canonical names in select order",
			q: "select username, ID, isactive, score__c, logincount__c, createddate, hiredate__c, firstname, federationidentifier " +
				"from user where username = 'alice@example.com'",
			want: []string{attrs("User", alice) + `,"Username":"alice@example.com","Id":"` + alice + `","IsActive":true,` +
				`"Score__c":1.5,"LoginCount__c":3,"CreatedDate":"2024-01-01T00:00:00.000+0000","HireDate__c":"2020-05-01",` +
				`"FirstName":"Alice","FederationIdentifier":"alice"}`},
		},
		{
			name: "nulls, integral doubles, 18-character references, no HTML escaping",
			q:    "SELECT Score__c, LoginCount__c, FederationIdentifier, ProfileId, AboutMe FROM User WHERE FirstName = 'Bob'",
			want: []string{attrs("User", bob) + `,"Score__c":2.0,"LoginCount__c":null,"FederationIdentifier":null,` +
				`"ProfileId":"` + fx.profile["standard"] + `","AboutMe":"<b>\"hi\" & bye</b>\n"}`},
		},
		{
			name: "parent paths merge into nested objects",
			q: "SELECT Id, Assignee.Username, PermissionSet.Name, Assignee.Profile.Name, Assignee.IsActive " +
				"FROM PermissionSetAssignment WHERE Id = '" + fx.psa["alice-sales"] + "'",
			want: []string{attrs("PermissionSetAssignment", fx.psa["alice-sales"]) + `,"Id":"` + fx.psa["alice-sales"] + `",` +
				`"Assignee":` + attrs("User", alice) + `,"Username":"alice@example.com",` +
				`"Profile":` + attrs("Profile", fx.profile["admin"]) + `,"Name":"System Administrator"},"IsActive":true},` +
				`"PermissionSet":` + attrs("PermissionSet", fx.ps["sales"]) + `,"Name":"Sales"}}`},
		},
		{
			name: "empty parent reference is null",
			q:    "SELECT Username, Profile.Name, Manager.Manager.Username FROM User WHERE Id = '" + dave + "'",
			want: []string{attrs("User", dave) + `,"Username":"dave_x@example.com","Profile":null,` +
				`"Manager":` + attrs("User", bob) + `,"Manager":` + attrs("User", alice) + `,"Username":"alice@example.com"}}}`},
		},
		{
			name: "child subquery with its own where, order and null when empty",
			q: "SELECT Id, (SELECT Id, PermissionSetId FROM PermissionSetAssignments WHERE PermissionSet.IsOwnedByProfile = false " +
				"ORDER BY PermissionSet.Name DESC) FROM User WHERE Username IN ('alice@example.com', 'dave_x@example.com') ORDER BY Username",
			want: []string{
				attrs("User", alice) + `,"Id":"` + alice + `","PermissionSetAssignments":{"totalSize":2,"done":true,"records":[` +
					attrs("PermissionSetAssignment", fx.psa["alice-support"]) + `,"Id":"` + fx.psa["alice-support"] + `","PermissionSetId":"` + fx.ps["support"] + `"},` +
					attrs("PermissionSetAssignment", fx.psa["alice-sales"]) + `,"Id":"` + fx.psa["alice-sales"] + `","PermissionSetId":"` + fx.ps["sales"] + `"}]}}`,
				attrs("User", dave) + `,"Id":"` + dave + `","PermissionSetAssignments":null}`,
			},
		},
		{
			name: "child subquery limit applies per parent",
			q: "SELECT Name, (SELECT Assignee.Username FROM Assignments ORDER BY Assignee.Username DESC LIMIT 1) FROM PermissionSet " +
				"WHERE IsOwnedByProfile = false ORDER BY Name",
			want: []string{
				attrs("PermissionSet", fx.ps["sales"]) + `,"Name":"Sales","Assignments":{"totalSize":1,"done":true,"records":[` +
					attrs("PermissionSetAssignment", fx.psa["bob-sales"]) + `,"Assignee":` + attrs("User", bob) + `,"Username":"bob@example.com"}}]}}`,
				attrs("PermissionSet", fx.ps["support"]) + `,"Name":"Support","Assignments":{"totalSize":1,"done":true,"records":[` +
					attrs("PermissionSetAssignment", fx.psa["carol-support"]) + `,"Assignee":` + attrs("User", fx.user["carol"]) + `,"Username":"carol@example.com"}}]}}`,
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			res := fx.mustQuery(t, tc.q)
			if res.TotalSize != len(tc.want) || len(res.Records) != len(tc.want) {
				t.Fatalf("runQuery(%q) = %d records; want %d", tc.q, len(res.Records), len(tc.want))
			}
			for i, r := range res.Records {
				if !json.Valid(r.JSON) {
					t.Errorf("record %d is not valid JSON: %s", i, r.JSON)
				}
				if string(r.JSON) != tc.want[i] {
					t.Errorf("record %d:\n got %s\nwant %s", i, r.JSON, tc.want[i])
				}
				if len(r.ID) != 18 || r.Object == "" {
					t.Errorf("record %d: Object %q ID %q; want object name and 18-character id", i, r.Object, r.ID)
				}
			}
		})
	}
}

func TestQueryRecordMarshalsAsEncoded(t *testing.T) {
	t.Parallel()
	fx := soqlNewFixture(t)
	res := fx.mustQuery(t, "SELECT Id FROM Profile ORDER BY Name LIMIT 1")
	body, err := json.Marshal(map[string]any{"totalSize": res.TotalSize, "done": true, "records": res.Records})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"done":true,"records":[{"attributes":{"type":"Profile","url":"/services/data/v66.0/sobjects/Profile/` +
		fx.profile["standard"] + `"},"Id":"` + fx.profile["standard"] + `"}],"totalSize":1}`
	if string(body) != want {
		t.Errorf("json.Marshal = %s; want %s", body, want)
	}
}

func TestQueryErrors(t *testing.T) {
	t.Parallel()
	fx := soqlNewFixture(t)
	const customField = " If you are attempting to use a custom field, be sure to append the '__c' after the custom field name." +
		" Please reference your WSDL or the describe call for the appropriate names."
	tests := []struct {
		name, q, code, message string
	}{
		{"empty", "", "MALFORMED_QUERY", "SOQL statements cannot be empty or null"},
		{"blank", "  \n ", "MALFORMED_QUERY", "SOQL statements cannot be empty or null"},
		{"unknown column", "SELECT Foo FROM User", "INVALID_FIELD",
			"\nSELECT Foo FROM User\n       ^\nERROR at Row:1:Column:8\nNo such column 'Foo' on entity 'User'." + customField},
		{"unknown column echo is a window around the error",
			"SELECT Id, Username, Email, FirstName, Foo, LastName, IsActive, ProfileId FROM User", "INVALID_FIELD",
			"\nEmail, FirstName, Foo, LastName, IsActive\n                  ^\nERROR at Row:1:Column:40\nNo such column 'Foo' on entity 'User'." + customField},
		{"unknown column on later row", "SELECT Id\nFROM User\nWHERE Foo = 1", "INVALID_FIELD",
			"\nWHERE Foo = 1\n      ^\nERROR at Row:3:Column:7\nNo such column 'Foo' on entity 'User'." + customField},
		{"unknown column behind relationship", "SELECT Profile.Foo FROM User", "INVALID_FIELD",
			"\nSELECT Profile.Foo FROM User\n       ^\nERROR at Row:1:Column:8\nNo such column 'Foo' on entity 'Profile'." + customField},
		{"unknown type", "SELECT Id FROM Nope__c", "INVALID_TYPE",
			"\nId FROM Nope__c\n        ^\nERROR at Row:1:Column:16\nsObject type 'Nope__c' is not supported." +
				" If you are attempting to use a custom object, be sure to append the '__c' after the entity name." +
				" Please reference your WSDL or the describe call for the appropriate names."},
		{"unknown relationship", "SELECT Id FROM User WHERE Assignee.Username = 'x'", "INVALID_FIELD",
			"\nUser WHERE Assignee.Username = 'x'\n           ^\nERROR at Row:1:Column:27\nDidn't understand relationship 'Assignee' in field path." +
				" If you are attempting to use a custom relationship, be sure to append the '__r' after the custom relationship name." +
				" Please reference your WSDL or the describe call for the appropriate names."},
		{"unknown child relationship", "SELECT Id, (SELECT Id FROM Nope) FROM User", "INVALID_TYPE",
			"\nId FROM Nope) FROM User\n        ^\nERROR at Row:1:Column:28\n" +
				"Didn't understand relationship 'Nope' in FROM part of query call. If you are attempting to use a custom relationship," +
				" be sure to append the '__r' after the custom relationship name. Please reference your WSDL or the describe call for the appropriate names."},
		{"AND then OR needs parentheses", "SELECT Id FROM User WHERE IsActive = true AND FirstName = 'a' OR LastName = 'b'", "MALFORMED_QUERY",
			"\nFirstName = 'a' OR LastName = 'b'\n                ^\nERROR at Row:1:Column:63\nunexpected token: 'OR'"},
		{"OR then AND needs parentheses", "SELECT Id FROM User WHERE IsActive = true OR FirstName = 'a' AND LastName = 'b'", "MALFORMED_QUERY",
			"\nFirstName = 'a' AND LastName = 'b'\n                ^\nERROR at Row:1:Column:62\nunexpected token: 'AND'"},
		{"missing field list", "SELECT FROM User", "MALFORMED_QUERY",
			"\nSELECT FROM User\n       ^\nERROR at Row:1:Column:8\nunexpected token: 'FROM'"},
		{"truncated where", "SELECT Id FROM User WHERE", "MALFORMED_QUERY",
			"\nUser WHERE\n          ^\nERROR at Row:1:Column:26\nunexpected token: '<EOF>'"},
		{"double quotes", `SELECT Id FROM User WHERE FirstName = "Bob"`, "MALFORMED_QUERY",
			"\nSELECT Id FROM User WHERE FirstName = \"Bob\"\n                                      ^\nERROR at Row:1:Column:39\nunexpected token: '\"'"},
		{"invalid id", "SELECT Id FROM User WHERE Id = 'abc'", "MALFORMED_QUERY",
			"\nWHERE Id = 'abc'\n           ^\nERROR at Row:1:Column:32\ninvalid ID field: abc"},
		{"quoted boolean", "SELECT Id FROM User WHERE IsActive = 'true'", "INVALID_FIELD",
			"\nWHERE IsActive = 'true'\n                 ^\nERROR at Row:1:Column:38\n" +
				"value of filter criterion for field 'IsActive' must be of type boolean and should not be enclosed in quotes"},
		{"unquoted string", "SELECT Id FROM User WHERE Username = 5", "INVALID_FIELD",
			"\nWHERE Username = 5\n                 ^\nERROR at Row:1:Column:38\n" +
				"value of filter criterion for field 'Username' must be of type string and should be enclosed in quotes"},
		{"date for datetime", "SELECT Id FROM User WHERE CreatedDate > 2024-01-01", "INVALID_FIELD",
			"\nWHERE CreatedDate > 2024-01-01\n                    ^\nERROR at Row:1:Column:41\n" +
				"value of filter criterion for field 'CreatedDate' must be of type dateTime and should not be enclosed in quotes"},
		{"illegal escape", `SELECT Id FROM User WHERE FirstName = 'a\qb'`, "MALFORMED_QUERY",
			"\nSELECT Id FROM User WHERE FirstName = 'a\\qb'\n                                      ^\nERROR at Row:1:Column:39\n" +
				`Invalid string literal 'a\qb'. Illegal character sequence '\q' in string literal.`},
		{"unterminated string", `SELECT Id FROM User WHERE FirstName = 'Bob`, "MALFORMED_QUERY",
			"\nSELECT Id FROM User WHERE FirstName = 'Bob\n                                      ^\nERROR at Row:1:Column:39\n" +
				`Invalid string literal 'Bob'. Missing closing quote character.`},
		{"duplicate field", "SELECT Id, id FROM User", "MALFORMED_QUERY",
			"\nSELECT Id, id FROM User\n           ^\nERROR at Row:1:Column:12\nduplicate field selected: id"},
		{"unsortable field", "SELECT Id FROM User ORDER BY AboutMe", "INVALID_FIELD",
			"\nORDER BY AboutMe\n         ^\nERROR at Row:1:Column:30\nfield 'AboutMe' can not be sorted in a query call"},
		{"unfilterable field", "SELECT Id FROM User WHERE AboutMe = 'x'", "INVALID_FIELD",
			"\nUser WHERE AboutMe = 'x'\n           ^\nERROR at Row:1:Column:27\nfield 'AboutMe' can not be filtered in query call"},
		{"offset over 2000", "SELECT Id FROM User OFFSET 2001", "NUMBER_OUTSIDE_VALID_RANGE", "Maximum SOQL offset allowed is 2000"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			se := fx.queryError(t, tc.q)
			if se.Code != tc.code || se.Message != tc.message {
				t.Errorf("runQuery(%q) error\n got %s: %q\nwant %s: %q", tc.q, se.Code, se.Message, tc.code, tc.message)
			}
		})
	}
}

// TestQueryMalformed covers syntax errors by code only.
func TestQueryMalformed(t *testing.T) {
	t.Parallel()
	fx := soqlNewFixture(t)
	for _, q := range []string{
		"Id FROM User",
		"SELECT Id User",
		"SELECT Id, FROM User",
		"SELECT Id FROM User WHERE",
		"SELECT Id FROM User WHERE FirstName",
		"SELECT Id FROM User WHERE FirstName = ",
		"SELECT Id FROM User WHERE FirstName == 'x'",
		"SELECT Id FROM User WHERE (FirstName = 'x'",
		"SELECT Id FROM User WHERE FirstName = 'x')",
		"SELECT Id FROM User WHERE FirstName IN ()",
		"SELECT Id FROM User WHERE FirstName IN 'x'",
		"SELECT Id FROM User WHERE FirstName NOT LIKE 'x'",
		"SELECT Id FROM User WHERE FirstName LIKE 5",
		"SELECT Id FROM User ORDER Username",
		"SELECT Id FROM User ORDER BY Username NULLS",
		"SELECT Id FROM User LIMIT x",
		"SELECT Id FROM User LIMIT -1",
		"SELECT Id FROM User LIMIT 1 LIMIT 2",
		"SELECT Id FROM User OFFSET 1 LIMIT 2",
		"SELECT COUNT(), Id FROM User",
		"SELECT Id, COUNT() FROM User",
		"SELECT COUNT(Id FROM User",
		"SELECT Id, (SELECT Id, (SELECT Id FROM Assignments) FROM PermissionSetAssignments) FROM User",
		"SELECT Id FROM User GROUP BY Id",
		"SELECT Id FROM User; DELETE",
		"SELECT Id FROM User WHERE Id IN (SELECT Id, Username FROM User)",
		"SELECT Id FROM User WHERE Username IN (SELECT Id FROM User)",
		"SELECT Id FROM User WHERE Id IN (SELECT Username FROM User)",
		"SELECT Id FROM User WHERE Id IN (SELECT COUNT() FROM User)",
		"SELECT Id, (SELECT COUNT() FROM PermissionSetAssignments) FROM User",
	} {
		se := fx.queryError(t, q)
		if se.Code != "MALFORMED_QUERY" || !strings.Contains(se.Message, "ERROR at Row:1:Column:") {
			t.Errorf("runQuery(%q) = %s %q; want MALFORMED_QUERY with position", q, se.Code, se.Message)
		}
	}
}

// FuzzParse asserts that no input makes the engine panic and that every failure is a *soqlError.
func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		"SELECT Id FROM User",
		"SELECT Id, Username, Profile.Name, (SELECT Id FROM PermissionSetAssignments WHERE PermissionSet.IsOwnedByProfile = false) FROM User WHERE Username LIKE 'a\\_%' AND IsActive = true ORDER BY Username DESC NULLS LAST LIMIT 5 OFFSET 1",
		"SELECT COUNT() FROM User WHERE Id NOT IN (SELECT UserId FROM UserLogin WHERE IsFrozen = true)",
		"SELECT Id FROM User WHERE (CreatedDate > 2024-01-01T00:00:00.000+01:00 OR HireDate__c < 2020-01-01) AND NOT Score__c >= -1.5",
		"SELECT Id FROM User WHERE LastName = '\\u00c9mile\\n\\'' OR FirstName IN ('a', null)",
		"SELECT Id FROM User WHERE Id = '005xY0000000001'",
		"select id from user where firstname = 'x\\",
		"",
	} {
		f.Add(seed)
	}
	fx := soqlNewFixture(f)
	f.Fuzz(func(t *testing.T, q string) {
		res, err := runQuery(fx.src, q, "66.0", soqlOptions{})
		if err != nil {
			var se *soqlError
			if !errors.As(err, &se) || se.Code == "" || se.Message == "" {
				t.Fatalf("runQuery(%q) error %T %v; want *soqlError with code and message", q, err, err)
			}
			return
		}
		for _, r := range res.Records {
			if !json.Valid(r.JSON) {
				t.Fatalf("runQuery(%q) wrote invalid JSON %s", q, r.JSON)
			}
		}
	})
}

// newBigSource returns a fixture with n extra users, each with two assignments.
func soqlNewBigSource(tb testing.TB, n int) *soqlFixture {
	tb.Helper()
	fx := soqlNewFixture(tb)
	for i := range n {
		id := fx.src.add("User", map[string]any{"Id": soqlTestID("005", 1000+i), "Username": fmt.Sprintf("user%d@example.com", i),
			"FirstName": fmt.Sprintf("First%d", i), "IsActive": i%3 != 0, "ProfileId": fx.profile["standard"],
			"CreatedDate": soqlDate("2024-01-01T00:00:00Z").Add(time.Duration(i) * time.Minute)})
		for k, ps := range []string{fx.ps["sales"], fx.ps["support"]} {
			fx.src.add("PermissionSetAssignment", map[string]any{"Id": soqlTestID("0Pa", 1000+2*i+k), "AssigneeId": id, "PermissionSetId": ps})
		}
	}
	return fx
}

func TestQueryLargeOrgChildSubquery(t *testing.T) {
	t.Parallel()
	fx := soqlNewBigSource(t, 5000)
	res := fx.mustQuery(t, "SELECT Id, Username, Profile.Name, (SELECT PermissionSetId FROM PermissionSetAssignments) FROM User "+
		"WHERE IsActive = true AND Id IN (SELECT AssigneeId FROM PermissionSetAssignment WHERE PermissionSet.Name = 'Support') ORDER BY CreatedDate DESC")
	if res.TotalSize != 3334 {
		t.Fatalf("TotalSize = %d; want 3334", res.TotalSize)
	}
	if !strings.Contains(string(res.Records[0].JSON), `"Username":"user4999@example.com"`) ||
		!strings.Contains(string(res.Records[0].JSON), `"PermissionSetAssignments":{"totalSize":2,`) {
		t.Errorf("first record = %s; want user4999 with two assignments", res.Records[0].JSON)
	}
}

func BenchmarkQueryByUsername(b *testing.B) {
	fx := soqlNewBigSource(b, 5000)
	const q = "SELECT Id, Username, IsActive, Profile.Name FROM User WHERE Username = 'user4999@example.com'"
	b.ReportAllocs()
	for b.Loop() {
		res, err := runQuery(fx.src, q, "66.0", soqlOptions{})
		if err != nil || res.TotalSize != 1 {
			b.Fatalf("runQuery = %v, %v", res, err)
		}
	}
}

// Semi-join restrictions from the SOQL reference ("Semi-Join and Anti-Join Considerations"): real
// orgs refuse these queries with MALFORMED_QUERY, pointing at the offending semi-join.
func TestQuerySemiJoinRestrictions(t *testing.T) {
	t.Parallel()
	fx := soqlNewFixture(t)
	const (
		frozen    = "Id IN (SELECT UserId FROM UserLogin WHERE IsFrozen = true)"
		notFrozen = "Id NOT IN (SELECT UserId FROM UserLogin WHERE IsFrozen = true)"
		sales     = "Id IN (SELECT AssigneeId FROM PermissionSetAssignment WHERE PermissionSet.Name = 'Sales')"
		managed   = "ManagerId IN (SELECT Id FROM User WHERE FirstName = 'Alice')"
	)
	for _, tc := range []struct {
		name, q string
		at      string // the caret points at the first occurrence of at in q
		text    string
	}{
		{"OR", "SELECT Id FROM User WHERE IsActive = false OR " + frozen, frozen, msgSemiJoinWithOr},
		{"parenthesised OR as the whole WHERE", "SELECT Id FROM User WHERE (" + sales + " OR FirstName = 'Bob')", sales, msgSemiJoinWithOr},
		{"OR nested under AND", "SELECT Id FROM User WHERE FirstName = 'Bob' AND (IsActive = false OR " + frozen + ")", frozen, msgSemiJoinNotTop},
		{"AND nested under OR", "SELECT Id FROM User WHERE FirstName = 'Bob' OR (IsActive = true AND " + notFrozen + ")", notFrozen, msgSemiJoinWithOr},
		{"NOT", "SELECT Id FROM User WHERE NOT " + frozen, frozen, msgSemiJoinWithNot},
		{"NOT nested under AND", "SELECT Id FROM User WHERE IsActive = true AND (NOT (" + notFrozen + "))", notFrozen, msgSemiJoinWithNot},
		{"nested semi-join", "SELECT Id FROM User WHERE Id IN (SELECT AssigneeId FROM PermissionSetAssignment WHERE AssigneeId IN " +
			"(SELECT UserId FROM UserLogin WHERE IsFrozen = true))", "AssigneeId IN", msgSemiJoinNested},
		{"semi-join in a child subquery", "SELECT Id, (SELECT Id FROM PermissionSetAssignments WHERE PermissionSetId IN " +
			"(SELECT Id FROM PermissionSet WHERE Name = 'Sales')) FROM User", "PermissionSetId IN", msgSemiJoinNotTop},
		{"three semi-joins", "SELECT Id FROM User WHERE " + notFrozen + " AND " + sales + " AND " + managed, managed, msgSemiJoinTooMany},
		{"three semi-joins in nested ANDs", "SELECT Id FROM User WHERE (" + notFrozen + " AND (" + sales + " AND " + managed + "))",
			managed, msgSemiJoinTooMany},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			se := fx.queryError(t, tc.q)
			want := fmt.Sprintf("ERROR at Row:1:Column:%d\n%s", strings.Index(tc.q, tc.at)+1, tc.text)
			if se.Code != "MALFORMED_QUERY" || !strings.HasSuffix(se.Message, want) {
				t.Errorf("runQuery(%q) error\n got %s: %q\nwant MALFORMED_QUERY ending %q", tc.q, se.Code, se.Message, want)
			}
		})
	}

	// The message echoes the query around the semi-join, like every query error.
	se := fx.queryError(t, "SELECT Id FROM User WHERE IsActive = false OR "+frozen)
	if want := "\nfalse OR Id IN (SELECT\n         ^\nERROR at Row:1:Column:47\n" + msgSemiJoinWithOr; se.Message != want {
		t.Errorf("OR semi-join message = %q; want %q", se.Message, want)
	}

	// Legal: up to two semi-joins that are top-level conjuncts, however the ANDs are parenthesised,
	// beside ORs and NOTs that hold no semi-join.
	for _, tc := range []struct {
		where string
		want  []string
	}{
		{"((IsActive = true AND " + notFrozen + ") AND " + sales + ")", []string{"alice"}},
		{"(FirstName = 'Bob' OR FirstName = 'Alice') AND NOT (IsActive = false) AND " + sales, []string{"alice", "bob"}},
		{"IsActive = true AND " + notFrozen, []string{"alice", "dave"}},
	} {
		res := fx.mustQuery(t, "SELECT Id FROM User WHERE "+tc.where)
		if got := fx.userNames(res); !slices.Equal(got, tc.want) {
			t.Errorf("WHERE %s = %v; want %v", tc.where, got, tc.want)
		}
	}
}
