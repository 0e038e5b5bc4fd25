// Package app is the scim-bridge process: subcommands and flags, configuration, logger, wiring of
// the Salesforce client, backend and SCIM server, and the HTTP server's lifecycle. main calls Run;
// tests call Run and StartDemo too.
package app

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strings"

	"github.com/rs/zerolog"
)

// Version is set at build time with -ldflags "-X …/app.Version=v1.2.3".
var Version = "dev"

// ErrReported is returned when the command already told the user what went wrong; main then only
// sets the exit status.
var ErrReported = errors.New("failed")

// Run runs one scim-bridge command. args exclude the program name; env is os.Environ-style.
// Ending ctx is SIGTERM.
func Run(ctx context.Context, args []string, env []string, stdout, stderr io.Writer) error {
	return RunWithSignals(ctx, args, env, stdout, stderr, Signals{})
}

// RunWithSignals is Run with the process's other signals (SIGHUP).
func RunWithSignals(ctx context.Context, args []string, env []string, stdout, stderr io.Writer, sig Signals) error {
	cmd := "serve"
	if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "-help") {
		cmd, args = "help", args[1:]
	} else if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		return runServe(ctx, args, env, stdout, stderr, sig)
	case "check":
		return runCheck(ctx, args, env, stdout, stderr)
	case "emulator":
		return runEmulator(ctx, args, env, stdout, stderr)
	case "status":
		return runStatus(ctx, args, env, stdout, stderr)
	case "explain":
		return runExplain(ctx, args, env, os.Stdin, stdout, stderr)
	case "conformance":
		return runConformance(ctx, args, env, stdout, stderr)
	case "healthcheck":
		return runHealthcheck(ctx, args, env, stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, "scim-bridge", version())
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprintf(stderr, "unknown command %q\n\n%s", cmd, usage)
		return ErrReported
	}
}

const usage = `Usage:
  scim-bridge serve    [--config FILE] [--demo] [--listen ADDR] [--print-config]
  scim-bridge check    [--config FILE]
  scim-bridge emulator [--listen ADDR] [--seed FILE] [--client-id ID] [--client-secret S]
                       [--refresh-token T] [--api-limit N] [--token-ttl DURATION]
                       [--rotate-refresh-tokens] [--jwt-certificate FILE]
                       [--profile default|strict]
  scim-bridge status   [--config FILE]
  scim-bridge explain  [--config FILE] [--offline] [--method POST|PUT|PATCH] < body.json
  scim-bridge conformance --url URL --token T [--json FILE] [--deviations LIST] [--idp]
  scim-bridge healthcheck [--config FILE] [--url URL] [--timeout DURATION]
  scim-bridge version

The configuration file can also be named by SCIM_BRIDGE_CONFIG; every key can be overridden by
SCIM_BRIDGE_<SECTION>_<KEY> environment variables. See README.md.
`

const noConfigHint = `No configuration file was given (--config FILE or SCIM_BRIDGE_CONFIG).
To try scim-bridge without a Salesforce org: scim-bridge serve --demo
`

// version is the -ldflags version when the build set one (the release script, the Dockerfile), else
// the module version (go install …@v1.2.3), else "dev" with the VCS revision when Go recorded it.
func version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		bi = nil
	}
	return versionFrom(Version, bi)
}

func versionFrom(ldflags string, bi *debug.BuildInfo) string {
	if ldflags != "dev" && ldflags != "" {
		return ldflags
	}
	if bi == nil {
		return "dev"
	}
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	rev, dirty := "", false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if rev == "" {
		return "dev"
	}
	v := "dev+" + rev[:min(12, len(rev))]
	if dirty {
		v += "-dirty"
	}
	return v
}

// newFlagSet returns a flag set that reports errors to stderr and never exits the process.
func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// newLogger writes JSON lines, or the console format when SCIM_BRIDGE_LOG_FORMAT says console or,
// unset, when out is a terminal (`docker run -t` is a terminal feeding a JSON pipeline: set json).
// The level is info unless SCIM_BRIDGE_LOG_LEVEL (debug, info, warn, error) says otherwise; debug
// adds one line per Salesforce call and the probe and scrape access lines.
func newLogger(out io.Writer, env map[string]string) zerolog.Logger {
	terminal := isTerminal(out)
	switch format, _ := parseLogFormat(env[envLogFormat]); {
	case format == "console", format == "" && terminal:
		out = zerolog.ConsoleWriter{Out: out, TimeFormat: "15:04:05", NoColor: !terminal}
	}
	level, err := parseLogLevel(env[envLogLevel])
	if err != nil {
		level = zerolog.InfoLevel // loadConfig reports the bad value
	}
	return zerolog.New(out).Level(level).With().Timestamp().Logger()
}

// isTerminal reports whether v is a file on a character device: a terminal, as far as the process
// can tell without a terminal library (/dev/null counts too, harmlessly).
func isTerminal(v any) bool {
	f, ok := v.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// parseLogFormat accepts json and console in any letter case; "" is unset (the terminal decides).
func parseLogFormat(s string) (string, error) {
	switch f := strings.ToLower(strings.TrimSpace(s)); f {
	case "", "json", "console":
		return f, nil
	}
	return "", errors.New("must be json or console")
}

// parseLogLevel accepts debug, info, warn and error; "" is info.
func parseLogLevel(s string) (zerolog.Level, error) {
	switch strings.ToLower(s) {
	case "":
		return zerolog.InfoLevel, nil
	case "debug", "info", "warn", "error":
		return zerolog.ParseLevel(strings.ToLower(s))
	}
	return zerolog.NoLevel, fmt.Errorf("unknown log level")
}

// parseFlags parses a subcommand's flags. -h prints the flags and succeeds; a stray argument is
// an error (a forgotten "--" would otherwise silently drop a setting).
func parseFlags(fs *flag.FlagSet, args []string) (ok bool, err error) {
	switch err := fs.Parse(args); {
	case errors.Is(err, flag.ErrHelp):
		return false, nil
	case err != nil:
		return false, ErrReported
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(fs.Output(), "%s: unexpected argument %q\n", fs.Name(), fs.Arg(0))
		fs.Usage()
		return false, ErrReported
	}
	return true, nil
}

// randomToken returns n random bytes, hex-encoded.
func randomToken(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic("crypto/rand failed: " + err.Error())
	}
	return hex.EncodeToString(b)
}
