package hub

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/parleyhq/parley/hub/store"
	"github.com/parleyhq/parley/wire"
	"golang.org/x/oauth2"
)

// Single sign-on with an organisation's OpenID Connect provider. The hub is the provider's
// (confidential) client: its secret stays on the hub. A sign-in goes:
//
//  1. The app (or the console) opens /sso/start in the system browser with its own PKCE challenge,
//     a state and where to come back: for the app a loopback address (RFC 8252 §7.3), for the
//     console its own page.
//  2. The hub remembers that under a fresh state (a grant), binds it to the browser with a
//     cookie, and sends the browser to the provider with its own state, nonce and PKCE challenge.
//  3. The provider sends the browser back to /sso/callback with a code. The hub checks the
//     state and the cookie, exchanges the code (with its PKCE verifier and secret), verifies the
//     ID token against the provider's keys (issuer, audience, expiry) and the nonce, maps the
//     account to a member (allowed domains, groups → role) and makes a one-time code.
//  4. The browser goes back to the app's loopback address (or the console) with that code; the
//     app exchanges it at /api/v1/sso/token with its PKCE verifier for a session token.

// settingSSO is the org_settings key of an organisation's single sign-on settings.
const settingSSO = "sso"

// Grant kinds.
const (
	grantSSOState = "sso.state"
	grantSSOCode  = "sso.code"
)

const (
	// ssoStateTTL is how long a person has at the provider.
	ssoStateTTL = 10 * time.Minute
	// ssoCodeTTL is how long the app has to exchange its code.
	ssoCodeTTL = 2 * time.Minute
	// ssoCookie binds a sign-in to the browser that started it.
	ssoCookie = "parley_sso"
)

// ssoConfig is an organisation's stored settings, client secret included.
type ssoConfig struct {
	wire.SSOSettings
	// Secret is stored under its own name: wire.SSOSettings.ClientSecret is write-only.
	Secret string `json:"secret,omitempty"`
}

// passwordAllowed says whether the organisation's members may sign in with a password.
func (c ssoConfig) passwordAllowed() bool { return !c.Enabled || c.PasswordSignIn }

// ssoSettings reads an organisation's settings; never set, they allow passwords only.
func (s *Server) ssoSettings(ctx context.Context, org wire.OrgID) (ssoConfig, error) {
	c := ssoConfig{SSOSettings: wire.SSOSettings{PasswordSignIn: true, RoleClaim: "groups"}}
	raw, err := s.store.OrgSetting(ctx, org, settingSSO)
	if errors.Is(err, store.ErrNotFound) {
		return c, nil
	}
	if err != nil {
		return c, err
	}
	if err := json.Unmarshal([]byte(raw), &c); err != nil {
		return c, err
	}
	c.ClientSecret, c.ClientSecretSet = "", c.Secret != ""
	return c, nil
}

var (
	claimPattern  = regexp.MustCompile(`^[A-Za-z0-9_:./-]{1,100}$`)
	domainPattern = regexp.MustCompile(`^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$`)
)

// checkIssuer refuses an issuer that is not an https URL (http only on loopback, for tests and
// a provider on the same machine).
func checkIssuer(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" || len(raw) > 500 {
		return wire.Errorf(wire.EINVALID, "issuer must be an https URL, e.g. https://login.example.com")
	}
	if u.Scheme == "https" {
		return nil
	}
	if ip := net.ParseIP(u.Hostname()); u.Scheme == "http" && (u.Hostname() == "localhost" || (ip != nil && ip.IsLoopback())) {
		return nil
	}
	return wire.Errorf(wire.EINVALID, "issuer must be an https URL, e.g. https://login.example.com")
}

func cleanList(what string, in []string, lower bool, check func(string) bool) ([]string, error) {
	out := []string{}
	for _, v := range in {
		v = strings.TrimSpace(v)
		if lower {
			v = strings.ToLower(v)
		}
		if v == "" || slices.Contains(out, v) {
			continue
		}
		if len(v) > 200 || !check(v) {
			return nil, wire.Errorf(wire.EINVALID, "%s: %q is not valid", what, v)
		}
		out = append(out, v)
	}
	if len(out) > 100 {
		return nil, wire.Errorf(wire.ETOOLARGE, "%s: more than 100 entries", what)
	}
	return out, nil
}

// SetSSO checks and stores an organisation's single sign-on settings. An enabled provider must
// answer its discovery document; password sign-in can be switched off only by an admin who has
// signed in through the provider themselves, so a broken provider cannot lock everyone out.
func (s *Server) SetSSO(ctx context.Context, by Actor, org wire.OrgID, v wire.SSOSettings) (wire.SSOSettings, error) {
	if _, err := s.orgRecord(ctx, org); err != nil {
		return v, err
	}
	old, err := s.ssoSettings(ctx, org)
	if err != nil {
		return v, err
	}
	c := ssoConfig{SSOSettings: v, Secret: old.Secret}
	if v.ClientSecret != "" {
		if len(v.ClientSecret) > 500 || !printable(v.ClientSecret) {
			return v, wire.Errorf(wire.EINVALID, "client secret is not valid")
		}
		c.Secret = v.ClientSecret
	}
	c.ClientSecret, c.RedirectURL = "", ""
	c.Name, c.Issuer, c.ClientID = strings.TrimSpace(c.Name), strings.TrimRight(strings.TrimSpace(c.Issuer), "/"), strings.TrimSpace(c.ClientID)
	if c.RoleClaim = strings.TrimSpace(c.RoleClaim); c.RoleClaim == "" {
		c.RoleClaim = "groups"
	}
	if !claimPattern.MatchString(c.RoleClaim) {
		return v, wire.Errorf(wire.EINVALID, "role claim %q is not a claim name", c.RoleClaim)
	}
	if c.DefaultRole != "" {
		if err := checkRole(c.DefaultRole); err != nil {
			return v, err
		}
	}
	if c.AllowedDomains, err = cleanList("allowed domains", c.AllowedDomains, true, domainPattern.MatchString); err != nil {
		return v, err
	}
	for _, l := range []*[]string{&c.AdminGroups, &c.SupervisorGroups, &c.AgentGroups} {
		if *l, err = cleanList("groups", *l, false, printable); err != nil {
			return v, err
		}
	}
	if c.Enabled || c.Issuer != "" {
		if err := checkName("provider name", c.Name); err != nil {
			return v, err
		}
		if err := checkIssuer(c.Issuer); err != nil {
			return v, err
		}
		if c.ClientID == "" || len(c.ClientID) > 200 || !printable(c.ClientID) {
			return v, wire.Errorf(wire.EINVALID, "client id is required")
		}
	}
	if c.Enabled {
		if c.Secret == "" {
			return v, wire.Errorf(wire.EINVALID, "client secret is required")
		}
		if _, err := s.provider(ctx, org, c, true); err != nil {
			return v, wire.Errorf(wire.EINVALID, "the provider at %s did not answer its discovery document: %v", c.Issuer, err)
		}
	} else {
		c.PasswordSignIn = true
	}
	if !c.PasswordSignIn && old.passwordAllowed() && by.User != "" {
		if u, err := s.store.User(ctx, by.User); err != nil || u.ExternalID == "" {
			return v, wire.Errorf(wire.ECONFLICT, "sign in once through the identity provider before switching password sign-in off")
		}
	}
	if err := s.saveSSO(ctx, by, org, old, c, v.ClientSecret != ""); err != nil {
		return v, err
	}
	s.providers.forget(org)
	c.ClientSecretSet, c.Secret = c.Secret != "", ""
	return c.SSOSettings, nil
}

// ssoChanges describes a settings change for the audit log (never the secret itself).
func ssoChanges(old, c ssoConfig, secret bool) string {
	var ch []string
	add := func(cond bool, s string) {
		if cond {
			ch = append(ch, s)
		}
	}
	add(old.Enabled != c.Enabled, fmt.Sprintf("enabled %v → %v", old.Enabled, c.Enabled))
	add(old.Issuer != c.Issuer, fmt.Sprintf("issuer %s → %s", orNone(old.Issuer), orNone(c.Issuer)))
	add(old.ClientID != c.ClientID, fmt.Sprintf("client id %s → %s", orNone(old.ClientID), orNone(c.ClientID)))
	add(secret, "client secret changed")
	add(!slices.Equal(old.AllowedDomains, c.AllowedDomains), "allowed domains "+orNone(strings.Join(c.AllowedDomains, " ")))
	add(old.RoleClaim != c.RoleClaim || !slices.Equal(old.AdminGroups, c.AdminGroups) || !slices.Equal(old.SupervisorGroups, c.SupervisorGroups) ||
		!slices.Equal(old.AgentGroups, c.AgentGroups) || old.DefaultRole != c.DefaultRole, "role mapping changed")
	add(old.PasswordSignIn != c.PasswordSignIn, fmt.Sprintf("password sign-in %v → %v", old.PasswordSignIn, c.PasswordSignIn))
	add(old.Name != c.Name, fmt.Sprintf("name %q → %q", old.Name, c.Name))
	if len(ch) == 0 {
		return "no change"
	}
	return strings.Join(ch, ", ")
}

// SetPasswordSignIn switches password sign-in on or off from the command line (the way back
// when a provider stops working).
func (s *Server) SetPasswordSignIn(ctx context.Context, by Actor, org wire.OrgID, on bool) error {
	c, err := s.ssoSettings(ctx, org)
	if err != nil {
		return err
	}
	if !on && !c.Enabled {
		return wire.Errorf(wire.ECONFLICT, "%s has no identity provider: password sign-in stays on", org)
	}
	old := c
	c.PasswordSignIn = on
	return s.saveSSO(ctx, by, org, old, c, false)
}

// saveSSO stores the settings and their audit entry in one transaction.
func (s *Server) saveSSO(ctx context.Context, by Actor, org wire.OrgID, old, c ssoConfig, secret bool) error {
	c.ClientSecret, c.ClientSecretSet, c.RedirectURL = "", false, ""
	return s.saveOrgSetting(ctx, by, org, settingSSO, c, AuditSSOUpdate, ssoChanges(old, c, secret))
}

// providerCache keeps each organisation's discovered provider (and its key set) for an hour.
type providerCache struct {
	mu sync.Mutex
	m  map[wire.OrgID]cachedProvider
}

type cachedProvider struct {
	issuer string
	p      *oidc.Provider
	at     time.Time
}

func (pc *providerCache) forget(org wire.OrgID) {
	pc.mu.Lock()
	delete(pc.m, org)
	pc.mu.Unlock()
}

// provider returns the organisation's discovered provider, discovering it when needed (always
// when fresh is set).
func (s *Server) provider(ctx context.Context, org wire.OrgID, c ssoConfig, fresh bool) (*oidc.Provider, error) {
	s.providers.mu.Lock()
	cp, ok := s.providers.m[org]
	s.providers.mu.Unlock()
	if ok && !fresh && cp.issuer == c.Issuer && s.now().Sub(cp.at) < time.Hour {
		return cp.p, nil
	}
	// The provider's key set keeps this context for its later fetches (not its deadline).
	p, err := oidc.NewProvider(oidc.ClientContext(context.WithoutCancel(ctx), s.cfg.SSOClient), c.Issuer)
	if err != nil {
		return nil, err
	}
	s.providers.mu.Lock()
	if s.providers.m == nil {
		s.providers.m = map[wire.OrgID]cachedProvider{}
	}
	s.providers.m[org] = cachedProvider{issuer: c.Issuer, p: p, at: s.now()}
	s.providers.mu.Unlock()
	return p, nil
}

// ssoStart is a sign-in waiting at the provider (the data of a grantSSOState grant).
type ssoStart struct {
	Org wire.OrgID `json:"org"`
	// Nonce and Verifier are the hub's own: the ID token must carry Nonce, the code exchange
	// sends Verifier.
	Nonce    string `json:"nonce"`
	Verifier string `json:"verifier"`
	// Browser is the hash of the cookie that binds the sign-in to the browser.
	Browser string `json:"browser"`
	// Client is "app" or "console"; Redirect where the code goes back to; State and Challenge
	// the client's own state and PKCE challenge (S256).
	Client    string `json:"client"`
	Redirect  string `json:"redirect"`
	State     string `json:"state"`
	Challenge string `json:"challenge"`
}

// ssoCode is a sign-in done, waiting for its client to exchange the code (the data of a
// grantSSOCode grant).
type ssoCode struct {
	User      wire.UserID `json:"user"`
	Client    string      `json:"client"`
	Challenge string      `json:"challenge"`
	Addr      string      `json:"addr"`
}

func (s *Server) ssoRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /sso/start", s.handleSSOStart)
	mux.HandleFunc("GET /sso/callback", s.handleSSOCallback)
	mux.HandleFunc("POST /api/v1/sso/token", s.handleSSOToken)
	mux.HandleFunc("GET /api/v1/orgs/{org}/settings/sso", s.admin(s.handleGetSSO))
	mux.HandleFunc("PUT /api/v1/orgs/{org}/settings/sso", s.admin(s.handlePutSSO))
}

// loopbackRedirect checks a native app's redirect: http on a loopback IP literal, any port
// (RFC 8252 §7.3, §8.3).
func loopbackRedirect(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "http" || u.User != nil || u.Fragment != "" || u.Port() == "" || len(raw) > 300 {
		return false
	}
	ip := net.ParseIP(u.Hostname())
	return ip != nil && ip.IsLoopback()
}

var b64url = regexp.MustCompile(`^[A-Za-z0-9_-]{43,128}$`)

// consoleReturn is the console page a sign-in may come back to besides the console itself: a
// conversation's recordings (/admin/{org}/recordings/{conv}) or the recorded calls
// (/admin/{org}/recordings/).
var consoleReturn = regexp.MustCompile(`^recordings/([A-Za-z0-9_-]{1,64})?$`)

func (s *Server) handleSSOStart(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	org := wire.OrgID(q.Get("org"))
	st := ssoStart{Org: org, Client: q.Get("client"), Redirect: q.Get("redirect_uri"), State: q.Get("state"), Challenge: q.Get("code_challenge")}
	base := s.baseURL(r)
	switch {
	case st.Client == "app" && !loopbackRedirect(st.Redirect):
		s.ssoPage(w, r, http.StatusBadRequest, wire.EINVALID)
		return
	case st.Client == "console" && q.Get("return") != "" && !consoleReturn.MatchString(q.Get("return")):
		s.ssoPage(w, r, http.StatusBadRequest, wire.EINVALID)
		return
	case st.Client == "console":
		// Back to the console, or to the console's page it started from (a recordings page).
		st.Redirect = base + "/admin/" + url.PathEscape(string(org))
		if ret := q.Get("return"); ret != "" {
			st.Redirect += "/" + ret
		}
	case st.Client != "app":
		s.ssoPage(w, r, http.StatusBadRequest, wire.EINVALID)
		return
	}
	if q.Get("code_challenge_method") != "S256" || !b64url.MatchString(st.Challenge) || st.State == "" || len(st.State) > 200 {
		s.ssoPage(w, r, http.StatusBadRequest, wire.EINVALID)
		return
	}
	c, err := s.ssoSettings(r.Context(), org)
	if err == nil && !c.Enabled {
		err = wire.Errorf(wire.ENOTFOUND, "%s has no identity provider", org)
	}
	var p *oidc.Provider
	if err == nil {
		p, err = s.provider(r.Context(), org, c, false)
		if err != nil {
			s.log.Warn("identity provider unreachable", "org", org, "issuer", c.Issuer, "err", err)
			err = wire.Errorf(wire.EUNAVAILABLE, "the identity provider does not answer")
		}
	}
	if err != nil {
		s.ssoFail(w, r, st, err)
		return
	}
	state, stateHash := newToken()
	nonce, _ := newToken()
	cookie, cookieHash := newToken()
	st.Nonce, st.Verifier, st.Browser = nonce, oauth2.GenerateVerifier(), cookieHash
	data, _ := json.Marshal(st)
	if err := s.store.PutGrant(r.Context(), store.Grant{Hash: stateHash, Kind: grantSSOState, Org: org, Data: string(data), ExpiresAt: s.now().Add(ssoStateTTL)}); err != nil {
		s.ssoFail(w, r, st, err)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: ssoCookie, Value: cookie, Path: "/sso/", MaxAge: int(ssoStateTTL / time.Second), HttpOnly: true,
		Secure: strings.HasPrefix(base, "https:"), SameSite: http.SameSiteLaxMode})
	conf := s.oauthConfig(c, p, base)
	http.Redirect(w, r, conf.AuthCodeURL(state, oidc.Nonce(nonce), oauth2.S256ChallengeOption(st.Verifier)), http.StatusFound)
}

func (s *Server) oauthConfig(c ssoConfig, p *oidc.Provider, base string) oauth2.Config {
	return oauth2.Config{ClientID: c.ClientID, ClientSecret: c.Secret, Endpoint: p.Endpoint(), RedirectURL: base + "/sso/callback",
		Scopes: []string{oidc.ScopeOpenID, "profile", "email"}}
}

func (s *Server) handleSSOCallback(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	g, err := s.store.TakeGrant(r.Context(), hashToken(q.Get("state")), grantSSOState, s.now())
	if err != nil {
		// Unknown, used or expired: nothing tells where to send the person back.
		s.ssoPage(w, r, http.StatusBadRequest, wire.ELINKEXPIRED)
		return
	}
	var st ssoStart
	if err := json.Unmarshal([]byte(g.Data), &st); err != nil {
		s.ssoPage(w, r, http.StatusBadRequest, wire.EINTERNAL)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: ssoCookie, Value: "", Path: "/sso/", MaxAge: -1, HttpOnly: true})
	ck, cerr := r.Cookie(ssoCookie)
	if cerr != nil || subtle.ConstantTimeCompare([]byte(hashToken(ck.Value)), []byte(st.Browser)) != 1 {
		s.log.Warn("single sign-on refused: the callback came to another browser", "org", st.Org)
		s.ssoFail(w, r, st, wire.Errorf(wire.EUNAUTHORIZED, "the sign-in finished in another browser"))
		return
	}
	if e := q.Get("error"); e != "" {
		s.log.Info("identity provider refused the sign-in", "org", st.Org, "error", e)
		s.ssoFail(w, r, st, wire.Errorf(wire.EUNAUTHORIZED, "the identity provider answered %s", e))
		return
	}
	u, err := s.ssoFinish(r.Context(), st, q.Get("code"), s.baseURL(r), s.clientAddr(r))
	if err != nil {
		s.ssoFail(w, r, st, err)
		return
	}
	code, codeHash := newToken()
	data, _ := json.Marshal(ssoCode{User: u.ID, Client: st.Client, Challenge: st.Challenge, Addr: s.clientAddr(r)})
	if err := s.store.PutGrant(r.Context(), store.Grant{Hash: codeHash, Kind: grantSSOCode, Org: st.Org, Data: string(data), ExpiresAt: s.now().Add(ssoCodeTTL)}); err != nil {
		s.ssoFail(w, r, st, err)
		return
	}
	s.ssoBack(w, r, st, url.Values{"code": {code}, "state": {st.State}})
}

// ssoFinish exchanges the provider's code, verifies the ID token, and returns the member it maps
// to (creating or updating them as the provider says).
func (s *Server) ssoFinish(ctx context.Context, st ssoStart, code, base, addr string) (store.User, error) {
	c, err := s.ssoSettings(ctx, st.Org)
	if err != nil {
		return store.User{}, err
	}
	if !c.Enabled {
		return store.User{}, wire.Errorf(wire.ENOTFOUND, "%s has no identity provider", st.Org)
	}
	p, err := s.provider(ctx, st.Org, c, false)
	if err != nil {
		return store.User{}, wire.Errorf(wire.EUNAVAILABLE, "the identity provider does not answer")
	}
	conf := s.oauthConfig(c, p, base)
	tok, err := conf.Exchange(oidc.ClientContext(ctx, s.cfg.SSOClient), code, oauth2.VerifierOption(st.Verifier))
	if err != nil {
		s.log.Warn("single sign-on: code exchange failed", "org", st.Org, "err", err)
		return store.User{}, wire.Errorf(wire.EUNAUTHORIZED, "the identity provider refused the code")
	}
	raw, _ := tok.Extra("id_token").(string)
	claims, err := s.verifyIDToken(ctx, st.Org, c, p, raw, st.Nonce)
	if err != nil {
		return store.User{}, err
	}
	if claims.Email == "" && tok.AccessToken != "" {
		// Some providers keep the profile out of the ID token: ask their userinfo endpoint.
		if err := s.userinfo(ctx, c, p, tok, &claims); err != nil {
			s.log.Warn("single sign-on: userinfo failed", "org", st.Org, "err", err)
		}
	}
	return s.ssoMember(ctx, st.Org, c, claims, addr)
}

// userinfo fills the email, name and groups of cl from the provider's userinfo endpoint, for the
// same subject.
func (s *Server) userinfo(ctx context.Context, c ssoConfig, p *oidc.Provider, tok *oauth2.Token, cl *idClaims) error {
	ui, err := p.UserInfo(oidc.ClientContext(ctx, s.cfg.SSOClient), oauth2.StaticTokenSource(tok))
	if err != nil {
		return err
	}
	if ui.Subject != cl.Subject {
		return fmt.Errorf("userinfo is for subject %q, not %q", ui.Subject, cl.Subject)
	}
	var all map[string]any
	if err := ui.Claims(&all); err != nil {
		return err
	}
	cl.Email, cl.EmailVerified = ui.Email, &ui.EmailVerified
	if _, said := all["email_verified"]; !said {
		cl.EmailVerified = nil
	}
	if cl.Name == "" {
		cl.Name, _ = all["name"].(string)
	}
	if cl.Groups == nil {
		cl.Groups = groupsClaim(all[c.RoleClaim])
	}
	return nil
}

// groupsClaim reads a groups claim: a list of names, or one space-separated string.
func groupsClaim(v any) []string {
	switch g := v.(type) {
	case string:
		return strings.Fields(g)
	case []any:
		var out []string
		for _, x := range g {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// idClaims are the ID token claims the hub reads.
type idClaims struct {
	Issuer        string
	Subject       string
	Email         string
	EmailVerified *bool
	Name          string
	Groups        []string
}

// verifyIDToken checks raw's signature against the provider's keys, its issuer, audience (the
// organisation's client id) and expiry on the hub's clock, and that it carries nonce.
func (s *Server) verifyIDToken(ctx context.Context, org wire.OrgID, c ssoConfig, p *oidc.Provider, raw, nonce string) (idClaims, error) {
	refuse := func(why string, err error) (idClaims, error) {
		s.log.Warn("single sign-on: ID token refused", "org", org, "why", why, "err", err)
		return idClaims{}, wire.Errorf(wire.EUNAUTHORIZED, "the identity provider's token was refused: %s", why)
	}
	if raw == "" {
		return refuse("no ID token", nil)
	}
	v := p.Verifier(&oidc.Config{ClientID: c.ClientID, Now: s.now})
	idt, err := v.Verify(oidc.ClientContext(ctx, s.cfg.SSOClient), raw)
	if err != nil {
		var expired *oidc.TokenExpiredError
		if errors.As(err, &expired) {
			return refuse("expired", err)
		}
		if strings.Contains(err.Error(), "audience") {
			return refuse("wrong audience", err)
		}
		return refuse("not valid", err)
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(nonce)) != 1 {
		return refuse("wrong nonce", nil)
	}
	var all map[string]any
	if err := idt.Claims(&all); err != nil {
		return refuse("unreadable claims", err)
	}
	out := idClaims{Issuer: idt.Issuer, Subject: idt.Subject}
	out.Email, _ = all["email"].(string)
	out.Name, _ = all["name"].(string)
	switch v := all["email_verified"].(type) {
	case bool:
		out.EmailVerified = &v
	case string:
		b := v == "true"
		out.EmailVerified = &b
	}
	out.Groups = groupsClaim(all[c.RoleClaim])
	return out, nil
}

// ssoRole maps groups to a role: admin, then supervisor, then agent groups, then the default.
func ssoRole(c ssoConfig, groups []string) wire.Role {
	has := func(l []string) bool {
		for _, g := range l {
			if slices.Contains(groups, g) {
				return true
			}
		}
		return false
	}
	switch {
	case has(c.AdminGroups):
		return wire.RoleAdmin
	case has(c.SupervisorGroups):
		return wire.RoleSupervisor
	case has(c.AgentGroups):
		return wire.RoleAgent
	}
	return c.DefaultRole
}

// ssoMember finds the member a provider's account is (linked by issuer and subject, else by
// email as username), creates one on first sign-in, and keeps their role, name and email as the
// provider says. A disabled member, an address outside the allowed domains and an account in no
// mapped group are refused, and the refusal is in the audit log.
func (s *Server) ssoMember(ctx context.Context, org wire.OrgID, c ssoConfig, cl idClaims, addr string) (store.User, error) {
	email := strings.ToLower(strings.TrimSpace(cl.Email))
	refuse := func(target string, err error) (store.User, error) {
		by := Actor{Name: target, Addr: addr}
		_ = s.store.Apply(ctx, store.Change{Audit: []store.AuditEntry{by.entry(org, AuditSSOSignInError, target, wire.ErrorMessage(err))}})
		return store.User{}, err
	}
	if email == "" || checkEmail(email) != nil {
		return refuse(cl.Subject, wire.Errorf(wire.EUNAUTHORIZED, "the identity provider gave no email address (ask for the email scope)"))
	}
	if cl.EmailVerified != nil && !*cl.EmailVerified {
		return refuse(email, wire.Errorf(wire.EDOMAIN, "the identity provider has not verified %s", email))
	}
	domain := email[strings.LastIndexByte(email, '@')+1:]
	if len(c.AllowedDomains) > 0 && !slices.Contains(c.AllowedDomains, domain) {
		return refuse(email, wire.Errorf(wire.EDOMAIN, "%s is not in an allowed domain", email))
	}
	role := ssoRole(c, cl.Groups)
	ext := cl.Issuer + " " + cl.Subject
	u, err := s.store.UserByExternalID(ctx, org, ext)
	if errors.Is(err, store.ErrNotFound) {
		u, err = s.store.UserByName(ctx, org, email)
		if err == nil && u.ExternalID != "" {
			return refuse(email, wire.Errorf(wire.ECONFLICT, "%s is linked to another account of the identity provider", email))
		}
	}
	name := strings.TrimSpace(cl.Name)
	if checkName("display name", name) != nil {
		name = email
	}
	by := Actor{Name: "identity provider", Addr: addr}
	switch {
	case errors.Is(err, store.ErrNotFound):
		if role == "" {
			return refuse(email, wire.Errorf(wire.EFORBIDDEN, "%s is in no group that maps to a role", email))
		}
		if CheckUsername(email) != nil {
			return refuse(email, wire.Errorf(wire.EINVALID, "%s cannot be a username", email))
		}
		u = store.User{ID: wire.UserID(newID("u")), Org: org, Username: email, DisplayName: name, Email: email, Role: role, Capacity: 3, ExternalID: ext}
		err := s.store.Apply(ctx, store.Change{CreateUser: &u, Audit: []store.AuditEntry{by.entry(org, AuditMemberInvite, u.Username, "role "+string(role)+", first sign-in")}})
		if err != nil {
			return store.User{}, err
		}
		s.memberChanged(u)
		return u, nil
	case err != nil:
		return store.User{}, err
	}
	if u.Disabled {
		return refuse(u.Username, store.ErrDisabled)
	}
	next := u
	next.ExternalID, next.Email = ext, email
	if role != "" {
		next.Role = role
	} else if len(c.AdminGroups)+len(c.SupervisorGroups)+len(c.AgentGroups) > 0 && c.DefaultRole == "" {
		return refuse(u.Username, wire.Errorf(wire.EFORBIDDEN, "%s is in no group that maps to a role", email))
	}
	if u.DisplayName == u.Username && name != email {
		next.DisplayName = name
	}
	if next != u {
		detail := "linked to the identity provider"
		if next.Role != u.Role {
			detail = fmt.Sprintf("role %s → %s (identity provider groups)", u.Role, next.Role)
		}
		ch := store.Change{UpdateUser: &next, Audit: []store.AuditEntry{by.entry(org, AuditMemberUpdate, u.Username, detail)}}
		if next.Role != u.Role {
			ch.EndSessions = u.ID
		}
		if err := s.store.Apply(ctx, ch); err != nil {
			return store.User{}, err
		}
		if ch.EndSessions != "" {
			s.sessionsEnded(u.ID, "", "role changed")
		}
		s.memberChanged(next)
	}
	return next, nil
}

// ssoFail sends the person back to where the sign-in started with the error's code, or shows a
// page when there is nowhere to go back to.
func (s *Server) ssoFail(w http.ResponseWriter, r *http.Request, st ssoStart, err error) {
	code := wire.ErrorCode(err)
	if code == wire.EINTERNAL {
		s.log.Error("single sign-on failed", "org", st.Org, "err", err)
	}
	if st.Redirect == "" {
		s.ssoPage(w, r, code.HTTPStatus(), code)
		return
	}
	s.ssoBack(w, r, st, url.Values{"error": {string(code)}, "state": {st.State}})
}

// ssoBack redirects to the client: the app's loopback address gets a query, the console its
// fragment (kept out of logs).
func (s *Server) ssoBack(w http.ResponseWriter, r *http.Request, st ssoStart, v url.Values) {
	target := st.Redirect + "?" + v.Encode()
	if st.Client == "console" {
		target = st.Redirect + "#sso_" + strings.ReplaceAll(v.Encode(), "&", "&sso_")
	}
	w.Header().Set("Referrer-Policy", "no-referrer")
	http.Redirect(w, r, target, http.StatusFound)
}

// ssoPage is the hub's own page for a sign-in it cannot send back: a sentence in English and
// Spanish.
func (s *Server) ssoPage(w http.ResponseWriter, r *http.Request, status int, code wire.Code) {
	en, es := "This sign-in link has expired or was already used. Go back to Parley and sign in again.",
		"Este enlace de inicio de sesión ha caducado o ya se usó. Vuelve a Parley e inicia sesión de nuevo."
	if code != wire.ELINKEXPIRED {
		en, es = "This sign-in could not start. Go back to Parley and try again.", "No se pudo iniciar la sesión. Vuelve a Parley e inténtalo de nuevo."
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	fmt.Fprintf(w, `<!doctype html><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>Parley</title>
<body style="font:15px system-ui,sans-serif;max-width:520px;margin:60px auto;padding:0 16px;color:#1d2433">
<p data-testid="sso-error" data-code="%s">%s</p><p lang="es">%s</p></body>`, html.EscapeString(string(code)), html.EscapeString(en), html.EscapeString(es))
}

// s256 is the PKCE S256 challenge of a verifier.
func s256(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// exchangeSSOCode gives the app (or console) its session for a one-time code and the verifier
// of the challenge it started with.
func (s *Server) exchangeSSOCode(ctx context.Context, req wire.TokenExchange) (wire.LoginResponse, error) {
	bad := wire.Errorf(wire.EUNAUTHORIZED, "the sign-in code is unknown, used or expired")
	if req.Code == "" || len(req.Code) > 200 || len(req.CodeVerifier) > 200 {
		return wire.LoginResponse{}, bad
	}
	g, err := s.store.TakeGrant(ctx, hashToken(req.Code), grantSSOCode, s.now())
	if errors.Is(err, store.ErrNotFound) {
		return wire.LoginResponse{}, bad
	}
	if err != nil {
		return wire.LoginResponse{}, err
	}
	var sc ssoCode
	if err := json.Unmarshal([]byte(g.Data), &sc); err != nil {
		return wire.LoginResponse{}, err
	}
	if subtle.ConstantTimeCompare([]byte(s256(req.CodeVerifier)), []byte(sc.Challenge)) != 1 {
		s.log.Warn("single sign-on: code presented without its verifier", "org", g.Org)
		return wire.LoginResponse{}, bad
	}
	u, err := s.store.User(ctx, sc.User)
	if err != nil {
		return wire.LoginResponse{}, err
	}
	if u.Disabled {
		return wire.LoginResponse{}, store.ErrDisabled
	}
	return s.issue(ctx, u, sc.Client, "sso", sc.Addr)
}

func (s *Server) handleSSOToken(w http.ResponseWriter, r *http.Request) {
	var req wire.TokenExchange
	if err := readJSON(r, &req); err != nil {
		writeError(w, err)
		return
	}
	resp, err := s.exchangeSSOCode(r.Context(), req)
	s.answer(w, "exchanging a sign-in code", resp, err)
}

func (s *Server) handleGetSSO(w http.ResponseWriter, r *http.Request, a adminCtx) {
	c, err := s.ssoSettings(r.Context(), a.org)
	c.RedirectURL = s.baseURL(r) + "/sso/callback"
	s.answer(w, "reading single sign-on settings", c.SSOSettings, err)
}

func (s *Server) handlePutSSO(w http.ResponseWriter, r *http.Request, a adminCtx) {
	var v wire.SSOSettings
	if err := readJSON(r, &v); err != nil {
		writeError(w, err)
		return
	}
	out, err := s.SetSSO(r.Context(), a.by, a.org, v)
	out.RedirectURL = s.baseURL(r) + "/sso/callback"
	s.answer(w, "saving single sign-on settings", out, err)
}
