package sqldb

import (
	"context"
	"strings"

	"github.com/parleyhq/parley/hub/store"
	"github.com/parleyhq/parley/wire"
)

// The chat path: conversations, their messages and read receipts. A person's text is stored
// with store.Clean on every engine, so a NUL byte reads back as U+FFFD on both.

// CreateConversation implements store.Store.
func (e *Engine) CreateConversation(ctx context.Context, c wire.Conversation) error {
	return e.insertConversation(ctx, e.DB, c)
}

// StartConversation implements store.Store: four rows, one commit.
func (e *Engine) StartConversation(ctx context.Context, st store.Start) error {
	return e.inTx(ctx, func(tx Tx) error {
		if err := e.insertConversation(ctx, tx, st.Conv); err != nil {
			return err
		}
		if err := e.createToken(ctx, tx, st.Token, e.Now()); err != nil {
			return err
		}
		if err := e.saveConvRouting(ctx, tx, st.Conv.ID, st.Routing); err != nil {
			return err
		}
		return e.saveVisit(ctx, tx, st.Visit)
	})
}

// insertConversation adds c; its activity starts at its creation unless it says otherwise.
func (e *Engine) insertConversation(ctx context.Context, conn Conn, c wire.Conversation) error {
	if c.ActivityAt == 0 {
		c.ActivityAt = c.CreatedAt
	}
	_, err := conn.Exec(ctx, `INSERT INTO conversations (`+ConvCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		c.ID, c.Org, c.State, store.Clean(c.CustomerName), c.AgentID, store.Clean(c.AgentName), c.LastSeq, c.CreatedAt, c.AcceptedAt,
		c.EndedAt, c.EndedBy, c.Customer, c.CustomerSince, c.ActivityAt, c.EndReason, c.Outcome, c.WrapCode, store.Clean(c.WrapNote), c.WrapMS)
	return e.conflict(err)
}

// Conversation implements store.Store.
func (e *Engine) Conversation(ctx context.Context, id wire.ConversationID) (wire.Conversation, error) {
	return ScanConv(e.DB.QueryRow(ctx, `SELECT `+ConvCols+` FROM conversations WHERE id = ?`, id))
}

// SetWrapUp implements store.Store.
func (e *Engine) SetWrapUp(ctx context.Context, id wire.ConversationID, code, note string, wrapMS int64) error {
	n, err := e.DB.Exec(ctx, `UPDATE conversations SET wrap_code = ?, wrap_note = ?, wrap_ms = ? WHERE id = ?`,
		code, store.Clean(note), wrapMS, id)
	return changed(n, err)
}

// UpdateConversation implements store.Store. It leaves last_seq to AppendMessages, and moves
// activity_at only forward.
func (e *Engine) UpdateConversation(ctx context.Context, c wire.Conversation) error {
	return e.updateConversation(ctx, e.DB, c)
}

// updateConversation saves c's state, agent, times, presence, end reason and outcome.
func (e *Engine) updateConversation(ctx context.Context, conn Conn, c wire.Conversation) error {
	n, err := conn.Exec(ctx, `UPDATE conversations SET state = ?, customer_name = ?, agent_id = ?, agent_name = ?,
		accepted_at = ?, ended_at = ?, ended_by = ?, customer = ?, customer_since = ?, activity_at = `+e.Greatest+`(activity_at, ?),
		end_reason = ?, outcome = ? WHERE id = ?`,
		c.State, store.Clean(c.CustomerName), c.AgentID, store.Clean(c.AgentName), c.AcceptedAt, c.EndedAt, c.EndedBy, c.Customer,
		c.CustomerSince, c.ActivityAt, c.EndReason, c.Outcome, c.ID)
	return changed(n, err)
}

// OpenConversations implements store.Store.
func (e *Engine) OpenConversations(ctx context.Context) ([]wire.Conversation, error) {
	return queryAll(ctx, e.DB, ScanConv, `SELECT `+ConvCols+` FROM conversations WHERE state IN (?, ?) ORDER BY created_at, id`,
		wire.ConvWaiting, wire.ConvActive)
}

// AppendMessage implements store.Store.
func (e *Engine) AppendMessage(ctx context.Context, m wire.Message) (wire.Message, bool, error) {
	res, err := e.AppendMessages(ctx, []wire.Message{m})
	if err != nil {
		return m, false, err
	}
	return res[0].Message, res[0].Dup, nil
}

// AppendMessages implements store.Store: the engine's Append, in one transaction. Two hubs
// storing the same client id at the same moment (PostgreSQL) make one of them fail on the unique
// index: it tries again and finds the first.
func (e *Engine) AppendMessages(ctx context.Context, ms []wire.Message) ([]store.Appended, error) {
	return e.appendAfter(ctx, nil, ms)
}

// UpdateConversationWith implements store.Store: UpdateConversation's statement, then
// AppendMessages' in the same transaction.
func (e *Engine) UpdateConversationWith(ctx context.Context, c wire.Conversation, ms []wire.Message) ([]store.Appended, error) {
	return e.appendAfter(ctx, func(tx Tx) error { return e.updateConversation(ctx, tx, c) }, ms)
}

// appendAfter runs first, when set, then stores ms, in one transaction, the whole of which is
// tried again when a unique index refused a message.
func (e *Engine) appendAfter(ctx context.Context, first func(tx Tx) error, ms []wire.Message) ([]store.Appended, error) {
	clean := make([]wire.Message, len(ms))
	for i, m := range ms {
		m.Text, m.AuthorName, m.ClientID = store.Clean(m.Text), store.Clean(m.AuthorName), store.Clean(m.ClientID)
		clean[i] = m
	}
	for attempt := 0; ; attempt++ {
		var res []store.Appended
		err := e.inTx(ctx, func(tx Tx) (err error) {
			if first != nil {
				if err := first(tx); err != nil {
					return err
				}
			}
			res, err = e.Append(ctx, tx, clean)
			return err
		})
		switch {
		case e.IsUnique(err) && attempt < 3:
			continue
		case err != nil:
			return nil, err
		}
		return res, nil
	}
}

// Messages implements store.Store.
func (e *Engine) Messages(ctx context.Context, conv wire.ConversationID, after int64, limit int) ([]wire.Message, error) {
	return queryAll(ctx, e.DB, ScanMsg, `SELECT `+MsgCols+` FROM messages WHERE conv = ? AND seq > ? ORDER BY seq LIMIT ?`, conv, after, limit)
}

// FirstMessage implements store.Store.
func (e *Engine) FirstMessage(ctx context.Context, conv wire.ConversationID, author wire.Author) (wire.Message, error) {
	return ScanMsg(e.DB.QueryRow(ctx, `SELECT `+MsgCols+` FROM messages WHERE conv = ? AND author = ? ORDER BY seq LIMIT 1`, conv, author))
}

// SetReceipt implements store.Store.
func (e *Engine) SetReceipt(ctx context.Context, conv wire.ConversationID, r store.Receipt) error {
	_, err := e.DB.Exec(ctx, `INSERT INTO receipts (conv, "by", kind, seq) VALUES (?, ?, ?, ?)
		ON CONFLICT (conv, "by", kind) DO UPDATE SET seq = `+e.Greatest+`(receipts.seq, excluded.seq)`, conv, r.By, r.Kind, r.Seq)
	return e.foreignKey(err)
}

// Receipts implements store.Store.
func (e *Engine) Receipts(ctx context.Context, conv wire.ConversationID) ([]store.Receipt, error) {
	return queryAll(ctx, e.DB, ScanReceipt, `SELECT "by", kind, seq FROM receipts WHERE conv = ? ORDER BY "by", kind`, conv)
}

// ConvRoutings implements store.RoutingStore: the routing of the open conversations a hub picks
// up again. The ids go in pages of an IN list, well under SQLite's limit on bound parameters.
func (e *Engine) ConvRoutings(ctx context.Context, ids []wire.ConversationID) (map[wire.ConversationID]store.ConvRouting, error) {
	out := make(map[wire.ConversationID]store.ConvRouting, len(ids))
	for len(ids) > 0 {
		page := ids[:min(len(ids), 500)]
		ids = ids[len(page):]
		args := make([]any, len(page))
		for i, id := range page {
			args[i] = id
		}
		if _, err := queryAll(ctx, e.DB, func(row Row) (struct{}, error) {
			id, r, err := ScanConvRouting(row)
			if err == nil {
				out[id] = r
			}
			return struct{}{}, err
		}, `SELECT `+ConvRoutingCols+` FROM conv_routing WHERE conv IN (?`+strings.Repeat(", ?", len(page)-1)+`)`, args...); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// changed is store.ErrNotFound for a statement that changed no row.
func changed(n int64, err error) error {
	if err == nil && n == 0 {
		return store.ErrNotFound
	}
	return err
}
