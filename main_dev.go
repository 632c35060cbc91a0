//go:build dev

package main

import "flag"

// devFlags declares the flags a Wails dev build reads itself (-assetdir, -devserver, ...), so
// that parsing ours does not stop at them.
func devFlags(fl *flag.FlagSet) {
	fl.String("assetdir", "", "dev build: directory to serve the UI from")
	fl.String("devserver", "", "dev build: address of the dev server that serves the UI to browsers")
	fl.String("frontenddevserverurl", "", "dev build: URL of an external frontend dev server")
	fl.String("loglevel", "", "dev build: Wails log level")
}
