package wire

// Calls: while chatting, the agent escalates to a voice or video call. The hub carries the
// signalling (invite, accept, SDP, trickle ICE, mute and video state) between the agent's Go media
// engine and the customer's browser, and keeps the call's record for handle-time metrics.
//
// The flow: the agent sends TypeCallInvite and gets an Ack with the call id; both sides get
// TypeCallState (ringing) with their own ICE servers; the agent's app sends its offer with
// TypeCallSignal right away, which the hub relays and the portal holds until the customer answers.
// The customer sends TypeCallAnswering when they pick audio or video (the ring timeout stops;
// a device the browser refuses is reported the same way), then TypeCallAccept (with or without
// video) once the browser gave the devices, and then the answer; candidates trickle
// both ways in TypeCallSignal. Either side ends with TypeCallEnd; a declined or unanswered
// (ring timeout) invite ends with that outcome. Mute and video-off travel as TypeCallMedia, since a
// replaced or stopped track fires no event the other side can rely on.
//
// The hub refuses, with these codes: an invite from anyone but the agent who has the active
// conversation, or any call message about a call of another conversation (ENOTFOUND); a second
// call in the conversation while one rings or runs, also a glare invite (ECONFLICT); a kind the
// conversation's setting does not allow, e.g. video when it is voice only (EFORBIDDEN); an accept
// or decline by anyone but the customer, or of a call no longer ringing (EFORBIDDEN, ECONFLICT);
// an SDP over MaxSDPBytes (ETOOLARGE); an SDP that is not one ("v=0" first) or a malformed
// candidate (EINVALID). While a call rings or runs it takes all the agent's remaining capacity.
// A party whose connections are all gone for longer than a grace period (15 s by default), or
// the conversation ending, ends the call with Reason "disconnected" or "conversation_ended".
// The transcript gets system lines with an [Event]: call_started, call_ended, call_declined,
// call_missed, call_cancelled, call_failed.

// CallID identifies one call within a conversation.
type CallID string

// CallKind is what the agent asked for.
type CallKind string

// Call kinds.
const (
	CallVoice CallKind = "voice"
	CallVideo CallKind = "video"
)

// CallsAllowed is an organisation's (or queue's) setting for which calls agents may start.
type CallsAllowed string

// Call settings.
const (
	CallsVoiceVideo CallsAllowed = "voice_video"
	CallsVoiceOnly  CallsAllowed = "voice"
	CallsNone       CallsAllowed = "none"
)

// CallState is where a call is in its life.
type CallState string

// Call states.
const (
	CallRinging CallState = "ringing"
	CallActive  CallState = "active"
	CallEnded   CallState = "ended"
)

// CallOutcome is how a call went, for the supervisor's metrics.
type CallOutcome string

// Call outcomes.
const (
	OutcomeAcceptedAudio CallOutcome = "accepted_audio"
	OutcomeAcceptedVideo CallOutcome = "accepted_video"
	OutcomeDeclined      CallOutcome = "declined"
	OutcomeMissed        CallOutcome = "missed"
	OutcomeCancelled     CallOutcome = "cancelled"
	OutcomeFailed        CallOutcome = "failed"
)

// Call message types.
const (
	// TypeCallInvite (agent→hub, [CallInvite]) starts ringing the customer; the Ack carries the
	// call id.
	TypeCallInvite Type = "call.invite"
	// TypeCallState (hub→agent and customer, [Call]) reports a call's new state.
	TypeCallState Type = "call.state"
	// TypeCallAccept (customer→hub, [CallAccept]) answers the call, with or without video.
	TypeCallAccept Type = "call.accept"
	// TypeCallAnswering (customer→hub, [CallAnswering]) says the customer answered and their
	// browser is getting the microphone (and camera), or could not: the call no longer rings out,
	// and the agent is told what holds it up.
	TypeCallAnswering Type = "call.answering"
	// TypeCallDecline (customer→hub, [CallRef]) refuses the call.
	TypeCallDecline Type = "call.decline"
	// TypeCallEnd (agent or customer→hub, [CallRef]) hangs up, or cancels a ringing call.
	TypeCallEnd Type = "call.end"
	// TypeCallSignal (both ways, [CallSignal]) carries an SDP description or an ICE candidate to
	// the other side.
	TypeCallSignal Type = "call.signal"
	// TypeCallMedia (both ways, [CallMedia]) tells the other side about mute and video state.
	TypeCallMedia Type = "call.media"
	// TypeCallProbe (customer→hub, [CallRef]) asks, while the call rings, for the relays of the
	// customer's network probe: the Ack's ICE holds them, with credentials for the probe only.
	TypeCallProbe Type = "call.probe"
	// TypeCallProbeResult (customer→hub, [CallProbe]) reports the probe's figures; the agent
	// sees them, graded by the hub, in call.state ([Call].Probe).
	TypeCallProbeResult Type = "call.probe_result"
)

// CallInvite asks the hub to ring the customer of Conv.
type CallInvite struct {
	Conv ConversationID `json:"conv"`
	Kind CallKind       `json:"kind"`
}

// CallRef names a call.
type CallRef struct {
	Call CallID `json:"call"`
}

// CallAccept answers a ringing call.
type CallAccept struct {
	Call CallID `json:"call"`
	// Video is true when the customer accepted with video.
	Video bool `json:"video"`
	// Record is the customer's consent to recording the call (wire/recording.go); a call of
	// an organisation that always records is refused without it (ENOCONSENT).
	Record bool `json:"record,omitempty"`
}

// CallAnswering is the customer's answer in progress: they chose audio or video and their
// browser is asking for the devices.
type CallAnswering struct {
	Call  CallID `json:"call"`
	Video bool   `json:"video"`
	// Problem is why the browser has no device yet, device and reason: "camera_denied",
	// "camera_missing", "camera_other", "microphone_denied", "microphone_missing",
	// "microphone_other"; "" while it asks.
	Problem string `json:"problem,omitempty"`
}

// Call is the state of one call, as each party sees it.
type Call struct {
	ID    CallID         `json:"id"`
	Conv  ConversationID `json:"conv"`
	Kind  CallKind       `json:"kind"`
	State CallState      `json:"state"`
	// Outcome is set once the customer answered or the call ended without an answer.
	Outcome CallOutcome `json:"outcome,omitempty"`
	// EndedBy says who hung up, when State is ended.
	EndedBy Author `json:"ended_by,omitempty"`
	// Reason is a short code for why the call ended: "hangup" (answered, then ended),
	// "cancelled" (the agent hung up while it rang), "declined", "ring_timeout", "disconnected"
	// (a party's connection stayed gone past the grace period), "conversation_ended".
	Reason string `json:"reason,omitempty"`
	// ICE holds the STUN/TURN servers and transport policy for the party receiving this message.
	ICE *ICEConfig `json:"ice,omitempty"`
	// Answering is true once the customer answered a ringing call (call.answering) and their
	// browser is getting the devices; Problem is what holds it up (CallAnswering.Problem).
	Answering bool   `json:"answering,omitempty"`
	Problem   string `json:"problem,omitempty"`
	// Allowed is the conversation's call setting (organisation, or queue override), so the
	// customer is offered only what it permits: no "accept with video" when it is voice only.
	// Empty means not stated.
	Allowed CallsAllowed `json:"allowed,omitempty"`
	// Record is the organisation's recording setting at the invite ("" when off), so the
	// customer is asked, or told, before answering; Consent is their answer and Recording
	// whether a recording runs now (both sides show it the whole time).
	Record    RecordingMode `json:"record,omitempty"`
	Consent   bool          `json:"consent,omitempty"`
	Recording bool          `json:"recording,omitempty"`
	// Supervisor is the name of a supervisor who barged into the call ("" when none): both
	// parties show that a supervisor joined (wire/monitor.go). Listening and whispering leave it
	// empty.
	Supervisor string `json:"supervisor,omitempty"`
	// Monitored is set while a supervisor listens or whispers on a call of an organisation that
	// requires a notice ([MonitoringSettings].Notice): both parties show it. It is never set
	// otherwise.
	Monitored bool `json:"monitored,omitempty"`
	// Probe is the customer's network probe while the call rang (call.probe_result), graded by
	// the hub; nil before one reports.
	Probe *CallProbe `json:"probe,omitempty"`
	// Times are Unix milliseconds; zero when not yet.
	CreatedAt  int64 `json:"created_at"`
	AnsweredAt int64 `json:"answered_at,omitempty"`
	EndedAt    int64 `json:"ended_at,omitempty"`
}

// The customer's network probe: while a call rings, the portal asks for probe credentials
// (call.probe), connects two peer connections of its own to each other through the relay with
// them (relay-only), times a few data-channel pings through it and reports (call.probe_result).
// The credentials name a network test's id (hub/relay.TestIDPrefix): they last two minutes, on
// the embedded relay they relay only between the probe's own allocations, and they are revoked
// when the call stops ringing. A customer gets a few per call and their address a few per
// minute (hub.Limits); the relays are the organisation's, chosen by its region as a call's are.

// Probe grades ([CallProbe].Status), set by the hub from the figures.
const (
	ProbeGood   = "good"
	ProbeWeak   = "weak"
	ProbeFailed = "failed"
)

// Probe thresholds: a round trip through the relay at or over ProbeWeakRTTMs, a loss at or over
// ProbeWeakLossPct, or a relay reached over TCP only (UDP blocked) makes a probe weak.
const (
	ProbeWeakRTTMs   = 300
	ProbeWeakLossPct = 10
)

// CallProbe is the customer's network probe result.
type CallProbe struct {
	Call CallID `json:"call"`
	// Reached is true when the browser's two peer connections connected through the relay.
	Reached bool `json:"reached"`
	// RTTMs is the median round trip of the pings through the relay, milliseconds.
	RTTMs int `json:"rtt_ms"`
	// LossPct is the share of pings that never came back, percent.
	LossPct int `json:"loss_pct"`
	// Transport is how the browser reached the relay: "udp", "tcp" or "tls"; "" when not reached.
	Transport string `json:"transport,omitempty"`
	// Status is the hub's grade: ProbeGood, ProbeWeak or ProbeFailed (ignored from the customer).
	Status string `json:"status,omitempty"`
	// At is when the hub received it, Unix milliseconds (set by the hub).
	At int64 `json:"at,omitempty"`
}

// ICEConfig is what a party's peer connection needs to reach the other: the servers, with
// short-lived TURN credentials, and whether only relayed candidates may be used.
type ICEConfig struct {
	Servers []ICEServer `json:"servers"`
	// Policy is "all" or "relay" (the browser's RTCIceTransportPolicy).
	Policy string `json:"policy"`
}

// ICEServer is one STUN or TURN server, in the browser's RTCIceServer shape.
type ICEServer struct {
	URLs       []string `json:"urls"`
	Username   string   `json:"username,omitempty"`
	Credential string   `json:"credential,omitempty"`
}

// CallSignal carries one SDP description or one ICE candidate.
type CallSignal struct {
	Call      CallID        `json:"call"`
	SDP       *SDP          `json:"sdp,omitempty"`
	Candidate *ICECandidate `json:"candidate,omitempty"`
	// From is filled by the hub.
	From Author `json:"from,omitempty"`
}

// SDP is a session description, in the browser's RTCSessionDescriptionInit shape.
type SDP struct {
	// Type is "offer" or "answer".
	Type string `json:"type"`
	SDP  string `json:"sdp"`
}

// ICECandidate is one trickled candidate, in the browser's RTCIceCandidateInit shape. An empty
// Candidate marks the end of gathering.
type ICECandidate struct {
	Candidate     string  `json:"candidate"`
	SDPMid        *string `json:"sdpMid,omitempty"`
	SDPMLineIndex *int    `json:"sdpMLineIndex,omitempty"`
}

// CallMedia is one party's mute and video state. The hub fills From.
type CallMedia struct {
	Call  CallID `json:"call"`
	Muted bool   `json:"muted"`
	Video bool   `json:"video"`
	From  Author `json:"from,omitempty"`
}

// CallSettings is an organisation's call configuration: the body of GET (any member) and PUT
// (admins) /api/v1/orgs/{org}/settings/calls, with the member's token as Bearer.
type CallSettings struct {
	Calls CallsAllowed `json:"calls"`
	// Region is where the organisation's calls may be relayed: a geography ("na", "eu"...), or
	// "gcc" for the government cloud (relay-only, through North-American relays).
	Region string `json:"region"`
}

// Limits of call signalling.
const (
	// MaxSDPBytes is the largest SDP the hub relays.
	MaxSDPBytes = 12 << 10
)
