package client_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/parleyhq/parley/hub"
	"github.com/parleyhq/parley/hub/client"
	"github.com/parleyhq/parley/wire"
	"go.uber.org/goleak"
	"golang.org/x/crypto/bcrypt"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func startHub(t *testing.T, addr, db string) *hub.Server {
	t.Helper()
	s, err := hub.Open(context.Background(), hub.Config{Addr: addr, DB: db, Demo: true, BcryptCost: bcrypt.MinCost, OfflineGrace: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	return s
}

func closeHub(t *testing.T, s *hub.Server) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.Close(ctx); err != nil {
		t.Fatal(err)
	}
}

// next returns the next event of type typ within 10 s, and every state event on the way.
func next(t *testing.T, c *client.Conn, typ wire.Type) (wire.Envelope, []client.State) {
	t.Helper()
	var states []client.State
	timeout := time.After(10 * time.Second)
	for {
		select {
		case env, ok := <-c.Events():
			if !ok {
				t.Fatalf("events closed while waiting for %s", typ)
			}
			if ev, ok := client.ParseState(env); ok {
				states = append(states, ev.State)
			}
			if env.Type == typ {
				return env, states
			}
		case <-timeout:
			t.Fatalf("no %s within 10 s", typ)
		}
	}
}

// The hub restarts while a customer keeps typing: the customer's sends wait for the link, the
// conversation carries on where it was, and the agent gets every message once, in order.
func TestHubRestart(t *testing.T) {
	db := t.TempDir() + "/hub.db"
	s := startHub(t, "127.0.0.1:0", db)
	addr := s.URL()[len("http://"):]
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	login, err := client.Login(ctx, s.URL(), "demo", "agent1", "demo")
	if err != nil {
		t.Fatal(err)
	}
	opts := client.Options{MinBackoff: 20 * time.Millisecond, MaxBackoff: 100 * time.Millisecond}
	agent, err := client.Dial(ctx, s.URL(), login.Token, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer agent.Close()
	started, err := client.StartConversation(ctx, s.URL(), "demo", "Lee")
	if err != nil {
		t.Fatal(err)
	}
	conv := started.Conversation.ID
	cust, err := client.Dial(ctx, s.URL(), started.Token, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer cust.Close()
	env, _ := next(t, agent, wire.TypeOffer)
	var o wire.Offer
	json.Unmarshal(env.Data, &o)
	if _, err := agent.Request(ctx, wire.TypeOfferAccept, wire.OfferRef{Offer: o.ID}); err != nil {
		t.Fatal(err)
	}
	if _, err := cust.Send(ctx, conv, "before"); err != nil {
		t.Fatal(err)
	}

	closeHub(t, s)
	for {
		if _, states := next(t, cust, client.TypeState); states[len(states)-1] == client.StateReconnecting {
			break
		}
	}
	if got := cust.State(); got != client.StateReconnecting {
		t.Errorf("State() = %s; want reconnecting", got)
	}
	sent := make(chan error, 1)
	go func() { // sent while the hub is down: waits for the link
		_, err := cust.Send(ctx, conv, "during")
		sent <- err
	}()
	var s2 *hub.Server
	for range 50 { // the port may linger briefly
		if s2, err = hub.Open(ctx, hub.Config{Addr: addr, DB: db, Demo: true, BcryptCost: bcrypt.MinCost}); err != nil {
			t.Fatal(err)
		}
		if err = s2.Start(); err == nil {
			break
		}
		closeHub(t, s2)
		var opErr *net.OpError
		if !errorAs(err, &opErr) {
			t.Fatal(err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer closeHub(t, s2)
	if err := <-sent; err != nil {
		t.Fatalf("Send during restart: %v", err)
	}
	if _, err := cust.Send(ctx, conv, "after"); err != nil {
		t.Fatal(err)
	}
	var texts []string
	var last int64
	for len(texts) < 3 {
		env, _ := next(t, agent, wire.TypeChatMessage)
		var m wire.Message
		json.Unmarshal(env.Data, &m)
		if m.Author != wire.AuthorCustomer {
			continue
		}
		if m.Seq <= last {
			t.Fatalf("seq %d after %d", m.Seq, last)
		}
		last = m.Seq
		texts = append(texts, m.Text)
	}
	if fmt.Sprint(texts) != "[before during after]" {
		t.Errorf("agent got %q; want before, during, after", texts)
	}
	if w := agent.Welcome(); len(w.Conversations) != 1 || w.Conversations[0].State != wire.ConvActive {
		t.Errorf("agent's welcome after restart = %+v; want the active conversation", w.Conversations)
	}
}

func TestCloseEndsEvents(t *testing.T) {
	s := startHub(t, "127.0.0.1:0", t.TempDir()+"/hub.db")
	defer closeHub(t, s)
	ctx := context.Background()
	started, err := client.StartConversation(ctx, s.URL(), "demo", "")
	if err != nil {
		t.Fatal(err)
	}
	dialCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	c, err := client.Dial(dialCtx, s.URL(), started.Token, client.Options{})
	cancel() // the session outlives the context it was dialled with
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Request(ctx, wire.TypePing, nil); err != nil {
		t.Errorf("ping after the dial context ended: %v", err)
	}
	if w := c.Welcome(); w.Role != wire.RoleCustomer || len(w.Conversations) != 1 || w.Conversations[0].QueuePosition != 1 {
		t.Errorf("Welcome = %+v", w)
	}
	c.Close()
	var last client.State
	for env := range c.Events() {
		if ev, ok := client.ParseState(env); ok {
			last = ev.State
		}
	}
	if last != client.StateClosed {
		t.Errorf("last state = %s; want closed", last)
	}
	if _, err := c.Send(ctx, started.Conversation.ID, "x"); err == nil {
		t.Error("Send after Close succeeded")
	}
	if _, err := client.Dial(ctx, "ftp://x", "t", client.Options{}); err == nil {
		t.Error("Dial(ftp://) succeeded")
	}
}
