# What agents and customers meet on a real shift (issue 21): the agent app's real window (test build
# under Xvfb, e2e/lib/window.mjs) with customers in Chromium (fake camera, microphone and screen),
# and portal states in Chromium. X screenshots in test-results/app-shift-*.png.
# Each test starts from the same state (afterEach: no call, no chat, no offer, agent1 available on
# the main hub), so one failure does not fail the tests after it.
# Load: on the shared 2-core machine at load 20-50 the customer's Chromium stalls for up to 8 s at a
# time, and a video call then drops (the agent restarts ICE after 5 s without packets; the stalled
# page answers late; its connection fails; the portal hangs up), with or without a screen share.
# The test says so when it happens (inCall) rather than timing out on the window.
# About 7 minutes at load ~10 on the 2-core machine.
E2E_TARGETS += test-app-shift-e2e

.PHONY: test-app-shift-e2e

# test-app-shift-e2e: the window survives its page's process dying (killed, or hung) with the call
# going on; a screen share stopped mid-call leaves the page alive; a call withdraws the offer on
# screen; sign-out with an open chat warns and requeues; a blocked camera; the language setting.
test-app-shift-e2e: deps web app-locales $(OUT)/parley-hub $(APP_E2E_BIN)
	PARLEY_HUB=$(OUT)/parley-hub PARLEY_APP_E2E=$(APP_E2E_BIN) node --test --test-timeout=1800000 e2e/app-shift.test.mjs
