// Package wire defines the messages that the hub, the agent app and the customer portal exchange,
// so that the three never drift apart. The TypeScript twin, web/wire.gen.ts, is generated from it
// (go generate ./wire) and checked by TestTypeScriptIsCurrent.
//
// Every WebSocket frame is one JSON [Envelope]. A client opens with [TypeHello]; the hub answers
// [TypeWelcome] or an [TypeError] and closes. Requests carry a client-chosen RID; the hub answers each
// with [TypeAck] or [TypeError] carrying the same RID. Everything else the hub sends is an event.
package wire

//go:generate go run ./cmd/wiregen -o ../web/wire.gen.ts

import "encoding/json"

// Typed identifiers, so a bare string is never ambiguous.
type (
	// OrgID names an organisation, e.g. "demo". It appears in portal URLs.
	OrgID string
	// UserID identifies an agent, supervisor or admin.
	UserID string
	// ConversationID identifies one chat between a customer and the organisation.
	ConversationID string
	// OfferID identifies one offer of a waiting conversation to one agent.
	OfferID string
)

// Role is what a connection is allowed to do.
type Role string

// Roles.
const (
	RoleCustomer   Role = "customer"
	RoleAgent      Role = "agent"
	RoleSupervisor Role = "supervisor"
	RoleAdmin      Role = "admin"
)

// Presence is an agent's availability. Only available agents are offered conversations.
type Presence string

// Presence values.
const (
	PresenceAvailable Presence = "available"
	PresenceBusy      Presence = "busy"
	PresenceAway      Presence = "away"
	PresenceOffline   Presence = "offline"
)

// ConvState is where a conversation is in its life.
type ConvState string

// Conversation states.
const (
	// ConvWaiting: in the organisation's queue (or offered), no agent yet.
	ConvWaiting ConvState = "waiting"
	// ConvActive: an agent has it.
	ConvActive ConvState = "active"
	// ConvEnded: the agent ended it or the customer left; the transcript is kept.
	ConvEnded ConvState = "ended"
)

// Author says who wrote a chat message.
type Author string

// Authors.
const (
	AuthorCustomer Author = "customer"
	AuthorAgent    Author = "agent"
	AuthorSystem   Author = "system"
)

// ReceiptKind is a delivery marker.
type ReceiptKind string

// Receipt kinds.
const (
	ReceiptDelivered ReceiptKind = "delivered"
	ReceiptRead      ReceiptKind = "read"
)

// Limits enforced by the hub and announced in [Welcome].
const (
	// MaxTextBytes is the largest chat message text, in UTF-8 bytes.
	MaxTextBytes = 4000
	// MaxNameBytes is the largest customer display name, in UTF-8 bytes.
	MaxNameBytes = 80
	// MaxFrameBytes is the largest WebSocket frame a client may send.
	MaxFrameBytes = 16 << 10
)

// Type names a message.
type Type string

// Message types. The comment says who sends it, and the payload type.
const (
	// TypeHello (client→hub, [Hello]) authenticates the connection; it must be the first frame.
	TypeHello Type = "hello"
	// TypeWelcome (hub→client, [Welcome]) accepts the connection.
	TypeWelcome Type = "welcome"
	// TypeAck (hub→client, [Ack]) answers a request that succeeded.
	TypeAck Type = "ack"
	// TypeError (hub→client, [Error]) answers a request that failed, or reports a bad frame.
	TypeError Type = "error"
	// TypePing (client→hub, no payload) is answered with an Ack; clients use it to detect dead links.
	TypePing Type = "ping"

	// TypeChatSend (client→hub, [ChatSend]) posts a message. It is stored before it is acknowledged.
	TypeChatSend Type = "chat.send"
	// TypeChatMessage (hub→client, [Message]) is a stored message, live or replayed.
	TypeChatMessage Type = "chat.message"
	// TypeChatTyping (both ways, [Typing]) tells the other party someone is typing.
	TypeChatTyping Type = "chat.typing"
	// TypeChatReceipt (both ways, [Receipt]) marks messages up to Seq delivered or read.
	TypeChatReceipt Type = "chat.receipt"
	// TypeSync (client→hub, [Sync]) asks for the messages after a sequence number. The hub answers
	// with up to 200 [TypeChatMessage] frames carrying the request's RID (so they are told apart
	// from live messages), then an [Ack] whose Seq is the last one sent (After when none).
	TypeSync Type = "sync"

	// TypeConvState (hub→client, [Conversation]) reports a conversation's new state.
	TypeConvState Type = "conv.state"
	// TypeQueuePosition (hub→customer, [QueuePosition]) reports the customer's place in the queue.
	TypeQueuePosition Type = "queue.position"
	// TypeConvEnd (agent→hub, [ConvRef]) ends a conversation: the End button.
	TypeConvEnd Type = "conv.end"
	// TypeConvLeave (customer→hub, [ConvRef]) leaves the conversation.
	TypeConvLeave Type = "conv.leave"

	// TypePresenceSet (agent→hub, [PresenceSet]) changes the agent's presence.
	TypePresenceSet Type = "presence.set"
	// TypeAgentState (hub→agent, [AgentState]) reports the agent's presence and load.
	TypeAgentState Type = "agent.state"
	// TypeOffer (hub→agent, [Offer]) offers a waiting conversation, until ExpiresAt.
	TypeOffer Type = "offer"
	// TypeOfferAccept (agent→hub, [OfferRef]) takes an offer; the conversation becomes active.
	TypeOfferAccept Type = "offer.accept"
	// TypeOfferDecline (agent→hub, [OfferRef]) refuses an offer; it moves on to another agent.
	TypeOfferDecline Type = "offer.decline"
	// TypeAgentSignOut (agent→hub, no payload) signs the agent out of routing before the
	// connection closes: they are offline at once and their conversations go back to the queue.
	TypeAgentSignOut Type = "agent.sign_out"
	// TypeOfferRevoked (hub→agent, [OfferRevoked]) withdraws an offer (timed out, customer left).
	TypeOfferRevoked Type = "offer.revoked"

	// TypeSupervisorSnapshot (hub→supervisor, [Snapshot]) lists the organisation's agents and
	// open conversations; sent on connect and whenever they change.
	TypeSupervisorSnapshot Type = "supervisor.snapshot"
	// TypeSupervisorAssign (supervisor→hub, [Assign]) gives a conversation to an agent, even one at
	// capacity.
	TypeSupervisorAssign Type = "supervisor.assign"
	// TypeSupervisorWatch (supervisor→hub, [Watch]) starts or stops following one conversation
	// live while its transcript is open; one at a time per connection. The hub answers with a
	// [Watched] frame at once and on every change.
	TypeSupervisorWatch Type = "supervisor.watch"
	// TypeSupervisorWatched (hub→supervisor, [Watched]) says who is typing in the followed
	// conversation and the seq of its last message.
	TypeSupervisorWatched Type = "supervisor.watched"
)

// Envelope is one WebSocket frame.
type Envelope struct {
	// Type says what Data holds.
	Type Type `json:"type"`
	// RID is the request id a client chose; the hub echoes it in the Ack or Error that answers.
	RID string `json:"rid,omitempty"`
	// Data is the payload, one of the types in this package.
	Data json.RawMessage `json:"data,omitempty"`
}

// Hello authenticates a WebSocket connection.
type Hello struct {
	// Token is an agent's login token or a customer's conversation token.
	Token string `json:"token"`
	// Resume maps conversations to the last sequence number this client has; the hub replays
	// what came after, so a reconnect loses nothing and doubles nothing.
	Resume map[ConversationID]int64 `json:"resume,omitempty"`
}

// Welcome accepts a connection.
type Welcome struct {
	Role Role `json:"role"`
	// User is the signed-in agent, supervisor or admin; nil for customers.
	User *User `json:"user,omitempty"`
	// Conversations are the connection's open conversations: the customer's one, or the agent's
	// active ones.
	Conversations []Conversation `json:"conversations"`
	// MaxTextBytes is the largest message text the hub accepts.
	MaxTextBytes int `json:"max_text_bytes"`
	// ServerTime is the hub's clock, Unix milliseconds, so clients can show countdowns.
	ServerTime int64 `json:"server_time"`
}

// User is an organisation member.
type User struct {
	ID          UserID `json:"id"`
	Org         OrgID  `json:"org"`
	Username    string `json:"username"`
	DisplayName string `json:"display_name"`
	Role        Role   `json:"role"`
}

// Ack answers a successful request.
type Ack struct {
	// Conv and Seq are set when the request stored a message.
	Conv ConversationID `json:"conv,omitempty"`
	Seq  int64          `json:"seq,omitempty"`
	// Call is set when the request started a call (call.invite).
	Call CallID `json:"call,omitempty"`
	// Visual is set when the request started a visual engagement (visual.invite).
	Visual VisualID `json:"visual,omitempty"`
	// Monitor is set when the request started a supervisor's leg on a call (call.monitor).
	Monitor MonitorID `json:"monitor,omitempty"`
	// ICE is set when the request asked for a network probe's relays (call.probe).
	ICE *ICEConfig `json:"ice,omitempty"`
}

// Error is the one error type of Parley's edges: a code a UI maps to a translated sentence, and a
// message for logs and developers. It travels as the payload of [TypeError] and as the body of a
// failed HTTP request.
type Error struct {
	Code    Code   `json:"code"`
	Message string `json:"message"`
}

// Code classifies an [Error].
type Code string

// Error codes.
const (
	EINVALID      Code = "EINVALID"      // malformed or unacceptable input
	ETOOLARGE     Code = "ETOOLARGE"     // a message or frame over the limit
	EUNAUTHORIZED Code = "EUNAUTHORIZED" // missing, wrong or expired credentials
	EFORBIDDEN    Code = "EFORBIDDEN"    // authenticated, but not allowed to do this
	ENOTFOUND     Code = "ENOTFOUND"     // no such conversation, offer, user or organisation
	ECONFLICT     Code = "ECONFLICT"     // not possible in the current state (e.g. ended conversation)
	EUNKNOWNTYPE  Code = "EUNKNOWNTYPE"  // a message type the hub does not know
	EINTERNAL     Code = "EINTERNAL"     // the hub failed; nothing the client did
	EUNAVAILABLE  Code = "EUNAVAILABLE"  // the hub or a dependency cannot serve now; try again
	ERATELIMITED  Code = "ERATELIMITED"  // sending faster than the hub accepts from one customer, account or address; slow down
	ETOOMANY      Code = "ETOOMANY"      // too many connections at once for one conversation, account or address
	EWEAKPASSWORD Code = "EWEAKPASSWORD" // a new password is too short, or common or known breached
	ELINKEXPIRED  Code = "ELINKEXPIRED"  // a setup link that has expired
	ELINKUSED     Code = "ELINKUSED"     // a setup link that was used already (each works once)
	EDISABLED     Code = "EDISABLED"     // the member's account is disabled by an admin
	ESSOREQUIRED  Code = "ESSOREQUIRED"  // the organisation signs in with its identity provider only
	EDOMAIN       Code = "EDOMAIN"       // the identity provider's account is outside the allowed email domains
	ELASTADMIN    Code = "ELASTADMIN"    // the change would leave the organisation without an active admin
)

// ChatSend posts a chat message.
type ChatSend struct {
	Conv ConversationID `json:"conv"`
	Text string         `json:"text"`
	// ClientID is unique per message from this client; a resend after a reconnect with the same
	// ClientID is acknowledged with the original sequence number instead of being stored twice.
	ClientID string `json:"client_id"`
	// Internal makes the message an internal note: the assigned agent and those reading along
	// see it, the customer never does. Readers along may write only internal notes.
	Internal bool `json:"internal,omitempty"`
}

// Message is a stored chat message.
type Message struct {
	Conv       ConversationID `json:"conv"`
	Seq        int64          `json:"seq"`
	Author     Author         `json:"author"`
	AuthorName string         `json:"author_name"`
	Text       string         `json:"text"`
	ClientID   string         `json:"client_id,omitempty"`
	// At is when the hub stored it, Unix milliseconds.
	At int64 `json:"at"`
	// Event is the machine-readable form of a system line (Author system), so a UI can show it
	// in the reader's language; Text stays the English fallback. Nil for chat messages and for
	// system lines stored before events existed.
	Event *Event `json:"event,omitempty"`
	// Internal marks an internal note or an internal system line (a transfer's note, who was
	// invited to read along): never sent to a customer.
	Internal bool `json:"internal,omitempty"`
}

// EventKind says what a system line reports.
type EventKind string

// System line events. The comment gives the English Text the hub stores with each.
const (
	// EventJoined: "Agent One joined the conversation." (Name is the agent's).
	EventJoined EventKind = "joined"
	// EventLeft: "The customer left the conversation."
	EventLeft EventKind = "left"
	// EventEnded: "Agent One ended the conversation." (Name is the agent's).
	EventEnded EventKind = "ended"
	// EventCallStarted: "Voice call started" or "Video call started" (CallKind is what the
	// customer accepted: video only when they accepted with video).
	EventCallStarted EventKind = "call_started"
	// EventCallEnded: "Call ended · 4:12" (DurationMS from answer to end).
	EventCallEnded EventKind = "call_ended"
	// EventCallDeclined: "Call declined".
	EventCallDeclined EventKind = "call_declined"
	// EventCallMissed: "Missed call" (the customer did not answer in time).
	EventCallMissed EventKind = "call_missed"
	// EventCallCancelled: "Call cancelled" (hung up before the customer answered).
	EventCallCancelled EventKind = "call_cancelled"
	// EventCallFailed: "Call failed" (a party dropped before it was answered).
	EventCallFailed EventKind = "call_failed"
	// EventRequeued: "Agent One is no longer available; the conversation is back in the queue."
	// (Name is the agent's): an admin disabled the agent, or the agent's session was ended.
	EventRequeued EventKind = "requeued"
	// EventCustomerGone: "The customer has left the chat." (no connection for a while; the
	// conversation stays open).
	EventCustomerGone EventKind = "customer_gone"
	// EventCustomerBack: "The customer is back."
	EventCustomerBack EventKind = "customer_back"
	// EventIdleClosed: "Closed after inactivity."
	EventIdleClosed EventKind = "idle_closed"
	// EventSupervisorClosed: "A supervisor closed the conversation." (Name is the supervisor's).
	EventSupervisorClosed EventKind = "supervisor_closed"
	// EventTransferred: "Transferring you to Billing." (Queue is the queue's name), or
	// "Transferring you to another agent." (no Queue). The customer's one line about a transfer.
	EventTransferred EventKind = "transferred"
	// EventTransferNote (internal): "Agent One transferred the conversation to Billing: note"
	// (Name the agent's, Target where it went, Note theirs).
	EventTransferNote EventKind = "transfer_note"
	// EventConsultInvited (internal): "Agent One invited Supervisor One to read along." (Name the
	// inviter's, Target the invitee's, Note theirs).
	EventConsultInvited EventKind = "consult_invited"
	// EventConsultLeft (internal): "Supervisor One stopped reading along." (Name theirs).
	EventConsultLeft EventKind = "consult_left"
	// EventMessageLeft: "The customer left a message." The conversation waits for the next
	// agent though the customer may have gone.
	EventMessageLeft EventKind = "message_left"
)

// Event is what a system line reports, with the values a translation needs.
type Event struct {
	Kind EventKind `json:"kind"`
	// Name is the agent's display name, for joined and ended.
	Name string `json:"name,omitempty"`
	// CallKind is the call's kind, for call events.
	CallKind CallKind `json:"call_kind,omitempty"`
	// DurationMS is how long the call lasted from its answer, for call_ended.
	DurationMS int64 `json:"duration_ms,omitempty"`
	// Queue is a queue's name, for transferred.
	Queue string `json:"queue,omitempty"`
	// Target is the other member's name or the queue's, for transfer_note and consult_invited.
	Target string `json:"target,omitempty"`
	// Note is the agent's note, for transfer_note and consult_invited.
	Note string `json:"note,omitempty"`
}

// Typing says whether someone is typing in a conversation. The hub fills Author.
type Typing struct {
	Conv   ConversationID `json:"conv"`
	Typing bool           `json:"typing"`
	Author Author         `json:"author,omitempty"`
}

// Receipt marks every message up to and including Seq as delivered or read by the other party.
// The hub fills By.
type Receipt struct {
	Conv ConversationID `json:"conv"`
	Seq  int64          `json:"seq"`
	Kind ReceiptKind    `json:"kind"`
	By   Author         `json:"by,omitempty"`
}

// Sync asks for the messages of Conv after sequence number After.
type Sync struct {
	Conv  ConversationID `json:"conv"`
	After int64          `json:"after"`
}

// ConvRef names a conversation.
type ConvRef struct {
	Conv ConversationID `json:"conv"`
}

// Conversation is the state of one conversation.
type Conversation struct {
	ID           ConversationID `json:"id"`
	Org          OrgID          `json:"org"`
	State        ConvState      `json:"state"`
	CustomerName string         `json:"customer_name"`
	AgentID      UserID         `json:"agent_id,omitempty"`
	AgentName    string         `json:"agent_name,omitempty"`
	// LastSeq is the sequence number of the newest message.
	LastSeq int64 `json:"last_seq"`
	// QueuePosition is 1 for the next conversation to be offered; 0 when not waiting.
	QueuePosition int `json:"queue_position,omitempty"`
	// Times are Unix milliseconds; zero when not yet.
	CreatedAt  int64 `json:"created_at"`
	AcceptedAt int64 `json:"accepted_at,omitempty"`
	EndedAt    int64 `json:"ended_at,omitempty"`
	// EndedBy says who ended it: the agent (End), the customer (left), or the hub (system: closed
	// after inactivity or by a supervisor).
	EndedBy Author `json:"ended_by,omitempty"`
	// EndReason says why it ended, and Outcome whether it was resolved or abandoned (presence.go).
	EndReason EndReason   `json:"end_reason,omitempty"`
	Outcome   ConvOutcome `json:"outcome,omitempty"`
	// Customer is whether the customer is here, away or gone, since CustomerSince (Unix ms).
	Customer      CustomerPresence `json:"customer,omitempty"`
	CustomerSince int64            `json:"customer_since,omitempty"`
	// ActivityAt is when someone last wrote, or the agent chose to keep it open (Unix ms).
	ActivityAt int64 `json:"activity_at,omitempty"`
	// ClosesAt is when the hub will close it for inactivity (Unix ms); 0 while none is due.
	// CloseWarning is set from a minute before: the agent may keep it open (TypeConvKeep).
	ClosesAt     int64 `json:"closes_at,omitempty"`
	CloseWarning bool  `json:"close_warning,omitempty"`
	// Calls is which calls the agent may start in this conversation: the organisation's setting,
	// or its queue's override. Empty when not stated (older hubs).
	Calls CallsAllowed `json:"calls,omitempty"`
	// Queue is the queue the conversation is in (or was taken from); QueueName its name.
	Queue     QueueID `json:"queue,omitempty"`
	QueueName string  `json:"queue_name,omitempty"`
	// QueuedAt is when it last joined a queue (at the start, or at a transfer), Unix ms.
	QueuedAt int64 `json:"queued_at,omitempty"`
	// Message is true once the customer left a message instead of waiting: it stays queued
	// for the next agent whether or not the customer is still there. Contact is how to reach
	// them, if they said.
	Message bool   `json:"message,omitempty"`
	Contact string `json:"contact,omitempty"`
	// The fields below are for members only: the hub clears them in every frame to a customer.
	//
	// Skills are what the agent who takes it needs (the queue's and the pre-chat answer's).
	Skills []Skill `json:"skills,omitempty"`
	// Transfer is its last transfer, with the note for the next agent.
	Transfer *TransferInfo `json:"transfer,omitempty"`
	// Consultants are the members reading along.
	Consultants []MemberRef `json:"consultants,omitempty"`
	// Visual is the queue's visual engagement providers when they differ from the
	// organisation's (TypeVisualSettings); nil otherwise.
	Visual *VisualSettings `json:"visual,omitempty"`
	// WrapCode and WrapNote are the agent's wrap-up after the end (wrapup.go): the outcome code
	// and a note. WrapMS is the wrap-up time, counted in the handle time.
	WrapCode string `json:"wrap_code,omitempty"`
	WrapNote string `json:"wrap_note,omitempty"`
	WrapMS   int64  `json:"wrap_ms,omitempty"`
	// Preview is the customer's first message (up to 140 bytes), in the supervisor's snapshot
	// only: the waiting list shows what each customer asked.
	Preview string `json:"preview,omitempty"`
}

// QueuePosition reports a waiting customer's place in the queue (1 = next).
type QueuePosition struct {
	Conv     ConversationID `json:"conv"`
	Position int            `json:"position"`
	// Queue is the queue the customer waits in.
	Queue QueueID `json:"queue,omitempty"`
	// EstimatedWaitMS is the expected wait from the queue's recent handling rate; 0 means too
	// little data (the portal says "a few minutes").
	EstimatedWaitMS int64 `json:"estimated_wait_ms,omitempty"`
	// Overflow is true once the customer has waited the queue's maximum: the portal offers to
	// leave a message instead.
	Overflow bool `json:"overflow,omitempty"`
	// NobodyAvailable is true while no agent of the queue is online and available (all away,
	// busy or signed out): the portal says so and offers to leave a message.
	NobodyAvailable bool `json:"nobody_available,omitempty"`
}

// PresenceSet changes the agent's presence.
type PresenceSet struct {
	Presence Presence `json:"presence"`
}

// AgentState is an agent's presence and load.
type AgentState struct {
	Presence Presence `json:"presence"`
	// Load is the capacity units in use (a chat is 1); Capacity is the agent's total.
	Load     int `json:"load"`
	Capacity int `json:"capacity"`
	// OnCall is true while the agent has a call (from invite to end); the call takes all their
	// remaining capacity, so Load equals Capacity then (or exceeds it, after a supervisor assigns).
	OnCall bool `json:"on_call,omitempty"`
	// WrapUp are the ended conversations the agent is wrapping up: routing offers no new chat
	// until they are done or their time is up (wrapup.go). WrapCodes are the organisation's
	// outcome codes to choose from.
	WrapUp    []WrapUpDue `json:"wrap_up,omitempty"`
	WrapCodes []WrapCode  `json:"wrap_codes,omitempty"`
	// Waiting counts the customers waiting in the agent's queues while the agent is away or busy
	// (an available agent is offered them instead).
	Waiting int `json:"waiting,omitempty"`
}

// Offer offers a waiting conversation to an agent.
type Offer struct {
	ID           OfferID        `json:"id"`
	Conv         ConversationID `json:"conv"`
	CustomerName string         `json:"customer_name"`
	// Preview is the customer's first message, if any.
	Preview string `json:"preview,omitempty"`
	// ExpiresAt is when the offer moves on to another agent, Unix milliseconds.
	ExpiresAt int64 `json:"expires_at"`
	// Queue and QueueName say which queue it comes from.
	Queue     QueueID `json:"queue,omitempty"`
	QueueName string  `json:"queue_name,omitempty"`
	// Transfer is set when another agent transferred it: their note comes first.
	Transfer *TransferInfo `json:"transfer,omitempty"`
	// Message is true for a left message (the customer may have gone).
	Message bool `json:"message,omitempty"`
}

// OfferRef names an offer.
type OfferRef struct {
	Offer OfferID `json:"offer"`
}

// OfferRevoked withdraws an offer.
type OfferRevoked struct {
	Offer OfferID `json:"offer"`
	// Reason is "timeout", "declined", "assigned", "left", or "call" (the agent started a call).
	Reason string `json:"reason"`
	// Next says where a timed-out or call-withdrawn conversation went: "agent" (offered to
	// another agent) or "queue" (waiting for the next free one).
	Next string `json:"next,omitempty"`
}

// Snapshot is the supervisor's view of an organisation.
type Snapshot struct {
	Agents        []AgentSummary `json:"agents"`
	Conversations []Conversation `json:"conversations"`
	// Stats are the handle-time figures of the conversations that ended lately.
	Stats Stats `json:"stats"`
	// Queues are each queue's waiting-time figures, in the admin's order.
	Queues []QueueStats `json:"queues"`
}

// Stats sum up the conversations of an organisation that ended since SinceMS (the last 24 hours):
// handle times over those an agent accepted, outcomes over all. Handle time runs from the agent's
// accept to the end.
type Stats struct {
	// SinceMS is the start of the window, Unix milliseconds.
	SinceMS int64 `json:"since_ms"`
	// WithCall counts the conversations with at least one answered call; WithoutCall the others.
	WithCall    int `json:"with_call"`
	WithoutCall int `json:"without_call"`
	// AHTWithCallMS and AHTWithoutCallMS are the average handle times, in milliseconds, of each
	// group; 0 when the group is empty.
	AHTWithCallMS    int64 `json:"aht_with_call_ms"`
	AHTWithoutCallMS int64 `json:"aht_without_call_ms"`
	// Calls counts the calls that ended in the window, by outcome.
	Calls map[CallOutcome]int `json:"calls"`
	// AvgCallMS is the average duration of the answered calls among them (answer to end).
	AvgCallMS int64 `json:"avg_call_ms"`
	// Resolved and Abandoned count the conversations that ended in the window by outcome
	// (presence.go); AutoClosed those of them the hub closed after inactivity.
	Resolved   int `json:"resolved"`
	Abandoned  int `json:"abandoned"`
	AutoClosed int `json:"auto_closed"`
}

// AgentSummary is one agent's line in the supervisor view.
type AgentSummary struct {
	ID          UserID   `json:"id"`
	DisplayName string   `json:"display_name"`
	Presence    Presence `json:"presence"`
	Load        int      `json:"load"`
	Capacity    int      `json:"capacity"`
	Online      bool     `json:"online"`
	// OnCall is true while the agent has a call.
	OnCall bool `json:"on_call"`
	// Queues are the queues the agent takes conversations from; Skills their skills.
	Queues []QueueID `json:"queues,omitempty"`
	Skills []Skill   `json:"skills,omitempty"`
	// IdleSinceMS is when the agent's load last dropped, Unix ms (routing's tie-break).
	IdleSinceMS int64 `json:"idle_since_ms,omitempty"`
	// Setup is the agent's last "Test my setup" (kept across restarts); nil for none.
	Setup *SetupResult `json:"setup,omitempty"`
}

// Assign gives a conversation to an agent.
type Assign struct {
	Conv  ConversationID `json:"conv"`
	Agent UserID         `json:"agent"`
}

// Watch starts (On) or stops following a conversation live, for a supervisor reading it.
type Watch struct {
	Conv ConversationID `json:"conv"`
	On   bool           `json:"on"`
}

// Watched is the live state of a followed conversation: who is typing now, and the seq of its
// last message (a reader fetches what is new from the history).
type Watched struct {
	Conv           ConversationID `json:"conv"`
	CustomerTyping bool           `json:"customer_typing"`
	AgentTyping    bool           `json:"agent_typing"`
	LastSeq        int64          `json:"last_seq"`
}

// HTTP API, under /api/v1. Failures answer with an [Error] body and a matching status.

// LoginRequest is the body of POST /api/v1/login.
type LoginRequest struct {
	Org      OrgID  `json:"org"`
	Username string `json:"username"`
	Password string `json:"password"`
	// Client says what signs in, for the member's session list: "app", "console" or "agent".
	Client string `json:"client,omitempty"`
}

// LoginResponse answers a successful login.
type LoginResponse struct {
	Token string `json:"token"`
	// ExpiresAt is Unix milliseconds.
	ExpiresAt int64 `json:"expires_at"`
	User      User  `json:"user"`
}

// StartConversation is the body of POST /api/v1/orgs/{org}/conversations, sent by the portal.
type StartConversation struct {
	// Name is the customer's optional display name from the pre-chat form.
	Name string `json:"name,omitempty"`
	// Queue is the queue the widget names (data-queue); an unknown one means the default queue.
	Queue QueueID `json:"queue,omitempty"`
	// Choice is the customer's answer to the pre-chat question (a PrechatChoice ID); it picks the
	// queue and adds its skills, and wins over Queue.
	Choice string `json:"choice,omitempty"`
	// Message, when set, leaves a message instead of waiting for a chat (the way to reach a
	// queue outside its working hours): it becomes the conversation's first line. Contact is
	// how to reach the customer.
	Message string `json:"message,omitempty"`
	Contact string `json:"contact,omitempty"`
}

// StartedConversation answers StartConversation. The customer keeps Token to resume the
// conversation after a reload or a dropped connection.
type StartedConversation struct {
	Conversation Conversation `json:"conversation"`
	Token        string       `json:"token"`
}

// WidgetConfig is what GET /api/v1/orgs/{org}/widget tells the portal about an organisation.
type WidgetConfig struct {
	Org  OrgID  `json:"org"`
	Name string `json:"name"`
	// MaxTextBytes is the largest message text the hub accepts.
	MaxTextBytes int `json:"max_text_bytes"`
	// Queue is the queue the widget asked for (?queue=), resolved: the default queue when it
	// named none or an unknown one.
	Queue QueueInfo `json:"queue"`
	// Prechat is the question to ask before a chat, when the widget names no queue; nil when
	// there is none. Choices carries each answer's queue as QueueInfo in Queues.
	Prechat *PrechatQuestion `json:"prechat,omitempty"`
}

// PrechatQuestion is the pre-chat question as the portal shows it.
type PrechatQuestion struct {
	Question string          `json:"question"`
	Choices  []PrechatOption `json:"choices"`
}

// PrechatOption is one answer the customer may pick, with the queue it leads to.
type PrechatOption struct {
	ID    string    `json:"id"`
	Label string    `json:"label"`
	Queue QueueInfo `json:"queue"`
}
