package app_test

import (
	"testing"

	"github.com/parleyhq/parley/app"
	"github.com/parleyhq/parley/hub"
	"github.com/parleyhq/parley/wire"
)

// TestSupervisorTranscript: a supervisor opens a waiting customer's chat (their first message)
// and a live one (both sides, read along as it grows); an agent cannot read another's chat.
func TestSupervisorTranscript(t *testing.T) {
	hubURL := startHub(t, hub.Config{})
	one, rec1 := signIn(t, hubURL, "agent1")
	two, _ := signIn(t, hubURL, "agent2")
	if err := two.Presence.Set(wire.PresenceBusy); err != nil {
		t.Fatal(err)
	}
	sup, srec := signIn(t, hubURL, "super1")

	live := newCustomer(t, hubURL, "Lia")
	live.send(t, "my order is late")
	offers := waitFor(t, rec1, app.EventOffers, func(o []app.OfferView) bool { return len(o) == 1 })
	if _, err := one.Offers.Accept(offers[0].ID); err != nil {
		t.Fatal(err)
	}
	if _, err := one.Conversations.Send(live.conv, "let me look"); err != nil {
		t.Fatal(err)
	}
	if err := one.Presence.Set(wire.PresenceAway); err != nil { // the next customer waits
		t.Fatal(err)
	}
	waiting := newCustomer(t, hubURL, "Wes")
	waiting.send(t, "is anyone there?")

	// The waiting list shows what the customer asked, as soon as they wrote it.
	waitFor(t, srec, app.EventSupervisor, func(v app.SupervisorView) bool {
		for _, c := range v.Conversations {
			if c.ID == waiting.conv && c.State == wire.ConvWaiting && c.Preview == "is anyone there?" {
				return true
			}
		}
		return false
	})

	ms, err := sup.Supervisor.Transcript(waiting.conv, 0)
	if err != nil {
		t.Fatal(err)
	}
	if first := firstFrom(ms, wire.AuthorCustomer); first != "is anyone there?" {
		t.Errorf("waiting chat's first customer message = %q", first)
	}

	ms, err = sup.Supervisor.Transcript(live.conv, 0)
	if err != nil {
		t.Fatal(err)
	}
	if firstFrom(ms, wire.AuthorCustomer) != "my order is late" || firstFrom(ms, wire.AuthorAgent) != "let me look" {
		t.Errorf("live transcript = %+v", ms)
	}
	last := ms[len(ms)-1].Seq
	live.send(t, "thanks")
	eventually(t, "the supervisor reads the new message", func() bool {
		more, err := sup.Supervisor.Transcript(live.conv, last)
		return err == nil && len(more) == 1 && more[0].Text == "thanks"
	})

	// Followed live: who is typing (the customer, then the agent) and each new message's seq.
	if err := sup.Supervisor.Watch(live.conv, true); err != nil {
		t.Fatal(err)
	}
	live.request(t, wire.TypeChatTyping, wire.Typing{Conv: live.conv, Typing: true})
	waitFor(t, srec, app.EventWatched, func(w wire.Watched) bool { return w.Conv == live.conv && w.CustomerTyping && !w.AgentTyping })
	if err := one.Conversations.Typing(live.conv, true); err != nil {
		t.Fatal(err)
	}
	waitFor(t, srec, app.EventWatched, func(w wire.Watched) bool { return w.CustomerTyping && w.AgentTyping })
	sent, err := one.Conversations.Send(live.conv, "found it")
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, srec, app.EventWatched, func(w wire.Watched) bool { return w.LastSeq == sent.Seq && !w.AgentTyping })
	// A waiting customer's chat too: their first word as they type it.
	if err := sup.Supervisor.Watch(waiting.conv, true); err != nil {
		t.Fatal(err)
	}
	waiting.request(t, wire.TypeChatTyping, wire.Typing{Conv: waiting.conv, Typing: true})
	waitFor(t, srec, app.EventWatched, func(w wire.Watched) bool { return w.Conv == waiting.conv && w.CustomerTyping })
	if err := sup.Supervisor.Watch(waiting.conv, false); err != nil {
		t.Fatal(err)
	}

	if _, err := two.Supervisor.Transcript(live.conv, 0); wire.ErrorCode(err) != wire.ENOTFOUND {
		t.Errorf("another agent reading the chat: %v; want ENOTFOUND", err)
	}
}

func firstFrom(ms []app.MessageView, a wire.Author) string {
	for _, m := range ms {
		if m.Author == a {
			return m.Text
		}
	}
	return ""
}
