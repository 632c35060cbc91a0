# The relay (hub/relay): embedded TURN server, TURN REST credentials and region policy.
# coturn provides turnutils_uclient, the third-party TURN client hub/relay's interop test runs
# against the embedded server (the test skips without it; CI installs it here).
APT_PACKAGES += coturn

.PHONY: test-relay

# test-relay: the relay package's tests alone (also part of `make test` through go test ./...).
test-relay: deps
	$(GO) test -race -count=1 ./hub/relay/
