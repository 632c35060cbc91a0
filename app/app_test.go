package app_test

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley/app"
	"github.com/parleyhq/parley/hub"
	"github.com/parleyhq/parley/hub/client"
	"github.com/parleyhq/parley/internal/hubtest"
	"github.com/parleyhq/parley/wire"
	"golang.org/x/crypto/bcrypt"
)

// wait bounds every wait for an event in these tests.
const wait = 10 * time.Second

// startHub runs a real hub with the demo organisation on loopback and returns its URL.
func startHub(t *testing.T, cfg hub.Config) string {
	t.Helper()
	cfg.Demo = true
	return openHub(t, cfg).URL()
}

// openHub runs a real hub on loopback as cfg says, on a new database in the test's directory,
// and closes it when the test ends.
func openHub(t *testing.T, cfg hub.Config) *hub.Server {
	t.Helper()
	return hubtest.Start(t, cfg)
}

// recorder is an Emitter that keeps every event, for tests to wait on.
type recorder struct {
	mu     sync.Mutex
	events []recorded
	// gaps are events that did not come one after the other in Rev order, or whose data is not
	// the type the UI is generated for.
	gaps []string
	more chan struct{}
}

type recorded struct {
	name string
	rev  uint64
	data any
}

func newRecorder() *recorder { return &recorder{more: make(chan struct{}, 1)} }

func (r *recorder) Emit(e app.Event) {
	r.mu.Lock()
	// Each Services numbers from 1 (a test may build a second one on the same recorder).
	if n := len(r.events); n > 0 && e.Rev != r.events[n-1].rev+1 && e.Rev != 1 {
		r.gaps = append(r.gaps, fmt.Sprintf("event %d %q after %d", e.Rev, e.Name, r.events[n-1].rev))
	}
	if want, ok := app.EventTypes[e.Name]; !ok || reflect.TypeOf(e.Data) != reflect.TypeOf(want) {
		r.gaps = append(r.gaps, fmt.Sprintf("event %q carries %T; eventTypes says %T", e.Name, e.Data, want))
	}
	r.events = append(r.events, recorded{e.Name, e.Rev, e.Data})
	r.mu.Unlock()
	select {
	case r.more <- struct{}{}:
	default:
	}
}

// waitFor returns the data of the first event called name, from the start, that ok accepts.
func waitFor[T any](t *testing.T, r *recorder, name string, ok func(T) bool) T {
	t.Helper()
	deadline := time.After(wait)
	for {
		r.mu.Lock()
		for _, e := range r.events {
			if d, isT := e.data.(T); isT && e.name == name && ok(d) {
				r.mu.Unlock()
				return d
			}
		}
		r.mu.Unlock()
		select {
		case <-r.more:
		case <-deadline:
			t.Fatalf("no %q event that matches within %s", name, wait)
		}
	}
}

// signIn builds services with a recorder and signs in a demo member.
func signIn(t *testing.T, hubURL, user string) (*app.Services, *recorder) {
	t.Helper()
	rec := newRecorder()
	svc := app.New(app.Config{Emitter: rec})
	t.Cleanup(func() { _ = svc.Close() })
	t.Cleanup(func() { rec.checkOrder(t) })
	if _, err := svc.Session.SignIn(hubURL, "demo", user, "demo"); err != nil {
		t.Fatalf("SignIn(%s) = %v", user, err)
	}
	return svc, rec
}

// checkOrder fails t if events reached the UI out of order, with a number missing, or with data
// of another type than app.gen.ts declares.
func (r *recorder) checkOrder(t *testing.T) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, g := range r.gaps {
		t.Errorf("events: %s", g)
	}
}

// customer is a portal customer speaking the protocol through the hub client.
type customer struct {
	conv wire.ConversationID
	conn *client.Conn
	mu   sync.Mutex
	seen []wire.Envelope
	more chan struct{}
}

func newCustomer(t *testing.T, hubURL, name string) *customer {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	started, err := client.StartConversation(ctx, hubURL, "demo", name)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := client.Dial(ctx, hubURL, started.Token, client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	c := &customer{conv: started.Conversation.ID, conn: conn, more: make(chan struct{}, 1)}
	go func() {
		for ev := range conn.Events() {
			c.mu.Lock()
			c.seen = append(c.seen, ev)
			c.mu.Unlock()
			select {
			case c.more <- struct{}{}:
			default:
			}
		}
	}()
	t.Cleanup(func() { _ = conn.Close() })
	return c
}

func (c *customer) send(t *testing.T, text string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if _, err := c.conn.Send(ctx, c.conv, text); err != nil {
		t.Fatalf("customer send: %v", err)
	}
}

func (c *customer) request(t *testing.T, typ wire.Type, payload any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if _, err := c.conn.Request(ctx, typ, payload); err != nil {
		t.Fatalf("customer %s: %v", typ, err)
	}
}

// waitCustomer waits for an event of type typ whose payload ok accepts.
func waitCustomer[T any](t *testing.T, c *customer, typ wire.Type, ok func(T) bool) T {
	t.Helper()
	deadline := time.After(wait)
	for {
		c.mu.Lock()
		for _, ev := range c.seen {
			var v T
			if ev.Type == typ && ev.Unmarshal(&v) == nil && ok(v) {
				c.mu.Unlock()
				return v
			}
		}
		c.mu.Unlock()
		select {
		case <-c.more:
		case <-deadline:
			t.Fatalf("customer: no %s event that matches within %s", typ, wait)
		}
	}
}

func TestSignInErrors(t *testing.T) {
	hubURL := startHub(t, hub.Config{})
	tests := []struct {
		name, hub, org, user, password string
		want                           wire.Code
	}{
		{"wrong password", hubURL, "demo", "agent1", "nope", wire.EUNAUTHORIZED},
		{"unknown user", hubURL, "demo", "nobody", "demo", wire.EUNAUTHORIZED},
		{"missing password", hubURL, "demo", "agent1", "", wire.EINVALID},
		{"not a URL", "ftp://x", "demo", "agent1", "demo", wire.EINVALID},
		{"nothing listening", "http://127.0.0.1:1", "demo", "agent1", "demo", wire.EUNAVAILABLE},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svc := app.New(app.Config{})
			defer svc.Close()
			_, err := svc.Session.SignIn(tt.hub, tt.org, tt.user, tt.password)
			if got := wire.ErrorCode(err); got != tt.want {
				t.Fatalf("SignIn(%q, %q, %q) error code = %q (%v); want %q", tt.hub, tt.org, tt.user, got, err, tt.want)
			}
			if _, isWire := err.(*wire.Error); !isWire {
				t.Errorf("SignIn error is %T; want *wire.Error for the UI", err)
			}
			if v, _ := svc.Session.Current(); v.SignedIn {
				t.Error("Current().SignedIn = true after a failed sign-in")
			}
		})
	}
}

func TestNotSignedIn(t *testing.T) {
	svc := app.New(app.Config{})
	if err := svc.Presence.Set(wire.PresenceBusy); wire.ErrorCode(err) != wire.EUNAUTHORIZED {
		t.Errorf("Presence.Set while signed out = %v; want EUNAUTHORIZED", err)
	}
	if _, err := svc.Conversations.Send("c1", "hi"); wire.ErrorCode(err) != wire.ENOTFOUND {
		t.Errorf("Send to an unknown conversation = %v; want ENOTFOUND", err)
	}
	if err := svc.Session.SignOut(); err != nil {
		t.Errorf("SignOut while signed out = %v", err)
	}
}

// TestSlowUIHoldsNothing: while the window is stuck on an event, the services go on reading
// the hub and answering bound methods; once it catches up, every event arrives, in order.
func TestSlowUIHoldsNothing(t *testing.T) {
	hubURL := startHub(t, hub.Config{})
	rec := newRecorder()
	stuck, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	svc := app.New(app.Config{Emitter: app.EmitterFunc(func(e app.Event) {
		if e.Name == app.EventMessage {
			once.Do(func() { close(stuck); <-release })
		}
		rec.Emit(e)
	})})
	t.Cleanup(func() { _ = svc.Close() })
	var released sync.Once
	unstick := func() { released.Do(func() { close(release) }) }
	t.Cleanup(unstick)
	if _, err := svc.Session.SignIn(hubURL, "demo", "agent1", "demo"); err != nil {
		t.Fatal(err)
	}
	cust := newCustomer(t, hubURL, "Ana")
	cust.send(t, "one")
	offers := waitFor(t, rec, app.EventOffers, func(o []app.OfferView) bool { return len(o) == 1 })
	if _, err := svc.Offers.Accept(offers[0].ID); err != nil {
		t.Fatalf("Accept: %v", err)
	}
	select {
	case <-stuck: // the UI is now stuck on the first message
	case <-time.After(wait):
		t.Fatal("no message event reached the UI")
	}
	cust.send(t, "two")
	cust.send(t, "three")
	// The hub connection is still read and the state still answers, UI or not.
	deadline := time.Now().Add(wait)
	for {
		msgs, err := svc.Conversations.Messages(cust.conv)
		if err == nil && len(msgs) > 0 && msgs[len(msgs)-1].Text == "three" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Messages() = %+v, %v, while the UI is stuck; want the customer's third message last", msgs, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if _, err := svc.Conversations.Send(cust.conv, "still here"); err != nil {
		t.Fatalf("Send while the UI is stuck: %v", err)
	}
	unstick()
	for _, text := range []string{"one", "two", "three", "still here"} {
		waitFor(t, rec, app.EventMessage, func(m app.MessageView) bool { return m.Text == text })
	}
	rec.checkOrder(t)
}

// TestChat is the agent's day: sign in, an offer arrives, accept it, chat both ways with typing
// and receipts, End, and the customer sees the end.
func TestChat(t *testing.T) {
	hubURL := startHub(t, hub.Config{})
	svc, rec := signIn(t, hubURL, "agent1")

	st := waitFor(t, rec, app.EventAgent, func(s wire.AgentState) bool { return s.Capacity == 3 })
	if st.Presence != wire.PresenceAvailable {
		t.Fatalf("presence after sign-in = %s; want available", st.Presence)
	}
	view, _ := svc.Session.Current()
	if !view.SignedIn || view.User == nil || view.User.Username != "agent1" || view.Connection != app.ConnOnline {
		t.Fatalf("Current() = %+v; want agent1 signed in and online", view)
	}

	cust := newCustomer(t, hubURL, "Ana <b>López</b>")
	cust.send(t, "Hello, my order is late")

	offers := waitFor(t, rec, app.EventOffers, func(o []app.OfferView) bool { return len(o) == 1 })
	o := offers[0]
	if o.Conv != cust.conv || o.CustomerName != "Ana <b>López</b>" {
		t.Errorf("offer = %+v; want conversation %s from Ana", o, cust.conv)
	}
	if left := time.Until(time.UnixMilli(o.ExpiresAt)); left <= 0 || left > time.Minute {
		t.Errorf("offer expires in %s; want a countdown within a minute", left)
	}

	conv, err := svc.Offers.Accept(o.ID)
	if err != nil {
		t.Fatalf("Accept: %v", err)
	}
	if conv.ID != cust.conv || conv.State != wire.ConvActive {
		t.Fatalf("Accept() = %+v; want %s active", conv, cust.conv)
	}
	if left, _ := svc.Offers.List(); len(left) != 0 {
		t.Errorf("offers after Accept = %v; want none", left)
	}
	waitFor(t, rec, app.EventAgent, func(s wire.AgentState) bool { return s.Load == 1 })

	// The message sent before the agent took the chat arrives from the history.
	first := waitFor(t, rec, app.EventMessage, func(m app.MessageView) bool { return m.Author == wire.AuthorCustomer })
	if first.Text != "Hello, my order is late" || first.Conv != cust.conv {
		t.Errorf("first message = %+v", first)
	}
	// The conversation is open, so the customer's message is marked read.
	waitCustomer(t, cust, wire.TypeChatReceipt, func(r wire.Receipt) bool { return r.Kind == wire.ReceiptRead && r.Seq >= first.Seq })

	// Agent → customer.
	sent, err := svc.Conversations.Send(cust.conv, "Let me check that for you.")
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	if sent.Seq <= first.Seq || sent.Author != wire.AuthorAgent {
		t.Errorf("Send() = %+v; want an agent message after seq %d", sent, first.Seq)
	}
	got := waitCustomer(t, cust, wire.TypeChatMessage, func(m wire.Message) bool { return m.Author == wire.AuthorAgent })
	if got.Text != "Let me check that for you." || got.Seq != sent.Seq {
		t.Errorf("customer got %+v; want the agent's message with seq %d", got, sent.Seq)
	}

	// Typing and receipts from the customer show in the conversation list.
	cust.request(t, wire.TypeChatTyping, wire.Typing{Conv: cust.conv, Typing: true})
	waitFor(t, rec, app.EventConversations, func(cs []app.ConversationView) bool {
		return len(cs) == 1 && cs[0].CustomerTyping
	})
	cust.request(t, wire.TypeChatReceipt, wire.Receipt{Conv: cust.conv, Seq: sent.Seq, Kind: wire.ReceiptRead})
	waitFor(t, rec, app.EventConversations, func(cs []app.ConversationView) bool {
		return len(cs) == 1 && cs[0].ReadSeq == sent.Seq
	})

	// Agent typing reaches the customer.
	if err := svc.Conversations.Typing(cust.conv, true); err != nil {
		t.Fatalf("Typing: %v", err)
	}
	waitCustomer(t, cust, wire.TypeChatTyping, func(tp wire.Typing) bool { return tp.Typing && tp.Author == wire.AuthorAgent })

	// Customer → agent, live; each message once.
	cust.send(t, "Thanks!")
	waitFor(t, rec, app.EventMessage, func(m app.MessageView) bool { return m.Text == "Thanks!" })
	msgs, err := svc.Conversations.Messages(cust.conv)
	if err != nil {
		t.Fatal(err)
	}
	var texts []string
	for _, m := range msgs {
		texts = append(texts, string(m.Author)+":"+m.Text)
	}
	if want := "customer:Hello, my order is late|system:Agent One joined the conversation.|agent:Let me check that for you.|customer:Thanks!"; strings.Join(texts, "|") != want {
		t.Errorf("transcript = %q; want %q", strings.Join(texts, "|"), want)
	}

	// Over the limit: refused before it leaves.
	if _, err := svc.Conversations.Send(cust.conv, strings.Repeat("x", wire.MaxTextBytes+1)); wire.ErrorCode(err) != wire.ETOOLARGE {
		t.Errorf("Send(oversized) = %v; want ETOOLARGE", err)
	}
	if _, err := svc.Conversations.Send(cust.conv, "  \n "); wire.ErrorCode(err) != wire.EINVALID {
		t.Errorf("Send(blank) = %v; want EINVALID", err)
	}

	// End.
	if err := svc.Conversations.End(cust.conv); err != nil {
		t.Fatalf("End: %v", err)
	}
	ended := waitCustomer(t, cust, wire.TypeConvState, func(c wire.Conversation) bool { return c.State == wire.ConvEnded })
	if ended.EndedBy != wire.AuthorAgent {
		t.Errorf("customer saw ended_by = %q; want agent", ended.EndedBy)
	}
	waitFor(t, rec, app.EventConversations, func(cs []app.ConversationView) bool {
		return len(cs) == 1 && cs[0].State == wire.ConvEnded && cs[0].EndedBy == wire.AuthorAgent
	})
	waitFor(t, rec, app.EventAgent, func(s wire.AgentState) bool { return s.Load == 0 })
	if _, err := svc.Conversations.Send(cust.conv, "still there?"); wire.ErrorCode(err) != wire.ECONFLICT {
		t.Errorf("Send after End = %v; want ECONFLICT", err)
	}
}

func TestPresenceAndDecline(t *testing.T) {
	hubURL := startHub(t, hub.Config{})
	svc, rec := signIn(t, hubURL, "agent1")
	waitFor(t, rec, app.EventAgent, func(s wire.AgentState) bool { return s.Presence == wire.PresenceAvailable })

	if err := svc.Presence.Set(wire.PresenceAway); err != nil {
		t.Fatalf("Set(away): %v", err)
	}
	waitFor(t, rec, app.EventAgent, func(s wire.AgentState) bool { return s.Presence == wire.PresenceAway })
	if err := svc.Presence.Set("sleeping"); wire.ErrorCode(err) != wire.EINVALID {
		t.Errorf("Set(sleeping) = %v; want EINVALID", err)
	}

	// Away: no offer. Available again: the waiting conversation is offered.
	cust := newCustomer(t, hubURL, "Bo")
	time.Sleep(200 * time.Millisecond)
	if o, _ := svc.Offers.List(); len(o) != 0 {
		t.Fatalf("offers while away = %v; want none", o)
	}
	if err := svc.Presence.Set(wire.PresenceAvailable); err != nil {
		t.Fatal(err)
	}
	offers := waitFor(t, rec, app.EventOffers, func(o []app.OfferView) bool { return len(o) == 1 && o[0].Conv == cust.conv })
	if err := svc.Offers.Decline(offers[0].ID); err != nil {
		t.Fatalf("Decline: %v", err)
	}
	if o, _ := svc.Offers.List(); len(o) != 0 {
		t.Errorf("offers after Decline = %v; want none", o)
	}
	if err := svc.Offers.Decline(offers[0].ID); wire.ErrorCode(err) != wire.ENOTFOUND {
		t.Errorf("Decline twice = %v; want ENOTFOUND", err)
	}
}

func TestOfferTimesOut(t *testing.T) {
	hubURL := startHub(t, hub.Config{OfferTimeout: 300 * time.Millisecond})
	_, rec := signIn(t, hubURL, "agent1")
	cust := newCustomer(t, hubURL, "Cy")
	waitFor(t, rec, app.EventOffers, func(o []app.OfferView) bool { return len(o) == 1 && o[0].Conv == cust.conv })
	waitFor(t, rec, app.EventOffers, func(o []app.OfferView) bool { return len(o) == 0 })
	n := waitFor(t, rec, app.EventNotice, func(n app.Notice) bool { return n.Kind == "offer_revoked" })
	if n.Reason != "timeout" {
		t.Errorf("revoked reason = %q; want timeout", n.Reason)
	}
}

// TestSupervisor: the supervisor sees the agents and a waiting conversation, and assigns it to an
// agent, who gets it without an offer.
func TestSupervisor(t *testing.T) {
	hubURL := startHub(t, hub.Config{})
	agent2, rec2 := signIn(t, hubURL, "agent2")
	if err := agent2.Presence.Set(wire.PresenceBusy); err != nil { // busy: never offered
		t.Fatal(err)
	}
	waitFor(t, rec2, app.EventAgent, func(s wire.AgentState) bool { return s.Presence == wire.PresenceBusy })
	sup, rec := signIn(t, hubURL, "super1")
	if v, _ := sup.Session.Current(); v.User == nil || v.User.Role != wire.RoleSupervisor {
		t.Fatalf("super1 role = %+v; want supervisor", v.User)
	}

	cust := newCustomer(t, hubURL, "Di")
	snap := waitFor(t, rec, app.EventSupervisor, func(s app.SupervisorView) bool {
		for _, c := range s.Conversations {
			if c.ID == cust.conv && c.State == wire.ConvWaiting {
				return true
			}
		}
		return false
	})
	agents := map[string]wire.AgentSummary{}
	for _, a := range snap.Agents {
		agents[a.DisplayName] = a
	}
	a2, ok := agents["Agent Two"]
	if !ok || !a2.Online || a2.Presence != wire.PresenceBusy || a2.Capacity != 3 {
		t.Fatalf("snapshot agents = %+v; want Agent Two online, busy, capacity 3", snap.Agents)
	}
	if a1 := agents["Agent One"]; a1.Online {
		t.Errorf("Agent One online = true; want false (not signed in)")
	}

	if err := sup.Supervisor.Assign(cust.conv, a2.ID); err != nil {
		t.Fatalf("Assign: %v", err)
	}
	waitFor(t, rec2, app.EventConversations, func(cs []app.ConversationView) bool {
		return len(cs) == 1 && cs[0].ID == cust.conv && cs[0].State == wire.ConvActive
	})
	waitFor(t, rec, app.EventSupervisor, func(s app.SupervisorView) bool {
		for _, c := range s.Conversations {
			if c.ID == cust.conv && c.State == wire.ConvActive && c.AgentID == a2.ID {
				return true
			}
		}
		return false
	})
	if err := sup.Supervisor.Assign("nope", a2.ID); wire.ErrorCode(err) != wire.ENOTFOUND {
		t.Errorf("Assign(unknown conversation) = %v; want ENOTFOUND", err)
	}
}

func TestSignOut(t *testing.T) {
	hubURL := startHub(t, hub.Config{})
	svc, rec := signIn(t, hubURL, "agent1")
	if _, err := svc.Session.SignIn(hubURL, "demo", "agent1", "demo"); wire.ErrorCode(err) != wire.ECONFLICT {
		t.Errorf("second SignIn = %v; want ECONFLICT", err)
	}
	if err := svc.Session.SignOut(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, rec, app.EventSession, func(v app.SessionView) bool { return !v.SignedIn })
	if err := svc.Presence.Set(wire.PresenceBusy); wire.ErrorCode(err) != wire.EUNAUTHORIZED {
		t.Errorf("Presence.Set after SignOut = %v; want EUNAUTHORIZED", err)
	}
	// Signing in again works.
	if _, err := svc.Session.SignIn(hubURL, "demo", "agent1", "demo"); err != nil {
		t.Fatalf("SignIn after SignOut: %v", err)
	}
	if p, _ := svc.Session.Prefill(); p.Username != "agent1" || p.HubURL != hubURL {
		t.Errorf("Prefill() = %+v; want the last sign-in", p)
	}
}

func TestNormalizeHubURL(t *testing.T) {
	svc := app.New(app.Config{})
	for _, raw := range []string{"", "ftp://host", "http://"} {
		if _, err := svc.Session.SignIn(raw, "demo", "a", "b"); wire.ErrorCode(err) != wire.EINVALID {
			t.Errorf("SignIn(%q) = %v; want EINVALID", raw, err)
		}
	}
}

// TestReconnect: the hub goes away and comes back on the same address; the session shows
// reconnecting, then online, and the conversation carries on with nothing lost.
func TestReconnect(t *testing.T) {
	if testing.Short() {
		t.Skip("restarts a hub")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	db := filepath.Join(t.TempDir(), "hub.db")
	open := func() *hub.Server {
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		defer cancel()
		s, err := hub.Open(ctx, hub.Config{Addr: addr, DB: db, Demo: true, BcryptCost: bcrypt.MinCost})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Start(); err != nil {
			t.Fatal(err)
		}
		return s
	}
	s := open()
	hubURL := s.URL()
	svc, rec := signIn(t, hubURL, "agent1")
	cust := newCustomer(t, hubURL, "Flo")
	offers := waitFor(t, rec, app.EventOffers, func(o []app.OfferView) bool { return len(o) == 1 })
	if _, err := svc.Offers.Accept(offers[0].ID); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if err := s.Close(ctx); err != nil {
		t.Fatal(err)
	}
	waitFor(t, rec, app.EventSession, func(v app.SessionView) bool { return v.Connection == app.ConnReconnecting })

	s = open()
	defer s.Close(context.Background())
	deadline := time.Now().Add(wait)
	for {
		v, _ := svc.Session.Current()
		if v.Connection == app.ConnOnline {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Current().Connection = %s; want online", v.Connection)
		}
		time.Sleep(20 * time.Millisecond)
	}
	cust.send(t, "still there?")
	waitFor(t, rec, app.EventMessage, func(m app.MessageView) bool { return m.Text == "still there?" })
	if _, err := svc.Conversations.Send(cust.conv, "yes"); err != nil {
		t.Fatalf("Send after reconnect: %v", err)
	}
	waitCustomer(t, cust, wire.TypeChatMessage, func(m wire.Message) bool { return m.Text == "yes" })
}

// TestUnread: messages to a conversation the agent is not looking at count as unread and are
// only marked delivered; opening it clears the count and marks them read.
func TestUnread(t *testing.T) {
	hubURL := startHub(t, hub.Config{})
	svc, rec := signIn(t, hubURL, "agent1")
	var custs []*customer
	for _, name := range []string{"Gil", "Hal"} {
		c := newCustomer(t, hubURL, name)
		custs = append(custs, c)
		offers := waitFor(t, rec, app.EventOffers, func(o []app.OfferView) bool { return len(o) == 1 && o[0].Conv == c.conv })
		if _, err := svc.Offers.Accept(offers[0].ID); err != nil {
			t.Fatal(err)
		}
	}
	if active, _ := svc.Conversations.Active(); active != custs[1].conv {
		t.Fatalf("Active() = %s; want the last accepted, %s", active, custs[1].conv)
	}
	gil := custs[0]
	gil.send(t, "hello?")
	gil.send(t, "anyone?")
	lines := waitFor(t, rec, app.EventConversations, func(cs []app.ConversationView) bool {
		for _, c := range cs {
			if c.ID == gil.conv && c.Unread == 2 {
				return true
			}
		}
		return false
	})
	if lines[0].ID != gil.conv || lines[0].LastText != "anyone?" {
		t.Errorf("first line = %+v; want Gil's conversation, newest activity first, previewing the last message", lines[0])
	}
	r := waitCustomer(t, gil, wire.TypeChatReceipt, func(r wire.Receipt) bool { return r.Kind == wire.ReceiptDelivered && r.By == wire.AuthorAgent })
	if r.Seq == 0 {
		t.Errorf("delivered receipt = %+v", r)
	}

	v, err := svc.Conversations.Open(gil.conv)
	if err != nil || v.Unread != 0 {
		t.Fatalf("Open = %+v, %v; want unread 0", v, err)
	}
	waitCustomer(t, gil, wire.TypeChatReceipt, func(r wire.Receipt) bool { return r.Kind == wire.ReceiptRead && r.By == wire.AuthorAgent })
	if _, err := svc.Conversations.Open("nope"); wire.ErrorCode(err) != wire.ENOTFOUND {
		t.Errorf("Open(unknown) = %v; want ENOTFOUND", err)
	}
}
