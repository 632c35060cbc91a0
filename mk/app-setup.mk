# "Test my setup" in the agent app (app/setup.go, app/nettest, frontend/src/components/settings/
# SetupCheck.svelte): the app's real window (test build under Xvfb, test-pattern devices) runs the
# check against a real hub with its embedded relay over UDP and TCP; every line passes.
E2E_TARGETS += test-app-setup-e2e

.PHONY: test-app-setup-e2e

# test-app-setup-e2e: X screenshots of the offer and the check in test-results/app-window-setup*.png.
test-app-setup-e2e: deps web $(OUT)/parley-hub $(OUT)/parley-e2e
	PARLEY_HUB=$(OUT)/parley-hub PARLEY_APP_E2E=$(OUT)/parley-e2e node --test --test-timeout=300000 e2e/app-setup.test.mjs
