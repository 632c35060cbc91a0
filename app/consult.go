package app

import (
	"strings"

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
	return cs.post(id, text, true)
}
