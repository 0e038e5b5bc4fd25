package app

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/elimity-com/scim/schema"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/scim-bridge/scim-bridge/salesforce"
	"github.com/scim-bridge/scim-bridge/salesforce/emulator"
	"github.com/scim-bridge/scim-bridge/scimschema"
	"github.com/scim-bridge/scim-bridge/server"
)

// runExplain reads a SCIM user body (create, PUT or PATCH) on stdin and prints the Salesforce
// fields it would write, with the rule behind each value, and what would be refused and why.
// Nothing is written: the body goes through the bridge's own SCIM layer to a backend that only
// explains. Online it reads the org's catalog (profiles, permission sets, picklists); --offline
// uses the built-in emulator's standard org instead. Exit 1 when the write would be refused.
func runExplain(ctx context.Context, args []string, env []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlagSet("explain", stderr)
	configFile := fs.String("config", "", "YAML configuration file (or SCIM_BRIDGE_CONFIG); optional with --offline")
	offline := fs.Bool("offline", false, "check against built-in defaults (a standard org) instead of the org in the configuration")
	method := fs.String("method", "", "POST, PUT or PATCH; by default PATCH when the body has Operations, PUT when it has an id, else POST")
	if ok, err := parseFlags(fs, args); !ok {
		return err
	}
	em := envMap(env)
	if *configFile == "" {
		*configFile = em[envConfig]
	}
	if isTerminal(stdin) {
		// Run by hand with nothing piped in, explain would otherwise wait without a word.
		fmt.Fprintln(stderr, "explain: reading a SCIM request body from the terminal; paste it and end with Ctrl-D, or pipe one in: scim-bridge explain < body.json")
	}
	body, err := io.ReadAll(io.LimitReader(stdin, maxExplainBody+1))
	if err != nil {
		fmt.Fprintf(stderr, "explain: reading the body from stdin: %v\n", err)
		return ErrReported
	}
	if len(body) > maxExplainBody {
		fmt.Fprintln(stderr, "explain: the body on stdin is larger than 1 MiB; a SCIM request body is far smaller")
		return ErrReported
	}
	m, err := explainMethod(*method, body)
	if err != nil {
		fmt.Fprintln(stderr, "explain:", err)
		return ErrReported
	}

	var cfg Config
	var against string
	if *offline {
		org, err := startOfflineOrg()
		if err != nil {
			fmt.Fprintln(stderr, "explain:", err)
			return ErrReported
		}
		defer org.stop()
		if cfg, err = offlineConfig(*configFile, env, org); err != nil {
			fmt.Fprintln(stderr, err)
			return ErrReported
		}
		against = "built-in defaults (a standard org: profiles Standard User, System Administrator, Chatter Free User; standard picklists), not your org"
	} else {
		if cfg, err = loadConfig(*configFile, em, "", forCheck); err != nil {
			fmt.Fprintln(stderr, err)
			if *configFile == "" {
				fmt.Fprintln(stderr, "Without a configuration, use --offline.")
			}
			return ErrReported
		}
		against = cfg.Salesforce.URL
	}
	b, err := buildBackend(ctx, cfg, zerolog.Nop(), nil, prometheus.NewRegistry())
	if err != nil {
		fmt.Fprintln(stderr, err)
		return ErrReported
	}
	x, refusedBySCIM, err := explainThroughServer(ctx, b.backend, m, body)
	if err != nil {
		fmt.Fprintf(stderr, "explain: reading the org's profiles, permission sets and picklists failed: %s\n", scimschema.AsError(err).Detail)
		return ErrReported
	}
	fmt.Fprintf(stdout, "%s /Users: checked against %s\n\n", m, against)
	if refusedBySCIM != "" {
		fmt.Fprintf(stdout, "Refused: %s\n", refusedBySCIM)
		return ErrReported
	}
	writeExplanation(stdout, x)
	if x.Refused != "" {
		return ErrReported
	}
	return nil
}

// explainMethod picks the HTTP method the body is for.
func explainMethod(flagValue string, body []byte) (string, error) {
	switch m := strings.ToUpper(flagValue); m {
	case "POST", "PUT", "PATCH":
		return m, nil
	case "":
	default:
		return "", fmt.Errorf("--method must be POST, PUT or PATCH")
	}
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(body, &probe); err != nil {
		return "", notAJSONObject(body, err)
	}
	for k := range probe {
		switch strings.ToLower(k) {
		case "operations":
			return "PATCH", nil
		case "id":
			return "PUT", nil
		}
	}
	return "POST", nil
}

// maxExplainBody is the largest body explain reads.
const maxExplainBody = 1 << 20

// notAJSONObject says why a body is not a SCIM request body, in words rather than the decoder's.
func notAJSONObject(body []byte, err error) error {
	var syntax *json.SyntaxError
	switch {
	case len(bytes.TrimSpace(body)) == 0:
		return errors.New("the body on stdin is empty: pipe a SCIM request body (a JSON object) into explain")
	case errors.As(err, &syntax) && syntax.Offset >= int64(len(body)):
		return errors.New("the body on stdin is not valid JSON: it ends too early")
	case errors.As(err, &syntax):
		return fmt.Errorf("the body on stdin is not valid JSON (at byte %d)", syntax.Offset)
	}
	return errors.New("the body on stdin is not a JSON object: a SCIM request body is one {…}")
}

// explainer is a users backend that explains instead of writing.
type explainer struct {
	backend *salesforce.Backend
	got     *salesforce.UserExplanation
	err     error
}

// explainID stands in for the user a PUT or PATCH addresses: nothing is read or written.
const explainID = "005000000000000AAA"

func (e *explainer) explain(ctx context.Context, kind salesforce.WriteKind, attrs map[string]any, ops []scimschema.PatchOp) (scimschema.Resource, error) {
	x, err := e.backend.ExplainUser(ctx, kind, attrs, ops)
	if err != nil {
		e.err = err
		return scimschema.Resource{}, err
	}
	e.got = &x
	return scimschema.Resource{ID: explainID, Attributes: map[string]any{}}, nil
}

func (e *explainer) CreateUser(ctx context.Context, attrs map[string]any) (scimschema.Resource, error) {
	return e.explain(ctx, salesforce.WriteCreate, attrs, nil)
}

func (e *explainer) ReplaceUser(ctx context.Context, _ string, attrs map[string]any, _ string) (scimschema.Resource, error) {
	return e.explain(ctx, salesforce.WriteReplace, attrs, nil)
}

func (e *explainer) PatchUser(ctx context.Context, _ string, ops []scimschema.PatchOp, _ string) (scimschema.Resource, error) {
	_, err := e.explain(ctx, salesforce.WritePatch, nil, ops)
	return scimschema.Resource{}, err
}

var errExplainOnly = scimschema.Errorf(scimschema.KindNotImplemented, "explain handles user writes only")

func (e *explainer) GetUser(context.Context, string, scimschema.ReadOptions) (scimschema.Resource, error) {
	return scimschema.Resource{}, errExplainOnly
}
func (e *explainer) ListUsers(context.Context, scimschema.ListQuery) (scimschema.Page, error) {
	return scimschema.Page{}, errExplainOnly
}
func (e *explainer) DeleteUser(context.Context, string, string) error { return errExplainOnly }
func (e *explainer) CreateGroup(context.Context, map[string]any) (scimschema.Resource, error) {
	return scimschema.Resource{}, errExplainOnly
}
func (e *explainer) GetGroup(context.Context, string, scimschema.ReadOptions) (scimschema.Resource, error) {
	return scimschema.Resource{}, errExplainOnly
}
func (e *explainer) ListGroups(context.Context, scimschema.ListQuery) (scimschema.Page, error) {
	return scimschema.Page{}, errExplainOnly
}
func (e *explainer) ReplaceGroup(context.Context, string, map[string]any, string) (scimschema.Resource, error) {
	return scimschema.Resource{}, errExplainOnly
}
func (e *explainer) PatchGroup(context.Context, string, []scimschema.PatchOp, string) (scimschema.Resource, error) {
	return scimschema.Resource{}, errExplainOnly
}
func (e *explainer) DeleteGroup(context.Context, string, string) error { return errExplainOnly }

// explainThroughServer sends the body through the bridge's SCIM layer (IdP normalisation, the SCIM
// library's schema checks) to an explainer, in process. refused is the SCIM layer's answer when it
// refused the body before the backend saw it.
func explainThroughServer(ctx context.Context, b *salesforce.Backend, method string, body []byte) (x salesforce.UserExplanation, refused string, err error) {
	allowStringBooleans.Do(func() { schema.SetAllowStringValues(true) })
	e := &explainer{backend: b}
	token := randomToken(16)
	h, err := server.New(server.Config{Users: e, Groups: e, Tokens: []server.Token{{Name: "explain", Token: token}}, Logger: zerolog.Nop()})
	if err != nil {
		return x, "", err
	}
	path := "/scim/v2/Users"
	if method != "POST" {
		path += "/" + explainID
	}
	req, err := http.NewRequestWithContext(ctx, method, path, bytes.NewReader(body))
	if err != nil {
		return x, "", err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/scim+json")
	rec := server.NewResponseRecorder()
	h.ServeHTTP(rec, req)
	if e.err != nil {
		return x, "", e.err
	}
	if e.got == nil {
		var scimErr struct {
			Status string `json:"status"`
			Detail string `json:"detail"`
		}
		_ = json.Unmarshal(rec.Body(), &scimErr)
		return x, fmt.Sprintf("%d: %s", rec.Status(), scimErr.Detail), nil
	}
	return *e.got, "", nil
}

// writeExplanation prints an explanation as a table and notes.
func writeExplanation(w io.Writer, x salesforce.UserExplanation) {
	if x.Refused != "" {
		fmt.Fprintf(w, "Refused: %s\nNothing would be written.\n", x.Refused)
		return
	}
	fmt.Fprintln(w, "Salesforce User fields it would write:")
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  FIELD\tVALUE\tRULE\tFROM")
	for _, f := range x.Fields {
		value := "(cleared)"
		if f.Rule == scimschema.RuleConflict {
			value = "(decided at write time)"
		} else if f.Value != nil {
			value = fmt.Sprintf("%q", fmt.Sprint(f.Value))
		}
		from := f.From
		if f.Sent != nil {
			from += fmt.Sprintf(" (sent %q)", fmt.Sprint(f.Sent))
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", f.Field, value, f.Rule, from)
	}
	_ = tw.Flush()
	if len(x.Fields) == 0 {
		fmt.Fprintln(w, "  (none)")
	}
	if x.Profile != "" {
		fmt.Fprintf(w, "\nProfile: %s — %s\n", x.Profile, x.ProfileRule)
	}
	if x.Active != "" {
		fmt.Fprintf(w, "Active: %s\n", x.Active)
	}
	if len(x.PermissionSets) > 0 {
		fmt.Fprintf(w, "Permission sets named: %s\n", strings.Join(x.PermissionSets, ", "))
	}
	if len(x.Ignored) > 0 {
		fmt.Fprintf(w, "Ignored (on_update: false): %s\n", strings.Join(x.Ignored, ", "))
	}
	for _, s := range x.Skipped {
		fmt.Fprintf(w, "Skipped: %s\n", s)
	}
	fmt.Fprintln(w, "\nNothing was written.")
}

// offlineOrg is the built-in emulator (a standard org) serving on a loopback port.
type offlineOrg struct {
	url  string
	emu  emulator.Config
	stop func()
}

func startOfflineOrg() (*offlineOrg, error) {
	ecfg := emulator.Config{ClientID: "scim-bridge-explain", ClientSecret: randomToken(16), RefreshToken: "5Aep" + randomToken(24)}
	emu, err := emulator.New(ecfg)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	srv := &http.Server{Handler: emu.Handler(), ReadHeaderTimeout: 10 * time.Second, ErrorLog: log.New(io.Discard, "", 0)}
	go func() { _ = srv.Serve(ln) }()
	return &offlineOrg{url: "http://" + ln.Addr().String(), emu: ecfg, stop: func() { _ = srv.Close() }}, nil
}

// offlineConfig is the configuration (file and environment, both optional), loaded as check loads
// it, with the Salesforce connection pointed at the offline org, as serve --demo does.
func offlineConfig(file string, env []string, org *offlineOrg) (Config, error) {
	return loadConfigWith(file, envMap(env), "", forCheck, func(cfg *Config) { useEmulator(cfg, org.url, org.emu) })
}
