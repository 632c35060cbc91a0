package hub_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/parleyhq/parley/hub"
	"github.com/parleyhq/parley/hub/client"
	"github.com/parleyhq/parley/internal/logbuf"
	"github.com/parleyhq/parley/wire"
)

// Routing rules, each against a real hub on loopback: the demo organisation has the queues
// General (default), Sales and Billing (needs billing:1); agent1 has billing:2 and es:3, agent2
// sales:2; both serve all three queues with capacity 3.

// routingRig is a demo hub with a settable clock and timers fired by hand.
type routingRig struct {
	s   *hub.Server
	clk *clock
	ft  *fakeTimers
	log *logbuf.Buffer
}

func newRoutingRig(t *testing.T) *routingRig {
	t.Helper()
	rg := &routingRig{clk: &clock{}, ft: &fakeTimers{}, log: &logbuf.Buffer{}}
	rg.s = startHub(t, func(c *hub.Config) {
		c.Now = rg.clk.now
		c.AfterFunc = rg.ft.AfterFunc
		c.Logger = slog.New(slog.NewJSONHandler(rg.log, &slog.HandlerOptions{Level: slog.LevelInfo}))
	})
	return rg
}

// user returns a demo member's id.
func (rg *routingRig) user(t *testing.T, username string) wire.UserID {
	t.Helper()
	u, err := rg.s.Store().UserByName(ctx(t), hub.DemoOrg, username)
	if err != nil {
		t.Fatal(err)
	}
	return u.ID
}

// start starts a customer's conversation with req and connects them.
func (rg *routingRig) start(t *testing.T, name string, req wire.StartConversation) (*peer, wire.Conversation) {
	t.Helper()
	req.Name = name
	started, err := client.Start(ctx(t), rg.s.URL(), hub.DemoOrg, req)
	if err != nil {
		t.Fatalf("Start %+v: %v", req, err)
	}
	return dial(t, rg.s, started.Token, name), started.Conversation
}

// fireNear fires the pending timers due between d-slack and d (a timer set for "d minus what
// has passed"), waiting boundedly for one to be scheduled.
func (ft *fakeTimers) fireNear(t *testing.T, d time.Duration) {
	t.Helper()
	for range 250 {
		ft.mu.Lock()
		var due []*fakeTimer
		for _, x := range ft.pending {
			if !x.stopped && x.d <= d && x.d > d-5*time.Second {
				x.stopped = true
				due = append(due, x)
			}
		}
		ft.mu.Unlock()
		for _, x := range due {
			x.f()
		}
		if len(due) > 0 {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no timer near %v was scheduled", d)
}

// setPresence sets an agent's presence and waits for the hub to confirm.
func (p *peer) setPresence(pr wire.Presence) {
	p.t.Helper()
	if _, err := p.conn.Request(ctx(p.t), wire.TypePresenceSet, wire.PresenceSet{Presence: pr}); err != nil {
		p.t.Fatalf("%s: presence %s: %v", p.name, pr, err)
	}
}

// waitActive waits for the customer to see their conversation active.
func (p *peer) waitState(state wire.ConvState) wire.Conversation {
	p.t.Helper()
	return untilData(p, wire.TypeConvState, func(c wire.Conversation) bool { return c.State == state })
}

func TestRoutingSkillsFirst(t *testing.T) {
	t.Parallel()
	rg := newRoutingRig(t)
	a1, a2 := member(t, rg.s, "agent1"), member(t, rg.s, "agent2")
	// Agent Two has been idle longer and has as much free capacity: without skills they would
	// be offered first.
	a1.setPresence(wire.PresenceAway)
	a1.setPresence(wire.PresenceAvailable)
	_, conv := rg.start(t, "Bea", wire.StartConversation{Choice: "billing"})
	if conv.Queue != "billing" || conv.Skills != nil || conv.Calls != wire.CallsVoiceOnly {
		t.Errorf("started conversation = %+v; want queue billing (voice only) and no member-only fields", conv)
	}
	o := a1.offer(conv.ID)
	if o.Queue != "billing" || o.QueueName != "Billing" {
		t.Errorf("offer = %+v; want from Billing", o)
	}
	a2.none(wire.TypeOffer, 200*time.Millisecond)
}

func TestRoutingMostFreeCapacityThenLongestIdle(t *testing.T) {
	t.Parallel()
	rg := newRoutingRig(t)
	a1, a2 := member(t, rg.s, "agent1"), member(t, rg.s, "agent2")
	// Agent Two became available last: Agent One has been idle longer, so takes the first.
	a2.setPresence(wire.PresenceAway)
	a2.setPresence(wire.PresenceAvailable)
	c1, conv1 := customer(t, rg.s, "First")
	a1.accept(conv1.ID)
	c1.waitState(wire.ConvActive)
	// Now Agent Two has more free capacity (3 against 2): they take the next, although
	// Agent One has been idle... no longer.
	_, conv2 := customer(t, rg.s, "Second")
	a2.accept(conv2.ID)
	// Both have 2 free; Agent One's load dropped earlier? No: Agent One accepted first and
	// Agent Two later, so Agent One has been idle since their presence change before both. The
	// next goes to whoever has been idle longer: idle time only resets when load drops or on
	// becoming available, so it is Agent One.
	_, conv3 := customer(t, rg.s, "Third")
	a1.offer(conv3.ID)
	a2.none(wire.TypeOffer, 200*time.Millisecond)
}

func TestRoutingWidensAfterWaitNoStarvation(t *testing.T) {
	t.Parallel()
	rg := newRoutingRig(t)
	a1 := member(t, rg.s, "agent1")
	a2 := member(t, rg.s, "agent2")
	a1.setPresence(wire.PresenceAway) // the only billing-skilled agent is away
	_, conv := rg.start(t, "Dana", wire.StartConversation{Choice: "billing"})
	a2.none(wire.TypeOffer, 300*time.Millisecond)
	// After the queue's wait (60 s by default) any member of Billing may take it.
	rg.clk.advance(61 * time.Second)
	rg.ft.fireNear(t, 60*time.Second)
	a2.offer(conv.ID)
	if !strings.Contains(rg.log.String(), "offering it to the whole queue") {
		t.Error("the widening is not in the hub log")
	}
}

func TestRoutingSkilledStillPreferredAfterWidening(t *testing.T) {
	t.Parallel()
	rg := newRoutingRig(t)
	a1, a2 := member(t, rg.s, "agent1"), member(t, rg.s, "agent2")
	a1.setPresence(wire.PresenceAway)
	_, conv := rg.start(t, "Eli", wire.StartConversation{Choice: "billing"})
	rg.clk.advance(61 * time.Second)
	rg.ft.fireNear(t, 60*time.Second)
	o := a2.offer(conv.ID)
	// Agent Two lets it lapse; meanwhile the skilled agent is back: it goes to them.
	if _, err := a2.conn.Request(ctx(t), wire.TypeOfferDecline, wire.OfferRef{Offer: o.ID}); err != nil {
		t.Fatal(err)
	}
	a1.setPresence(wire.PresenceAvailable)
	a1.offer(conv.ID)
}

func TestRoutingQueueMembershipAndCapacityAcrossQueues(t *testing.T) {
	t.Parallel()
	rg := newRoutingRig(t)
	// Agent Two serves Sales only, with room for one chat.
	if err := rg.s.SetMemberRouting(ctx(t), hub.Actor{Name: "test"}, hub.DemoOrg, wire.MemberRouting{User: rg.user(t, "agent2"), Queues: []wire.QueueID{"sales"}}); err != nil {
		t.Fatal(err)
	}
	one := 1
	if _, err := rg.s.UpdateMember(ctx(t), hub.Actor{Name: "test"}, hub.DemoOrg, "agent2", wire.MemberPatch{Capacity: &one}); err != nil {
		t.Fatal(err)
	}
	a2 := member(t, rg.s, "agent2")
	_, general := customer(t, rg.s, "Gil")
	a2.none(wire.TypeOffer, 300*time.Millisecond) // not a member of General
	c, sales := rg.start(t, "Sam", wire.StartConversation{Queue: "sales"})
	a2.accept(sales.ID)
	c.waitState(wire.ConvActive)
	_, sales2 := rg.start(t, "Sol", wire.StartConversation{Queue: "sales"})
	a2.none(wire.TypeOffer, 300*time.Millisecond) // full: one capacity across all queues
	a1 := member(t, rg.s, "agent1")
	got := map[wire.ConversationID]bool{}
	for range 2 {
		var o wire.Offer
		a1.next(wire.TypeOffer, &o)
		got[o.Conv] = true
		if _, err := a1.conn.Request(ctx(t), wire.TypeOfferAccept, wire.OfferRef{Offer: o.ID}); err != nil {
			t.Fatal(err)
		}
	}
	if !got[general.ID] || !got[sales2.ID] {
		t.Errorf("agent1 was offered %v; want General's and the second Sales conversation", got)
	}
}

func TestRoutingCallTakesAllCapacity(t *testing.T) {
	t.Parallel()
	rg := newRoutingRig(t)
	a1, a2 := member(t, rg.s, "agent1"), member(t, rg.s, "agent2")
	a2.setPresence(wire.PresenceAway)
	c, conv := customer(t, rg.s, "Cal")
	a1.accept(conv.ID)
	c.waitState(wire.ConvActive)
	if _, err := a1.conn.Request(ctx(t), wire.TypeCallInvite, wire.CallInvite{Conv: conv.ID, Kind: wire.CallVoice}); err != nil {
		t.Fatal(err)
	}
	a2.setPresence(wire.PresenceAvailable)
	_, next := customer(t, rg.s, "Next")
	a2.offer(next.ID) // Agent One has 2 chats free, but the call takes them
	a1.none(wire.TypeOffer, 200*time.Millisecond)
}

func TestUnknownQueueGoesToDefaultWithWarning(t *testing.T) {
	t.Parallel()
	rg := newRoutingRig(t)
	_, conv := rg.start(t, "Uma", wire.StartConversation{Queue: "nope"})
	if conv.Queue != hub.DefaultQueue || conv.State != wire.ConvWaiting {
		t.Errorf("conversation for an unknown queue = %+v; want waiting in %s", conv, hub.DefaultQueue)
	}
	var cfg wire.WidgetConfig
	res, err := http.Get(rg.s.URL() + "/api/v1/orgs/demo/widget?queue=nope")
	if err != nil {
		t.Fatal(err)
	}
	_ = json.NewDecoder(res.Body).Decode(&cfg)
	res.Body.Close()
	if res.StatusCode != 200 || cfg.Queue.ID != hub.DefaultQueue || !cfg.Queue.Open || cfg.Prechat != nil {
		t.Errorf("widget?queue=nope = %d %+v; want the default queue, open, no pre-chat question", res.StatusCode, cfg)
	}
	if n := strings.Count(rg.log.String(), `"msg":"unknown queue asked for; using the default queue"`); n != 2 {
		t.Errorf("hub log has %d warnings about the unknown queue; want 2:\n%s", n, rg.log.String())
	}
	// Without a queue, the widget gets the pre-chat question with each answer's queue.
	res, err = http.Get(rg.s.URL() + "/api/v1/orgs/demo/widget")
	if err != nil {
		t.Fatal(err)
	}
	cfg = wire.WidgetConfig{}
	_ = json.NewDecoder(res.Body).Decode(&cfg)
	res.Body.Close()
	if cfg.Prechat == nil || len(cfg.Prechat.Choices) != 3 || cfg.Prechat.Choices[1].Queue.ID != "billing" {
		t.Errorf("widget pre-chat = %+v; want three answers, the second to billing", cfg.Prechat)
	}
}

func TestQueueCallSettingOverridesOrganisation(t *testing.T) {
	t.Parallel()
	rg := newRoutingRig(t)
	a1 := member(t, rg.s, "agent1")
	c, conv := rg.start(t, "Val", wire.StartConversation{Choice: "billing"})
	a1.accept(conv.ID)
	c.waitState(wire.ConvActive)
	// Billing is voice only in the demo, though the organisation allows video.
	_, err := a1.conn.Request(ctx(t), wire.TypeCallInvite, wire.CallInvite{Conv: conv.ID, Kind: wire.CallVideo})
	wantCode(t, "video call in Billing", err, wire.EFORBIDDEN)
	if _, err := a1.conn.Request(ctx(t), wire.TypeCallInvite, wire.CallInvite{Conv: conv.ID, Kind: wire.CallVoice}); err != nil {
		t.Errorf("voice call in Billing: %v", err)
	}
}

func TestEstimatedWaitFromHandlingRate(t *testing.T) {
	t.Parallel()
	rg := newRoutingRig(t)
	a1 := member(t, rg.s, "agent1")
	// Too little data: no estimate ("a few minutes").
	c0, conv0 := customer(t, rg.s, "Zero")
	var qp wire.QueuePosition
	c0.next(wire.TypeQueuePosition, &qp)
	if qp.Position != 1 || qp.EstimatedWaitMS != 0 || qp.Queue != hub.DefaultQueue {
		t.Errorf("first position = %+v; want 1 in general with no estimate", qp)
	}
	a1.accept(conv0.ID)
	// Two more answered two minutes apart: three answers over four minutes.
	for _, name := range []string{"One", "Two"} {
		rg.clk.advance(2 * time.Minute)
		_, conv := customer(t, rg.s, name)
		a1.accept(conv.ID)
	}
	if _, err := a1.conn.Request(ctx(t), wire.TypePresenceSet, wire.PresenceSet{Presence: wire.PresenceAway}); err != nil {
		t.Fatal(err)
	}
	c, _ := customer(t, rg.s, "Waiting")
	qp = wire.QueuePosition{}
	c.next(wire.TypeQueuePosition, &qp)
	// One answer per 80 s: 80 s, shown rounded up to whole minutes.
	if qp.Position != 1 || qp.EstimatedWaitMS != 2*60*1000 {
		t.Errorf("position with three answers in four minutes = %+v; want 1 and 120000 ms", qp)
	}
	c2, _ := customer(t, rg.s, "Behind")
	qp = wire.QueuePosition{}
	c2.next(wire.TypeQueuePosition, &qp)
	if qp.Position != 2 || qp.EstimatedWaitMS != 3*60*1000 {
		t.Errorf("second in line = %+v; want 2 and 180000 ms (160 s rounded up)", qp)
	}
}

func TestMaxWaitOffersMessageThatStaysForNextAgent(t *testing.T) {
	t.Parallel()
	rg := newRoutingRig(t)
	// Billing: 10 minutes at most, and both agents are away.
	c, conv := rg.start(t, "Mia", wire.StartConversation{Choice: "billing"})
	var qp wire.QueuePosition
	c.next(wire.TypeQueuePosition, &qp)
	if qp.Overflow {
		t.Fatalf("overflow before the maximum wait: %+v", qp)
	}
	rg.clk.advance(10 * time.Minute)
	rg.ft.fireNear(t, 10*time.Minute)
	c.until(wire.TypeQueuePosition, func(env wire.Envelope) bool {
		_ = json.Unmarshal(env.Data, &qp)
		return qp.Overflow
	})
	if _, err := c.conn.Send(ctx(t), conv.ID, "Please call me about invoice 42"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.conn.Request(ctx(t), wire.TypeConvMessage, wire.LeaveMessage{Conv: conv.ID, Contact: "mia@example.com"}); err != nil {
		t.Fatal(err)
	}
	c.systemLine(wire.EventMessageLeft)
	c.conn.Close()
	// The customer has gone, but the message waits: no abandonment.
	if n := rg.ft.fire(5 * time.Minute); n != 0 {
		t.Errorf("%d abandonment timers fired for a left message; want none", n)
	}
	a1 := member(t, rg.s, "agent1")
	o := a1.offer(conv.ID)
	if !o.Message || o.Preview != "Please call me about invoice 42" {
		t.Errorf("offer of a left message = %+v; want Message and the customer's words", o)
	}
	if _, err := a1.conn.Request(ctx(t), wire.TypeOfferAccept, wire.OfferRef{Offer: o.ID}); err != nil {
		t.Fatal(err)
	}
	var got wire.Conversation
	a1.until(wire.TypeConvState, func(env wire.Envelope) bool {
		_ = json.Unmarshal(env.Data, &got)
		return got.ID == conv.ID && got.State == wire.ConvActive
	})
	if !got.Message || got.Contact != "mia@example.com" {
		t.Errorf("the agent's conversation = %+v; want the message flag and the contact", got)
	}
}

func TestOutOfHoursTakesMessagesOnly(t *testing.T) {
	t.Parallel()
	rg := newRoutingRig(t)
	// Sales opens on the weekday after today, so it is closed now.
	tomorrow := int(rg.clk.now().UTC().Weekday()+1) % 7
	if _, err := rg.s.SaveQueue(ctx(t), hub.Actor{Name: "test"}, hub.DemoOrg, wire.Queue{ID: "sales", Name: "Sales", ClosedMessage: "We open tomorrow at nine.",
		Hours: wire.WorkingHours{Intervals: []wire.OpenInterval{{Day: tomorrow, From: "09:00", To: "17:00"}}}}); err != nil {
		t.Fatal(err)
	}
	res, err := http.Get(rg.s.URL() + "/api/v1/orgs/demo/widget?queue=sales")
	if err != nil {
		t.Fatal(err)
	}
	var cfg wire.WidgetConfig
	_ = json.NewDecoder(res.Body).Decode(&cfg)
	res.Body.Close()
	if cfg.Queue.Open || cfg.Queue.ClosedMessage != "We open tomorrow at nine." {
		t.Errorf("widget for closed Sales = %+v; want closed with its message", cfg.Queue)
	}
	_, err = client.Start(ctx(t), rg.s.URL(), hub.DemoOrg, wire.StartConversation{Queue: "sales"})
	wantCode(t, "chat in a closed queue", err, wire.EQUEUECLOSED)
	cust, conv := rg.start(t, "Nia", wire.StartConversation{Queue: "sales", Message: "Do you ship to Spain?", Contact: "+34 600 000 000"})
	if !conv.Message || conv.Queue != "sales" || conv.LastSeq != 2 {
		t.Errorf("left message = %+v; want a message in sales with two lines", conv)
	}
	hist, err := cust.conn.History(ctx(t), conv.ID, 0)
	if err != nil || len(hist) != 2 || hist[0].Text != "Do you ship to Spain?" || hist[1].Event == nil || hist[1].Event.Kind != wire.EventMessageLeft {
		t.Errorf("transcript = %+v, %v; want the customer's words, then the line", hist, err)
	}
}

func TestTransferToQueueKeepsConversationTranscriptAndSeq(t *testing.T) {
	t.Parallel()
	rg := newRoutingRig(t)
	a1 := member(t, rg.s, "agent1")
	cust, conv := rg.start(t, "Tom", wire.StartConversation{Choice: "billing"})
	a1.accept(conv.ID)
	cust.waitState(wire.ConvActive)
	if _, err := cust.conn.Send(ctx(t), conv.ID, "I was charged twice"); err != nil {
		t.Fatal(err)
	}
	a1.message(conv.ID, "I was charged twice")
	ack, err := a1.conn.Request(ctx(t), wire.TypeConvTransfer, wire.Transfer{Conv: conv.ID, Queue: "sales", Note: "Wants the upgrade, not a refund"})
	if err != nil {
		t.Fatal(err)
	}
	// The first agent learns it is no longer theirs.
	var gone wire.Conversation
	a1.until(wire.TypeConvState, func(env wire.Envelope) bool {
		_ = json.Unmarshal(env.Data, &gone)
		return gone.ID == conv.ID && gone.State == wire.ConvWaiting
	})
	// The customer: same conversation, waiting again, one line about it.
	line := cust.systemLine(wire.EventTransferred)
	if line.Event.Queue != "Sales" || strings.Contains(line.Text, "upgrade") {
		t.Errorf("customer's transfer line = %+v; want the queue's name, no note", line)
	}
	st := cust.waitState(wire.ConvWaiting)
	if st.ID != conv.ID || st.Transfer != nil || st.Queue != "sales" {
		t.Errorf("customer's state after transfer = %+v", st)
	}
	a2 := member(t, rg.s, "agent2")
	o := a2.offer(conv.ID)
	if o.Transfer == nil || o.Transfer.Note != "Wants the upgrade, not a refund" || o.Transfer.FromName != "Agent One" || o.Transfer.To != "Sales" {
		t.Errorf("offer after transfer = %+v (transfer %+v); want Agent One's note", o, o.Transfer)
	}
	if _, err := a2.conn.Request(ctx(t), wire.TypeOfferAccept, wire.OfferRef{Offer: o.ID}); err != nil {
		t.Fatal(err)
	}
	// The whole transcript is there for the next agent, in one unbroken sequence, ending with
	// the note and the join.
	hist, err := a2.conn.History(ctx(t), conv.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for i, m := range hist {
		if m.Seq != int64(i+1) {
			t.Fatalf("history seq %d at %d; want no gaps: %+v", m.Seq, i, hist)
		}
		if m.Event != nil {
			kinds = append(kinds, string(m.Event.Kind))
		} else {
			kinds = append(kinds, string(m.Author))
		}
	}
	want := "joined customer transferred transfer_note joined"
	if got := strings.Join(kinds, " "); got != want {
		t.Errorf("transcript = %s; want %s", got, want)
	}
	if !hist[3].Internal || hist[2].Internal || hist[3].Event.Note != "Wants the upgrade, not a refund" {
		t.Errorf("transfer lines = %+v, %+v; want a public line, then the internal note", hist[2], hist[3])
	}
	if ack.Seq != hist[3].Seq {
		t.Errorf("transfer ack seq %d; want the note's %d", ack.Seq, hist[3].Seq)
	}
	cust.waitState(wire.ConvActive)
	if _, err := cust.conn.Send(ctx(t), conv.ID, "Thanks"); err != nil {
		t.Fatal(err)
	}
	if m := a2.message(conv.ID, "Thanks"); m.Seq != 6 {
		t.Errorf("next message seq = %d; want 6", m.Seq)
	}
}

func TestTransferToNamedAgentOfferedToThemOnly(t *testing.T) {
	t.Parallel()
	rg := newRoutingRig(t)
	a1, a2 := member(t, rg.s, "agent1"), member(t, rg.s, "agent2")
	cust, conv := customer(t, rg.s, "Ada")
	o := a1.offer(conv.ID) // connected first: idle longest
	if _, err := a1.conn.Request(ctx(t), wire.TypeOfferAccept, wire.OfferRef{Offer: o.ID}); err != nil {
		t.Fatal(err)
	}
	cust.waitState(wire.ConvActive)
	if _, err := a1.conn.Request(ctx(t), wire.TypeConvTransfer, wire.Transfer{Conv: conv.ID, Agent: rg.user(t, "agent2"), Note: "Speaks German"}); err != nil {
		t.Fatal(err)
	}
	if line := cust.systemLine(wire.EventTransferred); line.Event.Queue != "" || line.Text != "Transferring you to another agent." {
		t.Errorf("customer's line = %+v", line)
	}
	o2 := a2.offer(conv.ID)
	if o2.Transfer == nil || o2.Transfer.To != "Agent Two" {
		t.Errorf("offer = %+v; want the transfer to Agent Two", o2)
	}
	// Declined: back to its queue, where anyone may take it (Agent Two is passed over).
	if _, err := a2.conn.Request(ctx(t), wire.TypeOfferDecline, wire.OfferRef{Offer: o2.ID}); err != nil {
		t.Fatal(err)
	}
	a1.offer(conv.ID)
}

func TestTransferRefusedMovesNothing(t *testing.T) {
	t.Parallel()
	rg := newRoutingRig(t)
	a1 := member(t, rg.s, "agent1")
	cust, conv := customer(t, rg.s, "Rex")
	a1.accept(conv.ID)
	cust.waitState(wire.ConvActive)
	before, err := cust.conn.Send(ctx(t), conv.ID, "hello")
	if err != nil {
		t.Fatal(err)
	}
	tomorrow := int(rg.clk.now().UTC().Weekday()+1) % 7
	if _, err := rg.s.SaveQueue(ctx(t), hub.Actor{Name: "test"}, hub.DemoOrg, wire.Queue{ID: "sales", Name: "Sales",
		Hours: wire.WorkingHours{Intervals: []wire.OpenInterval{{Day: tomorrow, From: "00:00", To: "24:00"}}}}); err != nil {
		t.Fatal(err)
	}
	_, err = a1.conn.Request(ctx(t), wire.TypeConvTransfer, wire.Transfer{Conv: conv.ID, Queue: "sales"})
	wantCode(t, "transfer to a closed queue", err, wire.EQUEUECLOSED)
	_, err = a1.conn.Request(ctx(t), wire.TypeConvTransfer, wire.Transfer{Conv: conv.ID, Agent: rg.user(t, "agent2")})
	wantCode(t, "transfer to an offline agent", err, wire.EAGENTUNAVAILABLE)
	a2 := member(t, rg.s, "agent2")
	a2.setPresence(wire.PresenceAway)
	_, err = a1.conn.Request(ctx(t), wire.TypeConvTransfer, wire.Transfer{Conv: conv.ID, Agent: rg.user(t, "agent2")})
	wantCode(t, "transfer to an away agent", err, wire.EAGENTUNAVAILABLE)
	_, err = a1.conn.Request(ctx(t), wire.TypeConvTransfer, wire.Transfer{Conv: conv.ID, Queue: "nope"})
	wantCode(t, "transfer to no queue", err, wire.ENOTFOUND)
	_, err = a1.conn.Request(ctx(t), wire.TypeConvTransfer, wire.Transfer{Conv: conv.ID, Queue: "billing", Agent: rg.user(t, "agent2")})
	wantCode(t, "transfer to both", err, wire.EINVALID)
	_, err = a2.conn.Request(ctx(t), wire.TypeConvTransfer, wire.Transfer{Conv: conv.ID, Queue: "billing"})
	wantCode(t, "transfer by an agent who does not have it", err, wire.ENOTFOUND)
	// Nothing moved: still Agent One's, no new line.
	if _, err := cust.conn.Send(ctx(t), conv.ID, "still there?"); err != nil {
		t.Fatal(err)
	}
	if m := a1.message(conv.ID, "still there?"); m.Seq != before.Seq+1 {
		t.Errorf("next message seq %d; want %d (no line was added)", m.Seq, before.Seq+1)
	}
}

func TestTransferDuringCallEndsItAndAsksToCallBack(t *testing.T) {
	t.Parallel()
	rg := newRoutingRig(t)
	a1 := member(t, rg.s, "agent1")
	cust, conv := customer(t, rg.s, "Vic")
	a1.accept(conv.ID)
	cust.waitState(wire.ConvActive)
	a, err := a1.conn.Request(ctx(t), wire.TypeCallInvite, wire.CallInvite{Conv: conv.ID, Kind: wire.CallVideo})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cust.conn.Request(ctx(t), wire.TypeCallAccept, wire.CallAccept{Call: a.Call, Video: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := a1.conn.Request(ctx(t), wire.TypeConvTransfer, wire.Transfer{Conv: conv.ID, Agent: rg.user(t, "agent2")}); err == nil {
		t.Fatal("transfer to an offline agent during a call was accepted")
	}
	a2 := member(t, rg.s, "agent2")
	if _, err := a1.conn.Request(ctx(t), wire.TypeConvTransfer, wire.Transfer{Conv: conv.ID, Agent: rg.user(t, "agent2")}); err != nil {
		t.Fatal(err)
	}
	for _, p := range []*peer{a1, cust} {
		if st := p.callState(a.Call, wire.CallEnded); st.Reason != "transferred" {
			t.Errorf("%s: call ended with %q; want transferred", p.name, st.Reason)
		}
	}
	o := a2.offer(conv.ID)
	if o.Transfer == nil || o.Transfer.CallBack != wire.CallVideo {
		t.Errorf("offer = %+v; want a call-back request for video", o.Transfer)
	}
	a1.until(wire.TypeAgentState, func(env wire.Envelope) bool {
		var as wire.AgentState
		_ = json.Unmarshal(env.Data, &as)
		return !as.OnCall && as.Load == 0
	})
}

// rawCustomer reads every frame a customer connection gets, as bytes, so a test can check what
// never appears in any of them.
type rawCustomer struct {
	mu     sync.Mutex
	frames []string
	ws     *websocket.Conn
}

func dialRaw(t *testing.T, s *hub.Server, token string, resume map[wire.ConversationID]int64) *rawCustomer {
	t.Helper()
	ws, _, err := websocket.Dial(ctx(t), strings.Replace(s.URL(), "http", "ws", 1)+"/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	hello, _ := wire.Encode(wire.TypeHello, "", wire.Hello{Token: token, Resume: resume})
	if err := ws.Write(ctx(t), websocket.MessageText, hello); err != nil {
		t.Fatal(err)
	}
	rc := &rawCustomer{ws: ws}
	go func() {
		for {
			_, data, err := ws.Read(context.Background())
			if err != nil {
				return
			}
			rc.mu.Lock()
			rc.frames = append(rc.frames, string(data))
			rc.mu.Unlock()
		}
	}()
	t.Cleanup(func() { ws.CloseNow() })
	return rc
}

func (rc *rawCustomer) send(t *testing.T, typ wire.Type, rid string, v any) {
	t.Helper()
	frame, _ := wire.Encode(typ, rid, v)
	if err := rc.ws.Write(ctx(t), websocket.MessageText, frame); err != nil {
		t.Fatal(err)
	}
}

// waitFor waits for a frame containing s.
func (rc *rawCustomer) waitFor(t *testing.T, s string) {
	t.Helper()
	for range 250 {
		rc.mu.Lock()
		for _, f := range rc.frames {
			if strings.Contains(f, s) {
				rc.mu.Unlock()
				return
			}
		}
		rc.mu.Unlock()
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no frame with %q", s)
}

// never checks that no frame so far contains any of secrets.
func (rc *rawCustomer) never(t *testing.T, secrets ...string) {
	t.Helper()
	rc.mu.Lock()
	defer rc.mu.Unlock()
	for _, f := range rc.frames {
		for _, s := range secrets {
			if strings.Contains(f, s) {
				t.Errorf("a customer frame holds %q: %s", s, f)
			}
		}
	}
}

func TestInternalNotesNeverReachTheCustomer(t *testing.T) {
	t.Parallel()
	rg := newRoutingRig(t)
	a1 := member(t, rg.s, "agent1")
	sup := member(t, rg.s, "super1")
	started, err := client.Start(ctx(t), rg.s.URL(), hub.DemoOrg, wire.StartConversation{Name: "Ivy", Choice: "billing"})
	if err != nil {
		t.Fatal(err)
	}
	conv := started.Conversation
	raw := dialRaw(t, rg.s, started.Token, nil)
	a1.accept(conv.ID)
	raw.waitFor(t, `"state":"active"`)

	// The agent writes a note and invites the supervisor, who reads along and writes one too.
	if _, err := a1.conn.SendNote(ctx(t), conv.ID, "SECRET-NOTE-1 customer seems upset"); err != nil {
		t.Fatal(err)
	}
	if _, err := a1.conn.Request(ctx(t), wire.TypeConvInvite, wire.ConsultInvite{Conv: conv.ID, User: rg.user(t, "super1"), Note: "SECRET-INVITE please check"}); err != nil {
		t.Fatal(err)
	}
	var inv wire.Consult
	sup.next(wire.TypeConsult, &inv)
	if inv.Conversation.ID != conv.ID || inv.ByName != "Agent One" || inv.Note != "SECRET-INVITE please check" {
		t.Errorf("invitation = %+v", inv)
	}
	if _, err := sup.conn.SendNote(ctx(t), conv.ID, "SECRET-NOTE-2 offer the discount"); err != nil {
		t.Fatal(err)
	}
	a1.message(conv.ID, "SECRET-NOTE-2 offer the discount")
	// A reader along writes notes only; a customer writes no notes.
	_, err = sup.conn.Send(ctx(t), conv.ID, "hello customer")
	wantCode(t, "a reader along chatting", err, wire.EFORBIDDEN)
	raw.send(t, wire.TypeChatSend, "r1", wire.ChatSend{Conv: conv.ID, Text: "SECRET-FORGED", ClientID: "x1", Internal: true})
	raw.waitFor(t, `"rid":"r1"`)
	raw.waitFor(t, "EFORBIDDEN")
	// A transfer with a note, and the supervisor leaving: more internal lines.
	if _, err := a1.conn.Request(ctx(t), wire.TypeConvTransfer, wire.Transfer{Conv: conv.ID, Queue: "sales", Note: "SECRET-TRANSFER note"}); err != nil {
		t.Fatal(err)
	}
	if _, err := sup.conn.Request(ctx(t), wire.TypeConvConsultLeave, wire.ConvRef{Conv: conv.ID}); err != nil {
		t.Fatal(err)
	}
	if _, err := a1.conn.Request(ctx(t), wire.TypeSupervisorAssign, wire.Assign{}); err == nil {
		t.Error("an agent assigned")
	}
	// Then a public line the customer must get, so everything before it was sent.
	a2 := member(t, rg.s, "agent2")
	a2.accept(conv.ID)
	raw.waitFor(t, "Agent Two joined")

	// A reconnect replaying everything, and a sync from the start.
	raw2 := dialRaw(t, rg.s, started.Token, map[wire.ConversationID]int64{conv.ID: 0})
	raw2.waitFor(t, "Agent Two joined")
	raw2.send(t, wire.TypeSync, "s1", wire.Sync{Conv: conv.ID, After: 0})
	raw2.waitFor(t, `"type":"ack","rid":"s1"`)
	secrets := []string{"SECRET", "Supervisor One", "read along", "reading along", "transfer_note", "consult", `"skills"`, `"transfer"`, `"internal"`}
	raw.never(t, secrets...)
	raw2.never(t, secrets...)
	// The members saw all of it.
	hist, err := a2.conn.History(ctx(t), conv.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	var internal int
	for _, m := range hist {
		if m.Internal {
			internal++
		}
	}
	if internal != 5 { // two notes, the invitation, the transfer note, the leaving
		t.Errorf("agent2's history has %d internal lines; want 5: %+v", internal, hist)
	}
}

func TestQueueFiguresLiveInSnapshotAndMetrics(t *testing.T) {
	t.Parallel()
	rg := newRoutingRig(t)
	sup := member(t, rg.s, "super1")
	a1 := member(t, rg.s, "agent1")
	a1.setPresence(wire.PresenceAway)
	// One answered within Billing's target, one after it, one abandoned.
	c1, conv1 := rg.start(t, "Quick", wire.StartConversation{Choice: "billing"})
	_ = c1
	rg.clk.advance(10 * time.Second)
	a1.setPresence(wire.PresenceAvailable)
	a1.accept(conv1.ID)
	a1.setPresence(wire.PresenceAway)
	_, conv2 := rg.start(t, "Slow", wire.StartConversation{Choice: "billing"})
	rg.clk.advance(45 * time.Second)
	a1.setPresence(wire.PresenceAvailable)
	a1.accept(conv2.ID)
	a1.setPresence(wire.PresenceAway)
	c3, conv3 := rg.start(t, "Gone", wire.StartConversation{Choice: "billing"})
	rg.clk.advance(5 * time.Second)
	if _, err := c3.conn.Request(ctx(t), wire.TypeConvLeave, wire.ConvRef{Conv: conv3.ID}); err != nil {
		t.Fatal(err)
	}
	if _, err := a1.conn.Send(ctx(t), conv1.ID, "Hello"); err != nil {
		t.Fatal(err)
	}
	var billing wire.QueueStats
	sup.until(wire.TypeSupervisorSnapshot, func(env wire.Envelope) bool {
		var snap wire.Snapshot
		_ = json.Unmarshal(env.Data, &snap)
		for _, q := range snap.Queues {
			if q.Queue == "billing" {
				billing = q
			}
		}
		return billing.Abandoned == 1 && billing.FirstResponseMS > 0
	})
	if billing.Answered != 2 || billing.ServiceLevelPct != 33.3 || billing.AbandonPct != 33.3 || billing.ASAMS < 27500 || billing.ASAMS > 28500 ||
		billing.Target != (wire.ServiceLevel{TargetS: 30, Percent: 80}) {
		t.Errorf("billing figures = %+v; want 2 answered, SL 33.3 %%, abandon 33.3 %%, ASA 27.5 s", billing)
	}
	if billing.FirstResponseMS < 55000 {
		t.Errorf("first response = %d ms; want from joining the queue (over 55 s)", billing.FirstResponseMS)
	}
	res, err := http.Get(rg.s.URL() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	var body bytes.Buffer
	_, _ = body.ReadFrom(res.Body)
	res.Body.Close()
	for _, want := range []string{
		`parley_hub_queue_service_level_ratio{org="demo",queue="billing"} 0.33`,
		`parley_hub_queue_answered_total{in_target="yes",org="demo",queue="billing"} 1`,
		`parley_hub_queue_answered_total{in_target="no",org="demo",queue="billing"} 1`,
		`parley_hub_queue_abandoned_total{org="demo",queue="billing"} 1`,
		`parley_hub_queue_waiting{org="demo",queue="sales"} 0`,
		`parley_hub_routing_seconds_count`,
	} {
		if !strings.Contains(body.String(), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}
