package main

import (
	"flag"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/parleyhq/parley/app"
	"github.com/parleyhq/parley/media"
	"github.com/parleyhq/parley/wire"
)

// -monitor: signed in as a supervisor, the agent monitors the first agent it sees on a call
// (the team view's Listen, Whisper and Join buttons): it goes through the modes listed, one
// every -monitor-step, and stays in the last. It logs the leg's state and, every second, how
// loud each side it hears is ("monitor" lines: customer_level, agent_level), which end-to-end
// tests read. -microphone picks what it says (test-pattern-2, an 880 Hz tone, tells it from the
// agent's 440 Hz test tone). On the agent's side, the call's log says who coaches it and how
// loud ("call coach", and coach_level in -v's quality lines).
type monitorPlan struct {
	modes []wire.MonitorMode
	step  time.Duration
	mic   string

	mu      sync.Mutex
	started bool
	last    app.MonitorView
}

func (m *Main) monitorFlags(fl *flag.FlagSet) {
	fl.Func("monitor", "as a supervisor, monitor the first agent seen on a call: listen, whisper or barge, or several separated by commas, one every -monitor-step", func(s string) error {
		for _, p := range strings.Split(s, ",") {
			switch mode := wire.MonitorMode(strings.TrimSpace(p)); mode {
			case wire.MonitorListen, wire.MonitorWhisper, wire.MonitorBarge:
				m.mon.modes = append(m.mon.modes, mode)
			default:
				return fmt.Errorf("%q is not listen, whisper or barge", p)
			}
		}
		return nil
	})
	fl.DurationVar(&m.mon.step, "monitor-step", 6*time.Second, "how long each -monitor mode lasts before the next")
	fl.StringVar(&m.mon.mic, "microphone", "", "the microphone calls and monitoring take (a device ID, or test-pattern-2 for the 880 Hz tone)")
}

// monitorEvent starts monitoring when the snapshot shows an agent on a call, and logs the leg.
func (m *Main) monitorEvent(data any) {
	p := &m.mon
	switch data := data.(type) {
	case app.SupervisorView:
		if len(p.modes) == 0 {
			return
		}
		p.mu.Lock()
		if p.started {
			p.mu.Unlock()
			return
		}
		var agent wire.UserID
		for _, a := range data.Agents {
			if a.OnCall {
				agent = a.ID
				break
			}
		}
		if agent == "" {
			p.mu.Unlock()
			return
		}
		p.started = true
		p.mu.Unlock()
		go m.runMonitor(agent)
	case app.MonitorView:
		p.mu.Lock()
		last := p.last
		p.last = data
		p.mu.Unlock()
		if data.Mode != last.Mode || data.Connection != last.Connection || data.Ended != last.Ended {
			m.log.Info("monitor state", "monitor", data.ID, "agent", data.Agent, "mode", data.Mode, "connection", data.Connection, "ended", data.Ended, "reason", data.Reason)
		}
		m.log.Info("monitor", "mode", data.Mode, "customer_level", data.CustomerLevel, "agent_level", data.AgentLevel)
	}
}

// runMonitor goes through the modes on agent's call.
func (m *Main) runMonitor(agent wire.UserID) {
	for i, mode := range m.mon.modes {
		if i > 0 {
			time.Sleep(m.mon.step)
		}
		v, err := m.svc.Supervisor.Monitor(agent, mode)
		if err != nil {
			m.log.Warn("monitor refused", "agent", agent, "mode", mode, "code", wire.ErrorCode(err))
			return
		}
		m.log.Info("monitoring", "monitor", v.ID, "call", v.Call, "agent", agent, "mode", mode)
	}
}

// selectMicrophone applies -microphone.
func (m *Main) selectMicrophone() error {
	if m.mon.mic == "" {
		return nil
	}
	return m.svc.Calls.SelectDevice(media.KindMicrophone, m.mon.mic)
}
