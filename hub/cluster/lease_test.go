package cluster_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/parleyhq/parley/hub/cluster"
	"github.com/parleyhq/parley/hub/postgres"
	"github.com/parleyhq/parley/internal/pgtest"
	"github.com/parleyhq/parley/wire"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// node is one hub node: its own connection pool (as a separate process has) and its leases.
type node struct {
	pool   *pgxpool.Pool
	leases *cluster.Leases
}

func newNode(t *testing.T, dsn, name string, ttl time.Duration) *node {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	l, err := cluster.New(context.Background(), pool, name, ttl)
	if err != nil {
		t.Fatal(err)
	}
	return &node{pool: pool, leases: l}
}

// offer books an agent for the organisation the way a routing write would: fenced by the lease.
func (n *node) offer(ctx context.Context, le cluster.Lease, agent string) error {
	return pgx.BeginFunc(ctx, n.pool, func(tx pgx.Tx) error {
		if err := cluster.Fence(ctx, tx, le); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO offers (org, agent, node, epoch) VALUES ($1, $2, $3, $4)`, le.Org, agent, le.Node, le.Epoch)
		return err
	})
}

func offers(t *testing.T, n *node) []string {
	t.Helper()
	rows, err := n.pool.Query(context.Background(), `SELECT agent || '@' || node || '#' || epoch FROM offers ORDER BY agent`)
	if err != nil {
		t.Fatal(err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func setup(t *testing.T) string {
	dsn := pgtest.DSN(t)
	conn, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(context.Background(), `CREATE TABLE offers (org TEXT, agent TEXT, node TEXT, epoch BIGINT)`); err != nil {
		t.Fatal(err)
	}
	return dsn
}

// waitExpired waits, with a deadline, until org's lease has run out by the database's clock.
func waitExpired(t *testing.T, n *node, org wire.OrgID) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		orgs, err := n.leases.Expired(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if slices.Contains(orgs, org) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s's lease never expired", org)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// One node at a time owns an organisation; the owner renews; others are refused while it does.
func TestOneOwnerAtATime(t *testing.T) {
	ctx := context.Background()
	dsn := setup(t)
	a, b := newNode(t, dsn, "a", time.Minute), newNode(t, dsn, "b", time.Minute)
	la, err := a.leases.Acquire(ctx, "acme")
	if err != nil || la.Epoch != 1 || la.Node != "a" {
		t.Fatalf("a's Acquire = %+v, %v; want epoch 1", la, err)
	}
	if _, err := b.leases.Acquire(ctx, "acme"); !errors.Is(err, cluster.ErrHeld) {
		t.Fatalf("b's Acquire of a live lease = %v; want ErrHeld", err)
	}
	lb, err := b.leases.Acquire(ctx, "globex")
	if err != nil || lb.Epoch != 1 {
		t.Fatalf("b's Acquire of another organisation = %+v, %v", lb, err)
	}
	renewed, err := a.leases.Renew(ctx, la)
	if err != nil || renewed.Epoch != la.Epoch || renewed.Expires.Before(la.Expires) {
		t.Fatalf("Renew = %+v, %v (was %+v)", renewed, err, la)
	}
	if h, live, err := b.leases.Holder(ctx, "acme"); err != nil || !live || h.Node != "a" || h.Epoch != 1 {
		t.Fatalf("Holder = %+v live %v, %v", h, live, err)
	}
	if err := a.offer(ctx, la, "agent1"); err != nil {
		t.Fatalf("the owner's fenced write: %v", err)
	}
	// A write fenced with b's lease on another organisation cannot pass for acme's.
	if err := b.offer(ctx, cluster.Lease{Org: "acme", Node: "b", Epoch: 1}, "agent2"); !errors.Is(err, cluster.ErrFenced) {
		t.Fatalf("a non-owner's write = %v; want ErrFenced", err)
	}
	if got := offers(t, a); !slices.Equal(got, []string{"agent1@a#1"}) {
		t.Errorf("offers = %v", got)
	}
}

// A node that stops renewing (killed, or paused) loses the organisation once its lease expires;
// another takes it over with the next epoch, and when the old owner wakes up it can neither
// renew nor write: the agent it would book is not double-booked.
func TestAStoppedOwnerIsTakenOverAndFenced(t *testing.T) {
	ctx := context.Background()
	dsn := setup(t)
	a, b := newNode(t, dsn, "a", 300*time.Millisecond), newNode(t, dsn, "b", time.Minute)
	la, err := a.leases.Acquire(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	if err := a.offer(ctx, la, "agent1"); err != nil {
		t.Fatal(err)
	}
	// a pauses: no renewals. b finds the expired lease and takes over.
	waitExpired(t, b, "acme")
	lb, err := b.leases.Acquire(ctx, "acme")
	if err != nil || lb.Epoch != la.Epoch+1 || lb.Node != "b" {
		t.Fatalf("takeover = %+v, %v; want epoch %d on b", lb, err, la.Epoch+1)
	}
	if err := b.offer(ctx, lb, "agent2"); err != nil {
		t.Fatalf("the new owner's write: %v", err)
	}
	// a wakes up.
	if _, err := a.leases.Renew(ctx, la); !errors.Is(err, cluster.ErrLost) {
		t.Errorf("the old owner's Renew = %v; want ErrLost", err)
	}
	if err := a.offer(ctx, la, "agent2"); !errors.Is(err, cluster.ErrFenced) {
		t.Errorf("the old owner's write = %v; want ErrFenced", err)
	}
	if _, err := a.leases.Acquire(ctx, "acme"); !errors.Is(err, cluster.ErrHeld) {
		t.Errorf("the old owner's Acquire = %v; want ErrHeld", err)
	}
	if got := offers(t, b); !slices.Equal(got, []string{"agent1@a#1", "agent2@b#2"}) {
		t.Errorf("offers = %v; want agent1 by a at epoch 1 and agent2 once, by b at epoch 2", got)
	}
	// Releasing the lost lease does not release b's.
	if err := a.leases.Release(ctx, la); err != nil {
		t.Fatal(err)
	}
	if h, live, _ := a.leases.Holder(ctx, "acme"); !live || h.Node != "b" {
		t.Errorf("after the old owner's Release: %+v live %v; want b's lease live", h, live)
	}
}

// A takeover waits for a fenced write in flight: no write of the old epoch commits after the new
// owner has acquired the organisation (it would rebuild its state without it).
func TestTakeoverWaitsForAWriteInFlight(t *testing.T) {
	ctx := context.Background()
	dsn := setup(t)
	a, b := newNode(t, dsn, "a", 500*time.Millisecond), newNode(t, dsn, "b", time.Minute)
	la, err := a.leases.Acquire(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	tx, err := a.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if err := cluster.Fence(ctx, tx, la); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO offers VALUES ('acme', 'agent1', 'a', $1)`, la.Epoch); err != nil {
		t.Fatal(err)
	}
	waitExpired(t, b, "acme")
	type result struct {
		le  cluster.Lease
		err error
		saw []string
	}
	done := make(chan result, 1)
	go func() {
		le, err := b.leases.Acquire(ctx, "acme")
		var saw []string
		if rows, qerr := b.pool.Query(ctx, `SELECT agent FROM offers`); qerr == nil {
			saw, _ = pgx.CollectRows(rows, pgx.RowTo[string])
		}
		done <- result{le, err, saw}
	}()
	select {
	case r := <-done:
		t.Fatalf("the takeover went ahead with a fenced write in flight: %+v", r)
	case <-time.After(300 * time.Millisecond):
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case r := <-done:
		if r.err != nil || r.le.Epoch != 2 {
			t.Fatalf("takeover = %+v, %v", r.le, r.err)
		}
		if !slices.Equal(r.saw, []string{"agent1"}) {
			t.Errorf("the new owner saw offers %v; want the old owner's committed one", r.saw)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the takeover never went ahead after the write committed")
	}
	if err := a.offer(ctx, la, "agent3"); !errors.Is(err, cluster.ErrFenced) {
		t.Errorf("the old owner's next write = %v; want ErrFenced", err)
	}
}

// Nodes racing for an expired lease: exactly one wins, and the epoch moves by one.
func TestOneWinnerOfARace(t *testing.T) {
	ctx := context.Background()
	dsn := setup(t)
	old := newNode(t, dsn, "old", 200*time.Millisecond)
	if _, err := old.leases.Acquire(ctx, "acme"); err != nil {
		t.Fatal(err)
	}
	waitExpired(t, old, "acme")
	const n = 8
	nodes := make([]*node, n)
	for i := range nodes {
		nodes[i] = newNode(t, dsn, fmt.Sprintf("n%d", i), time.Minute)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var won []cluster.Lease
	start := make(chan struct{})
	for _, nd := range nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			le, err := nd.leases.Acquire(ctx, "acme")
			if err == nil {
				mu.Lock()
				won = append(won, le)
				mu.Unlock()
			} else if !errors.Is(err, cluster.ErrHeld) {
				t.Error(err)
			}
		}()
	}
	close(start)
	wg.Wait()
	if len(won) != 1 || won[0].Epoch != 2 {
		t.Fatalf("winners = %+v; want exactly one, at epoch 2", won)
	}
}

// A draining node releases its organisations: another node takes them at once, without waiting
// for the lease time, and the drained node's lease is gone.
func TestReleaseHandsOverAtOnce(t *testing.T) {
	ctx := context.Background()
	dsn := setup(t)
	a, b := newNode(t, dsn, "a", time.Hour), newNode(t, dsn, "b", time.Hour)
	la, err := a.leases.Acquire(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	if err := a.leases.Release(ctx, la); err != nil {
		t.Fatal(err)
	}
	lb, err := b.leases.Acquire(ctx, "acme")
	if err != nil || lb.Epoch != 2 {
		t.Fatalf("Acquire after a release = %+v, %v", lb, err)
	}
	if _, err := a.leases.Renew(ctx, la); !errors.Is(err, cluster.ErrLost) {
		t.Errorf("Renew of a released lease = %v; want ErrLost", err)
	}
	// A node re-acquiring its own live lease starts a new epoch, fencing its older writes.
	again, err := b.leases.Acquire(ctx, "acme")
	if err != nil || again.Epoch != 3 {
		t.Fatalf("re-acquire = %+v, %v; want epoch 3", again, err)
	}
	if err := b.offer(ctx, lb, "agent1"); !errors.Is(err, cluster.ErrFenced) {
		t.Errorf("a write under the node's superseded epoch = %v; want ErrFenced", err)
	}
}

// The lease table is the cluster's bookkeeping: parley-hub export leaves it out, and a hub
// database holding it still exports.
func TestLeasesStayOutOfExports(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.DSN(t)
	db, err := postgres.Open(ctx, dsn, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	l, err := cluster.New(ctx, db.Pool(), "a", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Acquire(ctx, "acme"); err != nil {
		t.Fatal(err)
	}
	names, err := db.TableNames(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if slices.Contains(names, "cluster_leases") || !slices.Contains(names, "conversations") {
		t.Errorf("TableNames = %v; want the hub's tables without cluster_leases", names)
	}
}
