package replicas

import (
	"fmt"
	"sync"
	"testing"

	"github.com/scim-bridge/scim-bridge/salesforce/emulator"
)

// Three replicas share one token_file while Salesforce rotates the refresh token on every refresh
// (issue 10: before, only the first replica to refresh kept working; the others answered 503
// "cannot authenticate" until restarted). Twenty times, every access token expires and every
// replica gets concurrent requests: every answer is 2xx.
func TestReplicasShareARotatingRefreshToken(t *testing.T) {
	t.Parallel()
	f := startFleet(t, 3, func(c *emulator.Config) { c.RotateRefreshTokens = true }, "")
	const rounds, perReplica = 20, 3
	for round := range rounds {
		f.emu.ExpireTokens()
		var wg sync.WaitGroup
		var mu sync.Mutex
		var failures []string
		for _, r := range f.replicas {
			for i := range perReplica {
				wg.Go(func() {
					path := "/Users?count=1"
					if i%2 == 1 {
						path = "/Groups?count=1&excludedAttributes=members"
					}
					if a := r.do(t, "GET", path, nil); a.Status/100 != 2 {
						mu.Lock()
						failures = append(failures, fmt.Sprintf("%s GET %s = %d %s", r.name, path, a.Status, a.Raw))
						mu.Unlock()
					}
				})
			}
		}
		wg.Wait()
		if len(failures) > 0 {
			t.Fatalf("round %d: %d answers were not 2xx, e.g. %s", round, len(failures), failures[0])
		}
	}
}
