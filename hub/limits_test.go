package hub_test

import (
	"fmt"
	"testing"
	"time"

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
