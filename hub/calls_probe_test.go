package hub_test

import (
	"net"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/hub"
	"github.com/parleyhq/parley/hub/relay"
	"github.com/parleyhq/parley/wire"
)

// TestCallProbe: while a call rings, its customer gets relay credentials for a network probe
// that relay between the probe's own allocations and nothing else (not the agent's call
// allocation, not a loopback service), lapse when the call is answered, and come a few per
// call; the figures they report reach the agent graded; nobody else may ask or report.
func TestCallProbe(t *testing.T) {
	t.Parallel()
	rg := newCallRig(t, func(c *hub.Config) { c.TURNUDP = "127.0.0.1:0" })
	srv := rg.s.TURN()
	id := rg.invite(t, wire.CallVideo)

	// Only the customer asks, and only for their own call.
	_, err := rg.agent.conn.Request(ctx(t), wire.TypeCallProbe, wire.CallRef{Call: id})
	wantCode(t, "the agent asking for a probe", err, wire.EFORBIDDEN)
	other, _ := customer(t, rg.s, "Eve")
	_, err = other.conn.Request(ctx(t), wire.TypeCallProbe, wire.CallRef{Call: id})
	wantCode(t, "another conversation's customer asking for a probe", err, wire.ENOTFOUND)

	a, err := rg.cust.conn.Request(ctx(t), wire.TypeCallProbe, wire.CallRef{Call: id})
	if err != nil {
		t.Fatalf("call.probe: %v", err)
	}
	ice := a.ICE
	if ice == nil || ice.Policy != "relay" || len(ice.Servers) != 1 {
		t.Fatalf("probe Ack ICE = %+v; want relay-only through the embedded relay", ice)
	}
	exp, who, err := relay.ParseUsername(ice.Servers[0].Username)
	if err != nil || !relay.IsTestID(who) || !strings.Contains(who, string(id)) || time.Until(exp) > relay.TestTTL+time.Second {
		t.Errorf("probe credential names %q, expires in %v (%v); want a test id naming the call, %v at most", who, time.Until(exp), err, relay.TestTTL)
	}

	// The probe: one allocation of it to another, as the browser's two peer connections do.
	p1, err := turnClient(t, srv, ice)
	if err != nil {
		t.Fatalf("probe allocation: %v", err)
	}
	p2, err := turnClient(t, srv, ice)
	if err != nil {
		t.Fatalf("second probe allocation: %v", err)
	}
	// through says whether a datagram from one allocation (or socket) reaches another. The
	// receiver writes first, as ICE's checks both ways do: a TURN allocation takes datagrams only
	// from addresses it has a permission for.
	through := func(from, to net.PacketConn) bool {
		msg := []byte("ping " + to.LocalAddr().String())
		_, _ = to.WriteTo([]byte("open"), from.LocalAddr())
		for range 3 {
			_, _ = from.WriteTo(msg, to.LocalAddr())
			// pion's deadline is a timer one read consumes: set it before each.
			_ = to.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
			buf := make([]byte, 1500)
			if n, _, err := to.ReadFrom(buf); err == nil && string(buf[:n]) == string(msg) {
				return true
			}
		}
		return false
	}
	if !through(p1, p2) {
		t.Fatal("the probe's allocations do not reach each other")
	}

	// Anything else is refused: the agent's own call allocation on the same relay, and a
	// loopback service (a call's credentials may reach it on this loopback-only relay).
	agentAlloc, err := turnClient(t, srv, rg.ringing[rg.agent].ICE)
	if err != nil {
		t.Fatalf("agent allocation: %v", err)
	}
	if through(p1, agentAlloc) {
		t.Error("a probe credential relayed to the agent's call allocation")
	}
	svc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	if through(p1, svc) {
		t.Error("a probe credential relayed to a loopback service")
	}

	// The figures: checked, graded, seen by the agent; nobody else reports them.
	for _, bad := range []wire.CallProbe{
		{Call: id, Reached: true, RTTMs: -1, Transport: "udp"},
		{Call: id, Reached: true, RTTMs: 20, Transport: "carrier-pigeon"},
		{Call: id, Reached: false, Transport: "udp"},
		{Call: id, Reached: true, LossPct: 101, Transport: "udp"},
	} {
		_, err := rg.cust.conn.Request(ctx(t), wire.TypeCallProbeResult, bad)
		wantCode(t, "bad probe figures", err, wire.EINVALID)
	}
	weak := wire.CallProbe{Call: id, Reached: true, RTTMs: 420, LossPct: 0, Transport: "udp", Status: wire.ProbeGood}
	_, err = other.conn.Request(ctx(t), wire.TypeCallProbeResult, weak)
	wantCode(t, "another conversation's customer reporting a probe", err, wire.ENOTFOUND)
	_, err = rg.agent.conn.Request(ctx(t), wire.TypeCallProbeResult, weak)
	wantCode(t, "the agent reporting a probe", err, wire.EFORBIDDEN)
	if _, err := rg.cust.conn.Request(ctx(t), wire.TypeCallProbeResult, weak); err != nil {
		t.Fatalf("call.probe_result: %v", err)
	}
	var seen wire.Call
	for seen.Probe == nil {
		seen = rg.agent.callState(id, wire.CallRinging)
	}
	if p := seen.Probe; p.Status != wire.ProbeWeak || p.RTTMs != 420 || p.Transport != "udp" || p.At == 0 {
		t.Errorf("agent sees probe %+v; want weak (420 ms) whatever the customer claimed", p)
	}

	// A few per call: the conversation's burst (3) is spent after two more.
	for range 2 {
		if _, err := rg.cust.conn.Request(ctx(t), wire.TypeCallProbe, wire.CallRef{Call: id}); err != nil {
			t.Fatalf("call.probe within the burst: %v", err)
		}
	}
	_, err = rg.cust.conn.Request(ctx(t), wire.TypeCallProbe, wire.CallRef{Call: id})
	wantCode(t, "a fourth probe at once", err, wire.ERATELIMITED)

	// Answered: the probe is over; its credentials relay nothing more and allocate nothing.
	rg.answer(t, id, true)
	deadline := time.Now().Add(5 * time.Second)
	for through(p1, p2) {
		if time.Now().After(deadline) {
			t.Fatal("the probe's allocations still relay after the answer")
		}
	}
	if _, err := turnClient(t, srv, ice); err == nil {
		t.Error("a probe credential allocated after the call was answered")
	}
	_, err = rg.cust.conn.Request(ctx(t), wire.TypeCallProbe, wire.CallRef{Call: id})
	wantCode(t, "a probe once answered", err, wire.ECONFLICT)
}
