package hub_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/parleyhq/parley/hub"
	"github.com/parleyhq/parley/hub/client"
	"github.com/parleyhq/parley/hub/relay"
	"github.com/parleyhq/parley/wire"
	"github.com/pion/turn/v5"
)

// The attacks of issue 12, each run against a real hub on loopback: the refusal, the metric
// that shows it to an operator, and another customer whose chat carries on meanwhile.

// metric reads one sample of the hub's /metrics (on its own address when it has one): name with
// its labels as printed, e.g. `parley_hub_turn_refused_total{reason="quota"}`; 0 when absent.
func metric(t *testing.T, s *hub.Server, sample string) float64 {
	t.Helper()
	url := s.MetricsURL()
	if url == "" {
		url = s.URL() + "/metrics"
	}
	res, err := http.Get(url)
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

// bystanderDelay bounds a bystander's message: about a millisecond on an idle machine, so a hub
// that blocks on the attack misses it by far; generous because CI machines are shared and loaded
// (1.6 s was seen at a load of 36 on 2 cores).
const bystanderDelay = 3 * time.Second

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

// chat checks one message each way arrives within bystanderDelay.
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
		if d := time.Since(start); d > bystanderDelay {
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

// from is a header that says, through the trusted loopback proxy, which address a request
// comes from.
func from(addr string) http.Header {
	return http.Header{"X-Forwarded-For": []string{addr}}
}

// behindProxy trusts the loopback proxy, so tests can stand for customers at many addresses. As
// behind a real proxy, the metrics are on an address of their own.
func behindProxy(c *hub.Config) {
	c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
	c.MetricsAddr = "127.0.0.1:0"
}

// rawHello opens a WebSocket as header's address, says hello with token and returns the
// connection with the first frame the hub answered (welcome or error); the HTTP status when the
// upgrade itself was refused.
func rawHello(t *testing.T, s *hub.Server, token string, header http.Header) (*websocket.Conn, wire.Envelope, int) {
	t.Helper()
	ws, res, err := websocket.Dial(ctx(t), strings.Replace(s.URL(), "http", "ws", 1)+"/ws", &websocket.DialOptions{HTTPHeader: header})
	if err != nil {
		if res != nil {
			return nil, wire.Envelope{}, res.StatusCode
		}
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { _ = ws.CloseNow() })
	hello, _ := wire.Encode(wire.TypeHello, "", wire.Hello{Token: token})
	if err := ws.Write(ctx(t), websocket.MessageText, hello); err != nil {
		t.Fatal(err)
	}
	_, data, err := ws.Read(ctx(t))
	if err != nil {
		t.Fatalf("reading the answer to hello: %v", err)
	}
	env, err := wire.Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	return ws, env, http.StatusSwitchingProtocols
}

func errCode(env wire.Envelope) wire.Code {
	var e wire.Error
	_ = json.Unmarshal(env.Data, &e)
	return e.Code
}

// Review: one customer token opened 3,000 WebSocket connections, all welcomed; 100 connections
// × 12 chat.send stored 1,200 messages (the chat limit times the connections), each fanned out
// to every connection.
func TestAbuseOneCustomerManyConnections(t *testing.T) {
	t.Parallel()
	s := startHub(t)
	by := newBystander(t, s)
	agent := member(t, s, "agent1")
	started, err := client.StartConversation(ctx(t), s.URL(), hub.DemoOrg, "Mallory")
	if err != nil {
		t.Fatal(err)
	}
	agent.accept(started.Conversation.ID)

	var open []*websocket.Conn
	refused := 0
	for range 20 {
		ws, env, _ := rawHello(t, s, started.Token, nil)
		switch {
		case env.Type == wire.TypeWelcome:
			open = append(open, ws)
		case env.Type == wire.TypeError && errCode(env) == wire.ETOOMANY:
			refused++
		default:
			t.Fatalf("hello answered %s %s", env.Type, env.Data)
		}
	}
	if len(open) != hub.DefaultLimits.CustomerConns || refused != 20-hub.DefaultLimits.CustomerConns {
		t.Errorf("20 connections with one token: %d welcomed, %d refused; want %d welcomed", len(open), refused, hub.DefaultLimits.CustomerConns)
	}
	if got := metric(t, s, `parley_hub_connections_refused_total{reason="conversation"}`); got != float64(refused) {
		t.Errorf("refusals metric = %v; want %d", got, refused)
	}
	by.chat()

	// Every connection sends its 12 messages at once: the conversation's budget is shared.
	var stored, limited atomic.Int64
	var wg sync.WaitGroup
	for i, ws := range open {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 12 {
				f, _ := wire.Encode(wire.TypeChatSend, fmt.Sprintf("r%d", j), wire.ChatSend{Conv: started.Conversation.ID, Text: "spam", ClientID: fmt.Sprintf("c%d-%d", i, j)})
				if err := ws.Write(ctx(t), websocket.MessageText, f); err != nil {
					return
				}
			}
			// Count this connection's answers: acks stored, errors refused.
			for n := 0; n < 12; {
				_, data, err := ws.Read(ctx(t))
				if err != nil {
					return
				}
				env, _ := wire.Decode(data)
				switch {
				case env.Type == wire.TypeAck && env.RID != "":
					stored.Add(1)
					n++
				case env.Type == wire.TypeError && env.RID != "":
					if errCode(env) == wire.ERATELIMITED {
						limited.Add(1)
					}
					n++
				}
			}
		}()
	}
	wg.Wait()
	burst := int64(hub.DefaultLimits.CustomerSendBurst)
	if stored.Load() > burst+2 || limited.Load() == 0 {
		t.Errorf("%d connections × 12 sends: %d stored, %d limited; want at most the conversation's burst (%d) stored", len(open), stored.Load(), limited.Load(), burst)
	}
	if got := metric(t, s, `parley_hub_rate_limited_total{limit="sends"}`); got < 1 {
		t.Errorf("sends limit metric = %v; want the refusals counted", got)
	}
	by.chat()

	// Closing a tab makes room for another.
	_ = open[0].Close(websocket.StatusNormalClosure, "")
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, env, _ := rawHello(t, s, started.Token, nil)
		if env.Type == wire.TypeWelcome {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no room after a connection closed: %s %s", env.Type, env.Data)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// One address opening conversation after conversation, each with its tabs, meets the address's
// cap; agents behind the same address (an office) are counted per account instead.
func TestAbuseOneAddressManyConnections(t *testing.T) {
	t.Parallel()
	s := startHub(t, behindProxy, func(c *hub.Config) { c.Limits.AddressConns = 6 })
	by := newBystander(t, s)
	welcomed, refused := 0, 0
	for i := range 4 {
		started, err := client.StartConversationWith(ctx(t), s.URL(), hub.DemoOrg, fmt.Sprint("bot", i), from("198.51.100.7"))
		if err != nil {
			t.Fatal(err)
		}
		for range 2 {
			_, env, status := rawHello(t, s, started.Token, from("198.51.100.7"))
			switch {
			case env.Type == wire.TypeWelcome:
				welcomed++
			case env.Type == wire.TypeError && errCode(env) == wire.ETOOMANY:
				refused++
			default:
				t.Fatalf("connection %d: %s %s (HTTP %d)", i, env.Type, env.Data, status)
			}
		}
	}
	if welcomed != 6 || refused != 2 {
		t.Errorf("8 customer connections from one address: %d welcomed, %d refused; want 6 and 2", welcomed, refused)
	}
	if got := metric(t, s, `parley_hub_connections_refused_total{reason="address"}`); got != 2 {
		t.Errorf("address refusals metric = %v; want 2", got)
	}
	// Connections that never say hello are capped per address too, before the upgrade.
	pendingStatus := 0
	for range hub.DefaultLimits.PendingConns + 1 {
		ws, res, err := websocket.Dial(ctx(t), strings.Replace(s.URL(), "http", "ws", 1)+"/ws", &websocket.DialOptions{HTTPHeader: from("198.51.100.8")})
		if err != nil {
			if res != nil {
				pendingStatus = res.StatusCode
			}
			break
		}
		t.Cleanup(func() { _ = ws.CloseNow() })
	}
	if pendingStatus != http.StatusTooManyRequests {
		t.Errorf("%d silent connections from one address: last refusal HTTP %d; want 429", hub.DefaultLimits.PendingConns+1, pendingStatus)
	}
	// An agent in the same office connects: members count per account.
	login, err := client.Login(ctx(t), s.URL(), hub.DemoOrg, "agent1", hub.DemoPassword)
	if err != nil {
		t.Fatal(err)
	}
	if _, env, status := rawHello(t, s, login.Token, from("198.51.100.7")); env.Type != wire.TypeWelcome {
		t.Errorf("an agent behind the busy address: %s %s (HTTP %d); want welcomed", env.Type, env.Data, status)
	}
	// A customer elsewhere is not affected.
	started, err := client.StartConversationWith(ctx(t), s.URL(), hub.DemoOrg, "elsewhere", from("203.0.113.50"))
	if err != nil {
		t.Fatal(err)
	}
	if _, env, _ := rawHello(t, s, started.Token, from("203.0.113.50")); env.Type != wire.TypeWelcome {
		t.Errorf("a customer at another address: %s %s", env.Type, env.Data)
	}
	by.chat()
}

// Review: a connection that sends nothing and answers nothing stayed forever.
func TestAbuseSilentConnectionsClosed(t *testing.T) {
	t.Parallel()
	s := startHub(t, func(c *hub.Config) { c.Limits.IdleTimeout = time.Second })
	by := newBystander(t, s)
	started, err := client.StartConversation(ctx(t), s.URL(), hub.DemoOrg, "Ghost")
	if err != nil {
		t.Fatal(err)
	}
	// Says hello, then never reads again, so it answers no ping.
	ghost, env, _ := rawHello(t, s, started.Token, nil)
	if env.Type != wire.TypeWelcome {
		t.Fatalf("hello: %s", env.Type)
	}
	deadline := time.Now().Add(10 * time.Second)
	for metric(t, s, `parley_hub_connections_idle_closed_total`) < 1 {
		if time.Now().After(deadline) {
			t.Fatal("a silent connection that answers no ping was not closed")
		}
		time.Sleep(50 * time.Millisecond)
	}
	// Its socket is closed: reading ends.
	rctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for {
		if _, _, err := ghost.Read(rctx); err != nil {
			if rctx.Err() != nil {
				t.Fatal("the silent connection's socket is still open")
			}
			break
		}
	}
	// Quiet clients that answer pings stay: the bystanders said nothing for several idle periods.
	time.Sleep(3500 * time.Millisecond)
	by.chat()
	if got := metric(t, s, `parley_hub_connections_idle_closed_total`); got != 1 {
		t.Errorf("idle closed = %v; want only the silent one", got)
	}
}

// Review: five wrong passwords locked the real agent out, and one wrong try every 20 s kept them
// out; unknown usernames cost a password hash each, with no limit per address.
func TestAbuseSignIn(t *testing.T) {
	t.Parallel()
	s := startHub(t, behindProxy)
	by := newBystander(t, s)
	login := func(addr, user, pw string) (wire.Code, string) {
		body, _ := json.Marshal(wire.LoginRequest{Org: hub.DemoOrg, Username: user, Password: pw})
		req, _ := http.NewRequestWithContext(ctx(t), http.MethodPost, s.URL()+"/api/v1/login", bytes.NewReader(body))
		req.Header.Set("X-Forwarded-For", addr)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		if res.StatusCode == http.StatusOK {
			return "", ""
		}
		var e wire.Error
		_ = json.NewDecoder(res.Body).Decode(&e)
		return e.Code, res.Header.Get("Retry-After")
	}
	const attacker, office = "198.51.100.66", "203.0.113.10"
	for i := range 8 {
		code, _ := login(attacker, "agent1", fmt.Sprint("guess", i))
		if code != wire.EUNAUTHORIZED && code != wire.ERATELIMITED {
			t.Fatalf("guess %d: %s", i, code)
		}
	}
	// The attacker backs off; the agent, elsewhere, signs in at once.
	if code, after := login(attacker, "agent1", "guess-again"); code != wire.ERATELIMITED || after == "" {
		t.Errorf("the attacker's next guess = %q (Retry-After %q); want ERATELIMITED with a wait", code, after)
	}
	if code, _ := login(office, "agent1", hub.DemoPassword); code != "" {
		t.Errorf("the real agent from the office = %q; want signed in", code)
	}
	// Unknown usernames from one address back off too.
	refusedAt := -1
	for i := range 40 {
		if code, _ := login("198.51.100.77", fmt.Sprintf("nobody%d", i), "x"); code == wire.ERATELIMITED {
			refusedAt = i
			break
		}
	}
	if refusedAt < 0 {
		t.Error("40 unknown usernames from one address: none refused")
	}
	if got := metric(t, s, `parley_hub_logins_total{result="limited"}`); got < 2 {
		t.Errorf("limited sign-ins metric = %v; want them counted", got)
	}
	by.chat()
}

// A flood of sign-ins with real password hashes, from many addresses: at most a few hashes run at
// once, and chat carries on. Not parallel: it is meant to load the machine, and other tests time
// things.
func TestAbuseSignInFloodDoesNotStarveChat(t *testing.T) {
	s := startHub(t, behindProxy, func(c *hub.Config) { c.BcryptCost = 8 })
	by := newBystander(t, s)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; ; j++ {
				select {
				case <-stop:
					return
				default:
				}
				_, _ = client.Login(context.Background(), s.URL(), hub.DemoOrg, fmt.Sprintf("x%d-%d", i, j), "x")
			}
		}()
	}
	// Chat messages still arrive promptly (bystander.chat checks) while the flood runs.
	time.Sleep(300 * time.Millisecond)
	for range 5 {
		by.chat()
	}
	close(stop)
	wg.Wait()
	if got := metric(t, s, `parley_hub_logins_total{result="wrong"}`) + metric(t, s, `parley_hub_logins_total{result="busy"}`); got < 5 {
		t.Errorf("the flood made %v sign-in attempts; want it to have run", got)
	}
}

// Review: nothing bounded the hub's sockets. Past Config.MaxConns, connections are closed at once
// and counted; those already open carry on.
func TestAbuseTCPConnectionCap(t *testing.T) {
	t.Parallel()
	s := startHub(t, func(c *hub.Config) { c.MaxConns = 12 })
	by := newBystander(t, s)
	addr := strings.TrimPrefix(s.URL(), "http://")
	var held []net.Conn
	t.Cleanup(func() {
		for _, c := range held {
			_ = c.Close()
		}
	})
	for range 20 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, c)
	}
	deadline := time.Now().Add(5 * time.Second)
	for metric(t, s, `parley_hub_connections_refused_total{reason="tcp_cap"}`) < 1 {
		if time.Now().After(deadline) {
			t.Fatal("no connection refused past the cap")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if got := metric(t, s, `parley_hub_tcp_connections`); got > 12 {
		t.Errorf("%v TCP connections open; want at most 12", got)
	}
	by.chat() // its WebSockets were open before
}

// Review: /metrics was open to anyone. Without a token it answers a client on this machine
// connected directly; through a proxy (a forwarded request, or any from a trusted proxy's
// address) it is refused; with the metrics token it answers whoever has it; on its own address
// it is not served on the hub's.
func TestAbuseMetricsAccess(t *testing.T) {
	t.Parallel()
	get := func(url string, header http.Header) int {
		t.Helper()
		req, _ := http.NewRequestWithContext(ctx(t), http.MethodGet, url, nil)
		for k, v := range header {
			req.Header[k] = v
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		if res.StatusCode == http.StatusOK && strings.HasSuffix(url, "/metrics") {
			body, _ := io.ReadAll(res.Body)
			if !bytes.Contains(body, []byte("parley_hub_connections")) {
				t.Errorf("GET %s answered 200 without the hub's metrics", url)
			}
		}
		return res.StatusCode
	}
	bearer := func(tok string) http.Header { return http.Header{"Authorization": []string{"Bearer " + tok}} }

	s := startHub(t)
	if code := get(s.URL()+"/metrics", nil); code != http.StatusOK {
		t.Errorf("/metrics from this machine = %d; want 200", code)
	}
	if code := get(s.URL()+"/metrics", from("203.0.113.9")); code != http.StatusForbidden {
		t.Errorf("/metrics forwarded by a local proxy for a stranger = %d; want 403", code)
	}

	// Behind a proxy on this machine, a request from it is a stranger's, named or not.
	proxied := startHub(t, func(c *hub.Config) { c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")} })
	for _, h := range []http.Header{from("203.0.113.9"), nil} {
		if code := get(proxied.URL()+"/metrics", h); code != http.StatusForbidden {
			t.Errorf("/metrics through the trusted proxy (%v) = %d; want 403", h, code)
		}
	}
	if code := get(proxied.URL()+"/healthz", nil); code != http.StatusOK {
		t.Errorf("/healthz through the proxy = %d; want 200 (only the metrics are guarded)", code)
	}

	tok := startHub(t, func(c *hub.Config) {
		c.MetricsToken = "scrape-me"
		c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
	})
	for _, h := range []http.Header{nil, bearer("scrape-you"), bearer("")} {
		if code := get(tok.URL()+"/metrics", h); code != http.StatusUnauthorized {
			t.Errorf("/metrics with %v = %d; want 401", h, code)
		}
	}
	withTok := bearer("scrape-me")
	withTok["X-Forwarded-For"] = []string{"203.0.113.9"}
	if code := get(tok.URL()+"/metrics", withTok); code != http.StatusOK {
		t.Errorf("/metrics with the token, from afar = %d; want 200", code)
	}

	own := startHub(t, behindProxy)
	if code := get(own.MetricsURL(), nil); code != http.StatusOK {
		t.Errorf("/metrics on its own address = %d; want 200", code)
	}
	if code := get(own.URL()+"/metrics", nil); code == http.StatusOK {
		t.Errorf("/metrics still served on the hub's address")
	}
}

// Review: a supervisor's conv.end ended any conversation of the organisation, and the stored
// system line named the agent. Only the assigned agent ends one; a supervisor closes it
// deliberately (supervisor.close), named as the supervisor.
func TestAbuseSupervisorEndsOthersConversation(t *testing.T) {
	t.Parallel()
	s := startHub(t)
	agent, cust, conv := chatting(t, s, "Dora")
	sup := member(t, s, "super1")
	_, err := sup.conn.Request(ctx(t), wire.TypeConvEnd, wire.ConvRef{Conv: conv.ID})
	if wire.ErrorCode(err) != wire.EFORBIDDEN {
		t.Fatalf("supervisor conv.end of agent1's chat: %v; want EFORBIDDEN", err)
	}
	// Nothing ended: the chat carries on both ways.
	if _, err := cust.conn.Request(ctx(t), wire.TypeChatSend, wire.ChatSend{Conv: conv.ID, Text: "still here", ClientID: "c1"}); err != nil {
		t.Fatalf("customer after the refused end: %v", err)
	}
	agent.message(conv.ID, "still here")
	if _, err := sup.conn.Request(ctx(t), wire.TypeSupervisorClose, wire.ConvRef{Conv: conv.ID}); err != nil {
		t.Fatalf("supervisor.close: %v", err)
	}
	if line := agent.systemLine(wire.EventSupervisorClosed); line.Event.Name != "Supervisor One" {
		t.Errorf("closing line = %+v; want it to name the supervisor", line)
	}
}

// visualFlood has tabs (raw connections of one customer) each send n visual.events of data bytes
// of v at once (n under the hub's send queue, past which it drops a client that does not read its
// answers fast enough), and counts the hub's answers: relayed (acked), rate limited, and other error codes.
func visualFlood(t *testing.T, tabs []*websocket.Conn, v wire.VisualID, n, data int) (acked, limited int, other map[wire.Code]int) {
	t.Helper()
	var mu sync.Mutex
	other = map[wire.Code]int{}
	var wg sync.WaitGroup
	for i, ws := range tabs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			go func() {
				for j := range n {
					f, _ := wire.Encode(wire.TypeVisualEvent, fmt.Sprintf("v%d-%d", i, j), wire.VisualEvent{Visual: v, Seq: int64(j + 1), Parts: 1, Data: strings.Repeat("x", data)})
					if err := ws.Write(ctx(t), websocket.MessageText, f); err != nil {
						return
					}
				}
			}()
			for k := 0; k < n; {
				_, raw, err := ws.Read(ctx(t))
				if err != nil {
					t.Errorf("tab %d: reading answers: %v", i, err)
					return
				}
				env, _ := wire.Decode(raw)
				if env.RID == "" {
					continue
				}
				k++
				mu.Lock()
				switch {
				case env.Type == wire.TypeAck:
					acked++
				case env.Type == wire.TypeError && errCode(env) == wire.ERATELIMITED:
					limited++
				default:
					other[errCode(env)]++
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return acked, limited, other
}

// countVisual counts, until stop is closed, the visual.events of v that p receives; p's events
// are consumed meanwhile so the hub never waits on the test.
func countVisual(p *peer, v wire.VisualID, stop <-chan struct{}) <-chan int {
	out := make(chan int, 1)
	go func() {
		n := 0
		defer func() { out <- n }()
		for {
			select {
			case env, ok := <-p.conn.Events():
				if !ok {
					return
				}
				var ev wire.VisualEvent
				if env.Type == wire.TypeVisualEvent && json.Unmarshal(env.Data, &ev) == nil && ev.Visual == v {
					n++
				}
			case <-stop:
				return
			}
		}
	}()
	return out
}

// Review: co-browse events were not charged to anything, so one customer could push page
// snapshots to their agent as fast as the hub relays them, from as many tabs as they hold, and
// send them without an open engagement. Now they count against the conversation's co-browse
// frame and byte limits (all tabs together), and are refused outside an accepted engagement.
func TestAbuseVisualEventFlood(t *testing.T) {
	t.Parallel()
	const (
		frames, frameBurst = 20, 100             // co-browse events per second, burst
		bytesPS, byteBurst = 64 << 10, 256 << 10 // co-browse bytes per second, burst
	)
	s := startHub(t, func(c *hub.Config) {
		c.Limits.CustomerVisualFrames, c.Limits.CustomerVisualFrameBurst = frames, frameBurst
		c.Limits.CustomerVisual, c.Limits.CustomerVisualBurst = bytesPS, byteBurst
	})
	by := newBystander(t, s)

	// endChat ends a phase's conversation, so agent1 (most free) is offered the next one, not
	// the bystander's agent2.
	endChat := func(agent *peer, conv wire.ConversationID) {
		if _, err := agent.conn.Request(ctx(t), wire.TypeConvEnd, wire.ConvRef{Conv: conv}); err != nil {
			t.Fatalf("conv.end: %v", err)
		}
	}
	// engaged is a customer in an accepted co-browse engagement with three tabs open.
	engaged := func(name string) (agent, cust *peer, conv wire.Conversation, v wire.VisualID, tabs []*websocket.Conn) {
		agent = member(t, s, "agent1")
		cust, conv, token := customerToken(t, s, name)
		agent.accept(conv.ID)
		inv := invite(t, agent, conv.ID, wire.VisualCobrowse, "", "")
		if _, err := cust.conn.Request(ctx(t), wire.TypeVisualAccept, wire.VisualAccept{Visual: inv.ID, PIN: inv.PIN}); err != nil {
			t.Fatalf("accept: %v", err)
		}
		agent.visualState(inv.ID, wire.VisualActive)
		for range 3 {
			ws, env, _ := rawHello(t, s, token, nil)
			if env.Type != wire.TypeWelcome {
				t.Fatalf("tab hello: %s %s", env.Type, env.Data)
			}
			tabs = append(tabs, ws)
		}
		return agent, cust, conv, inv.ID, tabs
	}

	// Many small events: the frame limit, shared by the tabs.
	agent, cust, conv, v, tabs := engaged("Mallory")
	stop := make(chan struct{})
	got := countVisual(agent, v, stop)
	start := time.Now()
	acked, limited, other := visualFlood(t, tabs, v, 100, 16)
	elapsed := time.Since(start)
	if len(other) > 0 {
		t.Errorf("small events: other answers %v", other)
	}
	if max := frameBurst + int(frames*elapsed.Seconds()) + 2; acked < frameBurst/2 || acked > max || limited == 0 {
		t.Errorf("3 tabs × 100 co-browse events in %v: %d relayed, %d limited; want at most %d relayed (burst %d + %d/s), the rest limited",
			elapsed, acked, limited, max, frameBurst, frames)
	}
	if m := metric(t, s, `parley_hub_rate_limited_total{limit="frames"}`); m != float64(limited) {
		t.Errorf("frames limit metric = %v; want %d", m, limited)
	}
	// The agent got exactly the relayed ones, none of the refused.
	time.Sleep(500 * time.Millisecond)
	close(stop)
	if n := <-got; n != acked {
		t.Errorf("agent received %d co-browse events; want the %d relayed", n, acked)
	}
	// The customer's chat has its own budget: it still goes through at once.
	if _, err := cust.conn.Request(ctx(t), wire.TypeChatSend, wire.ChatSend{Conv: conv.ID, Text: "can you see my page?", ClientID: "after-flood"}); err != nil {
		t.Errorf("chat right after the co-browse flood: %v", err)
	}
	by.chat()
	endChat(agent, conv.ID)

	// Large events: the byte limit.
	agent, _, conv, v, tabs = engaged("Trudy")
	stop = make(chan struct{})
	got = countVisual(agent, v, stop)
	const size = wire.MaxVisualEventBytes
	start = time.Now()
	acked, limited, other = visualFlood(t, tabs, v, 25, size)
	elapsed = time.Since(start)
	if len(other) > 0 {
		t.Errorf("large events: other answers %v", other)
	}
	if max := (byteBurst+int(bytesPS*elapsed.Seconds()))/size + 1; acked < 4 || acked > max || limited == 0 {
		t.Errorf("3 tabs × 25 co-browse events of %d bytes in %v: %d relayed, %d limited; want at most %d relayed (burst %d bytes + %d/s), the rest limited",
			size, elapsed, acked, limited, max, byteBurst, bytesPS)
	}
	if m := metric(t, s, `parley_hub_rate_limited_total{limit="visual"}`); m != float64(limited) {
		t.Errorf("visual bytes limit metric = %v; want %d", m, limited)
	}
	time.Sleep(500 * time.Millisecond)
	close(stop)
	if n := <-got; n != acked {
		t.Errorf("agent received %d large co-browse events; want the %d relayed", n, acked)
	}
	by.chat()
	endChat(agent, conv.ID)

	// Without an open engagement nothing is relayed: an invitation not yet accepted, and one that
	// has ended, refuse every event.
	agent = member(t, s, "agent1")
	cust, conv, token := customerToken(t, s, "Eve")
	agent.accept(conv.ID)
	inv := invite(t, agent, conv.ID, wire.VisualCobrowse, "", "")
	ws, env, _ := rawHello(t, s, token, nil)
	if env.Type != wire.TypeWelcome {
		t.Fatalf("tab hello: %s %s", env.Type, env.Data)
	}
	stop = make(chan struct{})
	got = countVisual(agent, inv.ID, stop)
	acked, _, other = visualFlood(t, []*websocket.Conn{ws}, inv.ID, 50, 16)
	if acked != 0 || other[wire.ECONFLICT] == 0 {
		t.Errorf("50 events before accepting: %d relayed, refusals %v; want none relayed, ECONFLICT (not active)", acked, other)
	}
	if _, err := cust.conn.Request(ctx(t), wire.TypeVisualDecline, wire.VisualRef{Visual: inv.ID}); err != nil {
		t.Fatalf("decline: %v", err)
	}
	acked, _, other = visualFlood(t, []*websocket.Conn{ws}, inv.ID, 20, 16)
	if acked != 0 || other[wire.ENOTFOUND] == 0 {
		t.Errorf("20 events after declining: %d relayed, refusals %v; want none relayed, ENOTFOUND", acked, other)
	}
	time.Sleep(300 * time.Millisecond)
	close(stop)
	if n := <-got; n != 0 {
		t.Errorf("agent received %d co-browse events without an open engagement; want none", n)
	}
	by.chat()
}

// closedWithin checks that the hub closes conn (a read ends) within d, and says how long it took.
func closedWithin(t *testing.T, what string, conn net.Conn, d time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	_ = conn.SetReadDeadline(start.Add(d))
	_, err := io.Copy(io.Discard, conn)
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Errorf("%s: still open after %v", what, d)
	}
	return time.Since(start)
}

// Review: with the deadlines fixed at 10 s and 2 min nothing showed that they hold. A stranger
// who sends half a request, upgrades and never says hello, or keeps an HTTP connection open
// without a request, is closed after -hello-timeout (or twice -idle-timeout); a client that
// says hello in time is welcomed, and other customers chat on meanwhile.
func TestAbuseSlowHandshake(t *testing.T) {
	t.Parallel()
	const hello, idle = time.Second, 500 * time.Millisecond
	s := startHub(t, func(c *hub.Config) { c.Limits.HelloTimeout, c.Limits.IdleTimeout = hello, idle })
	by := newBystander(t, s)
	hostPort := strings.TrimPrefix(s.URL(), "http://")
	dialRaw := func() net.Conn {
		conn, err := net.Dial("tcp", hostPort)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = conn.Close() })
		return conn
	}
	// Generous bound under load; each would stay open for ever without its deadline.
	const within = 8 * time.Second

	// Half a request line and no headers (slow loris).
	loris := dialRaw()
	if _, err := io.WriteString(loris, "GET /ws HTTP/1.1\r\nHost: x\r\n"); err != nil {
		t.Fatal(err)
	}
	took := closedWithin(t, "a request whose headers never end", loris, within)
	if took < hello/2 {
		t.Errorf("a slow request was closed after %v; want about -hello-timeout (%v)", took, hello)
	}

	// A WebSocket that never says hello.
	ws, _, err := websocket.Dial(ctx(t), strings.Replace(s.URL(), "http", "ws", 1)+"/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ws.CloseNow() })
	rctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	start := time.Now()
	if _, _, err := ws.Read(rctx); err == nil || rctx.Err() != nil {
		t.Errorf("a WebSocket that never says hello: read %v after %v; want closed by the hub", err, time.Since(start))
	} else if took := time.Since(start); took < hello/2 {
		t.Errorf("a WebSocket without hello was closed after %v; want about -hello-timeout (%v)", took, hello)
	}
	deadline := time.Now().Add(5 * time.Second)
	for metric(t, s, `parley_hub_connections_refused_total{reason="hello_timeout"}`) != 1 {
		if time.Now().After(deadline) {
			t.Fatalf("hello_timeout refusals = %v; want 1", metric(t, s, `parley_hub_connections_refused_total{reason="hello_timeout"}`))
		}
		time.Sleep(50 * time.Millisecond)
	}

	// A keep-alive HTTP connection that asks once and then nothing.
	keep := dialRaw()
	if _, err := io.WriteString(keep, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(keep)
	res, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || res.Close {
		t.Fatalf("healthz: %d, close %v; want 200 kept alive", res.StatusCode, res.Close)
	}
	start = time.Now()
	_ = keep.SetReadDeadline(start.Add(within))
	if _, err := br.ReadByte(); err == nil {
		t.Errorf("an idle keep-alive connection: the hub sent more")
	} else if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Errorf("an idle keep-alive connection: still open after %v; want closed after 2 × -idle-timeout (%v)", within, 2*idle)
	} else if took := time.Since(start); took < idle {
		t.Errorf("an idle keep-alive connection was closed after %v; want about 2 × -idle-timeout (%v)", took, 2*idle)
	}

	// A client that says hello in time is welcomed, however slow the others are. (Pooled
	// connections to this hub may be closed by its 1 s idle limit just as a POST takes one, which
	// Go does not retry: the POST dials afresh.)
	http.DefaultClient.CloseIdleConnections()
	started, err := client.StartConversation(ctx(t), s.URL(), hub.DemoOrg, "Punctual")
	if err != nil {
		t.Fatal(err)
	}
	if _, env, _ := rawHello(t, s, started.Token, nil); env.Type != wire.TypeWelcome {
		t.Errorf("a hello in time: %s %s", env.Type, env.Data)
	}
	by.chat()
}

// Review: visual.signal skipped the SDP and candidate checks that call signalling gets, so a
// customer could push anything to the agent's WebRTC stack. Each malformed signal of a built-in
// screen share is now refused and never relayed; a well-formed one still goes through.
func TestAbuseVisualSignalChecked(t *testing.T) {
	t.Parallel()
	s := startHub(t)
	agent, cust, conv := chatting(t, s, "Mallory")
	v := invite(t, agent, conv.ID, wire.VisualScreenShare, "", "")
	if _, err := cust.conn.Request(ctx(t), wire.TypeVisualAccept, wire.VisualAccept{Visual: v.ID, PIN: v.PIN}); err != nil {
		t.Fatalf("accept: %v", err)
	}
	agent.visualState(v.ID, wire.VisualActive)
	mid, idx, badIdx := "0", 0, -1
	long := strings.Repeat("a", 300)
	for _, tc := range []struct {
		name string
		sig  wire.VisualSignal
		code wire.Code
	}{
		{"no sdp and no candidate", wire.VisualSignal{}, wire.EINVALID},
		{"both an sdp and a candidate", wire.VisualSignal{SDP: &wire.SDP{Type: "offer", SDP: "v=0\r\n"}, Candidate: &wire.ICECandidate{Candidate: "candidate:1 1 udp 1 192.0.2.1 9 typ host"}}, wire.EINVALID},
		{"an sdp of an unknown type", wire.VisualSignal{SDP: &wire.SDP{Type: "exploit", SDP: "v=0\r\n"}}, wire.EINVALID},
		{"an sdp that is not one", wire.VisualSignal{SDP: &wire.SDP{Type: "offer", SDP: "<script>alert(1)</script>"}}, wire.EINVALID},
		{"an sdp with a control character", wire.VisualSignal{SDP: &wire.SDP{Type: "offer", SDP: "v=0\r\no=- 1 1 IN IP4 0.0.0.0\x07\r\n"}}, wire.EINVALID},
		{"an oversized sdp", wire.VisualSignal{SDP: &wire.SDP{Type: "offer", SDP: "v=0\n" + strings.Repeat("a="+strings.Repeat("x", 200)+"\n", wire.MaxSDPBytes/203+1)}}, wire.ETOOLARGE},
		{"a candidate that is not one", wire.VisualSignal{Candidate: &wire.ICECandidate{Candidate: "javascript:alert(1)"}}, wire.EINVALID},
		{"a candidate with a newline", wire.VisualSignal{Candidate: &wire.ICECandidate{Candidate: "candidate:1 1 udp 1 192.0.2.1 9 typ host\r\na=evil"}}, wire.EINVALID},
		{"a long sdpMid", wire.VisualSignal{Candidate: &wire.ICECandidate{Candidate: "candidate:1 1 udp 1 192.0.2.1 9 typ host", SDPMid: &long}}, wire.EINVALID},
		{"a negative m-line index", wire.VisualSignal{Candidate: &wire.ICECandidate{Candidate: "candidate:1 1 udp 1 192.0.2.1 9 typ host", SDPMLineIndex: &badIdx}}, wire.EINVALID},
	} {
		tc.sig.Visual = v.ID
		_, err := cust.conn.Request(ctx(t), wire.TypeVisualSignal, tc.sig)
		wantCode(t, tc.name, err, tc.code)
	}
	agent.none(wire.TypeVisualSignal, 300*time.Millisecond)

	// A well-formed candidate reaches the agent, marked as the customer's.
	good := wire.VisualSignal{Visual: v.ID, Candidate: &wire.ICECandidate{Candidate: "candidate:1 1 udp 2122260223 192.0.2.1 54321 typ host", SDPMid: &mid, SDPMLineIndex: &idx}}
	if _, err := cust.conn.Request(ctx(t), wire.TypeVisualSignal, good); err != nil {
		t.Fatalf("a well-formed candidate: %v", err)
	}
	var got wire.VisualSignal
	agent.next(wire.TypeVisualSignal, &got)
	if got.Candidate == nil || got.Candidate.Candidate != good.Candidate.Candidate || got.From != wire.AuthorCustomer {
		t.Errorf("agent got %+v; want the customer's candidate", got)
	}
}
