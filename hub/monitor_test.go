package hub_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/hub"
	"github.com/parleyhq/parley/hub/client"
	"github.com/parleyhq/parley/hub/relay"
	"github.com/parleyhq/parley/wire"
)

// monitorState waits for monitor.state that match accepts.
func (p *peer) monitorState(match func(wire.Monitor) bool) wire.Monitor {
	p.t.Helper()
	return untilData(p, wire.TypeMonitorState, match)
}

// TestMonitorCall: a supervisor listens to an agent's live call, whispers and barges in; the hub
// refuses whoever may not, relays the leg's signalling between its two ends only, hands the
// supervisor the call's relay plan (relay-only for a GCC organisation), tells the customer only
// of a barge, and ends the leg, never the call, when the supervisor's link drops or the call ends.
func TestMonitorCall(t *testing.T) {
	t.Parallel()
	rg := newCallRig(t, func(c *hub.Config) {
		c.TURNUDP = "127.0.0.1:0"
		c.TURNSecret = "test-secret"
	})
	if err := rg.s.SetOrgCalls(ctx(t), hub.DemoOrg, wire.CallsVoiceVideo, "gcc"); err != nil {
		t.Fatal(err)
	}
	if err := rg.s.CreateOrg(ctx(t), "other", "Other Inc"); err != nil {
		t.Fatal(err)
	}
	if _, err := rg.s.CreateMember(ctx(t), "other", "boss", "Other Boss", "pw", wire.RoleSupervisor, 3); err != nil {
		t.Fatal(err)
	}
	login, err := client.Login(ctx(t), rg.s.URL(), "other", "boss", "pw")
	if err != nil {
		t.Fatal(err)
	}
	otherBoss := dial(t, rg.s, login.Token, "other/boss")
	sup := member(t, rg.s, "super1")
	admin := member(t, rg.s, "admin1")
	agent2 := member(t, rg.s, "agent2")
	agentID := rg.agent.conn.Welcome().User.ID

	// No live call yet: nothing to monitor.
	_, err = sup.conn.Request(ctx(t), wire.TypeCallMonitor, wire.CallMonitor{Agent: agentID, Mode: wire.MonitorListen})
	wantCode(t, "listen before the call", err, wire.ENOTFOUND)

	id := rg.invite(t, wire.CallVoice)
	_, err = sup.conn.Request(ctx(t), wire.TypeCallMonitor, wire.CallMonitor{Agent: agentID, Mode: wire.MonitorListen})
	wantCode(t, "listen while it rings", err, wire.ENOTFOUND)
	rg.answer(t, id, false)

	refused := map[string]struct {
		who  *peer
		cm   wire.CallMonitor
		code wire.Code
	}{
		"an agent":                    {agent2, wire.CallMonitor{Agent: agentID, Mode: wire.MonitorListen}, wire.EFORBIDDEN},
		"the agent on the call":       {rg.agent, wire.CallMonitor{Agent: agentID, Mode: wire.MonitorListen}, wire.EFORBIDDEN},
		"the customer":                {rg.cust, wire.CallMonitor{Agent: agentID, Mode: wire.MonitorListen}, wire.EFORBIDDEN},
		"another organisation's boss": {otherBoss, wire.CallMonitor{Agent: agentID, Mode: wire.MonitorBarge}, wire.ENOTFOUND},
		"an agent with no call":       {sup, wire.CallMonitor{Agent: agent2.conn.Welcome().User.ID, Mode: wire.MonitorListen}, wire.ENOTFOUND},
		"an unknown mode":             {sup, wire.CallMonitor{Agent: agentID, Mode: "shout"}, wire.EINVALID},
		"nobody named":                {sup, wire.CallMonitor{Mode: wire.MonitorListen}, wire.ENOTFOUND},
	}
	for name, tt := range refused {
		_, err := tt.who.conn.Request(ctx(t), wire.TypeCallMonitor, tt.cm)
		wantCode(t, name, err, tt.code)
	}
	rg.agent.none(wire.TypeMonitorState, 200*time.Millisecond)

	// Listen: both ends get the leg, each with its own relay-only credentials naming the leg.
	ack, err := sup.conn.Request(ctx(t), wire.TypeCallMonitor, wire.CallMonitor{Agent: agentID, Mode: wire.MonitorListen})
	if err != nil || ack.Monitor == "" || ack.Call != id {
		t.Fatalf("listen: ack %+v, %v; want the monitor and the call", ack, err)
	}
	mon := ack.Monitor
	turnURL := rg.s.TURN().URLs("127.0.0.1")[0]
	for _, p := range []*peer{sup, rg.agent} {
		st := p.monitorState(func(m wire.Monitor) bool { return m.ID == mon })
		if st.Mode != wire.MonitorListen || st.Call != id || st.Conv != rg.conv.ID || st.SupervisorName != "Supervisor One" || st.Ended {
			t.Errorf("%s: monitor.state = %+v", p.name, st)
		}
		if st.ICE == nil || st.ICE.Policy != "relay" || len(st.ICE.Servers) != 1 || st.ICE.Servers[0].URLs[0] != turnURL {
			t.Fatalf("%s: GCC monitor ICE = %+v; want relay-only via the NA relay", p.name, st.ICE)
		}
		if _, who, err := relay.ParseUsername(st.ICE.Servers[0].Username); err != nil || !strings.HasPrefix(who, string(mon)+"/") {
			t.Errorf("%s: TURN username names %q (%v); want the monitor", p.name, who, err)
		}
	}
	// Listening is not announced to the customer.
	rg.cust.none(wire.TypeCallState, 200*time.Millisecond)

	// A second supervisor waits their turn; the first cannot take another call at once.
	_, err = admin.conn.Request(ctx(t), wire.TypeCallMonitor, wire.CallMonitor{Agent: agentID, Mode: wire.MonitorListen})
	wantCode(t, "a second supervisor", err, wire.ECONFLICT)

	// Signalling goes between the leg's two ends only.
	sdp := "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n"
	if _, err := rg.agent.conn.Request(ctx(t), wire.TypeMonitorSignal, wire.MonitorSignal{Monitor: mon, SDP: &wire.SDP{Type: "offer", SDP: sdp}}); err != nil {
		t.Fatal(err)
	}
	var sig wire.MonitorSignal
	sup.next(wire.TypeMonitorSignal, &sig)
	if sig.Monitor != mon || sig.SDP == nil || sig.SDP.Type != "offer" {
		t.Errorf("supervisor got %+v; want the agent's offer", sig)
	}
	cand := &wire.ICECandidate{Candidate: "candidate:1 1 udp 2130706431 127.0.0.1 5000 typ host"}
	if _, err := sup.conn.Request(ctx(t), wire.TypeMonitorSignal, wire.MonitorSignal{Monitor: mon, Candidate: cand}); err != nil {
		t.Fatal(err)
	}
	rg.agent.next(wire.TypeMonitorSignal, &sig)
	if sig.Candidate == nil || sig.Candidate.Candidate != cand.Candidate {
		t.Errorf("agent got %+v; want the supervisor's candidate", sig)
	}
	for name, p := range map[string]*peer{"the customer": rg.cust, "another agent": agent2, "another supervisor": admin, "another organisation": otherBoss} {
		_, err := p.conn.Request(ctx(t), wire.TypeMonitorSignal, wire.MonitorSignal{Monitor: mon, Candidate: cand})
		wantCode(t, name+" signals on the leg", err, wire.ENOTFOUND)
	}

	// Whisper: the agent's app hears of it; the customer still sees nothing.
	if _, err := sup.conn.Request(ctx(t), wire.TypeCallMonitor, wire.CallMonitor{Agent: agentID, Mode: wire.MonitorWhisper}); err != nil {
		t.Fatal(err)
	}
	rg.agent.monitorState(func(m wire.Monitor) bool { return m.ID == mon && m.Mode == wire.MonitorWhisper })
	rg.cust.none(wire.TypeCallState, 200*time.Millisecond)

	// Barge: the customer is told a supervisor joined, in the call's state and the transcript.
	if _, err := sup.conn.Request(ctx(t), wire.TypeCallMonitor, wire.CallMonitor{Agent: agentID, Mode: wire.MonitorBarge}); err != nil {
		t.Fatal(err)
	}
	rg.agent.monitorState(func(m wire.Monitor) bool { return m.ID == mon && m.Mode == wire.MonitorBarge })
	if st := rg.cust.callState(id, wire.CallActive); st.Supervisor != "Supervisor One" {
		t.Errorf("customer's call.state after barge = %+v; want the supervisor named", st)
	}
	if m := rg.cust.systemLine(wire.EventSupervisorJoined); m.Event.Name != "Supervisor One" {
		t.Errorf("joined line = %+v", m)
	}

	// The supervisor's link drops: the leg ends (the customer is told the supervisor left), the
	// call goes on.
	sup.conn.Interrupt()
	if st := rg.agent.monitorState(func(m wire.Monitor) bool { return m.ID == mon && m.Ended }); st.Reason != "supervisor_gone" {
		t.Errorf("leg ended with reason %q; want supervisor_gone", st.Reason)
	}
	if st := rg.cust.callState(id, wire.CallActive); st.Supervisor != "" {
		t.Errorf("customer's call.state after the supervisor went = %+v", st)
	}
	rg.cust.systemLine(wire.EventSupervisorLeft)
	if _, err := rg.cust.conn.Request(ctx(t), wire.TypeCallSignal, wire.CallSignal{Call: id, Candidate: cand}); err != nil {
		t.Errorf("the call after the supervisor's drop: %v", err)
	}
	_, err = rg.agent.conn.Request(ctx(t), wire.TypeMonitorSignal, wire.MonitorSignal{Monitor: mon, Candidate: cand})
	wantCode(t, "signal on the ended leg", err, wire.ENOTFOUND)

	// Another supervisor may now listen; the call's end ends the leg.
	ack, err = admin.conn.Request(ctx(t), wire.TypeCallMonitor, wire.CallMonitor{Agent: agentID, Mode: wire.MonitorListen})
	if err != nil {
		t.Fatalf("admin listens after the first left: %v", err)
	}
	admin.monitorState(func(m wire.Monitor) bool { return m.ID == ack.Monitor && !m.Ended })
	if _, err := rg.agent.conn.Request(ctx(t), wire.TypeCallEnd, wire.CallRef{Call: id}); err != nil {
		t.Fatal(err)
	}
	if st := admin.monitorState(func(m wire.Monitor) bool { return m.ID == ack.Monitor && m.Ended }); st.Reason != "call_ended" || st.ICE != nil {
		t.Errorf("leg at the call's end = %+v; want ended, call_ended, no ICE", st)
	}

	// Stopping a leg: a new call, a listen, then mode "".
	id = rg.invite(t, wire.CallVoice)
	rg.answer(t, id, false)
	ack, err = admin.conn.Request(ctx(t), wire.TypeCallMonitor, wire.CallMonitor{Agent: agentID, Mode: wire.MonitorListen})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.conn.Request(ctx(t), wire.TypeCallMonitor, wire.CallMonitor{Agent: agentID}); err != nil {
		t.Fatal(err)
	}
	if st := rg.agent.monitorState(func(m wire.Monitor) bool { return m.ID == ack.Monitor && m.Ended }); st.Reason != "stopped" {
		t.Errorf("stopped leg's reason = %q", st.Reason)
	}
}

// callStateWhere waits for the call.state of call id that match accepts.
func (p *peer) callStateWhere(id wire.CallID, match func(wire.Call) bool) wire.Call {
	p.t.Helper()
	var st wire.Call
	p.until(wire.TypeCallState, func(env wire.Envelope) bool {
		st = wire.Call{}
		_ = json.Unmarshal(env.Data, &st)
		return st.ID == id && match(st)
	})
	return st
}

// TestMonitorNotice: an organisation that requires a notice has the hub tell the customer and
// the agent when a supervisor starts listening or whispering (a transcript line and the call's
// state), and when they stop; without it, listening tells nobody. Only admins change the setting,
// and the change is audited.
func TestMonitorNotice(t *testing.T) {
	t.Parallel()
	rg := newCallRig(t)
	agent, super, admin := demoToken(t, rg.s, "agent1"), demoToken(t, rg.s, "super1"), demoToken(t, rg.s, "admin1")
	url := rg.s.URL() + "/api/v1/orgs/demo/settings/monitoring"
	for _, tt := range []struct {
		method, token, body string
		status              int
		contains            string
	}{
		{"GET", "", "", 401, "EUNAUTHORIZED"},
		{"GET", agent, "", 200, `{"notice":false}`},
		{"PUT", super, `{"notice":true}`, 403, "EFORBIDDEN"},
		{"PUT", agent, `{"notice":true}`, 403, "EFORBIDDEN"},
		{"PUT", admin, `{"notice":"yes"}`, 400, "EINVALID"},
		{"PUT", admin, `{"notice":true}`, 200, `{"notice":true}`},
		{"GET", super, "", 200, `{"notice":true}`},
	} {
		st, body, _ := httpDo(t, tt.method, url, tt.token, strings.NewReader(tt.body), nil)
		if st != tt.status || !strings.Contains(body, tt.contains) {
			t.Errorf("%s %s = %d %s; want %d containing %s", tt.method, tt.body, st, body, tt.status, tt.contains)
		}
	}
	if st, body, _ := httpDo(t, "GET", rg.s.URL()+"/api/v1/orgs/demo/audit", admin, nil, nil); st != 200 || !strings.Contains(body, hub.AuditMonitoringUpdate) {
		t.Errorf("audit = %d %s; want the setting's change", st, body)
	}

	sup := member(t, rg.s, "super1")
	agentID := rg.agent.conn.Welcome().User.ID
	id := rg.invite(t, wire.CallVoice)
	rg.answer(t, id, false)
	monitor := func(mode wire.MonitorMode) {
		t.Helper()
		if _, err := sup.conn.Request(ctx(t), wire.TypeCallMonitor, wire.CallMonitor{Agent: agentID, Mode: mode}); err != nil {
			t.Fatalf("monitor %q: %v", mode, err)
		}
	}

	// Listening: the customer's call says so (the agent's too), then both read the line.
	monitor(wire.MonitorListen)
	for _, p := range []*peer{rg.cust, rg.agent} {
		p.callStateWhere(id, func(c wire.Call) bool { return c.Monitored && c.State == wire.CallActive })
		if m := p.systemLine(wire.EventSupervisorListening); m.Text != "A supervisor is listening to this call" {
			t.Errorf("%s: listening line = %+v", p.name, m)
		}
	}
	// Whispering is the same notice: nothing new.
	monitor(wire.MonitorWhisper)
	rg.cust.none(wire.TypeChatMessage, 200*time.Millisecond)
	// Barging is told as before, and the call is no longer "listened to".
	monitor(wire.MonitorBarge)
	if st := rg.cust.callStateWhere(id, func(c wire.Call) bool { return c.Supervisor != "" }); st.Monitored {
		t.Errorf("call.state while barging = %+v; want Monitored off", st)
	}
	rg.cust.systemLine(wire.EventSupervisorJoined)
	// Back to listening: the supervisor left the call, and listens (told again).
	monitor(wire.MonitorListen)
	rg.cust.systemLine(wire.EventSupervisorLeft)
	rg.cust.callStateWhere(id, func(c wire.Call) bool { return c.Monitored && c.Supervisor == "" })
	rg.cust.systemLine(wire.EventSupervisorListening)
	// Stopping is told too.
	monitor("")
	for _, p := range []*peer{rg.cust, rg.agent} {
		p.callStateWhere(id, func(c wire.Call) bool { return !c.Monitored })
		p.systemLine(wire.EventSupervisorStoppedListening)
	}

	// Without the notice, the next listening tells nobody.
	if st, body, _ := httpDo(t, "PUT", url, admin, strings.NewReader(`{"notice":false}`), nil); st != 200 {
		t.Fatalf("notice off = %d %s", st, body)
	}
	monitor(wire.MonitorListen)
	sup.monitorState(func(m wire.Monitor) bool { return m.Mode == wire.MonitorListen && !m.Ended })
	rg.cust.none(wire.TypeCallState, 200*time.Millisecond)
	monitor("")
	rg.cust.none(wire.TypeChatMessage, 200*time.Millisecond)
}
