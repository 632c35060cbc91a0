# Resilience, durability and load (issue 7, items 3–4): resilience/ and cmd/parley-load.
#   make test-resilience   everything, as root: chat at 10% loss and through hub link cuts, calls
#                          at 10% loss + 200 ms RTT, outages and a path change with ICE restart
#                          (network namespaces, nftables, a delaying UDP relay), and the hub
#                          SIGKILLed mid-burst; a call keeps flowing while the hub path is cut. About 2.5 minutes.
#                          Not root: only the SIGKILL test.
#   make bench-load        2,000 customers and 200 agents chatting through the real hub binary on
#                          loopback: lost messages (must be 0), latency p50/p95/p99, hub CPU and RSS.
# `make test` runs the short part (SIGKILL durability, chat at 10% loss: about 15 s).
APT_PACKAGES += nftables iproute2
E2E_TARGETS += test-resilience-short

.PHONY: test-resilience test-resilience-short bench-load

RESILIENCE_ENV = PARLEY_HUB=$(abspath $(OUT)/parley-hub)

$(OUT)/parley-load: deps FORCE
	$(GO) build -o $@ ./cmd/parley-load

test-resilience: deps $(OUT)/parley-hub
	@if [ "$$(id -u)" -ne 0 ]; then \
		echo "test-resilience: not root: skipping the network-namespace tests (ip netns, nftables need root)"; \
		$(RESILIENCE_ENV) $(GO) test -count=1 -v -timeout 5m -run 'TestHubSIGKILL' ./resilience/; \
	else \
		$(RESILIENCE_ENV) PARLEY_NETNS=1 $(GO) test -count=1 -v -timeout 10m ./resilience/ 2>&1 | grep -v -e '^ALSA lib' -e 'jack' -e '^Jack' -e '^Cannot connect to server'; \
		exit $${PIPESTATUS[0]}; \
	fi

test-resilience-short: deps $(OUT)/parley-hub
	@netns=0; [ "$$(id -u)" -eq 0 ] && netns=1 || echo "test-resilience-short: not root: TestChatUnderLoss skips"; \
	$(RESILIENCE_ENV) PARLEY_NETNS=$$netns $(GO) test -count=1 -timeout 5m -run 'TestHubSIGKILL|TestChatUnderLoss' ./resilience/

BENCH_LOAD_FLAGS ?= -customers 2000 -agents 200 -messages 5 -interval 4s
# BENCH_BEFORE=REV (a commit): first the same workload with parley-load and parley-hub built at REV
# (its own seed and schema; the UIs embedded from this tree), then this tree's with its defaults,
# then this tree's with -db-synchronous normal: hubs before 49a9577 committed with synchronous=NORMAL
# (FULL, every acknowledged message on disk, is the default since), so that run is like for like
# with an older REV. One command prints before and after, one run after another on the same machine.
BEFORE_SRC = $(abspath $(OUT))/before-src
bench-load: $(OUT)/parley-hub $(OUT)/parley-load $(if $(BENCH_BEFORE),bench-load-before-bins)
	@if [ -n "$(BENCH_BEFORE)" ]; then \
		echo "== before: $(BENCH_BEFORE) ($$(git rev-parse --short $(BENCH_BEFORE)))"; \
		$(OUT)/parley-load-before -hub $(OUT)/parley-hub-before $(BENCH_LOAD_FLAGS) || exit 1; \
		echo; echo "== after: this tree ($$(git rev-parse --short HEAD)$$(git diff --quiet HEAD || echo ', changed')), the hub's defaults"; \
	fi
	$(OUT)/parley-load -hub $(OUT)/parley-hub $(BENCH_LOAD_FLAGS)
	@if [ -n "$(BENCH_BEFORE)" ]; then \
		echo; echo "== after, -db-synchronous normal (the durability of hubs before 49a9577)"; \
		$(OUT)/parley-load -hub $(OUT)/parley-hub -hub-flags "-db-synchronous normal" $(BENCH_LOAD_FLAGS); \
	fi

.PHONY: bench-load-before-bins
bench-load-before-bins: deps web
	rm -rf $(BEFORE_SRC) && mkdir -p $(BEFORE_SRC)
	git archive $(BENCH_BEFORE) | tar -x -C $(BEFORE_SRC)
	mkdir -p $(BEFORE_SRC)/hub/admin && cp -r portal/dist $(BEFORE_SRC)/portal/ && cp -r hub/admin/dist $(BEFORE_SRC)/hub/admin/
	cd $(BEFORE_SRC) && $(GO) build -o $(abspath $(OUT))/parley-hub-before ./cmd/parley-hub && $(GO) build -o $(abspath $(OUT))/parley-load-before ./cmd/parley-load
	rm -rf $(BEFORE_SRC)
