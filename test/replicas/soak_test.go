package replicas

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/scim-bridge/scim-bridge/salesforce/emulator"
	"github.com/scim-bridge/scim-bridge/test/harness"
)

// soakOpsEnv scales TestFaultedReplicasLoseNothing: the number of SCIM operations (default 240,
// bounded for CI; docs/reliability.md records a 7,400-operation run).
const soakOpsEnv = "REPLICAS_SOAK_OPS"

// chaos injects, into a fraction of the versioned REST calls, one of the failures Salesforce or the
// network in front of it produce (through the emulator's own faults, so they look like the real
// ones): a 500 or 503 with Salesforce's JSON, a gateway's HTML page, a connection dropped before the
// call is carried out, one dropped after it was carried out (the answer is lost), and
// UNABLE_TO_LOCK_ROW.
type chaos struct {
	rate    float64
	on      atomic.Bool
	calls   atomic.Int64
	faulted atomic.Int64
}

var chaosFaults = []emulator.Fault{
	{Status: 500},
	{Status: 503},
	{HTML: true},
	{DropConnection: true},
	{DropConnection: true, AfterApply: true},
	{ErrorCode: "UNABLE_TO_LOCK_ROW"},
}

func (c *chaos) wrap(e *emulator.Emulator, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c.on.Load() && strings.HasPrefix(r.URL.Path, "/services/data/v") {
			c.calls.Add(1)
			if rand.Float64() < c.rate {
				c.faulted.Add(1)
				f := chaosFaults[rand.IntN(len(chaosFaults))]
				f.Method, f.PathPattern, f.Times = r.Method, r.URL.Path, 1
				e.InjectFault(f)
			}
		}
		next.ServeHTTP(w, r)
	})
}

// soakUser is what the IdP believes about one user: the outcome of its last successful write.
type soakUser struct {
	userName, id, title string
	active, member      bool
}

// Two replicas behind a "load balancer" (each request to either) while about a fifth of all
// Salesforce calls fail. An IdP-like client repeats every operation until it gets a definite
// answer, as IdPs do. Afterwards, with the faults off, Salesforce must hold exactly what the
// IdP believes: no user lost or created twice, every attribute, active state and membership as
// last written; and every read during the run showed the IdP's last successful write.
func TestFaultedReplicasLoseNothing(t *testing.T) {
	t.Parallel()
	ops := 240
	if v, err := strconv.Atoi(os.Getenv(soakOpsEnv)); err == nil && v > 0 {
		ops = v
	}
	const workers = 6
	c := &chaos{rate: 0.2}
	f := startFleetWith(t, 2, nil, "provisioning:\n  deprovision_limit: {max: 1000000, window: 1h}\n", c.wrap)
	gid := f.replicas[0].groupID(t, "Analytics Viewer")

	c.on.Store(true)
	start := time.Now()
	var requests, retried atomic.Int64
	// send repeats one request, to either replica, until the answer is definite (not 5xx or 429).
	send := func(t *testing.T, method, path string, body any) harness.Response {
		for attempt := 1; ; attempt++ {
			requests.Add(1)
			a := f.replicas[rand.IntN(len(f.replicas))].do(t, method, path, body)
			if a.Status != 0 && a.Status < 500 && a.Status != http.StatusTooManyRequests {
				return a
			}
			if attempt == 50 {
				t.Errorf("%s %s still failing after %d attempts: %d %s", method, path, attempt, a.Status, a.Raw)
				return a
			}
			retried.Add(1)
		}
	}
	users := make([][]*soakUser, workers)
	var wg sync.WaitGroup
	for w := range workers {
		for i := range max(5, ops/workers/40) {
			users[w] = append(users[w], &soakUser{userName: fmt.Sprintf("soak-%d-%d@example.com", w, i), active: true})
		}
		wg.Go(func() {
			for n := range ops / workers {
				u := users[w][rand.IntN(len(users[w]))]
				if t.Failed() {
					return
				}
				switch {
				case u.id == "":
					a := send(t, "POST", "/Users", map[string]any{
						"schemas":  []string{"urn:ietf:params:scim:schemas:core:2.0:User"},
						"userName": u.userName, "active": true,
						"name":   map[string]any{"givenName": "Soak", "familyName": "Test"},
						"emails": []any{map[string]any{"value": u.userName, "type": "work", "primary": true}},
					})
					switch a.Status {
					case http.StatusCreated:
						u.id, _ = a.Doc["id"].(string)
					case http.StatusConflict: // an earlier attempt was created; its answer was lost
						found := send(t, "GET", "/Users?filter="+url.QueryEscape(fmt.Sprintf(`userName eq %q`, u.userName)), nil)
						if rs, _ := found.Doc["Resources"].([]any); len(rs) == 1 {
							u.id, _ = rs[0].(map[string]any)["id"].(string)
						}
					}
					if u.id == "" {
						t.Errorf("creating %s: %d %s", u.userName, a.Status, a.Raw)
						return
					}
				case n%4 == 0:
					title := fmt.Sprintf("t%d-%d", w, n)
					if a := send(t, "PATCH", "/Users/"+u.id, patchOp("replace", "title", title)); a.Status/100 == 2 {
						u.title = title
					} else {
						t.Errorf("PATCH title: %d %s", a.Status, a.Raw)
					}
				case n%4 == 1:
					if a := send(t, "PATCH", "/Users/"+u.id, patchOp("replace", "active", !u.active)); a.Status/100 == 2 {
						u.active = !u.active
					} else {
						t.Errorf("PATCH active: %d %s", a.Status, a.Raw)
					}
				case n%4 == 2:
					var a harness.Response
					if u.member {
						a = send(t, "PATCH", "/Groups/"+gid, patchOp("remove", fmt.Sprintf("members[value eq %q]", u.id), nil))
					} else {
						a = send(t, "PATCH", "/Groups/"+gid, patchOp("add", "members", []any{map[string]any{"value": u.id}}))
					}
					if a.Status/100 == 2 {
						u.member = !u.member
					} else {
						t.Errorf("PATCH members: %d %s", a.Status, a.Raw)
					}
				default:
					a := send(t, "GET", "/Users/"+u.id, nil)
					checkRead(t, u, gid, a)
				}
			}
		})
	}
	wg.Wait()
	c.on.Store(false)
	elapsed := time.Since(start)

	// Salesforce holds exactly what the IdP believes.
	byName := map[string][]map[string]any{}
	for _, row := range f.emu.List("User") {
		if name, _ := row["Username"].(string); strings.HasPrefix(name, "soak-") {
			byName[name] = append(byName[name], row)
		}
	}
	assigned := map[string]int{}
	for _, row := range f.emu.List("PermissionSetAssignment") {
		if row["PermissionSetId"] == gid {
			assigned[row["AssigneeId"].(string)]++
		}
	}
	total := 0
	for _, list := range users {
		for _, u := range list {
			if u.id == "" {
				continue
			}
			total++
			rows := byName[u.userName]
			if len(rows) != 1 {
				t.Errorf("%s: %d users in Salesforce; want exactly 1", u.userName, len(rows))
				continue
			}
			row := rows[0]
			if row["Id"] != u.id {
				t.Errorf("%s: Salesforce id %v; the IdP holds %s", u.userName, row["Id"], u.id)
			}
			if title, _ := row["Title"].(string); title != u.title {
				t.Errorf("%s: Title %q; want the last written %q", u.userName, title, u.title)
			}
			if row["IsActive"] != u.active {
				t.Errorf("%s: IsActive %v; want %v", u.userName, row["IsActive"], u.active)
			}
			if want := map[bool]int{true: 1, false: 0}[u.member]; assigned[u.id] != want {
				t.Errorf("%s: %d assignments to the group; want %d", u.userName, assigned[u.id], want)
			}
		}
	}
	rate := float64(c.faulted.Load()) / float64(max(c.calls.Load(), 1))
	t.Logf("%d SCIM operations (%d HTTP requests, %d repeated after a 5xx/429) on 2 replicas in %s; %d of %d Salesforce calls faulted (%.1f%%); %d users checked",
		ops, requests.Load(), retried.Load(), elapsed.Round(time.Millisecond), c.faulted.Load(), c.calls.Load(), 100*rate, total)
	if rate < 0.1 || c.faulted.Load() < 20 {
		t.Errorf("only %.1f%% of calls faulted (%d); the run proves little", 100*rate, c.faulted.Load())
	}
}

// checkRead compares a user read during the run with the IdP's last successful writes.
func checkRead(t *testing.T, u *soakUser, gid string, a harness.Response) {
	t.Helper()
	if a.Status != http.StatusOK {
		t.Errorf("GET %s: %d %s", u.userName, a.Status, a.Raw)
		return
	}
	if title, _ := a.Doc["title"].(string); title != u.title {
		t.Errorf("GET %s: title %q; want the last written %q", u.userName, title, u.title)
	}
	if a.Doc["active"] != u.active {
		t.Errorf("GET %s: active %v; want %v", u.userName, a.Doc["active"], u.active)
	}
	member := false
	groups, _ := a.Doc["groups"].([]any)
	for _, g := range groups {
		if m, _ := g.(map[string]any); m["value"] == gid {
			member = true
		}
	}
	if member != u.member {
		t.Errorf("GET %s: member of the group %v; want %v", u.userName, member, u.member)
	}
}

// Overwrite mode under the same faults: round after round, two replicas receive concurrent complete
// replaces of one group, each repeated by its IdP client until it succeeds; the group then holds
// exactly one of the two sets.
func TestFaultedReplicasReplaceGroupsExactly(t *testing.T) {
	t.Parallel()
	c := &chaos{rate: 0.2}
	f := startFleetWith(t, 2, nil, "provisioning:\n  permission_sets: overwrite\n", c.wrap)
	race := prepareReplaceRace(t, f, "owf")
	// until repeats a request on r until it succeeds, as an IdP does after a 5xx or 429, and
	// returns the last answer: a 2xx, any other answer below 500 at once, a 5xx or 429 after 50
	// attempts.
	until := func(r *replica, method, path string, body any) harness.Response {
		for attempt := 1; ; attempt++ {
			ans := r.do(t, method, path, body)
			if ans.Status/100 == 2 || (ans.Status != 0 && ans.Status < 500 && ans.Status != http.StatusTooManyRequests) || attempt == 50 {
				return ans
			}
		}
	}
	c.on.Store(true)
	const rounds = 20
	race.run(t, rounds, until)
	c.on.Store(false)
	t.Logf("%d rounds; %d of %d Salesforce calls faulted", rounds, c.faulted.Load(), c.calls.Load())
	if c.faulted.Load() < 5 {
		t.Errorf("only %d calls faulted; the run proves little", c.faulted.Load())
	}
}
