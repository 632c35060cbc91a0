package hub_test

import (
	"encoding/csv"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/hub"
	"github.com/parleyhq/parley/hub/client"
	"github.com/parleyhq/parley/hub/relay"
	"github.com/parleyhq/parley/wire"
)

// callRig is a hub with fake timers, agent1 connected, and one customer whose conversation
// agent1 accepted.
type callRig struct {
	s     *hub.Server
	clk   *clock
	ft    *fakeTimers
	agent *peer
	cust  *peer
	conv  wire.Conversation
	// ringing are the ringing states the agent and the customer got for the last invite.
	ringing map[*peer]wire.Call
}

func newCallRig(t *testing.T, tweak ...func(*hub.Config)) *callRig {
	t.Helper()
	rg := &callRig{clk: &clock{}, ft: &fakeTimers{}}
	rg.s = startHub(t, append([]func(*hub.Config){func(c *hub.Config) {
		c.Now = rg.clk.now
		c.AfterFunc = rg.ft.AfterFunc
	}}, tweak...)...)
	rg.agent = member(t, rg.s, "agent1")
	rg.cust, rg.conv = customer(t, rg.s, "Carla")
	rg.agent.accept(rg.conv.ID)
	rg.cust.until(wire.TypeConvState, func(env wire.Envelope) bool {
		var c wire.Conversation
		_ = json.Unmarshal(env.Data, &c)
		return c.State == wire.ConvActive
	})
	return rg
}

// invite starts a call of kind and returns its id; both parties must see it ring.
func (rg *callRig) invite(t *testing.T, kind wire.CallKind) wire.CallID {
	t.Helper()
	a, err := rg.agent.conn.Request(ctx(t), wire.TypeCallInvite, wire.CallInvite{Conv: rg.conv.ID, Kind: kind})
	if err != nil {
		t.Fatalf("invite %s: %v", kind, err)
	}
	if a.Call == "" || a.Conv != rg.conv.ID {
		t.Fatalf("invite Ack = %+v; want the call id and conv", a)
	}
	rg.ringing = map[*peer]wire.Call{}
	for _, p := range []*peer{rg.agent, rg.cust} {
		st := p.callState(a.Call, wire.CallRinging)
		rg.ringing[p] = st
		if st.Kind != kind || st.Allowed == "" {
			t.Errorf("%s: ringing state = %+v; want kind %s and the setting", p.name, st, kind)
		}
	}
	// The agent's peer connection is made while it rings; the customer gets no relay
	// credentials before answering.
	if rg.ringing[rg.agent].ICE == nil || rg.ringing[rg.cust].ICE != nil {
		t.Errorf("ringing ICE: agent %+v, customer %+v; want the agent's only", rg.ringing[rg.agent].ICE, rg.ringing[rg.cust].ICE)
	}
	return a.Call
}

// answer accepts call id as the customer and returns the active state the customer got first,
// with its ICE servers.
func (rg *callRig) answer(t *testing.T, id wire.CallID, video bool) wire.Call {
	t.Helper()
	if _, err := rg.cust.conn.Request(ctx(t), wire.TypeCallAccept, wire.CallAccept{Call: id, Video: video}); err != nil {
		t.Fatalf("accept: %v", err)
	}
	st := rg.cust.callState(id, wire.CallActive)
	if st.ICE == nil {
		t.Fatalf("active state for the customer has no ICE: %+v", st)
	}
	return st
}

// callState waits for call.state of id in state.
func (p *peer) callState(id wire.CallID, state wire.CallState) wire.Call {
	p.t.Helper()
	return untilData(p, wire.TypeCallState, func(st wire.Call) bool { return st.ID == id && st.State == state })
}

// agentState waits for an agent.state that match accepts.
func (p *peer) agentState(match func(wire.AgentState) bool) wire.AgentState {
	p.t.Helper()
	return untilData(p, wire.TypeAgentState, match)
}

// systemLine waits for a system message with event kind.
func (p *peer) systemLine(kind wire.EventKind) wire.Message {
	p.t.Helper()
	return untilData(p, wire.TypeChatMessage, func(m wire.Message) bool {
		return m.Author == wire.AuthorSystem && m.Event != nil && m.Event.Kind == kind
	})
}

// fireSoon fires the timers of duration d, waiting (boundedly) for one to be scheduled: the hub
// schedules them on its own goroutine.
func (ft *fakeTimers) fireSoon(t *testing.T, d time.Duration) {
	t.Helper()
	for range 250 {
		if ft.fire(d) > 0 {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no %v timer was scheduled", d)
}

const testSDP = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:0\r\n"

func TestCallAcceptSignalEnd(t *testing.T) {
	t.Parallel()
	rg := newCallRig(t)
	id := rg.invite(t, wire.CallVideo)
	rg.agent.agentState(func(as wire.AgentState) bool { return as.OnCall && as.Load == as.Capacity })

	// The agent's offer goes out at once; the portal holds it until the customer answers.
	if _, err := rg.agent.conn.Request(ctx(t), wire.TypeCallSignal, wire.CallSignal{Call: id, SDP: &wire.SDP{Type: "offer", SDP: testSDP}}); err != nil {
		t.Fatalf("agent offer: %v", err)
	}
	var sig wire.CallSignal
	rg.cust.next(wire.TypeCallSignal, &sig)
	if sig.From != wire.AuthorAgent || sig.SDP == nil || sig.SDP.SDP != testSDP {
		t.Errorf("customer got %+v; want the agent's offer", sig)
	}

	if _, err := rg.agent.conn.Request(ctx(t), wire.TypeCallAccept, wire.CallAccept{Call: id}); wire.ErrorCode(err) != wire.EFORBIDDEN {
		t.Errorf("agent accepting: %v; want EFORBIDDEN", err)
	}
	if _, err := rg.cust.conn.Request(ctx(t), wire.TypeCallAccept, wire.CallAccept{Call: id, Video: true}); err != nil {
		t.Fatalf("accept: %v", err)
	}
	for _, p := range []*peer{rg.agent, rg.cust} {
		st := p.callState(id, wire.CallActive)
		if st.Outcome != wire.OutcomeAcceptedVideo || st.AnsweredAt == 0 {
			t.Errorf("%s: active state = %+v", p.name, st)
		}
		if m := p.systemLine(wire.EventCallStarted); m.Text != "Video call started" || m.Event.CallKind != wire.CallVideo {
			t.Errorf("%s: start line = %q %+v", p.name, m.Text, m.Event)
		}
	}
	if _, err := rg.cust.conn.Request(ctx(t), wire.TypeCallAccept, wire.CallAccept{Call: id}); wire.ErrorCode(err) != wire.ECONFLICT {
		t.Errorf("second accept: %v; want ECONFLICT", err)
	}

	// Answer and candidates flow back; mute state goes both ways with From filled.
	mid, idx := "0", 0
	steps := []struct {
		from, to *peer
		sig      wire.CallSignal
	}{
		{rg.cust, rg.agent, wire.CallSignal{Call: id, SDP: &wire.SDP{Type: "answer", SDP: testSDP}}},
		{rg.cust, rg.agent, wire.CallSignal{Call: id, Candidate: &wire.ICECandidate{Candidate: "candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host", SDPMid: &mid, SDPMLineIndex: &idx}}},
		{rg.agent, rg.cust, wire.CallSignal{Call: id, Candidate: &wire.ICECandidate{Candidate: ""}}},
	}
	for _, st := range steps {
		if _, err := st.from.conn.Request(ctx(t), wire.TypeCallSignal, st.sig); err != nil {
			t.Fatalf("%s signal: %v", st.from.name, err)
		}
		var got wire.CallSignal
		st.to.next(wire.TypeCallSignal, &got)
		if got.From != authorOfPeer(st.from, rg) || (got.SDP == nil) != (st.sig.SDP == nil) {
			t.Errorf("%s got %+v; want %+v from %s", st.to.name, got, st.sig, st.from.name)
		}
	}
	if _, err := rg.cust.conn.Request(ctx(t), wire.TypeCallMedia, wire.CallMedia{Call: id, Muted: true, Video: false}); err != nil {
		t.Fatal(err)
	}
	var cm wire.CallMedia
	rg.agent.next(wire.TypeCallMedia, &cm)
	if cm.From != wire.AuthorCustomer || !cm.Muted || cm.Video {
		t.Errorf("agent got media %+v; want the customer muted, video off", cm)
	}

	// 4 minutes 12 seconds later the customer hangs up.
	rg.clk.advance(4*time.Minute + 12*time.Second)
	if _, err := rg.cust.conn.Request(ctx(t), wire.TypeCallEnd, wire.CallRef{Call: id}); err != nil {
		t.Fatalf("end: %v", err)
	}
	for _, p := range []*peer{rg.agent, rg.cust} {
		st := p.callState(id, wire.CallEnded)
		if st.Outcome != wire.OutcomeAcceptedVideo || st.Reason != "hangup" || st.EndedBy != wire.AuthorCustomer || st.ICE != nil {
			t.Errorf("%s: ended state = %+v", p.name, st)
		}
		m := p.systemLine(wire.EventCallEnded)
		if m.Text != "Call ended · 4:12" || m.Event.DurationMS/1000 != 252 || m.Event.CallKind != wire.CallVideo {
			t.Errorf("%s: end line = %q %+v; want Call ended · 4:12", p.name, m.Text, m.Event)
		}
	}
	rg.agent.agentState(func(as wire.AgentState) bool { return !as.OnCall && as.Load == 1 })
	if _, err := rg.agent.conn.Request(ctx(t), wire.TypeCallSignal, wire.CallSignal{Call: id, SDP: &wire.SDP{Type: "offer", SDP: testSDP}}); wire.ErrorCode(err) != wire.ENOTFOUND {
		t.Errorf("signal after the end: %v; want ENOTFOUND", err)
	}

	// The events survive in the transcript, for a UI that loads history.
	hist, err := rg.cust.conn.History(ctx(t), rg.conv.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	var kinds []wire.EventKind
	for _, m := range hist {
		if m.Event != nil {
			kinds = append(kinds, m.Event.Kind)
		}
	}
	if want := []wire.EventKind{wire.EventJoined, wire.EventCallStarted, wire.EventCallEnded}; !equalKinds(kinds, want) {
		t.Errorf("history events = %v; want %v", kinds, want)
	}
}

func authorOfPeer(p *peer, rg *callRig) wire.Author {
	if p == rg.cust {
		return wire.AuthorCustomer
	}
	return wire.AuthorAgent
}

func equalKinds(a, b []wire.EventKind) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestCallUnanswered(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		hangUp  func(t *testing.T, rg *callRig, id wire.CallID)
		outcome wire.CallOutcome
		reason  string
		event   wire.EventKind
		text    string
	}{
		{"declined", func(t *testing.T, rg *callRig, id wire.CallID) {
			if _, err := rg.agent.conn.Request(ctx(t), wire.TypeCallDecline, wire.CallRef{Call: id}); wire.ErrorCode(err) != wire.EFORBIDDEN {
				t.Errorf("agent declining: %v; want EFORBIDDEN", err)
			}
			if _, err := rg.cust.conn.Request(ctx(t), wire.TypeCallDecline, wire.CallRef{Call: id}); err != nil {
				t.Fatal(err)
			}
		}, wire.OutcomeDeclined, "declined", wire.EventCallDeclined, "Call declined"},
		{"missed", func(t *testing.T, rg *callRig, id wire.CallID) {
			rg.ft.fireSoon(t, hub.DefaultRingTimeout)
		}, wire.OutcomeMissed, "ring_timeout", wire.EventCallMissed, "Missed call"},
		{"cancelled", func(t *testing.T, rg *callRig, id wire.CallID) {
			if _, err := rg.agent.conn.Request(ctx(t), wire.TypeCallEnd, wire.CallRef{Call: id}); err != nil {
				t.Fatal(err)
			}
		}, wire.OutcomeCancelled, "cancelled", wire.EventCallCancelled, "Call cancelled"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rg := newCallRig(t)
			id := rg.invite(t, wire.CallVoice)
			tt.hangUp(t, rg, id)
			for _, p := range []*peer{rg.agent, rg.cust} {
				if st := p.callState(id, wire.CallEnded); st.Outcome != tt.outcome || st.Reason != tt.reason {
					t.Errorf("%s: ended = %+v; want outcome %s, reason %s", p.name, st, tt.outcome, tt.reason)
				}
				if m := p.systemLine(tt.event); m.Text != tt.text {
					t.Errorf("%s: line = %q; want %q", p.name, m.Text, tt.text)
				}
			}
			rg.agent.agentState(func(as wire.AgentState) bool { return !as.OnCall && as.Load == 1 })
			// The conversation can call again.
			rg.invite(t, wire.CallVoice)
		})
	}
}

func TestCallVoiceOnlyOrganisation(t *testing.T) {
	t.Parallel()
	rg := newCallRig(t)
	if err := rg.s.SetOrgCalls(ctx(t), hub.DemoOrg, wire.CallsVoiceOnly, "na"); err != nil {
		t.Fatal(err)
	}
	// The agent sees the new setting on the open conversation.
	rg.agent.until(wire.TypeConvState, func(env wire.Envelope) bool {
		var c wire.Conversation
		_ = json.Unmarshal(env.Data, &c)
		return c.ID == rg.conv.ID && c.Calls == wire.CallsVoiceOnly
	})
	_, err := rg.agent.conn.Request(ctx(t), wire.TypeCallInvite, wire.CallInvite{Conv: rg.conv.ID, Kind: wire.CallVideo})
	wantCode(t, "video invite in a voice-only organisation", err, wire.EFORBIDDEN)
	id := rg.invite(t, wire.CallVoice)
	if st := rg.ringing[rg.cust]; st.Allowed != wire.CallsVoiceOnly {
		t.Errorf("customer's ringing state allows %q; want voice", st.Allowed)
	}
	_, err = rg.cust.conn.Request(ctx(t), wire.TypeCallAccept, wire.CallAccept{Call: id, Video: true})
	wantCode(t, "accept with video in a voice-only organisation", err, wire.EFORBIDDEN)
	if _, err := rg.cust.conn.Request(ctx(t), wire.TypeCallAccept, wire.CallAccept{Call: id}); err != nil {
		t.Fatalf("accept with audio: %v", err)
	}
	if m := rg.agent.systemLine(wire.EventCallStarted); m.Text != "Voice call started" {
		t.Errorf("start line = %q", m.Text)
	}

	// A new agent connection is told the setting in its Welcome.
	again := member(t, rg.s, "agent1")
	if w := again.conn.Welcome(); len(w.Conversations) != 1 || w.Conversations[0].Calls != wire.CallsVoiceOnly {
		t.Errorf("Welcome conversations = %+v; want calls voice", w.Conversations)
	}
	if err := rg.s.SetOrgCalls(ctx(t), hub.DemoOrg, "video_only", ""); wire.ErrorCode(err) != wire.EINVALID {
		t.Errorf("SetOrgCalls(video_only) = %v; want EINVALID", err)
	}
}

func TestCallRefusals(t *testing.T) {
	t.Parallel()
	rg := newCallRig(t)
	agent2 := member(t, rg.s, "agent2")
	super := member(t, rg.s, "super1")
	other, otherConv := customer(t, rg.s, "Otto")
	agent2.accept(otherConv.ID)

	id := rg.invite(t, wire.CallVoice)
	invite := wire.CallInvite{Conv: rg.conv.ID, Kind: wire.CallVoice}
	big := "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n" + strings.Repeat("a=x-filler:0123456789abcdef\r\n", wire.MaxSDPBytes/28)
	neg := -1
	tests := []struct {
		name    string
		p       *peer
		typ     wire.Type
		payload any
		code    wire.Code
	}{
		{"second invite (glare)", rg.agent, wire.TypeCallInvite, invite, wire.ECONFLICT},
		{"invite for another agent's conversation", rg.agent, wire.TypeCallInvite, wire.CallInvite{Conv: otherConv.ID, Kind: wire.CallVoice}, wire.ENOTFOUND},
		{"other agent invites", agent2, wire.TypeCallInvite, invite, wire.ENOTFOUND},
		{"supervisor invites", super, wire.TypeCallInvite, invite, wire.ENOTFOUND},
		{"customer invites", rg.cust, wire.TypeCallInvite, invite, wire.EFORBIDDEN},
		{"bad kind", rg.agent, wire.TypeCallInvite, wire.CallInvite{Conv: rg.conv.ID, Kind: "hologram"}, wire.EINVALID},
		{"other customer accepts", other, wire.TypeCallAccept, wire.CallAccept{Call: id}, wire.ENOTFOUND},
		{"other customer signals", other, wire.TypeCallSignal, wire.CallSignal{Call: id, SDP: &wire.SDP{Type: "offer", SDP: testSDP}}, wire.ENOTFOUND},
		{"other agent ends", agent2, wire.TypeCallEnd, wire.CallRef{Call: id}, wire.ENOTFOUND},
		{"other agent mutes", agent2, wire.TypeCallMedia, wire.CallMedia{Call: id, Muted: true}, wire.ENOTFOUND},
		{"unknown call", rg.cust, wire.TypeCallAccept, wire.CallAccept{Call: "call_nope"}, wire.ENOTFOUND},
		{"state from a client", rg.agent, wire.TypeCallState, wire.Call{ID: id}, wire.EINVALID},
		{"SDP garbage", rg.agent, wire.TypeCallSignal, wire.CallSignal{Call: id, SDP: &wire.SDP{Type: "offer", SDP: "hello, I am not an SDP"}}, wire.EINVALID},
		{"SDP without media", rg.agent, wire.TypeCallSignal, wire.CallSignal{Call: id, SDP: &wire.SDP{Type: "offer", SDP: "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\n"}}, wire.EINVALID},
		{"SDP bad line", rg.agent, wire.TypeCallSignal, wire.CallSignal{Call: id, SDP: &wire.SDP{Type: "offer", SDP: testSDP + "<script>\r\n"}}, wire.EINVALID},
		{"SDP bad type", rg.agent, wire.TypeCallSignal, wire.CallSignal{Call: id, SDP: &wire.SDP{Type: "question", SDP: testSDP}}, wire.EINVALID},
		{"SDP over the limit", rg.agent, wire.TypeCallSignal, wire.CallSignal{Call: id, SDP: &wire.SDP{Type: "offer", SDP: big}}, wire.ETOOLARGE},
		{"neither SDP nor candidate", rg.agent, wire.TypeCallSignal, wire.CallSignal{Call: id}, wire.EINVALID},
		{"candidate garbage", rg.agent, wire.TypeCallSignal, wire.CallSignal{Call: id, Candidate: &wire.ICECandidate{Candidate: "rm -rf /"}}, wire.EINVALID},
		{"candidate bad index", rg.agent, wire.TypeCallSignal, wire.CallSignal{Call: id, Candidate: &wire.ICECandidate{Candidate: "candidate:1 1 udp 1 127.0.0.1 9 typ host", SDPMLineIndex: &neg}}, wire.EINVALID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.p.conn.Request(ctx(t), tt.typ, tt.payload)
			wantCode(t, tt.name, err, tt.code)
		})
	}
	if len(big) <= wire.MaxSDPBytes {
		t.Fatalf("test SDP is %d bytes; want over %d", len(big), wire.MaxSDPBytes)
	}
	// None of it reached the customer, and the call still rings.
	rg.cust.none(wire.TypeCallSignal, 100*time.Millisecond)
	if _, err := rg.cust.conn.Request(ctx(t), wire.TypeCallAccept, wire.CallAccept{Call: id}); err != nil {
		t.Errorf("accept after the refusals: %v", err)
	}
	_, err := rg.agent.conn.Request(ctx(t), wire.TypeCallInvite, invite)
	wantCode(t, "invite during an active call", err, wire.ECONFLICT)
}

func TestCallPartyDisconnects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		answered bool
		// drop closes a party's every connection.
		drop    func(rg *callRig)
		by      wire.Author
		outcome wire.CallOutcome
		event   wire.EventKind
	}{
		{"customer mid-ring", false, func(rg *callRig) { rg.cust.conn.Close() }, wire.AuthorCustomer, wire.OutcomeFailed, wire.EventCallFailed},
		{"customer mid-call", true, func(rg *callRig) { rg.cust.conn.Close() }, wire.AuthorCustomer, wire.OutcomeAcceptedAudio, wire.EventCallEnded},
		{"agent app crash mid-call", true, func(rg *callRig) { rg.agent.conn.Close() }, wire.AuthorAgent, wire.OutcomeAcceptedAudio, wire.EventCallEnded},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rg := newCallRig(t)
			id := rg.invite(t, wire.CallVoice)
			if tt.answered {
				if _, err := rg.cust.conn.Request(ctx(t), wire.TypeCallAccept, wire.CallAccept{Call: id}); err != nil {
					t.Fatal(err)
				}
				rg.agent.callState(id, wire.CallActive)
			}
			tt.drop(rg)
			rg.ft.fireSoon(t, hub.DefaultCallGrace)
			// The party still connected sees the call end; a supervisor sees the agent free.
			stay, sup := rg.agent, member(t, rg.s, "super1")
			if tt.by == wire.AuthorAgent {
				stay = rg.cust
			}
			if st := stay.callState(id, wire.CallEnded); st.Reason != "disconnected" || st.Outcome != tt.outcome || st.EndedBy != tt.by {
				t.Errorf("ended = %+v; want disconnected by %s, outcome %s", st, tt.by, tt.outcome)
			}
			stay.systemLine(tt.event)
			sup.until(wire.TypeSupervisorSnapshot, func(env wire.Envelope) bool {
				var snap wire.Snapshot
				_ = json.Unmarshal(env.Data, &snap)
				for _, a := range snap.Agents {
					if a.DisplayName == "Agent One" {
						return !a.OnCall && a.Load == 1
					}
				}
				return false
			})
		})
	}
}

func TestCallSurvivesReconnectWithinGrace(t *testing.T) {
	t.Parallel()
	rg := newCallRig(t)
	id := rg.invite(t, wire.CallVideo)
	if _, err := rg.agent.conn.Request(ctx(t), wire.TypeCallMedia, wire.CallMedia{Call: id, Muted: true, Video: true}); err != nil {
		t.Fatal(err)
	}
	rg.cust.next(wire.TypeCallMedia, nil)
	rg.cust.conn.Interrupt() // the link drops; the client redials and resumes
	// The reconnected customer is told the call again (still no ICE servers: it rings) and the
	// agent's state.
	if st := rg.cust.callState(id, wire.CallRinging); st.ICE != nil {
		t.Errorf("ringing state after reconnect has ICE: %+v", st)
	}
	var cm wire.CallMedia
	rg.cust.next(wire.TypeCallMedia, &cm)
	if !cm.Muted || cm.From != wire.AuthorAgent {
		t.Errorf("media after reconnect = %+v; want the agent muted", cm)
	}
	rg.ft.fire(hub.DefaultCallGrace) // a grace timer stopped by the reconnect does nothing
	if _, err := rg.cust.conn.Request(ctx(t), wire.TypeCallAccept, wire.CallAccept{Call: id, Video: true}); err != nil {
		t.Fatalf("accept after reconnect: %v", err)
	}
}

func TestCallEndsWithConversation(t *testing.T) {
	t.Parallel()
	rg := newCallRig(t)
	id := rg.invite(t, wire.CallVoice)
	if _, err := rg.cust.conn.Request(ctx(t), wire.TypeCallAccept, wire.CallAccept{Call: id}); err != nil {
		t.Fatal(err)
	}
	if _, err := rg.agent.conn.Request(ctx(t), wire.TypeConvEnd, wire.ConvRef{Conv: rg.conv.ID}); err != nil {
		t.Fatal(err)
	}
	if st := rg.cust.callState(id, wire.CallEnded); st.Reason != "conversation_ended" {
		t.Errorf("ended = %+v; want reason conversation_ended", st)
	}
	rg.cust.systemLine(wire.EventCallEnded)
	if m := rg.cust.systemLine(wire.EventEnded); m.Event.Name != "Agent One" {
		t.Errorf("end line event = %+v; want Agent One", m.Event)
	}
	rg.agent.agentState(func(as wire.AgentState) bool { return !as.OnCall && as.Load == 0 })
}

func TestCallHoldsCapacity(t *testing.T) {
	t.Parallel()
	rg := newCallRig(t)
	super := member(t, rg.s, "super1")
	id := rg.invite(t, wire.CallVoice)
	rg.agent.agentState(func(as wire.AgentState) bool { return as.OnCall && as.Load == 3 && as.Capacity == 3 })

	// agent1 has two free chat slots, but the call holds them: the next customer waits.
	_, conv2 := customer(t, rg.s, "Second")
	rg.agent.none(wire.TypeOffer, 300*time.Millisecond)
	snap := untilData(super, wire.TypeSupervisorSnapshot, func(snap wire.Snapshot) bool { return len(snap.Conversations) == 2 })
	if a := snap.Agents[0]; a.DisplayName != "Agent One" || !a.OnCall || a.Load != 3 {
		t.Errorf("snapshot agent = %+v; want Agent One on a call at load 3", a)
	}
	// A supervisor can still give them a conversation.
	if _, err := super.conn.Request(ctx(t), wire.TypeSupervisorAssign, wire.Assign{Conv: conv2.ID, Agent: snap.Agents[0].ID}); err != nil {
		t.Fatalf("assign during a call: %v", err)
	}
	rg.agent.until(wire.TypeConvState, func(env wire.Envelope) bool {
		var c wire.Conversation
		_ = json.Unmarshal(env.Data, &c)
		return c.ID == conv2.ID && c.State == wire.ConvActive
	})
	_, err := rg.agent.conn.Request(ctx(t), wire.TypeCallInvite, wire.CallInvite{Conv: conv2.ID, Kind: wire.CallVoice})
	wantCode(t, "a second call by an agent on a call", err, wire.ECONFLICT)
	// Hanging up gives the capacity back: two chats of three.
	if _, err := rg.agent.conn.Request(ctx(t), wire.TypeCallEnd, wire.CallRef{Call: id}); err != nil {
		t.Fatal(err)
	}
	rg.agent.agentState(func(as wire.AgentState) bool { return !as.OnCall && as.Load == 2 })
	_, conv3 := customer(t, rg.s, "Third")
	rg.agent.offer(conv3.ID)
}

func TestCallRelayPlans(t *testing.T) {
	t.Parallel()
	eu := relay.Relay{ID: "eu-1", Region: "eu", URLs: []string{"turn:eu1.example.com:3478?transport=udp"}, Secret: "eu-secret"}
	rg := newCallRig(t, func(c *hub.Config) {
		c.TURNUDP = "127.0.0.1:0"
		c.TURNSecret = "test-secret"
		c.Relays = []relay.Relay{eu}
	})
	if rg.s.TURN() == nil || rg.s.TURN().UDPAddr() == nil {
		t.Fatal("no embedded TURN server")
	}
	turnURL := rg.s.TURN().URLs("127.0.0.1")[0]

	// A commercial organisation in North America: direct first, the NA relay to fall back on.
	id := rg.invite(t, wire.CallVoice)
	st := rg.answer(t, id, false)
	if st.ICE.Policy != "all" || len(st.ICE.Servers) != 1 || st.ICE.Servers[0].URLs[0] != turnURL || st.ICE.Servers[0].Username == "" {
		t.Errorf("NA organisation ICE = %+v; want policy all via %s", st.ICE, turnURL)
	}
	if _, err := rg.agent.conn.Request(ctx(t), wire.TypeCallEnd, wire.CallRef{Call: id}); err != nil {
		t.Fatal(err)
	}

	// A government organisation: relay only, through North America, with credentials naming
	// each party.
	if err := rg.s.SetOrgCalls(ctx(t), hub.DemoOrg, wire.CallsVoiceVideo, "gcc"); err != nil {
		t.Fatal(err)
	}
	id = rg.invite(t, wire.CallVideo)
	plans := map[*peer]*wire.ICEConfig{rg.agent: rg.ringing[rg.agent].ICE, rg.cust: rg.answer(t, id, true).ICE}
	for _, p := range []*peer{rg.agent, rg.cust} {
		ice := plans[p]
		if ice.Policy != "relay" || len(ice.Servers) != 1 || ice.Servers[0].URLs[0] != turnURL {
			t.Fatalf("%s: GCC ICE = %+v; want relay-only via the NA relay", p.name, ice)
		}
		_, who, err := relay.ParseUsername(ice.Servers[0].Username)
		if err != nil || !strings.HasPrefix(who, string(id)+"/") {
			t.Errorf("%s: TURN username %q names %q; want the call", p.name, ice.Servers[0].Username, who)
		}
		if ice.Servers[0].Credential != relay.Password("test-secret", ice.Servers[0].Username) {
			t.Errorf("%s: TURN credential does not match the secret", p.name)
		}
	}
}

func TestCallGovernmentWithoutRelayRefused(t *testing.T) {
	t.Parallel()
	rg := newCallRig(t)
	if err := rg.s.SetOrgCalls(ctx(t), hub.DemoOrg, wire.CallsVoiceVideo, "gcc"); err != nil {
		t.Fatal(err)
	}
	_, err := rg.agent.conn.Request(ctx(t), wire.TypeCallInvite, wire.CallInvite{Conv: rg.conv.ID, Kind: wire.CallVoice})
	wantCode(t, "GCC invite without a North-American relay", err, wire.EUNAVAILABLE)
	rg.agent.agentState(func(as wire.AgentState) bool { return !as.OnCall }) // nothing held
}

func TestConversationsReportAndStats(t *testing.T) {
	t.Parallel()
	rg := newCallRig(t)
	// The first customer (named to attack a spreadsheet) talks for 2 min, 30 s of it on a call.
	rg.clk.advance(30 * time.Second)
	id := rg.invite(t, wire.CallVideo)
	if _, err := rg.cust.conn.Request(ctx(t), wire.TypeCallAccept, wire.CallAccept{Call: id, Video: true}); err != nil {
		t.Fatal(err)
	}
	rg.clk.advance(30 * time.Second)
	if _, err := rg.agent.conn.Request(ctx(t), wire.TypeCallEnd, wire.CallRef{Call: id}); err != nil {
		t.Fatal(err)
	}
	rg.clk.advance(60 * time.Second)
	if _, err := rg.agent.conn.Request(ctx(t), wire.TypeConvEnd, wire.ConvRef{Conv: rg.conv.ID}); err != nil {
		t.Fatal(err)
	}
	// A second one, without a call, lasts 1 min.
	c2, conv2 := customer(t, rg.s, "=HYPERLINK(\"http://evil\")")
	rg.agent.accept(conv2.ID)
	c2.next(wire.TypeConvState, nil)
	rg.clk.advance(time.Minute)
	if _, err := c2.conn.Request(ctx(t), wire.TypeConvLeave, wire.ConvRef{Conv: conv2.ID}); err != nil {
		t.Fatal(err)
	}

	super := member(t, rg.s, "super1")
	snap := untilData(super, wire.TypeSupervisorSnapshot, func(snap wire.Snapshot) bool { return snap.Stats.WithCall == 1 && snap.Stats.WithoutCall == 1 })
	st := snap.Stats
	if st.AHTWithCallMS < 120000 || st.AHTWithCallMS > 125000 || st.AHTWithoutCallMS < 60000 || st.AHTWithoutCallMS > 65000 {
		t.Errorf("AHT with call %d ms, without %d ms; want about 120000 and 60000", st.AHTWithCallMS, st.AHTWithoutCallMS)
	}
	if st.Calls[wire.OutcomeAcceptedVideo] != 1 || st.AvgCallMS < 30000 || st.AvgCallMS > 31000 {
		t.Errorf("call stats = %+v; want one accepted_video call of 30 s", st)
	}

	res, err := http.Get(rg.s.URL() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(res.Body)
	res.Body.Close()
	for _, want := range []string{`parley_hub_calls_total{outcome="accepted_video"} 1`, `parley_hub_call_invites_total{kind="video"} 1`, `parley_hub_call_seconds_count{kind="video"} 1`} {
		if !strings.Contains(string(metrics), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}

	get := func(token string, report ...string) (*http.Response, string) {
		path := "/api/v1/orgs/demo/reports/conversations.csv"
		if len(report) > 0 {
			path = "/api/v1/orgs/demo/reports/" + report[0]
		}
		req, _ := http.NewRequest("GET", rg.s.URL()+path, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		return res, string(body)
	}
	for _, tt := range []struct {
		user   string
		status int
	}{{"", 401}, {"agent1", 403}, {"super1", 200}, {"admin1", 200}} {
		token := ""
		if tt.user != "" {
			login, err := client.Login(ctx(t), rg.s.URL(), hub.DemoOrg, tt.user, hub.DemoPassword)
			if err != nil {
				t.Fatal(err)
			}
			token = login.Token
		}
		res, body := get(token)
		if res.StatusCode != tt.status {
			t.Errorf("report as %q: status %d; want %d", tt.user, res.StatusCode, tt.status)
		}
		if tt.status != 200 {
			continue
		}
		if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") {
			t.Errorf("Content-Type = %q", ct)
		}
		recs, err := csv.NewReader(strings.NewReader(body)).ReadAll()
		if err != nil || len(recs) != 3 {
			t.Fatalf("report = %q (%v); want a header and two rows", body, err)
		}
		col := map[string]int{}
		for i, h := range recs[0] {
			col[h] = i
		}
		first, second := recs[1], recs[2]
		if first[col["customer"]] != "Carla" || !about(first[col["handle_time_s"]], 120) || first[col["calls"]] != "1" ||
			first[col["call_kinds"]] != "video" || !about(first[col["call_time_s"]], 30) || first[col["call_outcomes"]] != "accepted_video" {
			t.Errorf("first row = %q", first)
		}
		if second[col["customer"]] != `'=HYPERLINK("http://evil")` || second[col["calls"]] != "0" || !about(second[col["handle_time_s"]], 60) {
			t.Errorf("second row = %q; want the formula defused and no calls", second)
		}
		// One row per call, with its ring time and duration.
		res, body = get(token, "calls.csv")
		recs, err = csv.NewReader(strings.NewReader(body)).ReadAll()
		if res.StatusCode != 200 || err != nil || len(recs) != 2 {
			t.Fatalf("calls.csv = %d %q (%v); want a header and one call", res.StatusCode, body, err)
		}
		if c := recs[1]; c[0] != string(id) || c[3] != "video" || c[4] != "accepted_video" || c[5] != "hangup" || !about(c[11], 30) {
			t.Errorf("calls.csv row = %q", c)
		}
	}
}

// about reports whether a seconds cell is want, give or take the real time the test took (the
// test clock is the real one plus what the test adds).
func about(cell string, want float64) bool {
	got, err := strconv.ParseFloat(cell, 64)
	return err == nil && got >= want && got < want+5
}

func TestCallSettingsAPI(t *testing.T) {
	t.Parallel()
	rg := newCallRig(t)
	do := func(method, token, body string) (int, string) {
		status, answer, _ := httpDo(t, method, rg.s.URL()+"/api/v1/orgs/demo/settings/calls", token, strings.NewReader(body), nil)
		return status, answer
	}
	agent, super, admin := demoToken(t, rg.s, "agent1"), demoToken(t, rg.s, "super1"), demoToken(t, rg.s, "admin1")
	tests := []struct {
		method, token, body string
		status              int
		contains            string
	}{
		{"GET", "", "", 401, "EUNAUTHORIZED"},
		{"GET", agent, "", 200, `{"calls":"voice_video","region":"na"}`},
		{"PUT", super, `{"calls":"voice","region":"gcc"}`, 403, "EFORBIDDEN"},
		{"PUT", admin, `{"calls":"video_only","region":"na"}`, 400, "EINVALID"},
		{"PUT", admin, `{"calls":"voice","region":"mars-1"}`, 200, `"calls":"voice"`},
		{"PUT", admin, `{"calls":"voice","region":"na"}`, 200, `"calls":"voice"`},
		{"GET", super, "", 200, `{"calls":"voice","region":"na"}`},
	}
	for _, tt := range tests {
		if status, body := do(tt.method, tt.token, tt.body); status != tt.status || !strings.Contains(body, tt.contains) {
			t.Errorf("%s %s = %d %s; want %d containing %s", tt.method, tt.body, status, body, tt.status, tt.contains)
		}
	}
	_, err := rg.agent.conn.Request(ctx(t), wire.TypeCallInvite, wire.CallInvite{Conv: rg.conv.ID, Kind: wire.CallVideo})
	wantCode(t, "video invite after the admin chose voice only", err, wire.EFORBIDDEN)
}

// TestCallWithdrawsPendingOffer: an agent considering an offer starts a call in another chat. The
// offer is withdrawn at once (routing offers no new conversation during a call), the chat goes
// to the other agent when one is free, back to the queue when none is, and the agent is told
// which; the customer's first message, written during the call, is no new offer to them.
func TestCallWithdrawsPendingOffer(t *testing.T) {
	t.Parallel()
	rg := newCallRig(t)

	// Only agent1 is online: the withdrawn chat waits in the queue.
	waiting, conv2 := customer(t, rg.s, "Waiting")
	first := rg.agent.offer(conv2.ID)
	// Read in order: the withdrawal comes before the call's ringing state.
	a, err := rg.agent.conn.Request(ctx(t), wire.TypeCallInvite, wire.CallInvite{Conv: rg.conv.ID, Kind: wire.CallVoice})
	if err != nil {
		t.Fatal(err)
	}
	id := a.Call
	var rv wire.OfferRevoked
	rg.agent.until(wire.TypeOfferRevoked, func(env wire.Envelope) bool {
		_ = json.Unmarshal(env.Data, &rv)
		return rv.Offer == first.ID
	})
	if rv.Reason != "call" || rv.Next != "queue" {
		t.Errorf("offer.revoked = %+v; want reason call, next queue", rv)
	}
	if _, err := rg.agent.conn.Request(ctx(t), wire.TypeOfferAccept, wire.OfferRef{Offer: first.ID}); err == nil {
		t.Error("the withdrawn offer could still be accepted")
	}
	// The customer writes while the call rings: no offer (nor its update) reaches agent1.
	if _, err := waiting.conn.Send(ctx(t), conv2.ID, "is anyone there?"); err != nil {
		t.Fatal(err)
	}
	rg.agent.none(wire.TypeOffer, 300*time.Millisecond)

	// agent2 comes online: the waiting chat goes to them.
	agent2 := member(t, rg.s, "agent2")
	agent2.accept(conv2.ID)
	if _, err := rg.agent.conn.Request(ctx(t), wire.TypeCallEnd, wire.CallRef{Call: id}); err != nil {
		t.Fatal(err)
	}

	// Now an offer to agent1 with agent2 free: the call sends it to agent2 straight away.
	setPresence := func(p *peer, pr wire.Presence) {
		if _, err := p.conn.Request(ctx(t), wire.TypePresenceSet, wire.PresenceSet{Presence: pr}); err != nil {
			t.Fatal(err)
		}
	}
	setPresence(agent2, wire.PresenceBusy) // so conv3 is offered to agent1
	_, conv3 := customer(t, rg.s, "Third")
	o3 := rg.agent.offer(conv3.ID)
	setPresence(agent2, wire.PresenceAvailable)
	if _, err := rg.agent.conn.Request(ctx(t), wire.TypeCallInvite, wire.CallInvite{Conv: rg.conv.ID, Kind: wire.CallVideo}); err != nil {
		t.Fatal(err)
	}
	rg.agent.until(wire.TypeOfferRevoked, func(env wire.Envelope) bool {
		_ = json.Unmarshal(env.Data, &rv)
		return rv.Offer == o3.ID
	})
	if rv.Reason != "call" || rv.Next != "agent" {
		t.Errorf("offer.revoked = %+v; want reason call, next agent", rv)
	}
}

// TestCallAnsweringStopsTheRing: the customer answers with video and the browser refuses the
// camera. The ring timeout no longer ends the call as missed; the agent is told the camera is
// blocked; the customer then joins with audio, and the call is an audio one. A customer who
// answered but never joins ends the call as failed, not missed.
func TestCallAnsweringStopsTheRing(t *testing.T) {
	t.Parallel()
	rg := newCallRig(t)
	id := rg.invite(t, wire.CallVideo)
	if _, err := rg.agent.conn.Request(ctx(t), wire.TypeCallAnswering, wire.CallAnswering{Call: id, Video: true}); wire.ErrorCode(err) != wire.EFORBIDDEN {
		t.Errorf("agent sending call.answering: %v; want EFORBIDDEN", err)
	}
	if _, err := rg.cust.conn.Request(ctx(t), wire.TypeCallAnswering, wire.CallAnswering{Call: id, Video: true}); err != nil {
		t.Fatal(err)
	}
	rg.agent.until(wire.TypeCallState, func(env wire.Envelope) bool {
		var c wire.Call
		_ = json.Unmarshal(env.Data, &c)
		return c.ID == id && c.State == wire.CallRinging && c.Answering && c.Problem == ""
	})
	if _, err := rg.cust.conn.Request(ctx(t), wire.TypeCallAnswering, wire.CallAnswering{Call: id, Video: true, Problem: "camera_denied"}); err != nil {
		t.Fatal(err)
	}
	rg.agent.until(wire.TypeCallState, func(env wire.Envelope) bool {
		var c wire.Call
		_ = json.Unmarshal(env.Data, &c)
		return c.ID == id && c.State == wire.CallRinging && c.Answering && c.Problem == "camera_denied"
	})
	// The ring timeout has nothing left to end.
	if n := rg.ft.fire(hub.DefaultRingTimeout); n != 0 {
		t.Errorf("%d ring timers still pending after the customer answered", n)
	}
	rg.agent.none(wire.TypeCallState, 200*time.Millisecond)

	// The customer goes on with audio only: an audio call, the problem cleared.
	st := rg.answer(t, id, false)
	if st.Outcome != wire.OutcomeAcceptedAudio || st.Answering || st.Problem != "" {
		t.Errorf("active state = %+v; want accepted with audio, no longer answering", st)
	}
	if _, err := rg.agent.conn.Request(ctx(t), wire.TypeCallEnd, wire.CallRef{Call: id}); err != nil {
		t.Fatal(err)
	}

	// Answered, then nothing: the call ends as failed after the answer timeout.
	id2 := rg.invite(t, wire.CallVoice)
	if _, err := rg.cust.conn.Request(ctx(t), wire.TypeCallAnswering, wire.CallAnswering{Call: id2, Problem: "microphone_denied"}); err != nil {
		t.Fatal(err)
	}
	rg.ft.fireSoon(t, 2*time.Minute)
	if st := rg.agent.callState(id2, wire.CallEnded); st.Outcome != wire.OutcomeFailed || st.Reason != "answer_timeout" {
		t.Errorf("ended = %+v; want failed, answer_timeout", st)
	}
}
