package app

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/parleyhq/parley/media"
	"github.com/parleyhq/parley/wire"
)

// The call manager: the current call, its view for the UI, the hub's call events routed to it.

// callManager owns the current call. Bound methods and hub events reach a call through its
// session's work queue, so that signalling steps run one at a time and in order.
type callManager struct {
	c    *core
	mode DeviceMode
	log  *slog.Logger
	// send carries a request to the hub (core.request; tests signal directly).
	send func(t wire.Type, payload any) (wire.Ack, error)

	mu     sync.Mutex
	cur    *callSession // the current call; nil when none
	view   *CallView    // the last view emitted
	camera string       // chosen devices ("" = default)
	mic    string
	spk    string
	bridge *media.Bridge // render bridge shared by all calls and screen shares, made on first use
	hidden bool          // the window cannot be seen (Window.SetShown)
	// playTone plays a tone on an output device (media.PlayTone; tests swap it).
	playTone func(ctx context.Context, id string, hz float64, d time.Duration) error
}

func newCallManager(c *core, mode DeviceMode) *callManager {
	if mode == "" {
		mode = DevicesSystem
	}
	m := &callManager{c: c, mode: mode, log: c.log.With("component", "calls"), send: c.request, playTone: media.PlayTone}
	if mode == DevicesTestPattern {
		m.camera, m.mic, m.spk = media.TestPatternID, media.TestPatternID, "none"
	}
	return m
}

// testTone plays the speaker test's tone (440 Hz for 1.5 s) with play on the speaker calls use:
// Test my setup's and the call's device menu's. "None" silences calls, but the test plays on
// the system's output.
func (m *callManager) testTone(ctx context.Context, play func(ctx context.Context, id string, hz float64, d time.Duration) error) error {
	m.mu.Lock()
	spk := m.spk
	m.mu.Unlock()
	if spk == "none" {
		spk = ""
	}
	return play(ctx, spk, 440, 1500*time.Millisecond)
}

// current returns the current call session, nil when none.
func (m *callManager) current() *callSession {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.cur
}

// clear forgets s if it is the current call, and tells the UI there is none.
func (m *callManager) clear(s *callSession) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.cur == s {
		m.cur, m.view = nil, nil
		m.c.events.emit(EventCall, (*CallView)(nil))
	}
}

// publish stores and emits s's view.
func (m *callManager) publish(s *callSession) {
	v := s.viewOf()
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.cur != s {
		return
	}
	m.view = &v
	m.c.events.emit(EventCall, &v)
}

// getBridge returns the render bridge, made on first use.
func (m *callManager) getBridge() (*media.Bridge, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.bridge == nil {
		br, err := media.NewBridge(m.log)
		if err != nil {
			return nil, err
		}
		br.SetShown(!m.hidden)
		m.bridge = br
	}
	return m.bridge, nil
}

// setShown tells the render bridge whether the window can be seen: while it cannot, no video
// frame is encoded for it.
func (m *callManager) setShown(shown bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.hidden = !shown
	if m.bridge != nil {
		m.bridge.SetShown(shown)
	}
}

// endStreams ends the render bridge's streams: the page that showed them is gone (see
// Bridge.EndStreams), and its reloaded page opens its own, on the bridge's new port: the call's
// view is made again with the new URLs.
func (m *callManager) endStreams() {
	m.mu.Lock()
	br, s := m.bridge, m.cur
	m.mu.Unlock()
	if br == nil {
		return
	}
	br.EndStreams()
	if s != nil {
		s.q.Enqueue(func() { m.publish(s) })
	}
}

// onHub takes a call event from the hub. It runs on the connection's goroutine under core.mu,
// so it only converts hub times to local ones and queues the work.
func (m *callManager) onHub(ev wire.Envelope) {
	switch ev.Type {
	case wire.TypeCallState:
		var st wire.Call
		if ev.Unmarshal(&st) != nil {
			return
		}
		st.CreatedAt, st.AnsweredAt, st.EndedAt = m.c.local(st.CreatedAt), m.c.local(st.AnsweredAt), m.c.local(st.EndedAt)
		m.mu.Lock()
		s := m.cur
		m.mu.Unlock()
		if s == nil || (st.Conv != s.conv) {
			if st.State != wire.CallEnded {
				// A call this app does not hold (left over from before a restart): hang it up
				// rather than let it ring on.
				m.log.Info("hanging up a call this app does not hold", "call", st.ID, "conv", st.Conv)
				id := st.ID
				go func() { _, _ = m.send(wire.TypeCallEnd, wire.CallRef{Call: id}) }()
			}
			return
		}
		s.q.Enqueue(func() { s.onState(st) })
	case wire.TypeCallSignal:
		var sig wire.CallSignal
		if ev.Unmarshal(&sig) != nil {
			return
		}
		if s := m.current(); s != nil {
			s.q.Enqueue(func() { s.onSignal(sig) })
		}
	case wire.TypeCallMedia:
		var cm wire.CallMedia
		if ev.Unmarshal(&cm) != nil {
			return
		}
		if s := m.current(); s != nil {
			s.q.Enqueue(func() { s.onMedia(cm) })
		}
	}
}

// drop ends the current call locally, without telling the hub (signed out, connection lost:
// the hub ends the call itself). It may run under core.mu.
func (m *callManager) drop() {
	s := m.current()
	if s == nil {
		return
	}
	s.q.Enqueue(func() {
		s.log.Info("call dropped: signed out or connection lost")
		s.finish(wire.AuthorAgent, "disconnected", "")
	})
}

// close releases the render bridge (the app is quitting).
func (m *callManager) close() {
	m.drop()
	m.mu.Lock()
	br := m.bridge
	m.bridge = nil
	m.mu.Unlock()
	if br != nil {
		_ = br.Close()
	}
}
