package relay

import (
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/webrtc/v4"
)

// peerConfig turns a plan into the configuration a pion client would build from it.
func peerConfig(p Plan) webrtc.Configuration {
	cfg := webrtc.Configuration{ICETransportPolicy: webrtc.ICETransportPolicyAll}
	if p.Policy == PolicyRelay {
		cfg.ICETransportPolicy = webrtc.ICETransportPolicyRelay
	}
	for _, s := range p.Servers {
		cfg.ICEServers = append(cfg.ICEServers, webrtc.ICEServer{URLs: s.URLs, Username: s.Username, Credential: s.Credential})
	}
	return cfg
}

// newPeer returns a loopback-only pion PeerConnection (FACTS.md: loopback, UDP4, mDNS off).
func newPeer(t testing.TB, cfg webrtc.Configuration) *webrtc.PeerConnection {
	t.Helper()
	se := webrtc.SettingEngine{LoggerFactory: LoggerFactory{Log: testLog(t)}}
	se.SetInterfaceFilter(func(name string) bool { return name == "lo" })
	se.SetIncludeLoopbackCandidate(true)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	if cfg.ICETransportPolicy == webrtc.ICETransportPolicyRelay {
		// pion waits 2 s before accepting a relay pair in case a better one turns up; with a
		// relay-only policy none can, so that wait would only delay the call.
		se.SetRelayAcceptanceMinWait(0)
	}
	pc, err := webrtc.NewAPI(webrtc.WithSettingEngine(se)).NewPeerConnection(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pc.Close() })
	return pc
}

// call connects an agent and a customer peer configured from their plans, sends a DataChannel
// message round trip and returns each side's selected candidate pair.
func call(t testing.TB, agentPlan, customerPlan Plan) (agent, customer *webrtc.ICECandidatePair) {
	t.Helper()
	a, c := newPeer(t, peerConfig(agentPlan)), newPeer(t, peerConfig(customerPlan))

	// The customer echoes whatever arrives on the agent's channel.
	c.OnDataChannel(func(dc *webrtc.DataChannel) {
		dc.OnMessage(func(m webrtc.DataChannelMessage) { _ = dc.Send(append([]byte("echo: "), m.Data...)) })
	})
	dc, err := a.CreateDataChannel("probe", nil)
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan string, 1)
	dc.OnOpen(func() { _ = dc.SendText("hello through the relay") })
	dc.OnMessage(func(m webrtc.DataChannelMessage) {
		select {
		case got <- string(m.Data):
		default:
		}
	})

	// Signal directly, with every candidate in the descriptions (no trickle).
	exchange := func(from, to *webrtc.PeerConnection, offer bool) {
		var sd webrtc.SessionDescription
		if offer {
			sd, err = from.CreateOffer(nil)
		} else {
			sd, err = from.CreateAnswer(nil)
		}
		if err != nil {
			t.Fatal(err)
		}
		gathered := webrtc.GatheringCompletePromise(from)
		if err := from.SetLocalDescription(sd); err != nil {
			t.Fatal(err)
		}
		select {
		case <-gathered:
		case <-time.After(10 * time.Second):
			t.Fatal("ICE gathering did not complete")
		}
		if err := to.SetRemoteDescription(*from.LocalDescription()); err != nil {
			t.Fatal(err)
		}
	}
	exchange(a, c, true)
	exchange(c, a, false)

	select {
	case msg := <-got:
		if msg != "echo: hello through the relay" {
			t.Fatalf("agent got %q", msg)
		}
	case <-time.After(15 * time.Second):
		t.Fatalf("no DataChannel round trip (agent ICE %s, customer ICE %s)", a.ICEConnectionState(), c.ICEConnectionState())
	}
	return selectedPair(t, a), selectedPair(t, c)
}

func selectedPair(t testing.TB, pc *webrtc.PeerConnection) *webrtc.ICECandidatePair {
	t.Helper()
	p, err := pc.SCTP().Transport().ICETransport().GetSelectedCandidatePair()
	if err != nil || p == nil {
		t.Fatalf("no selected candidate pair: %v", err)
	}
	return p
}

func addr(c *webrtc.ICECandidate) string {
	return net.JoinHostPort(c.Address, fmt.Sprint(c.Port))
}

// relayedBy returns the id of the allocation on s whose relayed address is the candidate's.
func relayedBy(s *Server, c *webrtc.ICECandidate) string {
	for _, a := range s.Allocations() {
		if a.Relayed.String() == addr(c) {
			return a.ID
		}
	}
	return ""
}

// TestRegionsRouteMedia runs real calls through two embedded relays, one in North America and one
// in Europe, with both participants in Europe: a GCC organisation's media must go through the NA
// relay, a commercial one's directly.
func TestRegionsRouteMedia(t *testing.T) {
	na := startServer(t, nil)
	eu := startServer(t, nil)
	dir, err := NewDirectory([]Relay{
		eu.Relay("eu-1", "eu-west", "127.0.0.1"),
		na.Relay("na-1", "na-east", "127.0.0.1"),
	}, time.Hour, nil)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("gcc organisation: relay pair through NA", func(t *testing.T) {
		agentPlan, err := dir.Plan("gcc", "eu", "call-1/agent")
		if err != nil {
			t.Fatal(err)
		}
		customerPlan, err := dir.Plan("gcc", "eu", "call-1/customer")
		if err != nil {
			t.Fatal(err)
		}
		if agentPlan.Policy != PolicyRelay || len(agentPlan.Route) != 1 || agentPlan.Route[0].ID != "na-1" {
			t.Fatalf("agent plan = %+v; want relay-only through na-1", agentPlan)
		}
		ap, cp := call(t, agentPlan, customerPlan)
		for _, side := range []struct {
			who  string
			pair *webrtc.ICECandidatePair
		}{{"agent", ap}, {"customer", cp}} {
			if side.pair.Local.Typ != webrtc.ICECandidateTypeRelay || side.pair.Remote.Typ != webrtc.ICECandidateTypeRelay {
				t.Errorf("%s pair %s; want relay<->relay", side.who, side.pair)
			}
		}
		if id := relayedBy(na, ap.Local); id != "call-1/agent" {
			t.Errorf("agent's relayed address %s is not an NA allocation for call-1/agent (got %q; NA has %+v)", addr(ap.Local), id, na.Allocations())
		}
		if id := relayedBy(na, cp.Local); id != "call-1/customer" {
			t.Errorf("customer's relayed address %s is not an NA allocation for call-1/customer (got %q)", addr(cp.Local), id)
		}
		if n := eu.Stats().AllocationsTotal; n != 0 {
			t.Errorf("EU relay made %d allocations for a GCC call; want 0", n)
		}
		if st := na.Stats(); st.BytesToPeers == 0 || st.BytesFromPeers == 0 {
			t.Errorf("NA relay stats %+v; want media bytes both ways", st)
		}
	})

	t.Run("commercial organisation: direct pair", func(t *testing.T) {
		agentPlan, err := dir.Plan("eu", "eu", "call-2/agent")
		if err != nil {
			t.Fatal(err)
		}
		customerPlan, err := dir.Plan("eu", "eu", "call-2/customer")
		if err != nil {
			t.Fatal(err)
		}
		if agentPlan.Policy != PolicyAll || len(agentPlan.Route) != 1 || agentPlan.Route[0].ID != "eu-1" {
			t.Fatalf("agent plan = %+v; want policy all with eu-1 as fallback", agentPlan)
		}
		ap, cp := call(t, agentPlan, customerPlan)
		for _, side := range []struct {
			who  string
			pair *webrtc.ICECandidatePair
		}{{"agent", ap}, {"customer", cp}} {
			for _, c := range []*webrtc.ICECandidate{side.pair.Local, side.pair.Remote} {
				if c.Typ != webrtc.ICECandidateTypeHost && c.Typ != webrtc.ICECandidateTypeSrflx {
					t.Errorf("%s pair %s; want host/srflx on both ends", side.who, side.pair)
				}
			}
		}
		// The fallback relay was handed out and worked (relay candidates were gathered from it).
		if n := eu.Stats().AllocationsTotal; n == 0 {
			t.Error("the EU relay made no allocation; want relay candidates gathered as a fallback")
		}
	})
}

// TestRelayOverTCP forces a relay-only call through TURN over TCP, as on networks that block UDP.
func TestRelayOverTCP(t *testing.T) {
	s := startServer(t, nil)
	r := s.Relay("na-1", "na", "127.0.0.1")
	r.URLs = r.URLs[1:] // the ?transport=tcp URL only
	dir, err := NewDirectory([]Relay{r}, time.Hour, nil)
	if err != nil {
		t.Fatal(err)
	}
	ap, _ := func() (*webrtc.ICECandidatePair, *webrtc.ICECandidatePair) {
		a, _ := dir.Plan("gcc", "", "call-3/agent")
		c, _ := dir.Plan("gcc", "", "call-3/customer")
		return call(t, a, c)
	}()
	if ap.Local.Typ != webrtc.ICECandidateTypeRelay || ap.Remote.Typ != webrtc.ICECandidateTypeRelay {
		t.Errorf("agent pair %s; want relay<->relay", ap)
	}
	for _, a := range s.Allocations() {
		if a.Transport != "tcp" {
			t.Errorf("allocation %+v reached the server over %s; want tcp", a, a.Transport)
		}
	}
	if relayedBy(s, ap.Local) != "call-3/agent" {
		t.Errorf("agent's relayed address %s is not on the server (allocations %+v)", addr(ap.Local), s.Allocations())
	}
}

// BenchmarkCallSetup measures a loopback call from creating the peers to the first DataChannel
// round trip, direct and relay-only through the embedded server.
func BenchmarkCallSetup(b *testing.B) {
	s := startServer(b, nil)
	dir, err := NewDirectory([]Relay{s.Relay("na-1", "na", "127.0.0.1")}, time.Hour, nil)
	if err != nil {
		b.Fatal(err)
	}
	for _, org := range []Region{"na", "gcc"} {
		b.Run(string(org), func(b *testing.B) {
			for i := 0; b.Loop(); i++ {
				a, _ := dir.Plan(org, "na", fmt.Sprintf("call-%d/agent", i))
				c, _ := dir.Plan(org, "na", fmt.Sprintf("call-%d/customer", i))
				call(b, a, c)
			}
		})
	}
}
