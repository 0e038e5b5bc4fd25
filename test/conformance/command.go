package conformance

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
)

// CommandUsage is the synopsis of the conformance command.
const CommandUsage = "conformance --url URL --token T [--json FILE] [--deviations LIST] [--idp]"

// Command is `scim-bridge conformance`: it runs the suite against the SCIM server at --url and
// prints the report, then the two summary lines. It reports success only when no RFC check failed
// (and, with --idp or SCIM_TEST_IDP=true, no IdP-compatibility step failed either). A usage or
// setup error (a wrong URL, a rejected token) is one plain line on stderr and a failure. args
// exclude the command name; env is os.Environ-style (SCIM_TEST_TOKEN stands in for --token, so
// the token need not appear in the process list).
func Command(ctx context.Context, args, env []string, stdout, stderr io.Writer) (ok bool) {
	fs := flag.NewFlagSet("conformance", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: scim-bridge %s\n\nRuns the SCIM 2.0 conformance suite (RFC 7643/7644 and IdP replays) against any SCIM server.\nSee docs/conformance.md.\n\n", CommandUsage)
		fs.PrintDefaults()
	}
	baseURL := fs.String("url", "", "SCIM base `URL` of the server under test, e.g. https://scim.example.com/scim/v2")
	token := fs.String("token", "", "bearer `token` the suite presents (default $SCIM_TEST_TOKEN)")
	jsonFile := fs.String("json", "", "also write the report as JSON to `FILE`")
	deviations := fs.String("deviations", "", "comma `list` of documented deviations to accept: "+knownDeviationNames())
	idp := fs.Bool("idp", false, "failed IdP-compatibility steps fail the run too (also SCIM_TEST_IDP=true)")
	switch err := fs.Parse(args); {
	case errors.Is(err, flag.ErrHelp):
		return true
	case err != nil:
		return false
	}
	vars := envMap(env)
	if *token == "" {
		*token = vars["SCIM_TEST_TOKEN"]
	}
	if v := vars["SCIM_TEST_IDP"]; v != "" && !*idp {
		b, err := strconv.ParseBool(v)
		if err != nil {
			fmt.Fprintf(stderr, "conformance: SCIM_TEST_IDP=%q: want true or false\n", v)
			return false
		}
		*idp = b
	}
	devs, err := ParseDeviations(*deviations)
	switch {
	case fs.NArg() > 0:
		fmt.Fprintf(stderr, "conformance: unexpected argument %q\n", fs.Arg(0))
	case *baseURL == "":
		fmt.Fprintln(stderr, "conformance: --url is required (the SCIM base URL, e.g. https://scim.example.com/scim/v2)")
	case *token == "":
		fmt.Fprintln(stderr, "conformance: --token is required (or SCIM_TEST_TOKEN)")
	case err != nil:
		fmt.Fprintf(stderr, "conformance: --deviations: %v\n", err)
	default:
		return run(ctx, Target{BaseURL: *baseURL, Token: *token, Deviations: devs, IdP: *idp}, *jsonFile, stdout, stderr)
	}
	fs.Usage()
	return false
}

func run(ctx context.Context, target Target, jsonFile string, stdout, stderr io.Writer) bool {
	rep, err := Execute(ctx, target)
	if err != nil {
		fmt.Fprintf(stderr, "conformance: %v\n", err)
		return false
	}
	if err := rep.WriteText(stdout); err != nil {
		fmt.Fprintf(stderr, "conformance: %v\n", err)
		return false
	}
	if jsonFile != "" {
		if err := writeJSONFile(jsonFile, rep); err != nil {
			fmt.Fprintf(stderr, "conformance: --json: %v\n", err)
			return false
		}
	}
	return rep.OK(target.IdP)
}

func writeJSONFile(name string, rep Report) error {
	f, err := os.Create(name)
	if err != nil {
		return err
	}
	if err := rep.WriteJSON(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func knownDeviationNames() string {
	var names []string
	for d := range KnownDeviations() {
		names = append(names, string(d))
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}

func envMap(env []string) map[string]string {
	m := make(map[string]string, len(env))
	for _, kv := range env {
		if k, v, ok := strings.Cut(kv, "="); ok {
			m[k] = v
		}
	}
	return m
}
