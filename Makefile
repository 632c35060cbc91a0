# Parley's build. `make demo` and `make test` do all set-up on a fresh Debian machine.
# Each area adds its packages, binaries and tests in mk/<area>.mk.
SHELL := /bin/bash
.DEFAULT_GOAL := help
export CGO_ENABLED := 1
GO ?= go
OUT := out
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X github.com/parleyhq/parley/internal/version.Version=$(VERSION)

# Debian packages every area needs; mk/*.mk add their own.
APT_PACKAGES := build-essential pkg-config git ca-certificates
# Targets `make test` runs after the Go and unit tests; mk/*.mk add theirs.
E2E_TARGETS :=

include $(sort $(wildcard mk/*.mk))

.PHONY: help deps web test gotest vet unit e2e demo clean

# Binaries are files, not .PHONY targets: each depends on FORCE, so its `go build` runs every time
# and Go's build cache decides what is stale (make cannot see Go's imports).
FORCE:

help:
	@echo "make demo   build and run the agent app against an embedded demo hub"
	@echo "make test   everything CI runs"

deps:
	@build/deps.sh $(sort $(APT_PACKAGES))

# The web UIs, built into frontend/dist and portal/dist (embedded by the Go binaries).
web: deps
	npm run --silent build

vet: deps web
	$(GO) vet ./...
	@$(GO) generate ./wire ./app && git diff --exit-code -- web/wire.gen.ts frontend/src/api/app.gen.ts || \
		(echo "generated TypeScript is stale: run go generate ./wire ./app"; exit 1)

gotest: deps web
	$(GO) test -race -timeout 15m ./...

# unit: the UIs' types against the generated ones (svelte-check fails on any type error), then their
# unit tests.
unit: deps
	npx svelte-check --tsconfig ./tsconfig.json --output human
	npx vitest run

test: vet gotest unit
	@$(MAKE) --no-print-directory $(E2E_TARGETS)
	@echo "make test: all passed"

clean:
	rm -rf $(OUT) frontend/dist portal/dist build/bin
