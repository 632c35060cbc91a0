# test-journey-e2e: issue 11's IT journey with the real hub package (dist/parley-hub_*.deb, unpacked
# with dpkg-deb -x, so nothing on the machine is installed): parley-hub init → setup link in Chromium
# → console invites → the agent signs in from the real app window and takes a portal chat → disabled
# mid-chat, the chat goes back to the queue; then single sign-on against a real OpenID provider
# (out/testidp) through the system-browser flow, and the admin ends that session.
E2E_TARGETS += test-journey-e2e
.PHONY: test-journey-e2e
$(OUT)/testidp: FORCE
	$(GO) build -o $@ ./internal/testidp/cmd/testidp
test-journey-e2e: dist-hub app-locales $(OUT)/parley-agent $(OUT)/testidp $(APP_E2E_BIN)
	PARLEY_AGENT=$(OUT)/parley-agent PARLEY_TESTIDP=$(OUT)/testidp PARLEY_APP_E2E=$(APP_E2E_BIN) \
		node --test --test-timeout=400000 e2e/journey.test.mjs

# test-deploy-e2e: HTTPS the three ways docs/deploy.md gives it, a Chromium customer (camera in a
# secure context) and the headless agent chatting through each: the hub's own -tls-cert/-tls-key
# with a CA made in the test; nginx and Caddy with the configurations copied from docs/deploy.md.
# Caddy is built from its Go module (no downloaded binary), like nfpm.
APT_PACKAGES += nginx-light openssl
CADDY_VERSION := v2.11.9
E2E_TARGETS += test-deploy-e2e
.PHONY: test-deploy-e2e
$(OUT)/tools/caddy:
	GOBIN=$(abspath $(OUT)/tools) GOFLAGS=-mod=mod $(GO) install github.com/caddyserver/caddy/v2/cmd/caddy@$(CADDY_VERSION)
test-deploy-e2e: deps out/parley-hub out/parley-agent $(OUT)/tools/caddy
	PARLEY_HUB=$(OUT)/parley-hub PARLEY_AGENT=$(OUT)/parley-agent PARLEY_CADDY=$(OUT)/tools/caddy \
		node --test --test-timeout=300000 e2e/deploy.test.mjs
