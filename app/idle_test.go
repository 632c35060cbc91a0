package app_test

import (
	"testing"
	"time"

	"github.com/parleyhq/parley/app"
	"github.com/parleyhq/parley/hub"
	"github.com/parleyhq/parley/wire"
)

// convIs waits for a conversations event in which conv matches ok.
func convIs(t *testing.T, rec *recorder, conv wire.ConversationID, ok func(app.ConversationView) bool) app.ConversationView {
	t.Helper()
	var got app.ConversationView
	waitFor(t, rec, app.EventConversations, func(cs []app.ConversationView) bool {
		for _, c := range cs {
			if c.ID == conv && ok(c) {
				got = c
				return true
			}
		}
		return false
	})
	return got
}

// The agent sees the customer go and come back, is warned before the close, keeps the chat open
// once, and sees it close; a supervisor sees gone customers and closes their chats.
func TestCustomerGoneWarningKeepOpenAndClose(t *testing.T) {
	hubURL := startHub(t, hub.Config{CustomerGoneAfter: 300 * time.Millisecond, AutoCloseAfter: 4 * time.Second,
		AutoCloseWarning: 2 * time.Second})
	svc, rec := signIn(t, hubURL, "agent1")
	sup, srec := signIn(t, hubURL, "super1")
	cust := newCustomer(t, hubURL, "Gina")
	offers := waitFor(t, rec, app.EventOffers, func(o []app.OfferView) bool { return len(o) == 1 })
	if _, err := svc.Offers.Accept(offers[0].ID); err != nil {
		t.Fatal(err)
	}
	convIs(t, rec, cust.conv, func(c app.ConversationView) bool { return c.Customer == wire.CustomerHere })

	cust.request(t, wire.TypeCustomerPresence, wire.CustomerPresenceSet{Conv: cust.conv, Hidden: true})
	convIs(t, rec, cust.conv, func(c app.ConversationView) bool { return c.Customer == wire.CustomerAway })
	left := time.Now().UnixMilli()
	_ = cust.conn.Close()
	gone := convIs(t, rec, cust.conv, func(c app.ConversationView) bool { return c.Customer == wire.CustomerGone && c.ClosesAt > 0 })
	// Times are on the local clock: since about when the tab closed, closing the auto-close time after.
	if d := gone.CustomerSince - left; d < -1000 || d > 1000 {
		t.Errorf("CustomerSince is %d ms off the close", d)
	}
	if d := gone.ClosesAt - gone.CustomerSince; d < 3500 || d > 4500 {
		t.Errorf("ClosesAt is %d ms after CustomerSince; want about 4000", d)
	}
	waitFor(t, rec, app.EventMessage, func(m app.MessageView) bool {
		return m.Conv == cust.conv && m.Event != nil && m.Event.Kind == wire.EventCustomerGone
	})
	waitFor(t, srec, app.EventSupervisor, func(v app.SupervisorView) bool {
		for _, c := range v.Conversations {
			if c.ID == cust.conv && c.Customer == wire.CustomerGone {
				return true
			}
		}
		return false
	})

	warned := convIs(t, rec, cust.conv, func(c app.ConversationView) bool { return c.CloseWarning })
	if err := svc.Conversations.KeepOpen(cust.conv); err != nil {
		t.Fatalf("KeepOpen: %v", err)
	}
	kept := convIs(t, rec, cust.conv, func(c app.ConversationView) bool { return !c.CloseWarning && c.ClosesAt > warned.ClosesAt })
	if kept.State != wire.ConvActive {
		t.Fatalf("kept: %+v", kept)
	}
	ended := convIs(t, rec, cust.conv, func(c app.ConversationView) bool { return c.State == wire.ConvEnded })
	if ended.EndReason != wire.EndInactivity || ended.EndedAt < kept.ClosesAt-500 {
		t.Errorf("ended %+v; want for inactivity, not before %d", ended, kept.ClosesAt)
	}
	waitFor(t, rec, app.EventAgent, func(s wire.AgentState) bool { return s.Load == 0 })

	// A supervisor closes another gone customer's chat.
	cust2 := newCustomer(t, hubURL, "Hugo")
	offers = waitFor(t, rec, app.EventOffers, func(o []app.OfferView) bool { return len(o) == 1 && o[0].Conv == cust2.conv })
	if _, err := svc.Offers.Accept(offers[0].ID); err != nil {
		t.Fatal(err)
	}
	_ = cust2.conn.Close()
	waitFor(t, srec, app.EventSupervisor, func(v app.SupervisorView) bool {
		for _, c := range v.Conversations {
			if c.ID == cust2.conv && c.Customer == wire.CustomerGone {
				return true
			}
		}
		return false
	})
	if err := sup.Supervisor.Close(cust2.conv); err != nil {
		t.Fatalf("Supervisor.Close: %v", err)
	}
	closed := convIs(t, rec, cust2.conv, func(c app.ConversationView) bool { return c.State == wire.ConvEnded })
	if closed.EndReason != wire.EndBySupervisor {
		t.Errorf("closed for %q; want supervisor", closed.EndReason)
	}
	if err := svc.Conversations.KeepOpen(cust2.conv); wire.ErrorCode(err) != wire.ECONFLICT {
		t.Errorf("KeepOpen of an ended chat = %v; want ECONFLICT", err)
	}
}
