package resilience

import (
	"fmt"
	"testing"
	"time"

	"github.com/parleyhq/parley/resilience/chatsim"
)

// hubInNetns starts the hub binary in a namespace of its own, joined to the root namespace (where
// the customers and agents run) by one veth pair, and returns the namespace and the hub.
func hubInNetns(t *testing.T, agents int) (*netns, *chatsim.HubProc) {
	t.Helper()
	ns := newNetns(t)
	l := connect(t, nil, ns)
	h := startHub(t, hubBin(t), seeded(t, agents), l.ipB+":8080", ns.exec()...)
	return ns, h
}

func logLatency(t *testing.T, sim *chatsim.Sim) {
	lat := sim.Latencies()
	t.Logf("send → delivery over %d deliveries: p50 %v, p95 %v, p99 %v, max %v", len(lat),
		chatsim.Percentile(lat, .5).Round(time.Millisecond), chatsim.Percentile(lat, .95).Round(time.Millisecond),
		chatsim.Percentile(lat, .99).Round(time.Millisecond), chatsim.Percentile(lat, 1).Round(time.Millisecond))
}

func checkReport(t *testing.T, rep chatsim.Report) {
	t.Helper()
	if !rep.OK() {
		t.Errorf("%s", rep)
		for _, e := range rep.Examples {
			t.Log(e)
		}
	}
}

// TestChatUnderLoss runs customers and agents against a hub in another namespace whose packets
// are dropped at 10% each way, and checks every message is delivered exactly once, in order.
func TestChatUnderLoss(t *testing.T) {
	needNetns(t)
	const agents, customers, messages = 3, 12, 20
	ns, h := hubInNetns(t, agents)
	ns.impair(10)
	start := time.Now()
	sim := startChat(t, h.URL, agents, customers, messages, 50*time.Millisecond, 60*time.Second)
	if err := sim.WaitSent(within(t, 120*time.Second)); err != nil {
		t.Fatal(err)
	}
	rep := sim.WaitDelivered(within(t, 30*time.Second))
	t.Logf("10%% loss each way: %s in %v; %d reconnects", rep, time.Since(start).Round(time.Millisecond), sim.Reconnects())
	logLatency(t, sim)
	checkReport(t, rep)
}

// TestHubLinkCut cuts the path between the clients and the hub while they chat: first briefly
// (3 s, TCP rides it out), then long enough (14 s) that the clients' pings fail and they redial.
// Once the path is back every session is connected again and nothing was lost or doubled.
func TestHubLinkCut(t *testing.T) {
	needNetns(t)
	const agents, customers, messages = 2, 8, 150
	ns, h := hubInNetns(t, agents)
	sim := startChat(t, h.URL, agents, customers, messages, 150*time.Millisecond, 30*time.Second)
	for _, cut := range []time.Duration{3 * time.Second, 14 * time.Second} {
		t.Run(fmt.Sprintf("cut %v", cut), func(t *testing.T) {
			time.Sleep(time.Second)
			sentBefore, reconnectsBefore := sim.Sent(), sim.Reconnects()
			ns.impair(100)
			time.Sleep(cut)
			sentDuring := sim.Sent() - sentBefore
			ns.impair(0)
			restored := time.Now()
			deadline := restored.Add(30 * time.Second)
			for time.Now().Before(deadline) {
				if total, up := sim.Sessions(); up == total && sim.Sent() > sentBefore+sentDuring {
					break
				}
				time.Sleep(20 * time.Millisecond)
			}
			total, up := sim.Sessions()
			t.Logf("path cut for %v: %d messages acknowledged during the cut; %d reconnects; %d/%d sessions connected and sending again %v after the path came back",
				cut, sentDuring, sim.Reconnects()-reconnectsBefore, up, total, time.Since(restored).Round(time.Millisecond))
			if up != total {
				t.Errorf("%d of %d sessions connected 30 s after the path came back", up, total)
			}
		})
	}
	if err := sim.WaitSent(within(t, 90*time.Second)); err != nil {
		t.Fatal(err)
	}
	rep := sim.WaitDelivered(within(t, 30*time.Second))
	t.Logf("%s; %d reconnects in all", rep, sim.Reconnects())
	logLatency(t, sim)
	checkReport(t, rep)
}
