package ops

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// wait bounds every wait in these tests.
const wait = 5 * time.Second

func TestOrder(t *testing.T) {
	var q Queue
	var mu sync.Mutex
	var got []int
	const n = 1000
	for i := range n {
		q.Enqueue(func() {
			mu.Lock()
			got = append(got, i)
			mu.Unlock()
		})
	}
	if !q.Do(func() {}) {
		t.Fatal("Do on an open queue = false; want true")
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != n {
		t.Fatalf("ran %d functions; want %d", len(got), n)
	}
	for i, v := range got {
		if v != i {
			t.Fatalf("function %d ran at position %d: the queue reordered", v, i)
		}
	}
}

func TestOneAtATime(t *testing.T) {
	var q Queue
	var running, most atomic.Int32
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 50 {
				q.Enqueue(func() {
					n := running.Add(1)
					for {
						m := most.Load()
						if n <= m || most.CompareAndSwap(m, n) {
							break
						}
					}
					time.Sleep(10 * time.Microsecond)
					running.Add(-1)
				})
			}
		}()
	}
	wg.Wait()
	q.Do(func() {})
	if m := most.Load(); m != 1 {
		t.Fatalf("%d functions ran at once; want 1", m)
	}
}

func TestCloseDropsQueued(t *testing.T) {
	var q Queue
	release := make(chan struct{})
	started := make(chan struct{})
	q.Enqueue(func() { close(started); <-release })
	<-started
	var ran atomic.Bool
	q.Enqueue(func() { ran.Store(true) })
	doDone := make(chan bool)
	go func() { doDone <- q.Do(func() { ran.Store(true) }) }()
	time.Sleep(10 * time.Millisecond) // let Do queue its function behind the blocked one
	q.Close()
	select {
	case ok := <-doDone:
		if ok {
			t.Error("Do of a function dropped by Close = true; want false")
		}
	case <-time.After(wait):
		t.Fatal("Do still waits after Close dropped its function")
	}
	close(release)
	if q.Enqueue(func() { ran.Store(true) }) {
		t.Error("Enqueue after Close = true; want false")
	}
	if q.Do(func() { ran.Store(true) }) {
		t.Error("Do after Close = true; want false")
	}
	time.Sleep(10 * time.Millisecond)
	if ran.Load() {
		t.Error("a function queued behind Close ran")
	}
}

func TestDoWaitsForAStartedFunction(t *testing.T) {
	var q Queue
	started := make(chan struct{})
	release := make(chan struct{})
	var wrote int
	doDone := make(chan bool)
	go func() {
		doDone <- q.Do(func() {
			close(started)
			<-release
			wrote = 42
		})
	}()
	<-started
	q.Close() // while the function runs: Do must still wait for it
	select {
	case <-doDone:
		t.Fatal("Do returned while its function was still running")
	case <-time.After(20 * time.Millisecond):
	}
	close(release)
	select {
	case ok := <-doDone:
		if !ok || wrote != 42 {
			t.Fatalf("Do = %v with %d written; want true with 42", ok, wrote)
		}
	case <-time.After(wait):
		t.Fatal("Do never returned")
	}
}

func TestCloseFromTheQueue(t *testing.T) {
	var q Queue
	var after atomic.Bool
	if !q.Do(func() { q.Close() }) {
		t.Fatal("Do of a function that closes the queue = false; want true (it ran)")
	}
	q.Enqueue(func() { after.Store(true) })
	time.Sleep(10 * time.Millisecond)
	if after.Load() {
		t.Error("a function queued after Close ran")
	}
}

func TestIdleQueueHasNoGoroutine(t *testing.T) {
	var q Queue
	q.Do(func() {})
	deadline := time.Now().Add(wait)
	for {
		q.mu.Lock()
		busy := q.busy
		q.mu.Unlock()
		if !busy {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the queue's goroutine still runs with nothing queued")
		}
		time.Sleep(time.Millisecond)
	}
}
