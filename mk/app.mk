# The agent desktop app (Wails v2, Svelte UI in frontend/) and the headless agent (cmd/parley-agent).
# Linux builds of the app need WebKitGTK 4.1 (-tags webkit2_41); its E2E runs the real app under Xvfb.
APT_PACKAGES += libgtk-3-dev libwebkit2gtk-4.1-dev xvfb xauth xdotool locales imagemagick chromium fonts-dejavu-core
E2E_TARGETS += test-app-e2e test-app-visual-e2e

APP_TAGS := webkit2_41
APP_BIN := build/bin/parley
# The app's test build: the release build (wails build's tags desktop,production and -ldflags -w -s)
# plus the window harness (tag e2e, internal/winharness) that E2E tests drive the real window with.
APP_E2E_BIN := $(OUT)/parley-e2e

.PHONY: agent app demo test-app-e2e test-app-visual-e2e

# agent: the headless agent.
agent: $(OUT)/parley-agent
$(OUT)/parley-agent: FORCE
	$(GO) build -ldflags "$(LDFLAGS)" -o $@ ./cmd/parley-agent

# app: the desktop app. The UI is built by `make web`; wails must not tidy go.mod nor rebuild it.
app: $(APP_BIN)
$(APP_BIN): deps web FORCE
	$(GO) tool wails build -tags $(APP_TAGS) -s -m -nosyncgomod -skipbindings -nocolour -ldflags "$(LDFLAGS)"

# demo: the app against a hub started in-process with the demo organisation, signed in as agent1.
# It prints the portal URL a customer can chat from. Without a display it runs under Xvfb. Only
# this build (tag demo, demo.go) links the hub, SQLite, TURN and the portal: the shipped app does not.
DEMO_BIN := $(OUT)/parley-demo
demo: $(DEMO_BIN)
	@if [ -n "$$DISPLAY$$WAYLAND_DISPLAY" ]; then \
		$(DEMO_BIN) -demo; \
	else \
		echo "demo: no \$$DISPLAY: running the app under xvfb-run (invisible; open the portal URL below and use make test-app-e2e for screenshots)"; \
		xvfb-run -a -s "-screen 0 1280x800x24" $(DEMO_BIN) -demo; \
	fi

$(DEMO_BIN): deps web FORCE
	$(GO) build -tags desktop,production,$(APP_TAGS),demo -ldflags "$(LDFLAGS) -w -s" -o $@ .

# The dev build (wails dev's tags: the UI from -assetdir or a dev server, a policy file from
# PARLEY_POLICY_FILE) that the E2E tests driving the window from Chromium start (e2e/lib/app.mjs).
APP_DEV_BIN := $(OUT)/parley-dev
$(APP_DEV_BIN): deps web FORCE
	$(GO) build -tags dev,$(APP_TAGS) -ldflags "$(LDFLAGS)" -o $@ .

$(APP_E2E_BIN): deps web FORCE
	$(GO) build -tags desktop,production,$(APP_TAGS),e2e -ldflags "$(LDFLAGS) -w -s" -o $@ .

# app-locales: the C library's Spanish and English locales, so LANG=es_ES.UTF-8 reaches the
# window as it does on a Spanish desktop (a fresh Debian image knows only C and C.UTF-8).
.PHONY: app-locales
app-locales: deps
	@for l in es_ES en_US; do locale -a | grep -qx "$${l}.utf8" || $$( [ "$$(id -u)" -eq 0 ] || echo sudo ) localedef -i $$l -f UTF-8 $$l.UTF-8; done

# test-app-e2e: the real window (test build under Xvfb, real X clicks and keys, e2e/lib/window.mjs)
# against a real hub, with customers in Chromium. X screenshots in test-results/app-window-*.png.
test-app-e2e: deps web app-locales $(OUT)/parley-hub $(OUT)/parley-agent $(APP_E2E_BIN)
	PARLEY_HUB=$(OUT)/parley-hub PARLEY_AGENT=$(OUT)/parley-agent PARLEY_APP_E2E=$(APP_E2E_BIN) node --test --test-timeout=300000 e2e/app.test.mjs

# test-app-visual-e2e: co-browse and screen share inside the real window, with a customer in
# Chromium on a site that embeds the widget. X screenshots in test-results/app-window-*.png.
test-app-visual-e2e: deps web $(OUT)/parley-hub $(APP_E2E_BIN)
	PARLEY_HUB=$(OUT)/parley-hub PARLEY_APP_E2E=$(APP_E2E_BIN) node --test --test-timeout=300000 e2e/app-visual.test.mjs
