# Calls from the agent app (app/calls*.go, frontend/src/components/call/): the real Wails app under
# Xvfb with test-pattern devices calls a portal customer in Chromium through a real hub.
E2E_TARGETS += test-app-calls-e2e

.PHONY: test-app-calls-e2e

# test-app-calls-e2e: video, decline and voice calls (with a supervisor assigning a chat mid-call).
# Screenshots of the UI and of the real window go to test-results/.
test-app-calls-e2e: deps web $(OUT)/parley-hub
	$(GO) build -tags dev,$(APP_TAGS) -ldflags "$(LDFLAGS)" -o $(OUT)/parley-dev .
	PARLEY_HUB=$(OUT)/parley-hub PARLEY_APP=$(OUT)/parley-dev node --test --test-timeout=300000 e2e/app-calls.test.mjs
