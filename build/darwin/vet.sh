#!/usr/bin/env bash
# Compiles and vets for macOS (GOOS=darwin, amd64 and arm64) every package that does not need cgo:
# the hub, the policy code and tool, the keychain, the wire protocol, the clients and tools. What
# needs cgo (the media engine's codecs and capture, and through it the app, the headless agent and
# the Wails entry point) cannot be cross-compiled without a Mac's SDK; it is listed, not hidden.
# A package is left out when it does not compile without cgo (itself or through what it imports,
# e.g. mediadevices' microphone through malgo, or in its tests), or when its tests import one of ours that does not.
set -euo pipefail
cd "$(dirname "$0")/../.."
mod=$(go list -m)
for arch in amd64 arm64; do
  export GOOS=darwin GOARCH=$arch CGO_ENABLED=0
  all=$(go list -e ./... 2>/dev/null)
  nocgo=$(for p in $all; do { go build -o /dev/null "$p" && go test -c -o /dev/null "$p"; } >/dev/null 2>&1 || echo "$p"; done)
  skip=$( (echo "$nocgo"
    go list -e -test -f '{{.ImportPath}}|{{join .Deps " "}}' ./... 2>/dev/null |
      awk -F'|' -v bad="$nocgo" 'BEGIN { n = split(bad, b, "\n"); for (i = 1; i <= n; i++) if (b[i] != "") no[b[i]] = 1 }
        { m = split($2, d, " "); for (i = 1; i <= m; i++) if (d[i] in no) { print $1; next } }') |
    sed -e 's/ \[.*\]$//' -e 's/\.test$//' -e 's/_test$//' | grep . | sort -u || true)
  pkgs=$(echo "$all" | grep -vxF -f <(echo "$skip") || true)
  [ -n "$pkgs" ] || { echo "vet-darwin: no package to vet" >&2; exit 1; }
  echo "vet-darwin ($arch): $(echo "$pkgs" | wc -l) packages vetted; need cgo (built on a Mac): $(echo "$skip" | sed "s|^$mod|.|" | tr '\n' ' ')"
  go vet $pkgs
done
