package media

import (
	"image"
	"os"
	"sync"
	"testing"
	"time"

	browser "github.com/parleyhq/parley/media/browsertest"
)

const chromiumPath = "/usr/bin/chromium"

// browserCall is a Go call signalled with a Chromium page, the way the hub will carry it.
type browserCall struct {
	call   *Call
	peer   *browser.Peer
	frames *hashLog
	stop   chan struct{}
	wg     sync.WaitGroup
}

// hashLog counts decoded frames and remembers a hash of the last two, to see motion in any
// picture (Chromium's fake camera carries no stamp).
type hashLog struct {
	mu     sync.Mutex
	n      int
	hashes [2]uint32
}

func (l *hashLog) add(img *image.YCbCr) {
	var h uint32
	for i := 0; i < len(img.Y); i += 997 {
		h = h*31 + uint32(img.Y[i])
	}
	l.mu.Lock()
	l.n++
	l.hashes[0], l.hashes[1] = l.hashes[1], h
	l.mu.Unlock()
}

func (l *hashLog) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.n
}

func (l *hashLog) moving() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.n >= 2 && l.hashes[0] != l.hashes[1]
}

func startBrowserCall(t *testing.T, video bool, codecs ...string) *browserCall {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Fatalf("Chromium missing (make deps installs it): %v", err)
	}
	srv, err := browser.NewServer()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	peer, err := browser.Launch(chromiumPath, srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(peer.Close)
	if err := peer.Call(nil, "setup", map[string]bool{"video": video}); err != nil {
		t.Fatal(err)
	}
	opts := testOptions(video)
	opts.VideoCodecs = codecs
	call, err := NewCall(opts)
	if err != nil {
		t.Fatal(err)
	}
	bc := &browserCall{call: call, peer: peer, frames: &hashLog{}, stop: make(chan struct{})}
	call.OnRemoteFrame(bc.frames.add)
	local := make(chan Candidate, 64)
	call.OnLocalCandidate(func(c Candidate) {
		select {
		case local <- c:
		case <-bc.stop:
		}
	})
	// One goroutine carries candidates both ways, polling the page for its own.
	bc.wg.Add(1)
	go func() {
		defer bc.wg.Done()
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-bc.stop:
				return
			case c := <-local:
				_ = peer.Call(nil, "addCandidate", c)
			case <-tick.C:
				var cs []Candidate
				if err := peer.Call(&cs, "takeCandidates"); err == nil {
					for _, c := range cs {
						_ = call.AddRemoteCandidate(c)
					}
				}
			}
		}
	}()
	t.Cleanup(func() { close(bc.stop); bc.wg.Wait(); _ = call.Close() })
	bc.offerFromGo(t)
	return bc
}

func (bc *browserCall) offerFromGo(t *testing.T) {
	t.Helper()
	offer, err := bc.call.CreateOffer()
	if err != nil {
		t.Fatal(err)
	}
	var answer string
	if err := bc.peer.Call(&answer, "handleOffer", offer); err != nil {
		t.Fatal(err)
	}
	if err := bc.call.HandleAnswer(answer); err != nil {
		t.Fatalf("HandleAnswer: %v", err)
	}
}

func (bc *browserCall) status(t *testing.T) browser.Status {
	t.Helper()
	s, err := bc.peer.Status()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// browserFramesMove waits until Chromium shows new, changing frames.
func (bc *browserCall) browserFramesMove(t *testing.T, what string) {
	t.Helper()
	start := bc.status(t)
	eventually(t, 10*time.Second, what, func() bool {
		s := bc.status(t)
		return s.Frames >= start.Frames+10 && s.Hash != start.Hash && s.Width > 0
	})
}

// browserFramesStill checks Chromium gets no new frames for a while.
func (bc *browserCall) browserFramesStill(t *testing.T, what string) {
	t.Helper()
	time.Sleep(500 * time.Millisecond) // frames in flight
	before := bc.status(t).Frames
	time.Sleep(700 * time.Millisecond)
	if after := bc.status(t).Frames; after > before+1 {
		t.Errorf("%s: Chromium showed %d new frames", what, after-before)
	}
}

func TestChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Chromium")
	}
	checkLeaks(t)
	bc := startBrowserCall(t, true)

	// Both ways: decoded frames arrive and move, audio energy arrives.
	eventually(t, 15*time.Second, "Go decodes Chromium's moving video", func() bool { return bc.frames.count() >= 15 && bc.frames.moving() })
	bc.browserFramesMove(t, "Chromium shows Go's moving video")
	if s := bc.status(t); s.Width != 640 || s.Height != 480 {
		t.Errorf("Chromium sees %dx%d; want 640x480", s.Width, s.Height)
	}
	eventually(t, 10*time.Second, "Chromium hears the tone", func() bool { return bc.status(t).AudioLevel > 0.05 })
	eventually(t, 10*time.Second, "Go hears Chromium", func() bool { return bc.call.Stats().AudioLevel > 0.001 })

	t.Run("Go mutes and turns video off", func(t *testing.T) {
		bc.call.SetMuted(true)
		eventually(t, 5*time.Second, "Chromium hears silence", func() bool { return bc.status(t).AudioLevel < 0.01 })
		if err := bc.call.SetVideoEnabled(false); err != nil {
			t.Fatal(err)
		}
		bc.browserFramesStill(t, "Go video off")
		bc.call.SetMuted(false)
		if err := bc.call.SetVideoEnabled(true); err != nil {
			t.Fatal(err)
		}
		eventually(t, 5*time.Second, "Chromium hears the tone again", func() bool { return bc.status(t).AudioLevel > 0.05 })
		bc.browserFramesMove(t, "Chromium shows Go's video again")
	})

	t.Run("Chromium mutes and turns video off", func(t *testing.T) {
		if err := bc.peer.Call(nil, "setSending", "audio", false); err != nil {
			t.Fatal(err)
		}
		if err := bc.peer.Call(nil, "setSending", "video", false); err != nil {
			t.Fatal(err)
		}
		eventually(t, 5*time.Second, "Go hears silence", func() bool { return bc.call.Stats().AudioLevel == 0 })
		time.Sleep(300 * time.Millisecond)
		before := bc.frames.count()
		time.Sleep(700 * time.Millisecond)
		if got := bc.frames.count(); got > before+1 {
			t.Errorf("Go decoded %d frames while Chromium's video was off", got-before)
		}
		if err := bc.peer.Call(nil, "setSending", "audio", true); err != nil {
			t.Fatal(err)
		}
		if err := bc.peer.Call(nil, "setSending", "video", true); err != nil {
			t.Fatal(err)
		}
		eventually(t, 10*time.Second, "Go decodes Chromium again", func() bool { return bc.frames.count() >= before+10 })
		eventually(t, 10*time.Second, "Go hears Chromium again", func() bool { return bc.call.Stats().AudioLevel > 0.001 })
	})
}

func TestChromiumAddVideo(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Chromium")
	}
	checkLeaks(t)
	bc := startBrowserCall(t, false)
	eventually(t, 10*time.Second, "Chromium hears the tone", func() bool { return bc.status(t).AudioLevel > 0.05 })

	// The agent adds video to the voice call.
	offer, err := bc.call.AddVideo()
	if err != nil {
		t.Fatal(err)
	}
	var answer string
	if err := bc.peer.Call(&answer, "handleOffer", offer); err != nil {
		t.Fatal(err)
	}
	if err := bc.call.HandleAnswer(answer); err != nil {
		t.Fatal(err)
	}
	bc.browserFramesMove(t, "Chromium shows the added video")

	// The customer adds theirs: Chromium offers, Go answers.
	if err := bc.peer.Call(&offer, "addVideo"); err != nil {
		t.Fatal(err)
	}
	if answer, err = bc.call.HandleOffer(offer); err != nil {
		t.Fatal(err)
	}
	if err := bc.peer.Call(nil, "handleAnswer", answer); err != nil {
		t.Fatal(err)
	}
	eventually(t, 15*time.Second, "Go decodes the customer's added video", func() bool { return bc.frames.count() >= 10 && bc.frames.moving() })
}

func TestChromiumH264(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Chromium")
	}
	checkLeaks(t)
	// What a Windows build without libvpx negotiates with a browser.
	bc := startBrowserCall(t, true, "video/H264")
	eventually(t, 15*time.Second, "Go decodes Chromium's H.264", func() bool { return bc.frames.count() >= 15 && bc.frames.moving() })
	bc.browserFramesMove(t, "Chromium shows Go's H.264")
}
