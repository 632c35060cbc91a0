package wire

// Network test: before their first call an agent's app checks the path its calls will take
// ("Test my setup"). It asks the hub for a test plan (POST /api/v1/orgs/{org}/network-test, any
// member): the relays the organisation's calls would use, chosen by the same region policy, with
// credentials for the test only (they last two minutes, and on the embedded relay they relay to
// the tester's own allocations and nothing else). The app reaches each relay over UDP and over
// TCP, sends a short media-like flow through it to itself, and ends the test with DELETE
// /api/v1/orgs/{org}/network-test/{id}, which closes whatever the test still holds on the
// embedded relay.

// NetworkTest is a network-test plan: the answer to POST /api/v1/orgs/{org}/network-test.
type NetworkTest struct {
	// ID names the test in DELETE /api/v1/orgs/{org}/network-test/{id}.
	ID string `json:"id"`
	// Region is the organisation's region ("gcc" for the government cloud).
	Region string `json:"region"`
	// Government is true for a government-cloud organisation: its calls are relay-only through
	// North-American relays, so the test checks the relay it reached is one.
	Government bool `json:"government"`
	// Policy is the ICE transport policy calls use: "all" or "relay".
	Policy string `json:"policy"`
	// Relays are the relays calls would use, with the test's credentials; empty when the hub
	// has none (calls then go direct only).
	Relays []NetworkTestRelay `json:"relays"`
	// ExpiresAt is when the credentials stop working, Unix milliseconds.
	ExpiresAt int64 `json:"expires_at"`
}

// NetworkTestRelay is one relay of a network test.
type NetworkTestRelay struct {
	// ID names the relay, e.g. "embedded" or "na-1".
	ID string `json:"id"`
	// Region is where the relay is, e.g. "na", "gcc-na", "eu-west".
	Region string `json:"region"`
	// URLs are its turn: and stun: URLs.
	URLs []string `json:"urls"`
	// Username and Credential are the test's TURN credentials (empty for STUN only).
	Username   string `json:"username,omitempty"`
	Credential string `json:"credential,omitempty"`
}

// SetupResult is an agent's last "Test my setup": the body of PUT
// /api/v1/orgs/{org}/setup-result (an agent, about themselves), and what supervisors see beside
// the agent ([AgentSummary].Setup). The hub keeps the last one with the member in its store, so a
// restart keeps it.
type SetupResult struct {
	// Status is the worst line: "pass", "warn" or "fail".
	Status string `json:"status"`
	// Problems are the codes of the lines that warned or failed (the app's "setup.lines.<code>"),
	// at most 16.
	Problems []string `json:"problems,omitempty"`
	// At is when the hub received it, Unix milliseconds (set by the hub).
	At int64 `json:"at"`
}
