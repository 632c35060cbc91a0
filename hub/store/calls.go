package store

import (
	"context"

	"github.com/parleyhq/parley/wire"
)

// CallRecord is one call as the store keeps it, for handle-time metrics and reports.
type CallRecord struct {
	wire.Call
	Org   wire.OrgID
	Agent wire.UserID
}

// ReportRow is one ended conversation in the conversations report, with its calls summed up.
type ReportRow struct {
	Conv wire.Conversation
	// HandleMS is the time from the agent's accept to the end plus the wrap-up time (0 when no
	// agent took it).
	HandleMS int64
	// Calls counts the conversation's calls; Answered those the customer answered.
	Calls, Answered int
	// CallKinds and Outcomes are each call's kind (as the agent invited) and outcome, in order.
	CallKinds []wire.CallKind
	Outcomes  []wire.CallOutcome
	// CallMS is the answered calls' total duration.
	CallMS int64
}

// CallStore keeps calls and the organisation settings that govern them, and sums them up for
// supervisors.
type CallStore interface {
	// UpdateOrg saves an organisation's name, region and call setting.
	UpdateOrg(ctx context.Context, o Org) error
	// SaveCall inserts or updates a call.
	SaveCall(ctx context.Context, c CallRecord) error
	// EndOpenCalls marks every call still ringing or active as ended at at (Unix ms) with
	// reason, outcome failed when it was never answered; a restarted hub calls it, since no
	// call survives a restart. It returns how many it ended.
	EndOpenCalls(ctx context.Context, at int64, reason string) (int, error)
	// CallsOf returns a conversation's calls, oldest first.
	CallsOf(ctx context.Context, conv wire.ConversationID) ([]CallRecord, error)
	// Report returns the conversations of org that ended in [since, until) (Unix ms), oldest
	// first.
	Report(ctx context.Context, org wire.OrgID, since, until int64) ([]ReportRow, error)
	// CallsReport returns the calls of org that ended in [since, until) (Unix ms), oldest first.
	CallsReport(ctx context.Context, org wire.OrgID, since, until int64) ([]CallRecord, error)
	// Stats sums up the conversations and calls of org that ended at or after since (Unix ms).
	Stats(ctx context.Context, org wire.OrgID, since int64) (wire.Stats, error)
}
