# Call-setup benchmark (issue 5, "Measure"): agent click → first remote frame at the customer and at
# the agent, Go headless agent vs a Chromium agent through the same hub (bench/calls.mjs). Not part
# of `make test`; run `make bench-calls` (BENCH_N=5 calls per side by default).
.PHONY: bench-calls

bench-calls: deps $(OUT)/parley-hub $(OUT)/parley-agent
	PARLEY_HUB=$(OUT)/parley-hub PARLEY_AGENT=$(OUT)/parley-agent timeout 300 node bench/calls.mjs
