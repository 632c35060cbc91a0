package relay

import (
	"net"
	"testing"
	"time"
)

// TestNetworkTestCredentials: a network test's allocation relays to itself and to the test's
// other allocation (UDP and TCP), and to nothing else, not even a loopback peer a call's
// allocation may reach on this loopback-only relay.
func TestNetworkTestCredentials(t *testing.T) {
	s := startServer(t, nil)
	const id = TestIDPrefix + "u1/n1"
	ice := Issue(testSecret, nil, time.Now(), TestTTL, id)
	udp, err := dialTURN(t, "udp", s.UDPAddr(), ice.Username, ice.Credential).Allocate()
	if err != nil {
		t.Fatalf("Allocate over UDP: %v", err)
	}
	defer udp.Close()
	tcp, err := dialTURN(t, "tcp", s.TCPAddr(), ice.Username, ice.Credential).Allocate()
	if err != nil {
		t.Fatalf("Allocate over TCP: %v", err)
	}
	defer tcp.Close()

	// To itself, and from one allocation of the test to the other.
	for _, tt := range []struct {
		name     string
		from, to net.PacketConn
	}{{"udp to itself", udp, udp}, {"tcp to itself", tcp, tcp}, {"udp to tcp", udp, tcp}} {
		msg := "media-like datagram, " + tt.name
		_ = tt.to.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := tt.from.WriteTo([]byte(msg), tt.to.LocalAddr()); err != nil {
			t.Fatalf("%s: WriteTo: %v", tt.name, err)
		}
		buf := make([]byte, 1500)
		n, _, err := tt.to.ReadFrom(buf)
		if err != nil || string(buf[:n]) != msg {
			t.Fatalf("%s: read %q, %v; want %q", tt.name, buf[:n], err, msg)
		}
	}

	// Anyone else: refused, although a call's credentials reach the same peer.
	peer, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()
	before := s.Stats().PeersRefused
	_, _ = udp.WriteTo([]byte("to a stranger, refused"), peer.LocalAddr())
	_ = peer.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
	buf := make([]byte, 1500)
	if n, _, err := peer.ReadFrom(buf); err == nil {
		t.Fatalf("a peer outside the test received %q through the test's allocation", buf[:n])
	}
	if after := s.Stats().PeersRefused; after <= before {
		t.Errorf("PeersRefused %d -> %d; want the stranger counted", before, after)
	}
	call := Issue(testSecret, nil, time.Now(), time.Minute, "call-1/agent")
	relayed, err := dialTURN(t, "udp", s.UDPAddr(), call.Username, call.Credential).Allocate()
	if err != nil {
		t.Fatal(err)
	}
	defer relayed.Close()
	echoThrough(t, relayed)

	// A test's credentials expire quickly.
	if TestTTL > 5*time.Minute {
		t.Errorf("TestTTL = %v; want minutes at most", TestTTL)
	}
}
