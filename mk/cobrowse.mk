# The built-in co-browse and screen share (issue 6, part B): the recorder on the customer's page
# (portal/cobrowse, built by `make web` into portal/dist/assets/cobrowse-<hash>.js), the agent's
# sandboxed replay (frontend/src/components/visual) and the screen share's receive-only media call
# (app/screenshare.go). The E2E test drives both ends in real Chromium.
APT_PACKAGES += chromium
E2E_TARGETS += test-cobrowse-e2e

.PHONY: test-cobrowse-e2e

# test-cobrowse-e2e: recorder ↔ replay in Chromium: the page shows at the agent's, secrets never
# reach the wire, laser dot where the agent points, commands only with control, take back control,
# hostile markup runs nothing, malformed frames give coded errors. Screenshots in test-results/.
test-cobrowse-e2e: deps web
	node --test --test-timeout=180000 e2e/cobrowse.test.mjs
