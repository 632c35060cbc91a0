# test-journey-e2e: issue 11's IT journey with the real hub package (dist/parley-hub_*.deb, unpacked
# with dpkg-deb -x, so nothing on the machine is installed): parley-hub init → setup link in Chromium
# → console invites → the agent signs in from the real app window and takes a portal chat → disabled
# mid-chat, the chat goes back to the queue; then single sign-on against a real OpenID provider
# (out/testidp) through the system-browser flow, and the admin ends that session.
E2E_TARGETS += test-journey-e2e
.PHONY: test-journey-e2e $(OUT)/testidp
$(OUT)/testidp:
	$(GO) build -o $@ ./internal/testidp/cmd/testidp
test-journey-e2e: dist-hub app-locales $(OUT)/parley-agent $(OUT)/testidp $(APP_E2E_BIN)
	PARLEY_AGENT=$(OUT)/parley-agent PARLEY_TESTIDP=$(OUT)/testidp PARLEY_APP_E2E=$(APP_E2E_BIN) \
		node --test --test-timeout=400000 e2e/journey.test.mjs
