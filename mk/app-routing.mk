# Routing as issue 14 shows it, with the agent app's real window (e2e/app-routing.test.mjs).
E2E_TARGETS += test-app-routing-e2e

.PHONY: test-app-routing-e2e

# test-app-routing-e2e: a Chromium customer answers "Billing"; Agent One (the real window) answers
# with a "/" quick reply, consults the supervisor, writes an internal note and transfers to Sales
# with a note; Agent Two (headless) takes it and calls the customer back; the supervisor's Queues
# table shows both queues' service level. Screenshots in test-results/app-window-routing-*.png.
test-app-routing-e2e: deps web app-locales $(OUT)/parley-hub $(OUT)/parley-agent $(OUT)/parley-e2e
	PARLEY_HUB=$(OUT)/parley-hub PARLEY_AGENT=$(OUT)/parley-agent PARLEY_APP_E2E=$(OUT)/parley-e2e node --test --test-timeout=300000 e2e/app-routing.test.mjs
