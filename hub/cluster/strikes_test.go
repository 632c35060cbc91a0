package cluster_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/parleyhq/parley/hub/cluster"
	"github.com/parleyhq/parley/internal/pgtest"
)

// Two nodes (two pools, as two processes have) count one key's failures together: the count
// goes on across them, concurrent failures are each counted once, a failure older than the
// forget time starts the count again, and Clear forgets.
func TestStrikesAreSharedByTheNodes(t *testing.T) {
	dsn := pgtest.Database(t)
	ctx := context.Background()
	var nodes []*cluster.Strikes
	for range 2 {
		pool, err := pgxpool.New(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(pool.Close)
		s, err := cluster.NewStrikes(ctx, pool)
		if err != nil {
			t.Fatal(err)
		}
		nodes = append(nodes, s)
	}
	a, b := nodes[0], nodes[1]
	const forget = 15 * time.Minute
	t0 := time.UnixMilli(1_800_000_000_000)
	for i := range 4 {
		n, err := nodes[i%2].Strike(ctx, "login:x\x00acme\x00ada", t0.Add(time.Duration(i)*time.Second), forget)
		if err != nil || n != i+1 {
			t.Fatalf("strike %d on node %d = %d, %v; want %d", i+1, i%2, n, err, i+1)
		}
	}
	n, last, err := b.Get(ctx, "login:x\x00acme\x00ada", t0.Add(time.Minute))
	if err != nil || n != 4 || !last.Equal(t0.Add(3*time.Second)) {
		t.Fatalf("Get = %d, %v, %v; want 4 at %v", n, last, err, t0.Add(3*time.Second))
	}
	if n, _, _ := a.Get(ctx, "login:other", t0); n != 0 {
		t.Errorf("another key has %d failures", n)
	}

	// Twenty failures at once from both nodes: each counted once.
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			if _, err := nodes[i%2].Strike(ctx, "login-address:y", t0, forget); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if n, _, _ := a.Get(ctx, "login-address:y", t0); n != 20 {
		t.Errorf("20 concurrent failures counted %d", n)
	}

	// Past the forget time after the last failure the key has none, and the next one is the first.
	late := t0.Add(3*time.Second + forget + time.Millisecond)
	if n, _, _ := a.Get(ctx, "login:x\x00acme\x00ada", late); n != 0 {
		t.Errorf("after the forget time Get = %d; want 0", n)
	}
	if n, _ := b.Strike(ctx, "login:x\x00acme\x00ada", late, forget); n != 1 {
		t.Errorf("a failure after the forget time counts %d; want 1", n)
	}
	if err := a.Clear(ctx, "login:x\x00acme\x00ada"); err != nil {
		t.Fatal(err)
	}
	if n, _, _ := b.Get(ctx, "login:x\x00acme\x00ada", late); n != 0 {
		t.Errorf("after Clear on the other node Get = %d; want 0", n)
	}
}
