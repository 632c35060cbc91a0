package hub_test

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/hub"
	"github.com/parleyhq/parley/wire"
)

// visualState waits for p's next visual.state of v in state.
func (p *peer) visualState(v wire.VisualID, state wire.VisualState) wire.Visual {
	p.t.Helper()
	return untilData(p, wire.TypeVisualState, func(got wire.Visual) bool { return got.ID == v && got.State == state })
}

// chatting starts a conversation that agent1 accepts.
func chatting(t *testing.T, s *hub.Server, name string) (agent, cust *peer, conv wire.Conversation) {
	t.Helper()
	agent = member(t, s, "agent1")
	cust, conv = customer(t, s, name)
	agent.accept(conv.ID)
	return agent, cust, conv
}

// invite starts an engagement and returns it as the agent sees it.
func invite(t *testing.T, agent *peer, conv wire.ConversationID, kind wire.VisualKind, pin, session string) wire.Visual {
	t.Helper()
	a, err := agent.conn.Request(ctx(t), wire.TypeVisualInvite, wire.VisualInvite{Conv: conv, Kind: kind, PIN: pin, Session: session})
	if err != nil {
		t.Fatalf("visual.invite: %v", err)
	}
	if a.Visual == "" {
		t.Fatalf("visual.invite Ack has no visual id: %+v", a)
	}
	return agent.visualState(a.Visual, wire.VisualInvited)
}

func TestVisualBuiltinCobrowse(t *testing.T) {
	s := startHub(t)
	agent, cust, conv := chatting(t, s, "Ann")
	v := invite(t, agent, conv.ID, wire.VisualCobrowse, "", "")
	if !regexp.MustCompile(`^[0-9]{6}$`).MatchString(v.PIN) || !v.PINRequired || v.Provider != wire.ProviderBuiltinCobrowse {
		t.Fatalf("agent's invitation = %+v; want a 6-digit PIN, required, built-in co-browse", v)
	}
	if v.PINExpiresAt <= time.Now().UnixMilli() {
		t.Errorf("PINExpiresAt = %d; want in the future", v.PINExpiresAt)
	}
	cv := cust.visualState(v.ID, wire.VisualInvited)
	if cv.PIN != "" || !cv.PINRequired {
		t.Fatalf("customer's invitation = %+v; want no PIN shown, PIN required", cv)
	}

	wrong := "000000"
	if v.PIN == wrong {
		wrong = "111111"
	}
	_, err := cust.conn.Request(ctx(t), wire.TypeVisualAccept, wire.VisualAccept{Visual: v.ID, PIN: wrong})
	wantCode(t, "accept with a wrong PIN", err, wire.EUNAUTHORIZED)
	_, err = agent.conn.Request(ctx(t), wire.TypeVisualEvent, wire.VisualEvent{Visual: v.ID, Seq: 1, Parts: 1, Data: "[]"})
	wantCode(t, "event before accepting", err, wire.EFORBIDDEN) // and from the agent
	if _, err := cust.conn.Request(ctx(t), wire.TypeVisualAccept, wire.VisualAccept{Visual: v.ID, PIN: " " + v.PIN}); err != nil {
		t.Fatalf("accept with the PIN: %v", err)
	}
	agent.visualState(v.ID, wire.VisualActive)
	cust.visualState(v.ID, wire.VisualActive)

	// The page goes to the agent; the pointer to the customer.
	ev := wire.VisualEvent{Visual: v.ID, Seq: 1, Parts: 1, Data: `[{"type":2}]`}
	if _, err := cust.conn.Request(ctx(t), wire.TypeVisualEvent, ev); err != nil {
		t.Fatalf("visual.event: %v", err)
	}
	var gotEv wire.VisualEvent
	agent.next(wire.TypeVisualEvent, &gotEv)
	if gotEv != ev {
		t.Errorf("agent got event %+v; want %+v", gotEv, ev)
	}
	big := ev
	big.Data = strings.Repeat("x", wire.MaxVisualEventBytes+1)
	_, err = cust.conn.Request(ctx(t), wire.TypeVisualEvent, big)
	wantCode(t, "oversized event", err, wire.ETOOLARGE)
	bad := ev
	bad.Part, bad.Parts = 3, 2
	_, err = cust.conn.Request(ctx(t), wire.TypeVisualEvent, bad)
	wantCode(t, "event part out of range", err, wire.EINVALID)

	if _, err := agent.conn.Request(ctx(t), wire.TypeVisualPointer, wire.VisualPointer{Visual: v.ID, X: 0.25, Y: 0.5, Visible: true}); err != nil {
		t.Fatalf("visual.pointer: %v", err)
	}
	var ptr wire.VisualPointer
	cust.next(wire.TypeVisualPointer, &ptr)
	if ptr.X != 0.25 || ptr.Y != 0.5 || !ptr.Visible {
		t.Errorf("customer got pointer %+v", ptr)
	}
	_, err = agent.conn.Request(ctx(t), wire.TypeVisualPointer, wire.VisualPointer{Visual: v.ID, X: 2, Y: 0.5})
	wantCode(t, "pointer off the view", err, wire.EINVALID)

	// Commands need the customer's consent, and stop when it is taken back.
	cmd := wire.VisualCommand{Visual: v.ID, Action: wire.ActionType, Node: 12, Text: "hello"}
	_, err = agent.conn.Request(ctx(t), wire.TypeVisualCommand, cmd)
	wantCode(t, "command without control", err, wire.EFORBIDDEN)
	if _, err := cust.conn.Request(ctx(t), wire.TypeVisualControl, wire.VisualControl{Visual: v.ID, Granted: true}); err != nil {
		t.Fatalf("visual.control: %v", err)
	}
	if got := agent.visualState(v.ID, wire.VisualActive); !got.Control {
		t.Errorf("agent's state after the grant = %+v; want control", got)
	}
	if _, err := agent.conn.Request(ctx(t), wire.TypeVisualCommand, cmd); err != nil {
		t.Fatalf("command with control: %v", err)
	}
	var gotCmd wire.VisualCommand
	cust.next(wire.TypeVisualCommand, &gotCmd)
	if gotCmd != cmd {
		t.Errorf("customer got command %+v; want %+v", gotCmd, cmd)
	}
	// The customer's page refuses it (a masked field, say): the agent learns why.
	res := wire.VisualResult{Visual: v.ID, Action: wire.ActionType, Code: wire.EFORBIDDEN}
	if _, err := cust.conn.Request(ctx(t), wire.TypeVisualResult, res); err != nil {
		t.Fatalf("visual.result: %v", err)
	}
	var gotRes wire.VisualResult
	agent.next(wire.TypeVisualResult, &gotRes)
	if gotRes != res {
		t.Errorf("agent got result %+v; want %+v", gotRes, res)
	}
	_, err = cust.conn.Request(ctx(t), wire.TypeVisualResult, wire.VisualResult{Visual: v.ID, Action: wire.ActionType, Code: "EWHATEVER"})
	wantCode(t, "result with an unknown code", err, wire.EINVALID)
	_, err = cust.conn.Request(ctx(t), wire.TypeVisualResult, wire.VisualResult{Visual: v.ID, Action: "format-disk", Code: wire.EINVALID})
	wantCode(t, "result of an unknown action", err, wire.EINVALID)
	_, err = agent.conn.Request(ctx(t), wire.TypeVisualResult, res)
	wantCode(t, "result from the agent", err, wire.EFORBIDDEN)
	_, err = agent.conn.Request(ctx(t), wire.TypeVisualCommand, wire.VisualCommand{Visual: v.ID, Action: wire.ActionNavigate, URL: "javascript:alert(1)"})
	wantCode(t, "navigate to javascript:", err, wire.EINVALID)
	if _, err := cust.conn.Request(ctx(t), wire.TypeVisualControl, wire.VisualControl{Visual: v.ID, Granted: false}); err != nil {
		t.Fatalf("visual.control off: %v", err)
	}
	_, err = agent.conn.Request(ctx(t), wire.TypeVisualCommand, cmd)
	wantCode(t, "command after control was taken back", err, wire.EFORBIDDEN)

	// The customer stops at any time.
	if _, err := cust.conn.Request(ctx(t), wire.TypeVisualStop, wire.VisualRef{Visual: v.ID}); err != nil {
		t.Fatalf("visual.stop: %v", err)
	}
	if got := agent.visualState(v.ID, wire.VisualEnded); got.EndedBy != wire.AuthorCustomer || got.Reason != "stopped" {
		t.Errorf("ended = %+v; want by the customer, stopped", got)
	}
	_, err = cust.conn.Request(ctx(t), wire.TypeVisualEvent, ev)
	wantCode(t, "event after stop", err, wire.ENOTFOUND)
}

func TestVisualOtherConversation(t *testing.T) {
	s := startHub(t)
	agent, _, conv := chatting(t, s, "Ann")
	v := invite(t, agent, conv.ID, wire.VisualCobrowse, "", "")
	other, _ := customer(t, s, "Mallory")
	agent2 := member(t, s, "agent2")
	for _, tc := range []struct {
		who *peer
		typ wire.Type
		msg any
	}{
		{other, wire.TypeVisualAccept, wire.VisualAccept{Visual: v.ID, PIN: v.PIN}},
		{other, wire.TypeVisualDecline, wire.VisualRef{Visual: v.ID}},
		{other, wire.TypeVisualEvent, wire.VisualEvent{Visual: v.ID, Seq: 1, Parts: 1, Data: "[]"}},
		{other, wire.TypeVisualControl, wire.VisualControl{Visual: v.ID, Granted: true}},
		{other, wire.TypeVisualResult, wire.VisualResult{Visual: v.ID, Action: wire.ActionClick, Code: wire.EFORBIDDEN}},
		{agent2, wire.TypeVisualStop, wire.VisualRef{Visual: v.ID}},
		{agent2, wire.TypeVisualPointer, wire.VisualPointer{Visual: v.ID, X: 0.5, Y: 0.5}},
		{agent2, wire.TypeVisualCommand, wire.VisualCommand{Visual: v.ID, Action: wire.ActionClick, Node: 1}},
	} {
		t.Run(tc.who.name+" "+string(tc.typ), func(t *testing.T) {
			_, err := tc.who.conn.Request(ctx(t), tc.typ, tc.msg)
			wantCode(t, string(tc.typ), err, wire.ENOTFOUND)
		})
	}
	_, err := agent2.conn.Request(ctx(t), wire.TypeVisualInvite, wire.VisualInvite{Conv: conv.ID, Kind: wire.VisualCobrowse})
	wantCode(t, "another agent invites", err, wire.ENOTFOUND)
	// The invitation is untouched.
	agent.none(wire.TypeVisualState, 200*time.Millisecond)
}

func TestVisualPINExpiresAndAttempts(t *testing.T) {
	clk := &clock{}
	s := startHub(t, func(c *hub.Config) { c.Now = clk.now })
	agent, cust, conv := chatting(t, s, "Ann")

	v := invite(t, agent, conv.ID, wire.VisualScreenShare, "", "")
	clk.advance(hub.PINTTL + time.Second)
	_, err := cust.conn.Request(ctx(t), wire.TypeVisualAccept, wire.VisualAccept{Visual: v.ID, PIN: v.PIN})
	wantCode(t, "accept with an expired PIN", err, wire.ECONFLICT)
	if got := cust.visualState(v.ID, wire.VisualEnded); got.Reason != "pin_expired" {
		t.Errorf("ended reason = %q; want pin_expired", got.Reason)
	}

	v = invite(t, agent, conv.ID, wire.VisualScreenShare, "", "")
	wrong := "000000"
	if v.PIN == wrong {
		wrong = "111111"
	}
	for i := range wire.MaxPINAttempts {
		_, err := cust.conn.Request(ctx(t), wire.TypeVisualAccept, wire.VisualAccept{Visual: v.ID, PIN: wrong})
		wantCode(t, "wrong PIN", err, wire.EUNAUTHORIZED)
		_ = i
	}
	if got := agent.visualState(v.ID, wire.VisualEnded); got.Reason != "pin_attempts" {
		t.Errorf("ended reason = %q; want pin_attempts", got.Reason)
	}
	_, err = cust.conn.Request(ctx(t), wire.TypeVisualAccept, wire.VisualAccept{Visual: v.ID, PIN: v.PIN})
	wantCode(t, "right PIN after too many wrong ones", err, wire.ENOTFOUND)
}

func TestVisualEndsWithConversation(t *testing.T) {
	s := startHub(t)
	agent, cust, conv := chatting(t, s, "Ann")
	v := invite(t, agent, conv.ID, wire.VisualCobrowse, "", "")
	_, err := agent.conn.Request(ctx(t), wire.TypeVisualInvite, wire.VisualInvite{Conv: conv.ID, Kind: wire.VisualScreenShare})
	wantCode(t, "second engagement", err, wire.ECONFLICT)
	if _, err := agent.conn.Request(ctx(t), wire.TypeConvEnd, wire.ConvRef{Conv: conv.ID}); err != nil {
		t.Fatal(err)
	}
	if got := cust.visualState(v.ID, wire.VisualEnded); got.Reason != "conversation_ended" {
		t.Errorf("reason = %q; want conversation_ended", got.Reason)
	}
}

func TestVisualSettingsAPIAndExternalProvider(t *testing.T) {
	s := startHub(t)
	admin, agentTok := demoToken(t, s, "admin1"), demoToken(t, s, "agent1")
	watcher := member(t, s, "agent2")
	var first wire.VisualSettings
	watcher.next(wire.TypeVisualSettings, &first)
	if first != hub.DefaultVisualSettings {
		t.Errorf("settings before any choice = %+v; want the built-in providers", first)
	}
	// The watcher only watches: away, so the conversation below is offered to agent1 (as
	// available agents tie, routing would otherwise pick whichever waited longest).
	if _, err := watcher.conn.Request(ctx(t), wire.TypePresenceSet, wire.PresenceSet{Presence: wire.PresenceAway}); err != nil {
		t.Fatal(err)
	}
	ext := wire.VisualSettings{
		Cobrowse: wire.ProviderConfig{Provider: wire.ProviderExternal, External: &wire.ExternalProvider{
			Name: "AcmeView", SignInURL: "https://acme.example/login", SessionURL: "https://acme.example/api/sessions",
			SessionIDPointer: "/id", PINPointer: "/pin", JoinURL: "https://acme.example/join/{session}?pin={pin}"}},
		ScreenShare: wire.ProviderConfig{},
	}
	for _, tc := range []struct {
		name   string
		method string
		token  string
		body   any
		want   int
	}{
		{"no token", "GET", "", nil, 401},
		{"agent reads", "GET", agentTok, nil, 200},
		{"agent writes", "PUT", agentTok, ext, 403},
		{"javascript sign-in", "PUT", admin, wire.VisualSettings{Cobrowse: wire.ProviderConfig{Provider: wire.ProviderExternal,
			External: &wire.ExternalProvider{Name: "X", SignInURL: "javascript:alert(1)", JoinURL: "https://x.example/{pin}"}}}, 400},
		{"plain http session url", "PUT", admin, wire.VisualSettings{Cobrowse: wire.ProviderConfig{Provider: wire.ProviderExternal,
			External: &wire.ExternalProvider{Name: "X", SignInURL: "https://x.example/login", SessionURL: "http://x.example/api/sessions",
				PINPointer: "/pin", JoinURL: "https://x.example/{pin}"}}}, 400},
		{"builtin of the wrong kind", "PUT", admin, wire.VisualSettings{Cobrowse: wire.ProviderConfig{Provider: wire.ProviderBuiltinScreenShare}}, 400},
		{"external without settings", "PUT", admin, wire.VisualSettings{ScreenShare: wire.ProviderConfig{Provider: wire.ProviderExternal}}, 400},
		{"admin writes", "PUT", admin, ext, 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if code, body := settingsAPI(t, s, tc.method, "visual", tc.token, tc.body); code != tc.want {
				t.Errorf("%s = %d %s; want %d", tc.method, code, body, tc.want)
			}
		})
	}
	var live wire.VisualSettings
	watcher.next(wire.TypeVisualSettings, &live)
	if live.Cobrowse.Provider != wire.ProviderExternal || live.ScreenShare.Provider != wire.ProviderNone {
		t.Errorf("settings pushed after the change = %+v", live)
	}
	code, body := settingsAPI(t, s, "GET", "visual", agentTok, nil)
	var got wire.VisualSettings
	if err := json.Unmarshal([]byte(body), &got); err != nil || code != 200 || got.Cobrowse.External == nil || got.Cobrowse.External.Name != "AcmeView" {
		t.Fatalf("GET after PUT = %d %s", code, body)
	}

	agent, cust, conv := chatting(t, s, "Ann")
	_, err := agent.conn.Request(ctx(t), wire.TypeVisualInvite, wire.VisualInvite{Conv: conv.ID, Kind: wire.VisualScreenShare})
	wantCode(t, "screen share with no provider", err, wire.EFORBIDDEN)
	v := invite(t, agent, conv.ID, wire.VisualCobrowse, "4711", "s 1")
	if v.Provider != wire.ProviderExternal || v.ProviderName != "AcmeView" || v.JoinURL != "https://acme.example/join/s%201?pin={pin}" || v.PIN != "4711" {
		t.Fatalf("external invitation = %+v", v)
	}
	_, err = cust.conn.Request(ctx(t), wire.TypeVisualAccept, wire.VisualAccept{Visual: v.ID, PIN: "4712"})
	wantCode(t, "wrong provider PIN", err, wire.EUNAUTHORIZED)
	if _, err := cust.conn.Request(ctx(t), wire.TypeVisualAccept, wire.VisualAccept{Visual: v.ID, PIN: "4711"}); err != nil {
		t.Fatalf("accept: %v", err)
	}
	agent.visualState(v.ID, wire.VisualActive)
	_, err = cust.conn.Request(ctx(t), wire.TypeVisualEvent, wire.VisualEvent{Visual: v.ID, Seq: 1, Parts: 1, Data: "[]"})
	wantCode(t, "events in an external engagement", err, wire.EFORBIDDEN)
}

// A government organisation's screen must go through a North-American relay: with none, the
// built-in screen share is refused at the invitation, before the customer is asked anything.
func TestVisualScreenShareGovernmentWithoutRelayRefused(t *testing.T) {
	s := startHub(t)
	agent, _, conv := chatting(t, s, "Gov")
	if err := s.SetOrgCalls(ctx(t), hub.DemoOrg, wire.CallsVoiceVideo, "gcc"); err != nil {
		t.Fatal(err)
	}
	_, err := agent.conn.Request(ctx(t), wire.TypeVisualInvite, wire.VisualInvite{Conv: conv.ID, Kind: wire.VisualScreenShare})
	wantCode(t, "GCC screen share without a relay", err, wire.EUNAVAILABLE)
	// Co-browse carries no media: it is still offered.
	invite(t, agent, conv.ID, wire.VisualCobrowse, "", "")
}
