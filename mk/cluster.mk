# PostgreSQL and the hub cluster (issue 15). Tests start their own PostgreSQL from Debian's
# postgresql package (internal/pgtest: initdb + postgres in a temporary directory, a free loopback
# port, as nobody when run as root); nothing is downloaded at run time.
#   make test-hub-postgres   the hub's whole Go test suite on PostgreSQL instead of SQLite
#                            (hub/store/storetest already runs every store test on both engines
#                            in `go test ./...`).
#   make test-cluster        three parley-hub processes on one PostgreSQL behind a load balancer:
#                            SIGKILL the organisation's node mid-chat, then drain the next one
#                            with SIGTERM; the chat goes on (cmd/parley-hub/cluster_test.go); SIGKILL
#                            the owner mid-call: video keeps flowing both ways (cluster_call_test.go);
#                            sign-in limits hold across the nodes and a takeover (cluster_limits_test.go).
APT_PACKAGES += postgresql
E2E_TARGETS += test-hub-postgres test-cluster

.PHONY: test-hub-postgres test-cluster

test-cluster: deps web
	PARLEY_TEST_CLUSTER=1 $(GO) test -count=1 -timeout 10m -run 'TestCluster' -v ./cmd/parley-hub/

test-hub-postgres: deps web
	PARLEY_TEST_DB=postgres $(GO) test -count=1 -timeout 10m ./hub/

# bench-cluster: bench-load's workload (cmd/parley-load) on one SQLite hub, then over three
# cluster nodes on a durable PostgreSQL behind a TCP balancer on loopback, printed side by side
# (lost messages, latency p50/p99, CPU per process). Not in `make test` (a benchmark); 4 to 9
# minutes on 2 cores, with the other load (docs/cluster.md, "Benchmark").
BENCH_CLUSTER_FLAGS ?= -customers 2000 -agents 200 -messages 5 -interval 4s -cluster 3 -timeout 10m
.PHONY: bench-cluster
bench-cluster: deps $(OUT)/parley-hub $(OUT)/parley-load
	$(OUT)/parley-load -hub $(OUT)/parley-hub $(BENCH_CLUSTER_FLAGS)
