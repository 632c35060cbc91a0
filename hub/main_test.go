package hub_test

import (
	"testing"

	"github.com/parleyhq/parley/internal/pgtest"

	"go.uber.org/goleak"
)

// Every test closes its hub and clients; nothing may keep running after them.
// The PostgreSQL cluster some tests start (PARLEY_TEST_DB=postgres) stops before the check.
func TestMain(m *testing.M) { goleak.VerifyTestMain(pgtest.Wrap(m)) }
