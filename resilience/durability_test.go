package resilience

import (
	"context"
	"testing"
	"time"

	"github.com/parleyhq/parley/hub/sqlite"
)

// TestHubSIGKILL kills the hub binary with SIGKILL in the middle of a chat burst from several
// customers and agents, restarts it on the same database and address, and checks that every
// message the hub had acknowledged is stored exactly once, that the clients resumed by
// themselves, and that every message reached the other party exactly once, in order.
func TestHubSIGKILL(t *testing.T) {
	bin := hubBin(t)
	const agents, customers, messages = 4, 16, 40
	db := seeded(t, agents)
	addr := freePort(t)
	h := startHub(t, bin, db, addr)

	sim := startChat(t, h.URL, agents, customers, messages, 20*time.Millisecond, 30*time.Second)

	// Kill once about a third of the burst is acknowledged.
	total := 2 * customers * messages
	deadline := time.Now().Add(30 * time.Second)
	for sim.Sent() < total/3 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	before := sim.Sent()
	if before == 0 || before >= total {
		t.Fatalf("%d of %d messages acknowledged before the kill; want a burst in progress", before, total)
	}
	ackedBefore := sim.Acked()
	h.Kill()
	killedAt := time.Now()
	t.Logf("SIGKILL after %d of %d messages were acknowledged", before, total)
	time.Sleep(time.Second) // the clients notice and start redialling

	h2 := startHub(t, bin, db, addr)
	t.Logf("hub restarted %v after the kill", time.Since(killedAt).Round(time.Millisecond))
	if err := sim.WaitSent(within(t, 60*time.Second)); err != nil {
		t.Fatal(err)
	}
	rep := sim.WaitDelivered(within(t, 30*time.Second))
	t.Logf("after restart: %s; all delivered %v after the kill; %d reconnects", rep, time.Since(killedAt).Round(time.Millisecond), sim.Reconnects())
	if !rep.OK() {
		t.Errorf("chat across SIGKILL: %s", rep)
		for _, e := range rep.Examples {
			t.Log(e)
		}
	}

	// What the database holds: every message acknowledged before the kill (and after) is there
	// once, with the sequence number it was acknowledged with.
	sim.Close()
	h2.Stop()
	store, err := sqlite.Open(context.Background(), db, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	lostBeforeKill, dups := 0, 0
	for conv, acked := range sim.Acked() {
		msgs, err := store.Messages(context.Background(), conv, 0, 10_000)
		if err != nil {
			t.Fatal(err)
		}
		count := map[string]int{}
		bySeq := map[int64]string{}
		for _, m := range msgs {
			count[m.Text]++
			bySeq[m.Seq] = m.Text
		}
		for seq, text := range acked {
			if count[text] > 1 {
				dups++
				t.Errorf("%s: %q stored %d times", conv, text, count[text])
			}
			if bySeq[seq] != text {
				t.Errorf("%s: seq %d holds %q; acknowledged %q", conv, seq, bySeq[seq], text)
				if _, ok := ackedBefore[conv][seq]; ok {
					lostBeforeKill++
				}
			}
		}
	}
	if lostBeforeKill > 0 || dups > 0 {
		t.Errorf("database after SIGKILL: %d messages acknowledged before the kill missing, %d duplicated", lostBeforeKill, dups)
	}
}
