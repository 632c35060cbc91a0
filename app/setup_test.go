package app_test

import (
	"context"
	"errors"
	"image"
	"image/jpeg"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley/app"
	"github.com/parleyhq/parley/hub"
	"github.com/parleyhq/parley/media"
)

// setupHub runs a hub whose embedded relay listens over UDP and TCP, and returns it.
func setupHub(t *testing.T) *hub.Server {
	t.Helper()
	return openHub(t, hub.Config{Demo: true, TURNUDP: "127.0.0.1:0", TURNTCP: "127.0.0.1:0"})
}

// setupSignedIn runs a hub as setupHub does and signs agent1 in to an app with the
// test-pattern devices, whose setup events the test log shows.
func setupSignedIn(t *testing.T) (*hub.Server, *app.Services, *recorder) {
	t.Helper()
	s := setupHub(t)
	rec := newRecorder()
	svc := app.New(app.Config{Emitter: rec, Devices: app.DevicesTestPattern})
	t.Cleanup(func() { _ = svc.Close() })
	logSetup(t, rec)
	if _, err := svc.Session.SignIn(s.URL(), "demo", "agent1", "demo"); err != nil {
		t.Fatal(err)
	}
	return s, svc, rec
}

func setupLine(v app.SetupView, check string) app.SetupLine {
	for _, l := range v.Lines {
		if l.Check == check {
			return l
		}
	}
	return app.SetupLine{}
}

// TestSetupAllPass: with the test-pattern devices every line of "Test my setup" passes: the
// camera's picture is on the render bridge, the microphone meter moves, the tone plays and the
// agent confirms it, and the network lines come from the real hub and relay. Stopping closes
// the devices and leaves no allocation on the relay.
func TestSetupAllPass(t *testing.T) {
	s, svc, rec := setupSignedIn(t)
	t.Cleanup(func() { rec.checkOrder(t) })
	played := make(chan string, 1)
	app.SetSetupDevices(svc.Setup, nil, nil, func(_ context.Context, id string, _ float64, _ time.Duration) error {
		played <- id
		return nil
	})

	v, err := svc.Setup.Start()
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	if v.PreviewURL == "" || !v.Running {
		t.Fatalf("Start = %+v; want a running check with a preview", v)
	}
	v = waitFor(t, rec, app.EventSetup, func(v app.SetupView) bool {
		return v.NetworkDone && setupLine(v, app.CheckCamera).Status == "pass" && setupLine(v, app.CheckMicrophone).Status == "pass" && v.Level > 0.3
	})
	for _, l := range v.Lines {
		if l.Check != app.CheckSpeaker && l.Status != "pass" {
			t.Errorf("line %+v; want pass", l)
		}
	}
	if n := len(v.Lines); n != 7 {
		t.Errorf("%d lines %+v; want camera, microphone, speaker, hub, relay over UDP and TCP, media", n, v.Lines)
	}
	// The preview is served as a call's self view is: a JPEG frame from the bridge.
	if img := bridgeFrame(t, v.PreviewURL); img.Bounds().Dx() < 100 {
		t.Errorf("preview frame %v; want the camera's picture", img.Bounds())
	}

	if err := svc.Setup.PlayTone(); err != nil {
		t.Fatal(err)
	}
	if id := <-played; id != "" {
		t.Errorf("tone played on %q; want the system's output (the test mode's speaker is None)", id)
	}
	waitFor(t, rec, app.EventSetup, func(v app.SetupView) bool { return setupLine(v, app.CheckSpeaker).Code == "speaker_confirm" })
	if err := svc.Setup.ConfirmSpeaker(true); err != nil {
		t.Fatal(err)
	}
	waitFor(t, rec, app.EventSetup, func(v app.SetupView) bool { return setupLine(v, app.CheckSpeaker).Status == "pass" })

	// The supervisor sees the result beside the agent.
	_, srec := signIn(t, s.URL(), "super1")
	waitFor(t, srec, app.EventSupervisor, func(v app.SupervisorView) bool {
		for _, a := range v.Agents {
			if a.ID != "" && a.DisplayName == "Agent One" && a.Setup != nil && a.Setup.Status == "pass" && a.Setup.At > 0 && len(a.Setup.Problems) == 0 {
				return true
			}
		}
		return false
	})

	svc.Setup.Stop()
	waitFor(t, rec, app.EventSetup, func(v app.SetupView) bool { return !v.Running && v.PreviewURL == "" })
	if n := len(s.TURN().Allocations()); n != 0 {
		t.Errorf("%d allocations left on the relay after Stop", n)
	}
	if err := svc.Setup.PlayTone(); err == nil {
		t.Error("PlayTone after Stop succeeded; want ECONFLICT")
	}
}

// lostCamera gives a few frames, then fails as an unplugged camera does.
type lostCamera struct {
	frames int
	closed chan struct{}
	once   sync.Once
}

func (c *lostCamera) Read() (*image.YCbCr, error) {
	if c.frames == 0 {
		return nil, errors.New("v4l2: device gone")
	}
	c.frames--
	time.Sleep(30 * time.Millisecond)
	return image.NewYCbCr(image.Rect(0, 0, 64, 48), image.YCbCrSubsampleRatio420), nil
}

func (c *lostCamera) Close() error { c.once.Do(func() { close(c.closed) }); return nil }

// lostMic gives the test tone a few times, then fails as an unplugged headset does.
type lostMic struct {
	reads int
	tone  media.Tone
}

func (m *lostMic) Read(pcm []int16) error {
	if m.reads == 0 {
		return errors.New("alsa: device disconnected")
	}
	m.reads--
	time.Sleep(20 * time.Millisecond)
	m.tone.Next(pcm)
	return nil
}

func (m *lostMic) Close() error { return nil }

// TestSetupMicrophoneLost: a microphone that works, then goes away during the check, first
// passes and moves the meter, then says it stopped.
func TestSetupMicrophoneLost(t *testing.T) {
	_, svc, rec := setupSignedIn(t)
	app.SetSetupDevices(svc.Setup, nil, func(string) (media.AudioSource, error) { return &lostMic{reads: 25}, nil }, nil)
	if _, err := svc.Setup.Start(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, rec, app.EventSetup, func(v app.SetupView) bool { return setupLine(v, app.CheckMicrophone).Code == "mic_ok" && v.Level > 0.3 })
	waitFor(t, rec, app.EventSetup, func(v app.SetupView) bool {
		l := setupLine(v, app.CheckMicrophone)
		return l.Code == "mic_lost" && l.Status == "fail"
	})
	svc.Setup.Stop()
}

// TestSetupDeviceProblems: a camera that disappears during the check and a microphone the
// system refuses each give their line, not an error, and a failed speaker says so; the camera is
// closed.
func TestSetupDeviceProblems(t *testing.T) {
	s, svc, rec := setupSignedIn(t)
	cam := &lostCamera{frames: 3, closed: make(chan struct{})}
	app.SetSetupDevices(svc.Setup,
		func(string, int, int, int) (media.VideoSource, error) { return cam, nil },
		func(string) (media.AudioSource, error) {
			return nil, errors.Join(media.ErrPermissionDenied, errors.New("EACCES"))
		},
		func(context.Context, string, float64, time.Duration) error { return media.ErrNoSpeaker })
	if _, err := svc.Setup.Start(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, rec, app.EventSetup, func(v app.SetupView) bool {
		return setupLine(v, app.CheckCamera).Code == "camera_lost" && setupLine(v, app.CheckCamera).Status == "fail" &&
			setupLine(v, app.CheckMicrophone).Code == "mic_denied" && setupLine(v, app.CheckMicrophone).Status == "fail"
	})
	select {
	case <-cam.closed:
	case <-time.After(wait):
		t.Error("the lost camera was never closed")
	}
	if err := svc.Setup.PlayTone(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, rec, app.EventSetup, func(v app.SetupView) bool { return setupLine(v, app.CheckSpeaker).Code == "speaker_missing" })
	// The supervisor sees a failed check, with what failed.
	_, srec := signIn(t, s.URL(), "super1")
	waitFor(t, srec, app.EventSupervisor, func(v app.SupervisorView) bool {
		for _, a := range v.Agents {
			if a.DisplayName == "Agent One" && a.Setup != nil && a.Setup.Status == "fail" &&
				slices.Contains(a.Setup.Problems, "camera_lost") && slices.Contains(a.Setup.Problems, "mic_denied") {
				return true
			}
		}
		return false
	})
	// Started again while it runs: one check, the first one's devices and allocations gone.
	if _, err := svc.Setup.Start(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, rec, app.EventSetup, func(v app.SetupView) bool { return v.NetworkDone && v.Running })
	svc.Setup.Stop()
	if n := len(s.TURN().Allocations()); n != 0 {
		t.Errorf("%d allocations left on the relay after two checks", n)
	}
}

// bridgeFrame fetches the newest picture of a render-bridge feed (its .jpg twin of the .mjpeg URL).
func bridgeFrame(t *testing.T, feedURL string) image.Image {
	t.Helper()
	u := strings.TrimSuffix(feedURL, ".mjpeg") + ".jpg"
	if i := strings.Index(feedURL, ".mjpeg?"); i >= 0 {
		u = feedURL[:i] + ".jpg" + feedURL[i+len(".mjpeg"):]
	}
	res, err := http.Get(u) //nolint:noctx // test
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	img, err := jpeg.Decode(res.Body)
	if err != nil {
		t.Fatalf("preview %s: %v", u, err)
	}
	return img
}

// logSetup logs the last setup view when the test fails.
func logSetup(t *testing.T, rec *recorder) {
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		rec.mu.Lock()
		defer rec.mu.Unlock()
		for i := len(rec.events) - 1; i >= 0; i-- {
			if rec.events[i].name == app.EventSetup {
				t.Logf("last setup view: %+v", rec.events[i].data)
				return
			}
		}
	})
}
