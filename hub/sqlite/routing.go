package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"strings"

	"github.com/parleyhq/parley/hub/store"
	"github.com/parleyhq/parley/hub/store/sqldb"
	"github.com/parleyhq/parley/wire"
)

// Queues implements store.RoutingStore.
func (d *DB) Queues(ctx context.Context, org wire.OrgID) ([]wire.Queue, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT settings, is_default FROM queues WHERE org = ? ORDER BY position, id`, org)
	return collect(rows, err, sqldb.ScanQueue)
}

// SaveQueue implements store.RoutingStore.
func (d *DB) SaveQueue(ctx context.Context, org wire.OrgID, q wire.Queue) error {
	raw, err := json.Marshal(q)
	if err != nil {
		return err
	}
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if q.Default {
		if _, err := tx.ExecContext(ctx, `UPDATE queues SET is_default = 0 WHERE org = ? AND id != ?`, org, q.ID); err != nil {
			return err
		}
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO queues (org, id, position, is_default, settings)
		VALUES (?, ?, (SELECT COALESCE(MAX(position), 0) + 1 FROM queues WHERE org = ?), ?, ?)
		ON CONFLICT (org, id) DO UPDATE SET is_default = excluded.is_default, settings = excluded.settings`,
		org, q.ID, org, q.Default, string(raw))
	if err != nil {
		return foreignKey(err)
	}
	return tx.Commit()
}

// DeleteQueue implements store.RoutingStore.
func (d *DB) DeleteQueue(ctx context.Context, org wire.OrgID, id wire.QueueID) error {
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `DELETE FROM queues WHERE org = ? AND id = ?`, org, id)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return store.ErrNotFound
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM queue_members WHERE org = ? AND queue = ?`, org, id); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM quick_replies WHERE org = ? AND scope = ? AND queue = ?`, org, wire.QuickReplyQueue, id); err != nil {
		return err
	}
	return tx.Commit()
}

// MemberRoutings implements store.RoutingStore.
func (d *DB) MemberRoutings(ctx context.Context, org wire.OrgID) ([]wire.MemberRouting, error) {
	var ms sqldb.Members
	rows, err := d.db.QueryContext(ctx, `SELECT m.user_id, m.queue FROM queue_members m
		LEFT JOIN queues q ON q.org = m.org AND q.id = m.queue
		WHERE m.org = ? ORDER BY m.user_id, q.position, m.queue`, org)
	if _, err := collect(rows, err, ms.AddQueue); err != nil {
		return nil, err
	}
	rows, err = d.db.QueryContext(ctx, `SELECT user_id, skill, level FROM member_skills WHERE org = ? ORDER BY user_id, skill`, org)
	if _, err := collect(rows, err, ms.AddSkill); err != nil {
		return nil, err
	}
	return ms.List(), nil
}

// SetMemberRouting implements store.RoutingStore.
func (d *DB) SetMemberRouting(ctx context.Context, org wire.OrgID, m wire.MemberRouting) error {
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `DELETE FROM queue_members WHERE org = ? AND user_id = ?`, org, m.User); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM member_skills WHERE org = ? AND user_id = ?`, org, m.User); err != nil {
		return err
	}
	for _, q := range m.Queues {
		if _, err := tx.ExecContext(ctx, `INSERT INTO queue_members (org, queue, user_id) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`, org, q, m.User); err != nil {
			return foreignKey(err)
		}
	}
	for _, s := range m.Skills {
		if _, err := tx.ExecContext(ctx, `INSERT INTO member_skills (org, user_id, skill, level) VALUES (?, ?, ?, ?)
			ON CONFLICT (user_id, skill) DO UPDATE SET level = excluded.level`, org, m.User, s.Name, s.Level); err != nil {
			return foreignKey(err)
		}
	}
	return tx.Commit()
}

// QuickReplies implements store.RoutingStore.
func (d *DB) QuickReplies(ctx context.Context, org wire.OrgID) ([]wire.QuickReply, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT `+sqldb.QuickReplyCols+` FROM quick_replies
		WHERE org = ? ORDER BY shortcut, id`, org)
	return collect(rows, err, sqldb.ScanQuickReply)
}

// SaveQuickReply implements store.RoutingStore.
func (d *DB) SaveQuickReply(ctx context.Context, org wire.OrgID, q wire.QuickReply) error {
	if q.UpdatedAt == 0 {
		q.UpdatedAt = d.Now().UnixMilli()
	}
	var owner wire.OrgID
	err := d.db.QueryRowContext(ctx, `SELECT org FROM quick_replies WHERE id = ?`, q.ID).Scan(&owner)
	switch {
	case err == nil && owner != org:
		return store.ErrNotFound // another organisation's: it does not exist for this one
	case err != nil && !errors.Is(err, sql.ErrNoRows):
		return err
	}
	_, err = d.db.ExecContext(ctx, `INSERT INTO quick_replies (id, org, scope, queue, owner, shortcut, text, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET scope = excluded.scope, queue = excluded.queue, owner = excluded.owner,
		shortcut = excluded.shortcut, text = excluded.text, updated_at = excluded.updated_at`,
		q.ID, org, q.Scope, q.Queue, q.Owner, q.Shortcut, q.Text, q.UpdatedAt)
	return foreignKey(err)
}

// DeleteQuickReply implements store.RoutingStore.
func (d *DB) DeleteQuickReply(ctx context.Context, org wire.OrgID, id wire.QuickReplyID) error {
	res, err := d.db.ExecContext(ctx, `DELETE FROM quick_replies WHERE org = ? AND id = ?`, org, id)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return store.ErrNotFound
	}
	return nil
}

// ConvRoutings implements store.RoutingStore.
func (d *DB) ConvRoutings(ctx context.Context, ids []wire.ConversationID) (map[wire.ConversationID]store.ConvRouting, error) {
	out := make(map[wire.ConversationID]store.ConvRouting, len(ids))
	// In pages, well under SQLite's limit on bound parameters.
	for len(ids) > 0 {
		page := ids[:min(len(ids), 500)]
		ids = ids[len(page):]
		args := make([]any, len(page))
		for i, id := range page {
			args[i] = id
		}
		rows, err := d.db.QueryContext(ctx, `SELECT `+sqldb.ConvRoutingCols+`
			FROM conv_routing WHERE conv IN (?`+strings.Repeat(", ?", len(page)-1)+`)`, args...)
		if _, err := collect(rows, err, func(row sqldb.Row) (struct{}, error) {
			id, r, err := sqldb.ScanConvRouting(row)
			if err == nil {
				out[id] = r
			}
			return struct{}{}, err
		}); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// SaveConvRouting implements store.RoutingStore.
func (d *DB) SaveConvRouting(ctx context.Context, conv wire.ConversationID, r store.ConvRouting) error {
	_, err := d.db.ExecContext(ctx, `INSERT INTO conv_routing (`+sqldb.ConvRoutingCols+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (conv) DO UPDATE SET queue = excluded.queue, queued_at = excluded.queued_at, visit = excluded.visit,
		message = excluded.message, contact = excluded.contact, skills = excluded.skills, transfer = excluded.transfer`,
		sqldb.ConvRoutingValues(conv, r)...)
	return foreignKey(err)
}

// SaveVisit implements store.RoutingStore.
func (d *DB) SaveVisit(ctx context.Context, v store.Visit) error {
	_, err := d.db.ExecContext(ctx, `INSERT INTO queue_visits (`+sqldb.VisitCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (conv, n) DO UPDATE SET queue = excluded.queue, entered_at = excluded.entered_at,
		answered_at = excluded.answered_at, first_response_at = excluded.first_response_at, left_at = excluded.left_at,
		outcome = excluded.outcome, agent_id = excluded.agent_id, message = excluded.message, with_call = excluded.with_call`,
		v.Conv, v.N, v.Org, v.Queue, v.EnteredAt, v.AnsweredAt, v.FirstResponseAt, v.LeftAt, v.Outcome, v.Agent, v.Message, v.WithCall)
	return foreignKey(err)
}

// Visits implements store.RoutingStore.
func (d *DB) Visits(ctx context.Context, org wire.OrgID, since, until int64) ([]store.Visit, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT `+sqldb.VisitCols+` FROM queue_visits
		WHERE org = ? AND entered_at < ? AND (entered_at >= ? OR left_at >= ? OR left_at = 0 OR answered_at >= ? OR first_response_at >= ?)
		ORDER BY entered_at, conv, n`, org, until, since, since, since, since)
	return collect(rows, err, sqldb.ScanVisit)
}

// SetConsultant implements store.RoutingStore.
func (d *DB) SetConsultant(ctx context.Context, c store.Consultant, on bool) error {
	if !on {
		_, err := d.db.ExecContext(ctx, `DELETE FROM consultants WHERE conv = ? AND user_id = ?`, c.Conv, c.User)
		return err
	}
	_, err := d.db.ExecContext(ctx, `INSERT INTO consultants (conv, user_id) VALUES (?, ?) ON CONFLICT DO NOTHING`, c.Conv, c.User)
	return foreignKey(err)
}

// OpenConsultants implements store.RoutingStore.
func (d *DB) OpenConsultants(ctx context.Context) ([]store.Consultant, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT k.conv, k.user_id FROM consultants k JOIN conversations c ON c.id = k.conv
		WHERE c.state IN (?, ?) ORDER BY k.conv, k.user_id`, wire.ConvWaiting, wire.ConvActive)
	return collect(rows, err, sqldb.ScanConsultant)
}

// foreignKey reports a row naming a missing one (an unknown organisation, member or
// conversation) as store.ErrNotFound.
func foreignKey(err error) error {
	if err != nil && strings.Contains(err.Error(), "FOREIGN KEY constraint failed") {
		return store.ErrNotFound
	}
	return err
}
