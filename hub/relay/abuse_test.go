package relay

import (
	"errors"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"
)

// The attacks on the relay found in review (issue 12), each against a real server on loopback.

// publicServer starts a relay the way a demo hub runs it: listening on every interface while
// advertising 127.0.0.1. Loopback is then not exempt: strangers can reach it.
func publicServer(t *testing.T, edit func(*Config)) *Server {
	t.Helper()
	return startServer(t, func(c *Config) {
		c.UDP, c.TCP = "0.0.0.0:0", "0.0.0.0:0"
		c.RelayBind = ""
		if edit != nil {
			edit(c)
		}
	})
}

// loUDP and loTCP are the server's listeners as a client on this machine dials them.
func loUDP(s *Server) net.Addr {
	return &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: s.UDPAddr().Port}
}

func loTCP(s *Server) net.Addr {
	return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: s.TCPAddr().Port}
}

// udpService is a loopback UDP service (as the hub's own ports, or a database, would be).
func udpService(t *testing.T, ip string) net.PacketConn {
	t.Helper()
	c, err := net.ListenPacket("udp4", ip+":0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// receives reports whether svc gets a datagram within d.
func receives(svc net.PacketConn, d time.Duration) bool {
	_ = svc.SetReadDeadline(time.Now().Add(d))
	_, _, err := svc.ReadFrom(make([]byte, 1500))
	return err == nil
}

func allocate(t *testing.T, s *Server, id string) net.PacketConn {
	t.Helper()
	ice := Issue(testSecret, nil, time.Now(), time.Minute, id)
	relayed, err := dialTURN(t, "udp", loUDP(s), ice.Username, ice.Credential).Allocate()
	if err != nil {
		t.Fatalf("Allocate(%s): %v", id, err)
	}
	t.Cleanup(func() { _ = relayed.Close() })
	return relayed
}

func TestRelayRefusesHostServices(t *testing.T) {
	s := publicServer(t, nil)
	relayed := allocate(t, s, "call-1/customer")

	// The advertised address is loopback: the permission is granted (other allocations live
	// there), but a datagram to a port that is not a relay port never leaves.
	hubPort := udpService(t, "127.0.0.1")
	_, _ = relayed.WriteTo([]byte("to the hub's own service"), hubPort.LocalAddr())
	if receives(hubPort, 300*time.Millisecond) {
		t.Error("a service on the relay's own address received a datagram through the relay")
	}
	// Another loopback address is refused at the permission.
	other := udpService(t, "127.0.0.2")
	_, _ = relayed.WriteTo([]byte("to another loopback service"), other.LocalAddr())
	if receives(other, 300*time.Millisecond) {
		t.Error("a service on 127.0.0.2 received a datagram through the relay")
	}
	// A TURN listener of the relay itself is no peer either.
	_, _ = relayed.WriteTo([]byte("to the relay itself, a loop"), &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: s.UDPAddr().Port})
	if !eventually(func() bool { return s.Stats().PeersRefused >= 3 }) || s.Stats().BytesToPeers != 0 {
		st := s.Stats()
		t.Errorf("Stats() = %+v; want three refusals and nothing relayed", st)
	}

	// Two parties relayed through this server still reach each other at their relayed addresses.
	peer := allocate(t, s, "call-1/agent")
	const hello = "media from one relayed party to the other"
	deadline := time.Now().Add(5 * time.Second)
	_ = peer.SetReadDeadline(deadline)
	buf := make([]byte, 1500)
	// The receiving side needs a permission for the sender too, as ICE gives both.
	_, _ = peer.WriteTo([]byte("permission, please"), relayed.LocalAddr())
	for {
		if _, err := relayed.WriteTo([]byte(hello), peer.LocalAddr()); err != nil {
			t.Fatal(err)
		}
		_ = peer.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
		n, _, err := peer.ReadFrom(buf)
		if err == nil && string(buf[:n]) == hello {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("relay to relay: %v", err)
		}
	}
}

func TestRelayPeerPolicy(t *testing.T) {
	tests := []struct {
		ip      string
		blocked bool
	}{
		{"127.0.0.1", true}, {"::1", true}, {"169.254.169.254", true}, {"fe80::1", true},
		{"0.0.0.0", true}, {"224.0.0.1", true}, {"10.1.2.3", true}, {"172.16.0.9", true},
		{"192.168.1.10", true}, {"100.64.0.1", true}, {"100.127.255.254", true}, {"fd00::5", true},
		{"::ffff:10.0.0.1", true}, {"::ffff:127.0.0.1", true}, {"64:ff9b::a00:1", true},
		{"8.8.8.8", false}, {"100.128.0.1", false}, {"2a00:1450::1", false}, {"::ffff:8.8.8.8", false},
	}
	for _, tt := range tests {
		if got := Blocked(netip.MustParseAddr(tt.ip)); got != tt.blocked {
			t.Errorf("Blocked(%s) = %v; want %v", tt.ip, got, tt.blocked)
		}
	}

	// An explicit allow-list opens a private range (on-premises agents), never the host's own
	// addresses; loopback is exempt only when every listener is on loopback.
	cfg := Config{RelayIP: net.IPv4(203, 0, 113, 7), AllowPeers: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}}
	wild := newPeerPolicy(&cfg, []net.Addr{&net.UDPAddr{IP: net.IPv4zero, Port: 3478}})
	lo := newPeerPolicy(&cfg, []net.Addr{&net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 3478}})
	for _, tt := range []struct {
		p    *peerPolicy
		ip   string
		want bool
	}{
		{wild, "10.1.2.3", true}, {wild, "192.168.1.1", false}, {wild, "203.0.113.7", true},
		{wild, "127.0.0.1", false}, {wild, "8.8.8.8", true},
		{lo, "127.0.0.1", true}, {lo, "127.0.0.2", true}, {lo, "192.168.1.1", false},
	} {
		if got := tt.p.permit(netip.MustParseAddr(tt.ip)); got != tt.want {
			t.Errorf("permit(%s) with loopbackOnly=%v = %v; want %v", tt.ip, tt.p.loopbackOnly, got, tt.want)
		}
	}
	if wild.loopbackOnly || !lo.loopbackOnly {
		t.Errorf("loopbackOnly: wildcard listener %v, loopback listener %v; want false, true", wild.loopbackOnly, lo.loopbackOnly)
	}
}

func TestRelayUserQuota(t *testing.T) {
	// Review: one customer credential made 95 allocations and filled the port range.
	s := publicServer(t, func(c *Config) { c.UserQuota = 4; c.MinPort, c.MaxPort = 41000, 41099 })
	ice := Issue(testSecret, nil, time.Now(), time.Minute, "call-2/customer")
	var held []net.PacketConn
	for i := range 4 {
		relayed, err := dialTURN(t, "udp", loUDP(s), ice.Username, ice.Credential).Allocate()
		if err != nil {
			t.Fatalf("allocation %d within the quota: %v", i+1, err)
		}
		held = append(held, relayed)
	}
	_, err := dialTURN(t, "udp", loUDP(s), ice.Username, ice.Credential).Allocate()
	if err == nil || !strings.Contains(err.Error(), "486") {
		t.Fatalf("allocation over the quota: %v; want 486 Allocation Quota Reached", err)
	}
	if st := s.Stats(); st.QuotaRefused != 1 || st.Allocations != 4 {
		t.Errorf("Stats() = %+v; want 1 refused by the quota and 4 open", st)
	}
	// Another party is not charged for it.
	allocate(t, s, "call-2/agent")
	// Releasing one makes room again.
	_ = held[0].Close()
	if !eventually(func() bool { return s.Stats().Allocations == 4 }) {
		t.Fatalf("allocation not released: %+v", s.Stats())
	}
	if relayed, err := dialTURN(t, "udp", loUDP(s), ice.Username, ice.Credential).Allocate(); err != nil {
		t.Errorf("allocation after one was released: %v", err)
	} else {
		_ = relayed.Close()
	}
	for _, c := range held[1:] {
		_ = c.Close()
	}
}

func TestRelayRevoke(t *testing.T) {
	// Review: a declined customer kept relaying after the conversation ended.
	s := publicServer(t, nil)
	ice := Issue(testSecret, nil, time.Now(), time.Hour, "call-3/customer")
	relayed, err := dialTURN(t, "udp", loUDP(s), ice.Username, ice.Credential).Allocate()
	if err != nil {
		t.Fatal(err)
	}
	defer relayed.Close()
	other := allocate(t, s, "call-4/customer")
	if n := s.Revoke("call-3/customer"); n != 1 {
		t.Errorf("Revoke closed %d allocations; want 1", n)
	}
	if !eventually(func() bool { return s.Stats().Allocations == 1 }) {
		t.Fatalf("revoked allocation still open: %+v", s.Allocations())
	}
	if st := s.Stats(); st.Revoked != 1 {
		t.Errorf("Stats().Revoked = %d; want 1", st.Revoked)
	}
	// The credential, still unexpired, allocates nothing any more.
	before := s.Stats().AuthRefused
	if r, err := dialTURN(t, "udp", loUDP(s), ice.Username, ice.Credential).Allocate(); err == nil {
		_ = r.Close()
		t.Error("a revoked credential allocated again")
	}
	if s.Stats().AuthRefused <= before {
		t.Error("the revoked credential's refusal was not counted")
	}
	// Other calls carry on.
	if len(s.Allocations()) != 1 || s.Allocations()[0].ID != "call-4/customer" {
		t.Errorf("Allocations() = %+v; want call-4's only", s.Allocations())
	}
	_ = other
}

func TestRelayRefusesTCPAllocations(t *testing.T) {
	// RFC 6062 relaying would open TCP connections to any service; WebRTC never asks for it.
	s := publicServer(t, nil)
	ice := Issue(testSecret, nil, time.Now(), time.Minute, "call-5/customer")
	cl := dialTURN(t, "tcp", loTCP(s), ice.Username, ice.Credential)
	if a, err := cl.AllocateTCP(); err == nil {
		_ = a.Close()
		t.Fatal("a TCP allocation was made")
	}
	if n := s.Stats().Allocations; n != 0 {
		t.Errorf("%d allocations open; want 0", n)
	}
}

func TestRelayTCPConnectionLimits(t *testing.T) {
	// Review: an unauthenticated TURN/TCP connection stayed open forever.
	s := publicServer(t, func(c *Config) { c.HandshakeTimeout = 300 * time.Millisecond; c.MaxConnsPerIP = 2 })
	addr := loTCP(s)
	dial := func() net.Conn {
		c, err := net.DialTimeout("tcp", addr.String(), 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Close() })
		return c
	}
	closed := func(c net.Conn, within time.Duration) bool {
		_ = c.SetReadDeadline(time.Now().Add(within))
		_, err := c.Read(make([]byte, 1))
		ne := net.Error(nil)
		return err != nil && !(errors.As(err, &ne) && ne.Timeout())
	}
	a, b := dial(), dial()
	if !eventually(func() bool { return s.Stats().Conns == 2 }) {
		t.Fatalf("Stats() = %+v; want 2 connections", s.Stats())
	}
	// A third from the same address is closed at once.
	if c := dial(); !closed(c, 2*time.Second) {
		t.Error("a connection over the per-address cap stayed open")
	}
	// The silent ones are closed after the handshake timeout.
	if !closed(a, 5*time.Second) || !closed(b, 5*time.Second) {
		t.Error("silent connections stayed open past the handshake timeout")
	}
	if !eventually(func() bool { st := s.Stats(); return st.Conns == 0 && st.ConnsIdle == 2 && st.ConnsRefused == 1 }) {
		t.Errorf("Stats() = %+v; want none open, 2 closed idle, 1 refused", s.Stats())
	}
	// A client that allocates stays (past the handshake timeout) and relays.
	ice := Issue(testSecret, nil, time.Now(), time.Minute, "call-6/agent")
	relayed, err := dialTURN(t, "tcp", loTCP(s), ice.Username, ice.Credential).Allocate()
	if err != nil {
		t.Fatal(err)
	}
	defer relayed.Close()
	time.Sleep(600 * time.Millisecond)
	if st := s.Stats(); st.Allocations != 1 || st.Conns != 1 {
		t.Errorf("after the handshake timeout: Stats() = %+v; want the allocated client kept", st)
	}
}
