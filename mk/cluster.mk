# PostgreSQL and the hub cluster (issue 15). Tests start their own PostgreSQL from Debian's
# postgresql package (internal/pgtest: initdb + postgres in a temporary directory, a free loopback
# port, as nobody when run as root); nothing is downloaded at run time.
#   make test-hub-postgres   the hub's whole Go test suite on PostgreSQL instead of SQLite
#                            (hub/store/storetest already runs every store test on both engines
#                            in `go test ./...`).
#   make test-cluster        three parley-hub processes on one PostgreSQL behind a load balancer:
#                            SIGKILL the organisation's node mid-chat, then drain the next one
#                            with SIGTERM; the chat goes on (cmd/parley-hub/cluster_test.go); SIGKILL
#                            the owner mid-call: video keeps flowing both ways (cluster_call_test.go).
APT_PACKAGES += postgresql
E2E_TARGETS += test-hub-postgres test-cluster

.PHONY: test-hub-postgres test-cluster

test-cluster: deps web
	PARLEY_TEST_CLUSTER=1 $(GO) test -count=1 -timeout 10m -run 'TestCluster' -v ./cmd/parley-hub/

test-hub-postgres: deps web
	PARLEY_TEST_DB=postgres $(GO) test -count=1 -timeout 10m ./hub/
