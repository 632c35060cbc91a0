package hub_test

import (
	"testing"

	"go.uber.org/goleak"
)

// Every test closes its hub and clients; nothing may keep running after them.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
