package app

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/scim-bridge/scim-bridge/salesforce/rest"
)

// runHealthcheck is for Docker's HEALTHCHECK in a distroless image (no shell, no curl): it asks the
// local bridge's /healthz and exits 0 when it answers 200. The address comes from --url, else from
// the configuration's listen (file and SCIM_BRIDGE_LISTEN, as serve reads them), with an
// unspecified host (0.0.0.0, ::) reached on loopback, over HTTPS when tls is configured.
func runHealthcheck(ctx context.Context, args []string, env []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("healthcheck", stderr)
	configFile := fs.String("config", "", "YAML configuration file (or SCIM_BRIDGE_CONFIG)")
	rawURL := fs.String("url", "", "the /healthz URL to ask (default: from listen)")
	timeout := fs.Duration("timeout", 3*time.Second, "how long to wait for the answer")
	if ok, err := parseFlags(fs, args); !ok {
		return err
	}
	url := *rawURL
	if url == "" {
		em := envMap(env)
		if *configFile == "" {
			*configFile = em[envConfig]
		}
		var err error
		if url, err = healthzURL(*configFile, em); err != nil {
			fmt.Fprintln(stderr, "healthcheck:", err)
			return ErrReported
		}
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		fmt.Fprintf(stderr, "healthcheck: --url: %v\n", err)
		return ErrReported
	}
	// The bridge's own certificate names its public host, not loopback: liveness does not verify it.
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	resp, err := client.Do(req)
	if err != nil {
		fmt.Fprintf(stderr, "healthcheck: %s: no answer: %s\n", url, rest.NetworkCause(err))
		return ErrReported
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		fmt.Fprintf(stderr, "healthcheck: %s answered %d; want 200\n", url, resp.StatusCode)
		return ErrReported
	}
	fmt.Fprintf(stdout, "ok: %s\n", url)
	return nil
}

// healthzURL is where the local bridge answers /healthz, from listen and tls as serve reads them.
// Only those keys matter: problems elsewhere (serve reports them) do not fail a health check.
func healthzURL(file string, env map[string]string) (string, error) {
	cfg := defaultConfig()
	if file != "" {
		data, err := readFile(file)
		if err != nil {
			return "", err
		}
		_ = decodeYAML(data, &cfg)
	}
	_ = applyEnvironment(&cfg, env)
	host, port, err := net.SplitHostPort(cfg.Listen)
	if err != nil {
		return "", fmt.Errorf("listen %q is not host:port", cfg.Listen)
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	scheme := "http"
	if cfg.TLS.CertFile != "" {
		scheme = "https"
	}
	return scheme + "://" + net.JoinHostPort(host, port) + "/healthz", nil
}
