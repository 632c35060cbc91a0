//go:build dev

package main

import (
	"flag"
	"os"
)

func init() {
	// The flags a Wails dev build reads itself (-assetdir, -devserver, ...), so that parsing ours
	// does not stop at them.
	devFlags = func(fl *flag.FlagSet) {
		fl.String("assetdir", "", "dev build: directory to serve the UI from")
		fl.String("devserver", "", "dev build: address of the dev server that serves the UI to browsers")
		fl.String("frontenddevserverurl", "", "dev build: URL of an external frontend dev server")
		fl.String("loglevel", "", "dev build: Wails log level")
	}
	// Dev builds (the app E2E tests) may load a policy file of their own from PARLEY_POLICY_FILE.
	// Release builds read only the machine's file: an agent must not be able to point the app at
	// a policy of their choosing.
	policyFileOverride = func() string { return os.Getenv("PARLEY_POLICY_FILE") }
}
