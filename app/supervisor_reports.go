package app

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/parleyhq/parley/wire"
)

// Supervisors' reports: the hub's CSV exports, fetched with the session's token so the UI can
// offer them as a download.

// Report names a supervisor's CSV export, as the hub's endpoint is named.
type Report string

// Reports FetchCSV knows.
const (
	ReportConversations Report = "conversations"
	ReportCalls         Report = "calls"
)

// maxReportBytes bounds a CSV report held in memory and handed to the UI.
const maxReportBytes = 32 << 20

// reportTimeout bounds fetching one report.
const reportTimeout = 30 * time.Second

// errUnknownReport indicates a report name other than ReportConversations and ReportCalls.
var errUnknownReport = &wire.Error{Code: wire.EINVALID, Message: "unknown report"}

// errReportTooLarge indicates a report over maxReportBytes.
var errReportTooLarge = &wire.Error{Code: wire.ETOOLARGE, Message: "report too large"}

// reportClient fetches the reports; its timeout is a backstop to the request's context.
var reportClient = &http.Client{Timeout: reportTimeout}

// FetchCSV returns the hub's CSV report of the last 24 hours: "conversations" (one row per
// conversation: handle time, calls) or "calls" (one row per call: kind, outcome, duration).
// Only supervisors and admins may have it; the hub answers anyone else with EFORBIDDEN.
func (s *Supervisor) FetchCSV(report Report) (string, error) {
	if report != ReportConversations && report != ReportCalls {
		return "", errUnknownReport
	}
	s.c.mu.Lock()
	token, hubURL, user := s.c.token, s.c.session.HubURL, s.c.session.User
	s.c.mu.Unlock()
	if token == "" || user == nil {
		return "", ErrNotSignedIn
	}
	u := strings.TrimRight(hubURL, "/") + "/api/v1/orgs/" + url.PathEscape(string(user.Org)) + "/reports/" + string(report) + ".csv"
	ctx, cancel := context.WithTimeout(context.Background(), reportTimeout)
	defer cancel()
	body, err := getReport(ctx, u, token)
	if err != nil {
		s.c.log.Info("report refused", "report", report, "code", wire.ErrorCode(err), "err", err)
		return "", err
	}
	s.c.log.Info("report fetched", "report", report, "bytes", len(body))
	return body, nil
}

// SaveCSV fetches a report as FetchCSV does and writes it to the user's downloads folder
// ($XDG_DOWNLOAD_DIR, else ~/Downloads, made if missing) as "<report>-<org>-<time>.csv", and
// returns the file's path. The UI uses it because the Wails webview does not save <a download>
// links on every platform.
func (s *Supervisor) SaveCSV(report Report) (string, error) {
	text, err := s.FetchCSV(report)
	if err != nil {
		return "", err
	}
	dir, err := downloadsDir()
	if err != nil {
		s.c.log.Warn("no downloads folder", "err", err)
		return "", asWireError(err)
	}
	s.c.mu.Lock()
	org := ""
	if s.c.session.User != nil {
		org = string(s.c.session.User.Org)
	}
	name := fmt.Sprintf("%s-%s-%s.csv", report, safeName(org), s.c.now().Format("20060102-150405"))
	s.c.mu.Unlock()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		s.c.log.Warn("saving report", "path", path, "err", err)
		return "", asWireError(err)
	}
	s.c.log.Info("report saved", "report", report, "path", path)
	return path, nil
}

// downloadsDir is where SaveCSV writes: $XDG_DOWNLOAD_DIR, else ~/Downloads.
func downloadsDir() (string, error) {
	dir := os.Getenv("XDG_DOWNLOAD_DIR")
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", err
		}
		dir = filepath.Join(home, "Downloads")
	}
	return dir, os.MkdirAll(dir, 0o755)
}

// safeName keeps the letters, digits, dashes and underscores of s, for a file name.
func safeName(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_':
			return r
		}
		return -1
	}, s)
}

// getReport GETs u with the bearer token and returns the body, the hub's *wire.Error, or
// ErrHubUnreachable when the hub could not be reached.
func getReport(ctx context.Context, u, token string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return "", asWireError(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "text/csv")
	res, err := reportClient.Do(req)
	if err != nil {
		return "", ErrHubUnreachable
	}
	defer res.Body.Close()
	data, err := io.ReadAll(io.LimitReader(res.Body, maxReportBytes+1))
	if err != nil {
		return "", ErrHubUnreachable
	}
	if res.StatusCode/100 != 2 {
		var werr wire.Error
		if json.Unmarshal(data, &werr) == nil && werr.Code != "" {
			return "", &werr
		}
		return "", &wire.Error{Code: wire.EINTERNAL, Message: fmt.Sprintf("hub answered %s", res.Status)}
	}
	if len(data) > maxReportBytes {
		return "", errReportTooLarge
	}
	return string(data), nil
}

// statsView copies the hub's figures for the UI, with an empty (not nil) outcome map so the UI
// can always read it.
func statsView(st wire.Stats) wire.Stats {
	calls := map[wire.CallOutcome]int{}
	maps.Copy(calls, st.Calls)
	st.Calls = calls
	return st
}
