package hub_test

import (
	"encoding/csv"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/wire"
)

// conversationsCSV reads the conversations report as the supervisor, by conversation id.
func conversationsCSV(t *testing.T, url, tok string) map[string]map[string]string {
	t.Helper()
	req, _ := http.NewRequestWithContext(ctx(t), "GET", url+"/api/v1/orgs/demo/reports/conversations.csv?from=0&to=99999999999999", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	rows, err := csv.NewReader(res.Body).ReadAll()
	if err != nil || len(rows) == 0 {
		t.Fatalf("report: %v (%d rows)", err, len(rows))
	}
	out := map[string]map[string]string{}
	for _, r := range rows[1:] {
		m := map[string]string{}
		for i, h := range rows[0] {
			m[h] = r[i]
		}
		out[m["conversation"]] = m
	}
	return out
}

func TestWrapUpHoldsOffersUntilDoneAndCountsInHandleTime(t *testing.T) {
	vc := newVClock()
	s := idleHub(t, vc, "")
	admin, super := demoToken(t, s, "admin1"), demoToken(t, s, "super1")

	// An organisation that never set the step: the default codes, no hold.
	if status, body := settingsAPI(t, s, "GET", "wrap-up", super, nil); status != 200 || !strings.Contains(body, `"id":"resolved"`) || !strings.Contains(body, `"limit_s":0`) {
		t.Fatalf("default setting = %d %s", status, body)
	}
	for _, tt := range []struct {
		tok    string
		body   wire.WrapUpSettings
		status int
	}{
		{super, wire.WrapUpSettings{LimitSeconds: 60}, 403},
		{admin, wire.WrapUpSettings{LimitSeconds: -1}, 400},
		{admin, wire.WrapUpSettings{LimitSeconds: 99999}, 400},
		{admin, wire.WrapUpSettings{LimitSeconds: 60, Codes: []wire.WrapCode{{ID: "a b", Label: "A"}}}, 400},
		{admin, wire.WrapUpSettings{LimitSeconds: 60, Codes: []wire.WrapCode{{ID: "sold", Label: "Sold"}, {ID: "sold", Label: "Again"}}}, 400},
		{admin, wire.WrapUpSettings{LimitSeconds: 60, Codes: []wire.WrapCode{{ID: "sold", Label: ""}}}, 400},
	} {
		if status, body := settingsAPI(t, s, "PUT", "wrap-up", tt.tok, tt.body); status != tt.status {
			t.Errorf("PUT %+v = %d %s; want %d", tt.body, status, body, tt.status)
		}
	}
	codes := []wire.WrapCode{{ID: "sold", Label: "Sale made"}, {ID: "callback", Label: "Call back"}}
	if status, body := settingsAPI(t, s, "PUT", "wrap-up", admin, wire.WrapUpSettings{LimitSeconds: 60, Codes: codes}); status != 200 || !strings.Contains(body, `"limit_s":60`) {
		t.Fatalf("PUT = %d %s", status, body)
	}

	agent := member(t, s, "agent1") // capacity 3
	cust, conv := chatWith(t, s, agent, "Carla")
	_ = cust
	vc.advance(90 * time.Second)
	if _, err := agent.conn.Request(ctx(t), wire.TypeConvEnd, wire.ConvRef{Conv: conv.ID}); err != nil {
		t.Fatal(err)
	}
	ended := agent.convState(conv.ID, func(c wire.Conversation) bool { return c.State == wire.ConvEnded })
	st := agent.agentState(func(as wire.AgentState) bool { return len(as.WrapUp) == 1 })
	if w := st.WrapUp[0]; w.Conv != conv.ID || w.CustomerName != "Carla" || w.Until != ended.EndedAt+60_000 || !slices.Equal(st.WrapCodes, codes) {
		t.Fatalf("wrap-up due = %+v codes %+v; want Carla's until %d, the organisation's codes", st.WrapUp, st.WrapCodes, ended.EndedAt+60_000)
	}

	// Another agent cannot wrap up Carla's chat.
	other := member(t, s, "agent2")
	if _, err := other.conn.Request(ctx(t), wire.TypePresenceSet, wire.PresenceSet{Presence: wire.PresenceAway}); err != nil {
		t.Fatal(err)
	}
	if _, err := other.conn.Request(ctx(t), wire.TypeConvWrapUp, wire.WrapUpDone{Conv: conv.ID, Code: "sold"}); wire.ErrorCode(err) != wire.ENOTFOUND {
		t.Errorf("another agent's wrap-up: %v; want ENOTFOUND", err)
	}
	_ = other.conn.Close()

	// While the agent wraps up, with capacity free, the next customer waits.
	_, next := customer(t, s, "Dan")
	agent.none(wire.TypeOffer, 300*time.Millisecond)

	// A code not in the list, or an over-long note, is refused and the hold stays.
	for _, bad := range []wire.WrapUpDone{{Conv: conv.ID, Code: "resolved"}, {Conv: conv.ID, Code: "sold", Note: strings.Repeat("x", wire.MaxWrapNote+1)}} {
		if _, err := agent.conn.Request(ctx(t), wire.TypeConvWrapUp, bad); wire.ErrorCode(err) != wire.EINVALID {
			t.Errorf("wrap-up %q: %v; want EINVALID", bad.Code, err)
		}
	}

	vc.advance(25 * time.Second)
	if _, err := agent.conn.Request(ctx(t), wire.TypeConvWrapUp, wire.WrapUpDone{Conv: conv.ID, Code: "sold", Note: " Two licences; invoice by email. "}); err != nil {
		t.Fatalf("wrap-up: %v", err)
	}
	agent.agentState(func(as wire.AgentState) bool { return len(as.WrapUp) == 0 })
	agent.offer(next.ID) // offered at once

	row := conversationsCSV(t, s.URL(), super)[string(conv.ID)]
	if row["wrap_code"] != "sold" || row["wrap_note"] != "Two licences; invoice by email." || row["wrap_time_s"] != "25.0" || row["handle_time_s"] != "115.0" {
		t.Errorf("report row = %v; want sold, the note, 25 s of wrap-up in 115 s of handle time", row)
	}
}

func TestWrapUpTimeIsUpAndALateWrapUpKeepsTheLimit(t *testing.T) {
	vc := newVClock()
	s := idleHub(t, vc, "")
	admin, super := demoToken(t, s, "admin1"), demoToken(t, s, "super1")
	if status, body := settingsAPI(t, s, "PUT", "wrap-up", admin, wire.WrapUpSettings{LimitSeconds: 30}); status != 200 {
		t.Fatalf("PUT = %d %s", status, body)
	}
	agent := member(t, s, "agent1")
	cust, conv := chatWith(t, s, agent, "Carla")
	// The customer leaves: the agent wraps up all the same.
	if _, err := cust.conn.Request(ctx(t), wire.TypeConvLeave, wire.ConvRef{Conv: conv.ID}); err != nil {
		t.Fatal(err)
	}
	agent.agentState(func(as wire.AgentState) bool { return len(as.WrapUp) == 1 })
	_, next := customer(t, s, "Dan")
	agent.none(wire.TypeOffer, 300*time.Millisecond)
	settle(t, agent)
	vc.advance(30 * time.Second)
	agent.agentState(func(as wire.AgentState) bool { return len(as.WrapUp) == 0 })
	agent.offer(next.ID)

	vc.advance(5 * time.Minute)
	if _, err := agent.conn.Request(ctx(t), wire.TypeConvWrapUp, wire.WrapUpDone{Conv: conv.ID, Code: "other", Note: "Left mid-sentence"}); err != nil {
		t.Fatalf("late wrap-up: %v", err)
	}
	row := conversationsCSV(t, s.URL(), super)[string(conv.ID)]
	if row["wrap_code"] != "other" || row["wrap_note"] != "Left mid-sentence" || row["wrap_time_s"] != "30.0" {
		t.Errorf("report row = %v; want other, the note, the 30 s limit as wrap-up time", row)
	}
	// Wrapping up an open conversation is refused.
	if _, err := agent.conn.Request(ctx(t), wire.TypeConvWrapUp, wire.WrapUpDone{Conv: next.ID, Code: "other"}); err == nil {
		t.Error("wrap-up of a conversation not ended was accepted")
	}
}

// queuePos waits for a queue.position that match accepts.
func (p *peer) queuePos(match func(wire.QueuePosition) bool) wire.QueuePosition {
	p.t.Helper()
	return untilData(p, wire.TypeQueuePosition, match)
}

// With every agent away the waiting customer is told nobody is available, and the away agent
// sees how many wait; an agent coming back changes both.
func TestNobodyAvailableAndTheAwayAgentSeesWhoWaits(t *testing.T) {
	s := startHub(t)
	agent := member(t, s, "agent1")
	if _, err := agent.conn.Request(ctx(t), wire.TypePresenceSet, wire.PresenceSet{Presence: wire.PresenceAway}); err != nil {
		t.Fatal(err)
	}
	ann, _ := customer(t, s, "Ann")
	ann.queuePos(func(qp wire.QueuePosition) bool { return qp.Position == 1 && qp.NobodyAvailable })
	agent.agentState(func(as wire.AgentState) bool { return as.Waiting == 1 })
	bob, _ := customer(t, s, "Bob")
	bob.queuePos(func(qp wire.QueuePosition) bool { return qp.Position == 2 && qp.NobodyAvailable })
	agent.agentState(func(as wire.AgentState) bool { return as.Waiting == 2 })

	if _, err := agent.conn.Request(ctx(t), wire.TypePresenceSet, wire.PresenceSet{Presence: wire.PresenceAvailable}); err != nil {
		t.Fatal(err)
	}
	bob.queuePos(func(qp wire.QueuePosition) bool { return !qp.NobodyAvailable })
	agent.until(wire.TypeOffer, func(wire.Envelope) bool { return true })
}
