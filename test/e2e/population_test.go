package e2e

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/scim-bridge/scim-bridge/test/harness"
)

// The "real directory" population (issue 9): 300 generated users with what real directories hold —
// duplicate display names, local parts shared across domains, rehires with the nickname of a
// deactivated colleague, regional and unknown languages, locales and time zones, missing surnames,
// long nicknames, managers given by id, by userName and by a value nobody has, names in Latin with
// accents, CJK, Arabic and Hebrew — pushed once in Entra's dialect and once in Okta's. Every user
// must be created, none refused, and every field must be what the normalisation rules say.

const populationSize = 300

// A picklist outcome is acceptable when it is one of these (the org's lists may be the emulator's
// small ones or real-size ones; both must give one of them). "default" is users.defaults.
var (
	populationLanguages = []struct {
		sent string
		want []string
	}{
		{"de-DE", []string{"de", "de_DE"}}, {"fr-FR", []string{"fr", "fr_FR"}}, {"en-US,en;q=0.9", []string{"en_US"}},
		{"zh-Hans", []string{"zh_CN"}}, {"zh-Hant", []string{"zh_TW"}}, {"ja-JP", []string{"ja", "ja_JP"}},
		{"pt-BR", []string{"pt_BR"}}, {"tlh", []string{"en_US"}}, {"EN-us", []string{"en_US"}},
	}
	populationLocales = []struct {
		sent string
		want []string
	}{
		{"fr", []string{"fr_FR", "fr"}}, {"de", []string{"de_DE", "de"}}, {"en-US", []string{"en_US"}},
		{"ja_JP.UTF-8", []string{"ja_JP"}}, {"zh-Hant-TW", []string{"zh_TW"}}, {"xx-YY", []string{"en_US"}},
		{"de_CH", []string{"de_CH"}},
	}
	populationZones = []struct {
		sent string
		want []string
	}{
		{"US/Pacific", []string{"America/Los_Angeles"}}, {"US/Eastern", []string{"America/New_York"}},
		{"Asia/Calcutta", []string{"Asia/Kolkata"}}, {"UTC", []string{"GMT", "UTC", "Etc/UTC", "Etc/GMT"}}, {"Japan", []string{"Asia/Tokyo"}},
		{"europe/paris", []string{"Europe/Paris"}}, {"Mars/Olympus_Mons", []string{"America/Los_Angeles"}},
	}
	populationNames = [][2]string{
		{"José", "Núñez"}, {"Zoë", "Åström"}, {"François", "Lefèvre"}, {"Björn", "Østergård"}, {"John", "Smith"},
		{"小明", "王"}, {"花子", "山田"}, {"محمد", "علي"}, {"فاطمة", "الزهراء"}, {"דוד", "כהן"}, {"שרה", "לוי"},
		{"Ngọc", "Trâm"}, {"Łukasz", "Wróbel"}, {"Siobhán", "Ó Briain"}, {"Ana", "Silva"},
	}
	populationDomains = []string{"acme.example.com", "contractors.example.com", "emea.example.com", "apac.example.com", "labs.example.com", "sub.example.org"}
)

// person is one generated directory entry and what Salesforce must hold for it.
type person struct {
	userName, local     string
	given, family, disp string // family "" = missing surname; disp "" = no displayName
	nick                string
	language, locale    int // indexes into the tables above
	zone                int
	manager             int // index of the manager; -1 = none
	managerBy           string
}

func population() []person {
	people := make([]person, populationSize)
	for i := range people {
		n := populationNames[i%len(populationNames)]
		p := person{
			local:    fmt.Sprintf("user%02d", i%50),
			given:    n[0],
			family:   n[1],
			language: i % len(populationLanguages),
			locale:   (i / 2) % len(populationLocales),
			zone:     (i / 3) % len(populationZones),
			manager:  -1,
		}
		p.userName = p.local + "@" + populationDomains[(i/50)%len(populationDomains)]
		// Display names repeat: every fourth person of a name pool entry shares one.
		p.disp = n[0] + " " + n[1]
		if i%7 == 0 {
			p.family = ""
			p.disp = "Room " + n[1]
			if i%14 == 0 {
				p.disp = ""
			}
		}
		if i%5 == 0 {
			p.nick = "Maximilian" + n[0]
		}
		if i >= 20 {
			switch i % 4 {
			case 1:
				p.manager, p.managerBy = i%20, "id"
			case 2:
				p.manager, p.managerBy = i%20, "userName"
			case 3:
				p.managerBy = "unknown"
			}
		}
		people[i] = p
	}
	return people
}

// wantLastName is LastName: familyName, else displayName's last word, else userName's local part.
func (p person) wantLastName() string {
	if p.family != "" {
		return p.family
	}
	if words := strings.Fields(p.disp); len(words) > 0 {
		return words[len(words)-1]
	}
	return p.local
}

func (p person) body() map[string]any {
	name := map[string]any{"givenName": p.given}
	if p.family != "" {
		name["familyName"] = p.family
	}
	u := map[string]any{
		"schemas":             []any{harness.UserURN, harness.EnterpriseURN},
		"userName":            p.userName,
		"name":                name,
		"emails":              []any{map[string]any{"value": p.userName, "type": "work", "primary": true}},
		"preferredLanguage":   populationLanguages[p.language].sent,
		"locale":              populationLocales[p.locale].sent,
		"timezone":            populationZones[p.zone].sent,
		"active":              true,
		harness.EnterpriseURN: map[string]any{"department": "Dept " + p.local},
	}
	if p.disp != "" {
		u["displayName"] = p.disp
	}
	if p.nick != "" {
		u["nickName"] = p.nick
	}
	return u
}

// managerValue is what the IdP sends as manager.value, given the ids created so far.
func (p person) managerValue(people []person, ids []string) string {
	switch p.managerBy {
	case "id":
		return ids[p.manager]
	case "userName":
		return people[p.manager].userName
	case "unknown":
		return "ghost-" + p.local + "@nowhere.example.net"
	}
	return ""
}

// rehires deactivates one earlier colleague per name in Salesforce, holding the nickname the
// population's first user of that local part would get.
func (b *bridge) rehires(t *testing.T) map[string]bool {
	t.Helper()
	held := map[string]bool{}
	for i := 0; i < 10; i++ {
		local := fmt.Sprintf("user%02d", i)
		id := b.insertUser(t, "gone"+local)
		if err := b.Emulator.Update("User", id, map[string]any{"IsActive": false, "CommunityNickname": local}); err != nil {
			t.Fatalf("deactivating the departed %s: %v", local, err)
		}
		held[local] = true
	}
	return held
}

func TestRealDirectoryPopulation(t *testing.T) {
	t.Parallel()
	for _, dialect := range []string{"entra", "okta"} {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			b := startWith(t, harness.Options{Seats: 2 * populationSize})
			b.warm(t)
			held := b.rehires(t)
			people := population()
			ids := make([]string, len(people))
			refused := 0
			for i, p := range people {
				body := p.body()
				if dialect == "okta" && p.managerBy != "" {
					body[harness.EnterpriseURN].(map[string]any)["manager"] = map[string]any{"value": p.managerValue(people, ids)}
				}
				if dialect == "entra" {
					// Entra matches before it creates.
					b.must(t, ok200, http.MethodGet, filterPath("/Users", fmt.Sprintf("userName eq %q", p.userName)), nil)
				}
				status, doc := b.do(t, http.MethodPost, "/Users", body)
				if status != http.StatusCreated {
					refused++
					t.Errorf("%s: POST %s = %d; body %v", dialect, p.userName, status, doc)
					continue
				}
				ids[i] = str(doc["id"])
				if want := strings.TrimSpace(p.given + " " + p.wantLastName()); doc["displayName"] != want {
					t.Errorf("%s: %s displayName = %v; want the Name %q", dialect, p.userName, doc["displayName"], want)
				}
				if dialect == "entra" && p.managerBy != "" {
					// Entra sets the manager afterwards, as a bare string, in its legacy PATCH form.
					status, doc := b.do(t, http.MethodPatch, "/Users/"+ids[i], patch(op("Add", harness.EnterpriseURN+":manager", p.managerValue(people, ids))))
					if status != http.StatusOK && status != http.StatusNoContent {
						refused++
						t.Errorf("%s: PATCH manager of %s = %d; body %v", dialect, p.userName, status, doc)
					}
				}
				if dialect == "okta" && i%10 == 0 {
					// Okta pushes profile updates as a full PUT with the id in the body.
					put := p.body()
					put["id"], put["title"] = ids[i], "Updated"
					if p.managerBy != "" {
						put[harness.EnterpriseURN].(map[string]any)["manager"] = map[string]any{"value": p.managerValue(people, ids)}
					}
					if status, doc := b.do(t, http.MethodPut, "/Users/"+ids[i], put); status != http.StatusOK {
						refused++
						t.Errorf("%s: PUT %s = %d; body %v", dialect, p.userName, status, doc)
					}
				}
			}
			if refused > 0 {
				t.Fatalf("%s: %d of %d writes refused; want none", dialect, refused, len(people))
			}
			b.checkPopulation(t, people, ids, held)
		})
	}
}

// checkPopulation compares every User in Salesforce with what the rules say.
func (b *bridge) checkPopulation(t *testing.T, people []person, ids []string, held map[string]bool) {
	t.Helper()
	firstOf := map[string]bool{} // local parts whose first user got the bare nickname
	suffixed := 0
	nicknames := map[string]string{}
	for _, u := range b.Emulator.List("User") {
		nick := strings.ToLower(str(u["CommunityNickname"]))
		if other, dup := nicknames[nick]; dup {
			t.Errorf("CommunityNickname %q held by %s and %s", nick, other, str(u["Id"]))
		}
		nicknames[nick] = str(u["Id"])
	}
	oneOf := func(what, got string, want []string) {
		if !slices.Contains(want, got) {
			t.Errorf("%s = %q; want one of %q", what, got, want)
		}
	}
	for i, p := range people {
		row := b.Org.User(t, ids[i])
		what := p.userName
		assertFields(t, what, row, map[string]any{
			"Username": p.userName, "FirstName": p.given, "LastName": p.wantLastName(), "Email": p.userName,
			"Department": "Dept " + p.local, "IsActive": true,
		})
		alias := str(row["Alias"])
		if p.nick != "" && alias != string([]rune(p.nick)[:8]) {
			t.Errorf("%s: Alias = %q; want nickName truncated to %q", what, alias, string([]rune(p.nick)[:8]))
		}
		assertAlias(t, row)
		nick := str(row["CommunityNickname"])
		rest, ok := strings.CutPrefix(nick, p.local)
		switch {
		case !ok || strings.Trim(rest, "0123456789") != "":
			t.Errorf("%s: CommunityNickname = %q; want %q with an optional numeric suffix", what, nick, p.local)
		case rest == "" && (held[p.local] || firstOf[p.local]):
			t.Errorf("%s: CommunityNickname = %q, which a colleague already holds", what, nick)
		case rest == "":
			firstOf[p.local] = true
		default:
			suffixed++
		}
		oneOf(what+" LanguageLocaleKey", str(row["LanguageLocaleKey"]), populationLanguages[p.language].want)
		oneOf(what+" LocaleSidKey", str(row["LocaleSidKey"]), populationLocales[p.locale].want)
		oneOf(what+" TimeZoneSidKey", str(row["TimeZoneSidKey"]), populationZones[p.zone].want)
		switch p.managerBy {
		case "id", "userName":
			if !sameID(str(row["ManagerId"]), ids[p.manager]) {
				t.Errorf("%s: ManagerId = %v; want %s (manager given by %s)", what, row["ManagerId"], ids[p.manager], p.managerBy)
			}
		default:
			if str(row["ManagerId"]) != "" {
				t.Errorf("%s: ManagerId = %v; want unset (manager %s)", what, row["ManagerId"], p.managerBy)
			}
		}
	}
	// 50 local parts, six users each, ten of them held by departed colleagues: every user but the
	// first of each free local part needs a suffix.
	if want := len(people) - 50 + len(held); suffixed != want {
		t.Errorf("%d nicknames de-duplicated; want %d", suffixed, want)
	}
}
