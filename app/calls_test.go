package app_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parleyhq/parley/app"
	"github.com/parleyhq/parley/hub"
	"github.com/parleyhq/parley/media"
	"github.com/parleyhq/parley/wire"
)

// callAgent signs agent1 in with test-pattern devices and takes a customer's chat.
func callAgent(t *testing.T, hubURL string) (*app.Services, *recorder, *customer) {
	t.Helper()
	return callAgentAt(t, hubURL, "", "Can you call me?")
}

// callAgentAt is callAgent with the app keeping its state in stateDir ("" for none) and the
// customer opening with first.
func callAgentAt(t *testing.T, hubURL, stateDir, first string) (*app.Services, *recorder, *customer) {
	t.Helper()
	rec := newRecorder()
	svc := app.New(app.Config{Emitter: rec, Devices: app.DevicesTestPattern, Logger: testLogger(t), StateDir: stateDir})
	t.Cleanup(func() { _ = svc.Close() })
	if _, err := svc.Session.SignIn(hubURL, "demo", "agent1", "demo"); err != nil {
		t.Fatalf("SignIn = %v", err)
	}
	cust := newCustomer(t, hubURL, "Carla")
	cust.send(t, first)
	offers := waitFor(t, rec, app.EventOffers, func(o []app.OfferView) bool { return len(o) == 1 })
	if _, err := svc.Offers.Accept(offers[0].ID); err != nil {
		t.Fatalf("Accept: %v", err)
	}
	return svc, rec, cust
}

// customerPeer is the customer's side of a call: a pion peer (the media engine with test
// sources) signalled through the hub the way the portal's browser is.
type customerPeer struct {
	t    *testing.T
	cust *customer
	mu   sync.Mutex
	mc   *media.Call
	call wire.CallID
	next int // index of the next customer event to read
	// record is the customer's answer to "may we record this call?".
	record bool
}

// trickle sends the customer's ICE candidates to the agent as its media finds them.
func (p *customerPeer) trickle() {
	p.mc.OnLocalCandidate(func(c media.Candidate) {
		ic := &wire.ICECandidate{Candidate: c.Candidate, SDPMid: c.SDPMid}
		if c.SDPMLineIndex != nil {
			i := int(*c.SDPMLineIndex)
			ic.SDPMLineIndex = &i
		}
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		defer cancel()
		_, _ = p.cust.conn.Request(ctx, wire.TypeCallSignal, wire.CallSignal{Call: p.call, Candidate: ic})
	})
}

// answer waits for the ringing call, accepts it (with or without video) and answers the
// agent's offer, then keeps applying the agent's signals until the test ends.
func (p *customerPeer) answer(video bool) {
	t := p.t
	st := waitCustomer(t, p.cust, wire.TypeCallState, func(c wire.Call) bool { return c.State == wire.CallRinging })
	p.call = st.ID
	mc, err := media.NewCall(media.Options{Audio: true, Video: video, Camera: media.TestPatternID,
		Microphone: media.TestPatternID, Speaker: "none"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = mc.Close() })
	p.mc = mc
	p.trickle()
	p.cust.request(t, wire.TypeCallAccept, wire.CallAccept{Call: p.call, Video: video, Record: p.record})
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go p.follow(ctx)
}

// follow applies the agent's SDP and candidates in order.
func (p *customerPeer) follow(ctx context.Context) {
	for {
		p.cust.mu.Lock()
		evs := p.cust.seen[p.next:]
		p.next = len(p.cust.seen)
		p.cust.mu.Unlock()
		for _, ev := range evs {
			if ev.Type != wire.TypeCallSignal {
				continue
			}
			var sig wire.CallSignal
			if ev.Unmarshal(&sig) != nil || sig.Call != p.call {
				continue
			}
			switch {
			case sig.SDP != nil && sig.SDP.Type == "offer":
				ans, err := p.mc.HandleOffer(sig.SDP.SDP)
				if err != nil && ctx.Err() != nil {
					return // the test is ending: the customer's peer closes under an offer in flight
				}
				if err != nil {
					p.t.Errorf("customer HandleOffer: %v", err)
					continue
				}
				rctx, cancel := context.WithTimeout(ctx, wait)
				_, _ = p.cust.conn.Request(rctx, wire.TypeCallSignal, wire.CallSignal{Call: p.call, SDP: &wire.SDP{Type: "answer", SDP: ans}})
				cancel()
			case sig.Candidate != nil && sig.Candidate.Candidate != "":
				c := media.Candidate{Candidate: sig.Candidate.Candidate, SDPMid: sig.Candidate.SDPMid}
				if sig.Candidate.SDPMLineIndex != nil {
					u := uint16(*sig.Candidate.SDPMLineIndex)
					c.SDPMLineIndex = &u
				}
				_ = p.mc.AddRemoteCandidate(c)
			}
		}
		// Polled: the customer's wake-up channel belongs to waitCustomer.
		select {
		case <-ctx.Done():
			return
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// eventually polls cond every 50 ms until it holds, for at most wait.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, wait)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func isCall(f func(*app.CallView) bool) func(*app.CallView) bool {
	return func(v *app.CallView) bool { return v != nil && f(v) }
}

func TestVideoCall(t *testing.T) {
	if testing.Short() {
		t.Skip("real media call")
	}
	hubURL := startHub(t, hub.Config{})
	svc, rec, cust := callAgent(t, hubURL)

	v, err := svc.Calls.Start(cust.conv, wire.CallVideo)
	if err != nil {
		t.Fatalf("Start(video) = %v", err)
	}
	if v.Conv != cust.conv || v.Kind != wire.CallVideo {
		t.Fatalf("Start() = %+v; want a video call in %s", v, cust.conv)
	}
	if _, err := svc.Calls.Start(cust.conv, wire.CallVoice); wire.ErrorCode(err) != wire.ECONFLICT {
		t.Errorf("second Start() = %v; want ECONFLICT", err)
	}
	// Ringing: the call takes the agent's remaining capacity.
	waitFor(t, rec, app.EventAgent, func(s wire.AgentState) bool { return s.OnCall && s.Load == s.Capacity })

	peer := &customerPeer{t: t, cust: cust}
	peer.answer(true)

	// Both sides decode the other's video, and the agent's UI has the MJPEG URLs.
	av := waitFor(t, rec, app.EventCall, isCall(func(v *app.CallView) bool {
		return v.State == "active" && v.RemoteFrames && v.Connection == "connected"
	}))
	if av.RemoteVideoURL == "" || av.SelfVideoURL == "" || !av.Video {
		t.Errorf("active call view = %+v; want remote and self video URLs, video on", av)
	}
	eventually(t, "customer receives the agent's video", func() bool { return peer.mc.State().RemoteVideo })
	eventually(t, "customer hears the agent's tone", func() bool { return peer.mc.Stats().AudioLevel > 0.01 })
	// The device menu's meter shows the microphone (the test tone reads near full).
	eventually(t, "the microphone meter moves", func() bool { l, err := svc.Calls.MicLevel(); return err == nil && l > 0.2 })
	// Its speaker test plays Test my setup's tone on the calls' speaker ("None" in test-pattern
	// mode: the system's output); no output device is a coded error.
	var played []string
	app.SetCallTone(svc.Calls, func(_ context.Context, id string, hz float64, d time.Duration) error {
		played = append(played, fmt.Sprintf("%q %v Hz %v", id, hz, d))
		return nil
	})
	if err := svc.Calls.TestSpeaker(); err != nil || len(played) != 1 || played[0] != `"" 440 Hz 1.5s` {
		t.Errorf("TestSpeaker() = %v, played %q; want nil, one 1.5 s tone of 440 Hz on the system's output", err, played)
	}
	app.SetCallTone(svc.Calls, func(context.Context, string, float64, time.Duration) error { return media.ErrNoSpeaker })
	if err := svc.Calls.TestSpeaker(); wire.ErrorCode(err) != app.CodeNoSpeaker {
		t.Errorf("TestSpeaker() without a speaker = %v; want %s", err, app.CodeNoSpeaker)
	}

	// The agent switches microphone mid-call: the customer hears the second test tone (880 Hz).
	var pitch atomic.Int64
	peer.mc.OnRemoteAudio(func(pcm []int16) { pitch.Store(int64(media.Pitch(pcm))) })
	if err := svc.Calls.SelectDevice("microphone", media.TestPattern2ID); err != nil {
		t.Fatalf("SelectDevice(microphone) mid-call: %v", err)
	}
	eventually(t, "customer hears the second microphone", func() bool { p := pitch.Load(); return p > 780 && p < 980 })
	// One that cannot open: a coded error, and the call and the choice keep the second.
	if err := svc.Calls.SelectDevice("microphone", "no-such-microphone"); wire.ErrorCode(err) != app.CodeNoMicrophone {
		t.Errorf("SelectDevice(missing microphone) = %v; want %s", err, app.CodeNoMicrophone)
	}
	if d, _ := svc.Calls.Devices(); d.Microphone != media.TestPattern2ID {
		t.Errorf("chosen microphone after a failed switch = %q; want %q", d.Microphone, media.TestPattern2ID)
	}
	time.Sleep(200 * time.Millisecond)
	if p := pitch.Load(); p < 780 || p > 980 {
		t.Errorf("pitch after a failed switch = %d Hz; want the second microphone's 880", p)
	}

	// The customer mutes and turns the camera off: the agent's control shows it.
	cust.request(t, wire.TypeCallMedia, wire.CallMedia{Call: peer.call, Muted: true, Video: false})
	waitFor(t, rec, app.EventCall, isCall(func(v *app.CallView) bool { return v.RemoteMuted && v.RemoteKnown && !v.RemoteVideo }))

	// The agent mutes and turns video off: the customer is told, and the tone stops.
	if err := svc.Calls.SetMuted(true); err != nil {
		t.Fatal(err)
	}
	if err := svc.Calls.SetVideo(false); err != nil {
		t.Fatal(err)
	}
	waitCustomer(t, cust, wire.TypeCallMedia, func(m wire.CallMedia) bool { return m.Muted && !m.Video })
	eventually(t, "the agent's mute silences the customer's side", func() bool { return peer.mc.Stats().AudioLevel == 0 })
	if err := svc.Calls.SetVideo(true); err != nil {
		t.Fatal(err)
	}
	waitCustomer(t, cust, wire.TypeCallMedia, func(m wire.CallMedia) bool { return m.Muted && m.Video })

	// A quality reading arrives.
	q := waitFor(t, rec, app.EventCallQuality, func(q app.QualityView) bool { return q.Level != "unknown" })
	if q.Call != av.ID || q.Route != "direct" {
		t.Errorf("quality = %+v; want call %s, direct", q, av.ID)
	}
	// The audio's own figures: the customer's arrives (the agent is muted now).
	waitFor(t, rec, app.EventCallQuality, func(q app.QualityView) bool { return q.AudioRecvKbps > 0 })

	// End: the customer sees it, the call is gone and the capacity is back.
	if err := svc.Calls.End(); err != nil {
		t.Fatal(err)
	}
	waitCustomer(t, cust, wire.TypeCallState, func(c wire.Call) bool { return c.State == wire.CallEnded })
	waitFor(t, rec, app.EventCall, func(v *app.CallView) bool { return v == nil })
	waitFor(t, rec, app.EventAgent, func(s wire.AgentState) bool { return !s.OnCall && s.Load == 1 })
	if cur, _ := svc.Calls.Current(); cur != nil {
		t.Errorf("Current() after End = %+v; want nil", cur)
	}
}

func TestCallDeclinedAndCancelled(t *testing.T) {
	hubURL := startHub(t, hub.Config{})
	svc, rec, cust := callAgent(t, hubURL)

	// Declined: the agent is told, and may call again.
	if _, err := svc.Calls.Start(cust.conv, wire.CallVoice); err != nil {
		t.Fatalf("Start(voice) = %v", err)
	}
	st := waitCustomer(t, cust, wire.TypeCallState, func(c wire.Call) bool { return c.State == wire.CallRinging })
	cust.request(t, wire.TypeCallDecline, wire.CallRef{Call: st.ID})
	ended := waitFor(t, rec, app.EventCall, isCall(func(v *app.CallView) bool { return v.State == "ended" }))
	if ended.Outcome != wire.OutcomeDeclined {
		t.Errorf("declined call = %+v; want outcome declined", ended)
	}
	waitFor(t, rec, app.EventCall, func(v *app.CallView) bool { return v == nil })

	// Cancelled while ringing.
	v, err := svc.Calls.Start(cust.conv, wire.CallVoice)
	if err != nil {
		t.Fatalf("second Start = %v", err)
	}
	waitCustomer(t, cust, wire.TypeCallState, func(c wire.Call) bool { return c.State == wire.CallRinging && c.ID != st.ID })
	if err := svc.Calls.End(); err != nil {
		t.Fatal(err)
	}
	got := waitCustomer(t, cust, wire.TypeCallState, func(c wire.Call) bool { return c.State == wire.CallEnded && c.ID != st.ID })
	if got.ID != v.ID && v.ID != "" {
		t.Errorf("ended call %s; want %s", got.ID, v.ID)
	}
	waitFor(t, rec, app.EventAgent, func(s wire.AgentState) bool { return !s.OnCall && s.Load == 1 })
	if err := svc.Calls.End(); wire.ErrorCode(err) != wire.ENOTFOUND {
		t.Errorf("End() with no call = %v; want ENOTFOUND", err)
	}
}

func TestCallRefusals(t *testing.T) {
	hubURL := startHub(t, hub.Config{})
	svc, _, cust := callAgent(t, hubURL)
	if _, err := svc.Calls.Start("nope", wire.CallVoice); wire.ErrorCode(err) != wire.ENOTFOUND {
		t.Errorf("Start(unknown conversation) = %v; want ENOTFOUND", err)
	}
	if _, err := svc.Calls.Start(cust.conv, "hologram"); wire.ErrorCode(err) != wire.EINVALID {
		t.Errorf("Start(kind hologram) = %v; want EINVALID", err)
	}
	if err := svc.Calls.SetMuted(true); wire.ErrorCode(err) != wire.ENOTFOUND {
		t.Errorf("SetMuted with no call = %v; want ENOTFOUND", err)
	}
	// A missing microphone stops the call before the customer's phone rings.
	if err := svc.Calls.SelectDevice("microphone", "no-such-microphone"); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Calls.Start(cust.conv, wire.CallVoice); wire.ErrorCode(err) != app.CodeNoMicrophone {
		t.Errorf("Start with a missing microphone = %v; want %s", err, app.CodeNoMicrophone)
	}
	if cur, _ := svc.Calls.Current(); cur != nil {
		t.Errorf("Current() after a refused start = %+v; want nil", cur)
	}
}

// testLogger logs to the test's output with -v (PARLEY_TEST_LOG=1), else nowhere.
func testLogger(t *testing.T) *slog.Logger {
	if os.Getenv("PARLEY_TEST_LOG") == "" {
		return slog.New(slog.DiscardHandler)
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

func TestCallMissed(t *testing.T) {
	hubURL := startHub(t, hub.Config{RingTimeout: 500 * time.Millisecond})
	svc, rec, cust := callAgent(t, hubURL)
	if _, err := svc.Calls.Start(cust.conv, wire.CallVideo); err != nil {
		t.Fatalf("Start(video) = %v", err)
	}
	ended := waitFor(t, rec, app.EventCall, isCall(func(v *app.CallView) bool { return v.State == "ended" }))
	if ended.Outcome != wire.OutcomeMissed || ended.Reason != "ring_timeout" {
		t.Errorf("unanswered call = %+v; want outcome missed, reason ring_timeout", ended)
	}
	waitFor(t, rec, app.EventCall, func(v *app.CallView) bool { return v == nil })
	waitFor(t, rec, app.EventAgent, func(s wire.AgentState) bool { return !s.OnCall && s.Load == 1 })
}

// TestNoGhostCall: an app that went away mid-call (here signed out; a crash looks the same to
// the hub) and signs in again before the hub's grace period ends is told of the call by the
// hub; it does not hold that call any more, so it hangs it up instead of showing a ghost.
func TestNoGhostCall(t *testing.T) {
	hubURL := startHub(t, hub.Config{CallGrace: time.Minute})
	svc, _, cust := callAgent(t, hubURL)
	if _, err := svc.Calls.Start(cust.conv, wire.CallVoice); err != nil {
		t.Fatalf("Start = %v", err)
	}
	st := waitCustomer(t, cust, wire.TypeCallState, func(c wire.Call) bool { return c.State == wire.CallRinging })
	if err := svc.Session.SignOut(); err != nil {
		t.Fatal(err)
	}
	rec := newRecorder()
	again := app.New(app.Config{Emitter: rec, Devices: app.DevicesTestPattern})
	t.Cleanup(func() { _ = again.Close() })
	if _, err := again.Session.SignIn(hubURL, "demo", "agent1", "demo"); err != nil {
		t.Fatal(err)
	}
	waitCustomer(t, cust, wire.TypeCallState, func(c wire.Call) bool { return c.ID == st.ID && c.State == wire.CallEnded })
	if cur, _ := again.Calls.Current(); cur != nil {
		t.Errorf("Current() after signing in again = %+v; want no call", cur)
	}
	waitFor(t, rec, app.EventAgent, func(s wire.AgentState) bool { return !s.OnCall })
}
