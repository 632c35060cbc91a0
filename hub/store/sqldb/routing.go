package sqldb

import (
	"context"
	"encoding/json"

	"github.com/parleyhq/parley/hub/store"
	"github.com/parleyhq/parley/wire"
)

// ScanQueue scans a queue selected as settings, is_default: the settings are the queue as JSON.
func ScanQueue(row Row) (wire.Queue, error) {
	var raw string
	var q wire.Queue
	var def bool
	if err := row.Scan(&raw, &def); err != nil {
		return q, err
	}
	if err := json.Unmarshal([]byte(raw), &q); err != nil {
		return q, err
	}
	q.Default = def
	return q, nil
}

// Members gathers an organisation's members' queues and skills into wire.MemberRoutings, in the
// order the members first appear.
type Members struct {
	byUser map[wire.UserID]*wire.MemberRouting
	order  []wire.UserID
}

func (ms *Members) get(u wire.UserID) *wire.MemberRouting {
	if ms.byUser == nil {
		ms.byUser = map[wire.UserID]*wire.MemberRouting{}
	}
	m := ms.byUser[u]
	if m == nil {
		m = &wire.MemberRouting{User: u, Queues: []wire.QueueID{}, Skills: []wire.Skill{}}
		ms.byUser[u] = m
		ms.order = append(ms.order, u)
	}
	return m
}

// AddQueue scans a member's queue selected as user_id, queue.
func (ms *Members) AddQueue(row Row) (struct{}, error) {
	var u wire.UserID
	var q wire.QueueID
	if err := row.Scan(&u, &q); err != nil {
		return struct{}{}, err
	}
	m := ms.get(u)
	m.Queues = append(m.Queues, q)
	return struct{}{}, nil
}

// AddSkill scans a member's skill selected as user_id, skill, level.
func (ms *Members) AddSkill(row Row) (struct{}, error) {
	var u wire.UserID
	var s wire.Skill
	if err := row.Scan(&u, &s.Name, &s.Level); err != nil {
		return struct{}{}, err
	}
	m := ms.get(u)
	m.Skills = append(m.Skills, s)
	return struct{}{}, nil
}

// List is every member gathered.
func (ms *Members) List() []wire.MemberRouting {
	out := make([]wire.MemberRouting, 0, len(ms.order))
	for _, u := range ms.order {
		out = append(out, *ms.byUser[u])
	}
	return out
}

// ConvRoutingCols are the columns ScanConvRouting reads and ConvRoutingValues gives, in their order.
const ConvRoutingCols = `conv, queue, queued_at, visit, message, contact, skills, transfer`

// ScanConvRouting scans a conversation's routing selected with ConvRoutingCols: skills and
// transfer are JSON, empty when there are none (a value that does not parse is left out).
func ScanConvRouting(row Row) (wire.ConversationID, store.ConvRouting, error) {
	var id wire.ConversationID
	var r store.ConvRouting
	var skills, transfer string
	if err := row.Scan(&id, &r.Queue, &r.QueuedAt, &r.Visit, &r.Message, &r.Contact, &skills, &transfer); err != nil {
		return id, r, err
	}
	if skills != "" {
		_ = json.Unmarshal([]byte(skills), &r.Skills)
	}
	if transfer != "" {
		var t wire.TransferInfo
		if json.Unmarshal([]byte(transfer), &t) == nil {
			r.Transfer = &t
		}
	}
	return id, r, nil
}

// ConvRoutingValues are conv's routing r in ConvRoutingCols' order, for storing.
func ConvRoutingValues(conv wire.ConversationID, r store.ConvRouting) []any {
	var skills, transfer string
	if len(r.Skills) > 0 {
		b, _ := json.Marshal(r.Skills)
		skills = string(b)
	}
	if r.Transfer != nil {
		b, _ := json.Marshal(r.Transfer)
		transfer = string(b)
	}
	return []any{conv, r.Queue, r.QueuedAt, r.Visit, r.Message, store.Clean(r.Contact), store.Clean(skills), store.Clean(transfer)}
}

// Queues implements store.RoutingStore.
func (e *Engine) Queues(ctx context.Context, org wire.OrgID) ([]wire.Queue, error) {
	rows, err := e.DB.Query(ctx, `SELECT settings, is_default FROM queues WHERE org = ? ORDER BY position, id`, org)
	return collect(rows, err, ScanQueue)
}

// SaveQueue implements store.RoutingStore.
func (e *Engine) SaveQueue(ctx context.Context, org wire.OrgID, q wire.Queue) error {
	raw, err := json.Marshal(q)
	if err != nil {
		return err
	}
	tx, err := e.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	// Where hubs write at once, the organisation's row is locked, so two saves at once number
	// their queues one after the other.
	if e.ForUpdate != "" {
		if _, err := tx.Exec(ctx, `SELECT 1 FROM orgs WHERE id = ?`+e.ForUpdate, org); err != nil {
			return err
		}
	}
	if q.Default {
		if _, err := tx.Exec(ctx, `UPDATE queues SET is_default = false WHERE org = ? AND id != ?`, org, q.ID); err != nil {
			return err
		}
	}
	_, err = tx.Exec(ctx, `INSERT INTO queues (org, id, position, is_default, settings)
		VALUES (?, ?, (SELECT COALESCE(MAX(position), 0) + 1 FROM queues WHERE org = ?), ?, ?)
		ON CONFLICT (org, id) DO UPDATE SET is_default = excluded.is_default, settings = excluded.settings`,
		org, q.ID, org, q.Default, e.Text(string(raw)))
	if err != nil {
		return e.foreignKey(err)
	}
	return tx.Commit(ctx)
}

// DeleteQueue implements store.RoutingStore.
func (e *Engine) DeleteQueue(ctx context.Context, org wire.OrgID, id wire.QueueID) error {
	tx, err := e.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	n, err := tx.Exec(ctx, `DELETE FROM queues WHERE org = ? AND id = ?`, org, id)
	if err != nil {
		return err
	}
	if n == 0 {
		return store.ErrNotFound
	}
	if _, err := tx.Exec(ctx, `DELETE FROM queue_members WHERE org = ? AND queue = ?`, org, id); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `DELETE FROM quick_replies WHERE org = ? AND scope = ? AND queue = ?`, org, wire.QuickReplyQueue, id); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

// MemberRoutings implements store.RoutingStore.
func (e *Engine) MemberRoutings(ctx context.Context, org wire.OrgID) ([]wire.MemberRouting, error) {
	var ms Members
	rows, err := e.DB.Query(ctx, `SELECT m.user_id, m.queue FROM queue_members m
		LEFT JOIN queues q ON q.org = m.org AND q.id = m.queue
		WHERE m.org = ? ORDER BY m.user_id, q.position, m.queue`, org)
	if _, err := collect(rows, err, ms.AddQueue); err != nil {
		return nil, err
	}
	rows, err = e.DB.Query(ctx, `SELECT user_id, skill, level FROM member_skills WHERE org = ? ORDER BY user_id, skill`, org)
	if _, err := collect(rows, err, ms.AddSkill); err != nil {
		return nil, err
	}
	return ms.List(), nil
}

// SetMemberRouting implements store.RoutingStore.
func (e *Engine) SetMemberRouting(ctx context.Context, org wire.OrgID, m wire.MemberRouting) error {
	tx, err := e.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `DELETE FROM queue_members WHERE org = ? AND user_id = ?`, org, m.User); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `DELETE FROM member_skills WHERE org = ? AND user_id = ?`, org, m.User); err != nil {
		return err
	}
	for _, q := range m.Queues {
		if _, err := tx.Exec(ctx, `INSERT INTO queue_members (org, queue, user_id) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`, org, q, m.User); err != nil {
			return e.foreignKey(err)
		}
	}
	for _, s := range m.Skills {
		if _, err := tx.Exec(ctx, `INSERT INTO member_skills (org, user_id, skill, level) VALUES (?, ?, ?, ?)
			ON CONFLICT (user_id, skill) DO UPDATE SET level = excluded.level`, org, m.User, e.Text(s.Name), s.Level); err != nil {
			return e.foreignKey(err)
		}
	}
	return tx.Commit(ctx)
}

// QuickReplies implements store.RoutingStore.
func (e *Engine) QuickReplies(ctx context.Context, org wire.OrgID) ([]wire.QuickReply, error) {
	rows, err := e.DB.Query(ctx, `SELECT `+QuickReplyCols+` FROM quick_replies
		WHERE org = ? ORDER BY shortcut, id`, org)
	return collect(rows, err, ScanQuickReply)
}

// SaveQuickReply implements store.RoutingStore.
func (e *Engine) SaveQuickReply(ctx context.Context, org wire.OrgID, q wire.QuickReply) error {
	if q.UpdatedAt == 0 {
		q.UpdatedAt = e.Now().UnixMilli()
	}
	// Another organisation's reply with this id does not exist for this one: the upsert touches
	// only a row of org, and a clash with another's is ErrNotFound.
	n, err := e.DB.Exec(ctx, `INSERT INTO quick_replies (id, org, scope, queue, owner, shortcut, text, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET scope = excluded.scope, queue = excluded.queue, owner = excluded.owner,
		shortcut = excluded.shortcut, text = excluded.text, updated_at = excluded.updated_at
		WHERE quick_replies.org = excluded.org`,
		q.ID, org, q.Scope, q.Queue, q.Owner, e.Text(q.Shortcut), e.Text(q.Text), q.UpdatedAt)
	if err != nil {
		return e.foreignKey(err)
	}
	if n == 0 {
		return store.ErrNotFound
	}
	return nil
}

// DeleteQuickReply implements store.RoutingStore.
func (e *Engine) DeleteQuickReply(ctx context.Context, org wire.OrgID, id wire.QuickReplyID) error {
	n, err := e.DB.Exec(ctx, `DELETE FROM quick_replies WHERE org = ? AND id = ?`, org, id)
	if err != nil {
		return err
	}
	if n == 0 {
		return store.ErrNotFound
	}
	return nil
}

// SaveConvRouting implements store.RoutingStore.
func (e *Engine) SaveConvRouting(ctx context.Context, conv wire.ConversationID, r store.ConvRouting) error {
	return e.saveConvRouting(ctx, e.DB, conv, r)
}

func (e *Engine) saveConvRouting(ctx context.Context, c Conn, conv wire.ConversationID, r store.ConvRouting) error {
	_, err := c.Exec(ctx, `INSERT INTO conv_routing (`+ConvRoutingCols+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (conv) DO UPDATE SET queue = excluded.queue, queued_at = excluded.queued_at, visit = excluded.visit,
		message = excluded.message, contact = excluded.contact, skills = excluded.skills, transfer = excluded.transfer`,
		ConvRoutingValues(conv, r)...)
	return e.foreignKey(err)
}

// SaveVisit implements store.RoutingStore.
func (e *Engine) SaveVisit(ctx context.Context, v store.Visit) error {
	return e.saveVisit(ctx, e.DB, v)
}

// SaveVisits implements store.RoutingStore.
func (e *Engine) SaveVisits(ctx context.Context, vs []store.Visit) error {
	return e.inTx(ctx, func(tx Tx) error {
		for _, v := range vs {
			if err := e.saveVisit(ctx, tx, v); err != nil {
				return err
			}
		}
		return nil
	})
}

func (e *Engine) saveVisit(ctx context.Context, c Conn, v store.Visit) error {
	_, err := c.Exec(ctx, `INSERT INTO queue_visits (`+VisitCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (conv, n) DO UPDATE SET queue = excluded.queue, entered_at = excluded.entered_at,
		answered_at = excluded.answered_at, first_response_at = excluded.first_response_at, left_at = excluded.left_at,
		outcome = excluded.outcome, agent_id = excluded.agent_id, message = excluded.message, with_call = excluded.with_call`,
		v.Conv, v.N, v.Org, v.Queue, v.EnteredAt, v.AnsweredAt, v.FirstResponseAt, v.LeftAt, v.Outcome, v.Agent, v.Message, v.WithCall)
	return e.foreignKey(err)
}

// Visits implements store.RoutingStore.
func (e *Engine) Visits(ctx context.Context, org wire.OrgID, since, until int64) ([]store.Visit, error) {
	rows, err := e.DB.Query(ctx, `SELECT `+VisitCols+` FROM queue_visits
		WHERE org = ? AND entered_at < ? AND (entered_at >= ? OR left_at >= ? OR left_at = 0 OR answered_at >= ? OR first_response_at >= ?)
		ORDER BY entered_at, conv, n`, org, until, since, since, since, since)
	return collect(rows, err, ScanVisit)
}

// SetConsultant implements store.RoutingStore.
func (e *Engine) SetConsultant(ctx context.Context, c store.Consultant, on bool) error {
	if !on {
		_, err := e.DB.Exec(ctx, `DELETE FROM consultants WHERE conv = ? AND user_id = ?`, c.Conv, c.User)
		return err
	}
	_, err := e.DB.Exec(ctx, `INSERT INTO consultants (conv, user_id) VALUES (?, ?) ON CONFLICT DO NOTHING`, c.Conv, c.User)
	return e.foreignKey(err)
}

// OpenConsultants implements store.RoutingStore.
func (e *Engine) OpenConsultants(ctx context.Context) ([]store.Consultant, error) {
	rows, err := e.DB.Query(ctx, `SELECT k.conv, k.user_id FROM consultants k JOIN conversations c ON c.id = k.conv
		WHERE c.state IN (?, ?) ORDER BY k.conv, k.user_id`, wire.ConvWaiting, wire.ConvActive)
	return collect(rows, err, ScanConsultant)
}

// foreignKey reports a row naming a missing one (an unknown organisation, member or
// conversation) as store.ErrNotFound.
func (e *Engine) foreignKey(err error) error {
	if e.IsForeignKey(err) {
		return store.ErrNotFound
	}
	return err
}
