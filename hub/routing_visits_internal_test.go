package hub

import (
	"context"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley/hub/sqlite"
	"github.com/parleyhq/parley/hub/store"
	"github.com/parleyhq/parley/wire"
)

// gatedVisits is a real SQLite store whose batches of visits wait for the test to let them through,
// as a busy disk would hold them.
type gatedVisits struct {
	store.Store
	arrived chan struct{}
	gate    chan struct{}
	mu      sync.Mutex
	batches [][]store.Visit
}

func (g *gatedVisits) SaveVisits(ctx context.Context, vs []store.Visit) error {
	g.arrived <- struct{}{}
	<-g.gate
	g.mu.Lock()
	g.batches = append(g.batches, vs)
	g.mu.Unlock()
	return g.Store.SaveVisits(ctx, vs)
}

// TestVisitWriterFlushWaitsAndCoalesces: a report that reads visits waits for the ones saved before
// it, however slow the disk; changes to one visit made while a write is in flight go in the next
// transaction as its newest state only; stop stores what is still queued.
func TestVisitWriterFlushWaitsAndCoalesces(t *testing.T) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "hub.db"), time.Now)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Apply(ctx, store.Change{CreateOrg: &store.Org{ID: "o", Name: "Org", Region: "na"}}); err != nil {
		t.Fatal(err)
	}
	for _, id := range []wire.ConversationID{"c1", "c2"} {
		if err := db.StartConversation(ctx, store.Start{Conv: wire.Conversation{ID: id, Org: "o", State: wire.ConvWaiting, CreatedAt: 1},
			Token: store.Token{Hash: string(id), Org: "o", Role: wire.RoleCustomer, Conv: id, ExpiresAt: time.Now().Add(time.Hour)},
			Visit: store.Visit{Conv: id, N: 1, Org: "o", Queue: "general", EnteredAt: 1}}); err != nil {
			t.Fatal(err)
		}
	}
	g := &gatedVisits{Store: db, arrived: make(chan struct{}, 2), gate: make(chan struct{})}
	w := newVisitWriter(g, slog.New(slog.DiscardHandler))
	v := store.Visit{Conv: "c1", N: 1, Org: "o", Queue: "general", EnteredAt: 1, AnsweredAt: 2, Agent: "u_a"}
	w.save(v)
	<-g.arrived // taken by the writer, held at the gate
	flushed := make(chan error, 1)
	go func() { flushed <- w.flush(ctx) }()
	select {
	case err := <-flushed:
		t.Fatalf("flush returned (%v) before the visit was stored", err)
	case <-time.After(100 * time.Millisecond):
	}
	// Two more changes of c1 while the first write waits, and one of c2.
	v.FirstResponseAt = 3
	w.save(v)
	v.LeftAt, v.Outcome = 4, store.VisitEnded
	w.save(v)
	w.save(store.Visit{Conv: "c2", N: 1, Org: "o", Queue: "general", EnteredAt: 1, LeftAt: 5, Outcome: store.VisitAbandoned})
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	if err := w.flush(short); err == nil {
		t.Error("flush with a context that ends while the disk is held = nil; want the context's error")
	}
	cancel()
	close(g.gate)
	if err := <-flushed; err != nil {
		t.Fatal(err)
	}
	w.stop()
	if len(g.batches) != 2 || len(g.batches[0]) != 1 || len(g.batches[1]) != 2 {
		t.Errorf("batches = %+v; want the first visit alone, then c1's newest state and c2's together", g.batches)
	}
	vs, err := db.Visits(ctx, "o", 0, 10)
	if err != nil || len(vs) != 2 || vs[0].Outcome != store.VisitEnded || vs[0].FirstResponseAt != 3 || vs[1].Outcome != store.VisitAbandoned {
		t.Errorf("visits stored = %+v, %v; want c1 ended after its first response, c2 abandoned", vs, err)
	}
}
