# The built-in co-browse and screen share (issue 6, part B): the recorder on the customer's page
# (portal/cobrowse, built by `make web` into portal/dist/assets/cobrowse-<hash>.js), the agent's
# sandboxed replay (frontend/src/components/visual), the customer's screen share
# (portal/src/visual/screenshare.ts) and the agent's receive-only media call (app/screenshare.go).
APT_PACKAGES += chromium
E2E_TARGETS += test-cobrowse-e2e

.PHONY: test-cobrowse-e2e

# The agent's side of a screen share with the hub replaced by pipes (e2e/screenshare-probe).
$(OUT)/screenshare-probe: deps FORCE
	$(GO) build -o $@ ./e2e/screenshare-probe

# test-cobrowse-e2e, in real Chromium: recorder ↔ replay (the page shows at the agent's, secrets
# never reach the wire, laser dot where the agent points, commands only with control and never
# into masked fields, take back control, hostile markup runs nothing, malformed frames coded);
# screen share from Chromium's fake "Entire screen" to the Go engine as moving frames; the real
# widget loader on a host page fetches the recorder from the hub only on its chat's request; and
# the whole path, Chromium ↔ hub ↔ parley-agent -cobrowse: PIN in the chat, page at the agent,
# laser dot, typing with control, taken back, no secret on the wire (the browser's WebSocket
# frames) or at the agent; and parley-agent -screenshare: the customer shares the screen from the
# widget, the agent's MJPEG shows moving pictures, stop closes the call. Screenshots in test-results/.
test-cobrowse-e2e: deps web $(OUT)/parley-hub $(OUT)/parley-agent $(OUT)/screenshare-probe
	PARLEY_HUB=$(OUT)/parley-hub PARLEY_AGENT=$(OUT)/parley-agent PARLEY_SCREENSHARE_PROBE=$(OUT)/screenshare-probe node --test --test-timeout=600000 e2e/cobrowse.test.mjs
