// Package harness is the one test harness of the suites under test/ (e2e, robustness, bench,
// conformance's in-process mode, replicas, browser): it starts the Salesforce emulator and the
// bridge in front of it on loopback ports (Start, StartEmulator), seeds the org, and hands out a
// SCIM client holding the bearer token (Client), a reader of what Salesforce holds (Org) and the
// captured log (Logs). SCIM_BRIDGE_TEST_EMULATOR_PROFILE picks the emulator's profile
// (.ci/run runs the emulator suites under both).
//
// It is test code: production packages never import it (test/architecture checks that).
package harness
