package relay

import (
	"strings"
	"time"
)

// A network test (the agent app's "Test my setup") allocates on the relays an organisation's
// calls would use, and sends a short media-like flow through them to itself. Its credentials
// name an id that starts with TestIDPrefix; on the embedded relay such an allocation may relay
// only to the relayed address of an allocation of the same test (the tester itself): a test's
// credentials are refused for anything else, and they last TestTTL.

// TestIDPrefix starts the credential id of a network test, e.g. "nettest/<user>/<nonce>".
const TestIDPrefix = "nettest/"

// TestTTL is how long a network test's credentials last: the test takes seconds.
const TestTTL = 2 * time.Minute

// IsTestID reports whether a credential id is a network test's.
func IsTestID(id string) bool { return strings.HasPrefix(id, TestIDPrefix) }
