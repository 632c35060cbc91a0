package resilience

import (
	"fmt"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley/media"
	"github.com/parleyhq/parley/resilience/chatsim"
)

// callNet is a call between two peer processes in their own namespaces, joined only through the
// delaying relay; the test carries their signalling (as the hub would) and rewrites candidates.
type callNet struct {
	t            *testing.T
	nsA, nsB     *netns
	linkA, linkB *link
	r            *relay
	a, b         *peer

	mu sync.Mutex
	// ipA and ipB are the peers' current addresses.
	ipA, ipB string
	// stats receives stats answers, by peer.
	stats map[*peer]chan media.Stats
	// held, while set, keeps signalling from reaching the peers (the hub link is down); pending
	// holds it in order until released.
	held    bool
	pending []func()
}

// holdSignalling stops carrying signalling between the peers, as a hub outage would.
func (c *callNet) holdSignalling() {
	c.mu.Lock()
	c.held = true
	c.mu.Unlock()
}

// releaseSignalling delivers what was held, in order, and carries signalling again.
func (c *callNet) releaseSignalling() {
	c.mu.Lock()
	c.held = false
	pending := c.pending
	c.pending = nil
	c.mu.Unlock()
	for _, f := range pending {
		f()
	}
}

// deliver runs f now, or later if signalling is held.
func (c *callNet) deliver(f func()) {
	c.mu.Lock()
	if c.held {
		c.pending = append(c.pending, f)
		c.mu.Unlock()
		return
	}
	c.mu.Unlock()
	f()
}

// newCallNet builds the namespaces, veths and relay (oneWay delay each way), starts both peers
// and has A call B.
func newCallNet(t *testing.T, oneWay time.Duration) *callNet {
	t.Helper()
	c := &callNet{t: t, nsA: newNetns(t), nsB: newNetns(t)}
	c.linkA, c.linkB = connect(t, nil, c.nsA), connect(t, nil, c.nsB)
	c.ipA, c.ipB = c.linkA.ipB, c.linkB.ipB
	c.r = newRelay(t, oneWay, c.linkA.ipA, c.linkB.ipA)
	c.a, c.b = startPeer(t, "A", c.nsA), startPeer(t, "B", c.nsB)
	c.stats = map[*peer]chan media.Stats{c.a: make(chan media.Stats, 1), c.b: make(chan media.Stats, 1)}
	go c.carry(c.a, c.b)
	go c.carry(c.b, c.a)
	c.a.send(peerMsg{Op: "offer"})
	return c
}

// carry takes from's events to to: SDP without candidates, candidates rewritten to the relay.
func (c *callNet) carry(from, to *peer) {
	for {
		var m peerMsg
		select {
		case m = <-from.events:
		case <-from.exited:
			return
		}
		switch m.Ev {
		case "sdp":
			op := "handle-offer"
			if m.Type == "answer" {
				op = "handle-answer"
			}
			msg := peerMsg{Op: op, SDP: stripCandidates(m.SDP)}
			c.deliver(func() { to.send(msg) })
		case "cand":
			c.mu.Lock()
			toward := c.ipB
			if to == c.a {
				toward = c.ipA
			}
			c.mu.Unlock()
			line := c.r.rewrite(m.Cand.Candidate, toward)
			if debug {
				c.t.Logf("%s candidate %q → %q", from.name, m.Cand.Candidate, line)
			}
			if line != "" {
				cand := *m.Cand
				cand.Candidate = line
				c.deliver(func() { to.send(peerMsg{Op: "cand", Cand: &cand}) })
			}
		case "stats":
			select {
			case c.stats[from] <- *m.Stats:
			default:
			}
		case "error":
			c.t.Logf("%s: %s", from.name, m.Err)
		}
	}
}

// statsOf asks a peer for its media.Stats.
func (c *callNet) statsOf(p *peer) media.Stats {
	p.send(peerMsg{Op: "stats"})
	select {
	case s := <-c.stats[p]:
		return s
	case <-time.After(5 * time.Second):
		c.t.Fatalf("%s sent no stats", p.name)
		return media.Stats{}
	}
}

// waitFrames waits until both peers decode frames captured after since, and returns when each
// first did.
func (c *callNet) waitFrames(t *testing.T, since time.Time, timeout time.Duration, what string) (a, b time.Time) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		fa, fb := c.a.framesMadeSince(since), c.b.framesMadeSince(since)
		if len(fa) >= 3 && len(fb) >= 3 {
			return fa[0], fb[0]
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s: no frames on both sides within %v (A %d, B %d; states A %s, B %s)", what, timeout,
		len(c.a.framesMadeSince(since)), len(c.b.framesMadeSince(since)), c.a.connState(), c.b.connState())
	return
}

// flow summarises the frames a peer decoded in [from, to).
type flow struct {
	fps    float64
	freeze time.Duration // longest gap between decoded frames (or the window's edge)
	frames int
}

func flowOf(p *peer, from, to time.Time) flow {
	var ts []time.Time
	for _, at := range p.frameTimes(from) {
		if at.Before(to) {
			ts = append(ts, at)
		}
	}
	f := flow{frames: len(ts), fps: float64(len(ts)) / to.Sub(from).Seconds()}
	prev := from
	for _, at := range append(ts, to) {
		f.freeze = max(f.freeze, at.Sub(prev))
		prev = at
	}
	return f
}

func (f flow) String() string {
	return fmt.Sprintf("%.1f fps, longest freeze %v (%d frames)", f.fps, f.freeze.Round(time.Millisecond), f.frames)
}

func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	ds = slices.Clone(ds)
	slices.Sort(ds)
	return ds[len(ds)/2]
}

// TestCallUnderLossAndDelay: a 320x240@30 video call with audio, 10% loss each way (nftables in
// each peer's namespace) and 200 ms RTT (the relay holds packets 100 ms each way) keeps flowing.
// It reports frame rate, longest freeze and glass-to-glass latency on both sides.
func TestCallUnderLossAndDelay(t *testing.T) {
	needNetns(t)
	const window = 20 * time.Second
	c := newCallNet(t, 100*time.Millisecond)
	c.nsA.impairOneWay(10)
	c.nsB.impairOneWay(10)
	start := time.Now()
	fa, fb := c.waitFrames(t, start, 30*time.Second, "call setup at 10% loss, 200 ms RTT")
	t.Logf("first frames after %v (A) and %v (B)", fa.Sub(start).Round(time.Millisecond), fb.Sub(start).Round(time.Millisecond))
	time.Sleep(3 * time.Second) // congestion control settles
	c.statsOf(c.a)              // rates in Stats are since the previous call: start the window
	c.statsOf(c.b)
	from := time.Now()
	time.Sleep(window)
	to := time.Now()
	for _, p := range []*peer{c.a, c.b} {
		f := flowOf(p, from, to)
		st := c.statsOf(p)
		t.Logf("%s receives over %v: %s; glass-to-glass median %v; RTT %v, loss %.1f%%, receive %d kbit/s, send target %d kbit/s",
			p.name, window, f, median(p.glassToGlass()).Round(time.Millisecond), st.RTT.Round(time.Millisecond), 100*st.PacketLoss,
			st.RecvBitrate/1000, st.TargetBitrate/1000)
		if f.fps < 10 || f.freeze > 3*time.Second {
			t.Errorf("%s: video at 10%% loss and 200 ms RTT: %s; want at least 10 fps and no freeze over 3 s", p.name, f)
		}
		if st.RTT > 0 && (st.RTT < 150*time.Millisecond || st.RTT > 400*time.Millisecond) {
			t.Errorf("%s: RTT %v; the relay should make it about 200 ms", p.name, st.RTT)
		}
	}
}

// TestCallPathOutage cuts the call's path and changes it; an ICE restart (offered by A the moment
// the path is back or changed, as the app does when the network changes) brings video back on
// both sides in under 5 s.
func TestCallPathOutage(t *testing.T) {
	needNetns(t)
	c := newCallNet(t, 20*time.Millisecond)
	c.waitFrames(t, time.Now(), 30*time.Second, "call setup")
	time.Sleep(2 * time.Second)

	t.Run("outage", func(t *testing.T) {
		for _, cut := range []time.Duration{3 * time.Second, 8 * time.Second} {
			cutAt := time.Now()
			c.nsA.impair(100)
			time.Sleep(cut)
			c.nsA.impair(0)
			restored := time.Now()
			disc := c.a.stateSince("disconnected", cutAt)
			discAfter := "never"
			if !disc.IsZero() {
				discAfter = disc.Sub(cutAt).Round(time.Millisecond).String()
			}
			c.a.send(peerMsg{Op: "restart"})
			fa, fb := c.waitFrames(t, restored, 15*time.Second, "after the outage")
			rec := later(fa, fb).Sub(restored)
			t.Logf("outage of %v: A saw disconnected after %s; video captured after the path returned decoded on both sides %v later (ICE restart offered then)",
				cut, discAfter, rec.Round(time.Millisecond))
			if rec > 5*time.Second {
				t.Errorf("recovery after a %v outage took %v; want under 5 s", cut, rec)
			}
			time.Sleep(2 * time.Second)
		}
	})

	t.Run("path change", func(t *testing.T) {
		// A moves to a new network: its old address goes away, a new one (another /24) comes up.
		sn := subnet(t)
		newRoot, newA := sn+".1", sn+".2"
		run(t, "ip", "addr", "add", newRoot+"/24", "dev", c.linkA.devA)
		c.r.addRootIP(newRoot)
		changed := time.Now()
		run(t, "ip", "-n", c.nsA.name, "addr", "flush", "dev", c.linkA.devB)
		run(t, "ip", "-n", c.nsA.name, "addr", "add", newA+"/24", "dev", c.linkA.devB)
		c.mu.Lock()
		c.ipA = newA
		c.mu.Unlock()
		c.a.send(peerMsg{Op: "restart"})
		fa, fb := c.waitFrames(t, changed, 15*time.Second, "after the path change")
		rec := later(fa, fb).Sub(changed)
		t.Logf("path change (A %s → %s): first video captured after the change decoded on both sides %v after the change", c.linkA.ipB, newA, rec.Round(time.Millisecond))
		if rec > 5*time.Second {
			t.Errorf("recovery after a path change took %v; want under 5 s", rec)
		}
		from := time.Now()
		time.Sleep(3 * time.Second)
		t.Logf("afterwards: A %s, B %s", flowOf(c.a, from, time.Now()), flowOf(c.b, from, time.Now()))
	})
}

// debug logs the signalling when PARLEY_RESILIENCE_DEBUG is set.
var debug = os.Getenv("PARLEY_RESILIENCE_DEBUG") != ""

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// TestCallSurvivesHubOutage: the hub's path is cut in the middle of a call, for 5 s or until the
// agent's hub session notices (its ping times out after 10 s), whichever is longer. Call media
// runs on its own path, so video keeps flowing on both sides while signalling is down (the
// test holds the call's signalling for the outage too), and the agent's hub session reconnects
// once the path is back.
func TestCallSurvivesHubOutage(t *testing.T) {
	needNetns(t)
	hubNs, h := hubInNetns(t, 1)
	sim := chatsim.New(chatsim.Config{URL: h.URL, Messages: 0, Client: clientOptions(t)})
	defer sim.Close()
	if err := sim.ConnectAgents(within(t, 20*time.Second), 1); err != nil {
		t.Fatal(err)
	}
	c := newCallNet(t, 20*time.Millisecond)
	c.waitFrames(t, time.Now(), 30*time.Second, "call setup")
	time.Sleep(2 * time.Second)

	const outage = 5 * time.Second
	cutAt := time.Now()
	hubNs.impair(100)
	c.holdSignalling()
	deadline := cutAt.Add(outage + 10*time.Second)
	for time.Now().Before(deadline) { // the agent's session notices (ping) and starts redialling
		if _, up := sim.Sessions(); up == 0 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	_, upDuring := sim.Sessions()
	time.Sleep(time.Until(cutAt.Add(outage)))
	during := time.Now()
	hubNs.impair(0)
	c.releaseSignalling()
	restored := time.Now()
	for time.Now().Before(restored.Add(20 * time.Second)) {
		if total, up := sim.Sessions(); up == total {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	total, up := sim.Sessions()
	t.Logf("hub path cut for %v (at least %v, and until the agent's session noticed: down %v): connected again %v after the path came back (%d/%d); %d reconnects",
		during.Sub(cutAt).Round(time.Millisecond), outage, upDuring == 0, time.Since(restored).Round(time.Millisecond), up, total, sim.Reconnects())
	for _, p := range []*peer{c.a, c.b} {
		f := flowOf(p, cutAt, during)
		t.Logf("%s receives while the hub is unreachable: %s", p.name, f)
		if f.fps < 20 || f.freeze > time.Second {
			t.Errorf("%s: video while the hub was unreachable: %s; want at least 20 fps and no freeze over 1 s", p.name, f)
		}
	}
	if up != total {
		t.Errorf("agent session not connected 20 s after the hub path came back")
	}
}
