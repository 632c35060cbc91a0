package app

import (
	"strings"

	"github.com/parleyhq/parley/wire"
)

// TransferTargets returns where the agent may transfer a conversation: the organisation's queues
// and its members (the hub says at the transfer whether one is available).
func (cs *Conversations) TransferTargets() (wire.Routing, error) {
	var rt wire.Routing
	if err := cs.c.hubAPI("GET", "/routing", nil, &rt); err != nil {
		return wire.Routing{}, err
	}
	return rt, nil
}

// Transfer moves a conversation to a queue or to a named agent (exactly one of the two), with a
// note the next agent reads first. The customer keeps the conversation and reads one line; the
// hub refuses a queue outside its hours (EQUEUECLOSED) or an agent who cannot take it
// (EAGENTUNAVAILABLE), and then nothing moves.
func (cs *Conversations) Transfer(id wire.ConversationID, queue wire.QueueID, agent wire.UserID, note string) error {
	note = strings.TrimSpace(note)
	if (queue == "") == (agent == "") {
		return wire.Errorf(wire.EINVALID, "a transfer names a queue or an agent")
	}
	if len(note) > wire.MaxNoteBytes {
		return wire.Errorf(wire.ETOOLARGE, "the note is over %d bytes", wire.MaxNoteBytes)
	}
	_, err := cs.c.request(wire.TypeConvTransfer, wire.Transfer{Conv: id, Queue: queue, Agent: agent, Note: note})
	if err == nil {
		cs.c.log.Info("conversation transferred", "conv", id, "queue", queue, "agent", agent)
	}
	return err
}
