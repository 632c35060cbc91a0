# The agent desktop app (Wails v2, Svelte UI in frontend/) and the headless agent (cmd/parley-agent).
# Linux builds of the app need WebKitGTK 4.1 (-tags webkit2_41); its E2E runs the real app under Xvfb.
APT_PACKAGES += libgtk-3-dev libwebkit2gtk-4.1-dev xvfb xauth imagemagick chromium fonts-dejavu-core
E2E_TARGETS += test-app-e2e

APP_TAGS := webkit2_41
APP_BIN := build/bin/parley

.PHONY: agent app demo test-app-e2e $(OUT)/parley-agent $(APP_BIN)

# agent: the headless agent.
agent: $(OUT)/parley-agent
$(OUT)/parley-agent:
	$(GO) build -ldflags "$(LDFLAGS)" -o $@ ./cmd/parley-agent

# app: the desktop app. The UI is built by `make web`; wails must not tidy go.mod nor rebuild it.
app: $(APP_BIN)
$(APP_BIN): deps web
	$(GO) tool wails build -tags $(APP_TAGS) -s -m -nosyncgomod -skipbindings -nocolour -ldflags "$(LDFLAGS)"

# demo: the app against a hub started in-process with the demo organisation, signed in as agent1.
# It prints the portal URL a customer can chat from. Without a display it runs under Xvfb.
demo: $(APP_BIN)
	@if [ -n "$$DISPLAY$$WAYLAND_DISPLAY" ]; then \
		$(APP_BIN) -demo; \
	else \
		echo "demo: no \$$DISPLAY: running the app under xvfb-run (invisible; open the portal URL below and use make test-app-e2e for screenshots)"; \
		xvfb-run -a -s "-screen 0 1280x800x24" $(APP_BIN) -demo; \
	fi

# test-app-e2e: the real Wails app (dev build, so Chromium can drive its UI through the Wails dev
# server) under Xvfb, against a real hub, with a customer in Chromium. Screenshots in test-results/.
test-app-e2e: deps web $(OUT)/parley-hub $(OUT)/parley-agent
	$(GO) build -tags dev,$(APP_TAGS) -ldflags "$(LDFLAGS)" -o $(OUT)/parley-dev .
	PARLEY_HUB=$(OUT)/parley-hub PARLEY_AGENT=$(OUT)/parley-agent PARLEY_APP=$(OUT)/parley-dev node --test --test-timeout=300000 e2e/app.test.mjs
