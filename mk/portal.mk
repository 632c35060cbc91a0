# The customer portal (chat widget): built by `make web` (npm run build:portal) into portal/dist,
# which the hub embeds. Its end-to-end test drives real headless Chromium against a real hub and a
# real headless agent.
APT_PACKAGES += chromium fonts-dejavu-core
E2E_TARGETS += test-portal-e2e test-portal-routing-e2e

.PHONY: test-portal-e2e test-portal-routing-e2e portal-size

# test-portal-e2e: customer in Chromium ↔ hub ↔ parley-agent: send/echo, dropped link resumes with
# nothing lost or doubled, markup shown as text, the widget loader on a host page, the screen-share
# invitation. Screenshots go to test-results/. node --test's timeout bounds the whole file (about 5
# minutes on the loaded 2-core machine): 10 minutes.
test-portal-e2e: deps out/parley-hub out/parley-agent
	PARLEY_HUB=$(OUT)/parley-hub PARLEY_AGENT=$(OUT)/parley-agent node --test --test-timeout=600000 e2e/portal.test.mjs

# test-portal-routing-e2e: routing as the customer meets it (the demo organisation's queues): the
# pre-chat question's answer picks the queue, the place in it and an estimated wait, the skilled agent
# gets it; a widget's queue in its language, closed → a message left; an unknown queue → the default.
test-portal-routing-e2e: deps out/parley-hub out/parley-agent
	PARLEY_HUB=$(OUT)/parley-hub PARLEY_AGENT=$(OUT)/parley-agent node --test --test-timeout=240000 e2e/portal-routing.test.mjs

# portal-size: print the gzipped weight of the widget loader and of the chat's first load.
portal-size: deps
	npm run --silent build:portal | grep budget

# test-admin-e2e: the organisation admin's console in Chromium against a real hub: sign in, invite
# someone who sets a password on the setup page, change the organisation, the audit log, sign-out
# ending the session; the console at 360 px in Spanish. Screenshots go to test-results/.
E2E_TARGETS += test-admin-e2e
.PHONY: test-admin-e2e
test-admin-e2e: deps out/parley-hub
	PARLEY_HUB=$(OUT)/parley-hub node --test --test-timeout=240000 e2e/admin.test.mjs
