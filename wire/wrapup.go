package wire

// The wrap-up step. When a conversation an agent was handling ends (End, the customer leaving,
// a close for inactivity or by a supervisor), the agent wraps it up: picks an outcome code from
// the organisation's list (TypeAgentState's WrapCodes) and may write a note, then sends
// TypeConvWrapUp. When the organisation sets a wrap-up limit, routing offers the agent no new
// chat until the wrap-up is sent or the limit has passed (a supervisor may still assign one);
// TypeAgentState's WrapUp lists those conversations. The wrap-up time (from the end to the
// wrap-up, at most the limit) is stored with the conversation and counted in its handle time in
// the reports; the code and note go in the conversations report. A wrap-up sent after the limit,
// or with no limit set, stores the code and the note only. An organisation that never set the
// step has the default codes and no limit.

// TypeConvWrapUp (agent→hub, [WrapUpDone]) finishes the wrap-up of an ended conversation.
const TypeConvWrapUp Type = "conv.wrapup"

// Wrap-up limits.
const (
	// SuggestedWrapUpSeconds is the limit the admin console offers when turning the step on.
	SuggestedWrapUpSeconds = 120
	// MaxWrapUpSeconds is the longest limit an admin may set; 0 turns the wrap-up step off.
	MaxWrapUpSeconds = 1800
	// MaxWrapCodes is how many outcome codes an organisation may have.
	MaxWrapCodes = 50
	// MaxWrapNote is the longest wrap-up note, in bytes.
	MaxWrapNote = 2000
)

// WrapCode is an outcome code an agent may choose at wrap-up.
type WrapCode struct {
	// ID is stored and reported (letters, digits, - and _, at most 40); Label is what agents read.
	ID    string `json:"id"`
	Label string `json:"label"`
}

// WrapUpDue is a conversation the agent is wrapping up.
type WrapUpDue struct {
	Conv         ConversationID `json:"conv"`
	CustomerName string         `json:"customer_name"`
	// EndedAt is when the conversation ended; Until when the wrap-up time is up (Unix ms).
	EndedAt int64 `json:"ended_at"`
	Until   int64 `json:"until"`
}

// WrapUpDone is the agent's wrap-up of a conversation.
type WrapUpDone struct {
	Conv ConversationID `json:"conv"`
	// Code is one of the organisation's codes (required when it has any).
	Code string `json:"code,omitempty"`
	Note string `json:"note,omitempty"`
}

// WrapUpSettings is an organisation's wrap-up step (GET/PUT /api/v1/orgs/{org}/settings/wrap-up).
type WrapUpSettings struct {
	// Codes are the outcome codes in the admin's order; empty means the hub's defaults.
	Codes []WrapCode `json:"codes"`
	// LimitSeconds is the longest wrap-up before new chats are offered again; 0: new chats are
	// offered at once (the wrap-up is optional and its time is not counted).
	LimitSeconds int `json:"limit_s"`
}

// DefaultWrapCodes are the codes of an organisation that never set its own.
var DefaultWrapCodes = []WrapCode{
	{ID: "resolved", Label: "Resolved"},
	{ID: "follow_up", Label: "Follow-up needed"},
	{ID: "escalated", Label: "Escalated"},
	{ID: "no_reply", Label: "Customer did not reply"},
	{ID: "other", Label: "Other"},
}
