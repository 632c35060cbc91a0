package app

import (
	"sync"
	"time"
)

// The window's web content can die under the agent: WebKitGTK runs the page in its own process
// (WebKitWebProcess), and when that process crashes the window keeps its last picture and ignores
// every click while the Go side, the hub connection and any call carry on. The desktop shell
// (main.go) notices the crash, reloads the page and tells the services through WindowGone; the
// reloaded UI asks for the current state as it does after any start, and reports through
// Window.Ready. A call goes on through a crash: its media never left Go. If the page does not come
// back, nobody can see the customers: the call is ended and the agent signed out, which hands their
// chats back to the queue, so no customer is left waiting on a dead window.

// WindowTimeout is how long a reloaded window may take to report Ready before the services give
// up on it.
const WindowTimeout = time.Minute

// windowCrashLimit crashes within windowCrashSpan stop the reloads: a page that dies as soon as it
// loads would otherwise be reloaded forever.
const (
	windowCrashLimit = 5
	windowCrashSpan  = 2 * time.Minute
)

// Window is the UI's side of crash recovery: the page calls Ready each time it has loaded.
type Window struct {
	c *core

	mu sync.Mutex
	// crashes are the times the web content died lately, oldest first.
	crashes []time.Time
	// waiting is true from a crash until the reloaded page reports Ready.
	waiting bool
	// timer gives up on the window WindowTimeout after a crash.
	timer *time.Timer
	// timeout is WindowTimeout; tests shorten it.
	timeout time.Duration
}

func newWindow(c *core, timeout time.Duration) *Window {
	if timeout <= 0 {
		timeout = WindowTimeout
	}
	return &Window{c: c, timeout: timeout}
}

// EventWindow carries a WindowNotice when a reloaded window reports Ready after a crash.
const EventWindow = "window"

// WindowNotice tells the reloaded UI what happened while it was gone.
type WindowNotice struct {
	// Recovered is true: the page died and was reloaded.
	Recovered bool `json:"recovered"`
	// Call is true when a call went on through the crash.
	Call bool `json:"call"`
}

// Ready is called by the UI each time its page has loaded. After a crash it stops the countdown
// and tells the UI (EventWindow), which says so to the agent.
func (w *Window) Ready() error {
	w.mu.Lock()
	was := w.waiting
	w.waiting = false
	if w.timer != nil {
		w.timer.Stop()
		w.timer = nil
	}
	w.mu.Unlock()
	if !was {
		return nil
	}
	call := w.c.calls.current() != nil
	w.c.log.Info("window recovered after its web content stopped", "call", call)
	w.c.mu.Lock()
	defer w.c.mu.Unlock()
	out := []emission{{EventWindow, WindowNotice{Recovered: true, Call: call}}}
	if w.c.active != "" { // the conversation the agent had open, again (the page also asks for it)
		out = append(out, emission{EventActive, w.c.active})
	}
	w.c.events.emitAll(out) // numbered under the lock of the state they show
	return nil
}

// SetShown is called by the UI when the window becomes hidden (minimised, on another workspace:
// the page's document.visibilityState) or is shown again. While it is hidden the video views get
// no frames: the render bridge encodes nothing and the webview decodes and paints nothing. The
// call itself goes on, and the pictures move again as soon as the window is shown.
func (w *Window) SetShown(shown bool) error {
	w.c.log.Debug("window shown", "shown", shown)
	w.c.calls.setShown(shown)
	return nil
}

// WindowGone is called by the desktop shell when the window's web content stopped (reason as the
// web engine gives it: "crashed", "memory", "unresponsive"...). It reports whether the shell should
// reload the page: false once the page has died windowCrashLimit times in windowCrashSpan, when
// the services give up at once.
func (s *Services) WindowGone(reason string) (reload bool) {
	w := s.Window
	now := w.c.now()
	w.mu.Lock()
	recent := w.crashes[:0]
	for _, t := range w.crashes {
		if now.Sub(t) < windowCrashSpan {
			recent = append(recent, t)
		}
	}
	w.crashes = append(recent, now)
	reload = len(w.crashes) < windowCrashLimit
	w.waiting = true
	if w.timer != nil {
		w.timer.Stop()
		w.timer = nil
	}
	if reload {
		w.timer = time.AfterFunc(w.timeout, w.giveUp)
	}
	w.mu.Unlock()
	w.c.log.Warn("window web content stopped", "reason", reason, "reload", reload, "recent", len(w.crashes))
	w.c.calls.setShown(true) // the reloaded page sees its pictures even before it says it can be seen
	// The web engine keeps the dead page's video loads open, each holding one of the few
	// connections it makes to the render bridge: without this the reloaded page's pictures
	// wait for connections that never come free.
	w.c.calls.endStreams()
	if !reload {
		go w.giveUp()
	}
	return reload
}

// giveUp ends the call and signs out when the window did not come back: the customer on the call
// is told it ended, and the agent's chats go back to the queue for another agent.
func (w *Window) giveUp() {
	w.mu.Lock()
	waiting := w.waiting
	w.timer = nil
	w.mu.Unlock()
	if !waiting {
		return
	}
	w.c.log.Error("the window did not come back after its web content stopped: ending the call and signing out")
	if s := w.c.calls.current(); s != nil {
		s.q.Do(func() { s.hangUpWith("window") })
	}
	if err := (&Session{c: w.c}).SignOut(); err != nil {
		w.c.log.Warn("sign-out after the window was lost", "err", err)
	}
}
