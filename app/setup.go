package app

import (
	"context"
	"errors"
	"io"
	"net/url"
	"sync"
	"time"

	"github.com/parleyhq/parley/app/nettest"
	"github.com/parleyhq/parley/media"
	"github.com/parleyhq/parley/media/codec/opus"
	"github.com/parleyhq/parley/wire"
)

// "Test my setup": before the first call the agent sees the camera through the same capture and
// render bridge as a call's self view, a microphone level meter, plays a tone on the speaker and
// says whether they heard it, and reads the network test's lines (app/nettest). Every problem is
// a line with a code the UI translates, never an error string; stopping (or signing out) closes
// every device and the test's relay allocations.

// EventSetup carries the SetupView whenever a line or the microphone level changes.
const EventSetup = "setup"

// Setup line statuses besides nettest's pass, warn and fail.
const (
	// SetupRunning: the check has not finished.
	SetupRunning = "running"
	// SetupWaiting: the check waits for the agent (play the tone, say whether they heard it).
	SetupWaiting = "waiting"
)

// Setup checks of the devices; the network's are nettest's (hub, relay_udp, relay_tcp, media,
// region).
const (
	CheckCamera     = "camera"
	CheckMicrophone = "microphone"
	CheckSpeaker    = "speaker"
)

// Codes of the device lines (the UI's "setup.lines.<code>").
const (
	codeChecking        = "checking"          // running: not known yet
	codeCameraOK        = "camera_ok"         // frames arrive
	codeCameraMissing   = "camera_missing"    // no camera: calls will be voice only
	codeCameraDenied    = "camera_denied"     // the OS refuses it
	codeCameraBusy      = "camera_busy"       // another program holds it
	codeCameraLost      = "camera_lost"       // it stopped during the test
	codeMicOK           = "mic_ok"            // audio arrives
	codeMicSilent       = "mic_silent"        // audio arrives but is silent
	codeMicMissing      = "mic_missing"       // no microphone: no calls
	codeMicDenied       = "mic_denied"        // the OS refuses it
	codeMicBusy         = "mic_busy"          // another program holds it
	codeMicLost         = "mic_lost"          // it stopped during the test
	codeSpeakerPlay     = "speaker_play"      // waiting: press Play
	codeSpeakerPlaying  = "speaker_playing"   // running: the tone plays
	codeSpeakerConfirm  = "speaker_confirm"   // waiting: did you hear it?
	codeSpeakerOK       = "speaker_ok"        // heard
	codeSpeakerNotHeard = "speaker_not_heard" // not heard
	codeSpeakerMissing  = "speaker_missing"   // no output device opens
)

// ErrSetupNotRunning indicates a speaker step while no check runs.
var ErrSetupNotRunning = &wire.Error{Code: wire.ECONFLICT, Message: "no setup check is running"}

// ErrSetupInCall indicates a check started during a call: the call holds the devices.
var ErrSetupInCall = &wire.Error{Code: wire.ECONFLICT, Message: "a call is in progress"}

// SetupLine is one line of the check.
type SetupLine struct {
	// Check is camera, microphone, speaker, hub, relay_udp, relay_tcp, media or region.
	Check string `json:"check"`
	// Status is pass, warn, fail, running or waiting.
	Status string `json:"status"`
	// Code is what the UI says (its "setup.lines.<code>" sentence).
	Code string `json:"code"`
	// RTTMS, LossPct, Kbps, Transport, Relay and Region fill the network lines' sentences.
	RTTMS     int     `json:"rtt_ms,omitempty"`
	LossPct   float64 `json:"loss_pct,omitempty"`
	Kbps      int     `json:"kbps,omitempty"`
	Transport string  `json:"transport,omitempty"`
	Relay     string  `json:"relay,omitempty"`
	Region    string  `json:"region,omitempty"`
}

// SetupView is the check as the UI shows it.
type SetupView struct {
	// Running is true from Start to Stop: the devices are open.
	Running bool `json:"running"`
	// PreviewURL is the camera's picture on the render bridge ("" without one).
	PreviewURL string `json:"preview_url"`
	// Level is the microphone's loudness in the last tenth of a second, 0..1.
	Level float64 `json:"level"`
	// NetworkDone is true once the network test has finished.
	NetworkDone bool `json:"network_done"`
	// Lines are the checks: camera, microphone, speaker, then the network's.
	Lines []SetupLine `json:"lines"`
	// EndedAt is when the network test finished, Unix milliseconds (0 before).
	EndedAt int64 `json:"ended_at"`
}

// Setup is the "Test my setup" service.
type Setup struct {
	c *core
	// openVideo and openAudio open devices (media's; tests swap them).
	openVideo func(id string, w, h, fps int) (media.VideoSource, error)
	openAudio func(id string) (media.AudioSource, error)
	playTone  func(ctx context.Context, id string, hz float64, d time.Duration) error

	mu     sync.Mutex
	view   SetupView
	run    *setupRun       // the running check; nil when none
	tester *nettest.Tester // made on first use; runs one network test at a time
}

// setupRun is one check from Start to Stop.
type setupRun struct {
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	feed   *media.Feed
}

func newSetup(c *core) *Setup {
	return &Setup{c: c, openVideo: media.OpenVideo, openAudio: media.OpenAudio, playTone: media.PlayTone}
}

// Current returns the check's view.
func (s *Setup) Current() (SetupView, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.run != nil && s.view.PreviewURL != "" {
		s.view.PreviewURL = s.run.feed.URL() // new after the bridge moved port (Bridge.EndStreams)
	}
	return cloneSetup(s.view), nil
}

// Start begins a check, ending one already running: the camera preview, the microphone meter
// and the network test start at once; the speaker waits for PlayTone.
func (s *Setup) Start() (SetupView, error) {
	c := s.c
	c.mu.Lock()
	signedIn := c.link != nil
	c.mu.Unlock()
	if !signedIn {
		return SetupView{}, ErrNotSignedIn
	}
	if c.calls.current() != nil {
		return SetupView{}, ErrSetupInCall
	}
	m := c.calls
	m.mu.Lock()
	cam, mic := m.camera, m.mic
	m.mu.Unlock()
	br, err := m.getBridge()
	if err != nil {
		return SetupView{}, asWireError(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &setupRun{ctx: ctx, cancel: cancel, feed: br.NewFeed()}

	s.mu.Lock()
	if s.tester == nil {
		s.tester = nettest.NewTester(setupHub{c}, nettest.Options{Log: c.log.With("component", "nettest")})
	}
	tester := s.tester
	prev := s.run
	s.run = r
	s.view = SetupView{Running: true, PreviewURL: r.feed.URL(), Lines: []SetupLine{
		{Check: CheckCamera, Status: SetupRunning, Code: codeChecking},
		{Check: CheckMicrophone, Status: SetupRunning, Code: codeChecking},
		{Check: CheckSpeaker, Status: SetupWaiting, Code: codeSpeakerPlay},
		// The network test's usual lines wait in place, so the list does not jump as they come.
		{Check: string(nettest.CheckHub), Status: SetupRunning, Code: codeChecking},
		{Check: string(nettest.CheckRelayUDP), Status: SetupRunning, Code: codeChecking},
		{Check: string(nettest.CheckRelayTCP), Status: SetupRunning, Code: codeChecking},
		{Check: string(nettest.CheckMedia), Status: SetupRunning, Code: codeChecking},
	}}
	v := s.emitLocked()
	r.wg.Add(3)
	s.mu.Unlock()
	if prev != nil {
		// The previous check lets go of the devices (a real camera opens once) and its relay
		// allocations before this one starts.
		prev.end()
	}
	c.log.Info("setup check started")

	go func() { defer r.wg.Done(); s.camera(r, cam) }()
	go func() { defer r.wg.Done(); s.microphone(r, mic) }()
	go func() { defer r.wg.Done(); s.network(r, tester) }()
	return v, nil
}

// Stop ends the check: the devices close and the network test ends (its allocations closed).
func (s *Setup) Stop() {
	if r := s.detach(); r != nil {
		r.end()
		s.c.log.Info("setup check stopped")
	}
}

// detach forgets the running check and returns it (nil when none).
func (s *Setup) detach() *setupRun {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.run
	s.run = nil
	if r != nil {
		s.view.Running, s.view.PreviewURL, s.view.Level = false, "", 0
		s.emitLocked()
	}
	return r
}

// end stops the run's devices and network test and waits until they have let go.
func (r *setupRun) end() {
	r.cancel()
	r.wg.Wait()
	r.feed.Close()
}

// drop ends the check without waiting for its devices (signed out; it runs under core.mu).
func (s *Setup) drop() {
	if r := s.detach(); r != nil {
		go r.end()
	}
}

// PlayTone plays a tone on the speaker calls use; the speaker line then asks whether the agent
// heard it (ConfirmSpeaker).
func (s *Setup) PlayTone() error {
	s.mu.Lock()
	r := s.run
	if r == nil {
		s.mu.Unlock()
		return ErrSetupNotRunning
	}
	s.setLine(SetupLine{Check: CheckSpeaker, Status: SetupRunning, Code: codeSpeakerPlaying})
	s.mu.Unlock()

	// The speaker chosen now (the dialog's menu picks it as a call's device menu does).
	err := s.c.calls.testTone(r.ctx, s.playTone)
	line := SetupLine{Check: CheckSpeaker, Status: SetupWaiting, Code: codeSpeakerConfirm}
	switch {
	case r.ctx.Err() != nil:
		return nil // stopped meanwhile
	case errors.Is(err, media.ErrNoSpeaker):
		s.c.log.Info("setup check: speaker", "err", err)
		line = SetupLine{Check: CheckSpeaker, Status: string(nettest.Fail), Code: codeSpeakerMissing}
	case err != nil:
		s.c.log.Warn("setup check: speaker", "err", err)
		line = SetupLine{Check: CheckSpeaker, Status: string(nettest.Fail), Code: codeSpeakerMissing}
	}
	s.mu.Lock()
	if s.run == r {
		s.setLine(line)
	}
	s.mu.Unlock()
	return nil
}

// ConfirmSpeaker records whether the agent heard the tone.
func (s *Setup) ConfirmSpeaker(heard bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.run == nil {
		return ErrSetupNotRunning
	}
	line := SetupLine{Check: CheckSpeaker, Status: string(nettest.Pass), Code: codeSpeakerOK}
	if !heard {
		line.Status, line.Code = string(nettest.Fail), codeSpeakerNotHeard
	}
	s.setLine(line)
	if s.view.NetworkDone {
		go s.report(cloneSetup(s.view))
	}
	return nil
}

// Offer reports whether to offer the check now: once per machine, after the first sign-in.
func (s *Setup) Offer() (bool, error) {
	offered := false
	err := s.c.updatePrefs(func(p *prefs) {
		offered = p.SetupOffered
		p.SetupOffered = true
	})
	if err != nil {
		return false, nil // offering it again next time is harmless
	}
	return !offered, nil
}

// camera shows the camera on the render bridge as a call's self view does, until the check ends
// or the camera stops.
func (s *Setup) camera(r *setupRun, id string) {
	src, err := s.openVideo(id, 640, 480, 30)
	if err != nil {
		code := codeCameraMissing
		switch cameraCode(err) {
		case CodeCameraDenied:
			code = codeCameraDenied
		case CodeCameraBusy:
			code = codeCameraBusy
		}
		s.c.log.Info("setup check: camera", "err", err)
		s.update(r, SetupLine{Check: CheckCamera, Status: string(nettest.Warn), Code: code})
		return
	}
	defer closeWhenDone(r.ctx, src)() // a blocked Read returns once the camera closes
	for frames := 0; ; frames++ {
		img, err := src.Read()
		if r.ctx.Err() != nil {
			return
		}
		if err != nil {
			s.c.log.Info("setup check: camera stopped", "err", err)
			s.update(r, SetupLine{Check: CheckCamera, Status: string(nettest.Fail), Code: codeCameraLost})
			return
		}
		r.feed.Publish(img)
		if frames == 0 {
			s.update(r, SetupLine{Check: CheckCamera, Status: string(nettest.Pass), Code: codeCameraOK})
		}
	}
}

// closeWhenDone closes c, once, when ctx ends or when the returned func is called, whichever
// comes first: a check's device read that blocks returns as soon as the check is cancelled.
func closeWhenDone(ctx context.Context, c io.Closer) (closeNow func()) {
	var once sync.Once
	closeC := func() { once.Do(func() { _ = c.Close() }) }
	stop := context.AfterFunc(ctx, closeC)
	return func() {
		stop()
		closeC()
	}
}

// Microphone meter: the level goes to the UI ten times a second (media.LevelMeter); a
// microphone that gives only silence for a few seconds warns (muted by a switch, or the wrong
// input).
const (
	silentLevel  = 0.001
	silentBefore = 3 * time.Second
)

// microphone reads the microphone and reports its level until the check ends or it stops.
func (s *Setup) microphone(r *setupRun, id string) {
	src, err := s.openAudio(id)
	if err != nil {
		code := codeMicMissing
		var werr *wire.Error
		if errors.As(micWireError(err), &werr) {
			switch werr.Code {
			case CodeMicrophoneDenied:
				code = codeMicDenied
			case CodeMicrophoneBusy:
				code = codeMicBusy
			}
		}
		s.c.log.Info("setup check: microphone", "err", err)
		s.update(r, SetupLine{Check: CheckMicrophone, Status: string(nettest.Fail), Code: code})
		return
	}
	defer closeWhenDone(r.ctx, src)()
	pcm := make([]int16, opus.FrameSamples)
	start := time.Now()
	heard, state := false, ""
	var meter media.LevelMeter // the call's device menu shows the same meter
	for {
		err := src.Read(pcm)
		if r.ctx.Err() != nil {
			return
		}
		if err != nil {
			s.c.log.Info("setup check: microphone stopped", "err", err)
			s.update(r, SetupLine{Check: CheckMicrophone, Status: string(nettest.Fail), Code: codeMicLost})
			return
		}
		peak, ok := meter.Add(pcm)
		if !ok {
			continue
		}
		heard = heard || peak > silentLevel
		next := codeMicOK
		if !heard && time.Since(start) > silentBefore {
			next = codeMicSilent
		}
		s.mu.Lock()
		if s.run == r {
			s.view.Level = media.MeterLevel(peak)
			if next != state {
				status := string(nettest.Pass)
				if next == codeMicSilent {
					status = string(nettest.Warn)
				}
				s.setLine(SetupLine{Check: CheckMicrophone, Status: status, Code: next})
				state = next
			} else {
				s.emitLocked()
			}
		}
		s.mu.Unlock()
	}
}

// network runs the network test and puts its lines after the devices'.
func (s *Setup) network(r *setupRun, tester *nettest.Tester) {
	rep := tester.Run(r.ctx)
	if r.ctx.Err() != nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.run != r {
		return
	}
	lines := s.view.Lines[:0:0]
	for _, l := range s.view.Lines {
		if l.Check == CheckCamera || l.Check == CheckMicrophone || l.Check == CheckSpeaker {
			lines = append(lines, l)
		}
	}
	for _, l := range rep.Lines {
		lines = append(lines, SetupLine{Check: string(l.Check), Status: string(l.Status), Code: l.Code, RTTMS: l.RTTMS,
			LossPct: l.LossPct, Kbps: l.Kbps, Transport: l.Transport, Relay: l.Relay, Region: l.Region})
	}
	s.view.Lines, s.view.NetworkDone, s.view.EndedAt = lines, true, s.c.nowMs()
	go s.report(s.emitLocked())
	s.c.log.Info("setup check: network", "worst", rep.Worst())
}

// report tells the hub the check's result, for the supervisors' team view: the worst of the
// lines that have finished, and the codes of those that warned or failed.
func (s *Setup) report(v SetupView) {
	c := s.c
	c.mu.Lock()
	agent := c.session.User != nil && c.session.User.Role == wire.RoleAgent
	c.mu.Unlock()
	if !agent {
		return
	}
	res := wire.SetupResult{Status: string(nettest.Pass)}
	for _, l := range v.Lines {
		switch l.Status {
		case string(nettest.Fail):
			res.Status = string(nettest.Fail)
		case string(nettest.Warn):
			if res.Status == string(nettest.Pass) {
				res.Status = string(nettest.Warn)
			}
		default:
			continue
		}
		if len(res.Problems) < 16 {
			res.Problems = append(res.Problems, l.Code)
		}
	}
	if err := c.hubAPI("PUT", "/setup-result", res, nil); err != nil {
		c.log.Info("setup check: reporting the result", "code", wire.ErrorCode(err))
	}
}

// update sets a line of run r's check, if it still runs.
func (s *Setup) update(r *setupRun, l SetupLine) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.run == r {
		s.setLine(l)
	}
}

// setLine replaces the line of l's check and emits. Callers hold mu.
func (s *Setup) setLine(l SetupLine) {
	for i := range s.view.Lines {
		if s.view.Lines[i].Check == l.Check {
			s.view.Lines[i] = l
		}
	}
	s.emitLocked()
}

// emitLocked emits the view and returns it. Callers hold mu (Setup.mu → events.mu).
func (s *Setup) emitLocked() SetupView {
	v := cloneSetup(s.view)
	s.c.events.emit(EventSetup, v)
	return v
}

func cloneSetup(v SetupView) SetupView {
	v.Lines = append([]SetupLine{}, v.Lines...)
	return v
}

// setupHub is the network test's way to the hub: the session's WebSocket and HTTP API.
type setupHub struct{ c *core }

func (h setupHub) Ping(ctx context.Context) error {
	l, err := h.c.currentLink()
	if err != nil {
		return err
	}
	_, err = l.Request(ctx, wire.TypePing, nil)
	return err
}

func (h setupHub) Plan(context.Context) (wire.NetworkTest, error) {
	var nt wire.NetworkTest
	err := h.c.hubAPI("POST", "/network-test", nil, &nt)
	return nt, err
}

func (h setupHub) End(_ context.Context, id string) error {
	return h.c.hubAPI("DELETE", "/network-test/"+url.PathEscape(id), nil, nil)
}
