# Call recording and its playback page (media/webm.go, hub/recording*.go, portal/admin/src/Playback.svelte).
# Its end-to-end test has a customer in headless Chromium consent to the real headless agent's
# recorded video call (`parley-agent -call video -record`), the agent upload both sides' WebM files,
# and a supervisor play them in Chromium on the playback page (frames decoded and sound on both
# sides, in step, beside the transcript; the audit log shows it); a customer who does not agree has
# nothing recorded. Screenshots go to test-results/.
APT_PACKAGES += chromium fonts-dejavu-core
E2E_TARGETS += test-recording-e2e

.PHONY: test-recording-e2e

test-recording-e2e: deps $(OUT)/parley-hub $(OUT)/parley-agent
	PARLEY_HUB=$(OUT)/parley-hub PARLEY_AGENT=$(OUT)/parley-agent node --test --test-timeout=600000 e2e/recording.test.mjs
