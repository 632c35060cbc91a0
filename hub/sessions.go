package hub

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/parleyhq/parley/hub/store"
	"github.com/parleyhq/parley/wire"
	"golang.org/x/crypto/bcrypt"
)

// Accounts configures members' accounts and sessions. Zero fields take the documented defaults.
type Accounts struct {
	// PublicURL is the address people reach the hub at, e.g. https://chat.example.com: setup
	// links and the single sign-on redirect are made from it. Empty: from each request's Host
	// (and X-Forwarded-Proto from a trusted proxy); the command line then prints a path only.
	PublicURL string
	// SetupLinkTTL is how long a setup link works (default 72 h).
	SetupLinkTTL time.Duration
	// SessionMaxAge is how long a member's session may be renewed before they sign in again
	// (default 30 days).
	SessionMaxAge time.Duration
	// CustomerGrace is how long a customer's token still works after their conversation ended,
	// so they can read the transcript (default 10 min).
	CustomerGrace time.Duration
	// AuditPoll is how often the hub reads account changes other processes made (default 2 s).
	AuditPoll time.Duration
	// SessionCheck is how often the hub checks that connected members' sessions still exist and
	// have not expired (default 30 s).
	SessionCheck time.Duration
	// SSOClient is the HTTP client that talks to identity providers; nil means one with a 10 s
	// timeout.
	SSOClient *http.Client
}

func (a *Accounts) defaults() {
	if a.SetupLinkTTL <= 0 {
		a.SetupLinkTTL = DefaultSetupLinkTTL
	}
	if a.SessionMaxAge <= 0 {
		a.SessionMaxAge = 30 * 24 * time.Hour
	}
	if a.CustomerGrace <= 0 {
		a.CustomerGrace = 10 * time.Minute
	}
	if a.AuditPoll <= 0 {
		a.AuditPoll = 2 * time.Second
	}
	if a.SessionCheck <= 0 {
		a.SessionCheck = 30 * time.Second
	}
	if a.SSOClient == nil {
		a.SSOClient = &http.Client{Timeout: 10 * time.Second}
	}
	a.PublicURL = strings.TrimRight(a.PublicURL, "/")
}

// clientLabel keeps a session's client label to the known ones.
func clientLabel(c string) string {
	switch c {
	case "app", "console", "agent", "cli":
		return c
	}
	return "app"
}

// issue starts a session for u: its token, stored with the sign-in's audit entry in one
// transaction.
func (s *Server) issue(ctx context.Context, u store.User, client, method, addr string) (wire.LoginResponse, error) {
	token, hash := newToken()
	now := s.now()
	exp := now.Add(s.cfg.TokenTTL)
	tok := store.Token{Hash: hash, Org: u.Org, Role: u.Role, User: u.ID, CreatedAt: now, ExpiresAt: exp, Addr: addr, Client: clientLabel(client), Method: method}
	by := Actor{User: u.ID, Name: u.Username, Addr: addr}
	err := s.store.Apply(ctx, store.Change{CreateToken: &tok, SignedIn: u.ID,
		Audit: []store.AuditEntry{by.entry(u.Org, AuditSignIn, u.Username, method+", "+tok.Client)}})
	if err != nil {
		return wire.LoginResponse{}, err
	}
	s.log.Info("member signed in", "org", u.Org, "user", u.ID, "role", u.Role, "method", method, "client", tok.Client)
	return wire.LoginResponse{Token: token, ExpiresAt: exp.UnixMilli(), User: u.Wire()}, nil
}

// login checks a member's password and starts a session. A wrong organisation, username or
// password all read the same; a disabled member learns so only with the right password.
func (s *Server) login(ctx context.Context, req wire.LoginRequest, addr string) (wire.LoginResponse, error) {
	var resp wire.LoginResponse
	username := NormalizeUsername(req.Username)
	if req.Org == "" || username == "" || len(username) > 200 || len(req.Password) > 200 {
		return resp, ErrBadLogin
	}
	// Failures are limited per address and account together, and per address (signin.go).
	account, address := loginKeys(addr, req.Org, username)
	if wait := s.loginWait(account, address); wait > 0 {
		s.metrics.logins.WithLabelValues("limited").Inc()
		s.log.Warn("sign-in refused: too many failed attempts from this address", "org", req.Org, "address", addr, "wait", wait.Round(time.Second))
		return resp, &loginLimited{wait: wait}
	}
	if sso, err := s.ssoSettings(ctx, req.Org); err == nil && !sso.passwordAllowed() {
		return resp, ErrSSORequired
	}
	release, err := s.hashing(ctx)
	if err != nil {
		return resp, err
	}
	defer release()
	u, err := s.store.UserByName(ctx, req.Org, username)
	if errors.Is(err, store.ErrNotFound) || (err == nil && u.PasswordHash == "") {
		// The same work as a real check, so timing does not tell who exists.
		_ = bcrypt.CompareHashAndPassword([]byte(s.dummyHash), []byte(req.Password))
		s.loginFailed(account, address)
		return resp, ErrBadLogin
	}
	if err != nil {
		return resp, err
	}
	if bcrypt.CompareHashAndPassword([]byte(u.PasswordHash), []byte(req.Password)) != nil {
		s.loginFailed(account, address)
		return resp, ErrBadLogin
	}
	s.limitState.Clear(account)
	if u.Disabled {
		return resp, store.ErrDisabled
	}
	s.metrics.logins.WithLabelValues("ok").Inc()
	return s.issue(ctx, u, req.Client, "password", addr)
}

// bearer is the token of a request's "Authorization: Bearer" header.
func bearer(r *http.Request) string {
	t, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	return strings.TrimSpace(t)
}

// memberToken authenticates a request as any member (not a customer).
func (s *Server) memberToken(r *http.Request) (store.Token, error) {
	tok, err := s.authenticate(r.Context(), bearer(r))
	if err != nil {
		return tok, err
	}
	if tok.Role == wire.RoleCustomer {
		return tok, ErrTokenInvalid
	}
	return tok, nil
}

// logout ends the session of the request's token and closes its connections.
func (s *Server) logout(ctx context.Context, token, addr string) error {
	tok, err := s.authenticate(ctx, token)
	if err != nil || tok.Role == wire.RoleCustomer {
		return nil // nothing to end: signing out always succeeds
	}
	u, err := s.store.User(ctx, tok.User)
	if err != nil {
		return err
	}
	by := Actor{User: u.ID, Name: u.Username, Addr: addr}
	err = s.store.Apply(ctx, store.Change{EndSession: &store.SessionRef{User: u.ID, ID: tok.ID},
		Audit: []store.AuditEntry{by.entry(u.Org, AuditSignOut, u.Username, tok.Client)}})
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	s.sessionsEnded(u.ID, tok.ID, "signed out")
	return nil
}

// renew gives the session of the request's token a new token with a new expiry; the old token
// stops working, and the connections made with it stay up (they belong to the session). A
// session is renewed until SessionMaxAge after its sign-in.
func (s *Server) renew(ctx context.Context, token string) (wire.RenewResponse, error) {
	tok, err := s.authenticate(ctx, token)
	if err != nil {
		return wire.RenewResponse{}, err
	}
	if tok.Role == wire.RoleCustomer {
		return wire.RenewResponse{}, ErrTokenInvalid
	}
	now := s.now()
	limit := tok.CreatedAt.Add(s.cfg.SessionMaxAge)
	if tok.CreatedAt.IsZero() {
		limit = now.Add(s.cfg.TokenTTL)
	}
	if !now.Before(limit) {
		return wire.RenewResponse{}, wire.Errorf(wire.EUNAUTHORIZED, "the session is %s old: sign in again", s.cfg.SessionMaxAge)
	}
	exp := now.Add(s.cfg.TokenTTL)
	if exp.After(limit) {
		exp = limit
	}
	newTok, hash := newToken()
	if err := s.store.RenewToken(ctx, tok.Hash, hash, exp); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return wire.RenewResponse{}, ErrTokenInvalid // renewed or ended meanwhile
		}
		return wire.RenewResponse{}, err
	}
	return wire.RenewResponse{Token: newTok, ExpiresAt: exp.UnixMilli()}, nil
}

// me tells whose a token is.
func (s *Server) me(ctx context.Context, tok store.Token) (wire.Me, error) {
	u, err := s.store.User(ctx, tok.User)
	if err != nil {
		return wire.Me{}, err
	}
	o, err := s.orgRecord(ctx, u.Org)
	if err != nil {
		return wire.Me{}, err
	}
	return wire.Me{User: u.Wire(), OrgName: o.Name, Session: tok.ID, ExpiresAt: tok.ExpiresAt.UnixMilli()}, nil
}
