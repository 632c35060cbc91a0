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

// adminRoutes adds the settings API (calls, visual providers, auto-close, wrap-up) and the admin page.
func (s *Server) adminRoutes(mux *http.ServeMux) {
	orgSetting[wire.CallSettings]{"the call setting", s.callSettings, s.setCallSettings}.register(s, mux, "/api/v1/orgs/{org}/settings/calls")
	orgSetting[wire.VisualSettings]{"the visual providers", s.visualSettings, s.SetVisualSettings}.register(s, mux, "/api/v1/orgs/{org}/settings/visual")
	orgSetting[wire.AutoCloseSettings]{"the auto-close setting", s.AutoCloseSettings, s.SetAutoClose}.register(s, mux, "/api/v1/orgs/{org}/settings/auto-close")
	orgSetting[wire.WrapUpSettings]{"the wrap-up setting", s.WrapUpSettings, s.SetWrapUp}.register(s, mux, "/api/v1/orgs/{org}/settings/wrap-up")
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
	if err := s.checkOrg(ctx, org); err != nil {
		return err
	}
	detail := fmt.Sprintf("co-browse %s, screen share %s", providerName(v.Cobrowse), providerName(v.ScreenShare))
	if err := s.saveOrgSetting(ctx, by, org, settingVisual, v, AuditVisualUpdate, detail); err != nil {
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

// adminCSP keeps the admin page to its own scripts and the hub's API.
const adminCSP = "default-src 'self'; script-src 'self'; media-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

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

// callSettings tells the organisation's call setting and region.
func (s *Server) callSettings(ctx context.Context, org wire.OrgID) (wire.CallSettings, error) {
	o, err := s.orgRecord(ctx, org)
	if err != nil {
		return wire.CallSettings{}, err
	}
	calls := o.Calls
	if calls == "" {
		calls = wire.CallsVoiceVideo
	}
	return wire.CallSettings{Calls: calls, Region: o.Region}, nil
}

// setCallSettings changes the call setting and region (e.g. "gcc") through the same checked,
// audited path as the console's organisation settings.
func (s *Server) setCallSettings(ctx context.Context, by Actor, org wire.OrgID, cs wire.CallSettings) error {
	rec, err := s.orgRecord(ctx, org)
	if err != nil {
		return err
	}
	_, err = s.UpdateOrganisation(ctx, by, wire.OrgSettings{ID: org, Name: rec.Name, Region: cs.Region, Calls: cs.Calls, Language: rec.Language})
	return err
}

// checkOrg reports an organisation that does not exist as ErrOrgNotFound.
func (s *Server) checkOrg(ctx context.Context, org wire.OrgID) error {
	if _, err := s.store.Org(ctx, org); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return ErrOrgNotFound
		}
		return err
	}
	return nil
}

// saveOrgSetting stores v as org's setting key, as JSON, with its audit entry (action, detail)
// in the same transaction.
func (s *Server) saveOrgSetting(ctx context.Context, by Actor, org wire.OrgID, key string, v any, action, detail string) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return s.store.Apply(ctx, store.Change{SetSetting: &store.Setting{Org: org, Key: key, Value: string(raw)},
		Audit: []store.AuditEntry{by.entry(org, action, string(org), detail)}})
}
