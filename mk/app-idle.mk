# Chats whose customer has gone, in the agent app's real window: presence, the warning, keep open,
# the close after inactivity and the capacity it gives back (e2e/app-idle.test.mjs).
E2E_TARGETS += test-app-idle-e2e

.PHONY: test-app-idle-e2e

# test-app-idle-e2e: a Chromium customer closes the tab; the window shows them gone, warns, keeps
# the chat open once, closes it after the shortened idle time and offers the waiting customer at
# once; then the same in Spanish. Screenshots in test-results/app-idle-*.png.
test-app-idle-e2e: deps web app-locales $(OUT)/parley-hub $(OUT)/parley-agent $(OUT)/parley-e2e
	PARLEY_HUB=$(OUT)/parley-hub PARLEY_AGENT=$(OUT)/parley-agent PARLEY_APP_E2E=$(OUT)/parley-e2e node --test --test-timeout=300000 e2e/app-idle.test.mjs
