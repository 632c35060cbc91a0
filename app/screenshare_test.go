package app

import (
	"crypto/sha256"
	"errors"
	"image"
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
