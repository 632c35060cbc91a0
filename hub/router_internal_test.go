package hub

import (
	"errors"
	"testing"
	"time"

	"github.com/parleyhq/parley/wire"
)

// A command that was queued but never run, because the router stopped first, must not leave its
// caller waiting: at Close the account watcher's session check was such a caller.
func TestRouterCallReturnsWhenStoppedWithCommandQueued(t *testing.T) {
	r := &router{cmds: make(chan func(), 1), quit: make(chan struct{}), done: make(chan struct{})}
	got := make(chan error, 1)
	go func() { got <- r.call(func() error { return nil }) }()
	for len(r.cmds) == 0 {
		time.Sleep(time.Millisecond) // the command is in the buffer; no run loop takes it
	}
	close(r.quit)
	close(r.done)
	select {
	case err := <-got:
		if !errors.Is(err, ErrClosed) {
			t.Fatalf("call after the router stopped: %v, want ErrClosed", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("call still waiting 5 s after the router stopped with its command queued")
	}
}

// The same for a chat message queued for the next batch.
func TestRouterChatSendReturnsWhenStoppedWithMessageQueued(t *testing.T) {
	r := &router{sends: make(chan *sendReq, 1), quit: make(chan struct{}), done: make(chan struct{})}
	got := make(chan error, 1)
	go func() { got <- r.chatSend(nil, "1", wire.ChatSend{}) }()
	for len(r.sends) == 0 {
		time.Sleep(time.Millisecond)
	}
	close(r.quit)
	close(r.done)
	select {
	case err := <-got:
		if !errors.Is(err, ErrClosed) {
			t.Fatalf("chatSend after the router stopped: %v, want ErrClosed", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("chatSend still waiting 5 s after the router stopped with its message queued")
	}
}
