# The hub: its binary and its benchmark. The hub embeds the customer portal, so it builds after web.
.PHONY: bench-hub

$(OUT)/parley-hub: web FORCE
	$(GO) build -ldflags "$(LDFLAGS)" -o $@ ./cmd/parley-hub

$(OUT)/parley-bench: deps FORCE
	$(GO) build -o $@ ./cmd/parley-bench

# bench-hub drives concurrent customers and agents over the real protocol on loopback against the
# real hub binary, and prints fan-out latency p50/p99 and hub memory per idle connection: with the
# hub's defaults (limits on, synchronous=full) and, in the same run, the same traffic with
# synchronous=normal and with -rate-limits=false as references, with the ratios. Then, with 20
# queues that each require a skill, it times the hub's routing passes while customers leave and
# arrive (target p99 <= 1 ms at 1,000 live conversations) against one queue without skills.
BENCH_HUB_FLAGS ?= -convs 1000 -duration 20s -queues 20
bench-hub: $(OUT)/parley-hub $(OUT)/parley-bench
	$(OUT)/parley-bench -hub $(OUT)/parley-hub $(BENCH_HUB_FLAGS)
