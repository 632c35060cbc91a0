//go:build dev

package main

import "os"

// policyFileOverride lets dev builds (the app E2E tests) load a policy file of their own from
// PARLEY_POLICY_FILE. Release builds read only the machine's file: an agent must not be able to
// point the app at a policy of their choosing.
func policyFileOverride() string { return os.Getenv("PARLEY_POLICY_FILE") }
