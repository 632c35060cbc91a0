package postgres

import (
	"context"
	"encoding/json"

	"github.com/parleyhq/parley/hub/store"
	"github.com/parleyhq/parley/hub/store/sqldb"
	"github.com/parleyhq/parley/wire"
)

// fk reports a row naming a missing one (an unknown organisation, member or conversation) as
// store.ErrNotFound.
func fk(err error) error {
	if isForeignKey(err) {
		return store.ErrNotFound
	}
	return err
}

// Queues implements store.RoutingStore.
func (d *DB) Queues(ctx context.Context, org wire.OrgID) ([]wire.Queue, error) {
	rows, err := d.pool.Query(ctx, `SELECT settings, is_default FROM queues WHERE org = $1 ORDER BY position, id`, org)
	return collect(rows, err, sqldb.ScanQueue)
}

// SaveQueue implements store.RoutingStore.
func (d *DB) SaveQueue(ctx context.Context, org wire.OrgID, q wire.Queue) error {
	raw, err := json.Marshal(q)
	if err != nil {
		return err
	}
	tx, err := d.pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	// The organisation's row is locked, so two saves at once number their queues one after the other.
	if _, err := tx.Exec(ctx, `SELECT 1 FROM orgs WHERE id = $1 FOR UPDATE`, org); err != nil {
		return err
	}
	if q.Default {
		if _, err := tx.Exec(ctx, `UPDATE queues SET is_default = false WHERE org = $1 AND id != $2`, org, q.ID); err != nil {
			return err
		}
	}
	_, err = tx.Exec(ctx, `INSERT INTO queues (org, id, position, is_default, settings)
		VALUES ($1, $2, (SELECT COALESCE(MAX(position), 0) + 1 FROM queues WHERE org = $1), $3, $4)
		ON CONFLICT (org, id) DO UPDATE SET is_default = excluded.is_default, settings = excluded.settings`,
		org, q.ID, q.Default, clean(string(raw)))
	if err != nil {
		return fk(err)
	}
	return tx.Commit(ctx)
}

// DeleteQueue implements store.RoutingStore.
func (d *DB) DeleteQueue(ctx context.Context, org wire.OrgID, id wire.QueueID) error {
	tx, err := d.pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	tag, err := tx.Exec(ctx, `DELETE FROM queues WHERE org = $1 AND id = $2`, org, id)
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return store.ErrNotFound
	}
	if _, err := tx.Exec(ctx, `DELETE FROM queue_members WHERE org = $1 AND queue = $2`, org, id); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `DELETE FROM quick_replies WHERE org = $1 AND scope = $2 AND queue = $3`, org, wire.QuickReplyQueue, id); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

// MemberRoutings implements store.RoutingStore.
func (d *DB) MemberRoutings(ctx context.Context, org wire.OrgID) ([]wire.MemberRouting, error) {
	var ms sqldb.Members
	rows, err := d.pool.Query(ctx, `SELECT m.user_id, m.queue FROM queue_members m
		LEFT JOIN queues q ON q.org = m.org AND q.id = m.queue
		WHERE m.org = $1 ORDER BY m.user_id, q.position, m.queue`, org)
	if _, err := collect(rows, err, ms.AddQueue); err != nil {
		return nil, err
	}
	rows, err = d.pool.Query(ctx, `SELECT user_id, skill, level FROM member_skills WHERE org = $1 ORDER BY user_id, skill`, org)
	if _, err := collect(rows, err, ms.AddSkill); err != nil {
		return nil, err
	}
	return ms.List(), nil
}

// SetMemberRouting implements store.RoutingStore.
func (d *DB) SetMemberRouting(ctx context.Context, org wire.OrgID, m wire.MemberRouting) error {
	tx, err := d.pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `DELETE FROM queue_members WHERE org = $1 AND user_id = $2`, org, m.User); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `DELETE FROM member_skills WHERE org = $1 AND user_id = $2`, org, m.User); err != nil {
		return err
	}
	for _, q := range m.Queues {
		if _, err := tx.Exec(ctx, `INSERT INTO queue_members (org, queue, user_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`, org, q, m.User); err != nil {
			return fk(err)
		}
	}
	for _, s := range m.Skills {
		if _, err := tx.Exec(ctx, `INSERT INTO member_skills (org, user_id, skill, level) VALUES ($1, $2, $3, $4)
			ON CONFLICT (user_id, skill) DO UPDATE SET level = excluded.level`, org, m.User, clean(s.Name), s.Level); err != nil {
			return fk(err)
		}
	}
	return tx.Commit(ctx)
}

// QuickReplies implements store.RoutingStore.
func (d *DB) QuickReplies(ctx context.Context, org wire.OrgID) ([]wire.QuickReply, error) {
	rows, err := d.pool.Query(ctx, `SELECT `+sqldb.QuickReplyCols+` FROM quick_replies
		WHERE org = $1 ORDER BY shortcut, id`, org)
	return collect(rows, err, sqldb.ScanQuickReply)
}

// SaveQuickReply implements store.RoutingStore.
func (d *DB) SaveQuickReply(ctx context.Context, org wire.OrgID, q wire.QuickReply) error {
	if q.UpdatedAt == 0 {
		q.UpdatedAt = d.Now().UnixMilli()
	}
	// Another organisation's reply with this id does not exist for this one: the upsert touches
	// only a row of org, and a clash with another's is ErrNotFound.
	tag, err := d.pool.Exec(ctx, `INSERT INTO quick_replies (id, org, scope, queue, owner, shortcut, text, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
		ON CONFLICT (id) DO UPDATE SET scope = excluded.scope, queue = excluded.queue, owner = excluded.owner,
		shortcut = excluded.shortcut, text = excluded.text, updated_at = excluded.updated_at
		WHERE quick_replies.org = excluded.org`,
		q.ID, org, q.Scope, q.Queue, q.Owner, clean(q.Shortcut), clean(q.Text), q.UpdatedAt)
	if err != nil {
		return fk(err)
	}
	if tag.RowsAffected() == 0 {
		return store.ErrNotFound
	}
	return nil
}

// DeleteQuickReply implements store.RoutingStore.
func (d *DB) DeleteQuickReply(ctx context.Context, org wire.OrgID, id wire.QuickReplyID) error {
	tag, err := d.pool.Exec(ctx, `DELETE FROM quick_replies WHERE org = $1 AND id = $2`, org, id)
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return store.ErrNotFound
	}
	return nil
}

// ConvRoutings implements store.RoutingStore.
func (d *DB) ConvRoutings(ctx context.Context, ids []wire.ConversationID) (map[wire.ConversationID]store.ConvRouting, error) {
	out := make(map[wire.ConversationID]store.ConvRouting, len(ids))
	keys := make([]string, len(ids))
	for i, id := range ids {
		keys[i] = string(id)
	}
	rows, err := d.pool.Query(ctx, `SELECT `+sqldb.ConvRoutingCols+`
		FROM conv_routing WHERE conv = ANY($1)`, keys)
	_, err = collect(rows, err, func(row sqldb.Row) (struct{}, error) {
		id, r, err := sqldb.ScanConvRouting(row)
		if err == nil {
			out[id] = r
		}
		return struct{}{}, err
	})
	return out, err
}

// SaveConvRouting implements store.RoutingStore.
func (d *DB) SaveConvRouting(ctx context.Context, conv wire.ConversationID, r store.ConvRouting) error {
	_, err := d.pool.Exec(ctx, `INSERT INTO conv_routing (`+sqldb.ConvRoutingCols+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
		ON CONFLICT (conv) DO UPDATE SET queue = excluded.queue, queued_at = excluded.queued_at, visit = excluded.visit,
		message = excluded.message, contact = excluded.contact, skills = excluded.skills, transfer = excluded.transfer`,
		sqldb.ConvRoutingValues(conv, r)...)
	return fk(err)
}

// SaveVisit implements store.RoutingStore.
func (d *DB) SaveVisit(ctx context.Context, v store.Visit) error {
	_, err := d.pool.Exec(ctx, `INSERT INTO queue_visits (`+sqldb.VisitCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
		ON CONFLICT (conv, n) DO UPDATE SET queue = excluded.queue, entered_at = excluded.entered_at,
		answered_at = excluded.answered_at, first_response_at = excluded.first_response_at, left_at = excluded.left_at,
		outcome = excluded.outcome, agent_id = excluded.agent_id, message = excluded.message, with_call = excluded.with_call`,
		v.Conv, v.N, v.Org, v.Queue, v.EnteredAt, v.AnsweredAt, v.FirstResponseAt, v.LeftAt, v.Outcome, v.Agent, v.Message, v.WithCall)
	return fk(err)
}

// Visits implements store.RoutingStore.
func (d *DB) Visits(ctx context.Context, org wire.OrgID, since, until int64) ([]store.Visit, error) {
	rows, err := d.pool.Query(ctx, `SELECT `+sqldb.VisitCols+` FROM queue_visits
		WHERE org = $1 AND entered_at < $2 AND (entered_at >= $3 OR left_at >= $3 OR left_at = 0 OR answered_at >= $3 OR first_response_at >= $3)
		ORDER BY entered_at, conv, n`, org, until, since)
	return collect(rows, err, sqldb.ScanVisit)
}

// SetConsultant implements store.RoutingStore.
func (d *DB) SetConsultant(ctx context.Context, c store.Consultant, on bool) error {
	if !on {
		_, err := d.pool.Exec(ctx, `DELETE FROM consultants WHERE conv = $1 AND user_id = $2`, c.Conv, c.User)
		return err
	}
	_, err := d.pool.Exec(ctx, `INSERT INTO consultants (conv, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING`, c.Conv, c.User)
	return fk(err)
}

// OpenConsultants implements store.RoutingStore.
func (d *DB) OpenConsultants(ctx context.Context) ([]store.Consultant, error) {
	rows, err := d.pool.Query(ctx, `SELECT k.conv, k.user_id FROM consultants k JOIN conversations c ON c.id = k.conv
		WHERE c.state IN ($1, $2) ORDER BY k.conv, k.user_id`, wire.ConvWaiting, wire.ConvActive)
	return collect(rows, err, sqldb.ScanConsultant)
}
