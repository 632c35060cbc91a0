package app

import (
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/parleyhq/parley/media"
	"github.com/parleyhq/parley/wire"
)

// Calls are the agent's voice and video calls: it invites the customer of a conversation
// through the hub, runs the media engine (package media) for the call, and carries its
// signalling (SDP, trickle ICE, mute and video state) both ways. One call at a time.
//
// The agent is the impolite peer of perfect negotiation: it offers first (right after the
// invite; the portal holds the offer until the customer accepts), and while its own offer is
// outstanding it ignores a colliding offer from the customer, who rolls back and answers.
type Calls struct {
	m *callManager
}

// DeviceMode says where the calls' camera and microphone come from.
type DeviceMode string

// Device modes.
const (
	// DevicesSystem uses the machine's cameras, microphones and speakers (the default).
	DevicesSystem DeviceMode = "system"
	// DevicesTestPattern uses the media engine's moving test pattern and 440 Hz tone, and plays
	// nothing: for tests, demos and machines without hardware.
	DevicesTestPattern DeviceMode = "test-pattern"
)

// Events of the calls service.
const (
	// EventCall carries the *CallView of the current call, nil when there is none.
	EventCall = "call"
	// EventCallQuality carries a QualityView about once a second while a call is connected.
	EventCallQuality = "call.quality"
)

// Codes of the device problems the UI translates. They travel as wire.Error codes (a failed
// Start or SetVideo) and as CallView warnings (the call goes on without the device).
const (
	CodeNoMicrophone     wire.Code = "ENOMICROPHONE"
	CodeMicrophoneDenied wire.Code = "EMICDENIED"
	CodeMicrophoneBusy   wire.Code = "EMICBUSY"
	CodeNoCamera         wire.Code = "ENOCAMERA"
	CodeCameraDenied     wire.Code = "ECAMDENIED"
	CodeCameraBusy       wire.Code = "ECAMBUSY"
	CodeNoSpeaker        wire.Code = "ENOSPEAKER"
)

// Errors of the calls service.
var (
	// ErrCallInProgress indicates a call started while another one is not over.
	ErrCallInProgress = &wire.Error{Code: wire.ECONFLICT, Message: "a call is already in progress"}
	// ErrNoCall indicates a call control used with no call.
	ErrNoCall = &wire.Error{Code: wire.ENOTFOUND, Message: "no call"}
	// ErrCallKind indicates a call kind other than voice or video.
	ErrCallKind = &wire.Error{Code: wire.EINVALID, Message: "call kind must be voice or video"}
	// ErrVideoNotAllowed indicates video in a conversation whose setting is voice only.
	ErrVideoNotAllowed = &wire.Error{Code: wire.EFORBIDDEN, Message: "video calls are not allowed here"}
)

// Call states as the UI sees them: the hub's, plus inviting (waiting for the hub's answer).
const (
	callInviting = "inviting"
	callRinging  = string(wire.CallRinging)
	callActive   = string(wire.CallActive)
	callEnded    = string(wire.CallEnded)
)

// CallView is the current call as the floating call control shows it. Times are local Unix ms.
type CallView struct {
	ID           wire.CallID         `json:"id"`
	Conv         wire.ConversationID `json:"conv"`
	CustomerName string              `json:"customer_name"`
	Kind         wire.CallKind       `json:"kind"`
	// State is inviting, ringing, active or ended.
	State   string           `json:"state"`
	Outcome wire.CallOutcome `json:"outcome,omitempty"`
	Reason  string           `json:"reason,omitempty"`
	EndedBy wire.Author      `json:"ended_by,omitempty"`
	// Connection is the peer connection's state: new, connecting, connected, disconnected,
	// failed, closed.
	Connection string `json:"connection"`
	CreatedAt  int64  `json:"created_at"`
	AnsweredAt int64  `json:"answered_at,omitempty"`
	EndedAt    int64  `json:"ended_at,omitempty"`
	// Muted and Video are what the agent sends; HasVideo says a camera track is negotiated.
	Muted        bool `json:"muted"`
	Video        bool `json:"video"`
	HasVideo     bool `json:"has_video"`
	VideoAllowed bool `json:"video_allowed"`
	// RemoteMuted and RemoteVideo are the customer's own mute and camera state (call.media);
	// RemoteFrames is true once the customer's video has been decoded here.
	RemoteMuted  bool `json:"remote_muted"`
	RemoteVideo  bool `json:"remote_video"`
	RemoteKnown  bool `json:"remote_known"` // the customer has said their state at least once
	RemoteFrames bool `json:"remote_frames"`
	// RemoteVideoURL and SelfVideoURL are loopback MJPEG streams for an <img>.
	RemoteVideoURL string `json:"remote_video_url,omitempty"`
	SelfVideoURL   string `json:"self_video_url,omitempty"`
	// Warnings are device problems the call goes on despite (no camera, no speaker).
	Warnings []wire.Code `json:"warnings,omitempty"`
}

// QualityView is the call-quality indicator and its details.
type QualityView struct {
	Call wire.CallID `json:"call"`
	// Level is good, fair or poor (unknown before the first measurement).
	Level    string  `json:"level"`
	RTTMs    float64 `json:"rtt_ms"`
	JitterMs float64 `json:"jitter_ms"`
	LossPct  float64 `json:"loss_pct"`
	SendKbps int     `json:"send_kbps"`
	RecvKbps int     `json:"recv_kbps"`
	SendFPS  float64 `json:"send_fps"`
	RecvFPS  float64 `json:"recv_fps"`
	// Route is "relayed" when a TURN relay carries the media (the selected candidate pair, or a
	// relay-only policy), "direct" otherwise.
	Route string `json:"route"`
}

// DeviceView is one device the agent can pick.
type DeviceView struct {
	ID      string `json:"id"`
	Label   string `json:"label"`
	Kind    string `json:"kind"`
	Default bool   `json:"default"`
}

// DevicesView lists the devices and the ones chosen ("" means the system default).
type DevicesView struct {
	Mode       DeviceMode   `json:"mode"`
	Devices    []DeviceView `json:"devices"`
	Camera     string       `json:"camera"`
	Microphone string       `json:"microphone"`
	Speaker    string       `json:"speaker"`
	// SwitchMidCall is false: a new choice applies from the next call.
	SwitchMidCall bool `json:"switch_mid_call"`
}

// callManager owns the current call. Bound methods and hub events reach a call through its
// session's work queue, so that signalling steps run one at a time and in order.
type callManager struct {
	c    *core
	mode DeviceMode
	log  *slog.Logger
	// send carries a request to the hub (core.request; tests signal directly).
	send func(t wire.Type, payload any) (wire.Ack, error)

	mu     sync.Mutex
	cur    *callSession // the current call; nil when none
	view   *CallView    // the last view emitted
	camera string       // chosen devices ("" = default)
	mic    string
	spk    string
	bridge *media.Bridge // render bridge shared by all calls, made on first use
}

func newCallManager(c *core, mode DeviceMode) *callManager {
	if mode == "" {
		mode = DevicesSystem
	}
	m := &callManager{c: c, mode: mode, log: c.log.With("component", "calls"), send: c.request}
	if mode == DevicesTestPattern {
		m.camera, m.mic, m.spk = media.TestPatternID, media.TestPatternID, "none"
	}
	return m
}

// callSession is one call. Its fields are used only on its queue's goroutine, except those
// set before the queue starts.
type callSession struct {
	m     *callManager
	q     *workQueue
	log   *slog.Logger
	conv  wire.ConversationID
	name  string
	kind  wire.CallKind
	video bool // the agent's camera goes on when the call starts

	id                             wire.CallID
	state                          string
	outcome                        wire.CallOutcome
	reason                         string
	endedBy                        wire.Author
	allowed                        wire.CallsAllowed
	createdAt, answeredAt, endedAt int64
	mc                             *media.Call
	mst                            media.State
	muted                          bool
	remoteMuted, remoteVideo       bool
	remoteKnown                    bool
	offerPending                   bool // our offer awaits its answer (perfect negotiation)
	relayOnly                      bool
	warnings                       []wire.Code
	stopStats                      chan struct{}
	restarted                      bool // one ICE restart was tried after a failure
}

// ---- bound methods ----

// Current returns the current call, nil when there is none.
func (cs *Calls) Current() (*CallView, error) {
	cs.m.mu.Lock()
	defer cs.m.mu.Unlock()
	if cs.m.cur == nil || cs.m.view == nil {
		return nil, nil
	}
	v := *cs.m.view
	return &v, nil
}

// Start calls the customer of an active conversation: voice, or video. It returns once the hub
// rings the customer. A missing or refused microphone stops it (an agent must be heard); a
// missing or refused camera turns a video call into a voice call, with a warning.
func (cs *Calls) Start(conv wire.ConversationID, kind wire.CallKind) (CallView, error) {
	m := cs.m
	c := m.c
	if kind != wire.CallVoice && kind != wire.CallVideo {
		return CallView{}, ErrCallKind
	}
	c.mu.Lock()
	signedIn := c.link != nil
	cv, ok := c.convs[conv]
	var name string
	var state wire.ConvState
	if ok {
		name, state = cv.CustomerName, cv.State
	}
	c.mu.Unlock()
	if !signedIn {
		return CallView{}, ErrNotSignedIn
	}
	if !ok {
		return CallView{}, ErrNoConversation
	}
	if state != wire.ConvActive {
		return CallView{}, wire.Errorf(wire.ECONFLICT, "the conversation is not active")
	}

	s := &callSession{m: m, conv: conv, name: name, kind: kind, video: kind == wire.CallVideo,
		state: callInviting, createdAt: c.nowMs(), log: m.log.With("conv", conv)}
	m.mu.Lock()
	if m.cur != nil {
		m.mu.Unlock()
		return CallView{}, ErrCallInProgress
	}
	m.cur = s
	mic, camera := m.mic, m.camera
	m.mu.Unlock()

	// Try the devices before the customer's phone rings.
	if err := probeMicrophone(mic); err != nil {
		m.clear(s)
		s.log.Warn("call not started: microphone", "err", err)
		return CallView{}, err
	}
	if s.video {
		if code := probeCamera(camera); code != "" {
			s.log.Warn("no camera: voice only", "code", code)
			s.video, s.kind = false, wire.CallVoice
			s.warnings = append(s.warnings, code)
		}
	}
	s.q = newWorkQueue()
	go s.q.run()
	m.publish(s)

	ack, err := m.send(wire.TypeCallInvite, wire.CallInvite{Conv: conv, Kind: s.kind})
	if err != nil {
		s.log.Info("call invite refused", "code", wire.ErrorCode(err))
		m.clear(s)
		s.q.stop()
		return CallView{}, err
	}
	s.q.do(func() {
		if id := ack.Call; id != "" && s.id == "" {
			s.id = id
			s.log = s.log.With("call", id)
		}
	})
	s.log.Info("call invited", "kind", s.kind)
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.view == nil {
		return CallView{}, ErrNoCall
	}
	return *m.view, nil
}

// End hangs up the current call, or cancels it while it rings.
func (cs *Calls) End() error {
	s := cs.m.current()
	if s == nil {
		return ErrNoCall
	}
	s.q.do(func() { s.hangUp() })
	return nil
}

// SetMuted mutes or unmutes the agent's microphone and tells the customer.
func (cs *Calls) SetMuted(muted bool) error {
	s := cs.m.current()
	if s == nil {
		return ErrNoCall
	}
	s.q.do(func() {
		s.muted = muted
		if s.mc != nil {
			s.mc.SetMuted(muted)
		}
		s.log.Info("call mute", "muted", muted)
		s.sendMedia()
		s.m.publish(s)
	})
	return nil
}

// SetVideo turns the agent's camera on or off. Turning it on in a voice call adds video (a
// renegotiation). A missing or refused camera returns its code; the call goes on.
func (cs *Calls) SetVideo(on bool) error {
	s := cs.m.current()
	if s == nil {
		return ErrNoCall
	}
	var err error
	s.q.do(func() { err = s.setVideo(on) })
	return err
}

// Devices lists the cameras, microphones and speakers, and the chosen ones.
func (cs *Calls) Devices() (DevicesView, error) {
	m := cs.m
	v := DevicesView{Mode: m.mode, Devices: []DeviceView{}}
	if m.mode == DevicesTestPattern {
		for _, d := range media.TestDevices() {
			v.Devices = append(v.Devices, DeviceView{ID: d.ID, Label: d.Label, Kind: string(d.Kind), Default: d.Default})
		}
		v.Devices = append(v.Devices, DeviceView{ID: "none", Label: "None", Kind: string(media.KindSpeaker), Default: true})
	} else {
		ds, err := media.ListDevices()
		if err != nil {
			m.log.Warn("list devices", "err", err)
		}
		for _, d := range ds {
			v.Devices = append(v.Devices, DeviceView{ID: d.ID, Label: d.Label, Kind: string(d.Kind), Default: d.Default})
		}
		v.Devices = m.c.filterDevices(v.Devices) // the policy's allowed_devices (settings.go)
	}
	m.mu.Lock()
	v.Camera, v.Microphone, v.Speaker = m.camera, m.mic, m.spk
	m.mu.Unlock()
	return v, nil
}

// SelectDevice chooses the camera, microphone or speaker ("" = default). A call in progress
// switches to it at once; when the device cannot open, the call keeps the one it had, the
// choice is not made and the coded error says why.
func (cs *Calls) SelectDevice(kind, id string) error {
	m := cs.m
	if err := m.c.deviceLocked(kind); err != nil { // the policy locks the choice (settings.go)
		return err
	}
	k := media.DeviceKind(kind)
	if k != media.KindCamera && k != media.KindMicrophone && k != media.KindSpeaker {
		return wire.Errorf(wire.EINVALID, "unknown device kind %q", kind)
	}
	if s := m.current(); s != nil {
		var err error
		s.q.do(func() { err = s.switchDevice(k, id) })
		if err != nil {
			m.log.Warn("device switch failed", "kind", kind, "code", wire.ErrorCode(err))
			return err
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	switch k {
	case media.KindCamera:
		m.camera = id
	case media.KindMicrophone:
		m.mic = id
	case media.KindSpeaker:
		m.spk = id
	}
	m.log.Info("device chosen", "kind", kind)
	return nil
}

// ---- manager ----

// current returns the current call session, nil when none.
func (m *callManager) current() *callSession {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.cur
}

// clear forgets s if it is the current call, and tells the UI there is none.
func (m *callManager) clear(s *callSession) {
	m.mu.Lock()
	was := m.cur == s
	if was {
		m.cur, m.view = nil, nil
	}
	m.mu.Unlock()
	if was {
		m.c.emitter.Emit(EventCall, (*CallView)(nil))
	}
}

// publish stores and emits s's view.
func (m *callManager) publish(s *callSession) {
	v := s.viewOf()
	m.mu.Lock()
	if m.cur != s {
		m.mu.Unlock()
		return
	}
	m.view = &v
	m.mu.Unlock()
	m.c.emitter.Emit(EventCall, &v)
}

// getBridge returns the render bridge, made on first use.
func (m *callManager) getBridge() (*media.Bridge, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.bridge == nil {
		br, err := media.NewBridge(m.log)
		if err != nil {
			return nil, err
		}
		m.bridge = br
	}
	return m.bridge, nil
}

// onHub takes a call event from the hub. It runs on the connection's goroutine under core.mu,
// so it only converts hub times to local ones and queues the work.
func (m *callManager) onHub(ev wire.Envelope) {
	switch ev.Type {
	case wire.TypeCallState:
		var st wire.Call
		if ev.Unmarshal(&st) != nil {
			return
		}
		st.CreatedAt, st.AnsweredAt, st.EndedAt = m.c.local(st.CreatedAt), m.c.local(st.AnsweredAt), m.c.local(st.EndedAt)
		m.mu.Lock()
		s := m.cur
		m.mu.Unlock()
		if s == nil || (st.Conv != s.conv) {
			if st.State != wire.CallEnded {
				// A call this app does not hold (left over from before a restart): hang it up
				// rather than let it ring on.
				m.log.Info("hanging up a call this app does not hold", "call", st.ID, "conv", st.Conv)
				id := st.ID
				go func() { _, _ = m.send(wire.TypeCallEnd, wire.CallRef{Call: id}) }()
			}
			return
		}
		s.q.push(func() { s.onState(st) })
	case wire.TypeCallSignal:
		var sig wire.CallSignal
		if ev.Unmarshal(&sig) != nil {
			return
		}
		if s := m.current(); s != nil {
			s.q.push(func() { s.onSignal(sig) })
		}
	case wire.TypeCallMedia:
		var cm wire.CallMedia
		if ev.Unmarshal(&cm) != nil {
			return
		}
		if s := m.current(); s != nil {
			s.q.push(func() { s.onMedia(cm) })
		}
	}
}

// drop ends the current call locally, without telling the hub (signed out, connection lost:
// the hub ends the call itself). It may run under core.mu.
func (m *callManager) drop() {
	s := m.current()
	if s == nil {
		return
	}
	s.q.push(func() {
		s.log.Info("call dropped: signed out or connection lost")
		s.finish(wire.AuthorAgent, "disconnected", "")
	})
}

// close releases the render bridge (the app is quitting).
func (m *callManager) close() {
	m.drop()
	m.mu.Lock()
	br := m.bridge
	m.bridge = nil
	m.mu.Unlock()
	if br != nil {
		_ = br.Close()
	}
}

// ---- session (on its queue) ----

func (s *callSession) mine(id wire.CallID) bool { return id != "" && id == s.id }

// onState applies the hub's call.state.
func (s *callSession) onState(st wire.Call) {
	if s.state == callEnded {
		return
	}
	if s.id == "" {
		s.id = st.ID
		s.log = s.log.With("call", st.ID)
	} else if st.ID != s.id {
		return
	}
	s.createdAt = st.CreatedAt
	if st.Allowed != "" {
		s.allowed = st.Allowed
	}
	if st.Outcome != "" {
		s.outcome = st.Outcome
	}
	s.log.Info("call state", "state", st.State, "outcome", st.Outcome, "reason", st.Reason)
	switch st.State {
	case wire.CallRinging:
		s.state = callRinging
		if s.mc == nil {
			if err := s.startMedia(st.ICE); err != nil {
				s.log.Warn("media engine failed", "err", err)
				s.hangUp()
				return
			}
		}
	case wire.CallActive:
		s.state = callActive
		s.answeredAt = st.AnsweredAt
		if s.answeredAt == 0 {
			s.answeredAt = s.m.c.nowMs()
		}
		if s.mc == nil {
			if err := s.startMedia(st.ICE); err != nil {
				s.log.Warn("media engine failed", "err", err)
				s.hangUp()
				return
			}
		}
		s.sendMedia()
		s.startStats()
	case wire.CallEnded:
		s.finish(st.EndedBy, st.Reason, st.Outcome)
		return
	}
	s.m.publish(s)
}

// startMedia builds the peer connection with the ICE servers the hub gave us and sends the
// first offer: the portal holds it until the customer accepts.
func (s *callSession) startMedia(ice *wire.ICEConfig) error {
	br, err := s.m.getBridge()
	if err != nil {
		return err
	}
	s.m.mu.Lock()
	camera, mic, spk := s.m.camera, s.m.mic, s.m.spk
	s.m.mu.Unlock()
	opts := media.Options{Audio: true, Video: s.video, Camera: camera, Microphone: mic, Speaker: spk,
		Bridge: br, Logger: s.log.With("component", "media")}
	if ice != nil {
		for _, sv := range ice.Servers {
			opts.ICEServers = append(opts.ICEServers, media.ICEServer{URLs: sv.URLs, Username: sv.Username, Credential: sv.Credential})
		}
		opts.RelayOnly = ice.Policy == "relay"
		s.relayOnly = opts.RelayOnly
	}
	mc, err := media.NewCall(opts)
	if err != nil && s.video && isCameraError(err) {
		// The camera went between the probe and now: voice only.
		s.warnings = append(s.warnings, cameraCode(err))
		s.video, opts.Video = false, false
		mc, err = media.NewCall(opts)
	}
	if err != nil {
		return err
	}
	s.mc = mc
	s.mst = mc.State()
	if s.mst.SpeakerError != "" {
		s.warnings = append(s.warnings, CodeNoSpeaker)
	}
	q := s.q
	mc.OnLocalCandidate(func(cand media.Candidate) {
		q.push(func() { s.sendCandidate(cand) })
	})
	mc.OnStateChange(func(st media.State) {
		q.push(func() { s.onMediaState(st) })
	})
	mc.SetMuted(s.muted)
	return s.offer(func() (string, error) { return mc.CreateOffer() })
}

// offer makes an offer with f and sends it.
func (s *callSession) offer(f func() (string, error)) error {
	sdp, err := f()
	if err != nil {
		return err
	}
	s.offerPending = true
	s.signal(wire.CallSignal{Call: s.id, SDP: &wire.SDP{Type: "offer", SDP: sdp}})
	return nil
}

// onSignal applies an SDP or a candidate from the customer.
func (s *callSession) onSignal(sig wire.CallSignal) {
	if !s.mine(sig.Call) || s.mc == nil || s.state == callEnded {
		return
	}
	switch {
	case sig.SDP != nil && sig.SDP.Type == "offer":
		// Perfect negotiation, impolite side: our own outstanding offer wins a collision; the
		// customer's browser rolls back and answers ours.
		if s.offerPending {
			s.log.Info("ignoring the customer's colliding offer")
			return
		}
		ans, err := s.mc.HandleOffer(sig.SDP.SDP)
		if err != nil {
			s.log.Warn("customer offer", "err", err)
			return
		}
		s.signal(wire.CallSignal{Call: s.id, SDP: &wire.SDP{Type: "answer", SDP: ans}})
	case sig.SDP != nil && sig.SDP.Type == "answer":
		if !s.offerPending {
			return
		}
		s.offerPending = false
		if err := s.mc.HandleAnswer(sig.SDP.SDP); err != nil {
			s.log.Warn("customer answer", "err", err)
		}
	case sig.Candidate != nil && sig.Candidate.Candidate != "":
		c := media.Candidate{Candidate: sig.Candidate.Candidate, SDPMid: sig.Candidate.SDPMid}
		if i := sig.Candidate.SDPMLineIndex; i != nil && *i >= 0 && *i < 1<<16 {
			u := uint16(*i)
			c.SDPMLineIndex = &u
		}
		if err := s.mc.AddRemoteCandidate(c); err != nil {
			s.log.Debug("remote candidate", "err", err)
		}
	}
}

// onMedia applies the customer's mute and video state.
func (s *callSession) onMedia(cm wire.CallMedia) {
	if !s.mine(cm.Call) || cm.From == wire.AuthorAgent {
		return
	}
	if cm.Muted != s.remoteMuted || cm.Video != s.remoteVideo {
		s.log.Info("customer media", "muted", cm.Muted, "video", cm.Video)
	}
	s.remoteMuted, s.remoteVideo, s.remoteKnown = cm.Muted, cm.Video, true
	s.m.publish(s)
}

// onMediaState follows the media engine: connection, first remote frame, device failures.
func (s *callSession) onMediaState(st media.State) {
	if s.state == callEnded {
		return
	}
	prev := s.mst
	s.mst = st
	if st.Connection != prev.Connection {
		s.log.Info("call connection", "state", st.Connection)
	}
	if st.RemoteVideo && !prev.RemoteVideo {
		s.log.Info("first remote frame")
	}
	if st.CameraError != "" && prev.CameraError == "" {
		s.log.Warn("camera stopped mid-call", "err", st.CameraError)
		s.warnings = appendCode(s.warnings, CodeNoCamera)
		s.sendMedia()
	}
	if st.MicrophoneError != "" && prev.MicrophoneError == "" {
		s.log.Warn("microphone stopped mid-call", "err", st.MicrophoneError)
		s.warnings = appendCode(s.warnings, CodeNoMicrophone)
	}
	// A lost path gets one ICE restart as soon as pion calls it disconnected (about 5 s without
	// packets), not only once it gives up ("failed", some 25 s later): measured in resilience/, a
	// restart brings media back within half a second of the path returning. A connection that
	// fails after its restart ends the call; a connection that recovers may restart again later.
	if st.Connection == "connected" {
		s.restarted = false
	}
	lost := (st.Connection == "disconnected" || st.Connection == "failed") && st.Connection != prev.Connection
	if lost && s.state == callActive {
		switch {
		case !s.restarted && !s.offerPending:
			s.restarted = true
			s.log.Info("connection lost: restarting ICE", "state", st.Connection)
			if err := s.offer(s.mc.RestartICE); err != nil {
				s.log.Warn("ICE restart", "err", err)
			}
		case st.Connection == "failed":
			s.log.Warn("connection failed: ending the call")
			s.hangUpWith("failed")
			return
		}
	}
	s.m.publish(s)
}

// setVideo turns the camera on or off.
func (s *callSession) setVideo(on bool) error {
	if s.state == callEnded {
		return ErrNoCall
	}
	if on && s.allowed == wire.CallsVoiceOnly {
		return ErrVideoNotAllowed
	}
	if s.mc == nil {
		// Not ringing yet: the camera goes on (or stays off) when the media engine starts.
		if on {
			s.m.mu.Lock()
			camera := s.m.camera
			s.m.mu.Unlock()
			if code := probeCamera(camera); code != "" {
				return &wire.Error{Code: code, Message: "camera unavailable"}
			}
		}
		s.video = on
		s.m.publish(s)
		return nil
	}
	switch {
	case on && !s.mst.HasVideo:
		// Voice → video: a new transceiver, so a renegotiation that we offer.
		if s.offerPending {
			return wire.Errorf(wire.ECONFLICT, "negotiation in progress; try again")
		}
		if err := s.offer(s.mc.AddVideo); err != nil {
			return deviceWireError(err)
		}
	default:
		if err := s.mc.SetVideoEnabled(on); err != nil {
			return deviceWireError(err)
		}
	}
	s.video = on
	s.mst = s.mc.State()
	if on {
		s.warnings = removeCode(s.warnings, CodeNoCamera)
	}
	s.log.Info("call video", "on", on)
	s.sendMedia()
	s.m.publish(s)
	return nil
}

// switchDevice moves the call's media to another camera, microphone or speaker. Before the
// media engine starts there is nothing to move: it opens the chosen devices.
func (s *callSession) switchDevice(k media.DeviceKind, id string) error {
	if s.mc == nil || s.state == callEnded {
		return nil
	}
	var err error
	var cleared wire.Code
	switch k {
	case media.KindCamera:
		if err = s.mc.SetCamera(id); err != nil {
			err = deviceWireError(err)
		}
		cleared = CodeNoCamera
	case media.KindMicrophone:
		if err = s.mc.SetMicrophone(id); err != nil {
			err = micWireError(err)
		}
		cleared = CodeNoMicrophone
	case media.KindSpeaker:
		if err = s.mc.SetSpeaker(id); err != nil {
			err = &wire.Error{Code: CodeNoSpeaker, Message: "speaker unavailable"}
		}
		cleared = CodeNoSpeaker
	}
	if err != nil {
		return err
	}
	if k != media.KindCamera || s.mst.VideoEnabled { // a camera chosen with video off proves nothing yet
		s.warnings = removeCode(s.warnings, cleared)
	}
	s.mst = s.mc.State()
	s.log.Info("call device switched", "kind", k)
	s.m.publish(s)
	return nil
}

// hangUp ends the call from the agent's side.
func (s *callSession) hangUp() { s.hangUpWith("hangup") }

func (s *callSession) hangUpWith(reason string) {
	if s.state == callEnded {
		return
	}
	if s.id != "" {
		s.request(wire.TypeCallEnd, wire.CallRef{Call: s.id})
	}
	outcome := wire.CallOutcome("")
	if s.state != callActive {
		outcome = wire.OutcomeCancelled
	}
	s.finish(wire.AuthorAgent, reason, outcome)
}

// finish closes the media engine and shows the ended call; the call is then forgotten.
func (s *callSession) finish(by wire.Author, reason string, outcome wire.CallOutcome) {
	if s.state == callEnded {
		return
	}
	s.state = callEnded
	s.endedBy, s.reason = by, reason
	if outcome != "" {
		s.outcome = outcome
	}
	s.endedAt = s.m.c.nowMs()
	if s.stopStats != nil {
		close(s.stopStats)
		s.stopStats = nil
	}
	if s.mc != nil {
		if err := s.mc.Close(); err != nil {
			s.log.Debug("media close", "err", err)
		}
	}
	s.log.Info("call ended", "outcome", s.outcome, "reason", reason, "by", by)
	s.m.publish(s)
	s.m.clear(s)
	s.q.stop()
}

// sendMedia tells the customer our mute and video state.
func (s *callSession) sendMedia() {
	if s.id == "" {
		return
	}
	s.request(wire.TypeCallMedia, wire.CallMedia{Call: s.id, Muted: s.muted, Video: s.video && s.mc != nil && s.mst.VideoEnabled})
}

// sendCandidate trickles one local candidate to the customer.
func (s *callSession) sendCandidate(cand media.Candidate) {
	if s.state == callEnded {
		return
	}
	ic := &wire.ICECandidate{Candidate: cand.Candidate, SDPMid: cand.SDPMid}
	if cand.SDPMLineIndex != nil {
		i := int(*cand.SDPMLineIndex)
		ic.SDPMLineIndex = &i
	}
	s.signal(wire.CallSignal{Call: s.id, Candidate: ic})
}

// signal sends a CallSignal.
func (s *callSession) signal(sig wire.CallSignal) { s.request(wire.TypeCallSignal, sig) }

// request sends a call request to the hub, logging (not returning) a refusal: signalling is
// fire-and-forget, and a call the hub no longer has ends with its call.state.
func (s *callSession) request(t wire.Type, payload any) {
	if _, err := s.m.send(t, payload); err != nil {
		s.log.Info("call request refused", "type", t, "code", wire.ErrorCode(err), "msg", wire.ErrorMessage(err))
	}
}

// startStats pushes a QualityView every second while the call lasts.
func (s *callSession) startStats() {
	if s.stopStats != nil || s.mc == nil {
		return
	}
	stop := make(chan struct{})
	s.stopStats = stop
	mc, id, relay, q := s.mc, s.id, s.relayOnly, s.q
	go func() {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				qv := quality(id, mc.Stats(), relay)
				q.push(func() {
					if s.state != callEnded {
						s.m.c.emitter.Emit(EventCallQuality, qv)
					}
				})
			}
		}
	}()
}

// quality grades a stats snapshot: good up to 150 ms RTT and 2 % loss, fair up to 400 ms and
// 8 %, poor beyond.
func quality(id wire.CallID, st media.Stats, relayed bool) QualityView {
	q := QualityView{
		Call: id, RTTMs: float64(st.RTT) / float64(time.Millisecond), JitterMs: float64(st.Jitter) / float64(time.Millisecond),
		LossPct: st.PacketLoss * 100, SendKbps: st.SendBitrate / 1000, RecvKbps: st.RecvBitrate / 1000,
		SendFPS: st.SendFPS, RecvFPS: st.RecvFPS, Route: "direct",
	}
	if relayed || st.Relayed {
		q.Route = "relayed"
	}
	switch {
	case st.RTT == 0 && st.PacketLoss == 0 && st.RecvBitrate == 0 && st.FramesDecoded == 0:
		q.Level = "unknown"
	case st.RTT > 400*time.Millisecond || st.PacketLoss > 0.08:
		q.Level = "poor"
	case st.RTT > 150*time.Millisecond || st.PacketLoss > 0.02:
		q.Level = "fair"
	default:
		q.Level = "good"
	}
	return q
}

// viewOf builds the UI's view of s.
func (s *callSession) viewOf() CallView {
	v := CallView{
		ID: s.id, Conv: s.conv, CustomerName: s.name, Kind: s.kind, State: s.state, Outcome: s.outcome,
		Reason: s.reason, EndedBy: s.endedBy, Connection: s.mst.Connection, CreatedAt: s.createdAt,
		AnsweredAt: s.answeredAt, EndedAt: s.endedAt, Muted: s.muted, Video: s.video,
		HasVideo: s.mst.HasVideo, VideoAllowed: s.allowed != wire.CallsVoiceOnly && s.allowed != wire.CallsNone,
		RemoteMuted: s.remoteMuted, RemoteVideo: s.remoteVideo, RemoteKnown: s.remoteKnown, RemoteFrames: s.mst.RemoteVideo,
		Warnings: append([]wire.Code(nil), s.warnings...),
	}
	if v.Connection == "" {
		v.Connection = "new"
	}
	if s.mc != nil && s.state != callEnded {
		v.Video = s.mst.VideoEnabled
		v.RemoteVideoURL, v.SelfVideoURL = s.mc.RemoteVideoURL(), s.mc.SelfVideoURL()
	}
	return v
}

// ---- devices ----

// probeMicrophone opens and closes the microphone, returning a coded error when it cannot.
func probeMicrophone(id string) error {
	src, err := media.OpenAudio(id)
	if err != nil {
		return micWireError(err)
	}
	_ = src.Close()
	return nil
}

// micWireError turns a media error from opening a microphone into the UI's coded error.
func micWireError(err error) error {
	code := CodeNoMicrophone
	switch {
	case errors.Is(err, media.ErrPermissionDenied):
		code = CodeMicrophoneDenied
	case errors.Is(err, media.ErrDeviceBusy):
		code = CodeMicrophoneBusy
	case errors.Is(err, media.ErrClosed):
		return ErrNoCall
	}
	return &wire.Error{Code: code, Message: "microphone unavailable"}
}

// probeCamera opens and closes the camera, returning the problem's code, "" when it works.
func probeCamera(id string) wire.Code {
	src, err := media.OpenVideo(id, 640, 480, 30)
	if err != nil {
		return cameraCode(err)
	}
	_ = src.Close()
	return ""
}

func isCameraError(err error) bool {
	return errors.Is(err, media.ErrNoCamera) || errors.Is(err, media.ErrPermissionDenied) || errors.Is(err, media.ErrDeviceBusy)
}

func cameraCode(err error) wire.Code {
	switch {
	case errors.Is(err, media.ErrPermissionDenied):
		return CodeCameraDenied
	case errors.Is(err, media.ErrDeviceBusy):
		return CodeCameraBusy
	}
	return CodeNoCamera
}

// deviceWireError turns a media error from turning video on into the UI's coded error.
func deviceWireError(err error) error {
	if isCameraError(err) {
		return &wire.Error{Code: cameraCode(err), Message: "camera unavailable"}
	}
	return asWireError(err)
}

func appendCode(cs []wire.Code, c wire.Code) []wire.Code {
	for _, x := range cs {
		if x == c {
			return cs
		}
	}
	return append(cs, c)
}

func removeCode(cs []wire.Code, c wire.Code) []wire.Code {
	out := cs[:0]
	for _, x := range cs {
		if x != c {
			out = append(out, x)
		}
	}
	return out
}

// ---- work queue ----

// workQueue runs functions one at a time, in order, on its own goroutine. push never blocks.
type workQueue struct {
	mu      sync.Mutex
	items   []func()
	more    chan struct{} // has a token when items is not empty
	done    chan struct{} // closed by stop
	stopped sync.Once
	exited  chan struct{} // closed when run returns
}

func newWorkQueue() *workQueue {
	return &workQueue{more: make(chan struct{}, 1), done: make(chan struct{}), exited: make(chan struct{})}
}

// push queues f.
func (q *workQueue) push(f func()) {
	q.mu.Lock()
	q.items = append(q.items, f)
	q.mu.Unlock()
	select {
	case q.more <- struct{}{}:
	default:
	}
}

// do runs f on the queue and waits for it (or for the queue to stop).
func (q *workQueue) do(f func()) {
	ran := make(chan struct{})
	q.push(func() { defer close(ran); f() })
	select {
	case <-ran:
	case <-q.exited:
	}
}

// stop makes run return after the function running now; what is queued is dropped.
func (q *workQueue) stop() { q.stopped.Do(func() { close(q.done) }) }

func (q *workQueue) run() {
	defer close(q.exited)
	for {
		select {
		case <-q.done:
			return
		default:
		}
		q.mu.Lock()
		if len(q.items) == 0 {
			q.mu.Unlock()
			select {
			case <-q.more:
				continue
			case <-q.done:
				return
			}
		}
		f := q.items[0]
		q.items = q.items[1:]
		q.mu.Unlock()
		f()
	}
}
