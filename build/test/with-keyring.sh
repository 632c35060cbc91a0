#!/bin/bash
# Runs a command with a fresh, unlocked gnome-keyring on the current (private) session bus:
# `dbus-run-session -- build/test/with-keyring.sh node --test e2e/visual-provider.test.mjs`.
set -euo pipefail
export GOPATH="$(go env GOPATH)" GOMODCACHE="$(go env GOMODCACHE)" GOCACHE="$(go env GOCACHE)"
HOME="$(mktemp -d)"
XDG_RUNTIME_DIR="$(mktemp -d)"
export HOME XDG_RUNTIME_DIR
trap 'rm -rf "$HOME" "$XDG_RUNTIME_DIR"' EXIT
printf %s parley-test-pass | gnome-keyring-daemon --unlock --components=secrets >/dev/null
gdbus wait --session --timeout 10 org.freedesktop.secrets
"$@"
