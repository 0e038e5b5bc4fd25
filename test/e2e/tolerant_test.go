package e2e

import (
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/rs/zerolog"

	"github.com/scim-bridge/scim-bridge/test/harness"
)

// Soft data never refuses a person (issue 9; README "What the IdP sent → what Salesforce gets"):
// each test pushes what real directories hold and checks what Salesforce received, the audit
// line and the metric, and that the common path keeps its call budget.

// audits returns the audit lines about target with the given result ("adjusted", "ok", …).
func audits(logs *harness.Logs, target, result string) []map[string]any {
	var out []map[string]any
	for _, m := range logs.Lines() {
		if m["audit"] != true {
			continue
		}
		if (target == "" || sameID(str(m["target"]), target)) && str(m["result"]) == result {
			out = append(out, m)
		}
	}
	return out
}

// startLogged runs a bridge whose logs are kept.
func startLogged(t *testing.T, configYAML string) (*bridge, *harness.Logs) {
	t.Helper()
	b := startWith(t, harness.Options{Config: configYAML, Logs: true, LogLevel: zerolog.InfoLevel})
	return b, b.Logs
}

// adjusted returns the names the audit lines of target list under key (defaulted, truncated,
// deduplicated, unresolved): the soft data a create or update settled is named on the one line of
// that change, never on a line of its own.
func adjusted(t testing.TB, logs *harness.Logs, target, key string) []string {
	t.Helper()
	if got := audits(logs, "", "adjusted"); len(got) > 0 {
		t.Errorf("an audit line of its own for soft data (one line per change): %v", got)
	}
	var out []string
	for _, m := range audits(logs, target, "ok") {
		list, _ := m[key].([]any)
		for _, v := range list {
			out = append(out, str(v))
		}
	}
	return out
}

// metric reads one sample of the bridge's /metrics ("name{label=\"v\"}"); 0 when absent.
func (b *bridge) metric(t testing.TB, sample string) float64 {
	t.Helper()
	v, _ := harness.Metric(t, b.URL, sample)
	return v
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func TestNicknamesNeverConflict(t *testing.T) {
	t.Parallel()
	b, logs := startLogged(t, "")
	b.warm(t)

	// Two John Smiths: displayName is not stored, CommunityNickname comes from userName.
	first := simpleUser("john.smith@acme.example.com", "John", "Smith")
	first["displayName"] = "John Smith"
	status, doc := b.within(t, 1, http.MethodPost, "/Users", first)
	if status != http.StatusCreated {
		t.Fatalf("POST first John Smith = %d; body %v", status, doc)
	}
	if got := str(doc["displayName"]); got != "John Smith" {
		t.Errorf("displayName = %q; want Salesforce's Name %q", got, "John Smith")
	}
	assertFields(t, "first John Smith", b.Org.User(t, str(doc["id"])), map[string]any{"CommunityNickname": "john.smith", "Name": "John Smith"})

	// Same local part in another domain: the nickname collides and gets the first free suffix
	// (a failed create, one query for the taken suffixes, the create again).
	second := simpleUser("john.smith@other.example.com", "John", "Smith")
	second["displayName"] = "John Smith"
	status, doc = b.within(t, 3, http.MethodPost, "/Users", second)
	if status != http.StatusCreated {
		t.Fatalf("POST second John Smith = %d; want 201; body %v", status, doc)
	}
	id := str(doc["id"])
	assertFields(t, "second John Smith", b.Org.User(t, id), map[string]any{"CommunityNickname": "john.smith1"})
	if got := adjusted(t, logs, id, "deduplicated"); !contains(got, "CommunityNickname") {
		t.Errorf("audit of the second John Smith lists deduplicated %v; want CommunityNickname", got)
	}

	// A rehire with the name of a deactivated colleague, who still holds the nickname.
	gone := b.insertUser(t, "jane.doe")
	if err := b.Emulator.Update("User", gone, map[string]any{"IsActive": false}); err != nil {
		t.Fatalf("deactivating jane.doe: %v", err)
	}
	doc = b.must(t, created, http.MethodPost, "/Users", simpleUser("jane.doe@acme.example.com", "Jane", "Doe"))
	assertFields(t, "rehired Jane Doe", b.Org.User(t, str(doc["id"])), map[string]any{"CommunityNickname": "jane.doe1"})

	// displayName filters and sorts read Name.
	b.assertMatch(t, "/Users", `displayName eq "John Smith"`, nil, b.Org.UserByUsername(t, "john.smith@acme.example.com"), id)
	list := b.must(t, ok200, http.MethodGet, filterPath("/Users", `displayName sw "J"`, "sortBy=displayName", "sortOrder=descending"), nil)
	var names []string
	for _, r := range resources(t, list) {
		names = append(names, str(r["displayName"]))
	}
	// The departed colleague, inserted without a first name, is named jane.doe.
	if want := []string{"John Smith", "John Smith", "jane.doe", "Jane Doe"}; strings.Join(names, "|") != strings.Join(want, "|") {
		t.Errorf("sortBy=displayName descending = %q; want %q", names, want)
	}
}

func TestConcurrentCreatesOfOneLocalPartAllSucceed(t *testing.T) {
	t.Parallel()
	b := startWith(t, harness.Options{Seats: 50})
	b.warm(t)
	const n = 8
	ids := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			status, doc := b.do(t, http.MethodPost, "/Users", simpleUser("sam.lee@d"+strconv.Itoa(i)+".example.com", "Sam", "Lee"))
			if status != http.StatusCreated {
				t.Errorf("concurrent POST #%d = %d; want 201; body %v", i, status, doc)
				return
			}
			ids[i] = str(doc["id"])
		}()
	}
	wg.Wait()
	seen := map[string]bool{}
	for _, id := range ids {
		if id == "" {
			continue
		}
		nick := str(b.Org.User(t, id)["CommunityNickname"])
		if rest, ok := strings.CutPrefix(nick, "sam.lee"); !ok || strings.Trim(rest, "0123456789") != "" || seen[nick] {
			t.Errorf("CommunityNickname %q: want sam.lee with a numeric suffix, unique", nick)
		}
		seen[nick] = true
	}
}

func TestMappedDisplayNameNicknameIsDeduplicated(t *testing.T) {
	t.Parallel()
	b := start(t, `
users:
  mapping:
    - {scim: displayName, salesforce: CommunityNickname}
`)
	b.warm(t)
	var ids []string
	for _, u := range []string{"ann.lee@acme.example.com", "ann.lee2@acme.example.com", "ann.lee3@acme.example.com"} {
		body := simpleUser(u, "Ann", "Lee")
		body["displayName"] = "Ann Lee"
		doc := b.must(t, created, http.MethodPost, "/Users", body)
		ids = append(ids, str(doc["id"]))
	}
	for i, want := range []string{"Ann Lee", "Ann Lee1", "Ann Lee2"} {
		assertFields(t, "Ann Lee #"+strconv.Itoa(i+1), b.Org.User(t, ids[i]), map[string]any{"CommunityNickname": want})
	}
	// A rename into a taken nickname is de-duplicated too.
	b.must(t, patched, http.MethodPatch, "/Users/"+ids[2], patch(op("replace", "displayName", "Ann Lee")))
	assertFields(t, "renamed Ann Lee", b.Org.User(t, ids[2]), map[string]any{"CommunityNickname": "Ann Lee3"})
	// Removing displayName derives the nickname again from userName, and answers with it.
	doc := b.must(t, ok200, http.MethodPatch, "/Users/"+ids[1], patch(op("remove", "displayName", nil)))
	assertFields(t, "Ann Lee after remove displayName", b.Org.User(t, ids[1]), map[string]any{"CommunityNickname": "ann.lee2"})
	if got := str(doc["displayName"]); got != "ann.lee2" {
		t.Errorf("PATCH remove displayName answered displayName %q; want the derived %q", got, "ann.lee2")
	}
}

func TestPicklistValuesAreNormalised(t *testing.T) {
	t.Parallel()
	b, logs := startLogged(t, "")
	b.warm(t)
	// Outcomes are sets where an org's real-size lists could hold a closer value than the
	// emulator's small ones (a bare "de" locale, a "de_DE" language); both must give one of them.
	tests := []struct {
		userName, language, locale, timezone string
		want                                 map[string][]string
	}{
		{"de@acme.example.com", "de-DE", "de", "Europe/Berlin", map[string][]string{"LanguageLocaleKey": {"de", "de_DE"}, "LocaleSidKey": {"de_DE", "de"}, "TimeZoneSidKey": {"Europe/Berlin"}}},
		{"fr@acme.example.com", "fr-FR", "fr", "US/Pacific", map[string][]string{"LanguageLocaleKey": {"fr", "fr_FR"}, "LocaleSidKey": {"fr_FR", "fr"}, "TimeZoneSidKey": {"America/Los_Angeles"}}},
		{"us@acme.example.com", "en-US,en;q=0.9", "en-us", "US/Eastern", map[string][]string{"LanguageLocaleKey": {"en_US"}, "LocaleSidKey": {"en_US"}, "TimeZoneSidKey": {"America/New_York"}}},
		{"hans@acme.example.com", "zh-Hans", "zh-Hans-CN", "UTC", map[string][]string{"LanguageLocaleKey": {"zh_CN"}, "LocaleSidKey": {"zh_CN"}, "TimeZoneSidKey": {"GMT", "UTC", "Etc/UTC", "Etc/GMT"}}},
		{"hant@acme.example.com", "zh-Hant", "zh-Hant-TW", "Asia/Calcutta", map[string][]string{"LanguageLocaleKey": {"zh_TW"}, "LocaleSidKey": {"zh_TW"}, "TimeZoneSidKey": {"Asia/Kolkata"}}},
		{"posix@acme.example.com", "ja_JP", "ja_JP.UTF-8", "Japan", map[string][]string{"LanguageLocaleKey": {"ja", "ja_JP"}, "LocaleSidKey": {"ja_JP"}, "TimeZoneSidKey": {"Asia/Tokyo"}}},
	}
	for _, tt := range tests {
		body := simpleUser(tt.userName, "P", "L")
		body["preferredLanguage"], body["locale"], body["timezone"] = tt.language, tt.locale, tt.timezone
		status, doc := b.within(t, 1, http.MethodPost, "/Users", body)
		if status != http.StatusCreated {
			t.Errorf("POST %s = %d; want 201; body %v", tt.userName, status, doc)
			continue
		}
		row := b.Org.User(t, str(doc["id"]))
		for field, want := range tt.want {
			if got := str(row[field]); !contains(want, got) {
				t.Errorf("%s: %s = %q; want one of %q", tt.userName, field, got, want)
			}
		}
		if got := adjusted(t, logs, str(doc["id"]), "defaulted"); len(got) != 0 {
			t.Errorf("%s: audit says defaulted %v; want nothing defaulted", tt.userName, got)
		}
	}

	// What matches nothing gets users.defaults, an audit line and the metric; never a 400.
	before := b.metric(t, `scim_bridge_defaulted_values_total{field="TimeZoneSidKey"}`)
	body := simpleUser("klingon@acme.example.com", "K", "L")
	body["preferredLanguage"], body["locale"], body["timezone"] = "tlh", "xx_YY", "Mars/Olympus_Mons"
	status, doc := b.within(t, 1, http.MethodPost, "/Users", body)
	if status != http.StatusCreated {
		t.Fatalf("POST with unknown picklist values = %d; want 201; body %v", status, doc)
	}
	id := str(doc["id"])
	assertFields(t, "defaulted user", b.Org.User(t, id), map[string]any{"LanguageLocaleKey": "en_US", "LocaleSidKey": "en_US", "TimeZoneSidKey": "America/Los_Angeles"})
	if got := adjusted(t, logs, id, "defaulted"); len(got) != 3 {
		t.Errorf("audit defaulted %v; want LanguageLocaleKey, LocaleSidKey, TimeZoneSidKey", got)
	}
	if after := b.metric(t, `scim_bridge_defaulted_values_total{field="TimeZoneSidKey"}`); after != before+1 {
		t.Errorf("scim_bridge_defaulted_values_total{field=TimeZoneSidKey} went %v → %v; want +1", before, after)
	}
	// An update too.
	b.must(t, patched, http.MethodPatch, "/Users/"+id, patch(op("replace", "timezone", "Europe/Atlantis")))
	assertFields(t, "defaulted on update", b.Org.User(t, id), map[string]any{"TimeZoneSidKey": "America/Los_Angeles"})
}

func TestStrictPicklistsRefuse(t *testing.T) {
	t.Parallel()
	b := start(t, "users: {strict_picklists: true}\n")
	b.warm(t)
	body := simpleUser("strict@acme.example.com", "S", "T")
	body["timezone"] = "Mars/Olympus_Mons"
	var status int
	var doc map[string]any
	if n := b.calls(func() { status, doc = b.do(t, http.MethodPost, "/Users", body) }); n != 0 {
		t.Errorf("refused create cost %d Salesforce calls; want 0", n)
	}
	assertError(t, "POST with an unknown time zone under strict_picklists", status, doc, http.StatusBadRequest, "invalidValue", "timezone")
	// A normalisable value is still taken.
	body["timezone"] = "US/Pacific"
	doc = b.must(t, created, http.MethodPost, "/Users", body)
	assertFields(t, "strict user", b.Org.User(t, str(doc["id"])), map[string]any{"TimeZoneSidKey": "America/Los_Angeles"})
}

func TestManagersAreResolved(t *testing.T) {
	t.Parallel()
	b, logs := startLogged(t, "")
	b.warm(t)
	boss := simpleUser("boss@acme.example.com", "Big", "Boss")
	boss["externalId"] = "ENTRA-OBJ-42"
	bossID := b.createUser(t, boss)

	withManager := func(userName string, manager any) map[string]any {
		u := simpleUser(userName, "E", "Mployee")
		u["schemas"] = []any{harness.UserURN, harness.EnterpriseURN}
		u[harness.EnterpriseURN] = map[string]any{"manager": manager}
		return u
	}
	tests := []struct {
		name    string
		manager any
		budget  int
		want    any // ManagerId; nil = unset
	}{
		{"by Salesforce id", map[string]any{"value": bossID}, 1, bossID},
		{"by 15-character id", map[string]any{"value": id15(bossID)}, 1, bossID},
		{"Entra bare string id", bossID, 1, bossID},
		{"by userName", map[string]any{"value": "boss@acme.example.com"}, 2, bossID},
		{"by externalId (FederationIdentifier)", map[string]any{"value": "ENTRA-OBJ-42"}, 2, bossID},
		{"unknown value", map[string]any{"value": "nobody-knows"}, 2, nil},
		{"unknown Salesforce id", map[string]any{"value": unknownUserID}, 3, nil},
	}
	before := b.metric(t, `scim_bridge_unresolved_references_total{attribute="manager"}`)
	for i, tt := range tests {
		status, doc := b.within(t, tt.budget, http.MethodPost, "/Users", withManager("emp"+strconv.Itoa(i)+"@acme.example.com", tt.manager))
		if status != http.StatusCreated {
			t.Errorf("%s: POST = %d; want 201; body %v", tt.name, status, doc)
			continue
		}
		row := b.Org.User(t, str(doc["id"]))
		if tt.want == nil {
			if str(row["ManagerId"]) != "" {
				t.Errorf("%s: ManagerId = %v; want unset", tt.name, row["ManagerId"])
			}
			if got := adjusted(t, logs, str(doc["id"]), "unresolved"); !contains(got, harness.EnterpriseURN+":manager") {
				t.Errorf("%s: audit unresolved %v; want the manager attribute", tt.name, got)
			}
		} else if !sameID(str(row["ManagerId"]), tt.want.(string)) {
			t.Errorf("%s: ManagerId = %v; want %v", tt.name, row["ManagerId"], tt.want)
		}
	}
	if after := b.metric(t, `scim_bridge_unresolved_references_total{attribute="manager"}`); after != before+2 {
		t.Errorf("scim_bridge_unresolved_references_total went %v → %v; want +2", before, after)
	}

	// Precedence: a FederationIdentifier beats another user's Username.
	fed := simpleUser("fed.holder@acme.example.com", "Fed", "Holder")
	fed["externalId"] = "shared.name@acme.example.com"
	fedID := b.createUser(t, fed)
	b.createUser(t, simpleUser("shared.name@acme.example.com", "Shared", "Name"))
	doc := b.must(t, created, http.MethodPost, "/Users", withManager("prec@acme.example.com", map[string]any{"value": "shared.name@acme.example.com"}))
	if row := b.Org.User(t, str(doc["id"])); !sameID(str(row["ManagerId"]), fedID) {
		t.Errorf("manager by a value that is one user's FederationIdentifier and another's Username: ManagerId = %v; want the FederationIdentifier holder %s", row["ManagerId"], fedID)
	}

	// An unresolved manager on update leaves ManagerId as it is (Entra's legacy PATCH forms).
	id := b.createUser(t, withManager("report@acme.example.com", map[string]any{"value": bossID}))
	status, doc := b.within(t, 2, http.MethodPatch, "/Users/"+id, patch(op("Replace", harness.EnterpriseURN+":manager", "someone-else@elsewhere.example")))
	if status != http.StatusOK && status != http.StatusNoContent {
		t.Fatalf("PATCH unresolved manager = %d; body %v", status, doc)
	}
	if row := b.Org.User(t, id); !sameID(str(row["ManagerId"]), bossID) {
		t.Errorf("ManagerId after an unresolved PATCH = %v; want unchanged %s", row["ManagerId"], bossID)
	}
	b.within(t, 1, http.MethodPatch, "/Users/"+id, patch(op("Remove", harness.EnterpriseURN+":manager", nil)))
	if row := b.Org.User(t, id); str(row["ManagerId"]) != "" {
		t.Errorf("ManagerId after Remove = %v; want unset", row["ManagerId"])
	}
}

func TestLengthsAndDerivedFields(t *testing.T) {
	t.Parallel()
	b, logs := startLogged(t, "")
	b.warm(t)

	long := strings.Repeat("Ω", 100)
	u := simpleUser("chris@acme.example.com", "Christopher", "Long")
	u["nickName"] = "Christopher"
	u["title"] = long
	u["schemas"] = []any{harness.UserURN, harness.EnterpriseURN}
	u[harness.EnterpriseURN] = map[string]any{"department": long}
	status, doc := b.within(t, 1, http.MethodPost, "/Users", u)
	if status != http.StatusCreated {
		t.Fatalf("POST long soft values = %d; body %v", status, doc)
	}
	id := str(doc["id"])
	assertFields(t, "truncated", b.Org.User(t, id), map[string]any{"Alias": "Christop", "Title": strings.Repeat("Ω", 80), "Department": strings.Repeat("Ω", 80)})
	if got := adjusted(t, logs, id, "truncated"); len(got) != 3 {
		t.Errorf("audit truncated %v; want Alias, Department, Title", got)
	}

	// Hard values are never truncated.
	for name, edit := range map[string]func(map[string]any){
		"userName": func(u map[string]any) { u["userName"] = strings.Repeat("a", 90) + "@acme.example.com" },
		"emails": func(u map[string]any) {
			u["emails"] = []any{map[string]any{"value": strings.Repeat("a", 130) + "@acme.example.com", "primary": true}}
		},
		"externalId": func(u map[string]any) { u["externalId"] = strings.Repeat("x", 600) },
	} {
		body := simpleUser("hard@acme.example.com", "H", "D")
		edit(body)
		status, doc := b.do(t, http.MethodPost, "/Users", body)
		assertError(t, "POST with a long "+name, status, doc, http.StatusBadRequest, "invalidValue", name)
	}

	// No familyName: displayName's last word, else userName's local part.
	room := map[string]any{"schemas": []any{harness.UserURN}, "userName": "room.4b@acme.example.com", "displayName": "Meeting Room 4B"}
	doc = b.must(t, created, http.MethodPost, "/Users", room)
	assertFields(t, "meeting room", b.Org.User(t, str(doc["id"])), map[string]any{"LastName": "4B", "Email": "room.4b@acme.example.com"})
	svc := map[string]any{"schemas": []any{harness.UserURN}, "userName": "svc-backup@acme.example.com"}
	doc = b.must(t, created, http.MethodPost, "/Users", svc)
	svcID := str(doc["id"])
	assertFields(t, "service account", b.Org.User(t, svcID), map[string]any{"LastName": "svc-backup"})

	// A PUT without emails (nor familyName) keeps Email and LastName.
	b.runUserSteps(t, svcID, []userStep{{
		name: "PUT without emails", method: http.MethodPut,
		body: map[string]any{"schemas": []any{harness.UserURN}, "userName": "svc-backup@acme.example.com", "title": "Robot"},
		want: map[string]any{"Email": "svc-backup@acme.example.com", "LastName": "svc-backup", "Title": "Robot"},
	}})
}

func TestRequiredFamilyNameRestoresTheRefusal(t *testing.T) {
	t.Parallel()
	b := start(t, `
users:
  mapping:
    - {scim: name.familyName, required: true}
`)
	b.warm(t)
	status, doc := b.do(t, http.MethodPost, "/Users", map[string]any{"schemas": []any{harness.UserURN}, "userName": "x@acme.example.com", "displayName": "X Y"})
	assertError(t, "POST without familyName (required: true)", status, doc, http.StatusBadRequest, "invalidValue", "familyName")
}

func TestOneFieldTwoAttributes(t *testing.T) {
	t.Parallel()
	b := start(t, "")
	b.warm(t)
	u := simpleUser("gmp@acme.example.com", "Gina", "Put")
	u["nickName"] = "gina"
	id := b.createUser(t, u)

	// GET-modify-PUT: the echoed extension alias is unchanged, the new nickName wins.
	doc := b.must(t, ok200, http.MethodGet, "/Users/"+id, nil)
	if ext, _ := doc[harness.SalesforceURN].(map[string]any); str(ext["alias"]) != "gina" {
		t.Fatalf("GET echoes alias %v; want gina", ext["alias"])
	}
	doc["nickName"] = "gg"
	status, got := b.within(t, 2, http.MethodPut, "/Users/"+id, doc)
	if status != http.StatusOK {
		t.Fatalf("GET-modify-PUT = %d; body %v", status, got)
	}
	assertFields(t, "after GET-modify-PUT of nickName", b.Org.User(t, id), map[string]any{"Alias": "gg"})
	if got["nickName"] != "gg" {
		t.Errorf("PUT answered nickName %v; want gg", got["nickName"])
	}

	// Both changed, to different values: a 400 naming both, nothing written.
	doc["nickName"] = "one"
	doc[harness.SalesforceURN].(map[string]any)["alias"] = "two"
	status, got = b.do(t, http.MethodPut, "/Users/"+id, doc)
	assertError(t, "PUT with nickName and alias disagreeing", status, got, http.StatusBadRequest, "invalidValue", "nickName")
	if !strings.Contains(str(got["detail"]), "alias") {
		t.Errorf("detail %q does not name alias", got["detail"])
	}
	assertFields(t, "after the refused PUT", b.Org.User(t, id), map[string]any{"Alias": "gg"})
}

func TestRemovingDerivedAttributesDerivesThemAgain(t *testing.T) {
	t.Parallel()
	b := start(t, "")
	b.warm(t)
	u := simpleUser("grace.hopper@acme.example.com", "Grace", "Hopper")
	u["nickName"] = "amazing"
	u["displayName"] = "Amazing Grace"
	id := b.createUser(t, u)

	status, doc := b.within(t, 2, http.MethodPatch, "/Users/"+id, patch(op("remove", "nickName", nil)))
	if status != http.StatusOK {
		t.Fatalf("PATCH remove nickName = %d; body %v", status, doc)
	}
	assertFields(t, "after remove nickName", b.Org.User(t, id), map[string]any{"Alias": "ghopper"})
	if doc["nickName"] != "ghopper" {
		t.Errorf("PATCH remove nickName answered nickName %v; want the derived ghopper", doc["nickName"])
	}
	status, doc = b.within(t, 1, http.MethodPatch, "/Users/"+id, patch(op("remove", "displayName", nil)))
	if status != http.StatusOK || doc["displayName"] != "Grace Hopper" {
		t.Errorf("PATCH remove displayName = %d, displayName %v; want 200 and the Name %q", status, doc["displayName"], "Grace Hopper")
	}
}

func TestInvisibleCharactersAreRefused(t *testing.T) {
	t.Parallel()
	b := start(t, "")
	b.warm(t)
	before := b.userCount()
	for name, tt := range map[string]struct {
		edit    func(map[string]any)
		mention string
	}{
		"NUL in userName":        {func(u map[string]any) { u["userName"] = "nul\u0000@acme.example.com" }, "userName"},
		"bidi override in email": {func(u map[string]any) { u["emails"] = []any{map[string]any{"value": "a\u202e@acme.example.com"}} }, "emails"},
		"isolate in familyName":  {func(u map[string]any) { u["name"] = map[string]any{"familyName": "Evil\u2066"} }, "name.familyName"},
		"zero-width in nickName": {func(u map[string]any) { u["nickName"] = "zw\u200bsp" }, "nickName"},
		"U+FFFD in displayName":  {func(u map[string]any) { u["displayName"] = "Broken \ufffd" }, "displayName"},
		"C1 control in given":    {func(u map[string]any) { u["name"] = map[string]any{"givenName": "A\u0085", "familyName": "B"} }, "name.givenName"},
	} {
		body := simpleUser("inv@acme.example.com", "In", "Visible")
		tt.edit(body)
		status, doc := b.do(t, http.MethodPost, "/Users", body)
		assertError(t, "POST ("+name+")", status, doc, http.StatusBadRequest, "invalidValue", tt.mention)
	}
	if got := b.userCount(); got != before {
		t.Errorf("refused creates left %d users; want %d", got, before)
	}
	id := b.createUser(t, simpleUser("ok.chars@acme.example.com", "Ok", "Chars"))
	status, doc := b.do(t, http.MethodPatch, "/Users/"+id, patch(op("replace", "name.givenName", "Bad\u0007Bell")))
	assertError(t, "PATCH givenName with BEL", status, doc, http.StatusBadRequest, "invalidValue", "name.givenName")

	// Every script, accents and right-to-left text are names.
	for i, n := range [][2]string{{"José", "Núñez"}, {"小明", "王"}, {"محمد", "علي"}, {"דוד", "כהן"}, {"Ngọc", "Trâm"}, {"نرگس", "می\u200cخواهم"}} {
		body := simpleUser("script"+strconv.Itoa(i)+"@acme.example.com", n[0], n[1])
		body["displayName"] = n[0] + " " + n[1]
		doc := b.must(t, created, http.MethodPost, "/Users", body)
		assertFields(t, n[0], b.Org.User(t, str(doc["id"])), map[string]any{"FirstName": n[0], "LastName": n[1]})
	}
}

func TestResourcePathsIgnoreCaseAndTrailingSlash(t *testing.T) {
	t.Parallel()
	b := start(t, "")
	b.warm(t)
	doc := b.must(t, created, http.MethodPost, "/users/", simpleUser("paths@acme.example.com", "Pa", "Ths"))
	id := str(doc["id"])
	for _, p := range []string{"/users", "/Users/", "/USERS/" + id + "/", "/users/" + id, "/groups/", "/serviceproviderconfig/", "/schemas", "/resourcetypes/"} {
		status, doc := b.do(t, http.MethodGet, p, nil)
		if status != http.StatusOK {
			t.Errorf("GET %s = %d; want 200; body %v", p, status, doc)
		}
	}
	b.must(t, patched, http.MethodPatch, "/users/"+id+"/", patch(op("replace", "title", "Slash")))
	assertFields(t, "after PATCH through /users/{id}/", b.Org.User(t, id), map[string]any{"Title": "Slash"})
}
