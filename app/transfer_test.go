package app_test

import (
	"strings"
	"testing"

	"github.com/parleyhq/parley/app"
	"github.com/parleyhq/parley/hub"
	"github.com/parleyhq/parley/wire"
)

// TestTransfer: the agent lists where a chat can go, is refused (nothing moves) for a colleague
// who is not online, then transfers to a colleague with a note: the colleague's offer carries the
// note and the queue, the customer reads one line and never the note.
func TestTransfer(t *testing.T) {
	hubURL := startHub(t, hub.Config{})
	agent, arec, cust := callAgent(t, hubURL)

	rt, err := agent.Conversations.TransferTargets()
	if err != nil {
		t.Fatalf("TransferTargets = %v", err)
	}
	var agent2 wire.UserID
	for _, m := range rt.Members {
		if m.Username == "agent2" {
			agent2 = m.User
		}
	}
	if len(rt.Queues) != 3 || agent2 == "" {
		t.Fatalf("TransferTargets = %+v; want the demo's three queues and agent2", rt)
	}
	if err := agent.Conversations.Transfer(cust.conv, "", "", "x"); wire.ErrorCode(err) != wire.EINVALID {
		t.Errorf("Transfer(nowhere) = %v; want EINVALID", err)
	}
	if err := agent.Conversations.Transfer(cust.conv, "", agent2, "x"); wire.ErrorCode(err) != wire.EAGENTUNAVAILABLE {
		t.Fatalf("Transfer(offline agent2) = %v; want EAGENTUNAVAILABLE", err)
	}
	if l, _ := agent.Conversations.List(); len(l) != 1 || l[0].State != wire.ConvActive || l[0].AgentName != "Agent One" {
		t.Fatalf("after a refused transfer: %+v; want the chat still Agent One's", l)
	}

	_, orec := signIn(t, hubURL, "agent2")
	const note = "Wants 40 seats; I promised a quote today"
	if err := agent.Conversations.Transfer(cust.conv, "", agent2, note); err != nil {
		t.Fatalf("Transfer(agent2) = %v", err)
	}
	offers := waitFor(t, orec, app.EventOffers, func(o []app.OfferView) bool { return len(o) == 1 })
	if o := offers[0]; o.Conv != cust.conv || o.Transfer == nil || o.Transfer.Note != note || o.Transfer.FromName != "Agent One" {
		t.Errorf("agent2's offer = %+v (transfer %+v); want agent1's note", o, o.Transfer)
	}
	waitFor(t, arec, app.EventConversations, func(l []app.ConversationView) bool {
		return len(l) == 0 || l[0].AgentName != "Agent One" || l[0].State != wire.ConvActive
	})
	waitCustomer(t, cust, wire.TypeChatMessage, func(m wire.Message) bool {
		return m.Event != nil && m.Event.Kind == wire.EventTransferred
	})
	cust.mu.Lock()
	defer cust.mu.Unlock()
	for _, ev := range cust.seen {
		if strings.Contains(string(ev.Data), "40 seats") {
			t.Errorf("the customer received the note: %s %s", ev.Type, ev.Data)
		}
	}
}
