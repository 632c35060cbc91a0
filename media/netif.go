package media

import (
	"sync"

	"github.com/pion/transport/v5"
	"github.com/pion/transport/v5/stdnet"
)

// freshNet is pion's standard network layer with the interface list read again at every
// gathering. stdnet.Net lists interfaces once, when the ICE agent is made, so after the
// machine's address changed (Wi-Fi to cable, a new DHCP lease) an ICE restart would gather on
// the old, gone address and never reconnect. The lock keeps the refresh and pion's lookups apart.
type freshNet struct {
	*stdnet.Net
	mu sync.Mutex
}

func newFreshNet() (*freshNet, error) {
	n, err := stdnet.NewNet()
	if err != nil {
		return nil, err
	}
	return &freshNet{Net: n}, nil
}

// Interfaces lists the interfaces as they are now.
func (n *freshNet) Interfaces() ([]*transport.Interface, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if err := n.Net.UpdateInterfaces(); err != nil {
		return nil, err
	}
	return n.Net.Interfaces()
}

// InterfaceByIndex returns the interface with this index, from the last listing.
func (n *freshNet) InterfaceByIndex(index int) (*transport.Interface, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.Net.InterfaceByIndex(index)
}

// InterfaceByName returns the interface with this name, from the last listing.
func (n *freshNet) InterfaceByName(name string) (*transport.Interface, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.Net.InterfaceByName(name)
}
