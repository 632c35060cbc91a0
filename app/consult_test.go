package app_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/parleyhq/parley/app"
	"github.com/parleyhq/parley/hub"
	"github.com/parleyhq/parley/wire"
)

// TestConsult: the agent invites the supervisor to read along with a note; the supervisor's app
// lists the chat as one they read along in, reads the customer, writes an internal note the agent
// reads and the customer never receives, cannot write to the customer, and stops reading along.
func TestConsult(t *testing.T) {
	hubURL := startHub(t, hub.Config{})
	agent, arec, cust := callAgent(t, hubURL)
	sup, srec := signIn(t, hubURL, "super1")

	rt, err := agent.Conversations.TransferTargets()
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(rt.Members, func(m wire.RoutingMember) bool { return m.Username == "super1" })
	if i < 0 {
		t.Fatalf("TransferTargets members = %+v; want super1", rt.Members)
	}
	superID := rt.Members[i].User
	if err := agent.Conversations.Consult(cust.conv, "", "x"); wire.ErrorCode(err) != wire.EINVALID {
		t.Errorf("Consult(nobody) = %v; want EINVALID", err)
	}
	if err := agent.Conversations.Consult(cust.conv, "u_nobody", "x"); wire.ErrorCode(err) != wire.ENOTFOUND {
		t.Errorf("Consult(unknown member) = %v; want ENOTFOUND", err)
	}
	const note = "SECRET-NOTE is this refund allowed?"
	if err := agent.Conversations.Consult(cust.conv, superID, note); err != nil {
		t.Fatalf("Consult = %v", err)
	}
	l := waitFor(t, srec, app.EventConversations, func(l []app.ConversationView) bool {
		return len(l) == 1 && l[0].ID == cust.conv && l[0].Consulting
	})
	if l[0].Moved || l[0].AgentName != "Agent One" {
		t.Errorf("the supervisor's view = %+v; want Agent One's chat, open to notes", l[0])
	}
	waitFor(t, arec, app.EventConversations, func(l []app.ConversationView) bool {
		return len(l) == 1 && len(l[0].Consultants) == 1 && l[0].Consultants[0].ID == superID && !l[0].Consulting
	})
	// The invitation is an internal line in the transcript, with the note.
	waitFor(t, srec, app.EventMessage, func(m app.MessageView) bool {
		return m.Internal && m.Event != nil && m.Event.Kind == wire.EventConsultInvited && m.Event.Note == note
	})
	// What the customer wrote before the invitation is there too: the invitation line reaching
	// the app before the conversation does must not pass for the whole transcript.
	waitFor(t, srec, app.EventMessage, func(m app.MessageView) bool { return m.Author == wire.AuthorCustomer && m.Text == "Can you call me?" })
	if msgs, err := sup.Conversations.Messages(cust.conv); err != nil || !slices.ContainsFunc(msgs, func(m app.MessageView) bool { return m.Text == "Can you call me?" }) {
		t.Errorf("the supervisor's transcript = %+v, %v; want the customer's first message", msgs, err)
	}

	cust.send(t, "Can I get a refund?")
	waitFor(t, srec, app.EventMessage, func(m app.MessageView) bool {
		return m.Author == wire.AuthorCustomer && m.Text == "Can I get a refund?"
	})
	if _, err := sup.Conversations.Send(cust.conv, "Hello customer"); wire.ErrorCode(err) != wire.EFORBIDDEN {
		t.Errorf("a consultant's Send = %v; want EFORBIDDEN (notes only)", err)
	}
	if _, err := sup.Conversations.SendNote(cust.conv, "SECRET-REPLY yes, within 30 days"); err != nil {
		t.Fatalf("SendNote = %v", err)
	}
	got := waitFor(t, arec, app.EventMessage, func(m app.MessageView) bool { return strings.HasPrefix(m.Text, "SECRET-REPLY") })
	if !got.Internal || got.AuthorName != "Supervisor One" {
		t.Errorf("the agent got %+v; want an internal note by Supervisor One", got)
	}
	if _, err := agent.Conversations.SendNote(cust.conv, "SECRET-THANKS thanks"); err != nil {
		t.Fatalf("the agent's SendNote = %v", err)
	}
	waitFor(t, srec, app.EventMessage, func(m app.MessageView) bool { return m.Internal && strings.HasPrefix(m.Text, "SECRET-THANKS") })
	if _, err := agent.Conversations.Send(cust.conv, "Yes, within 30 days."); err != nil {
		t.Fatal(err)
	}
	waitCustomer(t, cust, wire.TypeChatMessage, func(m wire.Message) bool { return m.Text == "Yes, within 30 days." })

	if err := sup.Conversations.StopConsulting(cust.conv); err != nil {
		t.Fatalf("StopConsulting = %v", err)
	}
	waitFor(t, srec, app.EventConversations, func(l []app.ConversationView) bool { return len(l) == 0 })
	waitFor(t, arec, app.EventConversations, func(l []app.ConversationView) bool { return len(l) == 1 && len(l[0].Consultants) == 0 })
	cust.mu.Lock()
	defer cust.mu.Unlock()
	for _, ev := range cust.seen {
		if s := string(ev.Data); strings.Contains(s, "SECRET") || strings.Contains(s, "Supervisor One") {
			t.Errorf("the customer received %s %s", ev.Type, s)
		}
	}
}
