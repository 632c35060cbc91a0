# What agents and customers meet on a real shift (issue 21): the agent app's real window (test build
# under Xvfb, e2e/lib/window.mjs) with customers in Chromium (fake camera, microphone and screen),
# and portal states in Chromium. X screenshots in test-results/app-shift-*.png.
# Not yet part of make test: on the shared 2-core machine at load 40-90 its window stopped answering
# during the screen share and every later step failed, so it has not passed end to end yet. Run it
# by hand (and add it to E2E_TARGETS once it passes on an idle machine).
# E2E_TARGETS += test-app-shift-e2e

.PHONY: test-app-shift-e2e

# test-app-shift-e2e: the window survives its page's process dying (killed, or hung) with the call
# going on; a screen share stopped mid-call leaves the page alive.
test-app-shift-e2e: deps web app-locales $(OUT)/parley-hub $(APP_E2E_BIN)
	PARLEY_HUB=$(OUT)/parley-hub PARLEY_APP_E2E=$(APP_E2E_BIN) node --test --test-timeout=1800000 e2e/app-shift.test.mjs
