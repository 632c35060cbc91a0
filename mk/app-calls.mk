# Calls from the agent app (app/calls*.go, frontend/src/components/call/): the app's real window
# (test build, $(OUT)/parley-e2e from mk/app.mk) under Xvfb with test-pattern devices calls a portal
# customer in Chromium through a real hub.
E2E_TARGETS += test-app-calls-e2e
# ss (iproute2): the test reads what the app's video bridge sends from its sockets.
APT_PACKAGES += iproute2

.PHONY: test-app-calls-e2e

# test-app-calls-e2e: video, decline and voice calls (with a supervisor assigning a chat mid-call),
# and a 900x560 window (the control's place, its popovers, audio figures, meter, speaker test).
# X screenshots of the window go to test-results/app-window-call-*.png. The timeout bounds the whole
# file: 7 minutes at load 27 on the shared 2-core machine, so 15.
test-app-calls-e2e: deps web $(OUT)/parley-hub $(OUT)/parley-e2e
	PARLEY_HUB=$(OUT)/parley-hub PARLEY_APP_E2E=$(OUT)/parley-e2e node --test --test-timeout=900000 e2e/app-calls.test.mjs
