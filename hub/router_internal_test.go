package hub

import (
	"errors"
	"testing"
	"time"

	"github.com/parleyhq/parley/wire"
)

// A request queued for the router but never run, because the router stopped first, must not leave
// its caller waiting: at Close the account watcher's session check was such a caller.
func TestRouterRequestQueuedWhenItStopsReturnsErrClosed(t *testing.T) {
	for _, tc := range []struct {
		name   string
		queued func(r *router) int
		send   func(r *router) error
	}{
		{"a command", func(r *router) int { return len(r.cmds) },
			func(r *router) error { return r.call(func() error { return nil }) }},
		{"a chat message for the next batch", func(r *router) int { return len(r.sends) },
			func(r *router) error { return r.chatSend(nil, "1", wire.ChatSend{}) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &router{cmds: make(chan func(), 1), sends: make(chan *sendReq, 1), quit: make(chan struct{}), done: make(chan struct{})}
			got := make(chan error, 1)
			go func() { got <- tc.send(r) }()
			for tc.queued(r) == 0 {
				time.Sleep(time.Millisecond) // it is in the buffer; no run loop takes it
			}
			close(r.quit)
			close(r.done)
			select {
			case err := <-got:
				if !errors.Is(err, ErrClosed) {
					t.Fatalf("after the router stopped: %v, want ErrClosed", err)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("still waiting 5 s after the router stopped with the request queued")
			}
		})
	}
}
