// Package ops runs functions one at a time, in the order they were queued, on a goroutine that
// runs only while there is work. It is the one serial work queue of the app: the event path to
// the UI, each call's signalling and the screen shares use it (modelled on pion/webrtc's
// operations.go).
package ops

import (
	"sync"
	"sync/atomic"
)

// Queue runs queued functions one at a time, in order. Enqueue never blocks and never runs f
// itself, so it may be called with locks held. The zero Queue is ready to use.
type Queue struct {
	mu sync.Mutex
	// ops are the functions waiting to run, oldest first.
	ops []func()
	// busy is true while a goroutine drains ops.
	busy bool
	// closed is set by Close; closedCh is closed then (made on first use).
	closed   bool
	closedCh chan struct{}
}

// Enqueue queues f and reports whether it was queued: a closed queue drops it.
func (q *Queue) Enqueue(f func()) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return false
	}
	q.ops = append(q.ops, f)
	if !q.busy {
		// The goroutine lives while there is work: a quiet queue costs nothing.
		q.busy = true
		go q.run()
	}
	return true
}

// Do runs f on the queue and waits until it has run. It reports false when the queue was closed
// before f started (f then never runs). It must not be called from a function running on the
// same queue.
func (q *Queue) Do(f func()) bool {
	const queued, started, cancelled = 0, 1, 2
	var state atomic.Int32
	ran := make(chan struct{})
	if !q.Enqueue(func() {
		defer close(ran)
		if state.CompareAndSwap(queued, started) {
			f()
		}
	}) {
		return false
	}
	select {
	case <-ran:
		return state.Load() == started
	case <-q.done():
		if state.CompareAndSwap(queued, cancelled) {
			return false // dropped by Close, or about to be skipped
		}
		<-ran // it started before Close: the caller may read what f wrote only once it is over
		return true
	}
}

// Close drops what is queued and refuses what comes later; a function running now finishes.
// It may be called from a function running on the queue.
func (q *Queue) Close() {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return
	}
	q.closed = true
	q.ops = nil
	if q.closedCh == nil {
		q.closedCh = make(chan struct{})
	}
	close(q.closedCh)
}

// done is closed once the queue is closed.
func (q *Queue) done() <-chan struct{} {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closedCh == nil {
		q.closedCh = make(chan struct{})
		if q.closed {
			close(q.closedCh)
		}
	}
	return q.closedCh
}

func (q *Queue) run() {
	for {
		q.mu.Lock()
		if len(q.ops) == 0 {
			q.busy = false
			q.mu.Unlock()
			return
		}
		f := q.ops[0]
		q.ops[0] = nil
		q.ops = q.ops[1:]
		q.mu.Unlock()
		f()
	}
}
