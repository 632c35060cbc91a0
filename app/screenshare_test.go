package app

import (
	"crypto/sha256"
	"encoding/json"
	"errors"
	"image"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley/media"
	"github.com/parleyhq/parley/wire"
)

// TestScreenShare plays the customer's browser with a real pion peer that sends the moving test
// pattern (as getDisplayMedia's track would be sent) and offers, and checks the agent's
// receive-only side answers and gets moving frames, then refuses bad and late signals.
func TestScreenShare(t *testing.T) {
	if testing.Short() {
		t.Skip("real peer connections")
	}
	cust, err := media.NewCall(media.Options{Video: true, Camera: media.TestPatternID, Speaker: "none", LoopbackOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer cust.Close()

	var (
		mu     sync.Mutex
		hashes = map[[32]byte]bool{}
		frames int
		got    = make(chan struct{})
		once   sync.Once
	)
	share, err := NewScreenShare("v1", func(m wire.VisualSignal) error {
		if m.Visual != "v1" {
			t.Errorf("signal for %q; want v1", m.Visual)
		}
		switch {
		case m.SDP != nil:
			if m.SDP.Type != "answer" {
				t.Errorf("agent sent a %q; want an answer", m.SDP.Type)
			}
			return cust.HandleAnswer(m.SDP.SDP)
		case m.Candidate != nil:
			var idx *uint16
			if m.Candidate.SDPMLineIndex != nil {
				v := uint16(*m.Candidate.SDPMLineIndex)
				idx = &v
			}
			return cust.AddRemoteCandidate(media.Candidate{Candidate: m.Candidate.Candidate, SDPMid: m.Candidate.SDPMid, SDPMLineIndex: idx})
		}
		return nil
	}, ScreenShareOptions{LoopbackOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer share.Close()
	share.OnFrame(func(img *image.YCbCr) {
		h := sha256.Sum256(img.Y)
		mu.Lock()
		defer mu.Unlock()
		frames++
		hashes[h] = true
		if frames >= 15 && len(hashes) >= 5 {
			once.Do(func() { close(got) })
		}
	})
	cust.OnLocalCandidate(func(c media.Candidate) {
		var idx *int
		if c.SDPMLineIndex != nil {
			v := int(*c.SDPMLineIndex)
			idx = &v
		}
		if err := share.HandleSignal(wire.VisualSignal{Visual: "v1", Candidate: &wire.ICECandidate{Candidate: c.Candidate, SDPMid: c.SDPMid, SDPMLineIndex: idx}}); err != nil {
			t.Errorf("candidate: %v", err)
		}
	})
	offer, err := cust.CreateOffer()
	if err != nil {
		t.Fatal(err)
	}
	if err := share.HandleSignal(wire.VisualSignal{Visual: "v1", SDP: &wire.SDP{Type: "offer", SDP: offer}}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-got:
	case <-time.After(20 * time.Second):
		mu.Lock()
		defer mu.Unlock()
		t.Fatalf("got %d frames, %d different, in 20 s; want moving frames", frames, len(hashes))
	}
	v := share.View()
	if !v.Frames || v.Width != 640 || v.Height != 480 || v.URL == "" {
		t.Errorf("View() = %+v; want frames of 640x480 and a URL", v)
	}

	bad := []struct {
		name string
		sig  wire.VisualSignal
	}{
		{"another engagement", wire.VisualSignal{Visual: "v2", SDP: &wire.SDP{Type: "offer", SDP: offer}}},
		{"an answer", wire.VisualSignal{Visual: "v1", SDP: &wire.SDP{Type: "answer", SDP: offer}}},
		{"empty", wire.VisualSignal{Visual: "v1"}},
		{"garbage offer", wire.VisualSignal{Visual: "v1", SDP: &wire.SDP{Type: "offer", SDP: "v=0 <script>"}}},
		{"line index out of range", wire.VisualSignal{Visual: "v1", Candidate: &wire.ICECandidate{Candidate: "candidate:1 1 udp 1 127.0.0.1 9 typ host", SDPMLineIndex: screenShareIntPtr(-1)}}},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			err := share.HandleSignal(tc.sig)
			if c := wire.ErrorCode(err); c != wire.EINVALID {
				t.Errorf("HandleSignal(%s) = %v; want EINVALID", tc.name, err)
			}
		})
	}

	if err := share.Close(); err != nil {
		t.Fatal(err)
	}
	if err := share.HandleSignal(wire.VisualSignal{Visual: "v1", SDP: &wire.SDP{Type: "offer", SDP: offer}}); !errors.Is(err, ErrScreenShareClosed) {
		t.Errorf("HandleSignal after Close = %v; want ErrScreenShareClosed", err)
	}
	if got := share.View().Connection; got != "closed" {
		t.Errorf("Connection after Close = %q; want closed", got)
	}
}

func screenShareIntPtr(v int) *int { return &v }

// TestScreenShares drives the manager with the hub's frames as the visual service hands them
// over: an active built-in screen share gets a call that answers the customer's offer and
// shows frames; the end closes it; other kinds and unknown engagements are left alone.
func TestScreenShares(t *testing.T) {
	if testing.Short() {
		t.Skip("real peer connections")
	}
	env := func(typ wire.Type, v any) wire.Envelope {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return wire.Envelope{Type: typ, Data: b}
	}
	cust, err := media.NewCall(media.Options{Video: true, Camera: media.TestPatternID, Speaker: "none", LoopbackOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer cust.Close()
	views := make(chan ScreenShareView, 100)
	s := newScreenShares(func(typ wire.Type, p any) error {
		m, ok := p.(wire.VisualSignal)
		if typ != wire.TypeVisualSignal || !ok {
			t.Errorf("request(%s, %T); want visual.signal", typ, p)
			return nil
		}
		if m.SDP != nil {
			return cust.HandleAnswer(m.SDP.SDP)
		}
		var idx *uint16
		if m.Candidate.SDPMLineIndex != nil {
			v := uint16(*m.Candidate.SDPMLineIndex)
			idx = &v
		}
		return cust.AddRemoteCandidate(media.Candidate{Candidate: m.Candidate.Candidate, SDPMid: m.Candidate.SDPMid, SDPMLineIndex: idx})
	}, func(v ScreenShareView) {
		select {
		case views <- v:
		default:
		}
	}, ScreenShareOptions{LoopbackOnly: true})
	defer s.closeAll()

	// A co-browse is none of its business.
	s.onHub(env(wire.TypeVisualState, wire.Visual{ID: "c1", Kind: wire.VisualCobrowse, Provider: wire.ProviderBuiltinCobrowse, State: wire.VisualActive}))
	s.onHub(env(wire.TypeVisualState, wire.Visual{ID: "v1", Kind: wire.VisualScreenShare, Provider: wire.ProviderBuiltinScreenShare, State: wire.VisualActive}))
	cust.OnLocalCandidate(func(c media.Candidate) {
		var idx *int
		if c.SDPMLineIndex != nil {
			v := int(*c.SDPMLineIndex)
			idx = &v
		}
		s.onHub(env(wire.TypeVisualSignal, wire.VisualSignal{Visual: "v1", Candidate: &wire.ICECandidate{Candidate: c.Candidate, SDPMid: c.SDPMid, SDPMLineIndex: idx}, From: wire.AuthorCustomer}))
	})
	offer, err := cust.CreateOffer()
	if err != nil {
		t.Fatal(err)
	}
	s.onHub(env(wire.TypeVisualSignal, wire.VisualSignal{Visual: "v1", SDP: &wire.SDP{Type: "offer", SDP: offer}, From: wire.AuthorCustomer}))
	s.onHub(env(wire.TypeVisualSignal, wire.VisualSignal{Visual: "nope", SDP: &wire.SDP{Type: "offer", SDP: offer}}))

	deadline := time.After(20 * time.Second)
	for got := false; !got; {
		select {
		case v := <-views:
			got = v.Visual == "v1" && v.Frames && v.URL != ""
		case <-deadline:
			t.Fatal("no frames from the screen share in 20 s")
		}
	}
	if _, ok := s.view("c1"); ok {
		t.Error("a co-browse got a screen-share call")
	}

	// The UI watches the picture (its <img>'s MJPEG stream). When the share ends, the stream ends
	// at once, before the visual service tells the UI and the UI removes the <img>: even while
	// the share's own work (closing the call) waits in its queue.
	view, _ := s.view("v1")
	resp, err := http.Get(view.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if _, err := io.ReadFull(resp.Body, make([]byte, 1024)); err != nil {
		t.Fatalf("reading the picture's stream: %v", err)
	}
	streamEnded := make(chan error, 1)
	go func() {
		_, err := io.Copy(io.Discard, resp.Body)
		streamEnded <- err
	}()
	hold := make(chan struct{})
	s.do(func() { <-hold })
	s.onHub(env(wire.TypeVisualState, wire.Visual{ID: "v1", Kind: wire.VisualScreenShare, Provider: wire.ProviderBuiltinScreenShare, State: wire.VisualEnded}))
	select {
	case err := <-streamEnded:
		if err != nil {
			t.Errorf("the picture's stream broke (%v); want it finished", err)
		}
	case <-time.After(5 * time.Second):
		t.Error("the picture's stream still runs after the share ended")
	}
	close(hold)
	for end := time.Now().Add(5 * time.Second); ; {
		if _, ok := s.view("v1"); !ok {
			break
		}
		if time.Now().After(end) {
			t.Fatal("the ended screen share is still running")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
