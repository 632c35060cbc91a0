# media/: the call engine (cgo: libvpx, libopus, openh264), its Chromium interop tests and
# `make bench-media`.
APT_PACKAGES += libvpx-dev libopus-dev libopenh264-dev libturbojpeg0-dev chromium pulseaudio pulseaudio-utils fonts-liberation

.PHONY: bench-media

# bench-media prints setup, CPU, RSS and glass-to-glass latency of a Go call beside a
# Chromium<->Chromium call measured in the same run, plus the VP8 encoder before/after figure.
bench-media: deps
	$(GO) run ./cmd/parley-mediabench

# build-media-windows cross-builds the media engine for Windows (H.264 + Opus: Debian has no
# mingw libvpx or libjpeg-turbo) against the static OpenH264 and Opus that mediadevices ships,
# linking the media test binary as the check.
MEDIADEVICES_DIR = $(shell $(GO) list -m -f '{{.Dir}}' github.com/pion/mediadevices)
.PHONY: build-media-windows
build-media-windows:
	@build/deps.sh gcc-mingw-w64-x86-64 g++-mingw-w64-x86-64
	@mkdir -p $(OUT)/win-include && ln -sfn $(MEDIADEVICES_DIR)/pkg/codec/openh264/include/openh264 $(OUT)/win-include/wels
	GOOS=windows GOARCH=amd64 CGO_ENABLED=1 CC=x86_64-w64-mingw32-gcc CXX=x86_64-w64-mingw32-g++ \
	CGO_CFLAGS="-I$(CURDIR)/$(OUT)/win-include -I$(MEDIADEVICES_DIR)/pkg/codec/opus/include" \
	CGO_LDFLAGS="$(MEDIADEVICES_DIR)/pkg/codec/openh264/lib/libopenh264-windows-x64.a $(MEDIADEVICES_DIR)/pkg/codec/opus/lib/libopus-windows-x64.a -lssp -lstdc++" \
	$(GO) test -c -tags novpx,noturbojpeg -o $(OUT)/media-test-windows.exe ./media
