package media

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/interceptor/pkg/cc"
	"github.com/pion/interceptor/pkg/gcc"
	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v4"
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

// ConnectionState is the peer connection's state, as pion names it.
type ConnectionState string

// Connection states.
const (
	ConnectionNew          ConnectionState = "new"
	ConnectionConnecting   ConnectionState = "connecting"
	ConnectionConnected    ConnectionState = "connected"
	ConnectionDisconnected ConnectionState = "disconnected"
	ConnectionFailed       ConnectionState = "failed"
	ConnectionClosed       ConnectionState = "closed"
)

// State is what the signalling layer tells the other side and the UI shows. Chromium fires no
// `mute` event when a sender stops, so the app sends Muted/VideoEnabled in its own protocol.
type State struct {
	Connection   ConnectionState `json:"connection"`
	Muted        bool            `json:"muted"`
	VideoEnabled bool            `json:"videoEnabled"` // sending video right now
	HasVideo     bool            `json:"hasVideo"`     // a video track is negotiated (maybe off)
	RemoteVideo  bool            `json:"remoteVideo"`  // frames from the remote side arrived
	SpeakerError string          `json:"speakerError,omitempty"`
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

	// sig serialises the peer connection's descriptions and configuration: pion's
	// SetConfiguration and SetRemoteDescription are not safe against each other.
	sig sync.Mutex

	mu     sync.Mutex
	closed bool
	cands  remoteCandidates // the other side's, until its description is set
	// restarting is set from an ICE-restart offer until its answer: the new generation's
	// candidates must not cross the old one's. Our own are held in heldCand (sent once the
	// other side has the offer, i.e. when its answer arrives), and the other side's wait in
	// cands until the answer gives their new credentials.
	restarting   bool
	heldCand     []Candidate
	onCand       func(Candidate)
	onState      func(State)
	state        State
	audio        *audioSend
	video        *videoSend
	player       atomic.Pointer[player] // nil: no speaker
	camera       string                 // the camera for video added later (SetCamera)
	onAudio      atomic.Pointer[func(pcm []int16)]
	onTrackAudio atomic.Pointer[func(track string, pcm []int16)]
	rec          atomic.Pointer[recorder] // nil until Record (record.go)
	mon          atomic.Pointer[Monitor]  // a supervisor's leg (monitor.go); nil when none
	bwe          cc.BandwidthEstimator
	target       atomic.Int64 // congestion-controlled video target, bit/s
	wg           sync.WaitGroup
	done         chan struct{}

	st counters
}

type counters struct {
	framesSent, framesDecoded, bytesSentVideo, bytesRecvVideo atomic.Int64
	bytesSentAudio, bytesRecvAudio                            atomic.Int64
	micLevel                                                  atomic.Uint64 // float64 bits, the microphone's meter level (LevelMeter)
	keyFramesSent                                             atomic.Int64
	audioLevel                                                atomic.Uint64 // float64 bits, decoded audio RMS (EWMA)
	firstFrame                                                atomic.Int64  // unix ns of first decoded remote frame
	lastAudio                                                 atomic.Int64  // unix ns of the last received audio packet
	lastStatsAt                                               time.Time
	lastSent, lastRecv, lastFramesSent, lastFramesDecoded     int64
	lastUp                                                    int64 // bytes the call (and a supervisor's leg) had sent
	lastSentAudio, lastRecvAudio                              int64
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
	c.state.Connection = ConnectionNew

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
	pc, err := newPeerConnection(m, reg, opts.Logger, peerOptions{ICEServers: opts.ICEServers, RelayOnly: opts.RelayOnly, LoopbackOnly: opts.LoopbackOnly})
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
		c.update(func(st *State) { st.Connection = ConnectionState(s.String()) })
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

// OnStateChange sets the function told of every State change.
func (c *Call) OnStateChange(f func(State)) {
	c.mu.Lock()
	c.onState = f
	c.mu.Unlock()
}

// State returns the call's current state.
func (c *Call) State() State {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.state
}

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
	if m := c.mon.Load(); m != nil {
		errs = append(errs, m.Close())
	}
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
		if a.monEnc != nil {
			_ = a.monEnc.Close()
		}
	}
	if v != nil {
		v.closeEncoder()
	}
	if p := c.player.Swap(nil); p != nil {
		p.close()
	}
	if r := c.rec.Load(); r != nil {
		if _, err := r.finish(); err != nil {
			c.log.Warn("finishing the recording", "err", err)
		}
	}
	c.remote.Close()
	c.self.Close()
	if c.ownBr {
		errs = append(errs, c.bridge.Close())
	}
	c.update(func(s *State) { s.Connection = ConnectionClosed })
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

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// String helps logs.
func (s State) String() string {
	return fmt.Sprintf("%s muted=%v video=%v/%v remoteVideo=%v", s.Connection, s.Muted, s.HasVideo, s.VideoEnabled, s.RemoteVideo)
}
