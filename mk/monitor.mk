# A supervisor on a live call (hub/monitor.go, media/monitor.go, app/monitor.go): listen, whisper,
# barge. Its end-to-end test has a customer in headless Chromium (a 660 Hz tone for a microphone)
# answer the real headless agent's voice call, and a headless supervisor (`parley-agent -monitor
# listen,whisper,barge -microphone test-pattern-2`) listen (hears both sides), whisper (the agent
# hears it, the customer measures silence at its 880 Hz) and join (the customer hears it and reads
# that a supervisor joined); killing the supervisor leaves the call going. It prints the agent's
# CPU and upstream with the supervisor listening beside the plain call. 55-65 s here (3 passes in a row).
APT_PACKAGES += chromium fonts-dejavu-core
E2E_TARGETS += test-monitor-e2e

.PHONY: test-monitor-e2e

test-monitor-e2e: deps $(OUT)/parley-hub $(OUT)/parley-agent
	PARLEY_HUB=$(OUT)/parley-hub PARLEY_AGENT=$(OUT)/parley-agent node --test --test-timeout=600000 e2e/monitor.test.mjs
