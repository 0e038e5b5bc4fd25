package app

import (
	"context"
	"io"

	"github.com/scim-bridge/scim-bridge/test/conformance"
)

// runConformance is `scim-bridge conformance`: the black-box suite of test/conformance against any
// SCIM server. The command prints its own report and errors; a failure only sets the exit status.
func runConformance(ctx context.Context, args, env []string, stdout, stderr io.Writer) error {
	if !conformance.Command(ctx, args, env, stdout, stderr) {
		return ErrReported
	}
	return nil
}
