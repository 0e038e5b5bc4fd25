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
	err := app.Run(ctx, os.Args[1:], os.Environ(), os.Stdout, os.Stderr)
	stop()
	if err != nil {
		if !errors.Is(err, app.ErrReported) {
			fmt.Fprintln(os.Stderr, "scim-bridge:", err)
		}
		os.Exit(1)
	}
}
