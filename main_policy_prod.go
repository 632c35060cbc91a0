//go:build !dev

package main

// policyFileOverride is empty in release builds: only the machine's policy file counts.
func policyFileOverride() string { return "" }
