package wire

// Customer presence and closing after inactivity: the agent sees whether the customer is still
// with the conversation, and the hub closes a conversation whose customer has gone and in which
// nobody writes, so it stops holding the agent's capacity.
//
// The customer's portal reports whether its tab is visible with TypeCustomerPresence; the hub
// combines the customer's connections (any visible tab: here; all hidden: away; none: away at
// once, then gone after a grace of 30 s by default) and reports it in [Conversation]'s Customer
// and CustomerSince, in the agent's TypeConvState and the supervisor's snapshot. When the customer
// becomes gone, and when a gone customer comes back, the transcript gets a system line
// (customer_gone, customer_back).
//
// While the customer is gone the hub schedules the close: ClosesAt is the later of CustomerSince
// and ActivityAt (someone last wrote) plus the organisation's auto-close time (per queue once
// queues exist). From a minute before, CloseWarning is set and the agent can keep the conversation
// open with TypeConvKeep (it counts as activity). At ClosesAt the hub ends the conversation with
// the system line idle_closed, EndReason "inactivity" and an Outcome for the reports. A call or
// co-browse in progress is never closed; its end counts as activity. The schedule is rebuilt from
// the store when the hub restarts. A supervisor may close any open conversation with
// TypeSupervisorClose.

// Customer presence and inactivity message types.
const (
	// TypeCustomerPresence (customer→hub, [CustomerPresenceSet]) says whether the chat's tab is
	// hidden. A new connection counts as visible until it says otherwise.
	TypeCustomerPresence Type = "customer.presence"
	// TypeConvKeep (agent→hub, [ConvRef]) keeps a conversation open that the hub warned it would
	// close for inactivity; the wait starts again.
	TypeConvKeep Type = "conv.keep"
	// TypeSupervisorClose (supervisor→hub, [ConvRef]) ends an open conversation, e.g. one whose
	// customer has gone; the transcript says a supervisor closed it.
	TypeSupervisorClose Type = "supervisor.close"
)

// CustomerPresence says whether the customer is with the conversation.
type CustomerPresence string

// Customer presence values.
const (
	// CustomerHere: a connection of the customer's shows the chat.
	CustomerHere CustomerPresence = "here"
	// CustomerAway: connected with the tab hidden, or the last connection dropped moments ago.
	CustomerAway CustomerPresence = "away"
	// CustomerGone: no connection for a while (the tab was closed, the network is gone).
	CustomerGone CustomerPresence = "gone"
)

// CustomerPresenceSet is the portal telling the hub whether the chat's tab is hidden.
type CustomerPresenceSet struct {
	Conv ConversationID `json:"conv"`
	// Hidden is true while the tab is in the background or minimised.
	Hidden bool `json:"hidden"`
}

// EndReason says why a conversation ended.
type EndReason string

// End reasons.
const (
	// EndByAgent: the agent pressed End.
	EndByAgent EndReason = "agent"
	// EndByCustomer: the customer left the conversation from the portal.
	EndByCustomer EndReason = "customer"
	// EndAbandoned: the customer went away while waiting in the queue.
	EndAbandoned EndReason = "abandoned"
	// EndInactivity: the customer was gone and nobody wrote for the auto-close time.
	EndInactivity EndReason = "inactivity"
	// EndBySupervisor: a supervisor closed it.
	EndBySupervisor EndReason = "supervisor"
)

// ConvOutcome is how a conversation ended, for the reports.
type ConvOutcome string

// Conversation outcomes. The agent's End resolves a conversation; any other end resolves it when
// the agent had written in it and abandons it when the customer never got an answer.
const (
	OutcomeResolved  ConvOutcome = "resolved"
	OutcomeAbandoned ConvOutcome = "abandoned"
)

// Limits of the auto-close time an admin may set.
const (
	// MinAutoCloseSeconds is the shortest auto-close time (a minute).
	MinAutoCloseSeconds = 60
	// MaxAutoCloseSeconds is the longest (a day): no conversation holds capacity forever.
	MaxAutoCloseSeconds = 24 * 3600
)

// AutoCloseSettings is an organisation's auto-close time, at
// GET and PUT /api/v1/orgs/{org}/settings/auto-close.
type AutoCloseSettings struct {
	// AfterSeconds is how long a conversation stays open with its customer gone and nobody
	// writing; 0 means the hub's default. Otherwise between MinAutoCloseSeconds and
	// MaxAutoCloseSeconds.
	AfterSeconds int `json:"after_s"`
	// DefaultSeconds is the hub's default (read only).
	DefaultSeconds int `json:"default_s,omitempty"`
	// WarningSeconds is how long before the close the agent is warned (read only).
	WarningSeconds int `json:"warning_s,omitempty"`
}
