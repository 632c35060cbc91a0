package relay

import (
	"net"
	"net/netip"
)

// Which peers an allocation may relay to. A TURN server that relays anywhere is a way into the
// network it sits in: a client holding a credential could send datagrams to the hub's own
// services, to a cloud's metadata address or to other machines on the private network. So the
// relay refuses, by default, the ranges no customer's or agent's media lives at from the
// relay's point of view (blockedPeers), and its own addresses except on its relay ports (two
// parties relayed through the same server reach each other there). Config.AllowPeers opens
// ranges for on-premises deployments whose agents sit on a private network.

// blockedPeers are the ranges refused by default (coturn's recommended denied-peer-ip list):
// this-network, private, CGNAT, loopback, link-local (cloud metadata), IETF protocol and
// documentation ranges, benchmarking, multicast and reserved; for IPv6 the same, plus NAT64 and
// Teredo, which reach IPv4 addresses in disguise.
var blockedPeers = func() []netip.Prefix {
	var ps []netip.Prefix
	for _, s := range []string{
		"0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
		"192.0.0.0/24", "192.0.2.0/24", "192.88.99.0/24", "192.168.0.0/16", "198.18.0.0/15",
		"198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4",
		"::/128", "::1/128", "64:ff9b::/96", "64:ff9b:1::/48", "100::/64", "2001::/32", "2001:db8::/32",
		"2002::/16", "fc00::/7", "fe80::/10", "ff00::/8",
	} {
		ps = append(ps, netip.MustParsePrefix(s))
	}
	return ps
}()

// Blocked reports whether the default policy refuses relaying to peer: a private, loopback,
// link-local, CGNAT, multicast, documentation or otherwise reserved address (IPv4-mapped IPv6
// addresses count as their IPv4 address).
func Blocked(peer netip.Addr) bool {
	peer = peer.Unmap()
	if !peer.IsValid() {
		return true
	}
	for _, p := range blockedPeers {
		if p.Contains(peer) {
			return true
		}
	}
	return false
}

// peerPolicy is the server's decision about peers, fixed at Start.
type peerPolicy struct {
	// relayIP is the advertised relay address: other allocations of this server live there.
	relayIP netip.Addr
	// own are the host's addresses (every interface, the listeners', the advertised one).
	own map[netip.Addr]bool
	// allow are the ranges Config.AllowPeers opens.
	allow []netip.Prefix
	// loopbackOnly is set when every listener is on a loopback address: the relay serves this
	// machine only (development, tests), so loopback peers are allowed.
	loopbackOnly bool
	// listenPorts are the TURN listeners' ports, never a peer on an own address.
	listenPorts map[uint16]bool
}

// newPeerPolicy builds the policy from the configuration and the started listeners' addresses.
func newPeerPolicy(cfg *Config, listeners []net.Addr) *peerPolicy {
	p := &peerPolicy{own: map[netip.Addr]bool{}, allow: cfg.AllowPeers, listenPorts: map[uint16]bool{}, loopbackOnly: len(listeners) > 0}
	if ip, ok := netip.AddrFromSlice(cfg.RelayIP); ok {
		p.relayIP = ip.Unmap()
		p.own[p.relayIP] = true
	}
	for _, a := range listeners {
		ap := addrPort(a)
		p.listenPorts[ap.Port()] = true
		ip := ap.Addr().Unmap()
		// The loopback exemption follows where the relay listens, never what it advertises: a
		// relay listening on every interface that advertises 127.0.0.1 still serves strangers.
		if !ip.IsLoopback() {
			p.loopbackOnly = false
		}
		if ip.IsValid() && !ip.IsUnspecified() {
			p.own[ip] = true
		}
	}
	if addrs, err := net.InterfaceAddrs(); err == nil {
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok {
				if ip, ok := netip.AddrFromSlice(n.IP); ok {
					p.own[ip.Unmap()] = true
				}
			}
		}
	}
	return p
}

// permit is the check on a permission or channel binding (an IP address, no port).
func (p *peerPolicy) permit(peer netip.Addr) bool {
	peer = peer.Unmap()
	switch {
	case peer == p.relayIP:
		return true // another allocation of this server (its port is checked per datagram)
	case p.loopbackOnly && peer.IsLoopback():
		return true
	case p.own[peer]:
		return false // the host's other addresses: its services, not media
	}
	for _, a := range p.allow {
		if a.Contains(peer) {
			return true
		}
	}
	return !Blocked(peer)
}

// isOwn reports whether peer is one of the host's addresses.
func (p *peerPolicy) isOwn(peer netip.Addr) bool {
	peer = peer.Unmap()
	return p.own[peer] || peer.IsLoopback()
}

func addrPort(a net.Addr) netip.AddrPort {
	switch a := a.(type) {
	case *net.UDPAddr:
		return a.AddrPort()
	case *net.TCPAddr:
		return a.AddrPort()
	}
	ap, _ := netip.ParseAddrPort(a.String())
	return ap
}
