package postgres

import (
	"context"

	"github.com/parleyhq/parley/hub/store"
	"github.com/parleyhq/parley/hub/store/sqldb"
	"github.com/parleyhq/parley/wire"
)

// SaveCall implements store.CallStore.
func (d *DB) SaveCall(ctx context.Context, c store.CallRecord) error {
	_, err := d.pool.Exec(ctx, `INSERT INTO calls (`+sqldb.CallCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
		ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, state = excluded.state, outcome = excluded.outcome,
		reason = excluded.reason, ended_by = excluded.ended_by, answered_at = excluded.answered_at, ended_at = excluded.ended_at`,
		c.ID, c.Conv, c.Org, c.Agent, c.Kind, c.State, c.Outcome, c.Reason, c.EndedBy, c.CreatedAt, c.AnsweredAt, c.EndedAt)
	if isForeignKey(err) {
		return store.ErrNotFound
	}
	return err
}

// EndOpenCalls implements store.CallStore.
func (d *DB) EndOpenCalls(ctx context.Context, at int64, reason string) (int, error) {
	tag, err := d.pool.Exec(ctx, `UPDATE calls SET state = $1, ended_at = $2, reason = $3,
		outcome = CASE WHEN answered_at = 0 THEN $4 ELSE outcome END WHERE state != $1`,
		wire.CallEnded, at, reason, wire.OutcomeFailed)
	if err != nil {
		return 0, err
	}
	return int(tag.RowsAffected()), nil
}

// EndOpenCallsOf is EndOpenCalls for one organisation's calls (a cluster node taking it over).
func (d *DB) EndOpenCallsOf(ctx context.Context, org wire.OrgID, at int64, reason string) (int, error) {
	tag, err := d.pool.Exec(ctx, `UPDATE calls SET state = $1, ended_at = $2, reason = $3,
		outcome = CASE WHEN answered_at = 0 THEN $4 ELSE outcome END WHERE state != $1 AND org = $5`,
		wire.CallEnded, at, reason, wire.OutcomeFailed, org)
	if err != nil {
		return 0, err
	}
	return int(tag.RowsAffected()), nil
}

// OpenCallsOf lists org's ringing and active calls, oldest first: a cluster node taking the
// organisation over keeps those whose conversation and agent are still there (hub router.adopt).
func (d *DB) OpenCallsOf(ctx context.Context, org wire.OrgID) ([]store.CallRecord, error) {
	rows, err := d.pool.Query(ctx, `SELECT `+sqldb.CallCols+` FROM calls WHERE org = $1 AND state != $2 ORDER BY created_at, id`,
		org, wire.CallEnded)
	return collect(rows, err, sqldb.ScanCall)
}

// CallsOf implements store.CallStore.
func (d *DB) CallsOf(ctx context.Context, conv wire.ConversationID) ([]store.CallRecord, error) {
	rows, err := d.pool.Query(ctx, `SELECT `+sqldb.CallCols+` FROM calls WHERE conv = $1 ORDER BY created_at, id`, conv)
	return collect(rows, err, sqldb.ScanCall)
}

// Report implements store.CallStore.
func (d *DB) Report(ctx context.Context, org wire.OrgID, since, until int64) ([]store.ReportRow, error) {
	rows, err := d.pool.Query(ctx, `SELECT `+sqldb.ReportCols+`
		FROM conversations c LEFT JOIN calls k ON k.conv = c.id
		WHERE c.org = $1 AND c.state = $2 AND c.ended_at >= $3 AND c.ended_at < $4
		ORDER BY c.ended_at, c.id, k.created_at, k.id`, org, wire.ConvEnded, since, until)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	return sqldb.ScanReport(rows)
}

// CallsReport implements store.CallStore.
func (d *DB) CallsReport(ctx context.Context, org wire.OrgID, since, until int64) ([]store.CallRecord, error) {
	rows, err := d.pool.Query(ctx, `SELECT `+sqldb.CallCols+` FROM calls WHERE org = $1 AND state = $2 AND ended_at >= $3 AND ended_at < $4
		ORDER BY ended_at, id`, org, wire.CallEnded, since, until)
	return collect(rows, err, sqldb.ScanCall)
}

// Stats implements store.CallStore.
func (d *DB) Stats(ctx context.Context, org wire.OrgID, since int64) (wire.Stats, error) {
	st := wire.Stats{SinceMS: since, Calls: map[wire.CallOutcome]int{}}
	// A conversation counts as "with call" when one of its calls was answered.
	rows, err := d.pool.Query(ctx, `SELECT
			EXISTS (SELECT 1 FROM calls k WHERE k.conv = c.id AND k.answered_at > 0) AS with_call,
			COUNT(*), COALESCE(AVG(c.ended_at - c.accepted_at), 0)::float8
		FROM conversations c
		WHERE c.org = $1 AND c.state = $2 AND c.ended_at >= $3 AND c.accepted_at > 0
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
	err = d.pool.QueryRow(ctx, `SELECT
			COUNT(*) FILTER (WHERE outcome = $1),
			COUNT(*) FILTER (WHERE outcome = $2),
			COUNT(*) FILTER (WHERE end_reason = $3)
		FROM conversations WHERE org = $4 AND state = $5 AND ended_at >= $6`,
		wire.OutcomeResolved, wire.OutcomeAbandoned, wire.EndInactivity, org, wire.ConvEnded, since).Scan(&st.Resolved, &st.Abandoned, &st.AutoClosed)
	if err != nil {
		return st, err
	}
	rows, err = d.pool.Query(ctx, `SELECT outcome, COUNT(*),
			COALESCE(SUM(CASE WHEN answered_at > 0 AND ended_at > answered_at THEN ended_at - answered_at END), 0)::bigint,
			COUNT(*) FILTER (WHERE answered_at > 0)
		FROM calls WHERE org = $1 AND state = $2 AND ended_at >= $3 GROUP BY outcome`, org, wire.CallEnded, since)
	if err != nil {
		return st, err
	}
	defer rows.Close()
	err = sqldb.AddCallOutcomes(&st, rows)
	return st, err
}
