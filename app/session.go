package app

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"time"

	"github.com/parleyhq/parley/hub/client"
	"github.com/parleyhq/parley/wire"
)

// Session signs the agent in to a hub and out again. The token lives in memory only.
type Session struct {
	c *core
}

// signInTimeout bounds signing in: the login request, the connection and its welcome.
const signInTimeout = 15 * time.Second

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

// SignIn logs in to the hub at hubURL as org/username and connects. It returns once the hub
// has welcomed the connection.
func (s *Session) SignIn(hubURL, org, username, password string) (SessionView, error) {
	c := s.c
	c.signMu.Lock()
	defer c.signMu.Unlock()
	if _, err := c.currentLink(); err == nil {
		return SessionView{}, ErrSignedIn
	}
	hubURL, err := normalizeHubURL(hubURL)
	if err != nil {
		return SessionView{}, err
	}
	if err := c.checkHubPolicy(hubURL); err != nil {
		c.log.Info("sign-in refused by policy", "hub", hubURL, "code", wire.ErrorCode(err))
		return SessionView{}, err
	}
	org, username = strings.TrimSpace(org), strings.TrimSpace(username)
	if org == "" || username == "" || password == "" {
		return SessionView{}, wire.Errorf(wire.EINVALID, "organisation, username and password are required")
	}
	log := c.log.With("hub", hubURL, "org", org, "user", username)

	ctx, cancel := context.WithTimeout(context.Background(), signInTimeout)
	defer cancel()
	login, err := client.Login(ctx, hubURL, wire.OrgID(org), username, password)
	if err != nil {
		log.Info("sign-in refused", "code", wire.ErrorCode(err), "err", err)
		return SessionView{}, signInError(err)
	}
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
	c.token = login.Token
	u := login.User
	c.session = SessionView{SignedIn: true, HubURL: hubURL, User: &u, Connection: ConnOnline, MaxTextBytes: wire.MaxTextBytes}
	c.prefill = Prefill{HubURL: hubURL, Org: org, Username: username}
	// The connection's first event repeats this welcome; applying it twice is harmless.
	out, followUp := c.welcome(l.Welcome())
	view := c.session
	c.unlockFlush(out) // before run starts: the hub's later events come after the welcome

	log.Info("signed in", "role", login.User.Role)
	go c.run(runCtx, l, done)
	c.async(followUp)
	return view, nil
}

// SignOut closes the hub connection and forgets the session.
func (s *Session) SignOut() error {
	c := s.c
	c.signMu.Lock()
	defer c.signMu.Unlock()
	c.mu.Lock()
	l, stop, done := c.link, c.stop, c.done
	if l == nil {
		c.mu.Unlock()
		return nil
	}
	c.reset()
	out := []emission{
		{EventSession, c.session},
		{EventAgent, c.agent},
		{EventOffers, []OfferView{}},
		{EventConversations, []ConversationView{}},
	}
	c.mu.Unlock()
	stop()
	err := l.Close()
	<-done
	c.log.Info("signed out")
	c.flush(out)
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
