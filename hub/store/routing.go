package store

import (
	"context"

	"github.com/parleyhq/parley/wire"
)

// Visit is one stay of a conversation in a queue: from joining it (the start, or a transfer) to
// leaving it (answered then ended or transferred on, abandoned). The waiting-time figures and the
// queues report are sums over visits.
type Visit struct {
	Conv wire.ConversationID
	// N numbers a conversation's visits from 1.
	N     int
	Org   wire.OrgID
	Queue wire.QueueID
	// Times are Unix milliseconds; zero when not yet.
	EnteredAt int64
	// AnsweredAt is when an agent took it (accepted the offer, or a supervisor assigned it).
	AnsweredAt int64
	// FirstResponseAt is the agent's first message after AnsweredAt.
	FirstResponseAt int64
	// LeftAt is when the visit ended; Outcome says how.
	LeftAt  int64
	Outcome VisitOutcome
	// Agent is the agent who took it.
	Agent wire.UserID
	// Message is true when the customer left a message during the visit.
	Message bool
	// WithCall is true when a call was answered during the visit.
	WithCall bool
}

// VisitOutcome is how a visit ended.
type VisitOutcome string

// Visit outcomes.
const (
	// VisitOpen: still waiting or being handled.
	VisitOpen VisitOutcome = ""
	// VisitEnded: an agent took it and the conversation ended.
	VisitEnded VisitOutcome = "ended"
	// VisitTransferred: it moved to another queue or agent.
	VisitTransferred VisitOutcome = "transferred"
	// VisitAbandoned: the customer left (or went for good) before an agent took it.
	VisitAbandoned VisitOutcome = "abandoned"
)

// ConvRouting is what routing keeps about a conversation beyond wire.Conversation's stored
// columns: its queue, the skills it needs, its last transfer and whether it is a left message.
type ConvRouting struct {
	Queue    wire.QueueID
	QueuedAt int64
	Skills   []wire.Skill
	Message  bool
	Contact  string
	Transfer *wire.TransferInfo
	// Visit is the number of the conversation's current visit.
	Visit int
}

// Consultant is a member reading along in a conversation.
type Consultant struct {
	Conv wire.ConversationID
	User wire.UserID
}

// RoutingStore keeps queues, members' queues and skills, the pre-chat question (an organisation
// setting), quick replies, conversations' routing and visits, and who reads along.
type RoutingStore interface {
	// Queues returns an organisation's queues in the admin's order.
	Queues(ctx context.Context, org wire.OrgID) ([]wire.Queue, error)
	// SaveQueue inserts or updates a queue (at the end of the order when new). When q.Default
	// is set the organisation's other queues lose it.
	SaveQueue(ctx context.Context, org wire.OrgID, q wire.Queue) error
	// DeleteQueue removes a queue, its members and its quick replies; ErrNotFound when missing.
	DeleteQueue(ctx context.Context, org wire.OrgID, id wire.QueueID) error

	// MemberRoutings returns the queues and skills of the organisation's members who have any.
	MemberRoutings(ctx context.Context, org wire.OrgID) ([]wire.MemberRouting, error)
	// SetMemberRouting replaces a member's queues and skills.
	SetMemberRouting(ctx context.Context, org wire.OrgID, m wire.MemberRouting) error

	// QuickReplies returns an organisation's quick replies of every scope, by shortcut.
	QuickReplies(ctx context.Context, org wire.OrgID) ([]wire.QuickReply, error)
	// SaveQuickReply inserts or updates a quick reply.
	SaveQuickReply(ctx context.Context, org wire.OrgID, q wire.QuickReply) error
	// DeleteQuickReply removes a quick reply; ErrNotFound when missing.
	DeleteQuickReply(ctx context.Context, org wire.OrgID, id wire.QuickReplyID) error

	// ConvRoutings returns the routing of the given conversations (those without are missing).
	ConvRoutings(ctx context.Context, ids []wire.ConversationID) (map[wire.ConversationID]ConvRouting, error)
	// SaveConvRouting stores a conversation's routing.
	SaveConvRouting(ctx context.Context, conv wire.ConversationID, r ConvRouting) error
	// SaveVisit inserts or updates a visit (by conversation and number).
	SaveVisit(ctx context.Context, v Visit) error
	// SaveVisits saves several visits in one transaction, as SaveVisit does each.
	SaveVisits(ctx context.Context, vs []Visit) error
	// Visits returns the visits of org that entered a queue, were answered or left in
	// [since, until) (Unix ms), plus the open ones, oldest first.
	Visits(ctx context.Context, org wire.OrgID, since, until int64) ([]Visit, error)

	// SetConsultant adds (on) or removes a member reading along.
	SetConsultant(ctx context.Context, c Consultant, on bool) error
	// OpenConsultants returns who reads along in the waiting and active conversations.
	OpenConsultants(ctx context.Context) ([]Consultant, error)
}

// Start is a customer's new conversation as StartConversation stores it.
type Start struct {
	Conv wire.Conversation
	// Token is the customer's session token.
	Token Token
	// Routing is the conversation's queue and skills; Visit its first stay in that queue.
	Routing ConvRouting
	Visit   Visit
}
