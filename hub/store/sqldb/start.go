package sqldb

import (
	"context"

	"github.com/parleyhq/parley/hub/store"
	"github.com/parleyhq/parley/wire"
)

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
func (e *Engine) insertConversation(ctx context.Context, c Conn, conv wire.Conversation) error {
	if conv.ActivityAt == 0 {
		conv.ActivityAt = conv.CreatedAt
	}
	_, err := c.Exec(ctx, `INSERT INTO conversations (`+ConvCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		conv.ID, conv.Org, conv.State, store.Clean(conv.CustomerName), conv.AgentID, store.Clean(conv.AgentName), conv.LastSeq,
		conv.CreatedAt, conv.AcceptedAt, conv.EndedAt, conv.EndedBy, conv.Customer, conv.CustomerSince, conv.ActivityAt,
		conv.EndReason, conv.Outcome, conv.WrapCode, store.Clean(conv.WrapNote), conv.WrapMS)
	return e.conflict(err)
}
