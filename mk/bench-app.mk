# The whole agent app's cost against a Chromium agent tab (issue 17): bench/app.mjs runs the app's
# window (release build + test harness, under Xvfb) and a headed Chromium agent in the same call
# with the same Chromium customer, and prints one table: CPU and memory of each whole process
# tree, call setup, glass to glass read from the windows' pixels (bench/xstamp). Both agents send
# the app's test pattern: bench/y4m writes it for the Chromium agent's fake camera. Not in `make test`.
.PHONY: bench-app

$(OUT)/xstamp: deps FORCE
	$(GO) build -o $@ ./bench/xstamp

$(OUT)/y4m: deps FORCE
	$(GO) build -o $@ ./bench/y4m

bench-app: deps web $(OUT)/parley-hub $(OUT)/parley-e2e $(OUT)/xstamp $(OUT)/y4m
	PARLEY_HUB=$(OUT)/parley-hub PARLEY_APP_E2E=$(OUT)/parley-e2e PARLEY_XSTAMP=$(OUT)/xstamp PARLEY_Y4M=$(OUT)/y4m timeout 900 node bench/app.mjs

# bench-transport: what WebKitGTK spends showing the same 30 fps JPEG frames through the MJPEG
# <img> the app uses against a WebSocket or fetched frames drawn to a canvas or swapped into an
# <img>, and with a 15 fps self view beside the MJPEG <img> sent on its own clock or with the
# remote's pictures (Debian's MiniBrowser under its own Xvfb, compositing off as in the app).
# Not in `make test`.
.PHONY: bench-transport
bench-transport: deps
	$(GO) run ./bench/transport
