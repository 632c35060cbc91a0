package app

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"time"

	"github.com/parleyhq/parley/app/policy"
	"github.com/parleyhq/parley/hub/client"
	"github.com/parleyhq/parley/wire"
)

// Session signs the agent in to a hub and out again: with a password, through the
// organisation's identity provider in the system browser (sso.go), or with a token for
// automation. The token lives in memory only; the session renews it while the app runs.
type Session struct {
	c *core
}

// signInTimeout bounds signing in: the login request, the connection and its welcome.
const signInTimeout = 15 * time.Second

// ErrOrgLocked indicates a sign-in to another organisation than the one the policy locks.
var ErrOrgLocked = &wire.Error{Code: wire.EFORBIDDEN, Message: "the organisation is locked by this machine's policy"}

// SignInOptionsView tells the sign-in form how an organisation's members sign in.
type SignInOptionsView struct {
	HubURL string `json:"hub_url"`
	Org    string `json:"org"`
	// Name is the organisation's display name.
	Name string `json:"name"`
	// Password is true when members may sign in with a password.
	Password bool `json:"password"`
	// SSO names the identity provider ("Sign in with SSO"), empty when there is none.
	SSO string `json:"sso,omitempty"`
}

// Prefill returns what the sign-in form starts with.
func (s *Session) Prefill() (Prefill, error) {
	s.c.mu.Lock()
	defer s.c.mu.Unlock()
	return s.c.prefill, nil
}

// Current returns the sign-in state.
func (s *Session) Current() (SessionView, error) {
	s.c.mu.Lock()
	defer s.c.mu.Unlock()
	return s.c.session, nil
}

// target checks the hub and organisation a sign-in goes to against the policy.
func (c *core) target(hubURL, org string) (string, wire.OrgID, error) {
	hubURL, err := normalizeHubURL(hubURL)
	if err != nil {
		return "", "", err
	}
	if err := c.checkHubPolicy(hubURL); err != nil {
		c.log.Info("sign-in refused by policy", "hub", hubURL, "code", wire.ErrorCode(err))
		return "", "", err
	}
	org = strings.ToLower(strings.TrimSpace(org))
	if org == "" {
		return "", "", wire.Errorf(wire.EINVALID, "organisation is required")
	}
	if c.policy.IsLocked(policy.SettingOrg) && org != c.policy.Org {
		return "", "", ErrOrgLocked
	}
	return hubURL, wire.OrgID(org), nil
}

// signingIn runs one way of signing in: with signMu held, so that sign-ins and sign-outs go one
// at a time, and only while no session is open.
func (c *core) signingIn(signIn func() (SessionView, error)) (SessionView, error) {
	c.signMu.Lock()
	defer c.signMu.Unlock()
	if _, err := c.currentLink(); err == nil {
		return SessionView{}, ErrSignedIn
	}
	return signIn()
}

// signInTo is signingIn for the ways that name a hub and an organisation: signIn gets them once
// target has checked them against the policy.
func (c *core) signInTo(hubURL, org string, signIn func(hubURL string, oid wire.OrgID) (SessionView, error)) (SessionView, error) {
	return c.signingIn(func() (SessionView, error) {
		hubURL, oid, err := c.target(hubURL, org)
		if err != nil {
			return SessionView{}, err
		}
		return signIn(hubURL, oid)
	})
}

// Options asks the hub how org's members sign in: password, identity provider, or both.
func (s *Session) Options(hubURL, org string) (SignInOptionsView, error) {
	hubURL, oid, err := s.c.target(hubURL, org)
	if err != nil {
		return SignInOptionsView{}, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), signInTimeout)
	defer cancel()
	opts, err := client.SignInOptions(ctx, hubURL, oid)
	if err != nil {
		s.c.log.Info("sign-in options refused", "hub", hubURL, "org", oid, "code", wire.ErrorCode(err), "err", err)
		return SignInOptionsView{}, signInError(err)
	}
	return SignInOptionsView{HubURL: hubURL, Org: string(opts.Org), Name: opts.Name, Password: opts.Password, SSO: opts.SSO}, nil
}

// SignIn logs in to the hub at hubURL as org/username with a password and connects. It returns
// once the hub has welcomed the connection.
func (s *Session) SignIn(hubURL, org, username, password string) (SessionView, error) {
	c := s.c
	return c.signInTo(hubURL, org, func(hubURL string, oid wire.OrgID) (SessionView, error) {
		username = strings.TrimSpace(username)
		if username == "" || password == "" {
			return SessionView{}, wire.Errorf(wire.EINVALID, "organisation, username and password are required")
		}
		ctx, cancel := context.WithTimeout(context.Background(), signInTimeout)
		defer cancel()
		login, err := client.SignIn(ctx, hubURL, wire.LoginRequest{Org: oid, Username: username, Password: password, Client: c.clientLabel})
		if err != nil {
			c.log.Info("sign-in refused", "hub", hubURL, "org", oid, "user", username, "code", wire.ErrorCode(err), "err", err)
			return SessionView{}, signInError(err)
		}
		return c.connect(ctx, hubURL, login, username)
	})
}

// SignInToken connects with a token made for automation (parley-hub user token): the headless
// agent's -token.
func (s *Session) SignInToken(hubURL, token string) (SessionView, error) {
	c := s.c
	return c.signingIn(func() (SessionView, error) {
		hubURL, err := normalizeHubURL(hubURL)
		if err != nil {
			return SessionView{}, err
		}
		if err := c.checkHubPolicy(hubURL); err != nil {
			return SessionView{}, err
		}
		ctx, cancel := context.WithTimeout(context.Background(), signInTimeout)
		defer cancel()
		me, err := client.Me(ctx, hubURL, strings.TrimSpace(token))
		if err != nil {
			c.log.Info("token refused", "hub", hubURL, "code", wire.ErrorCode(err))
			return SessionView{}, signInError(err)
		}
		if c.policy.IsLocked(policy.SettingOrg) && string(me.User.Org) != c.policy.Org {
			return SessionView{}, ErrOrgLocked
		}
		return c.connect(ctx, hubURL, wire.LoginResponse{Token: strings.TrimSpace(token), ExpiresAt: me.ExpiresAt, User: me.User}, me.User.Username)
	})
}

// connect dials the hub with a session's token and makes it the app's session. Callers hold
// signMu.
func (c *core) connect(ctx context.Context, hubURL string, login wire.LoginResponse, username string) (SessionView, error) {
	log := c.log.With("hub", hubURL, "org", login.User.Org, "user", login.User.Username)
	l, err := client.Dial(ctx, hubURL, login.Token, client.Options{Logger: c.log.With("component", "hub-client")})
	if err != nil {
		log.Info("connection refused", "code", wire.ErrorCode(err), "err", err)
		return SessionView{}, signInError(err)
	}
	runCtx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	c.mu.Lock()
	c.reset()
	c.link, c.stop, c.done = l, stop, done
	c.token, c.tokenExp = login.Token, time.UnixMilli(login.ExpiresAt)
	u := login.User
	c.session = SessionView{SignedIn: true, HubURL: hubURL, User: &u, Connection: ConnOnline, MaxTextBytes: wire.MaxTextBytes}
	c.prefill = Prefill{HubURL: hubURL, Org: string(login.User.Org), Username: username}
	// The connection's first event repeats this welcome; applying it twice is harmless.
	out, followUp := c.welcome(l.Welcome())
	view := c.session
	remembered := c.prefill
	c.unlockEmit(out) // before run starts: the hub's later events come after the welcome

	c.remember(remembered)
	log.Info("signed in", "role", login.User.Role)
	go c.run(runCtx, l, done)
	go c.renew(runCtx, l, hubURL)
	c.uploadPending(hubURL, u.ID)
	c.async(followUp)
	return view, nil
}

// renew keeps the session's token alive while the app is signed in: the hub gives a new token
// (the connection, and a call on it, stay up), and the link says Hello with it on its next
// reconnect. A refused renewal means the session ended; the hub closes the link and lost()
// reports it.
func (c *core) renew(ctx context.Context, l *client.Conn, hubURL string) {
	retry := 30 * time.Second
	for {
		c.mu.Lock()
		if c.link != l {
			c.mu.Unlock()
			return
		}
		token, exp := c.token, c.tokenExp
		c.mu.Unlock()
		// Renew at half the token's remaining life: a 12-hour session every 6 hours, with time
		// left to try again when the hub is briefly out of reach.
		wait := max(exp.Sub(c.now())/2, 0)
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		rctx, cancel := context.WithTimeout(ctx, requestTimeout)
		r, err := client.Renew(rctx, hubURL, token)
		cancel()
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			var werr *wire.Error
			if errors.As(err, &werr) && werr.Code == wire.EUNAUTHORIZED {
				c.log.Warn("the hub refused to renew the session", "err", err)
				return
			}
			c.log.Info("renewing the session failed; trying again", "err", err)
			select {
			case <-ctx.Done():
				return
			case <-time.After(retry):
			}
			continue
		}
		c.mu.Lock()
		if c.link == l {
			c.token, c.tokenExp = r.Token, time.UnixMilli(r.ExpiresAt)
		}
		c.mu.Unlock()
		l.SetToken(r.Token)
		c.log.Debug("session renewed", "expires", time.UnixMilli(r.ExpiresAt))
	}
}

// SignOut ends the session on the hub, closes the connection and forgets the session.
func (s *Session) SignOut() error {
	c := s.c
	c.signMu.Lock()
	defer c.signMu.Unlock()
	c.mu.Lock()
	l := c.link
	agent := c.session.User != nil && c.session.User.Role == wire.RoleAgent
	c.mu.Unlock()
	if l == nil {
		return nil
	}
	// Routing hears it first: the agent's customers go back to the queue now, not when the
	// offline grace runs out, and no new offer is made to a desk nobody sits at.
	if agent {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		if _, err := l.Request(ctx, wire.TypeAgentSignOut, nil); err != nil {
			c.log.Warn("telling the hub of the sign-out", "code", wire.ErrorCode(err))
		}
		cancel()
	}
	c.mu.Lock()
	stop, done := c.stop, c.done
	if c.link != l { // lost meanwhile: already signed out
		c.mu.Unlock()
		return nil
	}
	hubURL, token := c.session.HubURL, c.token
	c.reset()
	out := []emission{
		{EventSession, c.session},
		{EventAgent, c.agent},
		{EventOffers, []OfferView{}},
		{EventConversations, []ConversationView{}},
	}
	c.unlockEmit(out) // run stops at once: the link is no longer c.link
	// The hub revokes the token; without it (hub unreachable) the token still expires.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	if err := client.Logout(ctx, hubURL, token); err != nil {
		c.log.Info("the hub did not take the sign-out; the session expires on its own", "err", err)
	}
	cancel()
	stop()
	err := l.Close()
	<-done
	c.log.Info("signed out")
	if err != nil {
		c.log.Debug("close", "err", err)
	}
	return nil
}

// signInError keeps the hub's refusals (wrong password, unknown organisation) and turns every
// other failure, a network one above all, into ErrHubUnreachable.
func signInError(err error) error {
	var werr *wire.Error
	if errors.As(err, &werr) {
		return &wire.Error{Code: werr.Code, Message: werr.Message}
	}
	return ErrHubUnreachable
}

// normalizeHubURL accepts "host:port", "http://host:port/" and the like, and returns
// "scheme://host[:port][/path]" without a trailing slash.
func normalizeHubURL(raw string) (string, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return "", wire.Errorf(wire.EINVALID, "hub URL is required")
	}
	if !strings.Contains(raw, "://") {
		raw = "http://" + raw
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return "", wire.Errorf(wire.EINVALID, "hub URL %q is not an http(s) URL", raw)
	}
	u.RawQuery, u.Fragment = "", ""
	return strings.TrimRight(u.String(), "/"), nil
}
