package sqldb

import (
	"database/sql"
	"strings"

	"github.com/parleyhq/parley/hub/store"
	"github.com/parleyhq/parley/wire"
)

// Prefixed qualifies each column of a column list with p.
func Prefixed(p, cols string) string {
	parts := strings.Split(cols, ",")
	for i, c := range parts {
		parts[i] = p + strings.TrimSpace(c)
	}
	return strings.Join(parts, ", ")
}

// ReportCols are the columns ScanReport reads from conversations c LEFT JOIN calls k: the
// conversation, then its call (NULL when it had none).
var ReportCols = Prefixed("c.", ConvCols) + `, k.id, k.kind, k.outcome, k.answered_at, k.ended_at`

// ScanReport folds rows selected with ReportCols, one conversation's rows after another, into
// one report row per conversation with its calls counted.
func ScanReport(rows Rows) ([]store.ReportRow, error) {
	var out []store.ReportRow
	for rows.Next() {
		var c wire.Conversation
		var callID, kind, outcome sql.NullString
		var answered, ended sql.NullInt64
		if err := rows.Scan(append(ConvFields(&c), &callID, &kind, &outcome, &answered, &ended)...); err != nil {
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

// AddHandleTimes adds to st the rows (with_call, count, average handle time in ms) of the
// accepted conversations that ended, grouped by whether one of their calls was answered.
func AddHandleTimes(st *wire.Stats, rows Rows) error {
	for rows.Next() {
		var with bool
		var n int
		var avg float64
		if err := rows.Scan(&with, &n, &avg); err != nil {
			return err
		}
		if with {
			st.WithCall, st.AHTWithCallMS = n, int64(avg)
		} else {
			st.WithoutCall, st.AHTWithoutCallMS = n, int64(avg)
		}
	}
	return rows.Err()
}

// AddCallOutcomes adds to st the rows (outcome, count, answered ms, answered count) of the
// calls that ended, grouped by outcome, and their average answered length.
func AddCallOutcomes(st *wire.Stats, rows Rows) error {
	var total, answered int64
	for rows.Next() {
		var outcome wire.CallOutcome
		var n int
		var ms, ans int64
		if err := rows.Scan(&outcome, &n, &ms, &ans); err != nil {
			return err
		}
		st.Calls[outcome] = n
		total += ms
		answered += ans
	}
	if answered > 0 {
		st.AvgCallMS = total / answered
	}
	return rows.Err()
}
