package hub_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley/hub"
	"github.com/parleyhq/parley/hub/client"
	"github.com/parleyhq/parley/wire"
)

// vclock is a virtual clock for the hub: Now reads it, AfterFunc schedules on it, and advance
// moves it forward, running every timer that falls due on the way in time order. Timer callbacks
// only post work to the router, so the test waits for the events they cause.
type vclock struct {
	mu     sync.Mutex
	now    time.Time
	timers []*vtimer
}

type vtimer struct {
	c       *vclock
	at      time.Time
	f       func()
	stopped bool
}

func newVClock() *vclock {
	return &vclock{now: time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)}
}

func (c *vclock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *vclock) AfterFunc(d time.Duration, f func()) hub.Timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &vtimer{c: c, at: c.now.Add(d), f: f}
	if d <= 0 { // due now, as time.AfterFunc would run it
		t.stopped = true
		go f()
		return t
	}
	c.timers = append(c.timers, t)
	return t
}

func (t *vtimer) Stop() bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	was := !t.stopped
	t.stopped = true
	return was
}

// advance moves the clock forward by d, running the timers due, earliest first.
func (c *vclock) advance(d time.Duration) {
	c.mu.Lock()
	end := c.now.Add(d)
	c.mu.Unlock()
	for {
		c.mu.Lock()
		var next *vtimer
		for _, t := range c.timers {
			if !t.stopped && !t.at.After(end) && (next == nil || t.at.Before(next.at)) {
				next = t
			}
		}
		if next == nil {
			c.now = end
			c.mu.Unlock()
			return
		}
		next.stopped = true
		if next.at.After(c.now) {
			c.now = next.at
		}
		c.mu.Unlock()
		next.f()
	}
}

// advanceTo moves the clock to at (Unix ms).
func (c *vclock) advanceTo(at int64) {
	c.advance(time.UnixMilli(at).Sub(c.Now()))
}

// settle makes a round trip through the router for agent p. The hub tells of a change only
// after it set the timers that follow from it, so a test that saw the event may advance the
// clock at once; settle is for the steps that wait for no event.
func settle(t *testing.T, p *peer) {
	t.Helper()
	if _, err := p.conn.Request(ctx(t), wire.TypePresenceSet, wire.PresenceSet{Presence: wire.PresenceAvailable}); err != nil {
		t.Fatalf("round trip: %v", err)
	}
}

const (
	goneAfter  = 30 * time.Second
	closeAfter = 10 * time.Minute
	warnBefore = time.Minute
)

// idleHub runs a demo hub on the virtual clock with the inactivity times above.
func idleHub(t *testing.T, vc *vclock, db string, tweak ...func(*hub.Config)) *hub.Server {
	t.Helper()
	return startHub(t, append([]func(*hub.Config){func(c *hub.Config) {
		c.Now, c.AfterFunc = vc.Now, vc.AfterFunc
		c.CustomerGoneAfter, c.AutoCloseAfter, c.AutoCloseWarning = goneAfter, closeAfter, warnBefore
		c.OfferTimeout = time.Hour // the virtual clock jumps: offers must not lapse meanwhile
		c.AbandonAfter = 24 * time.Hour
		if db != "" {
			c.DB = db
		}
	}}, tweak...)...)
}

// beforeRestart starts a hub on a virtual clock and a database that outlives it, with agent1
// signed in: the first half of a restart test.
func beforeRestart(t *testing.T) (*vclock, string, *hub.Server, *peer) {
	t.Helper()
	vc := newVClock()
	db := testDB(t)
	s := idleHub(t, vc, db)
	return vc, db, s, member(t, s, "agent1")
}

// closesMoveTo waits for gone's conversation to get a new auto-close deadline and checks it is
// after the customer left.
func closesMoveTo(t *testing.T, agent *peer, gone wire.Conversation, after time.Duration, when string) {
	t.Helper()
	moved := agent.convState(gone.ID, func(c wire.Conversation) bool { return c.ClosesAt != gone.ClosesAt })
	if want := gone.CustomerSince + after.Milliseconds(); moved.ClosesAt != want {
		t.Errorf("%s: ClosesAt %d; want %d", when, moved.ClosesAt, want)
	}
}

// convState waits for a conv.state of conv (any when "") that match accepts.
func (p *peer) convState(conv wire.ConversationID, match func(wire.Conversation) bool) wire.Conversation {
	p.t.Helper()
	return untilData(p, wire.TypeConvState, func(c wire.Conversation) bool { return (conv == "" || c.ID == conv) && match(c) })
}

// leave closes the customer's connection as a closed tab would, and waits until the agent sees
// them away (the hub then waits CustomerGoneAfter for them).
func leave(t *testing.T, agent, cust *peer, conv wire.ConversationID) {
	t.Helper()
	cust.conn.Close()
	agent.convState(conv, func(c wire.Conversation) bool { return c.Customer == wire.CustomerAway })
}

// leaveUntilWarned has the customer leave, then moves the clock on until the conversation is
// marked gone and then to its close warning, which the agent sees; it returns the conversation as
// it was when marked gone.
func leaveUntilWarned(t *testing.T, vc *vclock, agent, cust *peer, conv wire.ConversationID) wire.Conversation {
	t.Helper()
	leave(t, agent, cust, conv)
	vc.advance(goneAfter)
	gone := agent.convState(conv, func(c wire.Conversation) bool { return c.Customer == wire.CustomerGone && c.ClosesAt > 0 })
	settle(t, agent)
	vc.advanceTo(gone.ClosesAt - warnBefore.Milliseconds())
	agent.convState(conv, func(c wire.Conversation) bool { return c.CloseWarning })
	return gone
}

// chatWith starts a customer's conversation that agent accepts, and returns the customer.
func chatWith(t *testing.T, s *hub.Server, agent *peer, name string) (*peer, wire.Conversation) {
	t.Helper()
	cust, conv := customer(t, s, name)
	agent.accept(conv.ID)
	agent.convState(conv.ID, func(c wire.Conversation) bool { return c.State == wire.ConvActive })
	return cust, conv
}

func TestCustomerGoneClosesAfterInactivity(t *testing.T) {
	vc := newVClock()
	s := idleHub(t, vc, "")
	agent := member(t, s, "agent1")
	sup := member(t, s, "super1")
	cust, conv := chatWith(t, s, agent, "Carla")
	if _, err := agent.conn.Send(ctx(t), conv.ID, "Hello Carla, how can I help?"); err != nil {
		t.Fatal(err)
	}
	vc.advance(5 * time.Second)

	// The tab goes to the background: away, still connected, nothing scheduled.
	if _, err := cust.conn.Request(ctx(t), wire.TypeCustomerPresence, wire.CustomerPresenceSet{Conv: conv.ID, Hidden: true}); err != nil {
		t.Fatal(err)
	}
	away := agent.convState(conv.ID, func(c wire.Conversation) bool { return c.Customer == wire.CustomerAway })
	if away.ClosesAt != 0 {
		t.Errorf("away with the tab hidden: ClosesAt = %d; want none", away.ClosesAt)
	}
	// The tab is closed: away since now, gone after the grace with one line in the transcript.
	vc.advance(20 * time.Second)
	closedAt := vc.Now().UnixMilli()
	cust.conn.Close()
	agent.convState(conv.ID, func(c wire.Conversation) bool {
		return c.Customer == wire.CustomerAway && c.CustomerSince == closedAt
	})
	settle(t, agent)
	vc.advance(goneAfter)
	line := agent.systemLine(wire.EventCustomerGone)
	if line.Text != "The customer has left the chat." {
		t.Errorf("gone line = %q", line.Text)
	}
	gone := agent.convState(conv.ID, func(c wire.Conversation) bool { return c.Customer == wire.CustomerGone })
	if gone.CustomerSince != closedAt || gone.ClosesAt != closedAt+closeAfter.Milliseconds() || gone.CloseWarning {
		t.Errorf("gone: since %d closes %d warning %v; want since %d (last seen), closes %v later, no warning yet",
			gone.CustomerSince, gone.ClosesAt, gone.CloseWarning, closedAt, closeAfter)
	}
	// The supervisor sees it too.
	sup.until(wire.TypeSupervisorSnapshot, func(env wire.Envelope) bool {
		var snap wire.Snapshot
		_ = json.Unmarshal(env.Data, &snap)
		i := slices.IndexFunc(snap.Conversations, func(c wire.Conversation) bool { return c.ID == conv.ID })
		return i >= 0 && snap.Conversations[i].Customer == wire.CustomerGone
	})

	// A minute before: the warning.
	settle(t, agent)
	vc.advanceTo(gone.ClosesAt - warnBefore.Milliseconds())
	warned := agent.convState(conv.ID, func(c wire.Conversation) bool { return c.CloseWarning })
	if warned.ClosesAt != gone.ClosesAt || warned.State != wire.ConvActive {
		t.Errorf("warning: %+v; want the same deadline, still active", warned)
	}

	// Then the close: a line, the end for inactivity, the outcome, and the capacity back.
	settle(t, agent)
	vc.advanceTo(gone.ClosesAt)
	closed := agent.systemLine(wire.EventIdleClosed)
	if closed.Text != "Closed after inactivity." {
		t.Errorf("close line = %q", closed.Text)
	}
	ended := agent.convState(conv.ID, func(c wire.Conversation) bool { return c.State == wire.ConvEnded })
	if ended.EndReason != wire.EndInactivity || ended.Outcome != wire.OutcomeResolved || ended.EndedBy != wire.AuthorSystem ||
		ended.EndedAt != gone.ClosesAt {
		t.Errorf("ended: reason %q outcome %q by %q at %d; want inactivity, resolved (the agent had answered), system, at %d",
			ended.EndReason, ended.Outcome, ended.EndedBy, ended.EndedAt, gone.ClosesAt)
	}
	agent.agentState(func(as wire.AgentState) bool { return as.Load == 0 })

	// The customer's transcript keeps the line.
	msgs, err := s.Store().Messages(ctx(t), conv.ID, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var kinds []wire.EventKind
	for _, m := range msgs {
		if m.Event != nil {
			kinds = append(kinds, m.Event.Kind)
		}
	}
	if want := []wire.EventKind{wire.EventJoined, wire.EventCustomerGone, wire.EventIdleClosed}; !slices.Equal(kinds, want) {
		t.Errorf("transcript lines = %v; want %v", kinds, want)
	}
	// The reports count it.
	sup.until(wire.TypeSupervisorSnapshot, func(env wire.Envelope) bool {
		var snap wire.Snapshot
		_ = json.Unmarshal(env.Data, &snap)
		return snap.Stats.AutoClosed == 1 && snap.Stats.Resolved == 1 && snap.Stats.Abandoned == 0
	})
}

func TestAutoCloseFreesCapacityForTheNextCustomer(t *testing.T) {
	vc := newVClock()
	s := idleHub(t, vc, "")
	agent := member(t, s, "agent1") // capacity 3; agent2 is not signed in
	var custs []*peer
	var convs []wire.Conversation
	for _, name := range []string{"Ann", "Bob", "Cat"} {
		c, conv := chatWith(t, s, agent, name)
		custs, convs = append(custs, c), append(convs, conv)
	}
	agent.agentState(func(as wire.AgentState) bool { return as.Load == 3 })
	// Bob never got an answer and closes the tab.
	leave(t, agent, custs[1], convs[1].ID)
	_, waiting := customer(t, s, "Dan")
	agent.none(wire.TypeOffer, 200*time.Millisecond) // at 3/3: Dan waits
	settle(t, agent)
	vc.advance(goneAfter)
	gone := agent.convState(convs[1].ID, func(c wire.Conversation) bool { return c.Customer == wire.CustomerGone })
	settle(t, agent)
	vc.advanceTo(gone.ClosesAt - warnBefore.Milliseconds())
	agent.convState(convs[1].ID, func(c wire.Conversation) bool { return c.CloseWarning })
	settle(t, agent)
	vc.advanceTo(gone.ClosesAt)
	ended := agent.convState(convs[1].ID, func(c wire.Conversation) bool { return c.State == wire.ConvEnded })
	if ended.Outcome != wire.OutcomeAbandoned {
		t.Errorf("outcome = %q; want abandoned (the agent never answered Bob)", ended.Outcome)
	}
	// The freed capacity goes to Dan at once.
	agent.offer(waiting.ID)
}

func TestCustomerBackInTimeCancelsTheClose(t *testing.T) {
	vc := newVClock()
	s := idleHub(t, vc, "")
	agent := member(t, s, "agent1")
	cust, conv, token := customerToken(t, s, "Carla")
	agent.accept(conv.ID)
	agent.convState(conv.ID, func(c wire.Conversation) bool { return c.State == wire.ConvActive })
	leaveUntilWarned(t, vc, agent, cust, conv.ID)

	// Back with a few seconds to spare: the close is off, and the transcript says so.
	vc.advance(50 * time.Second)
	back := dial(t, s, token, "Carla again")
	agent.systemLine(wire.EventCustomerBack)
	here := agent.convState(conv.ID, func(c wire.Conversation) bool { return c.Customer == wire.CustomerHere })
	if here.ClosesAt != 0 || here.CloseWarning {
		t.Errorf("back: ClosesAt %d warning %v; want none", here.ClosesAt, here.CloseWarning)
	}
	settle(t, agent)
	vc.advance(time.Hour)
	agent.none(wire.TypeConvState, 300*time.Millisecond)
	if _, err := back.conn.Send(ctx(t), conv.ID, "still here"); err != nil {
		t.Errorf("the customer who came back cannot write: %v", err)
	}
}

func TestKeepOpenStartsTheWaitAgain(t *testing.T) {
	vc := newVClock()
	s := idleHub(t, vc, "")
	agent := member(t, s, "agent1")
	cust, conv := chatWith(t, s, agent, "Carla")
	gone := leaveUntilWarned(t, vc, agent, cust, conv.ID)

	vc.advance(30 * time.Second)
	keptAt := vc.Now().UnixMilli()
	if _, err := agent.conn.Request(ctx(t), wire.TypeConvKeep, wire.ConvRef{Conv: conv.ID}); err != nil {
		t.Fatalf("keep open: %v", err)
	}
	kept := agent.convState(conv.ID, func(c wire.Conversation) bool { return !c.CloseWarning })
	if kept.ClosesAt != keptAt+closeAfter.Milliseconds() || kept.State != wire.ConvActive {
		t.Errorf("kept: ClosesAt %d state %s; want %d, active", kept.ClosesAt, kept.State, keptAt+closeAfter.Milliseconds())
	}
	settle(t, agent)
	vc.advanceTo(gone.ClosesAt + 1000)
	agent.none(wire.TypeConvState, 300*time.Millisecond)

	// The agent writing moves it too; only keep-open asks nothing of the customer.
	vc.advance(5 * time.Minute)
	if _, err := agent.conn.Send(ctx(t), conv.ID, "Are you still there?"); err != nil {
		t.Fatal(err)
	}
	wrote := agent.convState(conv.ID, func(c wire.Conversation) bool { return c.ClosesAt != kept.ClosesAt })
	if wrote.ClosesAt != vc.Now().UnixMilli()+closeAfter.Milliseconds() {
		t.Errorf("after the agent wrote: ClosesAt %d; want %v from now", wrote.ClosesAt, closeAfter)
	}

	// Others cannot keep it open: the customer, or an agent it is not assigned to.
	other := member(t, s, "agent2")
	_, err := other.conn.Request(ctx(t), wire.TypeConvKeep, wire.ConvRef{Conv: conv.ID})
	wantCode(t, "keep by another agent", err, wire.ENOTFOUND)
}

func TestRestartKeepsTheDeadline(t *testing.T) {
	vc, db, s1, agent := beforeRestart(t)
	cust, conv := chatWith(t, s1, agent, "Carla")
	leave(t, agent, cust, conv.ID)
	vc.advance(goneAfter)
	gone := agent.convState(conv.ID, func(c wire.Conversation) bool { return c.Customer == wire.CustomerGone && c.ClosesAt > 0 })
	agent.conn.Close()
	closeHub(t, s1)

	// Down for two minutes, then up again on the same database.
	vc.advance(2 * time.Minute)
	s2 := idleHub(t, vc, db)
	agent = member(t, s2, "agent1")
	w := agent.conn.Welcome()
	if len(w.Conversations) != 1 || w.Conversations[0].Customer != wire.CustomerGone || w.Conversations[0].ClosesAt != gone.ClosesAt {
		t.Fatalf("after the restart: %+v; want the gone customer with the deadline %d", w.Conversations, gone.ClosesAt)
	}
	settle(t, agent)
	vc.advanceTo(gone.ClosesAt - warnBefore.Milliseconds())
	agent.convState(conv.ID, func(c wire.Conversation) bool { return c.CloseWarning })
	settle(t, agent)
	vc.advanceTo(gone.ClosesAt)
	ended := agent.convState(conv.ID, func(c wire.Conversation) bool { return c.State == wire.ConvEnded })
	if ended.EndedAt != gone.ClosesAt || ended.EndReason != wire.EndInactivity {
		t.Errorf("ended at %d for %q; want %d, inactivity", ended.EndedAt, ended.EndReason, gone.ClosesAt)
	}
	agent.agentState(func(as wire.AgentState) bool { return as.Load == 0 })
}

// make demo, stopped with three chats whose customers never come back: after the restart they
// close on time and the agent is free again.
func TestRestartWithDeadChatsFreesTheAgent(t *testing.T) {
	vc, db, s1, agent := beforeRestart(t)
	var custs []*peer
	for _, name := range []string{"Ann", "Bob", "Cat"} {
		c, _ := chatWith(t, s1, agent, name)
		custs = append(custs, c)
	}
	agent.agentState(func(as wire.AgentState) bool { return as.Load == 3 })
	stoppedAt := vc.Now().UnixMilli()
	agent.conn.Close()
	closeHub(t, s1) // the customers are still connected: the stop is the last time they were seen
	for _, c := range custs {
		c.conn.Close()
	}

	vc.advance(3 * time.Hour)
	s2 := idleHub(t, vc, db)
	loadedAt := vc.Now()
	agent = member(t, s2, "agent1")
	w := agent.conn.Welcome()
	if len(w.Conversations) != 3 {
		t.Fatalf("after the restart: %d conversations; want 3", len(w.Conversations))
	}
	for _, c := range w.Conversations {
		if c.Customer != wire.CustomerAway || c.CustomerSince != stoppedAt {
			t.Errorf("%s: customer %q since %d; want away since the stop (%d)", c.CustomerName, c.Customer, c.CustomerSince, stoppedAt)
		}
	}
	_, waiting := customer(t, s2, "Dan")
	agent.none(wire.TypeOffer, 200*time.Millisecond)
	// None came back. Their deadlines passed while the hub was down, but each customer first gets
	// the grace to reconnect: nothing closes before it ends.
	settle(t, agent)
	vc.advance(goneAfter - time.Second)
	agent.none(wire.TypeConvState, 300*time.Millisecond)
	vc.advance(time.Second)
	ended := map[wire.ConversationID]wire.Conversation{}
	offered := false
	for len(ended) < 3 || !offered {
		env := agent.until("", func(env wire.Envelope) bool { return env.Type == wire.TypeConvState || env.Type == wire.TypeOffer })
		var c wire.Conversation
		_ = json.Unmarshal(env.Data, &c)
		switch {
		case env.Type == wire.TypeOffer:
			var o wire.Offer
			_ = json.Unmarshal(env.Data, &o)
			offered = o.Conv == waiting.ID
		case c.State == wire.ConvEnded:
			ended[c.ID] = c
		}
	}
	for _, c := range ended {
		if c.EndReason != wire.EndInactivity || c.EndedAt != loadedAt.Add(goneAfter).UnixMilli() {
			t.Errorf("%s ended for %q at %d; want inactivity at %d", c.CustomerName, c.EndReason, c.EndedAt, loadedAt.Add(goneAfter).UnixMilli())
		}
	}
	// agent1 was free again, and Dan offered at once.
}

// customerToken starts a demo conversation, connects to it, and returns the token too, so the
// test can come back as the same customer.
func customerToken(t *testing.T, s *hub.Server, name string) (*peer, wire.Conversation, string) {
	t.Helper()
	started, err := client.StartConversation(ctx(t), s.URL(), hub.DemoOrg, name)
	if err != nil {
		t.Fatalf("StartConversation: %v", err)
	}
	return dial(t, s, started.Token, name), started.Conversation, started.Token
}

// closeHub stops a hub in the middle of a test.
func closeHub(t *testing.T, s *hub.Server) {
	t.Helper()
	c, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.Close(c); err != nil {
		t.Fatalf("Close: %v", err)
	}
}

func TestCallInProgressNeverAutoCloses(t *testing.T) {
	vc := newVClock()
	// A call outlives a customer without a connection for an hour here, so the customer can be
	// gone while it runs.
	s := idleHub(t, vc, "", func(c *hub.Config) { c.CallGrace = 2 * time.Hour })
	agent := member(t, s, "agent1")
	cust, conv := chatWith(t, s, agent, "Carla")
	a, err := agent.conn.Request(ctx(t), wire.TypeCallInvite, wire.CallInvite{Conv: conv.ID, Kind: wire.CallVoice})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cust.conn.Request(ctx(t), wire.TypeCallAccept, wire.CallAccept{Call: a.Call}); err != nil {
		t.Fatal(err)
	}
	agent.callState(a.Call, wire.CallActive)
	leave(t, agent, cust, conv.ID)
	vc.advance(goneAfter)
	gone := agent.convState(conv.ID, func(c wire.Conversation) bool { return c.Customer == wire.CustomerGone })
	if gone.ClosesAt != 0 {
		t.Errorf("gone during a call: ClosesAt = %d; want none", gone.ClosesAt)
	}
	settle(t, agent)
	vc.advance(time.Hour)
	agent.none(wire.TypeConvState, 300*time.Millisecond)

	// The call's end counts as activity: the wait starts from it.
	if _, err := agent.conn.Request(ctx(t), wire.TypeCallEnd, wire.CallRef{Call: a.Call}); err != nil {
		t.Fatal(err)
	}
	endedAt := vc.Now().UnixMilli()
	due := agent.convState(conv.ID, func(c wire.Conversation) bool { return c.ClosesAt > 0 })
	if due.ClosesAt != endedAt+closeAfter.Milliseconds() {
		t.Errorf("after the call: ClosesAt %d; want %d", due.ClosesAt, endedAt+closeAfter.Milliseconds())
	}
}

func TestTabTogglesAreBounded(t *testing.T) {
	vc := newVClock()
	s := idleHub(t, vc, "")
	agent := member(t, s, "agent1")
	cust, conv := chatWith(t, s, agent, "Carla")
	vc.advance(5 * time.Second)
	set := func(hidden bool) {
		t.Helper()
		if _, err := cust.conn.Request(ctx(t), wire.TypeCustomerPresence, wire.CustomerPresenceSet{Conv: conv.ID, Hidden: hidden}); err != nil {
			t.Fatal(err)
		}
	}
	set(true)
	agent.convState(conv.ID, func(c wire.Conversation) bool { return c.Customer == wire.CustomerAway })
	// A tab toggled in a loop: nothing more within the second, then its last state once.
	for i := range 40 {
		set(i%2 == 0)
	}
	set(false)
	agent.none(wire.TypeConvState, 300*time.Millisecond)
	vc.advance(presenceEvery)
	agent.convState(conv.ID, func(c wire.Conversation) bool { return c.Customer == wire.CustomerHere })
	agent.none(wire.TypeConvState, 300*time.Millisecond)

	// Only the customer reports presence, and only for their own conversation.
	_, err := agent.conn.Request(ctx(t), wire.TypeCustomerPresence, wire.CustomerPresenceSet{Conv: conv.ID, Hidden: true})
	wantCode(t, "agent sets customer presence", err, wire.EFORBIDDEN)
	other, _ := customer(t, s, "Eve")
	_, err = other.conn.Request(ctx(t), wire.TypeCustomerPresence, wire.CustomerPresenceSet{Conv: conv.ID, Hidden: true})
	wantCode(t, "another customer's presence", err, wire.ENOTFOUND)
}

// presenceEvery is the hub's bound on passing on visibility changes (router_idle.go).
const presenceEvery = time.Second

func TestSupervisorClosesAGoneCustomersChat(t *testing.T) {
	vc := newVClock()
	s := idleHub(t, vc, "")
	agent := member(t, s, "agent1")
	sup := member(t, s, "super1")
	cust, conv := chatWith(t, s, agent, "Carla")
	leave(t, agent, cust, conv.ID)
	vc.advance(goneAfter)
	sup.until(wire.TypeSupervisorSnapshot, func(env wire.Envelope) bool {
		var snap wire.Snapshot
		_ = json.Unmarshal(env.Data, &snap)
		i := slices.IndexFunc(snap.Conversations, func(c wire.Conversation) bool { return c.ID == conv.ID })
		return i >= 0 && snap.Conversations[i].Customer == wire.CustomerGone && snap.Conversations[i].ClosesAt > 0
	})
	_, err := agent.conn.Request(ctx(t), wire.TypeSupervisorClose, wire.ConvRef{Conv: conv.ID})
	wantCode(t, "agent uses supervisor.close", err, wire.EFORBIDDEN)
	if _, err := sup.conn.Request(ctx(t), wire.TypeSupervisorClose, wire.ConvRef{Conv: conv.ID}); err != nil {
		t.Fatalf("supervisor close: %v", err)
	}
	line := agent.systemLine(wire.EventSupervisorClosed)
	if line.Event.Name != "Supervisor One" {
		t.Errorf("line = %+v; want the supervisor's name", line)
	}
	ended := agent.convState(conv.ID, func(c wire.Conversation) bool { return c.State == wire.ConvEnded })
	if ended.EndReason != wire.EndBySupervisor || ended.Outcome != wire.OutcomeAbandoned {
		t.Errorf("ended for %q, %q; want supervisor, abandoned (never answered)", ended.EndReason, ended.Outcome)
	}
	agent.agentState(func(as wire.AgentState) bool { return as.Load == 0 })
	_, err = sup.conn.Request(ctx(t), wire.TypeSupervisorClose, wire.ConvRef{Conv: conv.ID})
	wantCode(t, "close twice", err, wire.ECONFLICT)
}

func TestAutoCloseSettingAPI(t *testing.T) {
	vc := newVClock()
	s := idleHub(t, vc, "")
	agent := member(t, s, "agent1")
	cust, conv := chatWith(t, s, agent, "Carla")
	leave(t, agent, cust, conv.ID)
	vc.advance(goneAfter)
	gone := agent.convState(conv.ID, func(c wire.Conversation) bool { return c.Customer == wire.CustomerGone && c.ClosesAt > 0 })

	admin, super := demoToken(t, s, "admin1"), demoToken(t, s, "super1")
	tests := []struct {
		method, token string
		body          any
		status        int
		contains      string
	}{
		{"GET", "", nil, 401, "EUNAUTHORIZED"},
		{"GET", super, nil, 200, `{"after_s":0,"default_s":600,"warning_s":60}`},
		{"PUT", super, wire.AutoCloseSettings{AfterSeconds: 300}, 403, "EFORBIDDEN"},
		{"PUT", admin, wire.AutoCloseSettings{AfterSeconds: 5}, 400, "EINVALID"},
		{"PUT", admin, wire.AutoCloseSettings{AfterSeconds: 2 * 86400}, 400, "EINVALID"},
		{"PUT", admin, wire.AutoCloseSettings{AfterSeconds: 300}, 200, `"after_s":300`},
		{"GET", super, nil, 200, `"after_s":300`},
	}
	for _, tt := range tests {
		if status, body := settingsAPI(t, s, tt.method, "auto-close", tt.token, tt.body); status != tt.status || !strings.Contains(body, tt.contains) {
			t.Errorf("%s %+v = %d %s; want %d containing %s", tt.method, tt.body, status, body, tt.status, tt.contains)
		}
	}
	// The open conversation follows the new time at once.
	closesMoveTo(t, agent, gone, 5*time.Minute, "after the change")
}

// A hub down past a gone customer's deadline does not close the chat the moment it starts: the
// customer first gets the grace to reconnect, and one who does keeps the chat.
func TestRestartAfterTheDeadlineGivesTheCustomerTime(t *testing.T) {
	vc, db, s1, agent := beforeRestart(t)
	cust1, conv1, token1 := customerToken(t, s1, "Ann")
	agent.accept(conv1.ID)
	cust2, conv2 := chatWith(t, s1, agent, "Bob")
	leave(t, agent, cust1, conv1.ID)
	leave(t, agent, cust2, conv2.ID)
	vc.advance(goneAfter)
	agent.convState(conv2.ID, func(c wire.Conversation) bool { return c.Customer == wire.CustomerGone })
	agent.conn.Close()
	closeHub(t, s1)

	vc.advance(closeAfter + 10*time.Minute)
	s2 := idleHub(t, vc, db)
	loadedAt := vc.Now()
	agent = member(t, s2, "agent1")
	for _, c := range agent.conn.Welcome().Conversations {
		if c.ClosesAt != loadedAt.Add(goneAfter).UnixMilli() || !c.CloseWarning {
			t.Errorf("%s: ClosesAt %d warning %v; want the grace after the start (%d), warned",
				c.CustomerName, c.ClosesAt, c.CloseWarning, loadedAt.Add(goneAfter).UnixMilli())
		}
	}
	settle(t, agent)
	vc.advance(goneAfter / 2)
	agent.none(wire.TypeConvState, 300*time.Millisecond)
	dial(t, s2, token1, "Ann again")
	agent.systemLine(wire.EventCustomerBack)
	settle(t, agent)
	vc.advance(goneAfter / 2)
	ended := agent.convState("", func(c wire.Conversation) bool { return c.State == wire.ConvEnded })
	if ended.ID != conv2.ID || ended.EndedAt != loadedAt.Add(goneAfter).UnixMilli() {
		t.Errorf("ended %s at %d; want Bob's at %d", ended.CustomerName, ended.EndedAt, loadedAt.Add(goneAfter).UnixMilli())
	}
	agent.agentState(func(as wire.AgentState) bool { return as.Load == 1 })
}

// A queue's own auto-close time wins over the organisation's, and a change applies at once.
func TestQueueAutoCloseTime(t *testing.T) {
	vc := newVClock()
	s := idleHub(t, vc, "")
	if err := s.SetAutoClose(ctx(t), hub.CommandLine, hub.DemoOrg, wire.AutoCloseSettings{AfterSeconds: 300}); err != nil {
		t.Fatal(err)
	}
	_, err := s.SaveQueue(ctx(t), hub.CommandLine, hub.DemoOrg, wire.Queue{ID: hub.DefaultQueue, Name: "General", Default: true, AutoCloseS: 5})
	wantCode(t, "a 5 s queue auto-close", err, wire.EINVALID)
	if _, err := s.SaveQueue(ctx(t), hub.CommandLine, hub.DemoOrg, wire.Queue{ID: hub.DefaultQueue, Name: "General", Default: true, AutoCloseS: 120}); err != nil {
		t.Fatal(err)
	}
	agent := member(t, s, "agent1")
	cust, conv := chatWith(t, s, agent, "Carla")
	leave(t, agent, cust, conv.ID)
	vc.advance(goneAfter)
	gone := agent.convState(conv.ID, func(c wire.Conversation) bool { return c.Customer == wire.CustomerGone && c.ClosesAt > 0 })
	if want := gone.CustomerSince + 120_000; gone.ClosesAt != want {
		t.Errorf("in a 2-minute queue: ClosesAt %d; want %d", gone.ClosesAt, want)
	}
	// Back to the organisation's time.
	if _, err := s.SaveQueue(ctx(t), hub.CommandLine, hub.DemoOrg, wire.Queue{ID: hub.DefaultQueue, Name: "General", Default: true}); err != nil {
		t.Fatal(err)
	}
	closesMoveTo(t, agent, gone, 5*time.Minute, "after the queue's time was cleared (the organisation's 5 minutes)")
}

// A hub that stopped without saying goodbye (or an older hub's database) leaves customers whose
// presence is unknown: they count as last seen when someone last wrote, get the grace to come
// back, and a chat idle for longer than the auto-close time then closes.
func TestRestartAfterACrash(t *testing.T) {
	vc, db, s1, agent := beforeRestart(t)
	_, conv := chatWith(t, s1, agent, "Carla")
	if _, err := agent.conn.Send(ctx(t), conv.ID, "Anything else?"); err != nil {
		t.Fatal(err)
	}
	wroteAt := vc.Now().UnixMilli()
	vc.advance(20 * time.Minute) // connected, nobody writing
	agent.conn.Close()
	closeHub(t, s1)
	// What a crash leaves: the customer stored as here.
	st, err := hub.OpenStore(ctx(t), db, vc.Now)
	if err != nil {
		t.Fatal(err)
	}
	c, err := st.Conversation(ctx(t), conv.ID)
	if err != nil {
		t.Fatal(err)
	}
	c.Customer, c.CustomerSince = wire.CustomerHere, 0
	if err := st.UpdateConversation(ctx(t), c); err != nil {
		t.Fatal(err)
	}
	st.Close()

	vc.advance(time.Minute)
	s2 := idleHub(t, vc, db)
	loadedAt := vc.Now()
	agent = member(t, s2, "agent1")
	w := agent.conn.Welcome().Conversations
	if len(w) != 1 || w[0].Customer != wire.CustomerAway || w[0].CustomerSince != wroteAt {
		t.Fatalf("after the crash: %+v; want the customer away since the last message (%d)", w, wroteAt)
	}
	settle(t, agent)
	vc.advance(goneAfter)
	ended := agent.convState(conv.ID, func(c wire.Conversation) bool { return c.State == wire.ConvEnded })
	if ended.EndedAt != loadedAt.Add(goneAfter).UnixMilli() {
		t.Errorf("ended at %d; want when the grace ran out (%d)", ended.EndedAt, loadedAt.Add(goneAfter).UnixMilli())
	}
}
