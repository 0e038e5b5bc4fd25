package app

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"time"

	"github.com/scim-bridge/scim-bridge/salesforce/emulator"
)

// runEmulator runs the Salesforce emulator alone, for trying the bridge (or any Salesforce client)
// against it.
func runEmulator(ctx context.Context, args []string, env []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("emulator", stderr)
	listen := fs.String("listen", "127.0.0.1:9999", "address to listen on")
	seedFile := fs.String("seed", "", "JSON file replacing the default org (profiles, permission sets, users, licences)")
	clientID := fs.String("client-id", "scim-bridge-emulator", "connected-app client id the emulator accepts")
	clientSecret := fs.String("client-secret", "", "client secret the emulator accepts (default: generated)")
	refreshToken := fs.String("refresh-token", "", "refresh token the emulator accepts (default: generated)")
	apiLimit := fs.Int("api-limit", 15000, "daily API allowance reported in Sforce-Limit-Info")
	tokenTTL := fs.Duration("token-ttl", 2*time.Hour, "access-token lifetime")
	rotate := fs.Bool("rotate-refresh-tokens", false, "answer each refresh with a new refresh token and revoke the old one (refresh-token rotation)")
	jwtCert := fs.String("jwt-certificate", "", "PEM certificate or public key that verifies JWT-bearer assertions (enables the jwt flow)")
	profileName := fs.String("profile", "default", "default, or strict: only behaviour public Salesforce documentation confirms, plus what real orgs add (see docs/salesforce-behaviour.md)")
	if ok, err := parseFlags(fs, args); !ok {
		return err
	}
	profile, err := emulator.ParseProfile(*profileName)
	if err != nil {
		fmt.Fprintln(stderr, "--profile:", err)
		return ErrReported
	}
	cfg := emulator.Config{
		ClientID:            *clientID,
		ClientSecret:        *clientSecret,
		RefreshToken:        *refreshToken,
		APILimit:            *apiLimit,
		TokenTTL:            *tokenTTL,
		RotateRefreshTokens: *rotate,
		Profile:             profile,
		// Like a real org: audit datetimes in whole seconds.
		Quirks: emulator.Quirks{SecondResolutionTimestamps: true},
	}
	if cfg.ClientSecret == "" {
		cfg.ClientSecret = randomToken(16)
	}
	if cfg.RefreshToken == "" {
		cfg.RefreshToken = "5Aep" + randomToken(24)
	}
	if *seedFile != "" {
		f, err := os.Open(*seedFile)
		if err != nil {
			fmt.Fprintln(stderr, "--seed:", err)
			return ErrReported
		}
		seed, err := emulator.LoadSeed(f)
		f.Close()
		if err != nil {
			fmt.Fprintln(stderr, "--seed:", err)
			return ErrReported
		}
		cfg.Seed = seed
	}
	if *jwtCert != "" {
		pem, err := os.ReadFile(*jwtCert)
		if err != nil {
			fmt.Fprintln(stderr, "--jwt-certificate:", err)
			return ErrReported
		}
		cfg.JWTCertificatePEM = pem
	}
	emu, err := emulator.New(cfg)
	if err != nil {
		fmt.Fprintln(stderr, "emulator:", err)
		return ErrReported
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		fmt.Fprintf(stderr, "--listen: cannot listen on %s: %v\n", *listen, err)
		return ErrReported
	}
	logger := newLogger(stdout, envMap(env))
	fmt.Fprintf(stdout, "Salesforce emulator (%s profile) listening on http://%s\n", profile, ln.Addr())
	fmt.Fprintf(stdout, "  client id      %s\n  client secret  %s\n  refresh token  %s\n", cfg.ClientID, cfg.ClientSecret, cfg.RefreshToken)
	fmt.Fprintf(stdout, "  test hooks     http://%s/__emulator/\n", ln.Addr())
	return serveUntilDone(ctx, ln, emu.Handler(), TLSConfig{}, logger)
}
