# Managed settings in the agent app (app/settings.go, frontend policy/About UI): the real Wails app
# (dev build, policy from PARLEY_POLICY_FILE) under Xvfb with a locked hub and a malformed policy.
E2E_TARGETS += test-app-policy-e2e

.PHONY: test-app-policy-e2e

# test-app-policy-e2e: screenshots go to test-results/app-policy-*.png.
test-app-policy-e2e: deps web $(OUT)/parley-hub $(OUT)/parley-dev
	PARLEY_HUB=$(OUT)/parley-hub PARLEY_APP=$(OUT)/parley-dev node --test --test-timeout=300000 e2e/app-policy.test.mjs
