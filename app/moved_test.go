package app_test

import (
	"testing"

	"github.com/parleyhq/parley/app"
	"github.com/parleyhq/parley/hub"
	"github.com/parleyhq/parley/wire"
)

// TestConversationMovedAway: a supervisor gives agent1's chat to agent2. agent1's app shows it
// moved (read-only) rather than still theirs.
func TestConversationMovedAway(t *testing.T) {
	hubURL := startHub(t, hub.Config{})
	one, rec1 := signIn(t, hubURL, "agent1")
	two, _ := signIn(t, hubURL, "agent2")
	if err := two.Presence.Set(wire.PresenceBusy); err != nil { // so agent1 is offered the chat
		t.Fatal(err)
	}
	sup, _ := signIn(t, hubURL, "super1")
	cust := newCustomer(t, hubURL, "Mona")
	cust.send(t, "hello")
	offers := waitFor(t, rec1, app.EventOffers, func(o []app.OfferView) bool { return len(o) == 1 })
	if _, err := one.Offers.Accept(offers[0].ID); err != nil {
		t.Fatalf("Accept: %v", err)
	}
	var agent2 wire.UserID
	eventually(t, "agent2 in the supervisor's view", func() bool {
		v, _ := sup.Supervisor.Snapshot()
		for _, a := range v.Agents {
			if a.DisplayName == "Agent Two" {
				agent2 = a.ID
			}
		}
		return agent2 != ""
	})
	if err := sup.Supervisor.Assign(cust.conv, agent2); err != nil {
		t.Fatalf("Assign to agent2: %v", err)
	}
	waitFor(t, rec1, app.EventConversations, func(cs []app.ConversationView) bool {
		return len(cs) == 1 && cs[0].ID == cust.conv && cs[0].Moved
	})
}
