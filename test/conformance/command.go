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
	// The JSON file is created before the run: a run makes a few hundred requests to someone's
	// server, and a report that cannot be saved should be known before them.
	var jsonOut *os.File
	if jsonFile != "" {
		f, err := os.Create(jsonFile)
		if err != nil {
			fmt.Fprintf(stderr, "conformance: --json: cannot create %s: %v\n", jsonFile, errors.Unwrap(err))
			return false
		}
		jsonOut = f
		defer f.Close()
	}
	rep, err := Execute(ctx, target)
	if err != nil {
		fmt.Fprintf(stderr, "conformance: %v\n", err)
		if jsonOut != nil {
			jsonOut.Close()
			os.Remove(jsonFile) // no report: leave no empty file behind
		}
		return false
	}
	if err := rep.WriteText(stdout); err != nil {
		fmt.Fprintf(stderr, "conformance: %v\n", err)
		return false
	}
	if jsonOut != nil {
		if err := rep.WriteJSON(jsonOut); err == nil {
			err = jsonOut.Close()
		}
		if err != nil {
			fmt.Fprintf(stderr, "conformance: --json: %v\n", err)
			return false
		}
	}
	return rep.OK(target.IdP)
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
