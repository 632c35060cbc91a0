package hub

import (
	"context"
	"time"

	"github.com/parleyhq/parley/hub/store"
	"github.com/parleyhq/parley/wire"
)

// slowReads is a store whose reads of conversations, messages, receipts and figures each wait
// first, as on a slow or busy disk (Config.ReadDelay, for benchmarks: parley-bench -read-delay
// shows what a slow disk does to the routing loop).
type slowReads struct {
	store.Store
	delay time.Duration
}

func (s slowReads) wait(ctx context.Context) error {
	t := time.NewTimer(s.delay)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s slowReads) Conversation(ctx context.Context, id wire.ConversationID) (wire.Conversation, error) {
	if err := s.wait(ctx); err != nil {
		return wire.Conversation{}, err
	}
	return s.Store.Conversation(ctx, id)
}

func (s slowReads) Messages(ctx context.Context, conv wire.ConversationID, after int64, limit int) ([]wire.Message, error) {
	if err := s.wait(ctx); err != nil {
		return nil, err
	}
	return s.Store.Messages(ctx, conv, after, limit)
}

func (s slowReads) FirstMessage(ctx context.Context, conv wire.ConversationID, author wire.Author) (wire.Message, error) {
	if err := s.wait(ctx); err != nil {
		return wire.Message{}, err
	}
	return s.Store.FirstMessage(ctx, conv, author)
}

func (s slowReads) Receipts(ctx context.Context, conv wire.ConversationID) ([]store.Receipt, error) {
	if err := s.wait(ctx); err != nil {
		return nil, err
	}
	return s.Store.Receipts(ctx, conv)
}

func (s slowReads) Stats(ctx context.Context, org wire.OrgID, since int64) (wire.Stats, error) {
	if err := s.wait(ctx); err != nil {
		return wire.Stats{}, err
	}
	return s.Store.Stats(ctx, org, since)
}
