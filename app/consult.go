package app

import (
	"context"
	"strings"
	"unicode/utf8"

	"github.com/parleyhq/parley/wire"
)

// Consult: the agent invites a colleague or a supervisor to read along in a conversation and to
// write internal notes, which the customer never receives (the hub enforces it). The invited
// member sees the conversation in their list, marked as reading along, with the customer's
// messages and the notes; they write notes only, and stop reading along when they are done. A
// transfer to that colleague (with a note) follows from More commands as usual.

// Consult invites a member (by user id) to read along in conversation id, with a note they read
// first. The hub refuses someone who is not a member (ENOTFOUND) and a conversation that is not
// this agent's.
func (cs *Conversations) Consult(id wire.ConversationID, user wire.UserID, note string) error {
	note = strings.TrimSpace(note)
	if user == "" {
		return wire.Errorf(wire.EINVALID, "a consult names a colleague")
	}
	if len(note) > wire.MaxNoteBytes {
		return wire.Errorf(wire.ETOOLARGE, "the note is over %d bytes", wire.MaxNoteBytes)
	}
	_, err := cs.c.request(wire.TypeConvInvite, wire.ConsultInvite{Conv: id, User: user, Note: note})
	if err == nil {
		cs.c.log.Info("colleague invited to read along", "conv", id, "user", user)
	}
	return err
}

// StopConsulting stops reading along in a conversation this member was invited to; it leaves
// their list.
func (cs *Conversations) StopConsulting(id wire.ConversationID) error {
	if _, err := cs.c.request(wire.TypeConvConsultLeave, wire.ConvRef{Conv: id}); err != nil {
		return err
	}
	c := cs.c
	c.mu.Lock()
	delete(c.convs, id)
	if c.active == id {
		c.active = ""
	}
	out := []emission{{EventConversations, c.convViews()}, {EventActive, c.active}}
	c.unlockEmit(out)
	return nil
}

// SendNote writes an internal note in a conversation: its agent and those reading along read
// it, the customer never does.
func (cs *Conversations) SendNote(id wire.ConversationID, text string) (MessageView, error) {
	c := cs.c
	if strings.TrimSpace(text) == "" {
		return MessageView{}, ErrEmptyMessage
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
		return MessageView{}, wire.Errorf(wire.ETOOLARGE, "note of %d bytes is over the %d-byte limit", len(text), limit)
	case ended:
		return MessageView{}, wire.Errorf(wire.ECONFLICT, "the conversation has ended")
	}
	l, err := c.currentLink()
	if err != nil {
		return MessageView{}, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*requestTimeout)
	defer cancel()
	ack, err := l.SendNote(ctx, id, text)
	if err != nil {
		return MessageView{}, asWireError(err)
	}
	c.mu.Lock()
	mv, isNew, _ := c.addMessage(wire.Message{
		Conv: id, Seq: ack.Seq, Author: wire.AuthorAgent, AuthorName: name, Text: text,
		At: c.nowMs() + c.offset, Internal: true,
	})
	var out []emission
	if isNew {
		out = append(out, emission{EventMessage, mv}, emission{EventConversations, c.convViews()})
	}
	c.unlockEmit(out)
	return mv, nil
}
