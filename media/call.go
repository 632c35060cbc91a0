package media

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"image"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/interceptor/pkg/cc"
	"github.com/pion/interceptor/pkg/gcc"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"github.com/parleyhq/parley/media/codec/opus"
)

// ICEServer is a STUN or TURN server handed to a call (the hub hands them out).
type ICEServer struct {
	URLs       []string `json:"urls"`
	Username   string   `json:"username,omitempty"`
	Credential string   `json:"credential,omitempty"`
}

// Candidate is one trickled ICE candidate, in the browser's RTCIceCandidateInit shape.
type Candidate struct {
	Candidate     string  `json:"candidate"`
	SDPMid        *string `json:"sdpMid,omitempty"`
	SDPMLineIndex *uint16 `json:"sdpMLineIndex,omitempty"`
}

// Options configures a call. Zero values give a 640x480@30 call on default devices.
type Options struct {
	Audio bool // send audio (receiving is always on)
	Video bool // send video from the start; AddVideo adds it later
	// Camera, Microphone and Speaker are device ids from ListDevices; "" picks the default
	// device, TestPatternID the test sources. Speaker "none" plays nothing.
	Camera, Microphone, Speaker string
	Width, Height, FPS          int // default 640x480@30; 1280x720 is the other supported size
	ICEServers                  []ICEServer
	RelayOnly                   bool // ICE transport policy "relay": only TURN candidates
	LoopbackOnly                bool // gather only loopback candidates (tests, benchmarks)
	// MaxBitrate caps the video target in bit/s (default 1.7 Mbit/s up to 640x480, 2.5 above);
	// congestion control
	// (transport-cc + GCC) moves the target below it.
	MaxBitrate int
	// VideoCodecs limits the video codecs offered and accepted (mime types from VideoCodecs());
	// empty means all this build has, VP8 first.
	VideoCodecs []string
	Bridge      *Bridge // where video frames go to the UI; nil makes one owned by the call
	Logger      *slog.Logger
	Now         func() time.Time
}

// State is what the signalling layer tells the other side and the UI shows. Chromium fires no
// `mute` event when a sender stops, so the app sends Muted/VideoEnabled in its own protocol.
type State struct {
	Connection   string `json:"connection"` // new, connecting, connected, disconnected, failed, closed
	Muted        bool   `json:"muted"`
	VideoEnabled bool   `json:"videoEnabled"` // sending video right now
	HasVideo     bool   `json:"hasVideo"`     // a video track is negotiated (maybe off)
	RemoteVideo  bool   `json:"remoteVideo"`  // frames from the remote side arrived
	SpeakerError string `json:"speakerError,omitempty"`
	// CameraError and MicrophoneError say why a device stopped mid-call (unplugged, taken by
	// another program); video is then off, or audio silent, until the app reacts.
	CameraError     string `json:"cameraError,omitempty"`
	MicrophoneError string `json:"microphoneError,omitempty"`
}

// Call is one peer connection carrying one audio and at most one video track each way.
// Its methods are safe for concurrent use.
type Call struct {
	opts   Options
	log    *slog.Logger
	pc     *webrtc.PeerConnection
	bridge *Bridge
	ownBr  bool
	remote *Feed // decoded remote video
	self   *Feed // local preview
	stream string

	mu          sync.Mutex
	closed      bool
	remoteSet   bool
	pendingCand []webrtc.ICECandidateInit
	// restarting is set from an ICE-restart offer until its answer: the new generation's
	// candidates must not cross the old one's. Our own are held in heldCand (sent once the
	// other side has the offer, i.e. when its answer arrives), and the other side's wait in
	// pendingCand until the answer gives their new credentials.
	restarting bool
	heldCand   []Candidate
	onCand     func(Candidate)
	onState    func(State)
	state      State
	audio      *audioSend
	video      *videoSend
	player     atomic.Pointer[player] // nil: no speaker
	camera     string                 // the camera for video added later (SetCamera)
	onAudio    atomic.Pointer[func(pcm []int16)]
	bwe        cc.BandwidthEstimator
	target     atomic.Int64 // congestion-controlled video target, bit/s
	wg         sync.WaitGroup
	done       chan struct{}

	st counters
}

type counters struct {
	framesSent, framesDecoded, bytesSentVideo, bytesRecvVideo atomic.Int64
	keyFramesSent                                             atomic.Int64
	audioLevel                                                atomic.Uint64 // float64 bits, decoded audio RMS (EWMA)
	firstFrame                                                atomic.Int64  // unix ns of first decoded remote frame
	lastAudio                                                 atomic.Int64  // unix ns of the last received audio packet
	lastStatsAt                                               time.Time
	lastSent, lastRecv, lastFramesSent, lastFramesDecoded     int64
}

// NewCall builds a call: the peer connection, the local sources that Options ask for and the
// render-bridge feeds. Nothing is sent until the offer/answer exchange completes.
func NewCall(opts Options) (*Call, error) {
	if opts.Width == 0 || opts.Height == 0 {
		opts.Width, opts.Height = 640, 480
	}
	if opts.FPS == 0 {
		opts.FPS = 30
	}
	if opts.MaxBitrate == 0 {
		// What Chromium allows by default: 1.7 Mbit/s up to VGA, 2.5 Mbit/s above.
		opts.MaxBitrate = 1_700_000
		if opts.Width*opts.Height > 640*480 {
			opts.MaxBitrate = 2_500_000
		}
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	c := &Call{opts: opts, log: opts.Logger, stream: "parley-" + randomHex(8), done: make(chan struct{}), camera: opts.Camera}
	c.state.Connection = "new"

	m := &webrtc.MediaEngine{}
	if err := registerCodecs(m, opts.VideoCodecs); err != nil {
		return nil, err
	}
	reg := &interceptor.Registry{}
	// Congestion control: transport-wide feedback from the receiver drives Google Congestion
	// Control, whose target bitrate goes to the video encoder.
	ccf, err := cc.NewInterceptor(func() (cc.BandwidthEstimator, error) {
		return gcc.NewSendSideBWE(gcc.SendSideBWEInitialBitrate(1_000_000), gcc.SendSideBWEMinBitrate(150_000),
			gcc.SendSideBWEMaxBitrate(opts.MaxBitrate), gcc.SendSideBWEPacer(gcc.NewNoOpPacer()))
	})
	if err != nil {
		return nil, err
	}
	ccf.OnNewPeerConnection(func(_ string, est cc.BandwidthEstimator) {
		c.mu.Lock()
		c.bwe = est
		c.mu.Unlock()
		c.target.Store(int64(est.GetTargetBitrate()))
		est.OnTargetBitrateChange(func(bps int) {
			c.target.Store(int64(bps))
			c.mu.Lock()
			v := c.video
			c.mu.Unlock()
			if v != nil {
				v.setBitRate(bps)
			}
		})
	})
	reg.Add(ccf)
	if err := webrtc.ConfigureTWCCHeaderExtensionSender(m, reg); err != nil {
		return nil, err
	}
	// NACK, RTCP sender/receiver reports, stats and transport-cc feedback for what we receive.
	if err := webrtc.RegisterDefaultInterceptors(m, reg); err != nil {
		return nil, err
	}
	se := webrtc.SettingEngine{LoggerFactory: slogFactory{opts.Logger}}
	// Interfaces are listed afresh at each gathering, so an ICE restart after a network change
	// gathers on the new address (see freshNet).
	if n, err := newFreshNet(); err == nil {
		se.SetNet(n)
	}
	if opts.LoopbackOnly {
		se.SetIncludeLoopbackCandidate(true)
		se.SetInterfaceFilter(func(name string) bool { return name == "lo" })
		se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	}
	se.SetICEMulticastDNSMode(0x01) // ice.MulticastDNSModeDisabled
	// Browsers often show up first as peer-reflexive (their host candidates trickle in later or
	// are mDNS names): pion would wait a second before using such a pair. A 1:1 call gains
	// nothing by waiting.
	se.SetPrflxAcceptanceMinWait(0)
	if opts.RelayOnly {
		// Relay-only calls have nothing better to wait for: pion's default 2 s wait before it
		// nominates a relayed pair is pure setup delay (measured: 2 s → 20 ms).
		se.SetRelayAcceptanceMinWait(0)
	}
	api := webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(reg), webrtc.WithSettingEngine(se))
	cfg := webrtc.Configuration{SDPSemantics: webrtc.SDPSemanticsUnifiedPlan, BundlePolicy: webrtc.BundlePolicyMaxBundle}
	for _, s := range opts.ICEServers {
		cfg.ICEServers = append(cfg.ICEServers, webrtc.ICEServer{URLs: s.URLs, Username: s.Username, Credential: s.Credential})
	}
	if opts.RelayOnly {
		cfg.ICETransportPolicy = webrtc.ICETransportPolicyRelay
	}
	pc, err := api.NewPeerConnection(cfg)
	if err != nil {
		return nil, err
	}
	c.pc = pc

	c.bridge = opts.Bridge
	if c.bridge == nil {
		if c.bridge, err = NewBridge(opts.Logger); err != nil {
			_ = pc.Close()
			return nil, err
		}
		c.ownBr = true
	}
	c.remote, c.self = c.bridge.NewFeed(), c.bridge.NewFeed()

	pc.OnICECandidate(func(cand *webrtc.ICECandidate) {
		if cand == nil {
			return // end of gathering: browsers need no marker for it
		}
		ci := cand.ToJSON()
		out := Candidate{Candidate: ci.Candidate, SDPMid: ci.SDPMid, SDPMLineIndex: ci.SDPMLineIndex}
		c.mu.Lock()
		f := c.onCand
		if c.restarting {
			c.heldCand = append(c.heldCand, out)
			f = nil
		}
		c.mu.Unlock()
		if f != nil {
			f(out)
		}
	})
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		c.log.Debug("connection state", "state", s.String())
		c.update(func(st *State) { st.Connection = s.String() })
	})
	pc.OnTrack(c.receive)

	// Audio always has a transceiver, so the customer's voice is received even when we send
	// nothing; sending starts when Options.Audio asks for it.
	if opts.Audio {
		if err := c.addAudio(); err != nil {
			_ = c.Close()
			return nil, err
		}
	} else if _, err := pc.AddTransceiverFromKind(webrtc.RTPCodecTypeAudio,
		webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly}); err != nil {
		_ = c.Close()
		return nil, err
	}
	if opts.Video {
		if err := c.addVideo(); err != nil {
			_ = c.Close()
			return nil, err
		}
	}
	if opts.Speaker != "none" {
		p, err := newPlayer(opts.Speaker)
		if err != nil {
			c.log.Warn("no audio output", "err", err)
			c.state.SpeakerError = err.Error()
		} else {
			c.player.Store(p)
		}
	}
	return c, nil
}

// OnLocalCandidate sets the function that carries each local ICE candidate to the other side
// (trickle ICE). Set it before CreateOffer or HandleOffer.
func (c *Call) OnLocalCandidate(f func(Candidate)) {
	c.mu.Lock()
	c.onCand = f
	c.mu.Unlock()
}

// OnStateChange sets the function told of every State change.
func (c *Call) OnStateChange(f func(State)) {
	c.mu.Lock()
	c.onState = f
	c.mu.Unlock()
}

// AddRemoteCandidate adds a candidate trickled by the other side. Candidates that arrive
// before the remote description are kept until it is set.
func (c *Call) AddRemoteCandidate(cand Candidate) error {
	ci := webrtc.ICECandidateInit{Candidate: cand.Candidate, SDPMid: cand.SDPMid, SDPMLineIndex: cand.SDPMLineIndex}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return ErrClosed
	}
	if !c.remoteSet {
		c.pendingCand = append(c.pendingCand, ci)
		c.mu.Unlock()
		return nil
	}
	c.mu.Unlock()
	return c.pc.AddICECandidate(ci)
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
		c.restarting, c.remoteSet = true, false
		c.heldCand = nil // an earlier restart's, never answered: stale
		c.mu.Unlock()
	}
	off, err := c.pc.CreateOffer(o)
	if err == nil {
		err = c.pc.SetLocalDescription(off)
	}
	if err != nil {
		if restart {
			c.mu.Lock()
			c.restarting, c.remoteSet = false, true
			held := c.heldCand
			c.heldCand = nil
			c.mu.Unlock()
			c.sendCandidates(held)
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
	if err := c.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: sdp}); err != nil {
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

func (c *Call) flushCandidates() error {
	c.mu.Lock()
	c.remoteSet = true
	pend := c.pendingCand
	c.pendingCand = nil
	c.mu.Unlock()
	for _, ci := range pend {
		if err := c.pc.AddICECandidate(ci); err != nil {
			return err
		}
	}
	return nil
}

// AddVideo adds our camera to a voice call and returns the offer that renegotiates it.
func (c *Call) AddVideo() (string, error) {
	c.mu.Lock()
	has := c.video != nil
	c.mu.Unlock()
	if !has {
		if err := c.addVideo(); err != nil {
			return "", err
		}
	}
	return c.CreateOffer()
}

// RestartICE returns an offer with new ICE credentials, for when the network changed or the
// connection failed.
func (c *Call) RestartICE() (string, error) { return c.offer(&webrtc.OfferOptions{ICERestart: true}) }

// SetMuted stops (or resumes) sending microphone audio; while muted no audio packets are sent.
func (c *Call) SetMuted(muted bool) {
	c.mu.Lock()
	a := c.audio
	c.mu.Unlock()
	if a != nil {
		a.muted.Store(muted)
	}
	c.update(func(s *State) { s.Muted = muted })
}

// SetVideoEnabled turns our video off (camera closed, nothing sent) or back on.
func (c *Call) SetVideoEnabled(on bool) error {
	c.mu.Lock()
	v := c.video
	c.mu.Unlock()
	if v == nil {
		return ErrNoVideo
	}
	if err := v.setEnabled(on); err != nil {
		return err
	}
	c.update(func(s *State) {
		s.VideoEnabled = on
		if on {
			s.CameraError = ""
		}
	})
	return nil
}

// SetCamera switches the camera mid-call (or chooses the one video will use when it goes
// on). When the new camera cannot open, the call keeps the old one and the error says why.
func (c *Call) SetCamera(id string) error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return ErrClosed
	}
	c.camera = id
	v := c.video
	c.mu.Unlock()
	if v == nil {
		return nil
	}
	if err := v.setCamera(id); err != nil {
		return err
	}
	c.update(func(s *State) { s.CameraError = "" })
	return nil
}

// SetMicrophone switches the microphone mid-call. When the new one cannot open, the call keeps
// the old one and the error says why. A call that sends no audio has nothing to switch.
func (c *Call) SetMicrophone(id string) error {
	c.mu.Lock()
	a, closed := c.audio, c.closed
	c.mu.Unlock()
	if closed {
		return ErrClosed
	}
	if a == nil {
		return nil
	}
	src, err := OpenAudio(id)
	if err != nil {
		return err
	}
	if err := a.swap(src); err != nil && errors.Is(err, ErrClosed) {
		return err
	}
	c.update(func(s *State) { s.MicrophoneError = "" })
	return nil
}

// SetSpeaker switches the audio output mid-call ("none" plays nothing). When the new output
// cannot open, the call keeps the old one and the error says why.
func (c *Call) SetSpeaker(id string) error {
	if c.isClosed() {
		return ErrClosed
	}
	var p *player
	if id != "none" {
		var err error
		if p, err = newPlayer(id); err != nil {
			return err
		}
	}
	if old := c.player.Swap(p); old != nil {
		old.close()
	}
	if c.isClosed() { // closed meanwhile: Close may have missed p
		if p := c.player.Swap(nil); p != nil {
			p.close()
		}
		return ErrClosed
	}
	c.update(func(s *State) { s.SpeakerError = "" })
	return nil
}

// State returns the call's current state.
func (c *Call) State() State {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.state
}

// RemoteVideoURL is the loopback URL of the remote video as MJPEG, for an <img src>.
func (c *Call) RemoteVideoURL() string { return c.remote.URL() }

// SelfVideoURL is the loopback URL of our own camera preview as MJPEG.
func (c *Call) SelfVideoURL() string { return c.self.URL() }

// OnRemoteAudio sets a function that sees every decoded 20 ms of remote audio (tests).
// It runs on the receive goroutine and must not keep pcm.
func (c *Call) OnRemoteAudio(f func(pcm []int16)) { c.onAudio.Store(&f) }

// OnRemoteFrame sets a function that sees every decoded remote frame (tests, recording).
// It runs on the receive goroutine and must not keep img.
func (c *Call) OnRemoteFrame(f func(img *image.YCbCr)) { c.remote.onFrame.Store(&f) }

// Close ends the call: stops sources, sending and receiving, and frees the codecs. It waits
// for every goroutine the call started.
func (c *Call) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	close(c.done)
	a, v := c.audio, c.video
	c.mu.Unlock()
	var errs []error
	if a != nil {
		errs = append(errs, a.close())
	}
	if v != nil {
		v.close()
	}
	errs = append(errs, c.pc.Close())
	c.wg.Wait()
	if a != nil {
		_ = a.enc.Close()
	}
	if v != nil {
		v.closeEncoder()
	}
	if p := c.player.Swap(nil); p != nil {
		p.close()
	}
	c.remote.Close()
	c.self.Close()
	if c.ownBr {
		errs = append(errs, c.bridge.Close())
	}
	c.update(func(s *State) { s.Connection = "closed" })
	return errors.Join(errs...)
}

func (c *Call) isClosed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed
}

func (c *Call) update(f func(*State)) {
	c.mu.Lock()
	f(&c.state)
	s, cb := c.state, c.onState
	c.mu.Unlock()
	if cb != nil {
		cb(s)
	}
}

func (c *Call) goSafe(f func()) {
	c.wg.Add(1)
	go func() { defer c.wg.Done(); f() }()
}

// readRTCP drains a sender's RTCP (interceptors need it read) and turns PLI/FIR into key frames.
func (c *Call) readRTCP(s *webrtc.RTPSender, onKey func()) {
	c.goSafe(func() {
		for {
			pkts, _, err := s.ReadRTCP()
			if err != nil {
				return
			}
			for _, p := range pkts {
				switch p.(type) {
				case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
					if onKey != nil {
						onKey()
					}
				}
			}
		}
	})
}

// ---- audio send ----

type audioSend struct {
	track *outTrack
	enc   *opus.Encoder
	muted atomic.Bool

	mu     sync.Mutex
	src    AudioSource // replaced by SetMicrophone
	closed bool
}

// source returns the microphone being read, nil once the call closed.
func (a *audioSend) source() AudioSource {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		return nil
	}
	return a.src
}

// swap makes src the microphone and closes the previous one.
func (a *audioSend) swap(src AudioSource) error {
	a.mu.Lock()
	if a.closed {
		a.mu.Unlock()
		_ = src.Close()
		return ErrClosed
	}
	old := a.src
	a.src = src
	a.mu.Unlock()
	return old.Close()
}

func (a *audioSend) close() error {
	a.mu.Lock()
	a.closed = true
	src := a.src
	a.mu.Unlock()
	return src.Close()
}

func (c *Call) addAudio() error {
	src, err := OpenAudio(c.opts.Microphone)
	if err != nil {
		return err
	}
	enc, err := opus.NewEncoder(32000)
	if err != nil {
		_ = src.Close()
		return err
	}
	a := &audioSend{track: newOutTrack("audio", c.stream, webrtc.RTPCodecTypeAudio, nil), src: src, enc: enc}
	s, err := c.pc.AddTrack(a.track)
	if err != nil {
		_ = src.Close()
		_ = enc.Close()
		return err
	}
	c.mu.Lock()
	c.audio = a
	c.mu.Unlock()
	c.readRTCP(s, nil)
	c.goSafe(func() {
		pcm := make([]int16, opus.FrameSamples)
		for {
			src := a.source()
			if src == nil {
				return
			}
			if err := src.Read(pcm); err != nil {
				if cur := a.source(); cur != nil && cur != src {
					continue // SetMicrophone replaced it
				}
				if !errors.Is(err, io.EOF) {
					c.log.Warn("microphone stopped", "err", err)
					c.update(func(s *State) { s.MicrophoneError = err.Error() })
				}
				return
			}
			if a.muted.Load() {
				continue // muted: nothing leaves this machine
			}
			pkt, err := a.enc.Encode(pcm)
			if err != nil {
				c.log.Warn("opus encode", "err", err)
				continue
			}
			if err := a.track.write(pkt, opus.FrameSamples); err != nil && !errors.Is(err, io.ErrClosedPipe) {
				c.log.Debug("audio write", "err", err)
			}
		}
	})
	return nil
}

// ---- video send ----

type videoSend struct {
	c       *Call
	track   *outTrack
	mu      sync.Mutex
	src     VideoSource // nil while video is off
	camera  string      // the device src comes from
	enc     videoEncoder
	codec   string      // mime type the encoder was built for
	size    image.Point // frame size the encoder was built for
	enabled bool
	wake    chan struct{}
	bitrate int
	closed  bool
}

func (c *Call) addVideo() error {
	c.mu.Lock()
	camera := c.camera
	c.mu.Unlock()
	src, err := OpenVideo(camera, c.opts.Width, c.opts.Height, c.opts.FPS)
	if err != nil {
		return err
	}
	v := &videoSend{c: c, src: src, camera: camera, enabled: true, wake: make(chan struct{}, 1), bitrate: 1_000_000}
	if t := c.target.Load(); t > 0 {
		v.bitrate = int(t)
	}
	v.track = newOutTrack("video", c.stream, webrtc.RTPCodecTypeVideo, nil)
	s, err := c.pc.AddTrack(v.track)
	if err != nil {
		_ = src.Close()
		return err
	}
	c.mu.Lock()
	c.video = v
	c.mu.Unlock()
	c.update(func(st *State) { st.HasVideo, st.VideoEnabled = true, true })
	c.readRTCP(s, func() {
		v.mu.Lock()
		if v.enc != nil {
			_ = v.enc.ForceKeyFrame()
		}
		v.mu.Unlock()
	})
	c.goSafe(v.run)
	return nil
}

func (v *videoSend) run() {
	last := time.Now()
	for {
		v.mu.Lock()
		src, closed := v.src, v.closed
		v.mu.Unlock()
		if closed {
			return
		}
		if src == nil { // video off: wait to be woken
			<-v.wake
			continue
		}
		img, err := src.Read()
		if err != nil {
			if !errors.Is(err, io.EOF) {
				// The camera went away (unplugged, or another program took it): video is off
				// until SetVideoEnabled(true) opens a camera again.
				v.mu.Lock()
				current := v.src == src
				if current {
					_ = src.Close()
					v.src, v.enabled = nil, false
				}
				v.mu.Unlock()
				if current { // not one SetCamera replaced
					v.c.log.Warn("camera stopped", "err", err)
					v.c.update(func(s *State) { s.VideoEnabled, s.CameraError = false, err.Error() })
				}
			}
			continue
		}
		v.c.self.Publish(img)
		p, ok := v.track.codec()
		if !ok {
			continue // not negotiated yet
		}
		enc, err := v.encoder(p, img)
		if err != nil {
			v.c.log.Warn("video encoder", "err", err)
			continue
		}
		frame, key, err := enc.Encode(img)
		if err != nil {
			v.c.log.Warn("video encode", "err", err)
			continue
		}
		now := time.Now()
		ticks := uint32(now.Sub(last) * 90000 / time.Second)
		last = now
		if err := v.track.write(frame, ticks); err != nil && !errors.Is(err, io.ErrClosedPipe) {
			v.c.log.Debug("video write", "err", err)
		}
		v.c.st.framesSent.Add(1)
		if key {
			v.c.st.keyFramesSent.Add(1)
		}
		v.c.st.bytesSentVideo.Add(int64(len(frame)))
	}
}

// encoder returns the encoder for the negotiated codec and frame size, building it when
// either changed.
func (v *videoSend) encoder(p webrtc.RTPCodecParameters, img *image.YCbCr) (videoEncoder, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	size := img.Bounds().Size()
	if v.enc != nil && v.codec == p.MimeType && v.size == size { // another camera may give another size
		return v.enc, nil
	}
	if v.enc != nil {
		_ = v.enc.Close()
		v.enc = nil
	}
	vc, ok := findVideoCodec(p)
	if !ok {
		return nil, ErrNoCodec
	}
	b := img.Bounds()
	enc, err := vc.newEncoder(b.Dx(), b.Dy(), v.bitrate)
	if err != nil {
		return nil, err
	}
	v.enc, v.codec, v.size = enc, p.MimeType, size
	return enc, nil
}

func (v *videoSend) setBitRate(bps int) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.bitrate = bps
	if v.enc != nil {
		_ = v.enc.SetBitRate(bps)
	}
}

func (v *videoSend) setEnabled(on bool) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.closed {
		return ErrClosed
	}
	if on == v.enabled {
		return nil
	}
	v.enabled = on
	if !on {
		// Closing the camera turns its light off; the send loop then waits.
		if v.src != nil {
			_ = v.src.Close()
			v.src = nil
		}
		return nil
	}
	src, err := OpenVideo(v.camera, v.c.opts.Width, v.c.opts.Height, v.c.opts.FPS)
	if err != nil {
		v.enabled = false
		return err
	}
	v.src = src
	if v.enc != nil {
		_ = v.enc.ForceKeyFrame() // the receiver's picture restarts cleanly
	}
	select {
	case v.wake <- struct{}{}:
	default:
	}
	return nil
}

// setCamera switches to another camera. With video on, the new camera opens before the old
// one closes, so a camera that fails to open leaves the picture as it was.
func (v *videoSend) setCamera(id string) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.closed {
		return ErrClosed
	}
	if v.src == nil { // video off: the camera opens when it goes on
		v.camera = id
		return nil
	}
	src, err := OpenVideo(id, v.c.opts.Width, v.c.opts.Height, v.c.opts.FPS)
	if err != nil {
		return err
	}
	old := v.src
	v.src, v.camera = src, id
	_ = old.Close() // the send loop's Read on it returns; the loop takes the new one
	if v.enc != nil {
		_ = v.enc.ForceKeyFrame()
	}
	return nil
}

func (v *videoSend) close() {
	v.mu.Lock()
	v.closed = true
	if v.src != nil {
		_ = v.src.Close()
	}
	v.mu.Unlock()
	select {
	case v.wake <- struct{}{}:
	default:
	}
}

func (v *videoSend) closeEncoder() {
	v.mu.Lock()
	if v.enc != nil {
		_ = v.enc.Close()
		v.enc = nil
	}
	v.mu.Unlock()
}

// ---- receive ----

func (c *Call) receive(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
	c.log.Debug("remote track", "kind", tr.Kind().String(), "codec", tr.Codec().MimeType)
	if tr.Kind() == webrtc.RTPCodecTypeAudio {
		c.goSafe(func() { c.receiveAudio(tr) })
		return
	}
	c.goSafe(func() { c.receiveVideo(tr) })
}

func (c *Call) receiveAudio(tr *webrtc.TrackRemote) {
	dec, err := opus.NewDecoder()
	if err != nil {
		c.log.Warn("opus decoder", "err", err)
		return
	}
	defer dec.Close()
	var level float64
	for {
		pkt, _, err := tr.ReadRTP()
		if err != nil {
			return
		}
		pcm, err := dec.Decode(pkt.Payload)
		if err != nil {
			continue
		}
		level = 0.8*level + 0.2*Energy(pcm)
		c.st.audioLevel.Store(mathFloat64bits(level))
		c.st.lastAudio.Store(time.Now().UnixNano())
		if f := c.onAudio.Load(); f != nil && *f != nil {
			(*f)(pcm)
		}
		if p := c.player.Load(); p != nil {
			p.push(pcm)
		}
	}
}

func (c *Call) receiveVideo(tr *webrtc.TrackRemote) {
	vc, ok := findVideoCodec(tr.Codec())
	if !ok {
		c.log.Warn("remote video codec not supported", "codec", tr.Codec().MimeType)
		return
	}
	dec, err := vc.newDecoder()
	if err != nil {
		c.log.Warn("video decoder", "err", err)
		return
	}
	defer dec.Close()
	asm := newAssembler(vc.depacketizer())
	ssrc := uint32(tr.SSRC())
	needKey := true
	var lastPLI time.Time
	askKey := func() {
		if time.Since(lastPLI) < 300*time.Millisecond {
			return
		}
		lastPLI = time.Now()
		_ = c.pc.WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: ssrc}})
	}
	for {
		pkt, _, err := tr.ReadRTP()
		if err != nil {
			return
		}
		c.st.bytesRecvVideo.Add(int64(len(pkt.Payload)))
		frames, lost := asm.push(clonePacket(pkt))
		if lost {
			needKey = true
		}
		for _, f := range frames {
			if needKey {
				if !vc.isKeyFrame(f) {
					askKey()
					continue
				}
				needKey = false
			}
			img, err := dec.Decode(f)
			if err != nil {
				needKey = true
				askKey()
				continue
			}
			if img == nil {
				continue
			}
			if c.st.framesDecoded.Add(1) == 1 {
				c.st.firstFrame.Store(time.Now().UnixNano())
				c.update(func(s *State) { s.RemoteVideo = true })
			}
			c.remote.Publish(img)
		}
	}
}

// clonePacket copies what the assembler keeps: ReadRTP's buffer is reused.
func clonePacket(p *rtp.Packet) *rtp.Packet {
	q := &rtp.Packet{Header: p.Header, Payload: append([]byte(nil), p.Payload...)}
	return q
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// String helps logs.
func (s State) String() string {
	return fmt.Sprintf("%s muted=%v video=%v/%v remoteVideo=%v", s.Connection, s.Muted, s.HasVideo, s.VideoEnabled, s.RemoteVideo)
}
