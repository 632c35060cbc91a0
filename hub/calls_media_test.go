package hub_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley/hub"
	"github.com/parleyhq/parley/hub/relay"
	"github.com/parleyhq/parley/wire"
	"github.com/pion/ice/v4"
	"github.com/pion/webrtc/v4"
)

// pionPeer is one party's real WebRTC peer, configured from its call.state ICE and signalled
// only through the hub.
type pionPeer struct {
	t    *testing.T
	p    *peer
	call wire.CallID
	pc   *webrtc.PeerConnection
	// mu guards early, the candidates that arrived before the remote description.
	mu     sync.Mutex
	early  []webrtc.ICECandidateInit
	remote bool
}

func newPionPeer(t *testing.T, p *peer, id wire.CallID, conf *wire.ICEConfig) *pionPeer {
	t.Helper()
	cfg := webrtc.Configuration{ICETransportPolicy: webrtc.ICETransportPolicyAll}
	if conf.Policy == "relay" {
		cfg.ICETransportPolicy = webrtc.ICETransportPolicyRelay
	}
	for _, s := range conf.Servers {
		cfg.ICEServers = append(cfg.ICEServers, webrtc.ICEServer{URLs: s.URLs, Username: s.Username, Credential: s.Credential})
	}
	se := webrtc.SettingEngine{LoggerFactory: relay.LoggerFactory{Log: slog.New(slog.DiscardHandler)}}
	se.SetInterfaceFilter(func(name string) bool { return name == "lo" })
	se.SetIncludeLoopbackCandidate(true)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	se.SetRelayAcceptanceMinWait(0)
	pc, err := webrtc.NewAPI(webrtc.WithSettingEngine(se)).NewPeerConnection(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pc.Close() })
	pp := &pionPeer{t: t, p: p, call: id, pc: pc}
	// Trickle: every candidate goes to the other party through the hub as it is gathered.
	pc.OnICECandidate(func(c *webrtc.ICECandidate) {
		init := wire.ICECandidate{} // nil: end of gathering
		if c != nil {
			j := c.ToJSON()
			init = wire.ICECandidate{Candidate: j.Candidate, SDPMid: j.SDPMid, SDPMLineIndex: intPtr(j.SDPMLineIndex)}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if _, err := p.conn.Request(ctx, wire.TypeCallSignal, wire.CallSignal{Call: id, Candidate: &init}); err != nil {
			t.Errorf("%s: candidate %q refused by the hub: %v", p.name, init.Candidate, err)
		}
	})
	return pp
}

func intPtr(u *uint16) *int {
	if u == nil {
		return nil
	}
	i := int(*u)
	return &i
}

// describe creates and sends an offer or an answer.
func (pp *pionPeer) describe(offer bool) {
	pp.t.Helper()
	var sd webrtc.SessionDescription
	var err error
	if offer {
		sd, err = pp.pc.CreateOffer(nil)
	} else {
		sd, err = pp.pc.CreateAnswer(nil)
	}
	if err != nil {
		pp.t.Fatal(err)
	}
	if err := pp.pc.SetLocalDescription(sd); err != nil {
		pp.t.Fatal(err)
	}
	if _, err := pp.p.conn.Request(ctx(pp.t), wire.TypeCallSignal, wire.CallSignal{Call: pp.call, SDP: &wire.SDP{Type: sd.Type.String(), SDP: sd.SDP}}); err != nil {
		pp.t.Fatalf("%s: %s refused by the hub: %v", pp.p.name, sd.Type, err)
	}
}

// onSignal applies a relayed call.signal; it reports whether it was an offer.
func (pp *pionPeer) onSignal(sig wire.CallSignal) bool {
	pp.t.Helper()
	if sig.SDP != nil {
		typ := webrtc.NewSDPType(sig.SDP.Type)
		if err := pp.pc.SetRemoteDescription(webrtc.SessionDescription{Type: typ, SDP: sig.SDP.SDP}); err != nil {
			pp.t.Fatalf("%s: remote %s: %v", pp.p.name, sig.SDP.Type, err)
		}
		pp.mu.Lock()
		pp.remote = true
		early := pp.early
		pp.early = nil
		pp.mu.Unlock()
		for _, c := range early {
			_ = pp.pc.AddICECandidate(c)
		}
		return typ == webrtc.SDPTypeOffer
	}
	if sig.Candidate.Candidate == "" {
		return false
	}
	var idx *uint16
	if sig.Candidate.SDPMLineIndex != nil {
		u := uint16(*sig.Candidate.SDPMLineIndex)
		idx = &u
	}
	c := webrtc.ICECandidateInit{Candidate: sig.Candidate.Candidate, SDPMid: sig.Candidate.SDPMid, SDPMLineIndex: idx}
	pp.mu.Lock()
	if !pp.remote {
		pp.early = append(pp.early, c)
		pp.mu.Unlock()
		return false
	}
	pp.mu.Unlock()
	if err := pp.pc.AddICECandidate(c); err != nil {
		pp.t.Errorf("%s: candidate %q: %v", pp.p.name, c.Candidate, err)
	}
	return false
}

// TestCallMediaRelayOnlyThroughHub is a government organisation's call between two real pion
// peers: configured only from call.state, signalled only through the hub (SDP and trickled
// candidates pass its checks), and connected relay-to-relay through the embedded TURN server.
func TestCallMediaRelayOnlyThroughHub(t *testing.T) {
	t.Parallel()
	rg := newCallRig(t, func(c *hub.Config) { c.TURNUDP = "127.0.0.1:0" })
	if err := rg.s.SetOrgCalls(ctx(t), hub.DemoOrg, wire.CallsVoiceVideo, "gcc"); err != nil {
		t.Fatal(err)
	}
	id := rg.invite(t, wire.CallVideo)
	agent := newPionPeer(t, rg.agent, id, rg.ringing[rg.agent].ICE)
	// The customer's peer is made once accepted, with the ICE servers that come with the answer.
	cust := newPionPeer(t, rg.cust, id, rg.answer(t, id, true).ICE)

	// The customer echoes what arrives on the agent's channel.
	cust.pc.OnDataChannel(func(dc *webrtc.DataChannel) {
		dc.OnMessage(func(m webrtc.DataChannelMessage) { _ = dc.Send(append([]byte("echo: "), m.Data...)) })
	})
	dc, err := agent.pc.CreateDataChannel("probe", nil)
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan string, 1)
	dc.OnOpen(func() { _ = dc.SendText("hello") })
	dc.OnMessage(func(m webrtc.DataChannelMessage) {
		select {
		case got <- string(m.Data):
		default:
		}
	})
	agent.describe(true)

	deadline := time.After(20 * time.Second)
	for done := false; !done; {
		select {
		case env := <-rg.agent.conn.Events():
			if env.Type == wire.TypeCallSignal {
				var sig wire.CallSignal
				_ = json.Unmarshal(env.Data, &sig)
				agent.onSignal(sig)
			}
		case env := <-rg.cust.conn.Events():
			if env.Type == wire.TypeCallSignal {
				var sig wire.CallSignal
				_ = json.Unmarshal(env.Data, &sig)
				if cust.onSignal(sig) {
					cust.describe(false)
				}
			}
		case msg := <-got:
			if msg != "echo: hello" {
				t.Fatalf("agent got %q", msg)
			}
			done = true
		case <-deadline:
			t.Fatalf("no round trip (agent ICE %s, customer ICE %s)", agent.pc.ICEConnectionState(), cust.pc.ICEConnectionState())
		}
	}
	for _, pp := range []*pionPeer{agent, cust} {
		pair, err := pp.pc.SCTP().Transport().ICETransport().GetSelectedCandidatePair()
		if err != nil || pair == nil || pair.Local.Typ != webrtc.ICECandidateTypeRelay || pair.Remote.Typ != webrtc.ICECandidateTypeRelay {
			t.Errorf("%s: selected pair %v (%v); want relay<->relay", pp.p.name, pair, err)
		}
	}
	var ids []string
	for _, a := range rg.s.TURN().Allocations() {
		ids = append(ids, a.ID)
	}
	for _, want := range []string{string(id) + "/agent", string(id) + "/customer"} {
		if !strings.Contains(strings.Join(ids, " "), want) {
			t.Errorf("TURN allocations %v; want one for %s", ids, want)
		}
	}

	// The relay's work shows on the hub's /metrics for operators.
	res, err := http.Get(rg.s.URL() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(res.Body)
	res.Body.Close()
	for _, want := range []string{"parley_hub_turn_allocations 2", "parley_hub_turn_allocations_total 2"} {
		if !strings.Contains(string(metrics), want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if !regexp.MustCompile(`parley_hub_turn_relayed_bytes_total\{direction="to_peers"\} [1-9]`).Match(metrics) {
		t.Errorf("/metrics shows no bytes relayed to peers")
	}
}
