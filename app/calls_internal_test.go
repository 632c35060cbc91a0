package app

import (
	"encoding/json"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley/hub/client"
	"github.com/parleyhq/parley/internal/ops"
	"github.com/parleyhq/parley/media"
	"github.com/parleyhq/parley/wire"
)

// directHub stands in for the hub's call relay in TestCallSignalledDirectly: it answers the
// agent's requests and carries signals between the agent's call service and a customer peer
// (the media engine with test sources), so the service's signalling is tested without a hub.
type directHub struct {
	t      *testing.T
	m      *callManager
	mu     sync.Mutex
	cust   *media.Call
	media  []wire.CallMedia // what the agent told the customer
	events chan func()      // deliveries, in order
}

const directCall wire.CallID = "call-1"

func env(t wire.Type, v any) wire.Envelope {
	b, _ := json.Marshal(v)
	return wire.Envelope{Type: t, Data: b}
}

// toAgent delivers an event to the agent as the hub's connection would (under core.mu).
func (h *directHub) toAgent(ev wire.Envelope) {
	h.events <- func() {
		h.m.c.mu.Lock()
		h.m.onHub(ev)
		h.m.c.mu.Unlock()
	}
}

func (h *directHub) send(t wire.Type, payload any) (wire.Ack, error) {
	switch t {
	case wire.TypeCallInvite:
		inv := payload.(wire.CallInvite)
		h.toAgent(env(wire.TypeCallState, wire.Call{ID: directCall, Conv: inv.Conv, Kind: inv.Kind, State: wire.CallRinging,
			ICE: &wire.ICEConfig{Policy: "all"}, Allowed: wire.CallsVoiceVideo}))
		return wire.Ack{Call: directCall}, nil
	case wire.TypeCallSignal:
		sig := payload.(wire.CallSignal)
		h.events <- func() { h.toCustomer(sig) }
	case wire.TypeCallMedia:
		h.mu.Lock()
		h.media = append(h.media, payload.(wire.CallMedia))
		h.mu.Unlock()
	case wire.TypeCallEnd:
		h.toAgent(env(wire.TypeCallState, wire.Call{ID: directCall, State: wire.CallEnded, EndedBy: wire.AuthorAgent, Reason: "hangup"}))
	}
	return wire.Ack{}, nil
}

// toCustomer applies the agent's signal to the customer peer: the offer is answered at once
// (the customer accepted), candidates are added.
func (h *directHub) toCustomer(sig wire.CallSignal) {
	switch {
	case sig.SDP != nil && sig.SDP.Type == "offer":
		ans, err := h.cust.HandleOffer(sig.SDP.SDP)
		if err != nil {
			h.t.Errorf("customer HandleOffer: %v", err)
			return
		}
		h.toAgent(env(wire.TypeCallSignal, wire.CallSignal{Call: directCall, SDP: &wire.SDP{Type: "answer", SDP: ans}, From: wire.AuthorCustomer}))
	case sig.Candidate != nil:
		c := media.Candidate{Candidate: sig.Candidate.Candidate, SDPMid: sig.Candidate.SDPMid}
		if sig.Candidate.SDPMLineIndex != nil {
			u := uint16(*sig.Candidate.SDPMLineIndex)
			c.SDPMLineIndex = &u
		}
		_ = h.cust.AddRemoteCandidate(c)
	}
}

// lastView returns the newest call view the agent's UI got.
type viewLog struct {
	mu    sync.Mutex
	views []*CallView
}

func (l *viewLog) Emit(e Event) {
	if e.Name != EventCall {
		return
	}
	l.mu.Lock()
	l.views = append(l.views, e.Data.(*CallView))
	l.mu.Unlock()
}

func (l *viewLog) waitFor(t *testing.T, what string, ok func(*CallView) bool) *CallView {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		l.mu.Lock()
		for _, v := range l.views {
			if ok(v) {
				l.mu.Unlock()
				return v
			}
		}
		l.mu.Unlock()
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no call view with %s", what)
	return nil
}

// TestCallSignalledDirectly runs a video call between the agent's call service and a pion
// customer, signalled by a stand-in for the hub: frames arrive both ways, the customer's mute and
// camera show, the agent's mute reaches the customer and silences the tone, a customer offer that
// collides with the agent's is ignored (the agent is the impolite peer), and End closes it all.
func TestCallSignalledDirectly(t *testing.T) {
	views := &viewLog{}
	c := &core{events: newEvents(views), log: slog.New(slog.DiscardHandler), now: time.Now}
	c.calls = newCallManager(c, DevicesTestPattern)
	c.reset()
	c.link = &client.Conn{} // signed in, as far as Start can tell; nothing is sent through it
	c.convs["conv-1"] = &conv{Conversation: wire.Conversation{ID: "conv-1", State: wire.ConvActive, CustomerName: "Carla"}}
	cust, err := media.NewCall(media.Options{Audio: true, Video: true, Camera: media.TestPatternID, Microphone: media.TestPatternID, Speaker: "none"})
	if err != nil {
		t.Fatal(err)
	}
	defer cust.Close()
	h := &directHub{t: t, m: c.calls, cust: cust, events: make(chan func(), 1024)}
	c.calls.send = h.send
	cust.OnLocalCandidate(func(cand media.Candidate) {
		ic := &wire.ICECandidate{Candidate: cand.Candidate, SDPMid: cand.SDPMid}
		if cand.SDPMLineIndex != nil {
			i := int(*cand.SDPMLineIndex)
			ic.SDPMLineIndex = &i
		}
		h.toAgent(env(wire.TypeCallSignal, wire.CallSignal{Call: directCall, Candidate: ic, From: wire.AuthorCustomer}))
	})
	stop := make(chan struct{})
	delivered := make(chan struct{})
	go func() {
		defer close(delivered)
		for {
			select {
			case f := <-h.events:
				f()
			case <-stop:
				return
			}
		}
	}()
	defer func() { close(stop); <-delivered; c.calls.close() }()

	calls := &Calls{m: c.calls}
	v, err := calls.Start("conv-1", wire.CallVideo)
	if err != nil {
		t.Fatalf("Start = %v", err)
	}
	if v.State != CallInviting && v.State != CallRinging {
		t.Fatalf("Start() state = %s; want inviting or ringing", v.State)
	}
	views.waitFor(t, "ringing", func(v *CallView) bool { return v != nil && v.State == CallRinging && v.ID == directCall })
	// The customer answers.
	h.toAgent(env(wire.TypeCallState, wire.Call{ID: directCall, Conv: "conv-1", Kind: wire.CallVideo, State: wire.CallActive,
		Outcome: wire.OutcomeAcceptedVideo, AnsweredAt: time.Now().UnixMilli()}))
	views.waitFor(t, "remote frames", func(v *CallView) bool {
		return v != nil && v.State == CallActive && v.RemoteFrames && v.RemoteVideoURL != "" && v.SelfVideoURL != ""
	})
	waitUntil(t, "customer decodes the agent's video", func() bool { return cust.State().RemoteVideo })
	waitUntil(t, "customer hears the agent's tone", func() bool { return cust.Stats().AudioLevel > 0.01 })

	// A colliding customer offer while ours is outstanding is ignored: add video on the agent's
	// side is impossible here (it has video), so fake the pending state with a renegotiation.
	if err := calls.SetVideo(false); err != nil {
		t.Fatal(err)
	}
	h.toAgent(env(wire.TypeCallMedia, wire.CallMedia{Call: directCall, Muted: true, Video: false, From: wire.AuthorCustomer}))
	views.waitFor(t, "the customer's mute", func(v *CallView) bool { return v != nil && v.RemoteMuted && v.RemoteKnown && !v.RemoteVideo })

	if err := calls.SetMuted(true); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "agent's mute silences the customer's side", func() bool { return cust.Stats().AudioLevel == 0 })
	h.mu.Lock()
	last := h.media[len(h.media)-1]
	h.mu.Unlock()
	if !last.Muted || last.Video {
		t.Errorf("last call.media to the customer = %+v; want muted, video off", last)
	}

	if err := calls.End(); err != nil {
		t.Fatal(err)
	}
	views.waitFor(t, "ended", func(v *CallView) bool { return v != nil && v.State == CallEnded })
	views.waitFor(t, "no call", func(v *CallView) bool { return v == nil })
	if cur, _ := calls.Current(); cur != nil {
		t.Errorf("Current() after End = %+v; want nil", cur)
	}
}

// TestImpoliteAgent checks perfect negotiation's collision rule: while the agent's offer waits
// for its answer, an offer from the customer is ignored.
func TestImpoliteAgent(t *testing.T) {
	var sent []wire.CallSignal
	c := &core{events: newEvents(nil), log: slog.New(slog.DiscardHandler), now: time.Now}
	c.calls = newCallManager(c, DevicesTestPattern)
	c.reset()
	c.calls.send = func(t wire.Type, p any) (wire.Ack, error) {
		if sig, ok := p.(wire.CallSignal); ok && sig.SDP != nil {
			sent = append(sent, sig)
		}
		return wire.Ack{}, nil
	}
	s := &callSession{m: c.calls, q: &ops.Queue{}, log: c.log, id: directCall, state: CallRinging, conv: "conv-1"}
	c.calls.cur = s
	defer func() { s.q.Do(func() { s.finish(wire.AuthorAgent, "hangup", "") }); c.calls.close() }()
	s.q.Do(func() {
		if err := s.startMedia(&wire.ICEConfig{Policy: "all"}); err != nil {
			t.Fatal(err)
		}
	})
	if len(sent) != 1 || sent[0].SDP.Type != "offer" {
		t.Fatalf("after startMedia sent %+v; want one offer", sent)
	}
	other, err := media.NewCall(media.Options{Audio: true, Microphone: media.TestPatternID, Speaker: "none"})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	off, err := other.CreateOffer()
	if err != nil {
		t.Fatal(err)
	}
	s.q.Do(func() { s.onSignal(wire.CallSignal{Call: directCall, SDP: &wire.SDP{Type: "offer", SDP: off}}) })
	if len(sent) != 1 {
		t.Errorf("the agent answered a colliding offer: sent %d SDPs; want 1", len(sent))
	}
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 15 s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
