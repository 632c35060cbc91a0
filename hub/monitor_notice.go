package hub

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"

	"github.com/parleyhq/parley/hub/store"
	"github.com/parleyhq/parley/wire"
)

// The monitoring notice: an organisation may require that the customer and the agent are told
// when a supervisor starts listening or whispering on a call (wire.MonitoringSettings). The hub
// tells them as it authorises the leg, so no client can skip it: a transcript line both parties
// read, and the call's state (Monitored) while the leg listens or whispers. Barging in is told
// whatever the setting (monitor.go).

// settingMonitoring is the org_settings key of the monitoring setting.
const settingMonitoring = "monitoring"

// AuditMonitoringUpdate is the audit action of a changed monitoring setting.
const AuditMonitoringUpdate = "settings.monitoring"

// monitoringSettings reads an organisation's monitoring setting (no notice when never set).
func (s *Server) monitoringSettings(ctx context.Context, org wire.OrgID) (wire.MonitoringSettings, error) {
	raw, err := s.store.OrgSetting(ctx, org, settingMonitoring)
	if errors.Is(err, store.ErrNotFound) {
		return wire.MonitoringSettings{}, nil
	}
	if err != nil {
		return wire.MonitoringSettings{}, err
	}
	var v wire.MonitoringSettings
	if err := json.Unmarshal([]byte(raw), &v); err != nil {
		return wire.MonitoringSettings{}, err
	}
	return v, nil
}

// SetMonitoringSettings stores an organisation's monitoring setting. A leg already running keeps
// the setting it started with; the next ones follow the new one.
func (s *Server) SetMonitoringSettings(ctx context.Context, by Actor, org wire.OrgID, v wire.MonitoringSettings) error {
	if err := s.checkOrg(ctx, org); err != nil {
		return err
	}
	detail := "no notice"
	if v.Notice {
		detail = "customers and agents are told when a supervisor listens"
	}
	if err := s.saveOrgSetting(ctx, by, org, settingMonitoring, v, AuditMonitoringUpdate, detail); err != nil {
		return err
	}
	return s.router.call(func() error {
		if o := s.router.orgs[org]; o != nil {
			o.monitoring = v
		}
		return nil
	})
}

// monitorNoticeOn says whether m's leg must be told to the call's parties now: its organisation
// requires a notice (as it was when the leg started) and the supervisor listens or whispers.
func (m *monitorState) monitorNoticeOn() bool {
	return m.notice && !m.mon.Ended && (m.mon.Mode == wire.MonitorListen || m.mon.Mode == wire.MonitorWhisper)
}

// monitorNotice brings the call's parties up to date with m's leg after a change: the line and
// the call's state when a notice starts to apply, another line when the supervisor stops
// listening. A move to barge is told by the joined line, whose call state carries this one.
func (r *router) monitorNotice(m *monitorState) {
	on := m.monitorNoticeOn()
	if on == m.cl.call.Monitored {
		return
	}
	m.cl.call.Monitored = on
	if !on && m.mon.Mode == wire.MonitorBarge && !m.mon.Ended {
		return // supervisorJoined sends the call's state next
	}
	if m.cl.call.State != wire.CallEnded {
		r.sendCallState(m.cl)
	}
	if on {
		r.systemEvent(m.cl.cs, "A supervisor is listening to this call", &wire.Event{Kind: wire.EventSupervisorListening, Name: m.mon.SupervisorName})
	} else {
		r.systemEvent(m.cl.cs, "The supervisor stopped listening", &wire.Event{Kind: wire.EventSupervisorStoppedListening, Name: m.mon.SupervisorName})
	}
}

// monitoringRoutes adds the monitoring setting's API.
func (s *Server) monitoringRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/v1/orgs/{org}/settings/monitoring", s.handleGetMonitoring)
	mux.HandleFunc("PUT /api/v1/orgs/{org}/settings/monitoring", s.admin(s.handlePutMonitoring))
}

func (s *Server) handleGetMonitoring(w http.ResponseWriter, r *http.Request) {
	org := wire.OrgID(r.PathValue("org"))
	if _, err := s.member(r, org, wire.RoleAdmin, wire.RoleSupervisor, wire.RoleAgent); err != nil {
		writeError(w, err)
		return
	}
	v, err := s.monitoringSettings(r.Context(), org)
	s.answer(w, "reading the monitoring setting", v, err)
}

func (s *Server) handlePutMonitoring(w http.ResponseWriter, r *http.Request, a adminCtx) {
	var v wire.MonitoringSettings
	if err := readJSON(r, &v); err != nil {
		writeError(w, err)
		return
	}
	if err := s.SetMonitoringSettings(r.Context(), a.by, a.org, v); err != nil {
		s.answer(w, "storing the monitoring setting", nil, err)
		return
	}
	s.log.Info("monitoring setting changed", "org", a.org, "notice", v.Notice, "by", a.tok.User)
	writeJSON(w, http.StatusOK, v)
}
