package app

import (
	"log/slog"
	"strings"
	"time"

	"github.com/parleyhq/parley/internal/ops"
	"github.com/parleyhq/parley/media"
	"github.com/parleyhq/parley/wire"
)

// One call's session: every method here runs on the session's work queue, one step at a time.

// callSession is one call. Its fields are used only on its queue's goroutine, except those
// set before the queue starts.
type callSession struct {
	m     *callManager
	q     *ops.Queue
	log   *slog.Logger
	conv  wire.ConversationID
	name  string
	kind  wire.CallKind
	video bool // the agent's camera goes on when the call starts

	id                             wire.CallID
	state                          CallState
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
	answering                      bool            // the customer answered; their browser is getting the devices
	problem                        string          // what holds their answer up, e.g. camera_denied
	probe                          *wire.CallProbe // the customer's network probe, graded by the hub
	offerPending                   bool            // our offer awaits its answer (perfect negotiation)
	relayOnly                      bool
	warnings                       []wire.Code
	stopStats                      chan struct{}
	restarted                      bool   // one ICE restart was tried after a failure
	iceKey                         string // the TURN credentials the peer connection gathers with
	// record, consent and recording are the hub's recording state (wire.Call); spool is where
	// this call's recording is written (calls_recording.go), "" until it first records.
	record             wire.RecordingMode
	consent, recording bool
	spool              string
	// mon is the supervisor's leg on the call (monitor.go), monID its id and monMode, monName
	// what the hub last said of it; supervisor is who barged in (wire.Call.Supervisor).
	mon        *media.Monitor
	monID      wire.MonitorID
	monMode    wire.MonitorMode
	monName    string
	supervisor string
}

// iceKey names an ICE plan's credentials, to notice the hub's renewal.
func iceKey(ice *wire.ICEConfig) string {
	if ice == nil {
		return ""
	}
	var b strings.Builder
	b.WriteString(ice.Policy)
	for _, sv := range ice.Servers {
		b.WriteString(" " + sv.Username)
	}
	return b.String()
}

// renewICE takes fresh TURN credentials the hub sent during a long call: the peer connection
// gathers with them from now on, and if the call goes through a relay, an ICE restart moves it
// onto allocations made with them before the old ones expire.
func (s *callSession) renewICE(ice *wire.ICEConfig) {
	if s.mc == nil || ice == nil || iceKey(ice) == s.iceKey {
		return
	}
	s.iceKey = iceKey(ice)
	var servers []media.ICEServer
	for _, sv := range ice.Servers {
		servers = append(servers, media.ICEServer{URLs: sv.URLs, Username: sv.Username, Credential: sv.Credential})
	}
	if err := s.mc.SetICEServers(servers, ice.Policy == "relay"); err != nil {
		s.log.Warn("renewed ICE servers refused", "err", err)
		return
	}
	if s.state != CallActive || s.offerPending || !(s.relayOnly || s.mc.Stats().Relayed) {
		return // a direct path needs no relay credentials; the next restart uses the new ones
	}
	s.log.Info("TURN credentials renewed: restarting ICE onto them")
	if err := s.offer(s.mc.RestartICE); err != nil {
		s.log.Warn("ICE restart", "err", err)
	}
}

func (s *callSession) mine(id wire.CallID) bool { return id != "" && id == s.id }

// onState applies the hub's call.state.
func (s *callSession) onState(st wire.Call) {
	if s.state == CallEnded {
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
	s.answering, s.problem = st.Answering, st.Problem
	s.supervisor = st.Supervisor
	if p := st.Probe; p != nil && (s.probe == nil || p.At != s.probe.At) {
		s.probe = p
		// The headless agent's only way to tell: its log.
		s.log.Info("customer network probe", "status", p.Status, "rtt_ms", p.RTTMs, "loss_pct", p.LossPct, "transport", p.Transport)
	}
	s.log.Info("call state", "state", st.State, "outcome", st.Outcome, "reason", st.Reason, "answering", st.Answering, "problem", st.Problem)
	switch st.State {
	case wire.CallRinging:
		s.state = CallRinging
		s.record = st.Record
		if s.mc == nil {
			if err := s.startMedia(st.ICE); err != nil {
				s.log.Warn("media engine failed", "err", err)
				s.hangUp()
				return
			}
		}
	case wire.CallActive:
		s.state = CallActive
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
		s.renewICE(st.ICE)
		s.sendMedia()
		s.startStats()
		s.applyRecording(st)
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
		s.iceKey = iceKey(ice)
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
		q.Enqueue(func() { s.sendCandidate(cand) })
	})
	mc.OnStateChange(func(st media.State) {
		q.Enqueue(func() { s.onMediaState(st) })
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
	if !s.mine(sig.Call) || s.mc == nil || s.state == CallEnded {
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
		if err := s.mc.AddRemoteCandidate(mediaCandidate(sig.Candidate)); err != nil {
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
	if s.state == CallEnded {
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
	if st.Connection == media.ConnectionConnected {
		s.restarted = false
	}
	lost := (st.Connection == media.ConnectionDisconnected || st.Connection == media.ConnectionFailed) && st.Connection != prev.Connection
	if lost && s.state == CallActive {
		switch {
		case !s.restarted && !s.offerPending:
			s.restarted = true
			s.log.Info("connection lost: restarting ICE", "state", st.Connection)
			if err := s.offer(s.mc.RestartICE); err != nil {
				s.log.Warn("ICE restart", "err", err)
			}
		case st.Connection == media.ConnectionFailed:
			s.log.Warn("connection failed: ending the call")
			s.hangUpWith("failed")
			return
		}
	}
	s.m.publish(s)
}

// setVideo turns the camera on or off.
func (s *callSession) setVideo(on bool) error {
	if s.state == CallEnded {
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
	if s.mc == nil || s.state == CallEnded {
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
	if s.state == CallEnded {
		return
	}
	if s.id != "" {
		s.request(wire.TypeCallEnd, wire.CallRef{Call: s.id})
	}
	outcome := wire.CallOutcome("")
	if s.state != CallActive {
		outcome = wire.OutcomeCancelled
	}
	s.finish(wire.AuthorAgent, reason, outcome)
}

// finish closes the media engine and shows the ended call; the call is then forgotten.
func (s *callSession) finish(by wire.Author, reason string, outcome wire.CallOutcome) {
	if s.state == CallEnded {
		return
	}
	s.state = CallEnded
	s.endedBy, s.reason = by, reason
	if outcome != "" {
		s.outcome = outcome
	}
	s.endedAt = s.m.c.nowMs()
	if s.stopStats != nil {
		close(s.stopStats)
		s.stopStats = nil
	}
	s.closeMonitor("call_ended")
	if s.mc != nil {
		if err := s.mc.Close(); err != nil { // finishes a recording's files
			s.log.Debug("media close", "err", err)
		}
	}
	s.recording = false
	s.uploadSpool()
	s.log.Info("call ended", "outcome", s.outcome, "reason", reason, "by", by)
	s.m.publish(s)
	s.m.clear(s)
	s.q.Close()
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
	if s.state == CallEnded {
		return
	}
	s.signal(wire.CallSignal{Call: s.id, Candidate: wireCandidate(cand)})
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
	everySecond(stop, func() {
		qv := quality(id, mc.Stats(), relay)
		q.Enqueue(func() {
			if s.state != CallEnded {
				if s.mon != nil && s.coach() != "" {
					qv.CoachLevel = round3(s.mon.VoiceLevel())
				}
				s.m.c.events.emit(EventCallQuality, qv)
			}
		})
	})
}

// everySecond calls f once a second, on a goroutine of its own, until stop is closed.
func everySecond(stop <-chan struct{}, f func()) {
	go func() {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				f()
			}
		}
	}()
}

// quality grades a stats snapshot: good up to 150 ms RTT and 2 % loss, fair up to 400 ms and
// 8 %, poor beyond.
func quality(id wire.CallID, st media.Stats, relayed bool) QualityView {
	q := QualityView{
		Call: id, RTTMs: float64(st.RTT) / float64(time.Millisecond), JitterMs: float64(st.Jitter) / float64(time.Millisecond),
		LossPct: st.PacketLoss * 100, SendKbps: st.SendBitrate / 1000, UpKbps: st.UpBitrate / 1000, RecvKbps: st.RecvBitrate / 1000,
		AudioSendKbps: st.AudioSendBitrate / 1000, AudioRecvKbps: st.AudioRecvBitrate / 1000,
		SendFPS: st.SendFPS, RecvFPS: st.RecvFPS, Route: RouteDirect,
	}
	if relayed || st.Relayed {
		q.Route = RouteRelayed
	}
	switch {
	case st.RTT == 0 && st.PacketLoss == 0 && st.RecvBitrate == 0 && st.AudioRecvBitrate == 0 && st.FramesDecoded == 0:
		q.Level = QualityUnknown
	case st.RTT > 400*time.Millisecond || st.PacketLoss > 0.08:
		q.Level = QualityPoor
	case st.RTT > 150*time.Millisecond || st.PacketLoss > 0.02:
		q.Level = QualityFair
	default:
		q.Level = QualityGood
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
		Warnings:  append([]wire.Code(nil), s.warnings...),
		Answering: s.answering, RemoteProblem: s.problem, CustomerNetwork: s.probe,
		Record: s.record, Consent: s.consent, Recording: s.recording,
		Coach: s.coach(), Supervisor: s.supervisor,
	}
	if v.Connection == "" {
		v.Connection = media.ConnectionNew
	}
	if s.mc != nil && s.state != CallEnded {
		v.Video = s.mst.VideoEnabled
		v.RemoteVideoURL, v.SelfVideoURL = s.mc.RemoteVideoURL(), s.mc.SelfVideoURL()
	}
	return v
}
