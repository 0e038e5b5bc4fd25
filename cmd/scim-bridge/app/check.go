package app

import (
	"context"
	"fmt"
	"io"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
)

// runCheck is the seed's "Test connection": one readable line per step, exit status 0 only when
// every step passed.
func runCheck(ctx context.Context, args []string, env []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("check", stderr)
	configFile := fs.String("config", "", "YAML configuration file (or SCIM_BRIDGE_CONFIG)")
	if ok, err := parseFlags(fs, args); !ok {
		return err
	}
	em := envMap(env)
	if *configFile == "" {
		*configFile = em[envConfig]
	}
	cfg, err := loadConfig(*configFile, em, "", forCheck)
	if err != nil {
		fmt.Fprintln(stderr, err)
		if *configFile == "" {
			fmt.Fprint(stderr, noConfigHint)
		}
		return ErrReported
	}
	return checkConnection(ctx, cfg, stdout)
}

func checkConnection(ctx context.Context, cfg Config, stdout io.Writer) error {
	b, err := buildBackend(ctx, cfg, zerolog.Nop(), nil, prometheus.NewRegistry())
	if err != nil {
		fmt.Fprintln(stdout, "FAIL  configuration:", err)
		return ErrReported
	}
	fmt.Fprintf(stdout, "Checking the connection to %s\n", cfg.Salesforce.URL)
	failed := false
	for _, step := range b.backend.Check(ctx) {
		mark := "ok  "
		switch {
		case step.Skipped:
			mark, failed = "SKIP", true
		case !step.OK:
			mark, failed = "FAIL", true
		}
		fmt.Fprintf(stdout, "%s  %s", mark, step.Name)
		if step.Detail != "" {
			fmt.Fprintf(stdout, ": %s", step.Detail)
		}
		fmt.Fprintln(stdout)
	}
	if failed {
		fmt.Fprintln(stdout, "The connection check failed.")
		return ErrReported
	}
	fmt.Fprintln(stdout, "The connection works.")
	return nil
}
