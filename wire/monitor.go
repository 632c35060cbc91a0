package wire

// Monitoring a call: a supervisor (or admin) of the call's organisation picks an agent's live
// call in the team view and listens (hears both sides; neither is told), whispers (the agent
// also hears the supervisor; the customer does not) or barges in (all three hear each other; the
// customer is told a supervisor joined). Media never passes through the hub: the hub signals a
// second peer connection, the supervisor's leg, between the agent's media engine and the
// supervisor. The agent's engine forwards the customer's and its own encoded audio to it as it
// passes, and takes the supervisor's voice back: to the agent's speaker when whispering or
// barging, and into what the customer receives only when barging. What the customer does not
// hear is never sent to them (docs/monitoring.md).
//
// The flow: the supervisor sends TypeCallMonitor naming the agent and a mode; the hub answers
// with an Ack carrying the monitor id and sends [Monitor] (TypeMonitorState) to the supervisor
// and to the agent, each with their own ICE servers (the call's relay plan: relay-only through
// North America for a GCC organisation). The agent's app offers, the supervisor answers, and
// candidates trickle both ways in TypeMonitorSignal. TypeCallMonitor again changes the mode
// (the same leg goes on), and with Mode "" ends it. The leg ends too when the call ends, or as
// soon as the supervisor's last connection goes: the call itself never notices.
//
// The hub refuses, with these codes: a customer or an agent asking (EFORBIDDEN), a supervisor of
// another organisation or an agent with no live call (ENOTFOUND, the same answer as for a call
// that does not exist), a call that already has a supervisor on it or a supervisor already on
// another call (ECONFLICT), an unknown mode (EINVALID). While a supervisor barges in, the call's
// state says so to both parties ([Call].Supervisor) and the transcript gets a line
// ([EventSupervisorJoined], [EventSupervisorLeft]); listening and whispering leave no trace the
// customer can see.

// MonitorID identifies one supervisor's leg on a call.
type MonitorID string

// MonitorMode is what a supervisor does on a call.
type MonitorMode string

// Monitor modes.
const (
	// MonitorListen: the supervisor hears the customer and the agent; nobody hears them.
	MonitorListen MonitorMode = "listen"
	// MonitorWhisper: the supervisor also speaks to the agent; the customer does not hear it.
	MonitorWhisper MonitorMode = "whisper"
	// MonitorBarge: the supervisor joins the call; all three hear each other.
	MonitorBarge MonitorMode = "barge"
)

// Monitor message types.
const (
	// TypeCallMonitor (supervisor→hub, [CallMonitor]) starts a leg on an agent's live call,
	// changes its mode, or ends it (Mode ""); the Ack carries the monitor id.
	TypeCallMonitor Type = "call.monitor"
	// TypeMonitorState (hub→agent and supervisor, [Monitor]) reports a leg's mode, or its end.
	TypeMonitorState Type = "monitor.state"
	// TypeMonitorSignal (agent↔supervisor through the hub, [MonitorSignal]) carries the leg's
	// SDP descriptions and ICE candidates.
	TypeMonitorSignal Type = "monitor.signal"
)

// Monitor transcript events.
const (
	// EventSupervisorJoined: "A supervisor joined the call" (Name: the supervisor).
	EventSupervisorJoined EventKind = "supervisor_joined"
	// EventSupervisorLeft: "The supervisor left the call".
	EventSupervisorLeft EventKind = "supervisor_left"
	// EventSupervisorListening: "A supervisor is listening to this call" (organisations that
	// require a notice only; Name: the supervisor, which the portal does not show).
	EventSupervisorListening EventKind = "supervisor_listening"
	// EventSupervisorStoppedListening: "The supervisor stopped listening" (after
	// EventSupervisorListening, when the leg ends).
	EventSupervisorStoppedListening EventKind = "supervisor_stopped_listening"
)

// MonitoringSettings is an organisation's monitoring setting: the body of GET (any member) and
// PUT (admins) /api/v1/orgs/{org}/settings/monitoring.
type MonitoringSettings struct {
	// Notice: when a supervisor starts listening or whispering on a call, the customer and the
	// agent are told (a transcript line and [Call].Monitored). Off (the default), only barging in
	// is told.
	Notice bool `json:"notice"`
}

// CallMonitor asks for a leg on Agent's live call in Mode, or ends the supervisor's leg
// (Mode "").
type CallMonitor struct {
	Agent UserID      `json:"agent"`
	Mode  MonitorMode `json:"mode"`
}

// Monitor is a supervisor's leg as its two ends see it.
type Monitor struct {
	ID   MonitorID      `json:"id"`
	Call CallID         `json:"call"`
	Conv ConversationID `json:"conv"`
	// Agent is the agent on the call, Supervisor (and SupervisorName) who listens.
	Agent          UserID      `json:"agent"`
	Supervisor     UserID      `json:"supervisor"`
	SupervisorName string      `json:"supervisor_name"`
	Mode           MonitorMode `json:"mode"`
	// Ended is set when the leg is over; Reason says why: "stopped" (the supervisor), "call_ended",
	// "supervisor_gone" (their last connection went).
	Ended  bool   `json:"ended,omitempty"`
	Reason string `json:"reason,omitempty"`
	// ICE holds the STUN/TURN servers and transport policy for the end receiving this message.
	ICE *ICEConfig `json:"ice,omitempty"`
}

// MonitorSignal carries one SDP description or one ICE candidate of a supervisor's leg.
type MonitorSignal struct {
	Monitor   MonitorID     `json:"monitor"`
	SDP       *SDP          `json:"sdp,omitempty"`
	Candidate *ICECandidate `json:"candidate,omitempty"`
}
