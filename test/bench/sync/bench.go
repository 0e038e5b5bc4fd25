package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/scim-bridge/scim-bridge/salesforce/emulator"
)

// options are the command's flags.
type options struct {
	users, concurrency, bulkUsers, gets, listUsers, listCount int
	latency                                                   time.Duration
	batchWindow                                               string
	scenarios                                                 string
	logLevel                                                  string
	cpuProfile                                                string
}

func runBench(args []string, out io.Writer) error {
	var o options
	fs := flag.NewFlagSet("sync", flag.ContinueOnError)
	fs.IntVar(&o.users, "users", 400, "users per initial sync (Entra-style and Okta-style)")
	fs.IntVar(&o.concurrency, "concurrency", 8, "SCIM requests in flight, as IdPs send them")
	fs.DurationVar(&o.latency, "latency", 150*time.Millisecond, "added latency of every Salesforce API call")
	fs.IntVar(&o.bulkUsers, "bulk-users", 400, "users created through BulkRequests of 100 operations")
	fs.IntVar(&o.gets, "gets", 3000, "GET /Users/{id} requests for the CPU comparison (no added latency)")
	fs.IntVar(&o.listUsers, "list-users", 20000, "users in the org for the full listing (0 = skip)")
	fs.IntVar(&o.listCount, "list-count", 200, "count per page of the full listing")
	fs.StringVar(&o.batchWindow, "batch-window", "", "salesforce.batch_window for the bridge (\"\" = the default)")
	fs.StringVar(&o.scenarios, "run", "entra,okta,bulk,get,list", "scenarios to run, comma-separated")
	fs.StringVar(&o.logLevel, "log-level", "info", "the bridge's SCIM_BRIDGE_LOG_LEVEL (logs are discarded)")
	fs.StringVar(&o.cpuProfile, "bridge-cpuprofile", "", "write the bridge process's CPU profile to this file")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	r, err := newRig(o)
	if err != nil {
		return err
	}
	defer r.close()
	fmt.Fprintf(out, "scim-bridge sync benchmark: %d users at concurrency %d, %v per Salesforce call, batch_window %q\n\n",
		o.users, o.concurrency, o.latency, o.batchWindow)
	for _, s := range splitList(o.scenarios) {
		var err error
		switch s {
		case "entra":
			err = r.initialSync(out, "Entra-style initial sync", entraUser)
		case "okta":
			err = r.initialSync(out, "Okta-style initial sync", oktaUser)
		case "bulk":
			err = r.bulkCreate(out)
		case "get":
			err = r.cpuPerGet(out)
		case "list":
			err = r.fullListing(out)
		default:
			err = fmt.Errorf("unknown scenario %q", s)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", s, err)
		}
	}
	rss, peak := r.bridge.memory()
	fmt.Fprintf(out, "\nbridge RSS at the end %.0f MiB, peak %.0f MiB\n", rss, peak)
	return nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range bytes.Split([]byte(s), []byte(",")) {
		if t := string(bytes.TrimSpace(p)); t != "" {
			out = append(out, t)
		}
	}
	return out
}

// rig is the emulator (in this process, behind an adjustable latency), the bridge (a child
// process) and an HTTP client.
type rig struct {
	o       options
	emu     *emulator.Emulator
	emuSrv  *http.Server
	latency atomic.Int64 // nanoseconds added to each /services/data call
	bridge  *child
	token   string
	client  *http.Client
	dir     string
	seq     atomic.Int64 // user numbers handed out
	groups  []string
}

const benchToken = "bench-token-0123456789abcdef0123"

func newRig(o options) (*rig, error) {
	r := &rig{o: o, token: benchToken, client: &http.Client{
		Timeout:   2 * time.Minute,
		Transport: &http.Transport{MaxIdleConnsPerHost: 64},
	}}
	seed := emulator.DefaultSeed()
	for i := range seed.Licenses {
		seed.Licenses[i].TotalLicenses = 10_000_000
	}
	cfg := emulator.Config{
		ClientID: "bench-client", ClientSecret: "bench-secret-0123456789", RefreshToken: "5Aep-bench-refresh-0123456789",
		APILimit: 1_000_000_000, Seed: seed,
		Quirks: emulator.Quirks{SecondResolutionTimestamps: true},
	}
	emu, err := emulator.New(cfg)
	if err != nil {
		return nil, err
	}
	r.emu = emu
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	r.emuSrv = &http.Server{Handler: r.withLatency(emu.Handler()), ReadHeaderTimeout: 10 * time.Second, ErrorLog: log.New(io.Discard, "", 0)}
	go func() { _ = r.emuSrv.Serve(ln) }()

	r.dir, err = os.MkdirTemp("", "scim-bridge-bench-")
	if err != nil {
		r.close()
		return nil, err
	}
	conf := fmt.Sprintf(`auth:
  tokens: [{name: bench, token: %q}]
salesforce:
  url: %q
  client_id: %q
  client_secret: %q
  refresh_token: %q
`, r.token, "http://"+ln.Addr().String(), cfg.ClientID, cfg.ClientSecret, cfg.RefreshToken)
	if o.batchWindow != "" {
		conf += fmt.Sprintf("  batch_window: %s\n", o.batchWindow)
	}
	conf += "groups:\n  allow_create: true\n"
	confFile := filepath.Join(r.dir, "bridge.yaml")
	if err := os.WriteFile(confFile, []byte(conf), 0o600); err != nil {
		r.close()
		return nil, err
	}
	r.bridge, err = startChild("bridge", "BENCH_SYNC_CONFIG="+confFile, "SCIM_BRIDGE_LOG_LEVEL="+o.logLevel, "BENCH_SYNC_CPUPROFILE="+o.cpuProfile)
	if err != nil {
		r.close()
		return nil, err
	}
	for i := range 3 {
		g, _, err := r.do(r.bridge.base, "POST", "/Groups", map[string]any{
			"schemas":     []string{"urn:ietf:params:scim:schemas:core:2.0:Group"},
			"displayName": fmt.Sprintf("Bench Sync Group %d", i+1),
		}, http.StatusCreated)
		if err != nil {
			r.close()
			return nil, err
		}
		r.groups = append(r.groups, g["id"].(string))
	}
	return r, nil
}

func (r *rig) withLatency(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if d := time.Duration(r.latency.Load()); d > 0 && len(req.URL.Path) > 15 && req.URL.Path[:15] == "/services/data/" {
			time.Sleep(d)
		}
		h.ServeHTTP(w, req)
	})
}

func (r *rig) close() {
	if r.bridge != nil {
		r.bridge.stop()
	}
	if r.emuSrv != nil {
		_ = r.emuSrv.Close()
	}
	if r.dir != "" {
		_ = os.RemoveAll(r.dir)
	}
}

func (r *rig) calls() int { return r.emu.Stats().APICalls }

// do sends one SCIM request and checks the status.
func (r *rig) do(base, method, path string, body any, want int) (map[string]any, time.Duration, error) {
	var rd io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			return nil, 0, err
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(context.Background(), method, base+path, rd)
	if err != nil {
		return nil, 0, err
	}
	req.Header.Set("Authorization", "Bearer "+r.token)
	req.Header.Set("Content-Type", "application/scim+json")
	start := time.Now()
	resp, err := r.client.Do(req)
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	took := time.Since(start)
	if err != nil {
		return nil, took, err
	}
	if resp.StatusCode != want {
		return nil, took, fmt.Errorf("%s %s = %d %s; want %d", method, path, resp.StatusCode, raw, want)
	}
	var out map[string]any
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &out); err != nil {
			return nil, took, fmt.Errorf("%s %s: %v", method, path, err)
		}
	}
	return out, took, nil
}

// phase measures one scenario: calls, wall time, bridge CPU and request latencies.
type phase struct {
	r         *rig
	calls     int
	cpu       time.Duration
	start     time.Time
	mu        sync.Mutex
	latencies []time.Duration
}

func (r *rig) begin() *phase {
	return &phase{r: r, calls: r.calls(), cpu: r.bridge.cpu(), start: time.Now()}
}

func (p *phase) observe(d time.Duration) {
	p.mu.Lock()
	p.latencies = append(p.latencies, d)
	p.mu.Unlock()
}

// result is a finished phase's figures.
type result struct {
	calls    int
	wall     time.Duration
	cpu      time.Duration
	requests int
	p50, p99 time.Duration
}

func (p *phase) end() result {
	res := result{calls: p.r.calls() - p.calls, wall: time.Since(p.start), cpu: p.r.bridge.cpu() - p.cpu, requests: len(p.latencies)}
	slices.Sort(p.latencies)
	if n := len(p.latencies); n > 0 {
		res.p50 = p.latencies[n/2]
		res.p99 = p.latencies[min(n-1, n*99/100)]
	}
	return res
}

func (res result) cpuPerRequest() time.Duration {
	if res.requests == 0 {
		return 0
	}
	return res.cpu / time.Duration(res.requests)
}

// parallel runs f(0..n-1) on the configured number of workers and returns the first error.
func (r *rig) parallel(n int, f func(i int) error) error {
	var next atomic.Int64
	var first error
	var once sync.Once
	var wg sync.WaitGroup
	for range r.o.concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				if err := f(i); err != nil {
					once.Do(func() { first = err })
					next.Store(int64(n)) // stop the others
					return
				}
			}
		}()
	}
	wg.Wait()
	return first
}

func newUser(n int) map[string]any {
	name := fmt.Sprintf("sync%07d@example.com", n)
	return map[string]any{
		"schemas":    []string{"urn:ietf:params:scim:schemas:core:2.0:User"},
		"userName":   name,
		"externalId": fmt.Sprintf("ext-%07d", n),
		"active":     true,
		"name":       map[string]any{"givenName": "Sync", "familyName": fmt.Sprintf("User%d", n)},
		"emails":     []any{map[string]any{"value": name, "type": "work", "primary": true}},
	}
}

func addMember(user string) map[string]any {
	return map[string]any{
		"schemas":    []string{"urn:ietf:params:scim:api:messages:2.0:PatchOp"},
		"Operations": []any{map[string]any{"op": "Add", "path": "members", "value": []any{map[string]any{"value": user}}}},
	}
}

// entraUser is what Entra sends for one user of an initial sync: a userName lookup that finds
// nothing, the create, and one one-member group PATCH per assigned group (two here).
func entraUser(r *rig, p *phase, n int) error {
	name := fmt.Sprintf("sync%07d@example.com", n)
	if err := r.lookup(p, "/Users?filter="+url.QueryEscape(fmt.Sprintf("userName eq %q", name))); err != nil {
		return err
	}
	id, err := r.create(p, n)
	if err != nil {
		return err
	}
	for _, g := range r.groups[:2] {
		if err := r.patch(p, "/Groups/"+g, addMember(id)); err != nil {
			return err
		}
	}
	return nil
}

// oktaUser is what Okta sends for one user of an import-then-push: a paged userName lookup, the
// create and one group push.
func oktaUser(r *rig, p *phase, n int) error {
	name := fmt.Sprintf("sync%07d@example.com", n)
	if err := r.lookup(p, "/Users?startIndex=1&count=100&filter="+url.QueryEscape(fmt.Sprintf("userName eq %q", name))); err != nil {
		return err
	}
	id, err := r.create(p, n)
	if err != nil {
		return err
	}
	return r.patch(p, "/Groups/"+r.groups[2], addMember(id))
}

func (r *rig) lookup(p *phase, path string) error {
	res, took, err := r.do(r.bridge.base, "GET", path, nil, http.StatusOK)
	if err != nil {
		return err
	}
	p.observe(took)
	if n, _ := res["totalResults"].(float64); n != 0 {
		return fmt.Errorf("GET %s found %v users; want 0", path, n)
	}
	return nil
}

func (r *rig) create(p *phase, n int) (string, error) {
	res, took, err := r.do(r.bridge.base, "POST", "/Users", newUser(n), http.StatusCreated)
	if err != nil {
		return "", err
	}
	p.observe(took)
	id, _ := res["id"].(string)
	return id, nil
}

func (r *rig) patch(p *phase, path string, body any) error {
	_, took, err := r.do(r.bridge.base, "PATCH", path, body, http.StatusNoContent)
	if err != nil {
		return err
	}
	p.observe(took)
	return nil
}

func (r *rig) initialSync(out io.Writer, title string, perUser func(*rig, *phase, int) error) error {
	r.latency.Store(int64(r.o.latency))
	defer r.latency.Store(0)
	base := int(r.seq.Add(int64(r.o.users))) - r.o.users
	p := r.begin()
	if err := r.parallel(r.o.users, func(i int) error { return perUser(r, p, base+i) }); err != nil {
		return err
	}
	res := p.end()
	_, peak := r.bridge.memory()
	fmt.Fprintf(out, "%s: %d users, %d requests\n", title, r.o.users, res.requests)
	fmt.Fprintf(out, "  Salesforce calls   %d (%.3f per user)\n", res.calls, float64(res.calls)/float64(r.o.users))
	fmt.Fprintf(out, "  wall time          %v (%.1f users/s)\n", res.wall.Round(time.Millisecond), float64(r.o.users)/res.wall.Seconds())
	fmt.Fprintf(out, "  request latency    p50 %v  p99 %v\n", res.p50.Round(time.Millisecond), res.p99.Round(time.Millisecond))
	fmt.Fprintf(out, "  bridge CPU         %v per request\n", res.cpuPerRequest().Round(time.Microsecond))
	fmt.Fprintf(out, "  bridge peak RSS    %.0f MiB\n", peak)
	fmt.Fprintf(out, "  coalesced batches  %s\n\n", r.batches())
	return nil
}

// batches summarises the bridge's coalescing metrics so far: per kind, batches and mean size.
func (r *rig) batches() string {
	resp, err := r.client.Get(strings.TrimSuffix(r.bridge.base, "/scim/v2") + "/metrics")
	if err != nil {
		return err.Error()
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	sums, counts := map[string]float64{}, map[string]float64{}
	for _, line := range strings.Split(string(raw), "\n") {
		for prefix, m := range map[string]map[string]float64{"scim_bridge_salesforce_batch_size_sum{": sums, "scim_bridge_salesforce_batch_size_count{": counts} {
			if rest, ok := strings.CutPrefix(line, prefix); ok {
				kind, value, _ := strings.Cut(rest, "} ")
				var v float64
				fmt.Sscan(value, &v)
				m[strings.Trim(strings.TrimPrefix(kind, "kind="), `"`)] = v
			}
		}
	}
	if len(counts) == 0 {
		return "none"
	}
	var parts []string
	for kind, n := range counts {
		parts = append(parts, fmt.Sprintf("%s %.0f (mean %.1f)", kind, n, sums[kind]/n))
	}
	slices.Sort(parts)
	return strings.Join(parts, ", ") + " (cumulative)"
}

// bulkCreate creates bulkUsers users in BulkRequests of 100 POST operations each.
func (r *rig) bulkCreate(out io.Writer) error {
	r.latency.Store(int64(r.o.latency))
	defer r.latency.Store(0)
	p := r.begin()
	const perRequest = 100
	for done := 0; done < r.o.bulkUsers; done += perRequest {
		var ops []any
		for i := done; i < min(done+perRequest, r.o.bulkUsers); i++ {
			n := int(r.seq.Add(1))
			ops = append(ops, map[string]any{"method": "POST", "path": "/Users", "bulkId": fmt.Sprintf("u%d", n), "data": newUser(n)})
		}
		res, took, err := r.do(r.bridge.base, "POST", "/Bulk", map[string]any{
			"schemas":    []string{"urn:ietf:params:scim:api:messages:2.0:BulkRequest"},
			"Operations": ops,
		}, http.StatusOK)
		if err != nil {
			return err
		}
		p.observe(took)
		results, _ := res["Operations"].([]any)
		for _, x := range results {
			op, _ := x.(map[string]any)
			if op["status"] != "201" {
				return fmt.Errorf("a bulk create answered %v", op["status"])
			}
		}
	}
	res := p.end()
	fmt.Fprintf(out, "Bulk: %d creates in %d BulkRequests of %d\n", r.o.bulkUsers, res.requests, perRequest)
	fmt.Fprintf(out, "  Salesforce calls   %d\n", res.calls)
	fmt.Fprintf(out, "  wall time          %v\n", res.wall.Round(time.Millisecond))
	fmt.Fprintf(out, "  coalesced batches  %s\n\n", r.batches())
	return nil
}

// cpuPerGet compares the bridge's CPU per GET /Users/{id} with a bare in-memory server on the
// same SCIM library, both at the configured concurrency, without added latency.
func (r *rig) cpuPerGet(out io.Writer) error {
	const distinct = 50
	ids := make([]string, distinct)
	for i := range ids {
		n := int(r.seq.Add(1))
		res, _, err := r.do(r.bridge.base, "POST", "/Users", newUser(n), http.StatusCreated)
		if err != nil {
			return err
		}
		ids[i] = res["id"].(string)
	}
	bridgeRes, err := r.getsOf(ids)
	if err != nil {
		return err
	}
	// The same users in two groups each, as after an Entra-style sync: a larger answer to decode.
	err = r.parallel(2*distinct, func(i int) error {
		_, _, err := r.do(r.bridge.base, "PATCH", "/Groups/"+r.groups[i%2], addMember(ids[i/2]), http.StatusNoContent)
		return err
	})
	if err != nil {
		return err
	}
	groupsRes, err := r.getsOf(ids)
	if err != nil {
		return err
	}

	bare, err := startChild("bare")
	if err != nil {
		return err
	}
	defer bare.stop()
	bareIDs := make([]string, distinct)
	for i := range bareIDs {
		res, _, err := r.do(bare.base, "POST", "/Users", newUser(i), http.StatusCreated)
		if err != nil {
			return err
		}
		bareIDs[i] = res["id"].(string)
	}
	for _, id := range bareIDs {
		if _, _, err := r.do(bare.base, "GET", "/Users/"+id, nil, http.StatusOK); err != nil {
			return err
		}
	}
	cpu0 := bare.cpu()
	var count atomic.Int64
	err = r.parallel(r.o.gets, func(i int) error {
		_, _, err := r.do(bare.base, "GET", "/Users/"+bareIDs[i%distinct], nil, http.StatusOK)
		count.Add(1)
		return err
	})
	if err != nil {
		return err
	}
	bareCPU := (bare.cpu() - cpu0) / time.Duration(count.Load())
	fmt.Fprintf(out, "GET /Users/{id}: %d requests at concurrency %d, no added latency\n", bridgeRes.requests, r.o.concurrency)
	fmt.Fprintf(out, "  Salesforce calls   %d (%.3f per request)\n", bridgeRes.calls, float64(bridgeRes.calls)/float64(bridgeRes.requests))
	fmt.Fprintf(out, "  request latency    p50 %v  p99 %v\n", bridgeRes.p50.Round(time.Microsecond), bridgeRes.p99.Round(time.Microsecond))
	fmt.Fprintf(out, "  bridge CPU         %v per request\n", bridgeRes.cpuPerRequest().Round(time.Microsecond))
	fmt.Fprintf(out, "  bare library CPU   %v per request\n", bareCPU.Round(time.Microsecond))
	if bareCPU > 0 {
		fmt.Fprintf(out, "  ratio              %.1f×\n", float64(bridgeRes.cpuPerRequest())/float64(bareCPU))
	}
	fmt.Fprintf(out, "  the same users in two groups each:\n")
	fmt.Fprintf(out, "  Salesforce calls   %d (%.3f per request)\n", groupsRes.calls, float64(groupsRes.calls)/float64(groupsRes.requests))
	fmt.Fprintf(out, "  request latency    p50 %v  p99 %v\n", groupsRes.p50.Round(time.Microsecond), groupsRes.p99.Round(time.Microsecond))
	fmt.Fprintf(out, "  bridge CPU         %v per request\n", groupsRes.cpuPerRequest().Round(time.Microsecond))
	if bareCPU > 0 {
		fmt.Fprintf(out, "  ratio              %.1f×\n", float64(groupsRes.cpuPerRequest())/float64(bareCPU))
	}
	fmt.Fprintln(out)
	return nil
}

// getsOf reads the users ids r.o.gets times in all, at the configured concurrency, after one
// warm-up read of each.
func (r *rig) getsOf(ids []string) (result, error) {
	for _, id := range ids {
		if _, _, err := r.do(r.bridge.base, "GET", "/Users/"+id, nil, http.StatusOK); err != nil {
			return result{}, err
		}
	}
	p := r.begin()
	err := r.parallel(r.o.gets, func(i int) error {
		_, took, err := r.do(r.bridge.base, "GET", "/Users/"+ids[i%len(ids)], nil, http.StatusOK)
		p.observe(took)
		return err
	})
	if err != nil {
		return result{}, err
	}
	return p.end(), nil
}

// fullListing fills the org to listUsers users (directly, not through the API) and reads every
// page sequentially, as an Okta import or a reconciliation does.
func (r *rig) fullListing(out io.Writer) error {
	if r.o.listUsers <= 0 {
		return nil
	}
	profile := ""
	for _, p := range r.emu.List("Profile") {
		if p["Name"] == "Standard User" {
			profile, _ = p["Id"].(string)
		}
	}
	have := len(r.emu.List("User"))
	for i := have; i < r.o.listUsers; i++ {
		n := int(r.seq.Add(1))
		name := fmt.Sprintf("list%07d@example.com", n)
		if _, err := r.emu.Insert("User", map[string]any{
			"Username": name, "LastName": "List", "FirstName": "User", "Email": name, "Alias": "list",
			"TimeZoneSidKey": "America/Los_Angeles", "LocaleSidKey": "en_US", "EmailEncodingKey": "UTF-8",
			"LanguageLocaleKey": "en_US", "ProfileId": profile, "FederationIdentifier": fmt.Sprintf("list-%07d", n),
		}); err != nil {
			return fmt.Errorf("seeding user %d: %v", i, err)
		}
	}
	p := r.begin()
	var pages []time.Duration
	seen, total := 0, -1
	peak := 0.0
	for start := 1; total < 0 || start <= total; start += r.o.listCount {
		res, took, err := r.do(r.bridge.base, "GET", fmt.Sprintf("/Users?startIndex=%d&count=%d", start, r.o.listCount), nil, http.StatusOK)
		if err != nil {
			return err
		}
		p.observe(took)
		pages = append(pages, took)
		if t, ok := res["totalResults"].(float64); ok {
			total = int(t)
		}
		rs, _ := res["Resources"].([]any)
		seen += len(rs)
		if len(rs) == 0 {
			break
		}
		if _, pk := r.bridge.memory(); pk > peak {
			peak = pk
		}
	}
	res := p.end()
	if seen != total {
		return fmt.Errorf("listing read %d users; totalResults %d", seen, total)
	}
	sorted := slices.Clone(pages)
	slices.Sort(sorted)
	fmt.Fprintf(out, "Full listing: %d users, %d pages of %d\n", total, len(pages), r.o.listCount)
	fmt.Fprintf(out, "  Salesforce calls   %d (%.2f per page)\n", res.calls, float64(res.calls)/float64(len(pages)))
	fmt.Fprintf(out, "  wall time          %v\n", res.wall.Round(time.Millisecond))
	fmt.Fprintf(out, "  page time          first %v  median %v  last %v  max %v\n", pages[0].Round(time.Millisecond),
		sorted[len(sorted)/2].Round(time.Millisecond), pages[len(pages)-1].Round(time.Millisecond), sorted[len(sorted)-1].Round(time.Millisecond))
	fmt.Fprintf(out, "  bridge CPU         %v per page\n", res.cpuPerRequest().Round(time.Microsecond))
	fmt.Fprintf(out, "  bridge peak RSS    %.0f MiB\n\n", peak)
	return nil
}
