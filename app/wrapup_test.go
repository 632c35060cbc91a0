package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/parleyhq/parley/app"
	"github.com/parleyhq/parley/hub"
	"github.com/parleyhq/parley/hub/client"
	"github.com/parleyhq/parley/wire"
)

// After a chat ends the agent wraps it up; with the organisation's wrap-up time set, the next
// customer is offered only once that is done, and the countdown is on the local clock.
func TestWrapUpHoldsTheNextChat(t *testing.T) {
	hubURL := startHub(t, hub.Config{})
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	login, err := client.Login(ctx, hubURL, hub.DemoOrg, "admin1", hub.DemoPassword)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(wire.WrapUpSettings{LimitSeconds: 300, Codes: []wire.WrapCode{{ID: "sold", Label: "Sale made"}}})
	req, _ := http.NewRequestWithContext(ctx, "PUT", hubURL+"/api/v1/orgs/demo/settings/wrap-up", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+login.Token)
	res, err := http.DefaultClient.Do(req)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("PUT wrap-up: %v %v", res, err)
	}
	res.Body.Close()

	svc, rec := signIn(t, hubURL, "agent1")
	cust := newCustomer(t, hubURL, "Gina")
	offers := waitFor(t, rec, app.EventOffers, func(o []app.OfferView) bool { return len(o) == 1 })
	if _, err := svc.Offers.Accept(offers[0].ID); err != nil {
		t.Fatal(err)
	}
	convIs(t, rec, cust.conv, func(c app.ConversationView) bool { return c.State == wire.ConvActive })
	if err := svc.Conversations.End(cust.conv); err != nil {
		t.Fatal(err)
	}
	st := waitFor(t, rec, app.EventAgent, func(s wire.AgentState) bool { return len(s.WrapUp) == 1 })
	if w := st.WrapUp[0]; w.Conv != cust.conv || w.Until-w.EndedAt != 300_000 || len(st.WrapCodes) != 1 || st.WrapCodes[0].ID != "sold" {
		t.Fatalf("agent state = %+v; want Gina's wrap-up for 300 s with the code sold", st)
	}
	next := newCustomer(t, hubURL, "Hugo")
	// Hugo waits while the agent wraps up (a round trip through the hub's router first).
	if err := svc.Presence.Set(wire.PresenceAvailable); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	rec.mu.Lock()
	for _, e := range rec.events {
		if o, ok := e.data.([]app.OfferView); ok && e.name == app.EventOffers && len(o) > 0 && o[0].Conv == next.conv {
			t.Error("Hugo was offered during the wrap-up")
		}
	}
	rec.mu.Unlock()
	if err := svc.Conversations.WrapUp(cust.conv, "sold", "Two licences"); err != nil {
		t.Fatalf("WrapUp: %v", err)
	}
	v := convIs(t, rec, cust.conv, func(c app.ConversationView) bool { return c.WrapCode != "" })
	if v.WrapCode != "sold" || v.WrapNote != "Two licences" {
		t.Errorf("view = %+v; want the wrap-up shown", v)
	}
	waitFor(t, rec, app.EventAgent, func(s wire.AgentState) bool { return len(s.WrapUp) == 0 })
	waitFor(t, rec, app.EventOffers, func(o []app.OfferView) bool { return len(o) == 1 && o[0].Conv == next.conv })
}
