package hub

import (
	"context"
	"net/http"
	"slices"
	"strings"

	"github.com/parleyhq/parley/hub/store"
	"github.com/parleyhq/parley/wire"
)

// Quick replies: canned responses of the organisation, of a queue (admins manage both) and of one
// agent (their own). Agents search them with "/" in the composer; the app fills the placeholders.
// They are not routing state: the HTTP handlers read and write the store directly.

// maxPersonalReplies bounds one member's own quick replies.
const maxPersonalReplies = 200

// quickReplyRoutes adds the quick replies API.
func (s *Server) quickReplyRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/v1/orgs/{org}/quick-replies", s.handleListQuickReplies)
	mux.HandleFunc("POST /api/v1/orgs/{org}/quick-replies", s.handleSaveQuickReply)
	mux.HandleFunc("PUT /api/v1/orgs/{org}/quick-replies/{id}", s.handleSaveQuickReply)
	mux.HandleFunc("DELETE /api/v1/orgs/{org}/quick-replies/{id}", s.handleDeleteQuickReply)
}

// QuickRepliesFor lists the quick replies a member may use: the organisation's, every queue's
// (a conversation may come from any queue by a transfer; the app shows those of its queue) and
// their own.
func (s *Server) QuickRepliesFor(ctx context.Context, org wire.OrgID, user wire.UserID) ([]wire.QuickReply, error) {
	all, err := s.store.QuickReplies(ctx, org)
	if err != nil {
		return nil, err
	}
	out := make([]wire.QuickReply, 0, len(all))
	for _, q := range all {
		if q.Scope != wire.QuickReplyPersonal || q.Owner == user {
			out = append(out, q)
		}
	}
	return out, nil
}

// SaveQuickReply checks and stores a quick reply for a member with role: admins manage the
// organisation's and queues' replies, every member their own.
func (s *Server) SaveQuickReply(ctx context.Context, actor Actor, org wire.OrgID, role wire.Role, q wire.QuickReply) (wire.QuickReply, error) {
	by := actor.User
	q.Shortcut = strings.TrimSpace(strings.TrimPrefix(q.Shortcut, "/"))
	q.Text = strings.TrimSpace(q.Text)
	if !slugRE.MatchString(q.Shortcut) {
		return q, wire.Errorf(wire.EINVALID, "shortcut %.40q: use lower-case letters, digits, - and _ (up to 32)", q.Shortcut)
	}
	if err := checkText("text", q.Text, wire.MaxTextBytes, true); err != nil {
		return q, err
	}
	all, err := s.store.QuickReplies(ctx, org)
	if err != nil {
		return q, err
	}
	if q.ID != "" {
		i := slices.IndexFunc(all, func(x wire.QuickReply) bool { return x.ID == q.ID })
		if i < 0 || !canEditReply(all[i], by, role) {
			return q, wire.Errorf(wire.ENOTFOUND, "no such quick reply")
		}
	} else {
		q.ID = wire.QuickReplyID(newID("qr"))
	}
	switch q.Scope {
	case wire.QuickReplyOrg:
		q.Queue, q.Owner = "", ""
	case wire.QuickReplyQueue:
		q.Owner = ""
		qs, err := s.Queues(ctx, org)
		if err != nil {
			return q, err
		}
		if !slices.ContainsFunc(qs, func(x wire.Queue) bool { return x.ID == q.Queue }) {
			return q, wire.Errorf(wire.ENOTFOUND, "no queue %.40q", q.Queue)
		}
	case wire.QuickReplyPersonal:
		q.Queue, q.Owner = "", by
	default:
		return q, wire.Errorf(wire.EINVALID, "scope must be org, queue or personal")
	}
	if !canEditReply(q, by, role) {
		return q, wire.Errorf(wire.EFORBIDDEN, "only admins manage the organisation's and queues' quick replies")
	}
	mine, total := 0, 0
	for _, x := range all {
		if x.ID == q.ID {
			continue
		}
		total++
		if x.Scope == wire.QuickReplyPersonal && x.Owner == by {
			mine++
		}
	}
	if total >= wire.MaxQuickReplies || (q.Scope == wire.QuickReplyPersonal && mine >= maxPersonalReplies) {
		return q, wire.Errorf(wire.ETOOLARGE, "too many quick replies")
	}
	q.UpdatedAt = s.now().UnixMilli()
	if err := s.store.SaveQuickReply(ctx, org, q); err != nil {
		return q, err
	}
	if q.Scope != wire.QuickReplyPersonal {
		scope := string(q.Scope) // org, or queue and its id
		if q.Queue != "" {
			scope += " " + string(q.Queue)
		}
		s.routingAudit(ctx, actor.entry(org, AuditQuickReply, "/"+q.Shortcut, "saved ("+scope+")"))
	}
	return q, nil
}

// DeleteQuickReply removes a quick reply the member may edit.
func (s *Server) DeleteQuickReply(ctx context.Context, actor Actor, org wire.OrgID, role wire.Role, id wire.QuickReplyID) error {
	by := actor.User
	all, err := s.store.QuickReplies(ctx, org)
	if err != nil {
		return err
	}
	i := slices.IndexFunc(all, func(x wire.QuickReply) bool { return x.ID == id })
	if i < 0 || !canEditReply(all[i], by, role) {
		return wire.Errorf(wire.ENOTFOUND, "no such quick reply")
	}
	if err := s.store.DeleteQuickReply(ctx, org, id); err != nil {
		return err
	}
	if all[i].Scope != wire.QuickReplyPersonal {
		s.routingAudit(ctx, actor.entry(org, AuditQuickReply, "/"+all[i].Shortcut, "removed"))
	}
	return nil
}

// canEditReply reports whether a member may change q: admins the shared ones, everyone their own.
func canEditReply(q wire.QuickReply, by wire.UserID, role wire.Role) bool {
	if q.Scope == wire.QuickReplyPersonal {
		return q.Owner == by
	}
	return role == wire.RoleAdmin
}

func (s *Server) handleListQuickReplies(w http.ResponseWriter, r *http.Request) {
	org := wire.OrgID(r.PathValue("org"))
	tok, err := s.member(r, org, wire.RoleAgent, wire.RoleSupervisor, wire.RoleAdmin)
	if err != nil {
		writeError(w, err)
		return
	}
	qs, err := s.QuickRepliesFor(r.Context(), org, tok.User)
	if err != nil {
		s.log.Error("reading quick replies", "org", org, "err", err)
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, qs)
}

func (s *Server) handleSaveQuickReply(w http.ResponseWriter, r *http.Request) {
	org := wire.OrgID(r.PathValue("org"))
	tok, err := s.member(r, org, wire.RoleAgent, wire.RoleSupervisor, wire.RoleAdmin)
	if err != nil {
		writeError(w, err)
		return
	}
	var q wire.QuickReply
	if err := readJSON(r, &q); err != nil {
		writeError(w, err)
		return
	}
	q.ID = wire.QuickReplyID(r.PathValue("id")) // "" for POST: a new one
	saved, err := s.SaveQuickReply(r.Context(), s.actorOf(r, tok), org, tok.Role, q)
	if err != nil {
		if wire.ErrorCode(err) == wire.EINTERNAL {
			s.log.Error("saving a quick reply", "org", org, "err", err)
		}
		writeError(w, err)
		return
	}
	s.log.Info("quick reply saved", "org", org, "by", tok.User, "scope", saved.Scope, "shortcut", saved.Shortcut)
	writeJSON(w, http.StatusOK, saved)
}

func (s *Server) handleDeleteQuickReply(w http.ResponseWriter, r *http.Request) {
	org := wire.OrgID(r.PathValue("org"))
	tok, err := s.member(r, org, wire.RoleAgent, wire.RoleSupervisor, wire.RoleAdmin)
	if err != nil {
		writeError(w, err)
		return
	}
	if err := s.DeleteQuickReply(r.Context(), s.actorOf(r, tok), org, tok.Role, wire.QuickReplyID(r.PathValue("id"))); err != nil {
		if wire.ErrorCode(err) == wire.EINTERNAL {
			s.log.Error("removing a quick reply", "org", org, "err", err)
		}
		writeError(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// actorOf is who a member's request acts as, for the audit log.
func (s *Server) actorOf(r *http.Request, tok store.Token) Actor {
	a := Actor{User: tok.User, Name: string(tok.User), Addr: s.clientAddr(r)}
	if u, err := s.store.User(r.Context(), tok.User); err == nil {
		a.Name = u.Username
	}
	return a
}
