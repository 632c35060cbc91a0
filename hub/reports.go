package hub

import (
	"encoding/csv"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/parleyhq/parley/wire"
)

// The supervisors' CSV reports: conversations with their handle time and calls, and calls. Both
// end with a recording column: the playback page of a conversation or call that was recorded.

// reportRoutes adds the supervisors' CSV reports.
func (s *Server) reportRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/v1/orgs/{org}/reports/conversations.csv", s.handleConversationsCSV)
	mux.HandleFunc("GET /api/v1/orgs/{org}/reports/calls.csv", s.handleCallsCSV)
}

// reportHeader are the columns of conversations.csv.
var reportHeader = []string{"conversation", "customer", "agent", "created_at", "accepted_at", "ended_at", "ended_by",
	"end_reason", "outcome", "handle_time_s", "calls", "answered_calls", "call_kinds", "call_outcomes", "call_time_s",
	"wrap_code", "wrap_note", "wrap_time_s", "recording"}

// callsHeader are the columns of calls.csv.
var callsHeader = []string{"call", "conversation", "agent_id", "kind", "outcome", "reason", "ended_by",
	"created_at", "answered_at", "ended_at", "ring_time_s", "duration_s", "recording"}

// reportWindow authenticates a report request (supervisors and admins) and reads its window:
// from and to as RFC 3339 times or Unix milliseconds (default: the last 24 hours).
func (s *Server) reportWindow(r *http.Request) (org wire.OrgID, since, until time.Time, err error) {
	org = wire.OrgID(r.PathValue("org"))
	if _, err = s.member(r, org, wire.RoleSupervisor, wire.RoleAdmin); err != nil {
		return
	}
	if until, err = timeParam(r, "to", s.now()); err != nil {
		return
	}
	since, err = timeParam(r, "from", until.Add(-statsWindow))
	return
}

// writeCSV answers with a CSV download of header and rows, formula cells defused.
func writeCSV(w http.ResponseWriter, name string, header []string, rows [][]string) {
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	w.Header().Set("Cache-Control", "no-store")
	cw := csv.NewWriter(w)
	_ = cw.Write(header)
	for _, row := range rows {
		_ = cw.Write(safeCells(row))
	}
	cw.Flush()
}

// handleConversationsCSV serves the conversations that ended in the window: handle time (with
// the wrap-up time), calls and the agent's wrap-up per conversation.
func (s *Server) handleConversationsCSV(w http.ResponseWriter, r *http.Request) {
	org, since, until, err := s.reportWindow(r)
	if err != nil {
		writeError(w, err)
		return
	}
	rows, err := s.store.Report(r.Context(), org, since.UnixMilli(), until.UnixMilli())
	if err != nil {
		s.log.Error("conversations report", "org", org, "err", err)
		writeError(w, err)
		return
	}
	out := make([][]string, 0, len(rows))
	for _, row := range rows {
		kinds := make([]string, len(row.CallKinds))
		for i, k := range row.CallKinds {
			kinds[i] = string(k)
		}
		outcomes := make([]string, len(row.Outcomes))
		for i, o := range row.Outcomes {
			outcomes[i] = string(o)
		}
		out = append(out, []string{
			string(row.Conv.ID), row.Conv.CustomerName, row.Conv.AgentName,
			msTime(row.Conv.CreatedAt), msTime(row.Conv.AcceptedAt), msTime(row.Conv.EndedAt), string(row.Conv.EndedBy),
			string(row.Conv.EndReason), string(row.Conv.Outcome),
			seconds(row.HandleMS), strconv.Itoa(row.Calls), strconv.Itoa(row.Answered), strings.Join(kinds, " "),
			strings.Join(outcomes, " "), seconds(row.CallMS), row.Conv.WrapCode, row.Conv.WrapNote, seconds(row.Conv.WrapMS),
			s.recordingPage(r, org, row.Conv.ID, ""),
		})
	}
	writeCSV(w, "conversations-"+string(org)+".csv", reportHeader, out)
}

// handleCallsCSV serves the calls that ended in the window, one row per call: kind, outcome,
// ring time and duration.
func (s *Server) handleCallsCSV(w http.ResponseWriter, r *http.Request) {
	org, since, until, err := s.reportWindow(r)
	if err != nil {
		writeError(w, err)
		return
	}
	calls, err := s.store.CallsReport(r.Context(), org, since.UnixMilli(), until.UnixMilli())
	if err != nil {
		s.log.Error("calls report", "org", org, "err", err)
		writeError(w, err)
		return
	}
	out := make([][]string, 0, len(calls))
	for _, c := range calls {
		ring, dur := c.EndedAt-c.CreatedAt, int64(0)
		if c.AnsweredAt > 0 {
			ring, dur = c.AnsweredAt-c.CreatedAt, c.EndedAt-c.AnsweredAt
		}
		out = append(out, []string{string(c.ID), string(c.Conv), string(c.Agent), string(c.Kind), string(c.Outcome), c.Reason,
			string(c.EndedBy), msTime(c.CreatedAt), msTime(c.AnsweredAt), msTime(c.EndedAt), seconds(max(ring, 0)), seconds(max(dur, 0)),
			s.recordingPage(r, org, c.Conv, c.ID)})
	}
	writeCSV(w, "calls-"+string(org)+".csv", callsHeader, out)
}

// timeParam reads a query time: RFC 3339, or Unix milliseconds; def when absent.
func timeParam(r *http.Request, name string, def time.Time) (time.Time, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	if ms, err := strconv.ParseInt(v, 10, 64); err == nil {
		return time.UnixMilli(ms), nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return def, wire.Errorf(wire.EINVALID, "%s must be an RFC 3339 time or Unix milliseconds", name)
	}
	return t, nil
}

// safeCells defuses spreadsheet formulas: a cell starting with = + - @ (or a tab or carriage
// return, which some spreadsheets strip first) gets a leading apostrophe, so a customer's name
// like "=HYPERLINK(...)" stays text (OWASP CSV injection).
func safeCells(cells []string) []string {
	for i, c := range cells {
		if c != "" && strings.ContainsRune("=+-@\t\r", rune(c[0])) {
			cells[i] = "'" + c
		}
	}
	return cells
}

func msTime(ms int64) string {
	if ms == 0 {
		return ""
	}
	return time.UnixMilli(ms).UTC().Format(time.RFC3339)
}

func seconds(ms int64) string {
	return strconv.FormatFloat(float64(ms)/1000, 'f', 1, 64)
}
