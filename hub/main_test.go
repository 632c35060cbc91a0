package hub_test

import (
	"testing"

	"github.com/parleyhq/parley/internal/pgtest"

	"go.uber.org/goleak"
)

// Every test closes its hub and clients; nothing may keep running after them.
// The PostgreSQL cluster some tests start (PARLEY_TEST_DB=postgres) stops before the check.
func TestMain(m *testing.M) {
	// pebble's validation authority (acme_test.go) has no way to stop its worker.
	goleak.VerifyTestMain(pgtest.Wrap(m), goleak.IgnoreTopFunction("github.com/letsencrypt/pebble/v2/va.VAImpl.processTasks"))
}
