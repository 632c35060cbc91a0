package hub_test

import (
	"fmt"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley/hub"
	"github.com/parleyhq/parley/hub/client"
	"github.com/parleyhq/parley/wire"
)

// A customer who sends faster than a person types is slowed down: the messages over the limit
// are refused with ERATELIMITED and never stored or shown; the connection stays, and a moment
// later sending works again.
func TestCustomerRateLimit(t *testing.T) {
	s := startHub(t)
	agent, cust, conv := chatting(t, s, "Flood")
	var stored, limited int
	for i := range 40 {
		_, err := cust.conn.Request(ctx(t), wire.TypeChatSend, wire.ChatSend{Conv: conv.ID, Text: fmt.Sprintf("m%d", i), ClientID: fmt.Sprintf("c%d", i)})
		switch wire.ErrorCode(err) {
		case "":
			stored++
		case wire.ERATELIMITED:
			limited++
		default:
			t.Fatalf("send %d: %v", i, err)
		}
	}
	if limited == 0 || stored < 12 || stored > 20 {
		t.Fatalf("40 sends at once: %d stored, %d limited; want about the burst (12) stored, the rest limited", stored, limited)
	}
	// The agent gets exactly the stored ones.
	for got := 0; got < stored; {
		var m wire.Message
		agent.next(wire.TypeChatMessage, &m)
		if m.Author == wire.AuthorCustomer {
			got++
		}
	}
	agent.none(wire.TypeChatMessage, 300*time.Millisecond)

	// The bucket refills: a moment later the customer is heard again, on the same connection.
	time.Sleep(600 * time.Millisecond)
	if _, err := cust.conn.Request(ctx(t), wire.TypeChatSend, wire.ChatSend{Conv: conv.ID, Text: "still here", ClientID: "late"}); err != nil {
		t.Fatalf("send after a pause: %v", err)
	}
	var m wire.Message
	agent.next(wire.TypeChatMessage, &m)
	if m.Text != "still here" {
		t.Errorf("agent got %q; want the message after the pause", m.Text)
	}
}

// Any customer frame counts: a flood of pings is cut off too, while the agent is not slowed by
// the same pace.
func TestFrameRateLimit(t *testing.T) {
	s := startHub(t)
	agent, cust, _ := chatting(t, s, "Pinger")
	limited := func(p *peer, n int) int {
		k := 0
		for range n {
			if _, err := p.conn.Request(ctx(t), wire.TypePing, nil); wire.ErrorCode(err) == wire.ERATELIMITED {
				k++
			} else if err != nil {
				t.Fatalf("ping: %v", err)
			}
		}
		return k
	}
	if k := limited(cust, 200); k == 0 {
		t.Errorf("200 customer pings at once: none limited")
	}
	if k := limited(agent, 200); k != 0 {
		t.Errorf("200 agent pings at once: %d limited; want none", k)
	}
}

// Guessing a password: after a few wrong ones the account refuses every attempt, the right
// password too, until a while has passed; other accounts are not affected.
func TestFailedSignInsAreLimited(t *testing.T) {
	var mu sync.Mutex
	now := time.Now()
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	s := startHub(t, func(c *hub.Config) { c.Now = clock })
	login := func(user, pw string) wire.Code {
		_, err := client.Login(ctx(t), s.URL(), hub.DemoOrg, user, pw)
		return wire.ErrorCode(err)
	}
	for i := range 5 {
		if got := login("agent1", "guess"); got != wire.EUNAUTHORIZED {
			t.Fatalf("wrong password %d = %q; want EUNAUTHORIZED", i, got)
		}
	}
	if got := login("agent1", hub.DemoPassword); got != wire.ERATELIMITED {
		t.Errorf("right password after 5 wrong = %q; want ERATELIMITED", got)
	}
	if got := login("AGENT1 ", "guess"); got != wire.ERATELIMITED {
		t.Errorf("same account spelled otherwise = %q; want ERATELIMITED", got)
	}
	if got := login("agent2", hub.DemoPassword); got != "" {
		t.Errorf("another account = %q; want signed in", got)
	}
	mu.Lock()
	now = now.Add(25 * time.Second)
	mu.Unlock()
	if got := login("agent1", hub.DemoPassword); got != "" {
		t.Errorf("right password after a pause = %q; want signed in", got)
	}
}

// One address starting conversation after conversation is stopped once past the burst; another
// address (through a trusted proxy) is not.
func TestConversationStartsPerAddress(t *testing.T) {
	s := startHub(t, func(c *hub.Config) { c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")} })
	start := func(from string) int {
		req, _ := http.NewRequest("POST", s.URL()+"/api/v1/orgs/demo/conversations", strings.NewReader(`{"name":"x"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Forwarded-For", from)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	created, limited := 0, 0
	for range 40 {
		switch code := start("198.51.100.1"); code {
		case http.StatusCreated:
			created++
		case http.StatusTooManyRequests:
			limited++
		default:
			t.Fatalf("start: HTTP %d", code)
		}
	}
	if created < 30 || created > 32 || limited == 0 {
		t.Errorf("40 starts from one address: %d created, %d limited; want the burst (30) created", created, limited)
	}
	if code := start("198.51.100.2"); code != http.StatusCreated {
		t.Errorf("a start from another address = HTTP %d; want 201", code)
	}
}
