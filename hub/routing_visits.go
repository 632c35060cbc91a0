package hub

import (
	"context"
	"log/slog"
	"sync"

	"github.com/parleyhq/parley/hub/store"
	"github.com/parleyhq/parley/wire"
)

// visitWriter stores queue visits off the routing loop. A visit changes when a conversation is
// answered, first answered in writing, transferred or ended; those are the loop's busiest moments,
// and a commit there (one fsync each on SQLite) held up every message behind it. The loop hands
// the writer the visit and goes on; the writer's goroutine stores what has gathered meanwhile in
// one transaction, the newest state of each visit only.
//
// Visits feed reports and service-level figures, never routing, so one may reach the database a
// moment after the change: whoever reads visits back calls flush first (reports, an organisation
// loaded), and the hub flushes before it closes its store or hands an organisation over. A killed
// hub loses at most the visits of its last moment, not a message or a conversation.
type visitWriter struct {
	store store.RoutingStore
	log   *slog.Logger

	mu      sync.Mutex
	pending map[visitKey]store.Visit
	// queued counts the changes handed over; written, those stored (or given up on).
	queued, written uint64
	changed         *sync.Cond
	kick            chan struct{}
	quit, done      chan struct{}
}

type visitKey struct {
	conv wire.ConversationID
	n    int
}

func newVisitWriter(st store.RoutingStore, log *slog.Logger) *visitWriter {
	w := &visitWriter{store: st, log: log, pending: map[visitKey]store.Visit{}, kick: make(chan struct{}, 1),
		quit: make(chan struct{}), done: make(chan struct{})}
	w.changed = sync.NewCond(&w.mu)
	go w.run()
	return w
}

// save queues v to be stored; a later save of the same visit replaces it.
func (w *visitWriter) save(v store.Visit) {
	w.mu.Lock()
	w.pending[visitKey{v.Conv, v.N}] = v
	w.queued++
	w.mu.Unlock()
	select {
	case w.kick <- struct{}{}:
	default:
	}
}

// flush returns once every visit saved before it was called is stored, or ctx ends.
func (w *visitWriter) flush(ctx context.Context) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	target := w.queued
	if w.written >= target {
		return nil
	}
	stop := context.AfterFunc(ctx, func() {
		w.mu.Lock()
		defer w.mu.Unlock()
		w.changed.Broadcast()
	})
	defer stop()
	for w.written < target && ctx.Err() == nil {
		w.changed.Wait()
	}
	return ctx.Err()
}

// stop stores what is queued and ends the writer.
func (w *visitWriter) stop() {
	select {
	case <-w.quit:
	default:
		close(w.quit)
	}
	<-w.done
}

func (w *visitWriter) run() {
	defer close(w.done)
	for {
		select {
		case <-w.kick:
			w.write()
		case <-w.quit:
			w.write()
			return
		}
	}
}

// write stores the pending visits in one transaction.
func (w *visitWriter) write() {
	w.mu.Lock()
	batch := make([]store.Visit, 0, len(w.pending))
	for _, v := range w.pending {
		batch = append(batch, v)
	}
	clear(w.pending)
	upto := w.queued
	w.mu.Unlock()
	if len(batch) > 0 {
		ctx, cancel := dbctx()
		if err := w.store.SaveVisits(ctx, batch); err != nil && len(batch) > 1 {
			// One bad row (a conversation deleted meanwhile) must not lose the others.
			for _, v := range batch {
				if err := w.store.SaveVisit(ctx, v); err != nil {
					w.log.Error("storing a queue visit", "conv", v.Conv, "err", err)
				}
			}
		} else if err != nil {
			// A report's figures may be off; the conversations go on.
			w.log.Error("storing a queue visit", "conv", batch[0].Conv, "err", err)
		}
		cancel()
	}
	w.mu.Lock()
	w.written = upto
	w.changed.Broadcast()
	w.mu.Unlock()
}

// visits reads org's queue visits in [since, until) (store.RoutingStore.Visits) once those saved
// so far are stored.
func (s *Server) visits(ctx context.Context, org wire.OrgID, since, until int64) ([]store.Visit, error) {
	if err := s.router.visits.flush(ctx); err != nil {
		return nil, err
	}
	return s.store.Visits(ctx, org, since, until)
}
