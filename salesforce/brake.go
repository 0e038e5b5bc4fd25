package salesforce

import "time"

// DeprovisionLimit is provisioning.deprovision_limit: at most Max deactivations, freezes and
// deletes within Window; Max 0 turns the brake off.
type DeprovisionLimit struct {
	Max    int
	Window time.Duration
}
