package app

import (
	"context"
	"strings"
	"unicode/utf8"

	"github.com/parleyhq/parley/wire"
)

// Conversations lists the agent's conversations, opens one, and carries its chat.
type Conversations struct {
	c *core
}

// List returns the conversations: open ones first, newest activity first.
func (cs *Conversations) List() ([]ConversationView, error) {
	cs.c.mu.Lock()
	defer cs.c.mu.Unlock()
	return cs.c.convViews(), nil
}

// Active returns the id of the open conversation, "" for none.
func (cs *Conversations) Active() (wire.ConversationID, error) {
	cs.c.mu.Lock()
	defer cs.c.mu.Unlock()
	return cs.c.active, nil
}

// Open makes a conversation the active one and marks its customer messages read.
func (cs *Conversations) Open(id wire.ConversationID) (ConversationView, error) {
	c := cs.c
	c.mu.Lock()
	cv, ok := c.convs[id]
	if !ok {
		c.mu.Unlock()
		return ConversationView{}, ErrNoConversation
	}
	c.active = id
	cv.unread = 0
	var lastCustomer int64
	for _, m := range cv.msgs {
		if m.Author == wire.AuthorCustomer {
			lastCustomer = m.Seq
		}
	}
	view := c.view(cv)
	out := []emission{{EventConversations, c.convViews()}, {EventActive, id}}
	live := cv.State != wire.ConvEnded
	c.unlockEmit(out)
	if lastCustomer > 0 && live {
		c.receipt(id, lastCustomer, wire.ReceiptRead)()
	}
	return view, nil
}

// Close leaves the active conversation (the agent looks at something else).
func (cs *Conversations) Close() error {
	cs.c.mu.Lock()
	defer cs.c.mu.Unlock()
	cs.c.active = ""
	return nil
}

// Messages returns a conversation's transcript as the app holds it.
func (cs *Conversations) Messages(id wire.ConversationID) ([]MessageView, error) {
	cs.c.mu.Lock()
	defer cs.c.mu.Unlock()
	cv, ok := cs.c.convs[id]
	if !ok {
		return nil, ErrNoConversation
	}
	return append([]MessageView{}, cv.msgs...), nil
}

// Send posts a message to a conversation. It returns once the hub has stored it.
func (cs *Conversations) Send(id wire.ConversationID, text string) (MessageView, error) {
	return cs.post(id, text, false)
}

// post sends text to conversation id, as a message to the customer or, internal, as a note the
// customer never reads, and adds it to the transcript once the hub has stored it.
func (cs *Conversations) post(id wire.ConversationID, text string, internal bool) (MessageView, error) {
	c := cs.c
	if strings.TrimSpace(text) == "" {
		return MessageView{}, ErrEmptyMessage
	}
	what := "message"
	if internal {
		what = "note"
	}
	c.mu.Lock()
	cv, ok := c.convs[id]
	limit := c.session.MaxTextBytes
	name := ""
	if c.session.User != nil {
		name = c.session.User.DisplayName
	}
	ended := ok && cv.State == wire.ConvEnded
	c.mu.Unlock()
	switch {
	case !ok:
		return MessageView{}, ErrNoConversation
	case len(text) > limit || !utf8.ValidString(text):
		return MessageView{}, wire.Errorf(wire.ETOOLARGE, "%s of %d bytes is over the %d-byte limit", what, len(text), limit)
	case ended:
		return MessageView{}, wire.Errorf(wire.ECONFLICT, "the conversation has ended")
	}
	l, err := c.currentLink()
	if err != nil {
		return MessageView{}, err
	}
	// Both survive a dropped link: they resend with the same client id once reconnected.
	ctx, cancel := context.WithTimeout(context.Background(), 3*requestTimeout)
	defer cancel()
	send := l.Send
	if internal {
		send = l.SendNote
	}
	ack, err := send(ctx, id, text)
	if err != nil {
		return MessageView{}, asWireError(err)
	}
	// The hub echoes the stored message as an event too; whichever comes first is kept.
	c.mu.Lock()
	mv, isNew, _ := c.addMessage(wire.Message{
		Conv: id, Seq: ack.Seq, Author: wire.AuthorAgent, AuthorName: name, Text: text,
		At: c.nowMs() + c.offset, Internal: internal,
	})
	var out []emission
	if isNew {
		out = append(out, emission{EventMessage, mv}, emission{EventConversations, c.convViews()})
	}
	c.unlockEmit(out)
	return mv, nil
}

// Typing tells the customer whether the agent is typing.
func (cs *Conversations) Typing(id wire.ConversationID, typing bool) error {
	_, err := cs.c.request(wire.TypeChatTyping, wire.Typing{Conv: id, Typing: typing})
	return err
}

// KeepOpen keeps open a conversation the hub warned it would close for inactivity (its customer
// has gone and nobody writes); the wait starts again.
func (cs *Conversations) KeepOpen(id wire.ConversationID) error {
	_, err := cs.c.request(wire.TypeConvKeep, wire.ConvRef{Conv: id})
	if err == nil {
		cs.c.log.Info("conversation kept open", "conv", id)
	}
	return err
}

// WrapUp sends the agent's wrap-up of an ended conversation: an outcome code from the
// organisation's list and a note. Routing offers new chats again once it is done (or the
// organisation's wrap-up time is up).
func (cs *Conversations) WrapUp(id wire.ConversationID, code, note string) error {
	if _, err := cs.c.request(wire.TypeConvWrapUp, wire.WrapUpDone{Conv: id, Code: code, Note: note}); err != nil {
		return err
	}
	cs.c.log.Info("conversation wrapped up", "conv", id, "code", code)
	c := cs.c
	c.mu.Lock()
	var out []emission
	if cv := c.convs[id]; cv != nil {
		cv.WrapCode, cv.WrapNote = code, strings.TrimSpace(note)
		out = append(out, emission{EventConversations, c.convViews()})
	}
	c.unlockEmit(out)
	return nil
}

// End ends a conversation: the End button. The transcript is kept.
func (cs *Conversations) End(id wire.ConversationID) error {
	_, err := cs.c.request(wire.TypeConvEnd, wire.ConvRef{Conv: id})
	if err == nil {
		cs.c.log.Info("conversation ended", "conv", id)
	}
	return err
}
