package media

import (
	"log/slog"
	"sync"

	"github.com/pion/interceptor"
	"github.com/pion/webrtc/v4"
)

// peerOptions is how a peer connection reaches the other side: the call's and the supervisor's
// leg are made the same way.
type peerOptions struct {
	ICEServers   []ICEServer
	RelayOnly    bool // ICE transport policy "relay": only TURN candidates
	LoopbackOnly bool // gather only loopback candidates (tests, benchmarks)
}

// newPeerConnection makes a peer connection with the media engine and interceptors given.
func newPeerConnection(me *webrtc.MediaEngine, reg *interceptor.Registry, log *slog.Logger, t peerOptions) (*webrtc.PeerConnection, error) {
	se := webrtc.SettingEngine{LoggerFactory: slogFactory{log}}
	// Interfaces are listed afresh at each gathering, so an ICE restart after a network change
	// gathers on the new address (see freshNet).
	if n, err := newFreshNet(); err == nil {
		se.SetNet(n)
	}
	if t.LoopbackOnly {
		se.SetIncludeLoopbackCandidate(true)
		se.SetInterfaceFilter(func(name string) bool { return name == "lo" })
		se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	}
	se.SetICEMulticastDNSMode(0x01) // ice.MulticastDNSModeDisabled
	// Browsers often show up first as peer-reflexive (their host candidates trickle in later or
	// are mDNS names): pion would wait a second before using such a pair. A 1:1 call gains
	// nothing by waiting.
	se.SetPrflxAcceptanceMinWait(0)
	if t.RelayOnly {
		// Relay-only calls have nothing better to wait for: pion's default 2 s wait before it
		// nominates a relayed pair is pure setup delay (measured: 2 s → 20 ms).
		se.SetRelayAcceptanceMinWait(0)
	}
	api := webrtc.NewAPI(webrtc.WithMediaEngine(me), webrtc.WithInterceptorRegistry(reg), webrtc.WithSettingEngine(se))
	cfg := webrtc.Configuration{SDPSemantics: webrtc.SDPSemanticsUnifiedPlan, BundlePolicy: webrtc.BundlePolicyMaxBundle}
	setICE(&cfg, t.ICEServers, t.RelayOnly)
	return api.NewPeerConnection(cfg)
}

// setICE puts the STUN/TURN servers and the transport policy into cfg.
func setICE(cfg *webrtc.Configuration, servers []ICEServer, relayOnly bool) {
	cfg.ICEServers = nil
	for _, s := range servers {
		cfg.ICEServers = append(cfg.ICEServers, webrtc.ICEServer{URLs: s.URLs, Username: s.Username, Credential: s.Credential})
	}
	cfg.ICETransportPolicy = webrtc.ICETransportPolicyAll
	if relayOnly {
		cfg.ICETransportPolicy = webrtc.ICETransportPolicyRelay
	}
}

// remoteCandidates keeps the other side's trickled candidates until its description is applied
// (pion cannot add them before), then adds them as they come. Its methods are safe for
// concurrent use.
type remoteCandidates struct {
	mu      sync.Mutex
	set     bool // the remote description is applied: candidates go straight in
	pending []webrtc.ICECandidateInit
}

// add adds cand to pc now, or keeps it until release.
func (r *remoteCandidates) add(pc *webrtc.PeerConnection, cand Candidate) error {
	ci := webrtc.ICECandidateInit{Candidate: cand.Candidate, SDPMid: cand.SDPMid, SDPMLineIndex: cand.SDPMLineIndex}
	r.mu.Lock()
	if !r.set {
		r.pending = append(r.pending, ci)
		r.mu.Unlock()
		return nil
	}
	r.mu.Unlock()
	return pc.AddICECandidate(ci)
}

// hold keeps the candidates that come from now on until the next release (an ICE restart:
// the other side's new generation waits for its answer).
func (r *remoteCandidates) hold() {
	r.mu.Lock()
	r.set = false
	r.mu.Unlock()
}

// release adds what was kept to pc; later candidates go straight in.
func (r *remoteCandidates) release(pc *webrtc.PeerConnection) error {
	r.mu.Lock()
	r.set = true
	pend := r.pending
	r.pending = nil
	r.mu.Unlock()
	for _, ci := range pend {
		if err := pc.AddICECandidate(ci); err != nil {
			return err
		}
	}
	return nil
}
