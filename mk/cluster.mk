# PostgreSQL and the hub cluster (issue 15). Tests start their own PostgreSQL from Debian's
# postgresql package (internal/pgtest: initdb + postgres in a temporary directory, a free loopback
# port, as nobody when run as root); nothing is downloaded at run time.
#   make test-hub-postgres   the hub's whole Go test suite on PostgreSQL instead of SQLite
#                            (hub/store/storetest already runs every store test on both engines
#                            in `go test ./...`).
APT_PACKAGES += postgresql
E2E_TARGETS += test-hub-postgres

.PHONY: test-hub-postgres

test-hub-postgres: deps web
	PARLEY_TEST_DB=postgres $(GO) test -count=1 -timeout 10m ./hub/
