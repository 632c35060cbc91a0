package hub_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/parleyhq/parley/hub"
	"github.com/parleyhq/parley/hub/client"
	"github.com/parleyhq/parley/wire"
)

func TestAuthorization(t *testing.T) {
	clk := &clock{}
	s := startHub(t, func(c *hub.Config) { c.Now = clk.now })
	if err := s.CreateOrg(ctx(t), "other", "Other Inc"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateMember(ctx(t), "other", "agent1", "Other Agent", "pw", wire.RoleAgent, 3); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateMember(ctx(t), "other", "boss", "Other Boss", "pw", wire.RoleSupervisor, 3); err != nil {
		t.Fatal(err)
	}
	agent1 := member(t, s, "agent1")
	agent2 := member(t, s, "agent2")
	if _, err := agent2.conn.Request(ctx(t), wire.TypePresenceSet, wire.PresenceSet{Presence: wire.PresenceAway}); err != nil {
		t.Fatal(err)
	}
	custA, convA := customer(t, s, "A")
	agent1.accept(convA.ID)
	custB, convB := customer(t, s, "B")
	agent1.accept(convB.ID)
	if _, err := custB.conn.Send(ctx(t), convB.ID, "B's secret"); err != nil {
		t.Fatal(err)
	}

	login := func(org wire.OrgID, user, pw string) *peer {
		resp, err := client.Login(ctx(t), s.URL(), org, user, pw)
		if err != nil {
			t.Fatal(err)
		}
		return dial(t, s, resp.Token, string(org)+"/"+user)
	}
	otherAgent := login("other", "agent1", "pw")
	otherBoss := login("other", "boss", "pw")

	type attempt struct {
		who  *peer
		typ  wire.Type
		data any
		code wire.Code
	}
	tests := map[string]attempt{
		"customer A writes in B":         {custA, wire.TypeChatSend, wire.ChatSend{Conv: convB.ID, Text: "hi", ClientID: "x1"}, wire.ENOTFOUND},
		"customer A reads B":             {custA, wire.TypeSync, wire.Sync{Conv: convB.ID}, wire.ENOTFOUND},
		"customer A types in B":          {custA, wire.TypeChatTyping, wire.Typing{Conv: convB.ID, Typing: true}, wire.ENOTFOUND},
		"customer A marks B read":        {custA, wire.TypeChatReceipt, wire.Receipt{Conv: convB.ID, Seq: 1, Kind: wire.ReceiptRead}, wire.ENOTFOUND},
		"customer A leaves B":            {custA, wire.TypeConvLeave, wire.ConvRef{Conv: convB.ID}, wire.ENOTFOUND},
		"customer sets presence":         {custA, wire.TypePresenceSet, wire.PresenceSet{Presence: wire.PresenceAway}, wire.EFORBIDDEN},
		"agent2 writes in agent1's":      {agent2, wire.TypeChatSend, wire.ChatSend{Conv: convB.ID, Text: "hi", ClientID: "x2"}, wire.ENOTFOUND},
		"agent2 reads agent1's":          {agent2, wire.TypeSync, wire.Sync{Conv: convB.ID}, wire.ENOTFOUND},
		"agent2 ends agent1's":           {agent2, wire.TypeConvEnd, wire.ConvRef{Conv: convB.ID}, wire.ENOTFOUND},
		"other org's agent writes":       {otherAgent, wire.TypeChatSend, wire.ChatSend{Conv: convB.ID, Text: "hi", ClientID: "x3"}, wire.ENOTFOUND},
		"other org's agent reads":        {otherAgent, wire.TypeSync, wire.Sync{Conv: convB.ID}, wire.ENOTFOUND},
		"other org's supervisor reads":   {otherBoss, wire.TypeSync, wire.Sync{Conv: convB.ID}, wire.ENOTFOUND},
		"other org's supervisor assign":  {otherBoss, wire.TypeSupervisorAssign, wire.Assign{Conv: convB.ID, Agent: agent2.conn.Welcome().User.ID}, wire.ENOTFOUND},
		"other org's supervisor follows": {otherBoss, wire.TypeSupervisorWatch, wire.Watch{Conv: convB.ID, On: true}, wire.ENOTFOUND},
		"an agent follows":               {agent2, wire.TypeSupervisorWatch, wire.Watch{Conv: convB.ID, On: true}, wire.EFORBIDDEN},
		"a customer follows":             {custA, wire.TypeSupervisorWatch, wire.Watch{Conv: convA.ID, On: true}, wire.EFORBIDDEN},
		"unknown conversation":           {agent1, wire.TypeChatSend, wire.ChatSend{Conv: "c_0000", Text: "hi", ClientID: "x4"}, wire.ENOTFOUND},
		"missing conversation":           {agent1, wire.TypeChatSend, wire.ChatSend{Text: "hi", ClientID: "x5"}, wire.EINVALID},
		"someone else's offer":           {agent2, wire.TypeOfferAccept, wire.OfferRef{Offer: "o_123"}, wire.ENOTFOUND},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := tt.who.conn.Request(ctx(t), tt.typ, tt.data)
			wantCode(t, name, err, tt.code)
		})
	}
	// The other organisation's supervisor sees only its own organisation.
	var snap wire.Snapshot
	otherBoss.next(wire.TypeSupervisorSnapshot, &snap)
	if len(snap.Conversations) != 0 || len(snap.Agents) != 1 || snap.Agents[0].DisplayName != "Other Agent" {
		t.Errorf("other org's snapshot = %+v", snap)
	}
	// Nothing was stored by the refused requests, and B's transcript is unchanged.
	hist, err := agent1.conn.History(ctx(t), convB.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(hist) != 2 || hist[1].Text != "B's secret" {
		t.Errorf("B's transcript = %+v; want the join line and B's message only", hist)
	}
	if h, _ := agent1.conn.History(ctx(t), convA.ID, 0); len(h) != 1 {
		t.Errorf("A's transcript = %+v; want the join line only", h)
	}

	// An expired token is refused at Hello; a live connection's reconnect fails the same way.
	resp, err := client.Login(ctx(t), s.URL(), hub.DemoOrg, "agent1", hub.DemoPassword)
	if err != nil {
		t.Fatal(err)
	}
	clk.advance(13 * time.Hour)
	_, err = client.Dial(ctx(t), s.URL(), resp.Token, client.Options{})
	wantCode(t, "Dial with expired token", err, wire.EUNAUTHORIZED)
	_, err = client.Dial(ctx(t), s.URL(), "not-a-token", client.Options{})
	wantCode(t, "Dial with made-up token", err, wire.EUNAUTHORIZED)
	agent1.conn.Interrupt()
	for {
		env := <-agent1.conn.Events()
		if ev, ok := client.ParseState(env); ok && ev.State == client.StateClosed {
			if !strings.Contains(ev.Err, "EUNAUTHORIZED") {
				t.Errorf("closed because %q; want EUNAUTHORIZED", ev.Err)
			}
			break
		}
	}
	_, err = agent1.conn.Send(ctx(t), convB.ID, "late")
	if err == nil {
		t.Error("Send on a closed session succeeded")
	}
}

// rawConn is a WebSocket without the client library, to send what a well-behaved client never
// would.
type rawConn struct {
	t  testing.TB
	ws *websocket.Conn
}

func rawDial(t testing.TB, s *hub.Server, token string) *rawConn {
	t.Helper()
	ws, _, err := websocket.Dial(ctx(t), strings.Replace(s.URL(), "http", "ws", 1)+"/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	ws.SetReadLimit(1 << 20)
	t.Cleanup(func() { ws.CloseNow() })
	r := &rawConn{t: t, ws: ws}
	if token != "" {
		r.send(`{"type":"hello","data":{"token":"` + token + `"}}`)
		if env := r.read(); env.Type != wire.TypeWelcome {
			t.Fatalf("hello answered %s %s", env.Type, env.Data)
		}
	}
	return r
}

func (r *rawConn) send(frame string) {
	r.t.Helper()
	if err := r.ws.Write(ctx(r.t), websocket.MessageText, []byte(frame)); err != nil {
		r.t.Fatal(err)
	}
}

// read returns the next frame that is an ack or an error (events are skipped).
func (r *rawConn) read() wire.Envelope {
	r.t.Helper()
	c, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for {
		_, data, err := r.ws.Read(c)
		if err != nil {
			r.t.Fatalf("read: %v", err)
		}
		env, err := wire.Decode(data)
		if err != nil {
			r.t.Fatalf("hub sent an undecodable frame: %v", err)
		}
		switch env.Type {
		case wire.TypeAck, wire.TypeError, wire.TypeWelcome:
			return env
		}
	}
}

func (r *rawConn) wantError(code wire.Code, rid string) {
	r.t.Helper()
	env := r.read()
	var e wire.Error
	if env.Type == wire.TypeError {
		env.Unmarshal(&e)
	}
	if env.Type != wire.TypeError || e.Code != code || env.RID != rid {
		r.t.Errorf("got %s rid=%q %s; want error %s rid=%q", env.Type, env.RID, env.Data, code, rid)
	}
}

// alive checks the connection still answers.
func (r *rawConn) alive() {
	r.t.Helper()
	r.send(`{"type":"ping","rid":"alive"}`)
	if env := r.read(); env.Type != wire.TypeAck || env.RID != "alive" {
		r.t.Fatalf("ping answered %s %q", env.Type, env.RID)
	}
}

func TestBadFrames(t *testing.T) {
	s := startHub(t)
	started, err := client.StartConversation(ctx(t), s.URL(), hub.DemoOrg, "Kim")
	if err != nil {
		t.Fatal(err)
	}
	conv := string(started.Conversation.ID)
	r := rawDial(t, s, started.Token)
	r.send(`{"type":"chat.send","rid":"ok","data":{"conv":"` + conv + `","text":"first","client_id":"k1"}}`)
	if env := r.read(); env.Type != wire.TypeAck {
		t.Fatalf("good send answered %s %s", env.Type, env.Data)
	}
	tests := []struct {
		name, frame string
		code        wire.Code
		rid         string
	}{
		{"oversized frame", `{"type":"chat.send","rid":"big","data":{"conv":"` + conv + `","text":"` + strings.Repeat("x", wire.MaxFrameBytes) + `"}}`, wire.ETOOLARGE, ""},
		{"oversized text", `{"type":"chat.send","rid":"t1","data":{"conv":"` + conv + `","text":"` + strings.Repeat("é", wire.MaxTextBytes/2+1) + `","client_id":"k2"}}`, wire.ETOOLARGE, "t1"},
		{"malformed JSON", `{"type":"chat.send",`, wire.EINVALID, ""},
		{"not an object", `[1,2,3]`, wire.EINVALID, ""},
		{"no type", `{"rid":"n"}`, wire.EINVALID, ""},
		{"unknown type", `{"type":"launch.rockets","rid":"u1"}`, wire.EUNKNOWNTYPE, "u1"},
		{"payload of the wrong shape", `{"type":"chat.send","rid":"w1","data":{"conv":5}}`, wire.EINVALID, "w1"},
		{"missing payload", `{"type":"chat.send","rid":"m1"}`, wire.EINVALID, "m1"},
		{"empty text", `{"type":"chat.send","rid":"e1","data":{"conv":"` + conv + `","text":"  ","client_id":"k3"}}`, wire.EINVALID, "e1"},
		{"second hello", `{"type":"hello","rid":"h2","data":{"token":"x"}}`, wire.EINVALID, "h2"},
		{"wrong conversation", `{"type":"chat.send","rid":"c1","data":{"conv":"c_nope","text":"hi","client_id":"k4"}}`, wire.ENOTFOUND, "c1"},
		{"bad receipt kind", `{"type":"chat.receipt","rid":"r1","data":{"conv":"` + conv + `","seq":1,"kind":"seen"}}`, wire.EINVALID, "r1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r.t = t
			r.send(tt.frame)
			r.wantError(tt.code, tt.rid)
			r.alive()
		})
	}
	r.t = t
	// A binary frame is refused, and the connection survives it too.
	if err := r.ws.Write(ctx(t), websocket.MessageBinary, []byte{1, 2, 3}); err != nil {
		t.Fatal(err)
	}
	r.wantError(wire.EINVALID, "")
	r.alive()
	// Nothing the hub refused was stored.
	r.send(`{"type":"sync","rid":"s","data":{"conv":"` + conv + `","after":0}}`)
	var texts []string
	for {
		_, data, err := r.ws.Read(ctx(t))
		if err != nil {
			t.Fatal(err)
		}
		env, _ := wire.Decode(data)
		if env.RID != "s" {
			continue
		}
		if env.Type == wire.TypeAck {
			break
		}
		var m wire.Message
		env.Unmarshal(&m)
		texts = append(texts, m.Text)
	}
	if len(texts) != 1 || texts[0] != "first" {
		t.Errorf("stored %q; want only \"first\"", texts)
	}
	// A frame past the hard limit ends the connection.
	// (The hub may reset the link before the client has finished writing it.)
	_ = r.ws.Write(ctx(t), websocket.MessageText, []byte(`{"type":"x","data":"`+strings.Repeat("x", 2<<20)+`"}`))
	if _, _, err := r.ws.Read(ctx(t)); err == nil {
		t.Error("the connection survived a 2 MiB frame")
	}
}

func TestHelloRefused(t *testing.T) {
	s := startHub(t)
	tests := []struct {
		name, frame string
		code        wire.Code
	}{
		{"not hello first", `{"type":"ping","rid":"1"}`, wire.EINVALID},
		{"bad token", `{"type":"hello","data":{"token":"nope"}}`, wire.EUNAUTHORIZED},
		{"no token", `{"type":"hello","data":{}}`, wire.EUNAUTHORIZED},
		{"garbage", `hello?`, wire.EINVALID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := rawDial(t, s, "")
			r.send(tt.frame)
			r.wantError(tt.code, "")
			if _, _, err := r.ws.Read(ctx(t)); websocket.CloseStatus(err) != websocket.StatusPolicyViolation {
				t.Errorf("after refused hello: %v; want close %d", err, websocket.StatusPolicyViolation)
			}
		})
	}
}
