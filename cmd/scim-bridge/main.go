// Command scim-bridge is a SCIM 2.0 server that provisions identity-provider users and groups into a
// Salesforce org. See README.md.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/scim-bridge/scim-bridge/cmd/scim-bridge/app"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		// The first signal starts a graceful shutdown; restoring the default lets a second one
		// end the process at once.
		<-ctx.Done()
		stop()
	}()
	err := app.RunWithSignals(ctx, os.Args[1:], os.Environ(), os.Stdout, os.Stderr, app.Signals{Reload: hangups()})
	stop()
	if err != nil {
		if !errors.Is(err, app.ErrReported) {
			fmt.Fprintln(os.Stderr, "scim-bridge:", err)
		}
		os.Exit(1)
	}
}

// hangups delivers SIGHUP (reload) as a channel; a reload still pending absorbs further signals.
func hangups() <-chan struct{} {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGHUP)
	reload := make(chan struct{}, 1)
	go func() {
		for range sig {
			select {
			case reload <- struct{}{}:
			default:
			}
		}
	}()
	return reload
}
