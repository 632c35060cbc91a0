# Calls in the customer portal (portal/src/call/, loaded only when a call rings). Its end-to-end test
# has a customer in headless Chromium (fake camera and microphone) called by the real headless agent
# (`parley-agent -call video|voice`, test-pattern devices) through the real hub: accept with video
# (moving video and sound arrive), mute and video off/on, end, decline, accept with audio (video
# turned on mid-call renegotiates), refused camera / microphone, a voice-only organisation (second
# hub with -demo-calls voice). Screenshots go to test-results/.
APT_PACKAGES += chromium fonts-dejavu-core
E2E_TARGETS += test-portal-calls-e2e

.PHONY: test-portal-calls-e2e

test-portal-calls-e2e: deps $(OUT)/parley-hub $(OUT)/parley-agent
	PARLEY_HUB=$(OUT)/parley-hub PARLEY_AGENT=$(OUT)/parley-agent node --test --test-timeout=600000 e2e/portal-calls.test.mjs
