// Package resilience holds Parley's failure and network tests: chat and calls across network
// namespaces with loss, delay and outages (root only, PARLEY_NETNS=1), and the hub killed with
// SIGKILL mid-burst (PARLEY_HUB names the hub binary). `make test-resilience` runs them all.
package resilience
