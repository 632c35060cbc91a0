# media/: the call engine (cgo: libvpx, libopus, openh264), its Chromium interop tests and
# `make bench-media`.
APT_PACKAGES += libvpx-dev libopus-dev libopenh264-dev libturbojpeg0-dev chromium pulseaudio pulseaudio-utils fonts-liberation

.PHONY: bench-media

# bench-media prints setup, CPU, RSS and glass-to-glass latency of a Go call beside a
# Chromium<->Chromium call measured in the same run, plus the VP8 encoder before/after figure.
bench-media: deps
	$(GO) run ./cmd/parley-mediabench

# build-media-windows cross-builds the media engine for Windows (H.264 + Opus: Debian has no
# mingw libvpx or libjpeg-turbo) with the environment of scripts/dist/windows-cgo.sh (the static
# OpenH264 and Opus that mediadevices ships, the mingw runtime linked in), linking the media test
# binary as the check.
.PHONY: build-media-windows
build-media-windows:
	@build/deps.sh gcc-mingw-w64-x86-64 g++-mingw-w64-x86-64
	root=$(CURDIR) && . scripts/dist/windows-cgo.sh && \
	GOOS=windows GOARCH=amd64 $(GO) test -c -tags "$$WINDOWS_TAGS" -o $(OUT)/media-test-windows.exe ./media
