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
