//go:build !unix

package rest

import (
	"context"
	"errors"
)

// lockFile has no cross-process lock to take outside Unix: replicas sharing a token_file with a
// rotating refresh token need a Unix host (see docs/reliability.md).
func lockFile(ctx context.Context, path string) (func(), error) {
	return nil, errors.New("file locks are not supported on this platform")
}
