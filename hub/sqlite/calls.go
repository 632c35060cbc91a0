package sqlite

import (
	"context"
	"database/sql"
	"strings"

	"github.com/parleyhq/parley/hub/store"
	"github.com/parleyhq/parley/hub/store/sqldb"
	"github.com/parleyhq/parley/wire"
)

// UpdateOrg implements store.CallStore.
func (d *DB) UpdateOrg(ctx context.Context, o store.Org) error {
	return updateOrg(ctx, d.db, o)
}

func updateOrg(ctx context.Context, db execer, o store.Org) error {
	res, err := db.ExecContext(ctx, `UPDATE orgs SET name = ?, region = ?, calls = ?, language = ? WHERE id = ?`,
		o.Name, o.Region, sqldb.CallsOrDefault(o.Calls), sqldb.LanguageOrDefault(o.Language), o.ID)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return store.ErrNotFound
	}
	return nil
}

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
	rows, err := d.db.QueryContext(ctx, `SELECT `+prefixed("c.", sqldb.ConvCols)+`,
			k.id, k.kind, k.outcome, k.answered_at, k.ended_at
		FROM conversations c LEFT JOIN calls k ON k.conv = c.id
		WHERE c.org = ? AND c.state = ? AND c.ended_at >= ? AND c.ended_at < ?
		ORDER BY c.ended_at, c.id, k.created_at, k.id`, org, wire.ConvEnded, since, until)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.ReportRow
	for rows.Next() {
		var c wire.Conversation
		var callID, kind, outcome sql.NullString
		var answered, ended sql.NullInt64
		if err := rows.Scan(append(sqldb.ConvFields(&c), &callID, &kind, &outcome, &answered, &ended)...); err != nil {
			return nil, err
		}
		if n := len(out); n == 0 || out[n-1].Conv.ID != c.ID {
			row := store.ReportRow{Conv: c}
			if c.AcceptedAt > 0 && c.EndedAt > c.AcceptedAt {
				row.HandleMS = c.EndedAt - c.AcceptedAt + c.WrapMS
			}
			out = append(out, row)
		}
		if !callID.Valid {
			continue
		}
		row := &out[len(out)-1]
		row.Calls++
		row.CallKinds = append(row.CallKinds, wire.CallKind(kind.String))
		row.Outcomes = append(row.Outcomes, wire.CallOutcome(outcome.String))
		if answered.Int64 > 0 {
			row.Answered++
			if ended.Int64 > answered.Int64 {
				row.CallMS += ended.Int64 - answered.Int64
			}
		}
	}
	return out, rows.Err()
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

// prefixed qualifies each column of a column list with p.
func prefixed(p, cols string) string {
	parts := strings.Split(cols, ",")
	for i, c := range parts {
		parts[i] = p + strings.TrimSpace(c)
	}
	return strings.Join(parts, ", ")
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
	defer rows.Close()
	for rows.Next() {
		var with bool
		var n int
		var avg float64
		if err := rows.Scan(&with, &n, &avg); err != nil {
			return st, err
		}
		if with {
			st.WithCall, st.AHTWithCallMS = n, int64(avg)
		} else {
			st.WithoutCall, st.AHTWithoutCallMS = n, int64(avg)
		}
	}
	if err := rows.Err(); err != nil {
		return st, err
	}
	rows.Close()
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
	var total, answered int64
	for rows.Next() {
		var outcome wire.CallOutcome
		var n int
		var ms, ans int64
		if err := rows.Scan(&outcome, &n, &ms, &ans); err != nil {
			return st, err
		}
		st.Calls[outcome] = n
		total += ms
		answered += ans
	}
	if answered > 0 {
		st.AvgCallMS = total / answered
	}
	return st, rows.Err()
}
