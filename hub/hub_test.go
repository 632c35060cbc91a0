package hub_test

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley/hub"
	"github.com/parleyhq/parley/hub/client"
	"github.com/parleyhq/parley/hub/postgres"
	"github.com/parleyhq/parley/wire"
)

func TestLogin(t *testing.T) {
	s := startHub(t)
	tests := []struct {
		org            wire.OrgID
		user, password string
		code           wire.Code
	}{
		{"demo", "agent1", "demo", ""},
		{"demo", "super1", "demo", ""},
		{"demo", "agent1", "wrong", wire.EUNAUTHORIZED},
		{"demo", "nobody", "demo", wire.EUNAUTHORIZED},
		{"other", "agent1", "demo", wire.EUNAUTHORIZED},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s/%s/%s", tt.org, tt.user, tt.password), func(t *testing.T) {
			resp, err := client.Login(ctx(t), s.URL(), tt.org, tt.user, tt.password)
			wantCode(t, "Login", err, tt.code)
			if err == nil && (resp.Token == "" || resp.User.Username != tt.user || resp.ExpiresAt <= time.Now().UnixMilli()) {
				t.Errorf("Login = %+v; want a token for %s", resp, tt.user)
			}
		})
	}
	a := member(t, s, "agent1")
	w := a.conn.Welcome()
	if w.Role != wire.RoleAgent || w.User == nil || w.User.DisplayName != "Agent One" || w.MaxTextBytes != wire.MaxTextBytes {
		t.Errorf("agent1 Welcome = %+v", w)
	}
}

func TestHTTPEndpoints(t *testing.T) {
	s := startHub(t, func(c *hub.Config) {
		c.Portal = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "portal:"+r.URL.Path) })
	})
	tests := []struct {
		method, path, body string
		status             int
		contains           string
	}{
		{"GET", "/healthz", "", 200, "ok"},
		{"GET", "/readyz", "", 200, "ready"},
		{"GET", "/metrics", "", 200, "parley_hub_connections"},
		{"GET", "/api/v1/orgs/demo/widget", "", 200, `"name":"Demo Company"`},
		{"GET", "/api/v1/orgs/nope/widget", "", 404, "ENOTFOUND"},
		{"POST", "/api/v1/orgs/nope/conversations", "{}", 404, "ENOTFOUND"},
		{"POST", "/api/v1/orgs/demo/conversations", `{"name":"` + strings.Repeat("n", wire.MaxNameBytes+1) + `"}`, 413, "ETOOLARGE"},
		{"POST", "/api/v1/orgs/demo/conversations", `{"name":`, 400, "EINVALID"},
		{"POST", "/api/v1/orgs/demo/conversations", `{"name":"Ann"}`, 201, `"state":"waiting"`},
		{"POST", "/api/v1/login", `not json`, 400, "EINVALID"},
		{"GET", "/api/v1/nothing", "", 404, "ENOTFOUND"},
		{"GET", "/chat/demo", "", 200, "portal:/chat/demo"},
	}
	for _, tt := range tests {
		req, _ := http.NewRequest(tt.method, s.URL()+tt.path, strings.NewReader(tt.body))
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != tt.status || !strings.Contains(string(body), tt.contains) {
			t.Errorf("%s %s = %d %s; want %d containing %q", tt.method, tt.path, res.StatusCode, body, tt.status, tt.contains)
		}
	}
}

func TestQueueOfferAcceptChat(t *testing.T) {
	s := startHub(t)
	agent := member(t, s, "agent1")
	var st wire.AgentState
	agent.next(wire.TypeAgentState, &st)
	if st.Presence != wire.PresenceAvailable || st.Load != 0 || st.Capacity != 3 {
		t.Fatalf("agent1 state = %+v; want available 0/3", st)
	}
	cust, conv := customer(t, s, "Ann")
	if conv.QueuePosition != 1 || conv.State != wire.ConvWaiting {
		t.Fatalf("started conversation = %+v; want waiting at position 1", conv)
	}
	var qp wire.QueuePosition
	cust.next(wire.TypeQueuePosition, &qp)
	if qp.Position != 1 {
		t.Errorf("queue position = %d; want 1", qp.Position)
	}
	o := agent.offer(conv.ID)
	if o.CustomerName != "Ann" || o.ExpiresAt <= time.Now().UnixMilli() {
		t.Errorf("offer = %+v", o)
	}
	if _, err := agent.conn.Request(ctx(t), wire.TypeOfferAccept, wire.OfferRef{Offer: o.ID}); err != nil {
		t.Fatal(err)
	}
	var cs wire.Conversation
	cust.next(wire.TypeConvState, &cs)
	if cs.State != wire.ConvActive || cs.AgentName != "Agent One" {
		t.Errorf("customer sees %+v; want active with Agent One", cs)
	}
	cust.message(conv.ID, "Agent One joined the conversation.")
	agent.next(wire.TypeAgentState, &st)
	if st.Load != 1 {
		t.Errorf("agent load = %d; want 1", st.Load)
	}

	// Accepting the same offer again fails: it is gone.
	_, err := agent.conn.Request(ctx(t), wire.TypeOfferAccept, wire.OfferRef{Offer: o.ID})
	wantCode(t, "second accept", err, wire.ENOTFOUND)

	ack, err := cust.conn.Send(ctx(t), conv.ID, "<script>alert(1)</script> hello")
	if err != nil {
		t.Fatal(err)
	}
	if ack.Seq != 2 || ack.Conv != conv.ID {
		t.Errorf("customer send ack = %+v; want seq 2", ack)
	}
	m := agent.message(conv.ID, "<script>alert(1)</script> hello")
	if m.Author != wire.AuthorCustomer || m.AuthorName != "Ann" || m.Seq != 2 {
		t.Errorf("agent got %+v", m)
	}
	cust.message(conv.ID, "<script>alert(1)</script> hello") // the sender's own copy, for other tabs
	if _, err := agent.conn.Send(ctx(t), conv.ID, "hi Ann"); err != nil {
		t.Fatal(err)
	}
	m = cust.message(conv.ID, "hi Ann")
	if m.Author != wire.AuthorAgent || m.AuthorName != "Agent One" || m.Seq != 3 {
		t.Errorf("customer got %+v", m)
	}
	hist, err := agent.conn.History(ctx(t), conv.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(hist) != 3 || hist[0].Author != wire.AuthorSystem || hist[2].Text != "hi Ann" {
		t.Errorf("History = %+v; want join line, customer, agent", hist)
	}
}

// An accept the database refuses changes nothing: the agent gets the error, the customer neither
// the new state nor the "joined" line, and the disk holds the conversation as it was (the state
// and the line are stored in one transaction).
func TestAcceptRefusedByTheDatabaseChangesNothing(t *testing.T) {
	if postgres.IsDSN(testDB(t)) {
		t.Skip("the refusal is an SQLite trigger")
	}
	var path string
	s := startHub(t, func(c *hub.Config) { path = c.DB })
	agent := member(t, s, "agent1")
	cust, conv := customer(t, s, "Ann")
	o := agent.offer(conv.ID)
	// The conversation's update goes through; the line after it, in the same transaction, fails.
	raw, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.Exec(`CREATE TRIGGER refuse_system BEFORE INSERT ON messages WHEN NEW.author = 'system'
		BEGIN SELECT RAISE(ABORT, 'refused by the test'); END`); err != nil {
		t.Fatal(err)
	}
	if _, err := agent.conn.Request(ctx(t), wire.TypeOfferAccept, wire.OfferRef{Offer: o.ID}); err == nil {
		t.Fatal("accept the database refused = nil; want an error")
	}
	cust.none(wire.TypeConvState, 300*time.Millisecond)
	cust.none(wire.TypeChatMessage, 0)
	c, err := s.Store().Conversation(ctx(t), conv.ID)
	if err != nil {
		t.Fatal(err)
	}
	if c.State != wire.ConvWaiting || c.AgentID != "" || c.AcceptedAt != 0 || c.LastSeq != 0 {
		t.Errorf("stored after the refused accept: %+v; want waiting, no agent, no message", c)
	}
	if ms, err := s.Store().Messages(ctx(t), conv.ID, 0, 10); err != nil || len(ms) != 0 {
		t.Errorf("messages after the refused accept: %+v, %v; want none", ms, err)
	}
}

func TestOfferTimeoutMovesOn(t *testing.T) {
	timers := &fakeTimers{}
	clk := &clock{}
	s := startHub(t, func(c *hub.Config) { c.AfterFunc, c.Now, c.OfferTimeout = timers.AfterFunc, clk.now, 30*time.Second })
	a1, a2 := member(t, s, "agent1"), member(t, s, "agent2")
	a1.next(wire.TypeAgentState, nil)
	a2.next(wire.TypeAgentState, nil)
	_, conv := customer(t, s, "Bob")
	// Both are idle; whoever gets it first lets it lapse, and the other gets it next.
	first, second := a1, a2
	var o wire.Offer
	select {
	case env := <-a1.conn.Events():
		if env.Type != wire.TypeOffer {
			t.Fatalf("agent1 got %s; want offer", env.Type)
		}
		json.Unmarshal(env.Data, &o)
	case env := <-a2.conn.Events():
		if env.Type != wire.TypeOffer {
			t.Fatalf("agent2 got %s; want offer", env.Type)
		}
		json.Unmarshal(env.Data, &o)
		first, second = a2, a1
	case <-time.After(5 * time.Second):
		t.Fatal("no offer")
	}
	if want := clk.now().Add(30 * time.Second).UnixMilli(); o.ExpiresAt < want-2000 || o.ExpiresAt > want {
		t.Errorf("offer expires at %d; want about %d (now + OfferTimeout)", o.ExpiresAt, want)
	}
	second.none(wire.TypeOffer, 200*time.Millisecond) // until the first offer lapses
	clk.advance(30 * time.Second)
	if n := timers.fire(30 * time.Second); n != 1 {
		t.Fatalf("fired %d offer timers; want 1", n)
	}
	var rv wire.OfferRevoked
	first.next(wire.TypeOfferRevoked, &rv)
	if rv.Offer != o.ID || rv.Reason != "timeout" {
		t.Errorf("revoked = %+v; want %s timeout", rv, o.ID)
	}
	second.accept(conv.ID)
	// The lapsed offer cannot be accepted any more.
	_, err := first.conn.Request(ctx(t), wire.TypeOfferAccept, wire.OfferRef{Offer: o.ID})
	wantCode(t, "accept lapsed offer", err, wire.ENOTFOUND)
}

// An agent alone lets an offer lapse: it comes back to them once the pass-over time is up.
func TestOfferTimeoutSingleAgent(t *testing.T) {
	timers := &fakeTimers{}
	clk := &clock{}
	s := startHub(t, func(c *hub.Config) { c.AfterFunc, c.Now, c.OfferTimeout = timers.AfterFunc, clk.now, 30*time.Second })
	a1 := member(t, s, "agent1")
	_, conv := customer(t, s, "Cat")
	first := a1.offer(conv.ID)
	clk.advance(30 * time.Second)
	timers.fire(30 * time.Second) // the offer lapses
	a1.next(wire.TypeOfferRevoked, nil)
	a1.none(wire.TypeOffer, 200*time.Millisecond) // passed over for now
	clk.advance(30 * time.Second)
	timers.fire(30 * time.Second) // the retry
	again := a1.offer(conv.ID)
	if again.ID == first.ID {
		t.Errorf("re-offer has the lapsed offer's id %s", again.ID)
	}
}

func TestDeclineMovesOn(t *testing.T) {
	s := startHub(t)
	a1 := member(t, s, "agent1")
	a1.next(wire.TypeAgentState, nil)
	_, conv := customer(t, s, "Cy")
	o := a1.offer(conv.ID)
	a2 := member(t, s, "agent2") // agent1 holds the offer, so agent2 gets nothing yet
	a2.none(wire.TypeOffer, 200*time.Millisecond)
	if _, err := a1.conn.Request(ctx(t), wire.TypeOfferDecline, wire.OfferRef{Offer: o.ID}); err != nil {
		t.Fatal(err)
	}
	var rv wire.OfferRevoked
	a1.next(wire.TypeOfferRevoked, &rv)
	if rv.Reason != "declined" {
		t.Errorf("revoked reason = %q; want declined", rv.Reason)
	}
	a2.accept(conv.ID)
	a1.none(wire.TypeOffer, 200*time.Millisecond)
}

func TestCapacityAndSupervisorAssign(t *testing.T) {
	s := startHub(t)
	agent := member(t, s, "agent1")
	var convs []wire.ConversationID
	for i := range 3 {
		_, conv := customer(t, s, fmt.Sprintf("C%d", i))
		agent.accept(conv.ID)
		convs = append(convs, conv.ID)
	}
	cust4, conv4 := customer(t, s, "C4")
	agent.none(wire.TypeOffer, 400*time.Millisecond) // at capacity (3 of 3): no offer
	var qp wire.QueuePosition
	cust4.next(wire.TypeQueuePosition, &qp)
	if qp.Position != 1 {
		t.Errorf("queue position = %d; want 1", qp.Position)
	}
	_, conv5 := customer(t, s, "C5")

	sup := member(t, s, "super1")
	var snap wire.Snapshot
	sup.next(wire.TypeSupervisorSnapshot, &snap)
	if len(snap.Agents) != 2 || len(snap.Conversations) != 5 {
		t.Fatalf("snapshot = %+v; want 2 agents and 5 conversations", snap)
	}
	if c := snap.Conversations[0]; c.ID != conv4.ID || c.State != wire.ConvWaiting || c.QueuePosition != 1 {
		t.Errorf("first snapshot conversation = %+v; want %s waiting at 1", c, conv4.ID)
	}
	var a1 wire.AgentSummary
	for _, a := range snap.Agents {
		if a.DisplayName == "Agent One" {
			a1 = a
		}
	}
	if a1.Load != 3 || a1.Capacity != 3 || !a1.Online || a1.Presence != wire.PresenceAvailable {
		t.Errorf("agent1 summary = %+v; want online, available, 3/3", a1)
	}
	// Agents may not assign; the supervisor may, even past capacity.
	_, err := agent.conn.Request(ctx(t), wire.TypeSupervisorAssign, wire.Assign{Conv: conv4.ID, Agent: a1.ID})
	wantCode(t, "agent assigns", err, wire.EFORBIDDEN)
	if _, err := sup.conn.Request(ctx(t), wire.TypeSupervisorAssign, wire.Assign{Conv: conv4.ID, Agent: a1.ID}); err != nil {
		t.Fatal(err)
	}
	var cs wire.Conversation
	agent.until(wire.TypeConvState, func(env wire.Envelope) bool {
		json.Unmarshal(env.Data, &cs)
		return cs.ID == conv4.ID
	})
	if cs.State != wire.ConvActive || cs.AgentID != a1.ID {
		t.Errorf("assigned conversation = %+v", cs)
	}
	var st wire.AgentState
	agent.until(wire.TypeAgentState, func(env wire.Envelope) bool { json.Unmarshal(env.Data, &st); return st.Load == 4 })
	sup.until(wire.TypeSupervisorSnapshot, func(env wire.Envelope) bool {
		json.Unmarshal(env.Data, &snap)
		return len(snap.Conversations) == 5 && snap.Conversations[0].ID == conv5.ID && snap.Conversations[0].QueuePosition == 1
	})
	// conv5 moved up to position 1; the customer of conv4 is chatting.
	if _, err := cust4.conn.Send(ctx(t), conv4.ID, "thanks"); err != nil {
		t.Fatal(err)
	}
	agent.message(conv4.ID, "thanks")
	// Ending two brings agent1 to 2 of 3: conv5 is offered.
	for _, id := range convs[:2] {
		if _, err := agent.conn.Request(ctx(t), wire.TypeConvEnd, wire.ConvRef{Conv: id}); err != nil {
			t.Fatal(err)
		}
	}
	agent.accept(conv5.ID)
	// Unknown agent or conversation.
	_, err = sup.conn.Request(ctx(t), wire.TypeSupervisorAssign, wire.Assign{Conv: conv5.ID, Agent: "u_nobody"})
	wantCode(t, "assign to unknown agent", err, wire.ENOTFOUND)
	_, err = sup.conn.Request(ctx(t), wire.TypeSupervisorAssign, wire.Assign{Conv: "c_nothing", Agent: a1.ID})
	wantCode(t, "assign unknown conversation", err, wire.ENOTFOUND)
	_, err = sup.conn.Request(ctx(t), wire.TypeSupervisorAssign, wire.Assign{Conv: convs[0], Agent: a1.ID})
	wantCode(t, "assign ended conversation", err, wire.ECONFLICT)
}

func TestPresence(t *testing.T) {
	s := startHub(t)
	agent := member(t, s, "agent1")
	agent.next(wire.TypeAgentState, nil)
	if _, err := agent.conn.Request(ctx(t), wire.TypePresenceSet, wire.PresenceSet{Presence: wire.PresenceAway}); err != nil {
		t.Fatal(err)
	}
	var st wire.AgentState
	agent.next(wire.TypeAgentState, &st)
	if st.Presence != wire.PresenceAway {
		t.Errorf("presence = %s; want away", st.Presence)
	}
	_, conv := customer(t, s, "Di")
	agent.none(wire.TypeOffer, 300*time.Millisecond)
	_, err := agent.conn.Request(ctx(t), wire.TypePresenceSet, wire.PresenceSet{Presence: wire.PresenceOffline})
	wantCode(t, "set offline by hand", err, wire.EINVALID)
	if _, err := agent.conn.Request(ctx(t), wire.TypePresenceSet, wire.PresenceSet{Presence: wire.PresenceAvailable}); err != nil {
		t.Fatal(err)
	}
	agent.offer(conv.ID)

	// When the agent's last connection goes, the supervisor sees them offline after the grace.
	sup := member(t, s, "super1")
	agent.conn.Close()
	var snap wire.Snapshot
	sup.until(wire.TypeSupervisorSnapshot, func(env wire.Envelope) bool {
		json.Unmarshal(env.Data, &snap)
		for _, a := range snap.Agents {
			if a.DisplayName == "Agent One" {
				return a.Presence == wire.PresenceOffline && !a.Online
			}
		}
		return false
	})
}

func TestReconnectResumesWithNothingLostOrDoubled(t *testing.T) {
	// A burst far faster than a person types (limits_test.go covers the limit itself).
	s := startHub(t, func(c *hub.Config) { c.Limits = hub.DefaultLimits; c.Limits.CustomerSends = 1000 })
	agent := member(t, s, "agent1")
	cust, conv := customer(t, s, "Eve")
	agent.accept(conv.ID)
	cust.message(conv.ID, "Agent One joined the conversation.")
	agent.message(conv.ID, "Agent One joined the conversation.")

	const n = 60
	var wg sync.WaitGroup
	errs := make(chan error, 2*n)
	wg.Add(2)
	go func() { // the customer sends a burst while both links drop under it
		defer wg.Done()
		for i := range n {
			if _, err := cust.conn.Send(ctx(t), conv.ID, fmt.Sprintf("c%02d", i)); err != nil {
				errs <- err
			}
			if i == n/3 {
				cust.conn.Interrupt()
			}
		}
	}()
	go func() {
		defer wg.Done()
		for i := range n {
			if _, err := agent.conn.Send(ctx(t), conv.ID, fmt.Sprintf("a%02d", i)); err != nil {
				errs <- err
			}
			if i == n/2 {
				agent.conn.Interrupt()
			}
		}
	}()
	// Each side must see every message exactly once, in sequence order, with no gap.
	check := func(p *peer) {
		t.Helper()
		seen := map[string]int{}
		last := int64(1) // the join line
		deadline := time.After(10 * time.Second)
		reconnected := false
		for len(seen) < 2*n {
			select {
			case env := <-p.conn.Events():
				if ev, ok := client.ParseState(env); ok && ev.State == client.StateReconnecting {
					reconnected = true
				}
				if env.Type != wire.TypeChatMessage {
					continue
				}
				var m wire.Message
				json.Unmarshal(env.Data, &m)
				if m.Seq != last+1 {
					t.Fatalf("%s: got seq %d after %d", p.name, m.Seq, last)
				}
				last = m.Seq
				seen[m.Text]++
				if seen[m.Text] > 1 {
					t.Fatalf("%s: %q delivered twice", p.name, m.Text)
				}
			case <-deadline:
				t.Fatalf("%s: saw %d of %d messages", p.name, len(seen), 2*n)
			}
		}
		if !reconnected {
			t.Errorf("%s: never reported reconnecting", p.name)
		}
	}
	check(agent)
	check(cust)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("Send: %v", err)
	}
	// Stored once each, whatever was resent.
	var all []wire.Message
	for after := int64(0); ; {
		page, err := agent.conn.History(ctx(t), conv.ID, after)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		all = append(all, page...)
		after = page[len(page)-1].Seq
	}
	if len(all) != 2*n+1 {
		t.Errorf("stored %d messages; want %d", len(all), 2*n+1)
	}
}

func TestResumeAfterRestartOfClient(t *testing.T) {
	s := startHub(t)
	agent := member(t, s, "agent1")
	started, err := client.StartConversation(ctx(t), s.URL(), hub.DemoOrg, "Fay")
	if err != nil {
		t.Fatal(err)
	}
	agent.accept(started.Conversation.ID)
	for i := range 5 {
		if _, err := agent.conn.Send(ctx(t), started.Conversation.ID, fmt.Sprint("m", i)); err != nil {
			t.Fatal(err)
		}
	}
	// A customer who has up to seq 3 (the join line and m0, m1) reconnects: the hub replays 4..6.
	c, err := client.Dial(ctx(t), s.URL(), started.Token, client.Options{Resume: map[wire.ConversationID]int64{started.Conversation.ID: 3}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	p := &peer{t: t, name: "Fay", conn: c}
	for i, want := range []string{"m2", "m3", "m4"} {
		var m wire.Message
		p.next(wire.TypeChatMessage, &m)
		if m.Text != want || m.Seq != int64(4+i) {
			t.Errorf("replayed %d:%q; want %d:%q", m.Seq, m.Text, 4+i, want)
		}
	}
}

func TestTypingAndReceipts(t *testing.T) {
	s := startHub(t)
	agent := member(t, s, "agent1")
	started, err := client.StartConversation(ctx(t), s.URL(), hub.DemoOrg, "Gus")
	if err != nil {
		t.Fatal(err)
	}
	cust := dial(t, s, started.Token, "Gus")
	id := started.Conversation.ID
	agent.accept(id)
	if _, err := cust.conn.Request(ctx(t), wire.TypeChatTyping, wire.Typing{Conv: id, Typing: true}); err != nil {
		t.Fatal(err)
	}
	var ty wire.Typing
	agent.next(wire.TypeChatTyping, &ty)
	if !ty.Typing || ty.Author != wire.AuthorCustomer {
		t.Errorf("typing = %+v; want customer typing", ty)
	}
	ack, err := cust.conn.Send(ctx(t), id, "question")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := agent.conn.Request(ctx(t), wire.TypeChatReceipt, wire.Receipt{Conv: id, Seq: ack.Seq, Kind: wire.ReceiptRead}); err != nil {
		t.Fatal(err)
	}
	var rc wire.Receipt
	cust.next(wire.TypeChatReceipt, &rc)
	if rc.Seq != ack.Seq || rc.Kind != wire.ReceiptRead || rc.By != wire.AuthorAgent {
		t.Errorf("receipt = %+v; want read %d by agent", rc, ack.Seq)
	}
	_, err = agent.conn.Request(ctx(t), wire.TypeChatReceipt, wire.Receipt{Conv: id, Seq: 99, Kind: wire.ReceiptRead})
	wantCode(t, "receipt past the end", err, wire.EINVALID)
	// The marker is remembered: a new connection of the customer learns it.
	again := dial(t, s, started.Token, "Gus again")
	again.next(wire.TypeChatReceipt, &rc)
	if rc.Seq != ack.Seq || rc.By != wire.AuthorAgent {
		t.Errorf("remembered receipt = %+v", rc)
	}
}

func TestEndAndLeave(t *testing.T) {
	s := startHub(t)
	agent := member(t, s, "agent1")
	cust, conv := customer(t, s, "Hal")
	agent.accept(conv.ID)
	_, err := cust.conn.Request(ctx(t), wire.TypeConvEnd, wire.ConvRef{Conv: conv.ID})
	wantCode(t, "customer ends", err, wire.EFORBIDDEN)
	if _, err := agent.conn.Request(ctx(t), wire.TypeConvEnd, wire.ConvRef{Conv: conv.ID}); err != nil {
		t.Fatal(err)
	}
	for _, p := range []*peer{cust, agent} {
		m := p.message(conv.ID, "Agent One ended the conversation.")
		if m.Author != wire.AuthorSystem {
			t.Errorf("%s: end line author = %s", p.name, m.Author)
		}
		var cs wire.Conversation
		p.until(wire.TypeConvState, func(env wire.Envelope) bool {
			json.Unmarshal(env.Data, &cs)
			return cs.State == wire.ConvEnded
		})
		if cs.EndedBy != wire.AuthorAgent || cs.EndedAt == 0 {
			t.Errorf("%s: ended conversation = %+v", p.name, cs)
		}
	}
	_, err = cust.conn.Send(ctx(t), conv.ID, "still there?")
	wantCode(t, "send after end", err, wire.ECONFLICT)
	// The transcript is kept and readable by the customer.
	hist, err := cust.conn.History(ctx(t), conv.ID, 0)
	if err != nil || len(hist) != 2 {
		t.Errorf("transcript = %+v, %v; want join and end lines", hist, err)
	}

	// A waiting customer leaves: the offer is withdrawn.
	cust2, conv2 := customer(t, s, "Ida")
	o := agent.offer(conv2.ID)
	_, err = agent.conn.Request(ctx(t), wire.TypeConvLeave, wire.ConvRef{Conv: conv2.ID})
	wantCode(t, "agent leaves", err, wire.EFORBIDDEN)
	if _, err := cust2.conn.Request(ctx(t), wire.TypeConvLeave, wire.ConvRef{Conv: conv2.ID}); err != nil {
		t.Fatal(err)
	}
	var rv wire.OfferRevoked
	agent.next(wire.TypeOfferRevoked, &rv)
	if rv.Offer != o.ID || rv.Reason != "left" {
		t.Errorf("revoked = %+v; want %s left", rv, o.ID)
	}
	var cs wire.Conversation
	cust2.until(wire.TypeConvState, func(env wire.Envelope) bool { json.Unmarshal(env.Data, &cs); return true })
	if cs.State != wire.ConvEnded || cs.EndedBy != wire.AuthorCustomer {
		t.Errorf("left conversation = %+v", cs)
	}
	// A customer reconnecting to an ended conversation is welcomed with it, ended.
	started, err := client.StartConversation(ctx(t), s.URL(), hub.DemoOrg, "Jo")
	if err != nil {
		t.Fatal(err)
	}
	p := dial(t, s, started.Token, "Jo")
	if _, err := p.conn.Request(ctx(t), wire.TypeConvLeave, wire.ConvRef{Conv: started.Conversation.ID}); err != nil {
		t.Fatal(err)
	}
	p2 := dial(t, s, started.Token, "Jo again")
	if w := p2.conn.Welcome(); len(w.Conversations) != 1 || w.Conversations[0].State != wire.ConvEnded {
		t.Errorf("welcome to ended conversation = %+v", w)
	}
}

func TestAbandonedWaitingConversationEnds(t *testing.T) {
	s := startHub(t, func(c *hub.Config) { c.AbandonAfter = time.Second })
	agent := member(t, s, "agent1")
	if _, err := agent.conn.Request(ctx(t), wire.TypePresenceSet, wire.PresenceSet{Presence: wire.PresenceAway}); err != nil {
		t.Fatal(err)
	}
	gone, goneConv := customer(t, s, "Gone")
	stays, staysConv := customer(t, s, "Stays")
	gone.conn.Close()
	// A reload: the customer is back within the grace, so the conversation keeps waiting.
	stays.conn.Interrupt()
	stays.next(wire.TypeQueuePosition, nil)

	sup := member(t, s, "super1")
	var snap wire.Snapshot
	sup.until(wire.TypeSupervisorSnapshot, func(env wire.Envelope) bool {
		json.Unmarshal(env.Data, &snap)
		return len(snap.Conversations) == 1
	})
	if snap.Conversations[0].ID != staysConv.ID {
		t.Errorf("still waiting: %+v; want only %s", snap.Conversations, staysConv.ID)
	}
	hist, err := sup.conn.History(ctx(t), goneConv.ID, 0)
	if err != nil || len(hist) != 1 || hist[0].Text != "The customer left the conversation." {
		t.Errorf("abandoned transcript = %+v, %v", hist, err)
	}
	// The one still waiting is offered once the agent is back.
	if _, err := agent.conn.Request(ctx(t), wire.TypePresenceSet, wire.PresenceSet{Presence: wire.PresenceAvailable}); err != nil {
		t.Fatal(err)
	}
	agent.accept(staysConv.ID)
}

func TestURLOnEveryInterface(t *testing.T) {
	s := startHub(t, func(c *hub.Config) { c.Addr = ":0" })
	if !strings.HasPrefix(s.URL(), "http://127.0.0.1:") {
		t.Fatalf("URL() = %q; want the loopback URL", s.URL())
	}
	if _, err := client.Login(ctx(t), s.URL(), hub.DemoOrg, "agent1", hub.DemoPassword); err != nil {
		t.Fatal(err)
	}
}

// An offer made before the customer wrote anything is sent again, same offer, once the first
// message arrives: the agent decides with the customer's words in front of them.
func TestOfferGetsThePreviewLater(t *testing.T) {
	s := startHub(t)
	agent := member(t, s, "agent1")
	cust, conv := customer(t, s, "Quiet")
	o := agent.offer(conv.ID)
	if o.Preview != "" {
		t.Fatalf("first offer preview = %q; want none yet", o.Preview)
	}
	if _, err := cust.conn.Send(ctx(t), conv.ID, "My parcel never came"); err != nil {
		t.Fatal(err)
	}
	again := agent.offer(conv.ID)
	if again.ID != o.ID || again.Preview != "My parcel never came" {
		t.Errorf("updated offer = %+v; want offer %s with the preview", again, o.ID)
	}
	if _, err := cust.conn.Send(ctx(t), conv.ID, "hello?"); err != nil {
		t.Fatal(err)
	}
	agent.none(wire.TypeOffer, 300*time.Millisecond) // only the first message is a preview
}

// TestSupervisorFollowsTyping: a supervisor reading a conversation follows it live: who is typing
// (customer, then agent) and each new message's seq arrive as they happen, a message ends its
// author's typing, and nothing comes once the supervisor stops following.
func TestSupervisorFollowsTyping(t *testing.T) {
	s := startHub(t)
	agent := member(t, s, "agent1")
	cust, conv := customer(t, s, "Ivy")
	agent.accept(conv.ID)
	sup := member(t, s, "super1")

	if _, err := sup.conn.Request(ctx(t), wire.TypeSupervisorWatch, wire.Watch{Conv: conv.ID, On: true}); err != nil {
		t.Fatal(err)
	}
	var w wire.Watched
	sup.next(wire.TypeSupervisorWatched, &w)
	if w.Conv != conv.ID || w.CustomerTyping || w.AgentTyping {
		t.Errorf("first watched = %+v; want nobody typing in %s", w, conv.ID)
	}
	following := func(ok func(wire.Watched) bool) wire.Watched {
		t.Helper()
		sup.until(wire.TypeSupervisorWatched, func(env wire.Envelope) bool {
			w = wire.Watched{}
			json.Unmarshal(env.Data, &w)
			return ok(w)
		})
		return w
	}

	if _, err := cust.conn.Request(ctx(t), wire.TypeChatTyping, wire.Typing{Conv: conv.ID, Typing: true}); err != nil {
		t.Fatal(err)
	}
	following(func(w wire.Watched) bool { return w.CustomerTyping && !w.AgentTyping })
	ack, err := cust.conn.Send(ctx(t), conv.ID, "where is my parcel?")
	if err != nil {
		t.Fatal(err)
	}
	if w := following(func(w wire.Watched) bool { return w.LastSeq == ack.Seq }); w.CustomerTyping {
		t.Errorf("after the customer's message: %+v; want their typing over", w)
	}
	// The snapshot shows what the customer asked first; the customer's own frames never do.
	sup.until(wire.TypeSupervisorSnapshot, func(env wire.Envelope) bool {
		var snap wire.Snapshot
		json.Unmarshal(env.Data, &snap)
		return len(snap.Conversations) == 1 && snap.Conversations[0].Preview == "where is my parcel?"
	})

	if _, err := agent.conn.Request(ctx(t), wire.TypeChatTyping, wire.Typing{Conv: conv.ID, Typing: true}); err != nil {
		t.Fatal(err)
	}
	following(func(w wire.Watched) bool { return w.AgentTyping && !w.CustomerTyping })
	ack, err = agent.conn.Send(ctx(t), conv.ID, "on its way")
	if err != nil {
		t.Fatal(err)
	}
	if w := following(func(w wire.Watched) bool { return w.LastSeq == ack.Seq }); w.AgentTyping {
		t.Errorf("after the agent's message: %+v; want their typing over", w)
	}

	// Following another conversation, or none, stops the frames of this one.
	if _, err := sup.conn.Request(ctx(t), wire.TypeSupervisorWatch, wire.Watch{Conv: conv.ID}); err != nil {
		t.Fatal(err)
	}
	if _, err := cust.conn.Request(ctx(t), wire.TypeChatTyping, wire.Typing{Conv: conv.ID, Typing: true}); err != nil {
		t.Fatal(err)
	}
	sup.none(wire.TypeSupervisorWatched, 300*time.Millisecond)

	// Followed again, the customer is still typing; gone mid-word, they stop typing for the reader.
	if _, err := sup.conn.Request(ctx(t), wire.TypeSupervisorWatch, wire.Watch{Conv: conv.ID, On: true}); err != nil {
		t.Fatal(err)
	}
	following(func(w wire.Watched) bool { return w.CustomerTyping })
	cust.conn.Close()
	following(func(w wire.Watched) bool { return !w.CustomerTyping })
}
