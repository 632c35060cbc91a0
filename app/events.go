package app

import (
	"sync"

	"github.com/parleyhq/parley/internal/ops"
)

// The services' one path to the UI. Whatever changes state queues its events through events.emit
// while it still holds the lock of that state, so the numbers follow the order the state changed;
// one goroutine hands them to the Emitter in that order, holding no lock. A slow Emitter (the
// window busy with co-browse frames) therefore never holds up the hub connection nor a bound
// method, and no Emitter can deadlock against the services.

// events numbers the services' events and delivers them in order (see core for the lock order:
// its mu is the innermost lock of the app).
type events struct {
	emitter Emitter
	// mu guards rev and makes numbering and queueing one step.
	mu  sync.Mutex
	rev uint64
	// q delivers, one event at a time, on a goroutine that runs while there are events.
	q ops.Queue
}

func newEvents(e Emitter) *events {
	if e == nil {
		e = EmitterFunc(func(Event) {})
	}
	return &events{emitter: e}
}

// emit queues one event. It never blocks and may be called with any of the services' locks held.
func (e *events) emit(name string, data any) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.rev++
	ev := Event{Name: name, Rev: e.rev, Data: data}
	e.q.Enqueue(func() { e.emitter.Emit(ev) })
}

// emission is one event collected under a lock, for emitAll.
type emission struct {
	event string
	data  any
}

// emitAll queues events in order.
func (e *events) emitAll(out []emission) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, o := range out {
		e.rev++
		ev := Event{Name: o.event, Rev: e.rev, Data: o.data}
		e.q.Enqueue(func() { e.emitter.Emit(ev) })
	}
}
