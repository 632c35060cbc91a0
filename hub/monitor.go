package hub

import (
	"log/slog"

	"github.com/parleyhq/parley/wire"
)

// Monitoring: a supervisor's leg on an agent's live call (listen, whisper, barge; see
// wire/monitor.go). The hub authorises it, hands each end its ICE servers from the call's relay
// plan, and relays the leg's signalling between the supervisor's connection and the agent's app;
// the media goes between the agent's engine and the supervisor, never through the hub. A leg
// belongs to the supervisor's connection that asked for it and ends with it, with the call, or
// when the supervisor stops it; the call goes on in every case.

// ErrMonitorBusy indicates a call that already has a supervisor on it.
var ErrMonitorBusy = &wire.Error{Code: wire.ECONFLICT, Message: "another supervisor is on this call"}

// ErrMonitoringElsewhere indicates a supervisor asking for a second leg while on another call.
var ErrMonitoringElsewhere = &wire.Error{Code: wire.ECONFLICT, Message: "you are already on another call"}

// ErrNoLiveCall indicates an agent with no live call in the supervisor's organisation (or an
// agent of another organisation: both read the same).
var ErrNoLiveCall = &wire.Error{Code: wire.ENOTFOUND, Message: "the agent has no live call"}

// monitorState is one supervisor's leg on a call, owned by the router goroutine.
type monitorState struct {
	// mon is the state both ends see, without ICE (each gets their own).
	mon wire.Monitor
	cl  *callState
	// sup is the supervisor's connection that asked for the leg: its signalling goes there,
	// and the leg ends with it.
	sup *conn
	// ice are each end's ICE servers, by end ("agent", "supervisor").
	ice map[wire.Author]*wire.ICEConfig
	// notice is the organisation's monitoring notice when the leg started: listening and
	// whispering are told to the call's parties (monitor_notice.go).
	notice bool
	log    *slog.Logger
}

// The leg's two ends, as they name TURN credentials and ICE plans.
const (
	monitorAgentEnd      wire.Author = "agent"
	monitorSupervisorEnd wire.Author = "supervisor"
)

// monitorRequest decodes and checks a monitor message, then hands it to the router.
func (c *conn) monitorRequest(env wire.Envelope) error {
	switch env.Type {
	case wire.TypeCallMonitor:
		return decode(env, func(cm wire.CallMonitor) error {
			switch cm.Mode {
			case "", wire.MonitorListen, wire.MonitorWhisper, wire.MonitorBarge:
			default:
				return wire.Errorf(wire.EINVALID, "mode must be listen, whisper, barge or empty")
			}
			return c.s.router.callMonitor(c, env.RID, cm)
		})
	case wire.TypeMonitorSignal:
		return decode(env, func(ms wire.MonitorSignal) error {
			if err := checkSDPOrCandidate(ms.SDP, ms.Candidate); err != nil {
				return err
			}
			return c.s.router.monitorSignal(c, env.RID, ms)
		})
	default: // monitor.state is the hub's to send
		return wire.Errorf(wire.EINVALID, "%s is sent by the hub only", env.Type)
	}
}

// callMonitor starts a supervisor's leg on an agent's live call, changes its mode, or ends it.
func (r *router) callMonitor(c *conn, rid string, cm wire.CallMonitor) error {
	return r.call(func() error {
		if c.role != wire.RoleSupervisor && c.role != wire.RoleAdmin {
			return wire.Errorf(wire.EFORBIDDEN, "only supervisors monitor calls")
		}
		m := r.monitoring[c]
		if cm.Mode == "" {
			if m != nil && (cm.Agent == "" || cm.Agent == m.mon.Agent) {
				r.endMonitor(m, "stopped")
			}
			ack(c, rid, wire.Ack{})
			return nil
		}
		org := r.orgs[c.org]
		var cl *callState
		if org != nil {
			if a := org.agents[cm.Agent]; a != nil && a.call != nil && a.call.call.State == wire.CallActive {
				cl = a.call
			}
		}
		switch {
		case cl == nil:
			return ErrNoLiveCall
		case m != nil && m.cl != cl:
			return ErrMonitoringElsewhere
		case cl.mon != nil && cl.mon != m:
			return ErrMonitorBusy
		}
		if m != nil { // a new mode on the same leg
			r.setMonitorMode(m, cm.Mode)
			ack(c, rid, wire.Ack{Call: cl.call.ID, Monitor: m.mon.ID})
			return nil
		}
		id := wire.MonitorID(newID("mon"))
		m = &monitorState{
			mon: wire.Monitor{ID: id, Call: cl.call.ID, Conv: cl.cs.conv.ID, Agent: cl.agent.user.ID,
				Supervisor: c.user.ID, SupervisorName: c.user.DisplayName, Mode: cm.Mode},
			cl:     cl,
			sup:    c,
			ice:    map[wire.Author]*wire.ICEConfig{},
			notice: org.monitoring.Notice,
			log:    cl.log.With("monitor", id, "supervisor", c.user.ID),
		}
		// Both ends follow the call's relay plan: a GCC organisation's supervisor relays through
		// North America like the call's parties.
		for _, end := range []wire.Author{monitorAgentEnd, monitorSupervisorEnd} {
			ice, err := r.s.icePlan(cl.region, wire.CallID(id), end)
			if err != nil {
				m.log.Warn("monitor refused: no relay plan", "err", err)
				return err
			}
			m.ice[end] = ice
		}
		r.monitors[id], r.monitoring[c], cl.mon = m, m, m
		m.log.Info("monitor started", "mode", cm.Mode, "policy", m.ice[monitorSupervisorEnd].Policy)
		ack(c, rid, wire.Ack{Call: cl.call.ID, Monitor: id})
		r.sendMonitorState(m)
		if cm.Mode == wire.MonitorBarge {
			r.supervisorJoined(m)
		}
		r.monitorNotice(m)
		return nil
	})
}

// setMonitorMode moves a leg to another mode; barging in and out tells the call's parties.
func (r *router) setMonitorMode(m *monitorState, mode wire.MonitorMode) {
	if m.mon.Mode == mode {
		r.sendMonitorState(m)
		return
	}
	was := m.mon.Mode
	m.mon.Mode = mode
	m.log.Info("monitor mode", "from", was, "to", mode)
	r.sendMonitorState(m)
	// Out of the listening modes first (the notice's state goes with the joined line), then in.
	if mode == wire.MonitorBarge {
		r.monitorNotice(m)
	}
	switch {
	case mode == wire.MonitorBarge:
		r.supervisorJoined(m)
	case was == wire.MonitorBarge:
		r.supervisorLeft(m)
	}
	r.monitorNotice(m)
}

// supervisorJoined tells both parties that the supervisor joined the call.
func (r *router) supervisorJoined(m *monitorState) {
	m.cl.call.Supervisor = m.mon.SupervisorName
	if m.cl.call.Supervisor == "" {
		m.cl.call.Supervisor = string(m.mon.Supervisor)
	}
	r.sendCallState(m.cl)
	r.systemEvent(m.cl.cs, "A supervisor joined the call", &wire.Event{Kind: wire.EventSupervisorJoined, Name: m.cl.call.Supervisor})
}

// supervisorLeft tells both parties that the supervisor who had joined left.
func (r *router) supervisorLeft(m *monitorState) {
	m.cl.call.Supervisor = ""
	if m.cl.call.State != wire.CallEnded {
		r.sendCallState(m.cl)
	}
	r.systemEvent(m.cl.cs, "The supervisor left the call", &wire.Event{Kind: wire.EventSupervisorLeft, Name: m.mon.SupervisorName})
}

// endMonitor ends a leg and tells both ends; the call goes on.
func (r *router) endMonitor(m *monitorState, reason string) {
	if r.monitors[m.mon.ID] != m {
		return
	}
	delete(r.monitors, m.mon.ID)
	if r.monitoring[m.sup] == m {
		delete(r.monitoring, m.sup)
	}
	if m.cl.mon == m {
		m.cl.mon = nil
	}
	barged := m.mon.Mode == wire.MonitorBarge
	m.mon.Ended, m.mon.Reason = true, reason
	m.log.Info("monitor ended", "reason", reason)
	r.sendMonitorState(m)
	r.s.revokeMonitor(m.mon.ID)
	if barged {
		r.supervisorLeft(m)
	}
	r.monitorNotice(m)
}

// sendMonitorState sends the leg's state to the supervisor and to the agent, each with their ICE.
func (r *router) sendMonitorState(m *monitorState) {
	for _, end := range []wire.Author{monitorAgentEnd, monitorSupervisorEnd} {
		st := m.mon
		if !st.Ended {
			st.ICE = m.ice[end]
		}
		frame := encode(wire.TypeMonitorState, st)
		if end == monitorAgentEnd {
			m.cl.agent.push(frame)
		} else {
			m.sup.push(&out{frame: frame})
		}
	}
}

// monitorSignal relays the leg's SDP and candidates between its two ends.
func (r *router) monitorSignal(c *conn, rid string, ms wire.MonitorSignal) error {
	return r.call(func() error {
		m := r.monitors[ms.Monitor]
		switch {
		case m == nil:
			return wire.Errorf(wire.ENOTFOUND, "no such monitor")
		case c == m.sup:
			m.cl.agent.push(encode(wire.TypeMonitorSignal, ms))
		case c.role == wire.RoleAgent && c.org == m.cl.cs.org.id && c.user.ID == m.cl.agent.user.ID:
			m.sup.push(&out{frame: encode(wire.TypeMonitorSignal, ms)})
		default:
			return wire.Errorf(wire.ENOTFOUND, "no such monitor")
		}
		ack(c, rid, wire.Ack{})
		return nil
	})
}

// revokeMonitor stops the embedded relay relaying for a leg's two ends.
func (s *Server) revokeMonitor(id wire.MonitorID) {
	ts := s.turn
	if ts == nil {
		return
	}
	go func() {
		for _, end := range []wire.Author{monitorAgentEnd, monitorSupervisorEnd} {
			ts.Revoke(turnID(wire.CallID(id), end))
		}
	}()
}
