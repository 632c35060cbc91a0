#!/usr/bin/env bash
# Compiles and vets for macOS (GOOS=darwin, amd64 and arm64) every package that does not need cgo:
# the hub, the policy code and tool, the keychain, the wire protocol, the clients and tools. What
# needs cgo (the media engine's codecs and capture, and through it the app, the headless agent and
# the Wails entry point) cannot be cross-compiled without a Mac's SDK; it is listed, not hidden.
# A package is left out when it has cgo files, or when it or its tests import one that needs cgo.
set -euo pipefail
cd "$(dirname "$0")/../.."
mod=$(go list -m)
for arch in amd64 arm64; do
  export GOOS=darwin GOARCH=$arch CGO_ENABLED=0
  skip=$( (CGO_ENABLED=1 go list -f '{{if .CgoFiles}}{{.ImportPath}}{{end}}' ./...
    go list -e -test -f '{{if or .Error .DepsErrors}}{{.ImportPath}}{{end}}' ./... 2>/dev/null) |
    sed -e 's/ \[.*\]$//' -e 's/\.test$//' -e 's/_test$//' | grep . | sort -u)
  pkgs=$(go list -e ./... 2>/dev/null | grep -vxF -f <(echo "$skip") || true)
  [ -n "$pkgs" ] || { echo "vet-darwin: no package to vet" >&2; exit 1; }
  echo "vet-darwin ($arch): $(echo "$pkgs" | wc -l) packages vetted; need cgo (built on a Mac): $(echo "$skip" | sed "s|^$mod|.|" | tr '\n' ' ')"
  go vet $pkgs
done
