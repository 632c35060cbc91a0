# Installers and packages (issue 8). `make dist` writes dist/:
#   parley-<v>-windows-amd64-setup.exe  NSIS, per-machine, signed   (scripts/dist/windows.sh)
#   parley-<v>-windows-amd64.msi        wixl, per-machine, signed
#   parley_<v>_amd64.deb                agent app + parley-policy     (scripts/dist/linux.sh agent)
#   parley-hub_<v>_amd64.deb            hub + hardened systemd unit   (scripts/dist/linux.sh hub)
#   SHA256SUMS
# The macOS .app/.pkg is built on a Mac by build/darwin/build.sh (codesign, pkgbuild, notarytool).
# `make test-dist` (part of `make test`) installs, runs and removes the .debs and verifies the
# Windows artifacts.
# Signing uses a throwaway certificate unless PARLEY_SIGN_PFX/PARLEY_SIGN_PASSWORD name a real one.
.PHONY: dist dist-deps dist-tools dist-windows dist-linux dist-hub dist-sums test-dist

# What the dist targets install, by dist-deps rather than APT_PACKAGES so that `make deps` for the
# other areas does not pull in NSIS and mingw-w64.
DIST_APT := nsis msitools wixl osslsigncode openssl gcc-mingw-w64-x86-64 g++-mingw-w64-x86-64 \
	dpkg-dev libwebkit2gtk-4.1-dev libgtk-3-dev libvpx-dev libopus-dev libopenh264-dev libturbojpeg0-dev systemd adduser \
	desktop-file-utils bc file curl python3 util-linux \
	xvfb xauth xdotool imagemagick chromium fonts-dejavu-core
NFPM_VERSION := v2.45.2
PARLEY_COMMIT := $(shell git rev-parse HEAD 2>/dev/null)
DIST_ENV := VERSION='$(VERSION)' LDFLAGS='$(LDFLAGS)' PARLEY_COMMIT='$(PARLEY_COMMIT)'

dist: dist-windows dist-linux dist-hub
	@$(MAKE) --no-print-directory dist-sums

dist-deps:
	@build/deps.sh $(DIST_APT)

# The Wails CLI is built for the host once: `go tool wails` would build itself with the
# cross-compiler in CC. nfpm is built from its Go module (no downloaded binary).
dist-tools: dist-deps $(OUT)/tools/wails $(OUT)/tools/nfpm
$(OUT)/tools/wails: go.mod
	$(GO) build -o $@ github.com/wailsapp/wails/v2/cmd/wails
$(OUT)/tools/nfpm:
	GOBIN=$(abspath $(OUT)/tools) GOFLAGS=-mod=mod $(GO) install github.com/goreleaser/nfpm/v2/cmd/nfpm@$(NFPM_VERSION)

dist-windows: dist-tools web
	$(DIST_ENV) scripts/dist/windows.sh

dist-linux: dist-tools web
	$(DIST_ENV) scripts/dist/linux.sh agent

dist-hub: dist-tools web
	$(DIST_ENV) scripts/dist/linux.sh hub

dist-sums:
	@cd dist && sha256sum $$(ls | grep -v SHA256SUMS) > SHA256SUMS && echo "dist: sizes" && ls -l --block-size=K | tail -n +2

# Builds dist/ afresh (about 2 minutes with a warm Go cache), then checks it (about 10 s).
test-dist: dist $(OUT)/parley-hub
	scripts/dist/test-dist.sh

E2E_TARGETS += test-dist
