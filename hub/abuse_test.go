package hub_test

import (
	"bufio"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/hub"
	"github.com/parleyhq/parley/hub/relay"
	"github.com/parleyhq/parley/wire"
	"github.com/pion/turn/v5"
)

// The attacks of issue 12, each run against a real hub on loopback: the refusal, the metric
// that shows it to an operator, and another customer whose chat carries on meanwhile.

// metric reads one sample of the hub's /metrics: name with its labels as printed, e.g.
// `parley_hub_turn_refused_total{reason="quota"}`; 0 when absent.
func metric(t *testing.T, s *hub.Server, sample string) float64 {
	t.Helper()
	res, err := http.Get(s.URL() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), " ")
		if ok && name == sample {
			f, err := strconv.ParseFloat(value, 64)
			if err != nil {
				t.Fatalf("metric %s = %q", sample, value)
			}
			return f
		}
	}
	return 0
}

// bystander is another customer chatting with agent2: the attacks must not reach them.
type bystander struct {
	t     *testing.T
	agent *peer
	cust  *peer
	conv  wire.Conversation
	n     int
}

func newBystander(t *testing.T, s *hub.Server) *bystander {
	t.Helper()
	b := &bystander{t: t, agent: member(t, s, "agent2")}
	b.cust, b.conv = customer(t, s, "Bystander")
	b.agent.accept(b.conv.ID)
	b.chat()
	return b
}

// chat checks one message each way arrives within a second.
func (b *bystander) chat() {
	b.t.Helper()
	b.n++
	for _, dir := range []struct{ from, to *peer }{{b.cust, b.agent}, {b.agent, b.cust}} {
		text := fmt.Sprintf("%s says hello %d", dir.from.name, b.n)
		start := time.Now()
		if _, err := dir.from.conn.Request(ctx(b.t), wire.TypeChatSend, wire.ChatSend{Conv: b.conv.ID, Text: text, ClientID: fmt.Sprintf("%s-%d", dir.from.name, b.n)}); err != nil {
			b.t.Fatalf("bystander: %s could not chat: %v", dir.from.name, err)
		}
		dir.to.message(b.conv.ID, text)
		if d := time.Since(start); d > time.Second {
			b.t.Errorf("bystander: a message took %v", d)
		}
	}
}

// turnClient allocates on the hub's relay with a party's ICE servers, as a browser would.
func turnClient(t *testing.T, srv *relay.Server, ice *wire.ICEConfig) (net.PacketConn, error) {
	t.Helper()
	if ice == nil || len(ice.Servers) == 0 {
		t.Fatal("no ICE servers to allocate with")
	}
	conn, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	addr := (&net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: srv.UDPAddr().Port}).String()
	cl, err := turn.NewClient(&turn.ClientConfig{
		STUNServerAddr: addr, TURNServerAddr: addr, Conn: conn,
		Username: ice.Servers[0].Username, Password: ice.Servers[0].Credential,
		LoggerFactory: relay.LoggerFactory{Log: slog.New(slog.DiscardHandler)}, RTO: 100 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := cl.Listen(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	relayed, err := cl.Allocate()
	if err == nil {
		t.Cleanup(func() { _ = relayed.Close() })
	}
	return relayed, err
}

// Review: one customer credential made 95 allocations and filled the relay's port range; it was
// handed out while the call still rang, lasted 4 h, and kept relaying to a loopback service
// after the call ended.
func TestAbuseTURNRelay(t *testing.T) {
	t.Parallel()
	// As the demo runs it: listening on every interface, advertising 127.0.0.1.
	rg := newCallRig(t, func(c *hub.Config) { c.TURNUDP = "0.0.0.0:0" })
	srv := rg.s.TURN()
	by := newBystander(t, rg.s)

	// A customer who declines never holds a credential.
	id := rg.invite(t, wire.CallVideo)
	if _, err := rg.cust.conn.Request(ctx(t), wire.TypeCallDecline, wire.CallRef{Call: id}); err != nil {
		t.Fatal(err)
	}
	if st := rg.cust.callState(id, wire.CallEnded); st.ICE != nil {
		t.Errorf("declined call's state carries ICE: %+v", st.ICE)
	}

	id = rg.invite(t, wire.CallVideo)
	st := rg.answer(t, id, true)
	exp, _, err := relay.ParseUsername(st.ICE.Servers[0].Username)
	if err != nil || time.Until(exp) > relay.DefaultTTL+time.Minute {
		t.Errorf("customer credential expires at %v (%v); want within %v", exp, err, relay.DefaultTTL)
	}

	// The quota: a party's credential holds at most DefaultUserQuota allocations.
	var held []net.PacketConn
	for i := range relay.DefaultUserQuota {
		relayed, err := turnClient(t, srv, st.ICE)
		if err != nil {
			t.Fatalf("allocation %d: %v", i+1, err)
		}
		held = append(held, relayed)
	}
	if _, err := turnClient(t, srv, st.ICE); err == nil || !strings.Contains(err.Error(), "486") {
		t.Errorf("allocation over the quota: %v; want 486", err)
	}
	if got := metric(t, rg.s, `parley_hub_turn_refused_total{reason="quota"}`); got != 1 {
		t.Errorf("quota refusals metric = %v; want 1", got)
	}
	by.chat()

	// Loopback services are out of reach, though the relay advertises 127.0.0.1.
	svc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	_, _ = held[0].WriteTo([]byte("GET / HTTP/1.0\r\n\r\n"), svc.LocalAddr())
	_ = svc.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	if _, _, err := svc.ReadFrom(make([]byte, 1500)); err == nil {
		t.Error("a loopback service received a datagram through the relay")
	}
	if got := metric(t, rg.s, `parley_hub_turn_refused_total{reason="peer"}`); got < 1 {
		t.Errorf("peer refusals metric = %v; want at least 1", got)
	}

	// A long call gets fresh credentials before these expire, for both parties.
	rg.clk.advance(relay.DefaultTTL * 2 / 3)
	rg.ft.fireSoon(t, relay.DefaultTTL*2/3)
	for _, p := range []*peer{rg.agent, rg.cust} {
		renewed := p.callState(id, wire.CallActive)
		if renewed.ICE == nil || renewed.ICE.Servers[0].Username == "" {
			t.Fatalf("%s: renewal without credentials: %+v", p.name, renewed)
		}
		if p == rg.cust && renewed.ICE.Servers[0].Username == st.ICE.Servers[0].Username {
			t.Errorf("renewed credential is the old one")
		}
	}

	// The call ends: its allocations close at once and its credentials allocate nothing more.
	if _, err := rg.agent.conn.Request(ctx(t), wire.TypeCallEnd, wire.CallRef{Call: id}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for srv.Stats().Allocations > 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := srv.Stats().Allocations; n != 0 {
		t.Errorf("%d allocations open after the call ended; want 0", n)
	}
	if _, err := turnClient(t, srv, st.ICE); err == nil {
		t.Error("the ended call's credential allocated again")
	}
	if got := metric(t, rg.s, `parley_hub_turn_revoked_total`); got != float64(relay.DefaultUserQuota) {
		t.Errorf("revoked metric = %v; want %d", got, relay.DefaultUserQuota)
	}
	by.chat()
}
