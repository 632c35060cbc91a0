package sqlite

import (
	"context"

	"github.com/parleyhq/parley/hub/store"
	"github.com/parleyhq/parley/hub/store/sqldb"
	"github.com/parleyhq/parley/wire"
)

// SaveCall implements store.CallStore.
func (d *DB) SaveCall(ctx context.Context, c store.CallRecord) error {
	_, err := d.db.ExecContext(ctx, `INSERT INTO calls (`+sqldb.CallCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, state = excluded.state, outcome = excluded.outcome,
		reason = excluded.reason, ended_by = excluded.ended_by, answered_at = excluded.answered_at, ended_at = excluded.ended_at`,
		c.ID, c.Conv, c.Org, c.Agent, c.Kind, c.State, c.Outcome, c.Reason, c.EndedBy, c.CreatedAt, c.AnsweredAt, c.EndedAt)
	return err
}

// EndOpenCalls implements store.CallStore.
func (d *DB) EndOpenCalls(ctx context.Context, at int64, reason string) (int, error) {
	res, err := d.db.ExecContext(ctx, `UPDATE calls SET state = ?, ended_at = ?, reason = ?,
		outcome = CASE WHEN answered_at = 0 THEN ? ELSE outcome END WHERE state != ?`,
		wire.CallEnded, at, reason, wire.OutcomeFailed, wire.CallEnded)
	if err != nil {
		return 0, err
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

// CallsOf implements store.CallStore.
func (d *DB) CallsOf(ctx context.Context, conv wire.ConversationID) ([]store.CallRecord, error) {
	return d.queryCalls(ctx, `SELECT `+sqldb.CallCols+` FROM calls WHERE conv = ? ORDER BY created_at, id`, conv)
}

// Report implements store.CallStore.
func (d *DB) Report(ctx context.Context, org wire.OrgID, since, until int64) ([]store.ReportRow, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT `+sqldb.ReportCols+`
		FROM conversations c LEFT JOIN calls k ON k.conv = c.id
		WHERE c.org = ? AND c.state = ? AND c.ended_at >= ? AND c.ended_at < ?
		ORDER BY c.ended_at, c.id, k.created_at, k.id`, org, wire.ConvEnded, since, until)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	return sqldb.ScanReport(rows)
}

// CallsReport implements store.CallStore.
func (d *DB) CallsReport(ctx context.Context, org wire.OrgID, since, until int64) ([]store.CallRecord, error) {
	return d.queryCalls(ctx, `SELECT `+sqldb.CallCols+` FROM calls WHERE org = ? AND state = ? AND ended_at >= ? AND ended_at < ?
		ORDER BY ended_at, id`, org, wire.CallEnded, since, until)
}

// queryCalls runs a query selecting sqldb.CallCols and scans every row.
func (d *DB) queryCalls(ctx context.Context, query string, args ...any) ([]store.CallRecord, error) {
	rows, err := d.db.QueryContext(ctx, query, args...)
	return collect(rows, err, sqldb.ScanCall)
}

// Stats implements store.CallStore.
func (d *DB) Stats(ctx context.Context, org wire.OrgID, since int64) (wire.Stats, error) {
	st := wire.Stats{SinceMS: since, Calls: map[wire.CallOutcome]int{}}
	// A conversation counts as "with call" when one of its calls was answered.
	rows, err := d.db.QueryContext(ctx, `SELECT
			EXISTS (SELECT 1 FROM calls k WHERE k.conv = c.id AND k.answered_at > 0) AS with_call,
			COUNT(*), COALESCE(AVG(c.ended_at - c.accepted_at), 0)
		FROM conversations c
		WHERE c.org = ? AND c.state = ? AND c.ended_at >= ? AND c.accepted_at > 0
		GROUP BY with_call`, org, wire.ConvEnded, since)
	if err != nil {
		return st, err
	}
	err = sqldb.AddHandleTimes(&st, rows)
	rows.Close()
	if err != nil {
		return st, err
	}
	// Outcomes of every conversation that ended, accepted or not (abandoned in the queue too).
	err = d.db.QueryRowContext(ctx, `SELECT
			COALESCE(SUM(CASE WHEN outcome = ? THEN 1 ELSE 0 END), 0),
			COALESCE(SUM(CASE WHEN outcome = ? THEN 1 ELSE 0 END), 0),
			COALESCE(SUM(CASE WHEN end_reason = ? THEN 1 ELSE 0 END), 0)
		FROM conversations WHERE org = ? AND state = ? AND ended_at >= ?`,
		wire.OutcomeResolved, wire.OutcomeAbandoned, wire.EndInactivity, org, wire.ConvEnded, since).Scan(&st.Resolved, &st.Abandoned, &st.AutoClosed)
	if err != nil {
		return st, err
	}
	rows, err = d.db.QueryContext(ctx, `SELECT outcome, COUNT(*),
			COALESCE(SUM(CASE WHEN answered_at > 0 AND ended_at > answered_at THEN ended_at - answered_at END), 0),
			SUM(CASE WHEN answered_at > 0 THEN 1 ELSE 0 END)
		FROM calls WHERE org = ? AND state = ? AND ended_at >= ? GROUP BY outcome`, org, wire.CallEnded, since)
	if err != nil {
		return st, err
	}
	defer rows.Close()
	err = sqldb.AddCallOutcomes(&st, rows)
	return st, err
}
