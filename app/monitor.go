package app

import (
	"log/slog"
	"math"
	"sync"
	"time"

	"github.com/parleyhq/parley/internal/ops"
	"github.com/parleyhq/parley/media"
	"github.com/parleyhq/parley/wire"
)

// Monitoring a call (wire/monitor.go): on the agent's side the call session opens the
// supervisor's leg from its media engine when the hub says a supervisor asked, offers, and
// follows the mode; on the supervisor's side Supervisor.Monitor asks the hub and answers the
// agent's offer with a peer connection of its own that sends the supervisor's microphone (muted
// while listening) and plays both sides.

// EventMonitor carries the supervisor's MonitorView: their leg's mode, connection and end, and
// about once a second how loud each side is.
const EventMonitor = "monitor"

// MonitorView is a supervisor's leg on an agent's call, as the team view shows it.
type MonitorView struct {
	ID    wire.MonitorID      `json:"id"`
	Agent wire.UserID         `json:"agent"`
	Call  wire.CallID         `json:"call"`
	Conv  wire.ConversationID `json:"conv"`
	Mode  wire.MonitorMode    `json:"mode"`
	// Connection is the leg's peer connection state.
	Connection media.ConnectionState `json:"connection"`
	// Ended is set once the leg is over; Reason is the hub's ("stopped", "call_ended",
	// "supervisor_gone") or "connection_lost".
	Ended  bool   `json:"ended,omitempty"`
	Reason string `json:"reason,omitempty"`
	// CustomerLevel and AgentLevel are how loud each side is (RMS, 0..1) for the level meters.
	CustomerLevel float64 `json:"customer_level"`
	AgentLevel    float64 `json:"agent_level"`
}

func mediaMode(m wire.MonitorMode) media.MonitorMode {
	switch m {
	case wire.MonitorWhisper:
		return media.MonitorWhisper
	case wire.MonitorBarge:
		return media.MonitorBarge
	default:
		return media.MonitorListen
	}
}

func iceOptions(ice *wire.ICEConfig) (servers []media.ICEServer, relayOnly bool) {
	if ice == nil {
		return nil, false
	}
	for _, sv := range ice.Servers {
		servers = append(servers, media.ICEServer{URLs: sv.URLs, Username: sv.Username, Credential: sv.Credential})
	}
	return servers, ice.Policy == "relay"
}

// wireCandidate is a local ICE candidate as the hub relays it to the other party.
func wireCandidate(c media.Candidate) *wire.ICECandidate {
	ic := &wire.ICECandidate{Candidate: c.Candidate, SDPMid: c.SDPMid}
	if c.SDPMLineIndex != nil {
		i := int(*c.SDPMLineIndex)
		ic.SDPMLineIndex = &i
	}
	return ic
}

// mediaCandidate is the other party's ICE candidate for the peer connection; an m-line index out
// of range is dropped.
func mediaCandidate(ic *wire.ICECandidate) media.Candidate {
	c := media.Candidate{Candidate: ic.Candidate, SDPMid: ic.SDPMid}
	if i := ic.SDPMLineIndex; i != nil && *i >= 0 && *i < 1<<16 {
		u := uint16(*i)
		c.SDPMLineIndex = &u
	}
	return c
}

// --- The agent's end ---

// onMonitor applies the hub's monitor.state to the agent's call: open the leg, change its mode,
// or close it.
func (s *callSession) onMonitor(st wire.Monitor) {
	if st.Ended {
		if st.ID == s.monID {
			s.closeMonitor(st.Reason)
		}
		return
	}
	if st.Call != s.id || s.mc == nil || s.state != CallActive {
		return
	}
	if s.monID != st.ID {
		s.closeMonitor("replaced")
		if err := s.openMonitor(st); err != nil {
			s.log.Warn("supervisor's leg failed", "monitor", st.ID, "err", err)
			return
		}
	}
	if s.monMode != st.Mode {
		s.log.Info("supervisor's leg", "monitor", st.ID, "mode", st.Mode)
	}
	s.monMode, s.monName = st.Mode, st.SupervisorName
	s.mon.SetMode(mediaMode(st.Mode))
	s.m.publish(s)
}

// openMonitor opens the supervisor's leg on the call's media engine and sends the offer.
func (s *callSession) openMonitor(st wire.Monitor) error {
	servers, relayOnly := iceOptions(st.ICE)
	mon, err := s.mc.StartMonitor(media.MonitorOptions{Mode: mediaMode(st.Mode), ICEServers: servers, RelayOnly: relayOnly})
	if err != nil {
		return err
	}
	s.mon, s.monID = mon, st.ID
	id, q := st.ID, s.q
	mon.OnLocalCandidate(func(c media.Candidate) {
		q.Enqueue(func() {
			if s.monID == id {
				s.request(wire.TypeMonitorSignal, wire.MonitorSignal{Monitor: id, Candidate: wireCandidate(c)})
			}
		})
	})
	mon.OnConnectionState(func(cs media.ConnectionState) {
		s.log.Debug("supervisor's leg connection", "monitor", id, "state", cs)
	})
	offer, err := mon.CreateOffer()
	if err != nil {
		s.closeMonitor("failed")
		return err
	}
	s.log.Info("supervisor's leg opened", "monitor", id, "supervisor", st.Supervisor, "relay_only", relayOnly)
	s.request(wire.TypeMonitorSignal, wire.MonitorSignal{Monitor: id, SDP: &wire.SDP{Type: "offer", SDP: offer}})
	return nil
}

// onMonitorSignal applies the supervisor's answer and candidates.
func (s *callSession) onMonitorSignal(sig wire.MonitorSignal) {
	if s.mon == nil || sig.Monitor != s.monID {
		return
	}
	switch {
	case sig.SDP != nil && sig.SDP.Type == "answer":
		if err := s.mon.HandleAnswer(sig.SDP.SDP); err != nil {
			s.log.Warn("supervisor's answer", "err", err)
		}
	case sig.Candidate != nil && sig.Candidate.Candidate != "":
		if err := s.mon.AddRemoteCandidate(mediaCandidate(sig.Candidate)); err != nil {
			s.log.Debug("supervisor's candidate", "err", err)
		}
	}
}

// closeMonitor closes the supervisor's leg, if any; the call goes on.
func (s *callSession) closeMonitor(reason string) {
	if s.mon == nil {
		return
	}
	if err := s.mon.Close(); err != nil {
		s.log.Debug("closing the supervisor's leg", "err", err)
	}
	s.log.Info("supervisor's leg closed", "monitor", s.monID, "reason", reason)
	s.mon, s.monID, s.monMode, s.monName = nil, "", "", ""
	if s.state != CallEnded {
		s.m.publish(s)
	}
}

// coach is who the agent hears besides the customer: the supervisor whispering or barging.
func (s *callSession) coach() string {
	if s.mon == nil || s.monMode == wire.MonitorListen || s.monMode == "" {
		return ""
	}
	if s.monName == "" {
		return "supervisor"
	}
	return s.monName
}

// --- The supervisor's end ---

// monitorLeg is the supervisor's end of one leg. Its fields are used on its queue only.
type monitorLeg struct {
	// id is the leg's id once known (the request's answer or the hub's state, whichever comes
	// first); guarded by monitors.mu, it routes the hub's events.
	id    wire.MonitorID
	q     *ops.Queue
	log   *slog.Logger
	view  MonitorView
	mc    *media.Call
	stop  chan struct{}
	level [2]float64 // customer, agent: smoothed RMS, written by the receive goroutines
	lmu   sync.Mutex
}

// monitors holds the supervisor's leg (one at a time).
type monitors struct {
	c  *core
	mu sync.Mutex
	// leg is the current leg; nil when none.
	leg *monitorLeg
}

func (ms *monitors) current() *monitorLeg {
	if ms == nil { // a core built by hand in a test
		return nil
	}
	ms.mu.Lock()
	defer ms.mu.Unlock()
	return ms.leg
}

// claim returns the leg that id names: the current one, which takes id if it has none yet.
func (ms *monitors) claim(id wire.MonitorID) *monitorLeg {
	if ms == nil {
		return nil
	}
	ms.mu.Lock()
	defer ms.mu.Unlock()
	l := ms.leg
	if l == nil || (l.id != "" && l.id != id) {
		return nil
	}
	l.id = id
	return l
}

// knows reports whether the leg is id.
func (l *monitorLeg) knows(mu *sync.Mutex, id wire.MonitorID) bool {
	mu.Lock()
	defer mu.Unlock()
	return l.id == id
}

// onMonitorEvent routes a monitor event: a leg of this supervisor's, or the agent's call.
func (c *core) onMonitorEvent(ev wire.Envelope) {
	switch ev.Type {
	case wire.TypeMonitorState:
		var st wire.Monitor
		if ev.Unmarshal(&st) != nil {
			return
		}
		if c.session.User != nil && st.Supervisor == c.session.User.ID {
			if l := c.monitor.claim(st.ID); l != nil {
				l.q.Enqueue(func() { c.monitor.onState(l, st) })
			}
			return
		}
		if s := c.calls.current(); s != nil {
			s.q.Enqueue(func() { s.onMonitor(st) })
		}
	case wire.TypeMonitorSignal:
		var sig wire.MonitorSignal
		if ev.Unmarshal(&sig) != nil {
			return
		}
		if l := c.monitor.current(); l != nil && l.knows(&c.monitor.mu, sig.Monitor) {
			l.q.Enqueue(func() { c.monitor.onSignal(l, sig) })
			return
		}
		if s := c.calls.current(); s != nil {
			s.q.Enqueue(func() { s.onMonitorSignal(sig) })
		}
	}
}

// start asks the hub for a leg on agent's call in mode, or a new mode on the current leg.
func (ms *monitors) start(agent wire.UserID, mode wire.MonitorMode) (MonitorView, error) {
	ms.mu.Lock()
	l := ms.leg
	ms.mu.Unlock()
	if l != nil && l.view.Agent != agent {
		ms.stop()
		l = nil
	}
	if l == nil {
		// The leg exists before the request: the hub's monitor.state and the agent's offer
		// may come before the request's answer.
		l = &monitorLeg{q: &ops.Queue{}, log: ms.c.log.With("component", "monitor", "agent", agent)}
		l.view = MonitorView{Agent: agent, Mode: mode, Connection: media.ConnectionNew}
		ms.mu.Lock()
		ms.leg = l
		ms.mu.Unlock()
	}
	ack, err := ms.c.request(wire.TypeCallMonitor, wire.CallMonitor{Agent: agent, Mode: mode})
	if err != nil {
		ms.mu.Lock()
		if ms.leg == l && l.id == "" {
			ms.leg = nil
			l.q.Close()
		}
		ms.mu.Unlock()
		return MonitorView{}, err
	}
	if ms.claim(ack.Monitor) != l {
		return MonitorView{}, wire.Errorf(wire.ECONFLICT, "another leg started meanwhile")
	}
	done := make(chan MonitorView, 1)
	l.q.Enqueue(func() {
		if l.view.ID == "" {
			l.view.ID, l.view.Call = ack.Monitor, ack.Call
		}
		l.view.Mode = mode
		if l.mc != nil {
			l.mc.SetMuted(mode == wire.MonitorListen)
		}
		l.log.Info("monitoring", "monitor", l.view.ID, "call", l.view.Call, "mode", mode)
		done <- l.view
	})
	// The state may already have come (routed by id): apply what waits.
	select {
	case v := <-done:
		return v, nil
	case <-time.After(requestTimeout):
		return l.view, nil
	}
}

// onState applies the hub's monitor.state to the supervisor's leg.
func (ms *monitors) onState(l *monitorLeg, st wire.Monitor) {
	if l.view.Ended {
		return
	}
	l.view.ID, l.view.Call, l.view.Conv, l.view.Mode = st.ID, st.Call, st.Conv, st.Mode
	if st.Ended {
		ms.finish(l, st.Reason)
		return
	}
	if l.mc == nil {
		if err := ms.open(l, st); err != nil {
			l.log.Warn("the supervisor's leg failed", "err", err)
			ms.finish(l, "failed")
			go func() { _, _ = ms.c.request(wire.TypeCallMonitor, wire.CallMonitor{Agent: l.view.Agent}) }()
			return
		}
	}
	l.mc.SetMuted(st.Mode == wire.MonitorListen)
	ms.emit(l)
}

// open makes the supervisor's peer connection: the microphone (muted while listening) and both
// sides played, each measured for the meters.
func (ms *monitors) open(l *monitorLeg, st wire.Monitor) error {
	cm := ms.c.calls
	cm.mu.Lock()
	mic, spk := cm.mic, cm.spk
	cm.mu.Unlock()
	servers, relayOnly := iceOptions(st.ICE)
	mc, err := media.NewCall(media.Options{Audio: true, Microphone: mic, Speaker: spk, ICEServers: servers, RelayOnly: relayOnly,
		Logger: l.log.With("component", "media")})
	if err != nil {
		return err
	}
	l.mc = mc
	mc.SetMuted(st.Mode == wire.MonitorListen)
	id, q := st.ID, l.q
	mc.OnLocalCandidate(func(c media.Candidate) {
		go func() {
			_, _ = ms.c.request(wire.TypeMonitorSignal, wire.MonitorSignal{Monitor: id, Candidate: wireCandidate(c)})
		}()
	})
	mc.OnStateChange(func(s media.State) {
		q.Enqueue(func() {
			if l.view.Connection != s.Connection && !l.view.Ended {
				l.log.Info("monitor connection", "monitor", id, "connection", s.Connection)
				l.view.Connection = s.Connection
				ms.emit(l)
			}
		})
	})
	mc.OnRemoteTrackAudio(func(track string, pcm []int16) {
		i := 0
		if track == media.MonitorAgentTrack {
			i = 1
		}
		e := media.Energy(pcm)
		l.lmu.Lock()
		l.level[i] = 0.8*l.level[i] + 0.2*e
		l.lmu.Unlock()
	})
	l.stop = make(chan struct{})
	everySecond(l.stop, func() {
		q.Enqueue(func() {
			if !l.view.Ended {
				ms.emit(l)
			}
		})
	})
	return nil
}

// onSignal applies the agent's offer (answering it) and candidates.
func (ms *monitors) onSignal(l *monitorLeg, sig wire.MonitorSignal) {
	if l.mc == nil || l.view.Ended {
		return
	}
	switch {
	case sig.SDP != nil && sig.SDP.Type == "offer":
		ans, err := l.mc.HandleOffer(sig.SDP.SDP)
		if err != nil {
			l.log.Warn("agent's offer", "err", err)
			return
		}
		go func() {
			_, _ = ms.c.request(wire.TypeMonitorSignal, wire.MonitorSignal{Monitor: sig.Monitor, SDP: &wire.SDP{Type: "answer", SDP: ans}})
		}()
	case sig.Candidate != nil && sig.Candidate.Candidate != "":
		if err := l.mc.AddRemoteCandidate(mediaCandidate(sig.Candidate)); err != nil {
			l.log.Debug("agent's candidate", "err", err)
		}
	}
}

// emit sends the leg's view with the current levels.
func (ms *monitors) emit(l *monitorLeg) {
	l.lmu.Lock()
	l.view.CustomerLevel, l.view.AgentLevel = round3(l.level[0]), round3(l.level[1])
	l.lmu.Unlock()
	ms.c.events.emit(EventMonitor, l.view)
}

func round3(f float64) float64 { return math.Round(f*1000) / 1000 }

// finish closes the leg's media and shows it ended.
func (ms *monitors) finish(l *monitorLeg, reason string) {
	if l.view.Ended {
		return
	}
	l.view.Ended, l.view.Reason = true, reason
	if l.stop != nil {
		close(l.stop)
	}
	if l.mc != nil {
		_ = l.mc.Close()
	}
	l.log.Info("monitor ended", "monitor", l.view.ID, "reason", reason)
	ms.emit(l)
	ms.mu.Lock()
	if ms.leg == l {
		ms.leg = nil
	}
	ms.mu.Unlock()
	l.q.Close()
}

// stop ends the supervisor's leg: the hub is told, the media closes at once.
func (ms *monitors) stop() {
	l := ms.current()
	if l == nil {
		return
	}
	agent := l.view.Agent
	l.q.Enqueue(func() { ms.finish(l, "stopped") })
	go func() { _, _ = ms.c.request(wire.TypeCallMonitor, wire.CallMonitor{Agent: agent}) }()
}

// drop ends the leg locally (signed out, connection lost: the hub has ended it). It may run
// under core.mu.
func (ms *monitors) drop() {
	if l := ms.current(); l != nil {
		l.q.Enqueue(func() { ms.finish(l, "connection_lost") })
	}
}
