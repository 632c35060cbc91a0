package app

import (
	"context"
	"time"

	"github.com/parleyhq/parley/internal/ops"
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

// CallState is where the agent's call is: the hub's states, plus inviting (waiting for the hub's
// answer).
type CallState string

// Call states as the UI sees them.
const (
	CallInviting CallState = "inviting"
	CallRinging  CallState = CallState(wire.CallRinging)
	CallActive   CallState = CallState(wire.CallActive)
	CallEnded    CallState = CallState(wire.CallEnded)
)

// QualityLevel grades a connected call's quality (QualityView).
type QualityLevel string

// Quality levels; unknown before the first measurement.
const (
	QualityUnknown QualityLevel = "unknown"
	QualityGood    QualityLevel = "good"
	QualityFair    QualityLevel = "fair"
	QualityPoor    QualityLevel = "poor"
)

// Route says how a call's media travels.
type Route string

// Routes.
const (
	// RouteDirect: peer to peer.
	RouteDirect Route = "direct"
	// RouteRelayed: through a TURN relay (the selected candidate pair, or a relay-only policy).
	RouteRelayed Route = "relayed"
)

// CallView is the current call as the floating call control shows it. Times are local Unix ms.
type CallView struct {
	ID           wire.CallID         `json:"id"`
	Conv         wire.ConversationID `json:"conv"`
	CustomerName string              `json:"customer_name"`
	Kind         wire.CallKind       `json:"kind"`
	State        CallState           `json:"state"`
	Outcome      wire.CallOutcome    `json:"outcome,omitempty"`
	Reason       string              `json:"reason,omitempty"`
	EndedBy      wire.Author         `json:"ended_by,omitempty"`
	// Connection is the peer connection's state.
	Connection media.ConnectionState `json:"connection"`
	CreatedAt  int64                 `json:"created_at"`
	AnsweredAt int64                 `json:"answered_at,omitempty"`
	EndedAt    int64                 `json:"ended_at,omitempty"`
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
	// Answering is true while a ringing call has been answered by the customer and their browser
	// gets the devices; RemoteProblem is what holds it up ("camera_denied", ...; wire.Call).
	Answering     bool   `json:"answering,omitempty"`
	RemoteProblem string `json:"remote_problem,omitempty"`
	// CustomerNetwork is the customer's network probe while the call rang (the portal's
	// call.probe): shown beside their name when weak or failed, its figures on hover.
	CustomerNetwork *wire.CallProbe `json:"customer_network,omitempty"`
	// Record is the organisation's recording setting for this call ("" off, ask, always);
	// Consent is the customer's yes; Recording is true while it records (the indicator).
	Record    wire.RecordingMode `json:"record,omitempty"`
	Consent   bool               `json:"consent,omitempty"`
	Recording bool               `json:"recording,omitempty"`
	// Coach is the supervisor the agent hears on the call, whispering or having joined ("" when
	// nobody, or a supervisor only listening: neither side is told). Supervisor is set while a
	// supervisor has joined the call: the customer sees it too.
	Coach      string `json:"coach,omitempty"`
	Supervisor string `json:"supervisor,omitempty"`
}

// QualityView is the call-quality indicator and its details.
type QualityView struct {
	Call     wire.CallID  `json:"call"`
	Level    QualityLevel `json:"level"`
	RTTMs    float64      `json:"rtt_ms"`
	JitterMs float64      `json:"jitter_ms"`
	LossPct  float64      `json:"loss_pct"`
	// SendKbps and RecvKbps are the video's; AudioSendKbps and AudioRecvKbps the audio's (what a
	// voice call's details show).
	SendKbps      int     `json:"send_kbps"`
	RecvKbps      int     `json:"recv_kbps"`
	AudioSendKbps int     `json:"audio_send_kbps"`
	AudioRecvKbps int     `json:"audio_recv_kbps"`
	SendFPS       float64 `json:"send_fps"`
	RecvFPS       float64 `json:"recv_fps"`
	Route         Route   `json:"route"`
	// UpKbps is everything the agent sends for the call (audio, video, headers, a supervisor's
	// leg), kbit/s.
	UpKbps int `json:"up_kbps"`
	// CoachLevel is how loud the supervisor the agent hears is (RMS 0..1; 0 when none).
	CoachLevel float64 `json:"coach_level,omitempty"`
}

// DeviceView is one device the agent can pick.
type DeviceView struct {
	ID      string           `json:"id"`
	Label   string           `json:"label"`
	Kind    media.DeviceKind `json:"kind"`
	Default bool             `json:"default"`
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

// Bound methods.

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
		state: CallInviting, createdAt: c.nowMs(), log: m.log.With("conv", conv)}
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
	s.q = &ops.Queue{}
	m.publish(s)

	ack, err := m.send(wire.TypeCallInvite, wire.CallInvite{Conv: conv, Kind: s.kind})
	if err != nil {
		s.log.Info("call invite refused", "code", wire.ErrorCode(err))
		m.clear(s)
		s.q.Close()
		return CallView{}, err
	}
	s.q.Do(func() {
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
	s.q.Do(func() { s.hangUp() })
	return nil
}

// SetMuted mutes or unmutes the agent's microphone and tells the customer.
func (cs *Calls) SetMuted(muted bool) error {
	s := cs.m.current()
	if s == nil {
		return ErrNoCall
	}
	s.q.Do(func() {
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

// MicLevel is the call's microphone level as the device menu's meter shows it (0..1), the same
// meter as Test my setup's (media.LevelMeter). It moves while muted: the agent sees the
// microphone works. The UI asks about ten times a second while the menu is open.
func (cs *Calls) MicLevel() (float64, error) {
	s := cs.m.current()
	if s == nil {
		return 0, ErrNoCall
	}
	var level float64
	s.q.Do(func() {
		if s.mc != nil {
			level = s.mc.MicLevel()
		}
	})
	return level, nil
}

// TestSpeaker plays Test my setup's tone on the speaker calls use, over the call's sound; it
// returns once the tone has played. No output device: CodeNoSpeaker.
func (cs *Calls) TestSpeaker() error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := cs.m.testTone(ctx, cs.m.playTone)
	if err != nil {
		cs.m.log.Info("speaker test", "err", err)
		return &wire.Error{Code: CodeNoSpeaker, Message: "no speaker plays"}
	}
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
	s.q.Do(func() { err = s.setVideo(on) })
	return err
}

// Devices lists the cameras, microphones and speakers, and the chosen ones.
func (cs *Calls) Devices() (DevicesView, error) {
	m := cs.m
	v := DevicesView{Mode: m.mode, Devices: []DeviceView{}}
	if m.mode == DevicesTestPattern {
		for _, d := range media.TestDevices() {
			v.Devices = append(v.Devices, DeviceView{ID: d.ID, Label: d.Label, Kind: d.Kind, Default: d.Default})
		}
		v.Devices = append(v.Devices, DeviceView{ID: "none", Label: "None", Kind: media.KindSpeaker, Default: true})
		// The test sources stand in for camera and microphone only: the machine's speakers
		// can still be picked, to hear the other side.
		ds, err := media.ListDevices()
		if err != nil {
			m.log.Warn("list devices", "err", err)
		}
		for _, d := range ds {
			if d.Kind == media.KindSpeaker {
				v.Devices = append(v.Devices, DeviceView{ID: d.ID, Label: d.Label, Kind: d.Kind})
			}
		}
	} else {
		ds, err := media.ListDevices()
		if err != nil {
			m.log.Warn("list devices", "err", err)
		}
		for _, d := range ds {
			v.Devices = append(v.Devices, DeviceView{ID: d.ID, Label: d.Label, Kind: d.Kind, Default: d.Default})
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
func (cs *Calls) SelectDevice(kind media.DeviceKind, id string) error {
	m := cs.m
	if err := m.c.deviceLocked(kind); err != nil { // the policy locks the choice (settings.go)
		return err
	}
	if kind != media.KindCamera && kind != media.KindMicrophone && kind != media.KindSpeaker {
		return wire.Errorf(wire.EINVALID, "unknown device kind %q", kind)
	}
	if s := m.current(); s != nil {
		var err error
		s.q.Do(func() { err = s.switchDevice(kind, id) })
		if err != nil {
			m.log.Warn("device switch failed", "kind", kind, "code", wire.ErrorCode(err))
			return err
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	switch kind {
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
