package app

import "github.com/parleyhq/parley/wire"

// The types below are what the services hand the UI. Times are Unix milliseconds on the local
// clock (the hub's clock is corrected by the offset measured at sign-in), because time.Time has
// no TypeScript model.

// Connection says whether the app is talking to the hub.
type Connection string

// Connection states.
const (
	ConnOffline      Connection = "offline"
	ConnOnline       Connection = "online"
	ConnReconnecting Connection = "reconnecting"
)

// SessionView is the sign-in state.
type SessionView struct {
	SignedIn   bool       `json:"signed_in"`
	HubURL     string     `json:"hub_url"`
	User       *wire.User `json:"user,omitempty"`
	Connection Connection `json:"connection"`
	// MaxTextBytes is the largest message the hub accepts, from its Welcome.
	MaxTextBytes int `json:"max_text_bytes"`
}

// Prefill is what the sign-in form starts with (from flags or the last sign-in).
type Prefill struct {
	HubURL   string `json:"hub_url"`
	Org      string `json:"org"`
	Username string `json:"username"`
}

// OfferView is an offer with its deadline on the local clock.
type OfferView struct {
	ID           wire.OfferID        `json:"id"`
	Conv         wire.ConversationID `json:"conv"`
	CustomerName string              `json:"customer_name"`
	Preview      string              `json:"preview,omitempty"`
	// ReceivedAt and ExpiresAt bound the countdown, local Unix milliseconds.
	ReceivedAt int64 `json:"received_at"`
	ExpiresAt  int64 `json:"expires_at"`
	// QueueName is the queue it comes from; Transfer, when a colleague transferred it, carries
	// their note (read first); Message is true for a message the customer left.
	QueueName string             `json:"queue_name,omitempty"`
	Transfer  *wire.TransferInfo `json:"transfer,omitempty"`
	Message   bool               `json:"message,omitempty"`
}

// ConversationView is one line of the conversation list and the header of the panel.
type ConversationView struct {
	ID           wire.ConversationID `json:"id"`
	State        wire.ConvState      `json:"state"`
	CustomerName string              `json:"customer_name"`
	AgentID      wire.UserID         `json:"agent_id,omitempty"`
	AgentName    string              `json:"agent_name,omitempty"`
	LastSeq      int64               `json:"last_seq"`
	CreatedAt    int64               `json:"created_at"`
	AcceptedAt   int64               `json:"accepted_at,omitempty"`
	EndedAt      int64               `json:"ended_at,omitempty"`
	EndedBy      wire.Author         `json:"ended_by,omitempty"`
	// Unread counts customer messages the agent has not seen.
	Unread int `json:"unread"`
	// LastText and LastAt preview the newest message.
	LastText string `json:"last_text,omitempty"`
	LastAt   int64  `json:"last_at,omitempty"`
	// CustomerTyping is true while the customer types.
	CustomerTyping bool `json:"customer_typing"`
	// DeliveredSeq and ReadSeq: the customer has received / read the agent's messages up to these.
	DeliveredSeq int64 `json:"delivered_seq"`
	ReadSeq      int64 `json:"read_seq"`
	// Calls is which calls the agent may start here (voice_video, voice, none); "" = not stated.
	Calls wire.CallsAllowed `json:"calls,omitempty"`
	// Customer is whether the customer is here, away (tab hidden) or gone (no connection for a
	// while), since CustomerSince; "" from an older hub.
	Customer      wire.CustomerPresence `json:"customer,omitempty"`
	CustomerSince int64                 `json:"customer_since,omitempty"`
	// ClosesAt is when the hub closes the conversation for inactivity (0: not due); from a
	// minute before, CloseWarning is set and the agent may keep it open (Conversations.KeepOpen).
	ClosesAt     int64 `json:"closes_at,omitempty"`
	CloseWarning bool  `json:"close_warning,omitempty"`
	// EndReason says why it ended: agent, customer, abandoned, inactivity or supervisor.
	EndReason wire.EndReason `json:"end_reason,omitempty"`
	// Queue and QueueName are the queue it is in (or was taken from); Transfer is its last
	// transfer, with the note for this agent.
	Queue     wire.QueueID       `json:"queue,omitempty"`
	QueueName string             `json:"queue_name,omitempty"`
	Transfer  *wire.TransferInfo `json:"transfer,omitempty"`
	// Moved is true once the conversation is no longer this agent's: back in the queue (the agent
	// signed out or was gone past the offline grace) or given to another agent. It is read-only.
	Moved bool `json:"moved,omitempty"`
	// Consulting is true when this member was invited to read along (someone else's chat): they
	// write internal notes only. Consultants are those reading along.
	Consulting  bool             `json:"consulting,omitempty"`
	Consultants []wire.MemberRef `json:"consultants,omitempty"`
	// WrapCode and WrapNote are the agent's wrap-up once sent (Conversations.WrapUp).
	WrapCode string `json:"wrap_code,omitempty"`
	WrapNote string `json:"wrap_note,omitempty"`
	// Preview is the customer's first message, in the supervisor's view.
	Preview string `json:"preview,omitempty"`
}

// MessageView is one chat message.
type MessageView struct {
	Conv       wire.ConversationID `json:"conv"`
	Seq        int64               `json:"seq"`
	Author     wire.Author         `json:"author"`
	AuthorName string              `json:"author_name"`
	Text       string              `json:"text"`
	At         int64               `json:"at"`
	// Event is what a system line reports, so the UI can translate it; Text is the English fallback.
	Event *wire.Event `json:"event,omitempty"`
	// Internal marks an internal note (or internal line): the customer never receives it.
	Internal bool `json:"internal,omitempty"`
}

// SupervisorView is the supervisor's picture of the organisation.
type SupervisorView struct {
	Agents        []wire.AgentSummary `json:"agents"`
	Conversations []ConversationView  `json:"conversations"`
	// UpdatedAt is when the hub last sent it, local Unix milliseconds.
	UpdatedAt int64 `json:"updated_at"`
	// Stats are the hub's handle-time figures for the last 24 hours (times as the hub sent them).
	Stats wire.Stats `json:"stats"`
	// Queues are each queue's waiting-time figures (now, and over the last 24 hours), in the
	// admin's order.
	Queues []wire.QueueStats `json:"queues"`
}

// NoticeKind is what a Notice is about.
type NoticeKind string

// Notice kinds.
const (
	// NoticeOfferRevoked: an offer was withdrawn (Reason says why: timeout, left, assigned).
	NoticeOfferRevoked NoticeKind = "offer_revoked"
	// NoticeConnectionLost: the hub connection closed for good; the agent is signed out.
	NoticeConnectionLost NoticeKind = "connection_lost"
)

// Notice tells the UI about something no request caused, e.g. an offer that timed out.
type Notice struct {
	Kind   NoticeKind `json:"kind"`
	Reason string     `json:"reason,omitempty"`
	// Next is where a withdrawn offer's conversation went: "agent" or "queue" (wire.OfferRevoked).
	Next string `json:"next,omitempty"`
	// Code is set when an error caused the notice.
	Code wire.Code `json:"code,omitempty"`
}
