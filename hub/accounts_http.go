package hub

import (
	"encoding/csv"
	"fmt"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/parleyhq/parley/hub/store"
	"github.com/parleyhq/parley/wire"
)

// The accounts API: sign-in options, sign-out, renewal and setup links for everyone; members,
// sessions, organisation settings and the audit log for an organisation's admins.

func (s *Server) accountRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/v1/orgs/{org}/signin", s.handleSignInOptions)
	mux.HandleFunc("POST /api/v1/logout", s.handleLogout)
	mux.HandleFunc("POST /api/v1/token/renew", s.handleRenew)
	mux.HandleFunc("GET /api/v1/me", s.handleMe)
	mux.HandleFunc("POST /api/v1/setup/info", s.handleSetupInfo)
	mux.HandleFunc("POST /api/v1/setup", s.handleSetup)

	mux.HandleFunc("GET /api/v1/orgs/{org}/members", s.admin(s.handleMembers))
	mux.HandleFunc("POST /api/v1/orgs/{org}/members", s.admin(s.handleInvite))
	mux.HandleFunc("PATCH /api/v1/orgs/{org}/members/{id}", s.admin(s.handleUpdateMember))
	mux.HandleFunc("POST /api/v1/orgs/{org}/members/{id}/disable", s.admin(s.handleDisable))
	mux.HandleFunc("POST /api/v1/orgs/{org}/members/{id}/enable", s.admin(s.handleEnable))
	mux.HandleFunc("POST /api/v1/orgs/{org}/members/{id}/reset", s.admin(s.handleReset))
	mux.HandleFunc("GET /api/v1/orgs/{org}/members/{id}/sessions", s.admin(s.handleSessions))
	mux.HandleFunc("DELETE /api/v1/orgs/{org}/members/{id}/sessions/{sid}", s.admin(s.handleEndSession))
	mux.HandleFunc("GET /api/v1/orgs/{org}", s.admin(s.handleGetOrg))
	mux.HandleFunc("PUT /api/v1/orgs/{org}", s.admin(s.handlePutOrg))
	mux.HandleFunc("GET /api/v1/orgs/{org}/audit", s.admin(s.handleAudit))
	mux.HandleFunc("GET /api/v1/orgs/{org}/audit.csv", s.admin(s.handleAuditCSV))
	mux.HandleFunc("GET /setup", s.handleSetupPage)
	s.ssoRoutes(mux)
}

// clientAddr is the full address a request came from (through trusted proxies), for the audit
// log and the session list.
func (s *Server) clientAddr(r *http.Request) string {
	if a, ok := clientIP(r, s.cfg.TrustedProxies); ok {
		return a.String()
	}
	return r.RemoteAddr
}

// baseURL is the hub's public URL: Config.PublicURL, else the one the request reached it at.
func (s *Server) baseURL(r *http.Request) string {
	if s.cfg.PublicURL != "" {
		return s.cfg.PublicURL
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	if ap, err := netip.ParseAddrPort(r.RemoteAddr); err == nil {
		trusted := false
		for _, p := range s.cfg.TrustedProxies {
			trusted = trusted || p.Contains(ap.Addr().Unmap())
		}
		if p := r.Header.Get("X-Forwarded-Proto"); trusted && (p == "https" || p == "http") {
			scheme = p
		}
	}
	return scheme + "://" + r.Host
}

// adminCtx is what an admin handler knows: the organisation, the admin's token and who they are.
type adminCtx struct {
	org wire.OrgID
	tok store.Token
	by  Actor
}

// admin authenticates a request as an admin of the {org} in its path.
func (s *Server) admin(h func(http.ResponseWriter, *http.Request, adminCtx)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		org := wire.OrgID(r.PathValue("org"))
		tok, err := s.member(r, org, wire.RoleAdmin)
		if err != nil {
			writeError(w, err)
			return
		}
		u, err := s.store.User(r.Context(), tok.User)
		if err != nil {
			writeError(w, ErrTokenInvalid)
			return
		}
		h(w, r, adminCtx{org: org, tok: tok, by: Actor{User: u.ID, Name: u.Username, Addr: s.clientAddr(r)}})
	}
}

// answer writes v, or the error (logging an internal one).
func (s *Server) answer(w http.ResponseWriter, what string, v any, err error) {
	if err != nil {
		if wire.ErrorCode(err) == wire.EINTERNAL {
			s.log.Error(what, "err", err)
		}
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

func (s *Server) handleSignInOptions(w http.ResponseWriter, r *http.Request) {
	org := wire.OrgID(r.PathValue("org"))
	o, err := s.orgRecord(r.Context(), org)
	if err != nil {
		writeError(w, err)
		return
	}
	opts := wire.SignInOptions{Org: o.ID, Name: o.Name, Password: true, Language: o.Language}
	if sso, err := s.ssoSettings(r.Context(), org); err == nil && sso.Enabled {
		opts.SSO, opts.Password = sso.Name, sso.passwordAllowed()
	}
	writeJSON(w, http.StatusOK, opts)
}

func (s *Server) handleLogout(w http.ResponseWriter, r *http.Request) {
	err := s.logout(r.Context(), bearer(r), s.clientAddr(r))
	s.answer(w, "signing out", struct{}{}, err)
}

func (s *Server) handleRenew(w http.ResponseWriter, r *http.Request) {
	resp, err := s.renew(r.Context(), bearer(r))
	s.answer(w, "renewing a session", resp, err)
}

func (s *Server) handleMe(w http.ResponseWriter, r *http.Request) {
	tok, err := s.memberToken(r)
	if err != nil {
		writeError(w, err)
		return
	}
	me, err := s.me(r.Context(), tok)
	s.answer(w, "reading the session's member", me, err)
}

func (s *Server) handleSetupInfo(w http.ResponseWriter, r *http.Request) {
	var req wire.SetupRequest
	if err := readJSON(r, &req); err != nil {
		writeError(w, err)
		return
	}
	info, err := s.SetupLinkInfo(r.Context(), req.Token)
	s.answer(w, "reading a setup link", info, err)
}

func (s *Server) handleSetup(w http.ResponseWriter, r *http.Request) {
	var req wire.SetupRequest
	if err := readJSON(r, &req); err != nil {
		writeError(w, err)
		return
	}
	addr := s.clientAddr(r)
	info, u, err := s.UseSetupLink(r.Context(), req.Token, req.Password, addr)
	if err != nil {
		s.answer(w, "using a setup link", nil, err)
		return
	}
	done := wire.SetupDone{Info: info}
	if u.Role == wire.RoleAdmin {
		// An admin goes on to the console signed in; others sign in from the app.
		login, err := s.issue(r.Context(), u, "console", "password", addr)
		if err != nil {
			s.answer(w, "signing in after setup", nil, err)
			return
		}
		done.Login = &login
	}
	writeJSON(w, http.StatusOK, done)
}

// queryInt reads a non-negative integer query parameter, def when absent.
func queryInt(r *http.Request, name string, def, maxV int) (int, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, wire.Errorf(wire.EINVALID, "%s must be a whole number", name)
	}
	return min(n, maxV), nil
}

func (s *Server) handleMembers(w http.ResponseWriter, r *http.Request, a adminCtx) {
	q := store.UserQuery{Search: r.URL.Query().Get("q"), Role: wire.Role(r.URL.Query().Get("role"))}
	if q.Role != "" {
		if err := checkRole(q.Role); err != nil {
			writeError(w, err)
			return
		}
	}
	if len(q.Search) > 200 {
		writeError(w, wire.Errorf(wire.ETOOLARGE, "search is over 200 bytes"))
		return
	}
	var err error
	if q.Offset, err = queryInt(r, "offset", 0, 1<<30); err == nil {
		q.Limit, err = queryInt(r, "limit", 50, 200)
	}
	if err != nil {
		writeError(w, err)
		return
	}
	list, err := s.Members(r.Context(), a.org, q)
	s.answer(w, "listing members", list, err)
}

func setupLinkResponse(inv Invite) wire.SetupLinkResponse {
	return wire.SetupLinkResponse{Member: memberView(inv.Member), URL: inv.URL, ExpiresAt: inv.ExpiresAt.UnixMilli()}
}

func (s *Server) handleInvite(w http.ResponseWriter, r *http.Request, a adminCtx) {
	var req wire.MemberInvite
	if err := readJSON(r, &req); err != nil {
		writeError(w, err)
		return
	}
	inv, err := s.InviteMember(r.Context(), a.by, a.org, NewMember{Username: req.Username, DisplayName: req.DisplayName, Email: req.Email,
		Role: req.Role, Capacity: req.Capacity}, s.baseURL(r))
	s.answer(w, "inviting a member", setupLinkResponse(inv), err)
}

func (s *Server) handleUpdateMember(w http.ResponseWriter, r *http.Request, a adminCtx) {
	var p wire.MemberPatch
	if err := readJSON(r, &p); err != nil {
		writeError(w, err)
		return
	}
	u, err := s.UpdateMember(r.Context(), a.by, a.org, r.PathValue("id"), p)
	s.answer(w, "updating a member", memberView(u), err)
}

func (s *Server) handleDisable(w http.ResponseWriter, r *http.Request, a adminCtx) {
	u, err := s.DisableMember(r.Context(), a.by, a.org, r.PathValue("id"))
	s.answer(w, "disabling a member", memberView(u), err)
}

func (s *Server) handleEnable(w http.ResponseWriter, r *http.Request, a adminCtx) {
	u, err := s.EnableMember(r.Context(), a.by, a.org, r.PathValue("id"))
	s.answer(w, "enabling a member", memberView(u), err)
}

func (s *Server) handleReset(w http.ResponseWriter, r *http.Request, a adminCtx) {
	inv, err := s.ResetMember(r.Context(), a.by, a.org, r.PathValue("id"), s.baseURL(r))
	s.answer(w, "resetting a password", setupLinkResponse(inv), err)
}

func (s *Server) handleSessions(w http.ResponseWriter, r *http.Request, a adminCtx) {
	ss, err := s.MemberSessions(r.Context(), a.org, r.PathValue("id"), a.tok.ID)
	s.answer(w, "listing sessions", ss, err)
}

func (s *Server) handleEndSession(w http.ResponseWriter, r *http.Request, a adminCtx) {
	err := s.EndSession(r.Context(), a.by, a.org, r.PathValue("id"), r.PathValue("sid"))
	s.answer(w, "ending a session", struct{}{}, err)
}

func orgSettings(o store.Org) wire.OrgSettings {
	return wire.OrgSettings{ID: o.ID, Name: o.Name, Region: o.Region, Calls: o.Calls, Language: o.Language}
}

func (s *Server) handleGetOrg(w http.ResponseWriter, r *http.Request, a adminCtx) {
	o, err := s.orgRecord(r.Context(), a.org)
	s.answer(w, "reading an organisation", orgSettings(o), err)
}

func (s *Server) handlePutOrg(w http.ResponseWriter, r *http.Request, a adminCtx) {
	var o wire.OrgSettings
	if err := readJSON(r, &o); err != nil {
		writeError(w, err)
		return
	}
	o.ID = a.org
	rec, err := s.UpdateOrganisation(r.Context(), a.by, o)
	s.answer(w, "updating an organisation", orgSettings(rec), err)
}

func (s *Server) handleAudit(w http.ResponseWriter, r *http.Request, a adminCtx) {
	before, err := queryInt(r, "before", 0, 1<<62)
	if err != nil {
		writeError(w, err)
		return
	}
	limit, err := queryInt(r, "limit", 50, 500)
	if err != nil {
		writeError(w, err)
		return
	}
	es, err := s.AuditLog(r.Context(), a.org, store.AuditQuery{Before: int64(before), Limit: limit + 1})
	page := wire.AuditPage{Entries: es}
	if len(es) > limit {
		page.Entries, page.More = es[:limit], true
	}
	s.answer(w, "reading the audit log", page, err)
}

// parseDay reads a YYYY-MM-DD date (UTC) or Unix milliseconds.
func parseDay(v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse("2006-01-02", v); err == nil {
		return t, nil
	}
	ms, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return time.Time{}, wire.Errorf(wire.EINVALID, "%q is not a date (YYYY-MM-DD) or Unix milliseconds", v)
	}
	return time.UnixMilli(ms), nil
}

// csvCell keeps a spreadsheet from reading a cell as a formula (CSV injection).
func csvCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

func (s *Server) handleAuditCSV(w http.ResponseWriter, r *http.Request, a adminCtx) {
	q := store.AuditQuery{}
	var err error
	if q.Since, err = parseDay(r.URL.Query().Get("since")); err == nil {
		q.Until, err = parseDay(r.URL.Query().Get("until"))
	}
	if err != nil {
		writeError(w, err)
		return
	}
	es, err := s.AuditLog(r.Context(), a.org, q)
	if err != nil {
		s.answer(w, "exporting the audit log", nil, err)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="parley-audit-%s-%s.csv"`, a.org, s.now().UTC().Format("2006-01-02")))
	w.Header().Set("Cache-Control", "no-store")
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"id", "time_utc", "actor", "action", "target", "detail", "address"})
	for _, e := range es {
		_ = cw.Write([]string{strconv.FormatInt(e.ID, 10), time.UnixMilli(e.At).UTC().Format(time.RFC3339), csvCell(e.ActorName),
			e.Action, csvCell(e.Target), csvCell(e.Detail), e.Addr})
	}
	cw.Flush()
}

// handleSetupPage serves the page a setup link opens: it is the admin console's bundle, which
// shows the set-password form at /setup.
func (s *Server) handleSetupPage(w http.ResponseWriter, r *http.Request) {
	s.handleAdminPage(w, r)
}
