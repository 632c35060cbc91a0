package app_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/app"
	"github.com/parleyhq/parley/app/keychain"
	"github.com/parleyhq/parley/hub"
	"github.com/parleyhq/parley/media"
	"github.com/parleyhq/parley/wire"
)

// TestScreenShareGovernmentThroughRelay is a government (gcc) organisation's built-in screen
// share: the hub hands both parties relay-only ICE through its North-American relay once the
// customer accepts, exactly as for a call; the customer's screen (a real peer sending the moving
// test pattern, as the browser's getDisplayMedia track would be) reaches the agent's app through
// the relay only; and when the share stops the relay closes its allocations.
func TestScreenShareGovernmentThroughRelay(t *testing.T) {
	if testing.Short() {
		t.Skip("real peer connections")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	s := openHub(t, hub.Config{Demo: true, TURNUDP: "127.0.0.1:0", TURNRegion: "na"})
	if err := s.SetOrgCalls(ctx, hub.DemoOrg, wire.CallsVoiceVideo, "gcc"); err != nil {
		t.Fatal(err)
	}
	svc, rec := signInWith(t, s.URL(), keychain.NewSession())
	waitFor(t, rec, app.EventVisual, func(v app.VisualView) bool { return v.Known })
	cust := takeChat(t, s.URL(), svc, rec)

	v, err := svc.Visual.Start(cust.conv, wire.VisualScreenShare)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	if v.ICE != nil {
		t.Errorf("invited screen share carries ICE %+v; want none before the customer accepts", v.ICE)
	}
	cust.request(t, wire.TypeVisualAccept, wire.VisualAccept{Visual: v.ID, PIN: v.PIN})
	active := waitCustomer(t, cust, wire.TypeVisualState, func(x wire.Visual) bool { return x.ID == v.ID && x.State == wire.VisualActive })
	if active.ICE == nil || active.ICE.Policy != "relay" || len(active.ICE.Servers) != 1 || active.ICE.Servers[0].Username == "" {
		t.Fatalf("customer's ICE = %+v; want relay-only through the hub's North-American relay", active.ICE)
	}

	// The customer's browser: relay only, as the plan says; it offers its screen.
	opts := media.Options{Video: true, Camera: media.TestPatternID, Speaker: "none", LoopbackOnly: true, RelayOnly: true}
	for _, sv := range active.ICE.Servers {
		opts.ICEServers = append(opts.ICEServers, media.ICEServer{URLs: sv.URLs, Username: sv.Username, Credential: sv.Credential})
	}
	screen, err := media.NewCall(opts)
	if err != nil {
		t.Fatal(err)
	}
	defer screen.Close()
	screen.OnLocalCandidate(func(c media.Candidate) {
		var idx *int
		if c.SDPMLineIndex != nil {
			i := int(*c.SDPMLineIndex)
			idx = &i
		}
		if !strings.Contains(c.Candidate, "typ relay") && c.Candidate != "" {
			t.Errorf("a relay-only customer gathered %q", c.Candidate)
		}
		cust.request(t, wire.TypeVisualSignal, wire.VisualSignal{Visual: v.ID, Candidate: &wire.ICECandidate{Candidate: c.Candidate, SDPMid: c.SDPMid, SDPMLineIndex: idx}})
	})
	offer, err := screen.CreateOffer()
	if err != nil {
		t.Fatal(err)
	}
	cust.request(t, wire.TypeVisualSignal, wire.VisualSignal{Visual: v.ID, SDP: &wire.SDP{Type: "offer", SDP: offer}})

	// The agent's answer and candidates come back through the hub.
	go func() {
		seen := 0
		for ctx.Err() == nil {
			cust.mu.Lock()
			evs := append([]wire.Envelope(nil), cust.seen[seen:]...)
			seen = len(cust.seen)
			cust.mu.Unlock()
			for _, ev := range evs {
				var sig wire.VisualSignal
				if ev.Type != wire.TypeVisualSignal || ev.Unmarshal(&sig) != nil || sig.Visual != v.ID {
					continue
				}
				switch {
				case sig.SDP != nil && sig.SDP.Type == "answer":
					_ = screen.HandleAnswer(sig.SDP.SDP)
				case sig.Candidate != nil:
					var idx *uint16
					if sig.Candidate.SDPMLineIndex != nil {
						i := uint16(*sig.Candidate.SDPMLineIndex)
						idx = &i
					}
					_ = screen.AddRemoteCandidate(media.Candidate{Candidate: sig.Candidate.Candidate, SDPMid: sig.Candidate.SDPMid, SDPMLineIndex: idx})
				}
			}
			select {
			case <-cust.more:
			case <-ctx.Done():
			case <-time.After(100 * time.Millisecond):
			}
		}
	}()

	view := waitFor(t, rec, app.EventScreenShare, func(x app.ScreenShareView) bool { return x.Visual == v.ID && x.Frames })
	if view.Width == 0 || view.URL == "" {
		t.Errorf("agent's view = %+v; want frames and a URL", view)
	}
	ids := map[string]bool{}
	for _, a := range s.TURN().Allocations() {
		ids[a.ID] = true
	}
	for _, want := range []string{string(v.ID) + "/agent", string(v.ID) + "/customer"} {
		if !ids[want] {
			t.Errorf("TURN allocations %v; want one for %s (the screen went through the relay)", ids, want)
		}
	}

	// Stopping ends the relay's allocations for it.
	if err := svc.Visual.Stop(cust.conv); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		left := 0
		for _, a := range s.TURN().Allocations() {
			if strings.HasPrefix(a.ID, string(v.ID)+"/") {
				left++
			}
		}
		if left == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d allocations of the stopped share still open", left)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
