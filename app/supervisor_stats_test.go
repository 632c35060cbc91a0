package app_test

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/parleyhq/parley/app"
	"github.com/parleyhq/parley/hub"
	"github.com/parleyhq/parley/wire"
)

// TestSupervisorStatsAndReports: a supervisor sees an agent on a call, then the declined call
// and the ended chat in the figures, and exports both CSV reports; an agent may not.
func TestSupervisorStatsAndReports(t *testing.T) {
	hubURL := startHub(t, hub.Config{})
	sup, srec := signIn(t, hubURL, "super1")
	agent, arec, cust := callAgent(t, hubURL)

	// Empty figures still carry an outcome map the UI can read.
	if v, _ := sup.Supervisor.Snapshot(); v.Stats.Calls == nil {
		t.Errorf("Snapshot().Stats.Calls = nil; want an empty map")
	}

	// Ringing: the supervisor sees Agent One on a call, their capacity taken.
	if _, err := agent.Calls.Start(cust.conv, wire.CallVoice); err != nil {
		t.Fatalf("Start(voice) = %v", err)
	}
	waitFor(t, srec, app.EventSupervisor, func(s app.SupervisorView) bool {
		for _, a := range s.Agents {
			if a.DisplayName == "Agent One" && a.OnCall && a.Load >= a.Capacity {
				return true
			}
		}
		return false
	})

	// Declined, then the chat ends: one declined call, one chat without a call.
	st := waitCustomer(t, cust, wire.TypeCallState, func(c wire.Call) bool { return c.State == wire.CallRinging })
	cust.request(t, wire.TypeCallDecline, wire.CallRef{Call: st.ID})
	waitFor(t, arec, app.EventAgent, func(s wire.AgentState) bool { return !s.OnCall })
	if err := agent.Conversations.End(cust.conv); err != nil {
		t.Fatalf("End = %v", err)
	}
	snap := waitFor(t, srec, app.EventSupervisor, func(s app.SupervisorView) bool {
		return s.Stats.WithoutCall == 1 && s.Stats.Calls[wire.OutcomeDeclined] == 1 && answered(s.Queues, "general") == 1
	})
	if snap.Stats.WithCall != 0 || snap.Stats.AHTWithCallMS != 0 || snap.Stats.SinceMS == 0 {
		t.Errorf("Stats = %+v; want no chat with a call and a window start", snap.Stats)
	}
	for _, a := range snap.Agents {
		if a.OnCall {
			t.Errorf("agent %s still on a call after the decline", a.DisplayName)
		}
	}
	if v, _ := sup.Supervisor.Snapshot(); v.Stats.Calls[wire.OutcomeDeclined] != 1 {
		t.Errorf("Snapshot().Stats = %+v; want the declined call", v.Stats)
	}

	tests := []struct {
		report app.Report
		header string
		row    string // a cell the report must have
	}{
		{app.ReportConversations, "conversation,customer,agent,", string(cust.conv)},
		{app.ReportCalls, "call,conversation,agent_id,kind,outcome,", string(wire.OutcomeDeclined)},
	}
	for _, tt := range tests {
		t.Run(string(tt.report), func(t *testing.T) {
			text, err := sup.Supervisor.FetchCSV(tt.report)
			if err != nil {
				t.Fatalf("FetchCSV(%q) = %v", tt.report, err)
			}
			if !strings.HasPrefix(text, tt.header) {
				t.Errorf("FetchCSV(%q) starts %q; want header %q", tt.report, reportFirstLine(text), tt.header)
			}
			rows, err := csv.NewReader(strings.NewReader(text)).ReadAll()
			if err != nil {
				t.Fatalf("FetchCSV(%q) is not CSV: %v", tt.report, err)
			}
			if len(rows) != 2 || !slices.Contains(rows[1], tt.row) {
				t.Errorf("FetchCSV(%q) rows = %q; want the header and one row with %q", tt.report, rows, tt.row)
			}
			if _, err := agent.Supervisor.FetchCSV(tt.report); wire.ErrorCode(err) != wire.EFORBIDDEN {
				t.Errorf("agent FetchCSV(%q) = %v; want EFORBIDDEN", tt.report, err)
			}
		})
	}

	// SaveCSV writes the report into the downloads folder.
	dl := t.TempDir()
	t.Setenv("XDG_DOWNLOAD_DIR", dl)
	path, err := sup.Supervisor.SaveCSV(app.ReportCalls)
	if err != nil {
		t.Fatalf("SaveCSV = %v", err)
	}
	if saved, err := os.ReadFile(path); err != nil || filepath.Dir(path) != dl || !strings.HasPrefix(filepath.Base(path), "calls-demo-") ||
		!strings.Contains(string(saved), string(wire.OutcomeDeclined)) {
		t.Errorf("SaveCSV wrote %q (%v); want calls-demo-*.csv in %s with the declined call", path, err, dl)
	}
	if _, err := agent.Supervisor.SaveCSV(app.ReportCalls); wire.ErrorCode(err) != wire.EFORBIDDEN {
		t.Errorf("agent SaveCSV = %v; want EFORBIDDEN", err)
	}

	if _, err := sup.Supervisor.FetchCSV("../settings/calls"); wire.ErrorCode(err) != wire.EINVALID {
		t.Errorf("FetchCSV(unknown) = %v; want EINVALID", err)
	}
	if err := sup.Session.SignOut(); err != nil {
		t.Fatal(err)
	}
	if _, err := sup.Supervisor.FetchCSV(app.ReportCalls); wire.ErrorCode(err) != wire.EUNAUTHORIZED {
		t.Errorf("FetchCSV signed out = %v; want EUNAUTHORIZED", err)
	}
}

func reportFirstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// answered is how many conversations the queue's figures say an agent took (-1: no such queue).
func answered(qs []wire.QueueStats, id wire.QueueID) int {
	for _, q := range qs {
		if q.Queue == id {
			return q.Answered
		}
	}
	return -1
}
