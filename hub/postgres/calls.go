package postgres

import (
	"context"

	"github.com/parleyhq/parley/hub/store"
	"github.com/parleyhq/parley/hub/store/sqldb"
	"github.com/parleyhq/parley/wire"
)

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
