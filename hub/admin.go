package hub

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"unicode/utf8"

	"github.com/parleyhq/parley/hub/store"
	"github.com/parleyhq/parley/wire"
)

// The admin API and page: an organisation's admin picks its call setting, region and visual
// engagement providers.

// adminDist is the admin page built by `npm run build:portal` (portal/vite.admin.config.ts); on a
// fresh clone it holds only .gitkeep and /admin/ answers EUNAVAILABLE.
//
//go:embed all:admin/dist
var adminDist embed.FS

// settingVisual is the org_settings key of the visual engagement providers.
const settingVisual = "visual"

// DefaultVisualSettings are an organisation's providers until an admin chooses: Parley's own,
// which need no licence.
var DefaultVisualSettings = wire.VisualSettings{
	Cobrowse:    wire.ProviderConfig{Provider: wire.ProviderBuiltinCobrowse},
	ScreenShare: wire.ProviderConfig{Provider: wire.ProviderBuiltinScreenShare},
}

// adminRoutes adds the settings API (calls, visual providers, auto-close) and the admin page.
func (s *Server) adminRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/v1/orgs/{org}/settings/calls", s.handleGetCallSettings)
	mux.HandleFunc("PUT /api/v1/orgs/{org}/settings/calls", s.handlePutCallSettings)
	mux.HandleFunc("GET /api/v1/orgs/{org}/settings/visual", s.handleGetVisualSettings)
	mux.HandleFunc("PUT /api/v1/orgs/{org}/settings/visual", s.handlePutVisualSettings)
	mux.HandleFunc("GET /api/v1/orgs/{org}/settings/auto-close", s.handleGetAutoClose)
	mux.HandleFunc("PUT /api/v1/orgs/{org}/settings/auto-close", s.handlePutAutoClose)
	mux.HandleFunc("GET /api/v1/orgs/{org}/settings/wrap-up", s.handleGetWrapUp)
	mux.HandleFunc("PUT /api/v1/orgs/{org}/settings/wrap-up", s.handlePutWrapUp)
	mux.HandleFunc("GET /admin/{org}", s.handleAdminPage)
	mux.HandleFunc("GET /admin/assets/{name}", s.handleAdminAsset)
}

// member authenticates a request's "Authorization: Bearer" token as a member of org with one of
// roles. Another organisation's resources do not exist for the token (ENOTFOUND), as everywhere
// else in the hub.
func (s *Server) member(r *http.Request, org wire.OrgID, roles ...wire.Role) (store.Token, error) {
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		return store.Token{}, ErrTokenInvalid
	}
	tok, err := s.authenticate(r.Context(), token)
	if err != nil {
		return tok, err
	}
	if tok.Org != org {
		return tok, ErrOrgNotFound
	}
	for _, role := range roles {
		if tok.Role == role {
			return tok, nil
		}
	}
	return tok, wire.Errorf(wire.EFORBIDDEN, "only %s may do this", roles[0])
}

// visualSettings returns an organisation's providers (the defaults when never set).
func (s *Server) visualSettings(ctx context.Context, org wire.OrgID) (wire.VisualSettings, error) {
	raw, err := s.store.OrgSetting(ctx, org, settingVisual)
	if errors.Is(err, store.ErrNotFound) {
		return DefaultVisualSettings, nil
	}
	if err != nil {
		return wire.VisualSettings{}, err
	}
	var v wire.VisualSettings
	if err := json.Unmarshal([]byte(raw), &v); err != nil {
		return wire.VisualSettings{}, err
	}
	return v, nil
}

// SetVisualSettings checks and stores an organisation's providers.
func (s *Server) SetVisualSettings(ctx context.Context, by Actor, org wire.OrgID, v wire.VisualSettings) error {
	if err := CheckVisualSettings(v); err != nil {
		return err
	}
	if _, err := s.store.Org(ctx, org); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return ErrOrgNotFound
		}
		return err
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return err
	}
	detail := fmt.Sprintf("co-browse %s, screen share %s", providerName(v.Cobrowse), providerName(v.ScreenShare))
	if err := s.store.Apply(ctx, store.Change{SetSetting: &store.Setting{Org: org, Key: settingVisual, Value: string(raw)},
		Audit: []store.AuditEntry{by.entry(org, AuditVisualUpdate, string(org), detail)}}); err != nil {
		return err
	}
	s.router.visualSettingsChanged(org, v)
	return nil
}

// providerName names a provider choice for the audit log.
func providerName(pc wire.ProviderConfig) string {
	switch {
	case pc.Provider == wire.ProviderNone:
		return "none"
	case pc.Provider == wire.ProviderExternal && pc.External != nil:
		return fmt.Sprintf("external %q", pc.External.Name)
	}
	return string(pc.Provider)
}

// CheckVisualSettings refuses providers of the wrong kind and external providers with missing or
// unsafe URLs (EINVALID) or oversized fields (ETOOLARGE).
func CheckVisualSettings(v wire.VisualSettings) error {
	for _, k := range []struct {
		name    string
		pc      wire.ProviderConfig
		builtin wire.ProviderKind
	}{{"cobrowse", v.Cobrowse, wire.ProviderBuiltinCobrowse}, {"screenshare", v.ScreenShare, wire.ProviderBuiltinScreenShare}} {
		switch k.pc.Provider {
		case wire.ProviderNone, k.builtin:
		case wire.ProviderExternal:
			if err := checkExternal(k.pc.External); err != nil {
				return wire.Errorf(wire.ErrorCode(err), "%s: %s", k.name, wire.ErrorMessage(err))
			}
		default:
			return wire.Errorf(wire.EINVALID, "%s: provider must be %q, %q or empty", k.name, k.builtin, wire.ProviderExternal)
		}
	}
	return nil
}

func checkExternal(e *wire.ExternalProvider) error {
	if e == nil {
		return wire.Errorf(wire.EINVALID, "an external provider needs its settings")
	}
	name := strings.TrimSpace(e.Name)
	if name == "" || !utf8.ValidString(name) || strings.ContainsFunc(name, isControl) {
		return wire.Errorf(wire.EINVALID, "name is missing or has characters that are not allowed")
	}
	if len(name) > wire.MaxNameBytes {
		return wire.Errorf(wire.ETOOLARGE, "name is over %d bytes", wire.MaxNameBytes)
	}
	for _, u := range []struct {
		field, v string
		need     bool
	}{{"sign_in_url", e.SignInURL, true}, {"join_url", e.JoinURL, true}, {"verify_url", e.VerifyURL, false},
		{"session_url", e.SessionURL, false}, {"session_page_url", e.SessionPageURL, false}} {
		if u.v == "" && !u.need {
			continue
		}
		if len(u.v) > wire.MaxVisualURLBytes {
			return wire.Errorf(wire.ETOOLARGE, "%s is over %d bytes", u.field, wire.MaxVisualURLBytes)
		}
		// Placeholders are not valid in a URL's host; check the template with them filled in.
		filled := strings.NewReplacer("{pin}", "0", "{session}", "s").Replace(u.v)
		if err := checkWebURL(filled); err != nil {
			return wire.Errorf(wire.EINVALID, "%s must be an absolute http or https URL", u.field)
		}
		// Agents type their provider password into these pages and the app sends it to them.
		if !wire.SecureProviderURL(filled) {
			return wire.Errorf(wire.EINVALID, "%s must be https (http only to this machine, for testing)", u.field)
		}
	}
	for _, p := range []struct{ field, v string }{{"session_id_pointer", e.SessionIDPointer}, {"pin_pointer", e.PINPointer}} {
		if p.v != "" && (!strings.HasPrefix(p.v, "/") || len(p.v) > 200) {
			return wire.Errorf(wire.EINVALID, "%s must be a JSON pointer such as /session/pin", p.field)
		}
	}
	if e.SessionURL != "" && e.PINPointer == "" && e.SessionIDPointer == "" {
		return wire.Errorf(wire.EINVALID, "session_url needs session_id_pointer or pin_pointer")
	}
	return nil
}

func (s *Server) handleGetVisualSettings(w http.ResponseWriter, r *http.Request) {
	org := wire.OrgID(r.PathValue("org"))
	if _, err := s.member(r, org, wire.RoleAdmin, wire.RoleSupervisor, wire.RoleAgent); err != nil {
		writeError(w, err)
		return
	}
	v, err := s.visualSettings(r.Context(), org)
	if err != nil {
		s.log.Error("reading visual settings", "org", org, "err", err)
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

func (s *Server) handlePutVisualSettings(w http.ResponseWriter, r *http.Request) {
	s.admin(func(w http.ResponseWriter, r *http.Request, a adminCtx) {
		var v wire.VisualSettings
		if err := readJSON(r, &v); err != nil {
			writeError(w, err)
			return
		}
		if err := s.SetVisualSettings(r.Context(), a.by, a.org, v); err != nil {
			if wire.ErrorCode(err) == wire.EINTERNAL {
				s.log.Error("storing visual settings", "org", a.org, "err", err)
			}
			writeError(w, err)
			return
		}
		s.log.Info("visual providers changed", "org", a.org, "by", a.tok.User, "cobrowse", v.Cobrowse.Provider, "screenshare", v.ScreenShare.Provider)
		writeJSON(w, http.StatusOK, v)
	})(w, r)
}

// adminCSP keeps the admin page to its own scripts and the hub's API.
const adminCSP = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

func (s *Server) handleAdminPage(w http.ResponseWriter, r *http.Request) {
	body, err := fs.ReadFile(adminDist, "admin/dist/index.html")
	if err != nil {
		writeError(w, wire.Errorf(wire.EUNAVAILABLE, "the admin page was not built (npm run build:portal)"))
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", adminCSP)
	h.Set("Cache-Control", "no-cache")
	h.Set("Referrer-Policy", "same-origin")
	_, _ = w.Write(body)
}

func (s *Server) handleAdminAsset(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if name != path.Base(name) || strings.HasPrefix(name, ".") {
		writeError(w, wire.Errorf(wire.ENOTFOUND, "no such asset"))
		return
	}
	body, err := fs.ReadFile(adminDist, "admin/dist/assets/"+name)
	if err != nil {
		writeError(w, wire.Errorf(wire.ENOTFOUND, "no such asset"))
		return
	}
	switch path.Ext(name) {
	case ".js":
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
	case ".css":
		w.Header().Set("Content-Type", "text/css; charset=utf-8")
	}
	w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	_, _ = w.Write(body)
}

// handleGetCallSettings tells any member the organisation's call setting and region.
func (s *Server) handleGetCallSettings(w http.ResponseWriter, r *http.Request) {
	org := wire.OrgID(r.PathValue("org"))
	if _, err := s.member(r, org, wire.RoleAgent, wire.RoleSupervisor, wire.RoleAdmin); err != nil {
		writeError(w, err)
		return
	}
	o, err := s.store.Org(r.Context(), org)
	if err != nil {
		writeError(w, err)
		return
	}
	calls := o.Calls
	if calls == "" {
		calls = wire.CallsVoiceVideo
	}
	writeJSON(w, http.StatusOK, wire.CallSettings{Calls: calls, Region: o.Region})
}

// handlePutCallSettings lets an admin change the call setting and region (e.g. "gcc").
func (s *Server) handlePutCallSettings(w http.ResponseWriter, r *http.Request) {
	s.admin(func(w http.ResponseWriter, r *http.Request, a adminCtx) {
		var cs wire.CallSettings
		if err := readJSON(r, &cs); err != nil {
			writeError(w, err)
			return
		}
		// The same checked, audited path as the console's organisation settings.
		rec, err := s.orgRecord(r.Context(), a.org)
		if err == nil {
			_, err = s.UpdateOrganisation(r.Context(), a.by, wire.OrgSettings{ID: a.org, Name: rec.Name, Region: cs.Region, Calls: cs.Calls, Language: rec.Language})
		}
		if err != nil {
			if wire.ErrorCode(err) == wire.EINTERNAL {
				s.log.Error("saving call settings", "org", a.org, "err", err)
			}
			writeError(w, err)
			return
		}
		s.log.Info("call settings changed", "org", a.org, "calls", cs.Calls, "region", cs.Region, "by", a.tok.User)
		writeJSON(w, http.StatusOK, cs)
	})(w, r)
}
