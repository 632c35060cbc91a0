package main

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/parleyhq/parley/app"
	"github.com/parleyhq/parley/hub"
	"github.com/parleyhq/parley/hub/client"
	"github.com/parleyhq/parley/internal/logbuf"
	"github.com/parleyhq/parley/media"
	"github.com/parleyhq/parley/wire"
)

// stamped is an event the agent app emitted, with when.
type stamped struct {
	at   time.Time
	name string
	data any
}

// appEvents is the agent app's Emitter in the test: every event, timestamped.
type appEvents struct {
	mu  sync.Mutex
	evs []stamped
}

func (r *appEvents) Emit(e app.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.evs = append(r.evs, stamped{time.Now(), e.Name, e.Data})
}

// since returns the events called name emitted from t on.
func (r *appEvents) since(t time.Time, name string) []stamped {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []stamped
	for _, e := range r.evs {
		if e.name == name && !e.at.Before(t) {
			out = append(out, e)
		}
	}
	return out
}

// waitApp waits up to d for an event called name, emitted from t on, whose data ok accepts.
func waitApp[T any](t *testing.T, r *appEvents, from time.Time, name string, d time.Duration, ok func(T) bool) T {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		for _, e := range r.since(from, name) {
			if v, isT := e.data.(T); isT && ok(v) {
				return v
			}
		}
		if time.Now().After(deadline) {
			var zero T
			t.Fatalf("the agent app emitted no matching %q event within %v", name, d)
			return zero
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// callCustomer is a portal customer with a pion peer for calls, signalled through the hub the
// way the portal's browser is; its hub client reconnects by itself.
type callCustomer struct {
	conv wire.ConversationID
	conn *client.Conn
	mu   sync.Mutex
	seen []wire.Envelope
	mc   *media.Call
	call wire.CallID
}

func newCallCustomer(ctx context.Context, t *testing.T, url, name string) *callCustomer {
	t.Helper()
	started, err := client.StartConversation(ctx, url, hub.DemoOrg, name)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := client.Dial(ctx, url, started.Token, client.Options{MaxBackoff: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	c := &callCustomer{conv: started.Conversation.ID, conn: conn}
	go func() {
		for ev := range conn.Events() {
			c.mu.Lock()
			c.seen = append(c.seen, ev)
			c.mu.Unlock()
		}
	}()
	return c
}

// wait waits up to d for an event of type typ whose payload ok accepts, from the index from on.
func waitCust[T any](t *testing.T, c *callCustomer, from int, typ wire.Type, d time.Duration, ok func(T) bool) T {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		c.mu.Lock()
		evs := c.seen[min(from, len(c.seen)):]
		c.mu.Unlock()
		for _, ev := range evs {
			var v T
			if ev.Type == typ && ev.Unmarshal(&v) == nil && ok(v) {
				return v
			}
		}
		if time.Now().After(deadline) {
			var zero T
			t.Fatalf("the customer got no matching %s within %v", typ, d)
			return zero
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (c *callCustomer) mark() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.seen)
}

// answer accepts the ringing call with video and applies the agent's SDP and candidates in
// order until ctx ends.
func (c *callCustomer) answer(ctx context.Context, t *testing.T) {
	t.Helper()
	st := waitCust(t, c, 0, wire.TypeCallState, 30*time.Second, func(k wire.Call) bool { return k.State == wire.CallRinging })
	c.call = st.ID
	mc, err := media.NewCall(media.Options{Audio: true, Video: true, Camera: media.TestPatternID,
		Microphone: media.TestPatternID, Speaker: "none"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = mc.Close() })
	c.mc = mc
	mc.OnLocalCandidate(func(cand media.Candidate) {
		ic := &wire.ICECandidate{Candidate: cand.Candidate, SDPMid: cand.SDPMid}
		if cand.SDPMLineIndex != nil {
			i := int(*cand.SDPMLineIndex)
			ic.SDPMLineIndex = &i
		}
		rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		_, _ = c.conn.Request(rctx, wire.TypeCallSignal, wire.CallSignal{Call: c.call, Candidate: ic})
	})
	actx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := c.conn.Request(actx, wire.TypeCallAccept, wire.CallAccept{Call: c.call, Video: true}); err != nil {
		t.Fatalf("customer call.accept: %v", err)
	}
	go c.follow(ctx, t)
}

func (c *callCustomer) follow(ctx context.Context, t *testing.T) {
	next := 0
	for {
		c.mu.Lock()
		evs := c.seen[next:]
		next = len(c.seen)
		c.mu.Unlock()
		for _, ev := range evs {
			var sig wire.CallSignal
			if ev.Type != wire.TypeCallSignal || ev.Unmarshal(&sig) != nil || sig.Call != c.call {
				continue
			}
			switch {
			case sig.SDP != nil && sig.SDP.Type == "offer":
				ans, err := c.mc.HandleOffer(sig.SDP.SDP)
				if err != nil {
					if ctx.Err() == nil {
						t.Errorf("customer HandleOffer: %v", err)
					}
					continue
				}
				rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
				_, _ = c.conn.Request(rctx, wire.TypeCallSignal, wire.CallSignal{Call: c.call, SDP: &wire.SDP{Type: "answer", SDP: ans}})
				cancel()
			case sig.Candidate != nil && sig.Candidate.Candidate != "":
				cand := media.Candidate{Candidate: sig.Candidate.Candidate, SDPMid: sig.Candidate.SDPMid}
				if sig.Candidate.SDPMLineIndex != nil {
					u := uint16(*sig.Candidate.SDPMLineIndex)
					cand.SDPMLineIndex = &u
				}
				_ = c.mc.AddRemoteCandidate(cand)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// frameGaps samples the customer's decoded video frames every 100 ms until stop, and returns
// how many arrived and the longest stretch with none.
func (c *callCustomer) frameGaps(stop <-chan struct{}) (frames int64, longest time.Duration) {
	start := c.mc.Stats().FramesDecoded
	last, lastAt := start, time.Now()
	for {
		select {
		case <-stop:
			return last - start, max(longest, time.Since(lastAt))
		case <-time.After(100 * time.Millisecond):
		}
		if n := c.mc.Stats().FramesDecoded; n > last {
			longest = max(longest, time.Since(lastAt))
			last, lastAt = n, time.Now()
		}
	}
}

// A video call in progress survives the SIGKILL of the node that owns its organisation: three hub
// processes on PostgreSQL behind a load balancer, the desktop app's services as the agent (test
// pattern camera and tone) and a pion peer as the customer. The owner is killed mid-call while
// the customer chats; the next node takes the organisation, keeps the call from the store, both
// sides' signalling reconnects through the balancer, and video keeps arriving at both ends the
// whole time. Then the new owner is drained with SIGTERM mid-call and the call moves again, video
// still flowing. The call holds the agent's capacity on every node: a second customer who waits
// meanwhile is not offered to the agent (never above capacity) until the agent hangs up through
// the third node, which ends the call for the customer too.
func TestClusterCallSurvivesTheOwnersDeath(t *testing.T) {
	dsn, nodes, lb := startCluster(t, "c")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	svc, evs, cust := agentCallsCustomer(ctx, t, lb, "Carla")
	cctx, ccancel := context.WithCancel(ctx)
	defer ccancel()
	cust.answer(cctx, t)
	call := waitApp(t, evs, time.Time{}, app.EventCall, 30*time.Second, func(v *app.CallView) bool {
		return v != nil && v.State == "active" && v.RemoteFrames && v.Connection == "connected"
	})
	deadline := time.Now().Add(30 * time.Second)
	for !cust.mc.State().RemoteVideo || cust.mc.Stats().FramesDecoded < 10 {
		if time.Now().After(deadline) {
			t.Fatal("the customer decodes no video from the agent")
		}
		time.Sleep(50 * time.Millisecond)
	}

	// A second customer waits: the agent, on a call, is at capacity.
	waiting := newCallCustomer(ctx, t, lb.url(), "Dora")
	if _, err := waiting.conn.Send(ctx, waiting.conv, "Anyone there?"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond)

	first, epoch := owner(t, dsn, nodes)
	stopFrames := make(chan struct{})
	type gaps struct {
		frames  int64
		longest time.Duration
	}
	custFrames := make(chan gaps, 1)
	go func() { f, l := cust.frameGaps(stopFrames); custFrames <- gaps{f, l} }()
	killed := time.Now()
	custMark := cust.mark()
	if err := first.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-first.done
	// The customer chats on through the takeover (each send waits for its ack).
	for i := range 3 {
		sctx, scancel := context.WithTimeout(ctx, 30*time.Second)
		if _, err := cust.conn.Send(sctx, cust.conv, fmt.Sprintf("still there %d?", i)); err != nil {
			t.Fatalf("customer send after the kill: %v", err)
		}
		scancel()
	}
	second, epoch2 := owner(t, dsn, nodes)
	if second == first || epoch2 <= epoch {
		t.Fatalf("after the kill the owner is %s epoch %d (was %s epoch %d)", second.url, epoch2, first.url, epoch)
	}
	// Both ends are back on the new owner, which holds the call: the customer gets its state
	// again, and the agent's load is the call's (all of their capacity).
	waitCust(t, cust, custMark, wire.TypeCallState, 30*time.Second, func(k wire.Call) bool {
		return k.ID == call.ID && k.State == wire.CallActive
	})
	custBack := time.Since(killed)
	st := waitApp(t, evs, killed, app.EventAgent, 30*time.Second, func(s wire.AgentState) bool {
		return s.Presence != wire.PresenceOffline && s.OnCall
	})
	agentBack := time.Since(killed)
	if st.Load != st.Capacity {
		t.Errorf("after the takeover the agent's load is %d of %d; want the call to hold all of it", st.Load, st.Capacity)
	}
	// Media for a few seconds more on the new node's watch.
	time.Sleep(3 * time.Second)
	close(stopFrames)
	cf := <-custFrames
	window := time.Since(killed)
	var agentFPS []float64
	for _, e := range evs.since(killed, app.EventCallQuality) {
		if q, ok := e.data.(app.QualityView); ok && q.Call == call.ID {
			agentFPS = append(agentFPS, q.RecvFPS)
		}
	}
	t.Logf("owner %s killed; %s took over (epoch %d→%d); the customer had the call back after %v, the agent after %v (lease %v)",
		first.url, second.url, epoch, epoch2, custBack.Round(time.Millisecond), agentBack.Round(time.Millisecond), clusterTTL)
	t.Logf("in the %v from the kill: the customer decoded %d frames of the agent's video (longest gap %v); the agent's received fps each second: %v",
		window.Round(time.Millisecond), cf.frames, cf.longest.Round(time.Millisecond), agentFPS)
	if cf.frames < int64(window.Seconds()*5) || cf.longest > 2*time.Second {
		t.Errorf("the customer's video across the kill: %d frames in %v, longest gap %v; want it flowing (≥ 5 fps, no gap over 2 s)",
			cf.frames, window.Round(time.Millisecond), cf.longest)
	}
	receiving := 0
	for _, f := range agentFPS {
		if f > 0 {
			receiving++
		}
	}
	if receiving < int(window.Seconds())-2 {
		t.Errorf("the agent received video in %d of the %d quality readings since the kill: %v", receiving, len(agentFPS), agentFPS)
	}
	if custBack > 5*time.Second || agentBack > 5*time.Second {
		t.Errorf("clients back after %v (customer) and %v (agent); want under 5 s", custBack, agentBack)
	}

	// Drain the new owner with SIGTERM mid-call: the organisation moves to the third node at
	// once (no lease to wait out), the call with it, and the video goes on.
	drainMark := cust.mark()
	stopDrain := make(chan struct{})
	drainFrames := make(chan gaps, 1)
	go func() { f, l := cust.frameGaps(stopDrain); drainFrames <- gaps{f, l} }()
	drained := time.Now()
	if err := second.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	var third *node
	for deadline := time.Now().Add(30 * time.Second); ; {
		if n, _ := owner(t, dsn, nodes); n != second && n != first {
			third = n
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the organisation did not move off the drained node within 30 s")
		}
		time.Sleep(50 * time.Millisecond)
	}
	waitCust(t, cust, drainMark, wire.TypeCallState, 30*time.Second, func(k wire.Call) bool {
		return k.ID == call.ID && k.State == wire.CallActive
	})
	waitApp(t, evs, drained, app.EventAgent, 30*time.Second, func(s wire.AgentState) bool {
		return s.Presence != wire.PresenceOffline && s.OnCall && s.Load == s.Capacity
	})
	moved := time.Since(drained)
	time.Sleep(2 * time.Second)
	close(stopDrain)
	df := <-drainFrames
	t.Logf("owner %s drained mid-call; %s took the call over, both ends back after %v; the customer decoded %d frames in the %v from the drain (longest gap %v)",
		second.url, third.url, moved.Round(time.Millisecond), df.frames, time.Since(drained).Round(time.Millisecond), df.longest.Round(time.Millisecond))
	if df.frames < int64(time.Since(drained).Seconds()*5) || df.longest > 2*time.Second {
		t.Errorf("the customer's video across the drain: %d frames, longest gap %v; want it flowing", df.frames, df.longest)
	}
	select {
	case <-second.done:
	case <-time.After(30 * time.Second):
		t.Fatal("the drained node did not exit within 30 s")
	}

	// Never above capacity: no offer reached the agent while the call held their capacity, on
	// any of the three nodes, and no state the hub sent had the load over it.
	for _, e := range evs.since(time.Time{}, app.EventAgent) {
		if s := e.data.(wire.AgentState); s.Load > s.Capacity {
			t.Errorf("the agent's state at %v: load %d over capacity %d", e.at.Format("15:04:05.000"), s.Load, s.Capacity)
		}
	}
	for _, e := range evs.since(time.Time{}, app.EventOffers) {
		for _, o := range e.data.([]app.OfferView) {
			if o.Conv == waiting.conv {
				t.Fatalf("the agent was offered %s's chat at %v while on the call", "Dora", e.at.Format("15:04:05.000"))
			}
		}
	}

	// Hanging up works on the third node: the customer sees the call end, and the capacity it
	// gave back brings the waiting customer's offer.
	hungUp := time.Now()
	if err := svc.Calls.End(); err != nil {
		t.Fatalf("Calls.End after the takeover: %v", err)
	}
	ended := waitCust(t, cust, custMark, wire.TypeCallState, 15*time.Second, func(k wire.Call) bool {
		return k.ID == call.ID && k.State == wire.CallEnded
	})
	if ended.EndedBy != wire.AuthorAgent || ended.Reason != "hangup" {
		t.Errorf("the call ended by %q for %q; want the agent's hangup", ended.EndedBy, ended.Reason)
	}
	waitApp(t, evs, hungUp, app.EventCall, 15*time.Second, func(v *app.CallView) bool { return v == nil })
	waitApp(t, evs, hungUp, app.EventOffers, 15*time.Second, func(o []app.OfferView) bool {
		return len(o) == 1 && o[0].Conv == waiting.conv
	})
	ccancel()
}

// agentCallsCustomer signs agent1 in to the desktop app's services through the balancer, starts a
// customer (a pion peer) named name who asks for a call, and has the agent accept the chat and
// start a video call to them. The app's log is printed if the test fails.
func agentCallsCustomer(ctx context.Context, t *testing.T, lb *balancer, name string) (*app.Services, *appEvents, *callCustomer) {
	t.Helper()
	evs := &appEvents{}
	appLog := &logbuf.Buffer{}
	svc := app.New(app.Config{Emitter: evs, Devices: app.DevicesTestPattern,
		Logger: slog.New(slog.NewTextHandler(appLog, &slog.HandlerOptions{Level: slog.LevelInfo}))})
	t.Cleanup(func() {
		_ = svc.Close()
		if t.Failed() {
			t.Logf("the agent app's log:\n%s", appLog.String())
		}
	})
	if _, err := svc.Session.SignIn(lb.url(), string(hub.DemoOrg), "agent1", hub.DemoPassword); err != nil {
		t.Fatalf("SignIn: %v", err)
	}
	cust := newCallCustomer(ctx, t, lb.url(), name)
	if _, err := cust.conn.Send(ctx, cust.conv, "Can you call me?"); err != nil {
		t.Fatal(err)
	}
	offers := waitApp(t, evs, time.Time{}, app.EventOffers, 30*time.Second, func(o []app.OfferView) bool { return len(o) == 1 })
	if _, err := svc.Offers.Accept(offers[0].ID); err != nil {
		t.Fatalf("Accept: %v", err)
	}
	if _, err := svc.Calls.Start(cust.conv, wire.CallVideo); err != nil {
		t.Fatalf("Calls.Start: %v", err)
	}
	return svc, evs, cust
}

// A call still ringing survives the SIGKILL of its organisation's node too: the agent (the
// desktop app's services) calls the customer (a pion peer), the owner is killed while it rings,
// and the node that takes the organisation over keeps the call ringing. Both sides are back on
// it (the customer sees the same call ringing, the agent is on it and at capacity), the customer
// answers on the new node with the agent's offer its page held from before the kill, video flows
// both ways, and the agent's hang-up ends it for both.
func TestClusterRingingCallSurvivesTheOwnersDeath(t *testing.T) {
	dsn, nodes, lb := startCluster(t, "g")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	svc, evs, cust := agentCallsCustomer(ctx, t, lb, "Rita")
	ringing := waitCust(t, cust, 0, wire.TypeCallState, 30*time.Second, func(k wire.Call) bool { return k.State == wire.CallRinging })
	// The customer's page holds the agent's first offer until they answer.
	waitCust(t, cust, 0, wire.TypeCallSignal, 30*time.Second, func(s wire.CallSignal) bool {
		return s.Call == ringing.ID && s.SDP != nil && s.SDP.Type == "offer"
	})

	first, epoch := owner(t, dsn, nodes)
	custMark := cust.mark()
	killed := time.Now()
	if err := first.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-first.done
	// Both sides come back to the new owner, which rings on: the same call, the agent on it.
	back := waitCust(t, cust, custMark, wire.TypeCallState, 30*time.Second, func(k wire.Call) bool { return k.ID == ringing.ID })
	custBack := time.Since(killed)
	st := waitApp(t, evs, killed, app.EventAgent, 30*time.Second, func(s wire.AgentState) bool {
		return s.Presence != wire.PresenceOffline && s.OnCall
	})
	agentBack := time.Since(killed)
	second, epoch2 := owner(t, dsn, nodes)
	if second == first || epoch2 <= epoch {
		t.Fatalf("after the kill the owner is %s epoch %d (was %s epoch %d)", second.url, epoch2, first.url, epoch)
	}
	t.Logf("owner %s killed while the call rang; %s took over (epoch %d→%d); the customer had the call back after %v (%s), the agent after %v",
		first.url, second.url, epoch, epoch2, custBack.Round(time.Millisecond), back.State, agentBack.Round(time.Millisecond))
	if back.State != wire.CallRinging {
		t.Fatalf("after the takeover the customer's call is %s (%s); want it still ringing", back.State, back.Reason)
	}
	if st.Load != st.Capacity {
		t.Errorf("after the takeover the agent's load is %d of %d; want the ringing call to hold all of it", st.Load, st.Capacity)
	}
	if custBack > 5*time.Second || agentBack > 5*time.Second {
		t.Errorf("clients back after %v (customer) and %v (agent); want under 5 s", custBack, agentBack)
	}

	// The customer answers on the new node: the call connects with the offer held since before
	// the kill, and video flows both ways.
	cctx, ccancel := context.WithCancel(ctx)
	defer ccancel()
	answered := time.Now()
	cust.answer(cctx, t)
	if cust.call != ringing.ID {
		t.Fatalf("the customer answered %s; want %s", cust.call, ringing.ID)
	}
	waitApp(t, evs, answered, app.EventCall, 30*time.Second, func(v *app.CallView) bool {
		return v != nil && v.ID == ringing.ID && v.State == "active" && v.RemoteFrames && v.Connection == "connected"
	})
	deadline := time.Now().Add(30 * time.Second)
	for !cust.mc.State().RemoteVideo || cust.mc.Stats().FramesDecoded < 10 {
		if time.Now().After(deadline) {
			t.Fatal("the customer decodes no video from the agent")
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("answered on %s: the agent receives the customer's video and the customer decodes the agent's %v after the answer",
		second.url, time.Since(answered).Round(time.Millisecond))

	hungUp := time.Now()
	if err := svc.Calls.End(); err != nil {
		t.Fatalf("Calls.End: %v", err)
	}
	ended := waitCust(t, cust, custMark, wire.TypeCallState, 15*time.Second, func(k wire.Call) bool {
		return k.ID == ringing.ID && k.State == wire.CallEnded
	})
	if ended.EndedBy != wire.AuthorAgent || ended.Reason != "hangup" || ended.AnsweredAt == 0 {
		t.Errorf("the call ended by %q for %q (answered at %d); want the agent's hangup of an answered call", ended.EndedBy, ended.Reason, ended.AnsweredAt)
	}
	waitApp(t, evs, hungUp, app.EventCall, 15*time.Second, func(v *app.CallView) bool { return v == nil })
	ccancel()
}
