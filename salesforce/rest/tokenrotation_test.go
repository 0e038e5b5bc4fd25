package rest

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/rs/zerolog"

	"github.com/scim-bridge/scim-bridge/salesforce/emulator"
)

// Replicas sharing one token_file against an org that rotates refresh tokens: after every expiry
// each replica refreshes, and none ever spends a refresh token another one already spent (which
// Salesforce answers with invalid_grant). Each client opens the lock file itself, so the flock
// contention is the same as between processes.
func TestReplicasShareARotatingRefreshToken(t *testing.T) {
	t.Parallel()
	o := newOrg(t, emulator.Config{RotateRefreshTokens: true})
	tokenFile := filepath.Join(t.TempDir(), "sf-refresh-token")
	replicas := make([]*Client, 3)
	for i := range replicas {
		replicas[i] = o.client(t, func(cfg *Config) { cfg.TokenFile = tokenFile })
	}
	q := adminQuery(t)
	ctx := context.Background()
	const rounds, perReplica = 20, 4
	for round := range rounds {
		o.emu.ExpireTokens()
		var wg sync.WaitGroup
		errs := make(chan error, len(replicas)*perReplica)
		for _, c := range replicas {
			for range perReplica {
				wg.Go(func() {
					_, err := c.Query(ctx, q, 0)
					errs <- err
				})
			}
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatalf("round %d: Query() error = %v; want every replica to keep working", round, err)
			}
		}
	}
	// One refresh per replica per round, never a refused one.
	if got, want := o.tokenCalls(), rounds*len(replicas); got != want {
		t.Errorf("token calls = %d; want %d (one per replica per round)", got, want)
	}
	stored, _, err := readTokenFile(tokenFile)
	if err != nil || stored == testRefreshToken {
		t.Errorf("token file = %q, %v; want the latest rotated token", stored, err)
	}
	// The file holds the one live refresh token: a new replica starts from it.
	late := o.client(t, func(cfg *Config) { cfg.TokenFile = tokenFile })
	if err := late.Token(ctx); err != nil {
		t.Errorf("a replica started later: Token() error = %v", err)
	}
}

// A replica that did not take part in a rotation still holds the old refresh token in memory;
// when Salesforce refuses it, it finds the new one in the token file.
func TestInvalidGrantRereadsTheTokenFile(t *testing.T) {
	t.Parallel()
	o := newOrg(t, emulator.Config{RotateRefreshTokens: true})
	tokenFile := filepath.Join(t.TempDir(), "sf-refresh-token")
	ctx := context.Background()
	a := o.client(t, func(cfg *Config) { cfg.TokenFile = tokenFile })
	b := o.client(t, func(cfg *Config) { cfg.TokenFile = tokenFile })
	if err := a.Token(ctx); err != nil {
		t.Fatalf("A: Token() error = %v", err)
	}
	// An operator (or a replica of an older release) replaces the file by hand with a fresh token;
	// A's in-memory token was rotated out by the call above, B's by nothing it saw.
	fresh := o.emu.IssueRefreshToken()
	if err := os.WriteFile(tokenFile, []byte(fresh+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]*Client{"A": a, "B": b} {
		o.emu.ExpireTokens()
		if _, err := c.Query(ctx, adminQuery(t), 0); err != nil {
			t.Errorf("%s: Query() after the file was replaced: %v", name, err)
		}
	}
}

// A rotated token that cannot be written is counted and logged; the call at hand still works.
func TestTokenPersistFailureIsCountedAndLogged(t *testing.T) {
	t.Parallel()
	o := newOrg(t, emulator.Config{RotateRefreshTokens: true})
	reg := prometheus.NewRegistry()
	var buf bytes.Buffer
	logs := &syncWriter{w: &buf}
	unwritable := filepath.Join(t.TempDir(), "missing-dir", "sf-refresh-token")
	c := o.client(t, func(cfg *Config) {
		cfg.TokenFile = unwritable
		cfg.Registerer = reg
		cfg.Logger = zerolog.New(logs)
	})
	if _, err := c.Query(context.Background(), adminQuery(t), 0); err != nil {
		t.Fatalf("Query() error = %v; want the call to proceed", err)
	}
	if got := testutil.ToFloat64(c.metrics.persists); got != 1 {
		t.Errorf("scim_bridge_token_persist_failures_total = %v; want 1", got)
	}
	logs.mu.Lock()
	out := buf.String()
	logs.mu.Unlock()
	if !strings.Contains(out, `"level":"error"`) || !strings.Contains(out, "cannot persist the rotated refresh token") {
		t.Errorf("log = %s; want an error line about the lost token", out)
	}
	for _, secret := range []string{testRefreshToken, testClientSecret} {
		if strings.Contains(out, secret) {
			t.Errorf("the log contains a secret")
		}
	}
}
