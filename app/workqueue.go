package app

import "sync"

// workQueue runs functions one at a time, in order, on its own goroutine. push never blocks.
type workQueue struct {
	mu      sync.Mutex
	items   []func()
	more    chan struct{} // has a token when items is not empty
	done    chan struct{} // closed by stop
	stopped sync.Once
	exited  chan struct{} // closed when run returns
}

func newWorkQueue() *workQueue {
	return &workQueue{more: make(chan struct{}, 1), done: make(chan struct{}), exited: make(chan struct{})}
}

// push queues f.
func (q *workQueue) push(f func()) {
	q.mu.Lock()
	q.items = append(q.items, f)
	q.mu.Unlock()
	select {
	case q.more <- struct{}{}:
	default:
	}
}

// do runs f on the queue and waits for it (or for the queue to stop).
func (q *workQueue) do(f func()) {
	ran := make(chan struct{})
	q.push(func() { defer close(ran); f() })
	select {
	case <-ran:
	case <-q.exited:
	}
}

// stop makes run return after the function running now; what is queued is dropped.
func (q *workQueue) stop() { q.stopped.Do(func() { close(q.done) }) }

func (q *workQueue) run() {
	defer close(q.exited)
	for {
		select {
		case <-q.done:
			return
		default:
		}
		q.mu.Lock()
		if len(q.items) == 0 {
			q.mu.Unlock()
			select {
			case <-q.more:
				continue
			case <-q.done:
				return
			}
		}
		f := q.items[0]
		q.items = q.items[1:]
		q.mu.Unlock()
		f()
	}
}
