// Package version holds the build's version, stamped from git by the Makefile's -ldflags.
package version

// Version is the release, e.g. "v0.3.0" or "v0.3.0-4-gabc123"; "dev" for unstamped builds.
var Version = "dev"
