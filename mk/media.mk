# media/: the call engine (cgo: libvpx, libopus, openh264), its Chromium interop tests and
# `make bench-media`.
APT_PACKAGES += libvpx-dev libopus-dev libopenh264-dev libturbojpeg0-dev chromium pulseaudio pulseaudio-utils fonts-liberation

.PHONY: bench-media

# bench-media prints setup, CPU, RSS and glass-to-glass latency of a Go call beside a
# Chromium<->Chromium call measured in the same run, plus the VP8 encoder before/after figure.
bench-media: deps
	$(GO) run ./cmd/parley-mediabench
