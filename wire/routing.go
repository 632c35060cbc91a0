package wire

// Routing for a contact centre: queues, skills, transfer and consult, quick replies and the
// waiting-time figures.
//
// An organisation has named queues (at least its default one). A customer's conversation waits in
// one queue: the widget names it (data-queue="sales"), or the customer's answer to the pre-chat
// question picks it (with the skills that answer needs). The hub offers it to the best available
// agent among the queue's members: one with the required skills first, then the one with the most
// free capacity, then the one idle longest; once it has waited the queue's WidenAfterS, agents
// without the skills are offered it too, so no conversation waits for a skill nobody online has.
// The customer sees their position and an estimated wait ([QueuePosition]).
//
// The assigned agent may transfer a conversation (TypeConvTransfer) to a queue or to a named
// available agent, with a note the next agent sees first; the customer keeps the conversation,
// its transcript and any co-browse, and sees one system line. A transfer during a call ends the
// call and the next agent is told to call back (docs/routing.md says why). The agent may invite a
// colleague or a supervisor (TypeConvInvite) to read along and write internal notes
// (ChatSend.Internal): the hub never sends an internal message, nor anything about who reads
// along or why the conversation moved, to a customer connection, in any frame.
//
// Refusals: a transfer to a queue outside its working hours is EQUEUECLOSED, to an agent who is
// offline, away or busy (or full) EAGENTUNAVAILABLE; in both cases nothing moves.

// QueueID names a queue within its organisation: a short slug such as "sales", which widget tags
// use (data-queue="sales").
type QueueID string

// QuickReplyID identifies one quick reply.
type QuickReplyID string

// Routing error codes (see [Code]).
const (
	EQUEUECLOSED      Code = "EQUEUECLOSED"      // the queue is outside its working hours
	EAGENTUNAVAILABLE Code = "EAGENTUNAVAILABLE" // the agent is offline, away, busy or full
)

// Routing limits.
const (
	// MaxQueues is how many queues an organisation may have.
	MaxQueues = 100
	// MaxSkills is how many skills one agent, queue or pre-chat answer may list.
	MaxSkills = 20
	// MaxSkillLevel is the highest skill level (1 = can help, MaxSkillLevel = expert).
	MaxSkillLevel = 5
	// MaxNoteBytes is the largest transfer or invitation note.
	MaxNoteBytes = 1000
	// MaxQuickReplies is how many quick replies an organisation may have, all scopes together.
	MaxQuickReplies = 1000
	// MaxQueueMessageBytes is the largest out-of-hours message or pre-chat text an admin sets.
	MaxQueueMessageBytes = 1000
)

// Routing message types.
const (
	// TypeConvTransfer (agent or supervisor→hub, [Transfer]) moves a conversation to a queue or
	// to an agent. The Ack comes once it has moved.
	TypeConvTransfer Type = "conv.transfer"
	// TypeConvInvite (agent→hub, [ConsultInvite]) invites a colleague or supervisor to read
	// along and write internal notes.
	TypeConvInvite Type = "conv.invite"
	// TypeConsult (hub→member, [Consult]) tells a member they were invited to read along (or
	// that the invitation ended: Conversation.State ended, or Ended true).
	TypeConsult Type = "consult"
	// TypeConvConsultLeave (consultant→hub, [ConvRef]) stops reading along.
	TypeConvConsultLeave Type = "conv.consult_leave"
	// TypeConvMessage (customer→hub, [LeaveMessage]) turns a waiting conversation into a left
	// message: it stays in its queue for the next agent although the customer goes.
	TypeConvMessage Type = "conv.message"
)

// Skill is something an agent can do, or a conversation needs, at a level from 1 to
// MaxSkillLevel: e.g. {billing 2} or {es 3}. Names are lower-case words.
type Skill struct {
	Name  string `json:"name"`
	Level int    `json:"level"`
}

// OpenInterval is one stretch of a weekday when a queue is open, in the queue's time zone.
type OpenInterval struct {
	// Day is 0 for Sunday to 6 for Saturday.
	Day int `json:"day"`
	// From and To are "HH:MM", From before To (split a night shift in two).
	From string `json:"from"`
	To   string `json:"to"`
}

// WorkingHours say when a queue takes chats. No intervals means always open.
type WorkingHours struct {
	// TimeZone is an IANA zone such as "Europe/Madrid"; empty means UTC.
	TimeZone  string         `json:"time_zone,omitempty"`
	Intervals []OpenInterval `json:"intervals,omitempty"`
}

// ServiceLevel is a queue's target: Percent of conversations answered within TargetS seconds.
type ServiceLevel struct {
	TargetS int `json:"target_s"`
	Percent int `json:"percent"`
}

// Queue is a queue's settings, as admins edit them.
type Queue struct {
	ID   QueueID `json:"id"`
	Name string  `json:"name"`
	// Default marks the organisation's default queue: where conversations go that name no
	// queue, or an unknown one. There is always exactly one.
	Default bool `json:"default,omitempty"`
	// Calls overrides the organisation's call setting in this queue; "" keeps it.
	Calls CallsAllowed `json:"calls,omitempty"`
	// Recording overrides the organisation's recording mode for this queue's calls (off, ask,
	// always); "" keeps it. The hub's consent rules follow the queue the conversation is in when
	// the call starts.
	Recording RecordingMode `json:"recording,omitempty"`
	// Visual overrides the organisation's visual engagement providers; nil keeps them.
	Visual *VisualSettings `json:"visual,omitempty"`
	// Language is the language the queue serves in ("en", "es"): the portal speaks it to the
	// queue's customers. Empty follows the customer's browser.
	Language string       `json:"language,omitempty"`
	Hours    WorkingHours `json:"hours"`
	// ClosedMessage is what customers read outside the working hours (a default sentence in
	// their language when empty).
	ClosedMessage string `json:"closed_message,omitempty"`
	// MaxWaitS is how long a customer waits before being offered to leave a message instead;
	// 0 means no limit.
	MaxWaitS int `json:"max_wait_s,omitempty"`
	// Skills are required of the agent who takes the queue's conversations.
	Skills []Skill `json:"skills,omitempty"`
	// WidenAfterS is how long a conversation waits for an agent with the required skills before
	// any member of the queue may take it (default 60).
	WidenAfterS int `json:"widen_after_s,omitempty"`
	// ServiceLevel is the queue's target (default 80 % within 30 s).
	ServiceLevel ServiceLevel `json:"service_level"`
	// AutoCloseS is how long a chat of this queue stays open with its customer gone and nobody
	// writing (MinAutoCloseSeconds to MaxAutoCloseSeconds); 0 keeps the organisation's time.
	AutoCloseS int `json:"auto_close_s,omitempty"`
}

// QueueInfo is what the portal learns about a queue.
type QueueInfo struct {
	ID       QueueID `json:"id"`
	Name     string  `json:"name"`
	Language string  `json:"language,omitempty"`
	// Open is false outside the working hours; the portal then shows ClosedMessage and offers to
	// leave a message.
	Open          bool   `json:"open"`
	ClosedMessage string `json:"closed_message,omitempty"`
	// NobodyAvailable is true when none of its agents is online and available right now: the
	// portal says the team is away (a chat may still be started, or a message left).
	NobodyAvailable bool `json:"nobody_available,omitempty"`
}

// PrechatChoice is one answer to the pre-chat question: the queue it leads to and the skills it
// needs on top of the queue's.
type PrechatChoice struct {
	// ID is what the portal sends back (StartConversation.Choice).
	ID     string  `json:"id"`
	Label  string  `json:"label"`
	Queue  QueueID `json:"queue"`
	Skills []Skill `json:"skills,omitempty"`
}

// Prechat is the question the admin asks before a chat (e.g. "What is it about?"); without
// choices there is none. The body of GET and PUT /api/v1/orgs/{org}/routing/prechat.
type Prechat struct {
	Question string          `json:"question"`
	Choices  []PrechatChoice `json:"choices"`
}

// MemberRouting is a member's place in routing: the queues they take conversations from, and
// their skills. The body of PUT /api/v1/orgs/{org}/routing/members/{user}.
type MemberRouting struct {
	User   UserID    `json:"user"`
	Queues []QueueID `json:"queues"`
	Skills []Skill   `json:"skills"`
}

// RoutingMember is one member's line in the admin's routing page.
type RoutingMember struct {
	User        UserID    `json:"user"`
	Queues      []QueueID `json:"queues"`
	Skills      []Skill   `json:"skills"`
	Username    string    `json:"username"`
	DisplayName string    `json:"display_name"`
	Role        Role      `json:"role"`
	Capacity    int       `json:"capacity"`
}

// Routing is the answer of GET /api/v1/orgs/{org}/routing: everything the admin's routing page
// edits.
type Routing struct {
	Queues  []Queue         `json:"queues"`
	Members []RoutingMember `json:"members"`
	Prechat Prechat         `json:"prechat"`
}

// Transfer moves a conversation to a queue (Queue) or to an agent (Agent), one of the two.
type Transfer struct {
	Conv  ConversationID `json:"conv"`
	Queue QueueID        `json:"queue,omitempty"`
	Agent UserID         `json:"agent,omitempty"`
	// Note is what the next agent reads first; up to MaxNoteBytes.
	Note string `json:"note,omitempty"`
}

// TransferInfo is the last transfer of a conversation, as the next agent sees it. Customers
// never get it.
type TransferInfo struct {
	From     UserID `json:"from"`
	FromName string `json:"from_name"`
	// To names where it went: a queue's name or an agent's.
	To   string `json:"to"`
	Note string `json:"note,omitempty"`
	At   int64  `json:"at"`
	// CallBack is the kind of call the customer was on when the transfer ended it: the next
	// agent is asked to call back.
	CallBack CallKind `json:"call_back,omitempty"`
}

// ConsultInvite invites a member to read along in a conversation and write internal notes.
type ConsultInvite struct {
	Conv ConversationID `json:"conv"`
	User UserID         `json:"user"`
	Note string         `json:"note,omitempty"`
}

// Consult is an invitation to read along, as the invited member receives it.
type Consult struct {
	Conversation Conversation `json:"conversation"`
	By           UserID       `json:"by"`
	ByName       string       `json:"by_name"`
	Note         string       `json:"note,omitempty"`
	// Ended is true when the invitation is over (the member left, or the conversation moved).
	Ended bool `json:"ended,omitempty"`
}

// MemberRef names a member in a conversation's details.
type MemberRef struct {
	ID   UserID `json:"id"`
	Name string `json:"name"`
}

// LeaveMessage turns the customer's waiting conversation into a left message.
type LeaveMessage struct {
	Conv ConversationID `json:"conv"`
	// Contact is how the agent can reach the customer (an email address or a phone number),
	// optional, up to MaxNameBytes*2.
	Contact string `json:"contact,omitempty"`
}

// QuickReplyScope says who a quick reply is for.
type QuickReplyScope string

// Quick reply scopes.
const (
	// QuickReplyOrg: every agent of the organisation (admins manage them).
	QuickReplyOrg QuickReplyScope = "org"
	// QuickReplyQueue: the members of one queue (admins manage them).
	QuickReplyQueue QuickReplyScope = "queue"
	// QuickReplyPersonal: one agent's own.
	QuickReplyPersonal QuickReplyScope = "personal"
)

// QuickReply is a canned response. Text may hold placeholders the app fills in when the agent
// picks it: {customer_name}, {agent_name}, {queue}.
type QuickReply struct {
	ID    QuickReplyID    `json:"id"`
	Scope QuickReplyScope `json:"scope"`
	// Queue is set for the queue scope.
	Queue QueueID `json:"queue,omitempty"`
	// Owner is set for the personal scope.
	Owner UserID `json:"owner,omitempty"`
	// Shortcut is what the agent types after "/" to find it, e.g. "refund".
	Shortcut  string `json:"shortcut"`
	Text      string `json:"text"`
	UpdatedAt int64  `json:"updated_at"`
}

// QueueStats are one queue's waiting-time figures: now, and over the window since SinceMS
// (24 hours). Durations are milliseconds; a figure with nothing to average is 0, a share with
// nothing to count is -1.
type QueueStats struct {
	Queue QueueID `json:"queue"`
	Name  string  `json:"name"`
	// Waiting is how many conversations wait now; LongestWaitMS how long the oldest has.
	Waiting       int   `json:"waiting"`
	LongestWaitMS int64 `json:"longest_wait_ms"`
	// AgentsOnline are the queue's members online, AgentsAvailable those who could take a chat.
	AgentsOnline    int `json:"agents_online"`
	AgentsAvailable int `json:"agents_available"`
	// EstimatedWaitMS is what a new customer would be told (0: not enough data).
	EstimatedWaitMS int64 `json:"estimated_wait_ms"`
	SinceMS         int64 `json:"since_ms"`
	// Answered and Abandoned count the conversations an agent took, and those whose customer
	// left while waiting; Messages those left as a message; Transferred those moved out after
	// an agent took them.
	Answered    int `json:"answered"`
	Abandoned   int `json:"abandoned"`
	Messages    int `json:"messages"`
	Transferred int `json:"transferred"`
	// ServiceLevelPct is the share of Answered+Abandoned answered within Target (-1: none yet).
	ServiceLevelPct float64      `json:"service_level_pct"`
	Target          ServiceLevel `json:"target"`
	// ASAMS is the average speed of answer: the mean wait of the answered ones.
	ASAMS int64 `json:"asa_ms"`
	// AbandonPct is Abandoned over Answered+Abandoned (-1: none yet).
	AbandonPct float64 `json:"abandon_pct"`
	// FirstResponseMS is the mean time from joining the queue to the agent's first message.
	FirstResponseMS int64 `json:"first_response_ms"`
	// Handle time (an agent's accept to the end or the transfer) of the conversations with an
	// answered call and without.
	WithCall         int   `json:"with_call"`
	WithoutCall      int   `json:"without_call"`
	AHTWithCallMS    int64 `json:"aht_with_call_ms"`
	AHTWithoutCallMS int64 `json:"aht_without_call_ms"`
}
