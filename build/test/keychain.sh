#!/bin/bash
# Runs the keychain tests against a real gnome-keyring on a private session bus, so the developer's
# own keyring is never touched: `dbus-run-session -- build/test/keychain.sh` (make test-keychain
# does this twice: headless, where a locked keyring's unlock prompt fails at once, and under Xvfb,
# where the prompt opens and waits for nobody, so only the timeout ends the call).
set -euo pipefail
# A fresh, unlocked keyring (and a fresh HOME) from with-keyring.sh, then the tests below.
if [ -z "${PARLEY_KEYRING_READY:-}" ]; then
  PARLEY_KEYRING_READY=1 exec bash "$(dirname "$0")/with-keyring.sh" bash "$0" "$@"
fi
quiet() { grep -v -e '^dbus-daemon' -e 'Gtk-WARNING' -e 'Gcr-WARNING' -e 'cannot open display' -e '^$' || true; }
# First the agent app's provider sign-in against the unlocked keyring, then the keychain test,
# which ends by locking it.
PARLEY_KEYCHAIN_TEST=1 go test -count=1 -timeout 120s -run 'TestVisualExternalProvider' -v ./app 2>&1 | quiet
test "${PIPESTATUS[0]}" = 0
PARLEY_KEYCHAIN_TEST=1 go test -count=1 -timeout 60s -run 'TestRealGnomeKeyring' -v ./app/keychain 2>&1 | quiet
test "${PIPESTATUS[0]}" = 0
