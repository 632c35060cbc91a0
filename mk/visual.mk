# Visual engagement (co-browse and screen share), part A: providers chosen by the organisation's
# admin (hub/admin.go, the page at /admin/{org}), the agent's provider tab with credentials in the
# OS keychain (app/keychain, app/visual.go), the PIN shared into the chat, and the customer's
# invitation (portal/src/visual/).
#
# test-keychain runs go-keyring against a real gnome-keyring on a private session bus, twice:
# headless (a locked keyring's unlock prompt fails at once) and under Xvfb (the prompt opens and
# waits for nobody: only the timeout ends the call). Both must report ErrLocked, never hang.
# test-visual-e2e drives the external-provider path with a fake provider site.
APT_PACKAGES += dbus dbus-x11 gnome-keyring libsecret-tools libglib2.0-bin xvfb xauth chromium

.PHONY: test-keychain

E2E_TARGETS += test-keychain

test-keychain: deps
	timeout 180 dbus-run-session -- bash build/test/keychain.sh
	timeout 180 xvfb-run -a dbus-run-session -- bash build/test/keychain.sh

# test-visual-e2e: the external provider path with the real Wails app (dev build) under Xvfb and a
# customer in Chromium, in a private session bus with an unlocked gnome-keyring.
.PHONY: test-visual-e2e
E2E_TARGETS += test-visual-e2e

test-visual-e2e: deps web $(OUT)/parley-hub $(OUT)/parley-dev
	PARLEY_HUB=$(OUT)/parley-hub PARLEY_APP=$(OUT)/parley-dev timeout 900 dbus-run-session -- \
		bash build/test/with-keyring.sh node --test --test-timeout=600000 e2e/visual-provider.test.mjs
