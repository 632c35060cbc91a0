package media

import (
	"errors"

	"github.com/pion/webrtc/v4"
)

// A call's signalling: offers and answers (perfect negotiation, ICE restarts) and trickled
// candidates, held while they would meet stale credentials.

// OnLocalCandidate sets the function that carries each local ICE candidate to the other side
// (trickle ICE). Set it before CreateOffer or HandleOffer.
func (c *Call) OnLocalCandidate(f func(Candidate)) {
	c.mu.Lock()
	c.onCand = f
	c.mu.Unlock()
}

// AddRemoteCandidate adds a candidate trickled by the other side. Candidates that arrive
// before the remote description are kept until it is set.
func (c *Call) AddRemoteCandidate(cand Candidate) error {
	if c.isClosed() {
		return ErrClosed
	}
	return c.cands.add(c.pc, cand)
}

// CreateOffer starts (or re-starts) negotiation and returns the offer SDP to send.
func (c *Call) CreateOffer() (string, error) { return c.offer(nil) }

func (c *Call) offer(o *webrtc.OfferOptions) (string, error) {
	if c.isClosed() {
		return "", ErrClosed
	}
	restart := o != nil && o.ICERestart
	if restart {
		// pion starts gathering the new generation in CreateOffer; until the answer comes back,
		// candidates either way would meet the other side's old credentials and be lost.
		c.mu.Lock()
		c.restarting = true
		c.heldCand = nil // an earlier restart's, never answered: stale
		c.mu.Unlock()
		c.cands.hold()
	}
	c.sig.Lock()
	off, err := c.pc.CreateOffer(o)
	if err == nil {
		err = c.pc.SetLocalDescription(off)
	}
	c.sig.Unlock()
	if err != nil {
		if restart {
			c.mu.Lock()
			c.restarting = false
			held := c.heldCand
			c.heldCand = nil
			c.mu.Unlock()
			c.sendCandidates(held)
			_ = c.cands.release(c.pc)
		}
		return "", err
	}
	return off.SDP, nil
}

// HandleOffer applies the other side's offer (first call, renegotiation or ICE restart) and
// returns the answer SDP to send back. When the offer adds video and this call was made with
// Video, our camera goes on the same transceiver.
func (c *Call) HandleOffer(sdp string) (string, error) {
	if c.isClosed() {
		return "", ErrClosed
	}
	c.sig.Lock()
	defer c.sig.Unlock()
	if err := c.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: sdp}); err != nil {
		return "", errors.Join(ErrBadState, err)
	}
	if err := c.flushCandidates(); err != nil {
		return "", err
	}
	ans, err := c.pc.CreateAnswer(nil)
	if err != nil {
		return "", err
	}
	if err := c.pc.SetLocalDescription(ans); err != nil {
		return "", err
	}
	return ans.SDP, nil
}

// HandleAnswer applies the other side's answer to our last offer.
func (c *Call) HandleAnswer(sdp string) error {
	if c.isClosed() {
		return ErrClosed
	}
	c.sig.Lock()
	err := c.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: sdp})
	c.sig.Unlock()
	if err != nil {
		return errors.Join(ErrBadState, err)
	}
	c.mu.Lock()
	c.restarting = false
	held := c.heldCand
	c.heldCand = nil
	c.mu.Unlock()
	c.sendCandidates(held)
	return c.flushCandidates()
}

// sendCandidates hands held local candidates to the signalling layer.
func (c *Call) sendCandidates(cands []Candidate) {
	c.mu.Lock()
	f := c.onCand
	c.mu.Unlock()
	if f == nil {
		return
	}
	for _, cand := range cands {
		f(cand)
	}
}

func (c *Call) flushCandidates() error { return c.cands.release(c.pc) }

// RestartICE returns an offer with new ICE credentials, for when the network changed or the
// connection failed.
func (c *Call) RestartICE() (string, error) { return c.offer(&webrtc.OfferOptions{ICERestart: true}) }

// SetICEServers replaces the STUN/TURN servers (and the relay-only policy) the next ICE gathering
// uses: fresh TURN credentials the hub handed out for a long call. They apply at the next ICE
// restart (RestartICE, or the other side's restart offer); the current path is left alone.
func (c *Call) SetICEServers(servers []ICEServer, relayOnly bool) error {
	c.sig.Lock()
	defer c.sig.Unlock()
	cfg := c.pc.GetConfiguration()
	setICE(&cfg, servers, relayOnly)
	return c.pc.SetConfiguration(cfg)
}
