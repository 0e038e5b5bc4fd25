package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/scim-bridge/scim-bridge/salesforce/rest"
	"github.com/scim-bridge/scim-bridge/server/status"
)

// runStatus prints what the status page shows, read from the running bridge's admin listener
// (admin_listen in the same configuration).
func runStatus(ctx context.Context, args []string, env []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("status", stderr)
	configFile := fs.String("config", "", "YAML configuration file of the running bridge (or SCIM_BRIDGE_CONFIG)")
	if ok, err := parseFlags(fs, args); !ok {
		return err
	}
	em := envMap(env)
	if *configFile == "" {
		*configFile = em[envConfig]
	}
	cfg, err := loadConfig(*configFile, em, "", forStatus)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return ErrReported
	}
	if cfg.AdminListen == "" {
		fmt.Fprintln(stderr, "admin_listen: is empty, so the bridge serves no status; set it (e.g. 127.0.0.1:9090) and restart the bridge")
		return ErrReported
	}
	url := "http://" + dialAddress(cfg.AdminListen) + "/status.json"
	s, err := fetchStatus(ctx, url)
	if err != nil {
		fmt.Fprintf(stderr, "status: cannot read %s: %v\nIs the bridge running with this configuration?\n", url, err)
		return ErrReported
	}
	if err := status.WriteText(stdout, s); err != nil {
		return err
	}
	return nil
}

// dialAddress turns a listen address into one to connect to: a wildcard host becomes loopback.
func dialAddress(listen string) string {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return listen
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}

func fetchStatus(ctx context.Context, url string) (status.Snapshot, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return status.Snapshot{}, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return status.Snapshot{}, errors.New(rest.NetworkCause(err))
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return status.Snapshot{}, fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	var s status.Snapshot
	if err := json.NewDecoder(io.LimitReader(resp.Body, 8<<20)).Decode(&s); err != nil {
		return status.Snapshot{}, fmt.Errorf("the answer is not a status snapshot: %w", err)
	}
	return s, nil
}
