package hub_test

import (
	"testing"

	"github.com/parleyhq/parley/wire"
)

// requeuedLine waits for the system line that tells the customer their agent went.
func (p *peer) requeuedLine(conv wire.ConversationID) wire.Message {
	p.t.Helper()
	return untilData(p, wire.TypeChatMessage, func(m wire.Message) bool {
		return m.Conv == conv && m.Event != nil && m.Event.Kind == wire.EventRequeued
	})
}

// TestSignOutRequeues: an agent signs out with two chats and a call. Their customers are told
// and wait at the front of the queue, the call ends, the agent is offline at once, and the next
// agent is offered the chats, oldest first.
func TestSignOutRequeues(t *testing.T) {
	t.Parallel()
	rg := newCallRig(t)
	c2, conv2 := customer(t, rg.s, "Second")
	rg.agent.accept(conv2.ID)
	c2.convState(conv2.ID, func(c wire.Conversation) bool { return c.State == wire.ConvActive })
	id := rg.invite(t, wire.CallVoice)
	super := member(t, rg.s, "super1")

	if _, err := rg.agent.conn.Request(ctx(t), wire.TypeAgentSignOut, nil); err != nil {
		t.Fatalf("agent.sign_out: %v", err)
	}
	rg.cust.callState(id, wire.CallEnded) // the call ends first
	for _, c := range []struct {
		p    *peer
		conv wire.ConversationID
	}{{rg.cust, rg.conv.ID}, {c2, conv2.ID}} {
		st := c.p.convState(c.conv, func(c wire.Conversation) bool { return c.State == wire.ConvWaiting })
		if st.AgentID != "" || st.AgentName != "" {
			t.Errorf("%s: requeued conversation = %+v; want no agent", c.p.name, st)
		}
		if m := c.p.requeuedLine(c.conv); m.Event.Name != "Agent One" || m.Author != wire.AuthorSystem {
			t.Errorf("%s: line = %+v; want a system line naming Agent One", c.p.name, m)
		}
	}
	// The agent learns the chats are no longer theirs, and the supervisor sees them waiting with
	// agent1 offline.
	rg.agent.convState(rg.conv.ID, func(c wire.Conversation) bool { return c.State == wire.ConvWaiting })
	snap := untilData(super, wire.TypeSupervisorSnapshot, func(snap wire.Snapshot) bool {
		waiting := 0
		for _, c := range snap.Conversations {
			if c.State == wire.ConvWaiting {
				waiting++
			}
		}
		return waiting == 2
	})
	var one wire.AgentSummary
	for _, a := range snap.Agents {
		if a.DisplayName == "Agent One" {
			one = a
		}
	}
	if one.Presence != wire.PresenceOffline || one.Load != 0 {
		t.Errorf("Agent One in the snapshot = %+v; want offline with no load", one)
	}
	if snap.Conversations[0].ID != rg.conv.ID {
		t.Errorf("queue starts with %s; want the oldest requeued chat %s", snap.Conversations[0].ID, rg.conv.ID)
	}

	// A supervisor cannot hand a chat to the offline agent: a coded refusal.
	_, err := super.conn.Request(ctx(t), wire.TypeSupervisorAssign, wire.Assign{Conv: conv2.ID, Agent: one.ID})
	wantCode(t, "assign to an offline agent", err, wire.EAGENTUNAVAILABLE)

	// agent2 signs in: offered the oldest first.
	agent2 := member(t, rg.s, "agent2")
	agent2.offer(rg.conv.ID)
}

// TestOfflineGraceRequeues: an agent whose connection is gone past the offline grace leaves
// their chats to the queue, with the same line for the customer.
func TestOfflineGraceRequeues(t *testing.T) {
	t.Parallel()
	s := startHub(t)
	agent := member(t, s, "agent1")
	cust, conv := customer(t, s, "Gina")
	agent.accept(conv.ID)
	cust.convState(conv.ID, func(c wire.Conversation) bool { return c.State == wire.ConvActive })
	agent.conn.Close() // the app is gone (crashed, network down) for longer than the grace
	cust.convState(conv.ID, func(c wire.Conversation) bool { return c.State == wire.ConvWaiting })
	cust.requeuedLine(conv.ID)
}
