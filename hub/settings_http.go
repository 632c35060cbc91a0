package hub

import (
	"context"
	"net/http"

	"github.com/parleyhq/parley/wire"
)

// orgSetting serves one of an organisation's settings at /api/v1/orgs/{org}/settings/{name}:
// any member reads it; an admin changes it through its checked, audited setter and is answered
// with what is stored then (defaults filled in), never with what was sent.
type orgSetting[T any] struct {
	// what names the setting in the hub's log ("the wrap-up setting").
	what string
	get  func(ctx context.Context, org wire.OrgID) (T, error)
	set  func(ctx context.Context, by Actor, org wire.OrgID, v T) error
}

func (o orgSetting[T]) register(s *Server, mux *http.ServeMux, path string) {
	mux.HandleFunc("GET "+path, func(w http.ResponseWriter, r *http.Request) {
		org := wire.OrgID(r.PathValue("org"))
		if _, err := s.member(r, org, wire.RoleAdmin, wire.RoleSupervisor, wire.RoleAgent); err != nil {
			writeError(w, err)
			return
		}
		v, err := o.get(r.Context(), org)
		s.answer(w, "reading "+o.what, v, err)
	})
	mux.HandleFunc("PUT "+path, s.admin(func(w http.ResponseWriter, r *http.Request, a adminCtx) {
		var v T
		if err := readJSON(r, &v); err != nil {
			writeError(w, err)
			return
		}
		if err := o.set(r.Context(), a.by, a.org, v); err != nil {
			s.answer(w, "storing "+o.what, nil, err)
			return
		}
		s.log.Info(o.what+" changed", "org", a.org, "by", a.tok.User)
		stored, err := o.get(r.Context(), a.org)
		s.answer(w, "reading "+o.what, stored, err)
	}))
}
