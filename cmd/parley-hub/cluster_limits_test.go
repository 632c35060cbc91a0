package main

import (
	"context"
	"fmt"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/parleyhq/parley/hub"
	"github.com/parleyhq/parley/hub/client"
	"github.com/parleyhq/parley/internal/pgtest"
	"github.com/parleyhq/parley/wire"
)

// Wrong passwords for one account back off after the same number of tries whether they all reach
// one node or are spread over three, and across a takeover: the node that takes the organisation
// over after its owner is killed goes on counting where the dead one stopped (the failures are
// in the database, not in the owner's memory).
func TestClusterSignInLimitsHoldAcrossATakeover(t *testing.T) {
	if os.Getenv("PARLEY_TEST_CLUSTER") == "" {
		t.Skip("make test-cluster runs this (PARLEY_TEST_CLUSTER=1): three hub processes")
	}
	dsn := pgtest.Database(t)
	const ttl = 2 * time.Second
	var nodes []*node
	for i := range 3 {
		nodes = append(nodes, startNode(t, dsn, fmt.Sprintf("n%d", i+1), ttl))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	// tries signs in to username with a wrong password, the i-th try through pick(i), until it
	// is refused as limited, and returns how many tries that took. A try answered "the
	// organisation is moving" (a takeover under way) is made again: it was not a sign-in.
	tries := func(username string, pick func(i int) *node) int {
		t.Helper()
		for i := 1; i <= 20; i++ {
			for {
				_, err := client.Login(ctx, pick(i).url, hub.DemoOrg, username, "wrong")
				switch wire.ErrorCode(err) {
				case wire.EUNAUTHORIZED:
				case wire.ERATELIMITED:
					return i
				case wire.EUNAVAILABLE:
					time.Sleep(100 * time.Millisecond)
					continue
				default:
					t.Fatalf("try %d for %s: %v", i, username, err)
				}
				break
			}
		}
		t.Fatalf("20 wrong passwords for %s and no limit", username)
		return 0
	}

	// The count on one node: every try to the organisation's owner, as on a hub on its own.
	if _, err := client.StartConversation(ctx, nodes[0].url, hub.DemoOrg, "First"); err != nil {
		t.Fatal(err)
	}
	first, _ := owner(t, dsn, nodes)
	alone := tries("agent2", func(int) *node { return first })

	// The same for another account, each try through the next node, and the owner killed after
	// the third: the fourth waits for the takeover.
	var live []*node
	for _, n := range nodes {
		if n != first {
			live = append(live, n)
		}
	}
	killed := false
	spread := tries("agent1", func(i int) *node {
		if i <= 3 {
			return nodes[(i-1)%3]
		}
		if i == 4 && !killed {
			killed = true
			if err := first.cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			<-first.done
		}
		return live[i%2]
	})
	second, _ := owner(t, dsn, live)
	t.Logf("refused at try %d on one node; at try %d spread over three nodes, the owner %s killed after the third (%s took over)",
		alone, spread, first.url, second.url)
	if spread != alone {
		t.Errorf("spread over the nodes and a takeover the limit came at try %d; on one node at try %d", spread, alone)
	}
	if alone != 6 {
		t.Errorf("on one node the limit came at try %d; want 6 (five free failures)", alone)
	}
	// The right password still signs in, from another node, once the wait is over.
	time.Sleep(1100 * time.Millisecond)
	if _, err := client.Login(ctx, live[0].url, hub.DemoOrg, "agent1", "demo"); err != nil {
		t.Errorf("the right password after the wait: %v", err)
	}
}
