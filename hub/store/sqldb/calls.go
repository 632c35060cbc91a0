package sqldb

import (
	"context"

	"github.com/parleyhq/parley/hub/store"
	"github.com/parleyhq/parley/wire"
)

// SaveCall implements store.CallStore.
func (e *Engine) SaveCall(ctx context.Context, c store.CallRecord) error {
	_, err := e.DB.Exec(ctx, `INSERT INTO calls (`+CallCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, state = excluded.state, outcome = excluded.outcome,
		reason = excluded.reason, ended_by = excluded.ended_by, answered_at = excluded.answered_at, ended_at = excluded.ended_at`,
		c.ID, c.Conv, c.Org, c.Agent, c.Kind, c.State, c.Outcome, c.Reason, c.EndedBy, c.CreatedAt, c.AnsweredAt, c.EndedAt)
	if e.IsForeignKey(err) {
		return store.ErrNotFound
	}
	return err
}

// EndOpenCalls implements store.CallStore.
func (e *Engine) EndOpenCalls(ctx context.Context, at int64, reason string) (int, error) {
	n, err := e.DB.Exec(ctx, `UPDATE calls SET state = ?, ended_at = ?, reason = ?,
		outcome = CASE WHEN answered_at = 0 THEN ? ELSE outcome END WHERE state != ?`,
		wire.CallEnded, at, reason, wire.OutcomeFailed, wire.CallEnded)
	return int(n), err
}

// CallsOf implements store.CallStore.
func (e *Engine) CallsOf(ctx context.Context, conv wire.ConversationID) ([]store.CallRecord, error) {
	return queryAll(ctx, e.DB, ScanCall, `SELECT `+CallCols+` FROM calls WHERE conv = ? ORDER BY created_at, id`, conv)
}

// Report implements store.CallStore.
func (e *Engine) Report(ctx context.Context, org wire.OrgID, since, until int64) ([]store.ReportRow, error) {
	rows, err := e.DB.Query(ctx, `SELECT `+ReportCols+`
		FROM conversations c LEFT JOIN calls k ON k.conv = c.id
		WHERE c.org = ? AND c.state = ? AND c.ended_at >= ? AND c.ended_at < ?
		ORDER BY c.ended_at, c.id, k.created_at, k.id`, org, wire.ConvEnded, since, until)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	return ScanReport(rows)
}

// CallsReport implements store.CallStore.
func (e *Engine) CallsReport(ctx context.Context, org wire.OrgID, since, until int64) ([]store.CallRecord, error) {
	return queryAll(ctx, e.DB, ScanCall, `SELECT `+CallCols+` FROM calls WHERE org = ? AND state = ? AND ended_at >= ? AND ended_at < ?
		ORDER BY ended_at, id`, org, wire.CallEnded, since, until)
}

// Stats implements store.CallStore. The casts give both engines' drivers the Go types Add*
// scan into (PostgreSQL's AVG and SUM of BIGINT are NUMERIC).
func (e *Engine) Stats(ctx context.Context, org wire.OrgID, since int64) (wire.Stats, error) {
	st := wire.Stats{SinceMS: since, Calls: map[wire.CallOutcome]int{}}
	// A conversation counts as "with call" when one of its calls was answered.
	rows, err := e.DB.Query(ctx, `SELECT
			EXISTS (SELECT 1 FROM calls k WHERE k.conv = c.id AND k.answered_at > 0) AS with_call,
			COUNT(*), CAST(COALESCE(AVG(c.ended_at - c.accepted_at), 0) AS DOUBLE PRECISION)
		FROM conversations c
		WHERE c.org = ? AND c.state = ? AND c.ended_at >= ? AND c.accepted_at > 0
		GROUP BY with_call`, org, wire.ConvEnded, since)
	if err != nil {
		return st, err
	}
	err = AddHandleTimes(&st, rows)
	rows.Close()
	if err != nil {
		return st, err
	}
	// Outcomes of every conversation that ended, accepted or not (abandoned in the queue too).
	err = e.DB.QueryRow(ctx, `SELECT
			COUNT(*) FILTER (WHERE outcome = ?),
			COUNT(*) FILTER (WHERE outcome = ?),
			COUNT(*) FILTER (WHERE end_reason = ?)
		FROM conversations WHERE org = ? AND state = ? AND ended_at >= ?`,
		wire.OutcomeResolved, wire.OutcomeAbandoned, wire.EndInactivity, org, wire.ConvEnded, since).Scan(&st.Resolved, &st.Abandoned, &st.AutoClosed)
	if err != nil {
		return st, err
	}
	rows, err = e.DB.Query(ctx, `SELECT outcome, COUNT(*),
			CAST(COALESCE(SUM(CASE WHEN answered_at > 0 AND ended_at > answered_at THEN ended_at - answered_at END), 0) AS BIGINT),
			COUNT(*) FILTER (WHERE answered_at > 0)
		FROM calls WHERE org = ? AND state = ? AND ended_at >= ? GROUP BY outcome`, org, wire.CallEnded, since)
	if err != nil {
		return st, err
	}
	defer rows.Close()
	err = AddCallOutcomes(&st, rows)
	return st, err
}
