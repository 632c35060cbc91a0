// Package client is the Go client of the hub's protocol: the agent app, the headless agent, the
// benchmark and the hub's own tests talk to a hub through it.
//
// [Login] and [StartConversation] are the HTTP calls. [Dial] opens a WebSocket session that
// reconnects by itself with backoff and resumes every conversation from the last sequence number it
// delivered, so across a dropped link no message is lost and none is delivered twice.
//
// Everything the hub sends arrives on [Conn.Events], in order. The client adds one synthetic event
// of type [TypeState] (payload [StateEvent]) whenever the session's state changes: connected (with
// the new Welcome), reconnecting, or closed. The channel is closed after the closed event.
package client

import (
	"bytes"
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"
	"github.com/parleyhq/parley/wire"
)

// TypeState is the synthetic event type the client puts on [Conn.Events] when the session's
// state changes. It never travels on the wire. Its payload is a [StateEvent].
const TypeState wire.Type = "client.state"

// State is the state of a session.
type State string

// Session states.
const (
	// StateConnected: the hub welcomed the connection; requests go out now.
	StateConnected State = "connected"
	// StateReconnecting: the link dropped; the client is dialling again with backoff.
	StateReconnecting State = "reconnecting"
	// StateClosed: Close was called or the hub refused the token; Events is closed next.
	StateClosed State = "closed"
)

// StateEvent is the payload of a [TypeState] event.
type StateEvent struct {
	State State `json:"state"`
	// Welcome is the hub's welcome, set when State is connected.
	Welcome *wire.Welcome `json:"welcome,omitempty"`
	// Err says why the link dropped or the session closed: a *wire.Error's code and message, or a
	// network error's text. Empty on a clean Close.
	Err string `json:"error,omitempty"`
	// Attempt counts the dials since the link dropped (reconnecting only).
	Attempt int `json:"attempt,omitempty"`
}

// ParseState returns the StateEvent in env and true when env is a [TypeState] event.
func ParseState(env wire.Envelope) (StateEvent, bool) {
	if env.Type != TypeState {
		return StateEvent{}, false
	}
	var ev StateEvent
	if err := json.Unmarshal(env.Data, &ev); err != nil {
		return StateEvent{}, false
	}
	return ev, true
}

// Options tune a session. The zero value is usable.
type Options struct {
	// Logger receives the client's logs; nil discards them.
	Logger *slog.Logger
	// Resume maps conversations to the last sequence number the caller already has (for example
	// from a previous run). The hub replays what came after.
	Resume map[wire.ConversationID]int64
	// MinBackoff and MaxBackoff bound the wait between reconnect attempts (defaults 200 ms and
	// 10 s); the wait doubles from MinBackoff with jitter.
	MinBackoff, MaxBackoff time.Duration
	// PingInterval is how often the client pings the hub to detect a dead link (default 15 s;
	// negative disables).
	PingInterval time.Duration
	// EventBuffer is the capacity of the Events channel (default 256). When the caller falls behind,
	// the client stops reading from the hub until it catches up.
	EventBuffer int
	// HTTPClient dials the WebSocket; nil uses http.DefaultClient.
	HTTPClient *http.Client
	// Header is sent with the WebSocket upgrade (a proxy's X-Forwarded-For, in load tests).
	Header http.Header
}

// Login signs a member of org in and returns the token to [Dial] with.
func Login(ctx context.Context, hubURL string, org wire.OrgID, username, password string) (wire.LoginResponse, error) {
	var resp wire.LoginResponse
	err := postJSON(ctx, strings.TrimRight(hubURL, "/")+"/api/v1/login",
		wire.LoginRequest{Org: org, Username: username, Password: password}, &resp, nil)
	return resp, err
}

// StartConversation opens a conversation as an anonymous customer of org, as the portal does, and
// returns it with the customer token to [Dial] with.
func StartConversation(ctx context.Context, hubURL string, org wire.OrgID, name string) (wire.StartedConversation, error) {
	return StartConversationWith(ctx, hubURL, org, name, nil)
}

// StartConversationWith is StartConversation with extra request headers (a proxy's
// X-Forwarded-For, in load tests that stand for many customers).
func StartConversationWith(ctx context.Context, hubURL string, org wire.OrgID, name string, header http.Header) (wire.StartedConversation, error) {
	var resp wire.StartedConversation
	err := postJSON(ctx, strings.TrimRight(hubURL, "/")+"/api/v1/orgs/"+url.PathEscape(string(org))+"/conversations",
		wire.StartConversation{Name: name}, &resp, header)
	return resp, err
}

// Start starts a conversation as the portal does, with a queue, a pre-chat answer or a left
// message (wire.StartConversation).
func Start(ctx context.Context, hubURL string, org wire.OrgID, req wire.StartConversation) (wire.StartedConversation, error) {
	return StartWith(ctx, hubURL, org, req, nil)
}

// StartWith is Start with extra request headers (a proxy's X-Forwarded-For).
func StartWith(ctx context.Context, hubURL string, org wire.OrgID, req wire.StartConversation, header http.Header) (wire.StartedConversation, error) {
	var resp wire.StartedConversation
	err := postJSON(ctx, strings.TrimRight(hubURL, "/")+"/api/v1/orgs/"+url.PathEscape(string(org))+"/conversations", req, &resp, header)
	return resp, err
}

// postJSON posts in as JSON and decodes the answer into out, or the hub's *wire.Error.
func postJSON(ctx context.Context, u string, in, out any, header http.Header) error {
	return doJSONWith(ctx, http.MethodPost, u, "", in, out, header)
}

// doJSON sends in (nil for no body) as JSON with an optional bearer token, and decodes the answer
// into out (nil to ignore it), or the hub's *wire.Error.
func doJSON(ctx context.Context, method, u, token string, in, out any) error {
	return doJSONWith(ctx, method, u, token, in, out, nil)
}

// doJSONWith is doJSON with extra request headers.
func doJSONWith(ctx context.Context, method, u, token string, in, out any, header http.Header) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return err
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	data, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if err != nil {
		return err
	}
	if res.StatusCode/100 != 2 {
		var werr wire.Error
		if json.Unmarshal(data, &werr) == nil && werr.Code != "" {
			return &werr
		}
		return fmt.Errorf("hub answered %s", res.Status)
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(data, out)
}

// wsURL turns the hub's base URL into its WebSocket endpoint.
func wsURL(hubURL string) (string, error) {
	u, err := url.Parse(strings.TrimRight(hubURL, "/"))
	if err != nil {
		return "", err
	}
	switch u.Scheme {
	case "http":
		u.Scheme = "ws"
	case "https":
		u.Scheme = "wss"
	case "ws", "wss":
	default:
		return "", fmt.Errorf("hub URL %q: want http or https", hubURL)
	}
	u.Path += "/ws"
	return u.String(), nil
}

// StatusSessionEnded is the WebSocket close code with which the hub closes a connection whose
// session ended (hub.StatusSessionEnded): the Conn closes instead of reconnecting.
const StatusSessionEnded websocket.StatusCode = 4001

// ErrClosed indicates an operation on a Conn after Close, or after the hub refused its token.
var ErrClosed = errors.New("client: connection closed")

// result answers one request.
type result struct {
	ack wire.Ack
	err error
}

// pending is a request waiting for its Ack or Error.
type pending struct {
	done chan result
	// history collects the messages a sync request replays (they carry the request's RID).
	history []wire.Message
}

// Conn is a session with the hub. It is safe for concurrent use.
type Conn struct {
	wsURL string
	opts  Options
	log   *slog.Logger
	// events is written only by the run goroutine, and closed by it when it ends.
	events chan wire.Envelope
	// ctx ends with Close; cancel ends it.
	ctx    context.Context
	cancel context.CancelFunc
	// done is closed when the run goroutine has ended.
	done chan struct{}

	mu sync.Mutex // guards the fields below
	// token says Hello; SetToken replaces it when the session is renewed.
	token string
	// ws is the live connection; nil while reconnecting.
	ws *websocket.Conn
	// up is closed while connected, and replaced by an open channel when the link drops.
	up chan struct{}
	// state is the session's state.
	state State
	// welcome is the last Welcome.
	welcome wire.Welcome
	// seen is the last sequence number delivered per conversation: replays at or below it are
	// dropped, and reconnects resume from it.
	seen map[wire.ConversationID]int64
	// waiting holds the requests sent on the current link, by RID.
	waiting map[string]*pending
	// rid numbers requests.
	rid uint64
	// closeErr is why the session closed (nil for Close).
	closeErr error
}

// Dial opens a session with the hub at hubURL (http:// or https://) with a login token or a
// customer token. It returns once the hub has welcomed the connection; an error from the hub
// (e.g. EUNAUTHORIZED) is a *wire.Error. After that the Conn reconnects by itself until Close.
func Dial(ctx context.Context, hubURL, token string, opts Options) (*Conn, error) {
	u, err := wsURL(hubURL)
	if err != nil {
		return nil, err
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.MinBackoff <= 0 {
		opts.MinBackoff = 200 * time.Millisecond
	}
	if opts.MaxBackoff < opts.MinBackoff {
		opts.MaxBackoff = max(10*time.Second, opts.MinBackoff)
	}
	if opts.PingInterval == 0 {
		opts.PingInterval = 15 * time.Second
	}
	if opts.EventBuffer <= 0 {
		opts.EventBuffer = 256
	}
	c := &Conn{
		wsURL:   u,
		token:   token,
		opts:    opts,
		log:     opts.Logger,
		events:  make(chan wire.Envelope, opts.EventBuffer),
		done:    make(chan struct{}),
		up:      make(chan struct{}),
		seen:    map[wire.ConversationID]int64{},
		waiting: map[string]*pending{},
		state:   StateReconnecting,
	}
	for conv, seq := range opts.Resume {
		c.seen[conv] = seq
	}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	ws, welcome, err := c.connect(ctx)
	if err != nil {
		c.cancel()
		return nil, err
	}
	c.connected(ws, welcome)
	go c.run(ws)
	return c, nil
}

// SetToken replaces the token the Conn says Hello with on its next reconnect: the session's
// new token after a renewal (the live link stays up).
func (c *Conn) SetToken(token string) {
	c.mu.Lock()
	c.token = token
	c.mu.Unlock()
}

// Events returns the channel of everything the hub sends, plus [TypeState] events. Chat messages
// are delivered once each, in sequence order per conversation. The channel is closed when the
// session ends. The caller must keep reading it.
func (c *Conn) Events() <-chan wire.Envelope { return c.events }

// Welcome returns the hub's latest Welcome (it is renewed on every reconnect).
func (c *Conn) Welcome() wire.Welcome {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.welcome
}

// State returns the session's current state.
func (c *Conn) State() State {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.state
}

// LastSeq returns the last sequence number delivered on Events for conv.
func (c *Conn) LastSeq(conv wire.ConversationID) int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.seen[conv]
}

// Request sends a request of type t and waits for the hub's answer. A refusal is a *wire.Error.
// While the session is reconnecting, Request waits for the link (or ctx). If the link drops after
// the request went out, Request fails with an EUNAVAILABLE *wire.Error, because the hub may or
// may not have acted on it; [Conn.Send] is the request that is safe to repeat.
func (c *Conn) Request(ctx context.Context, t wire.Type, payload any) (wire.Ack, error) {
	p, rid, err := c.send(ctx, t, payload)
	if err != nil {
		return wire.Ack{}, err
	}
	return c.wait(ctx, rid, p)
}

// Send posts text to conv, and returns the hub's Ack with the message's sequence number. If the
// link drops before the Ack, Send resends the message with the same ClientID once reconnected, and
// the hub stores it once. Refused for sending too fast (ERATELIMITED), it waits and sends again.
func (c *Conn) Send(ctx context.Context, conv wire.ConversationID, text string) (wire.Ack, error) {
	return c.send1(ctx, wire.ChatSend{Conv: conv, Text: text, ClientID: newClientID()})
}

// send1 sends one chat message until the hub stores it, is refused, or ctx ends.
func (c *Conn) send1(ctx context.Context, msg wire.ChatSend) (wire.Ack, error) {
	backoff := 100 * time.Millisecond
	for {
		p, rid, err := c.send(ctx, wire.TypeChatSend, msg)
		if err != nil {
			return wire.Ack{}, err
		}
		ack, err := c.wait(ctx, rid, p)
		switch wire.ErrorCode(err) {
		case wire.EUNAVAILABLE:
			if errors.Is(err, errLinkLost) {
				continue // the link dropped before the answer: send again, same ClientID
			}
		case wire.ERATELIMITED:
			// Faster than the hub takes from one connection: nothing was stored; wait and
			// send again, until ctx ends.
			select {
			case <-time.After(backoff):
				backoff = min(2*backoff, 2*time.Second)
				continue
			case <-ctx.Done():
			}
		}
		return ack, err
	}
}

// SendNote posts an internal note to conv: the agent and those reading along see it, the
// customer never does. It is resent like [Conn.Send].
func (c *Conn) SendNote(ctx context.Context, conv wire.ConversationID, text string) (wire.Ack, error) {
	return c.send1(ctx, wire.ChatSend{Conv: conv, Text: text, ClientID: newClientID(), Internal: true})
}

// History returns the stored messages of conv after sequence number after (at most the hub's page
// size; ask again from the last one for more). They do not go through Events.
func (c *Conn) History(ctx context.Context, conv wire.ConversationID, after int64) ([]wire.Message, error) {
	p, rid, err := c.send(ctx, wire.TypeSync, wire.Sync{Conv: conv, After: after})
	if err != nil {
		return nil, err
	}
	if _, err := c.wait(ctx, rid, p); err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return p.history, nil
}

// Interrupt drops the current link abruptly, as a network failure would; the session reconnects
// and resumes. Tests and "reconnect now" buttons use it.
func (c *Conn) Interrupt() {
	c.mu.Lock()
	ws := c.ws
	c.mu.Unlock()
	if ws != nil {
		_ = ws.CloseNow()
	}
}

// Close ends the session: the link closes normally, waiting requests fail with ErrClosed, and
// Events is closed.
func (c *Conn) Close() error {
	c.cancel()
	c.mu.Lock()
	ws := c.ws
	c.mu.Unlock()
	if ws != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		go func() { <-ctx.Done(); _ = ws.CloseNow() }()
		_ = ws.Close(websocket.StatusNormalClosure, "bye")
		cancel()
	}
	<-c.done
	return nil
}

// errLinkLost marks the EUNAVAILABLE error of requests whose link dropped before the answer.
var errLinkLost = errors.New("link lost")

// linkLostError is the EUNAVAILABLE *wire.Error that also matches errLinkLost.
type linkLostError struct{ werr *wire.Error }

func (e linkLostError) Error() string   { return e.werr.Error() }
func (e linkLostError) Unwrap() []error { return []error{e.werr, errLinkLost} }

// send writes one request once connected and registers it for its answer.
func (c *Conn) send(ctx context.Context, t wire.Type, payload any) (*pending, string, error) {
	for {
		c.mu.Lock()
		ws, up, state := c.ws, c.up, c.state
		c.mu.Unlock()
		if state == StateClosed {
			return nil, "", c.closedErr()
		}
		if ws == nil {
			select {
			case <-up:
				continue
			case <-c.done:
				return nil, "", c.closedErr()
			case <-ctx.Done():
				return nil, "", ctx.Err()
			}
		}
		c.mu.Lock()
		if c.ws != ws { // the link changed under us: start over
			c.mu.Unlock()
			continue
		}
		c.rid++
		rid := strconv.FormatUint(c.rid, 10)
		p := &pending{done: make(chan result, 1)}
		c.waiting[rid] = p
		c.mu.Unlock()
		frame, err := wire.Encode(t, rid, payload)
		if err != nil {
			c.forget(rid)
			return nil, "", err
		}
		wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err = ws.Write(wctx, websocket.MessageText, frame)
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				c.forget(rid)
				return nil, "", ctx.Err()
			}
			// The link failed while writing; the run goroutine answers p with a link-lost error.
			_ = ws.CloseNow()
		}
		return p, rid, nil
	}
}

// wait waits for the answer to request rid.
func (c *Conn) wait(ctx context.Context, rid string, p *pending) (wire.Ack, error) {
	select {
	case r := <-p.done:
		return r.ack, r.err
	case <-ctx.Done():
		c.forget(rid)
		return wire.Ack{}, ctx.Err()
	}
}

func (c *Conn) forget(rid string) {
	c.mu.Lock()
	delete(c.waiting, rid)
	c.mu.Unlock()
}

func (c *Conn) closedErr() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closeErr != nil {
		return fmt.Errorf("%w: %w", ErrClosed, c.closeErr)
	}
	return ErrClosed
}

// connect dials, says Hello with what to resume, and reads the Welcome.
func (c *Conn) connect(ctx context.Context) (*websocket.Conn, wire.Welcome, error) {
	var welcome wire.Welcome
	ws, _, err := websocket.Dial(ctx, c.wsURL, &websocket.DialOptions{HTTPClient: c.opts.HTTPClient, HTTPHeader: c.opts.Header})
	if err != nil {
		return nil, welcome, err
	}
	ws.SetReadLimit(4 << 20)
	c.mu.Lock()
	resume := make(map[wire.ConversationID]int64, len(c.seen))
	for conv, seq := range c.seen {
		resume[conv] = seq
	}
	token := c.token
	c.mu.Unlock()
	frame, err := wire.Encode(wire.TypeHello, "", wire.Hello{Token: token, Resume: resume})
	if err != nil {
		_ = ws.CloseNow()
		return nil, welcome, err
	}
	if err := ws.Write(ctx, websocket.MessageText, frame); err != nil {
		_ = ws.CloseNow()
		return nil, welcome, err
	}
	_, data, err := ws.Read(ctx)
	if err != nil {
		_ = ws.CloseNow()
		return nil, welcome, err
	}
	env, err := wire.Decode(data)
	if err != nil {
		_ = ws.CloseNow()
		return nil, welcome, err
	}
	switch env.Type {
	case wire.TypeWelcome:
		if err := env.Unmarshal(&welcome); err != nil {
			_ = ws.CloseNow()
			return nil, welcome, err
		}
		return ws, welcome, nil
	case wire.TypeError:
		var werr wire.Error
		if err := env.Unmarshal(&werr); err != nil {
			werr = wire.Error{Code: wire.EINTERNAL, Message: "unreadable error from hub"}
		}
		_ = ws.CloseNow()
		return nil, welcome, &werr
	default:
		_ = ws.CloseNow()
		return nil, welcome, fmt.Errorf("hub answered hello with %q", env.Type)
	}
}

// connected records a welcomed link and announces it.
func (c *Conn) connected(ws *websocket.Conn, welcome wire.Welcome) {
	c.mu.Lock()
	c.ws = ws
	c.welcome = welcome
	c.state = StateConnected
	// A conversation new to this client starts at its current end: its past is History's job,
	// and the hub replays nothing for it.
	for _, conv := range welcome.Conversations {
		if _, ok := c.seen[conv.ID]; !ok {
			c.seen[conv.ID] = conv.LastSeq
		}
	}
	close(c.up)
	c.mu.Unlock()
	c.emitState(StateEvent{State: StateConnected, Welcome: &welcome})
}

// emitState puts a state event on Events, unless the session is closing.
func (c *Conn) emitState(ev StateEvent) {
	data, _ := json.Marshal(ev)
	env := wire.Envelope{Type: TypeState, Data: data}
	if ev.State == StateClosed {
		// The closing event must not be lost, but nobody may be reading anymore.
		select {
		case c.events <- env:
		case <-time.After(time.Second):
		}
		return
	}
	select {
	case c.events <- env:
	case <-c.ctx.Done():
	}
}

// run owns the session: it reads the link, and when the link drops it dials again with backoff.
func (c *Conn) run(ws *websocket.Conn) {
	defer close(c.done)
	defer close(c.events)
	var fatal error
	for {
		err := c.readLoop(ws)
		c.dropped(err)
		if c.ctx.Err() != nil {
			break
		}
		if websocket.CloseStatus(err) == StatusSessionEnded {
			// Signed out elsewhere, ended by an admin, disabled or expired: the token is dead.
			fatal = &wire.Error{Code: wire.EUNAUTHORIZED, Message: "the session ended"}
			c.log.Warn("hub ended the session")
			break
		}
		ws, fatal = c.redial(err)
		if ws == nil {
			break
		}
	}
	c.mu.Lock()
	c.state = StateClosed
	c.closeErr = fatal
	c.mu.Unlock()
	ev := StateEvent{State: StateClosed}
	if fatal != nil {
		ev.Err = fatal.Error()
	}
	c.emitState(ev)
}

// dropped forgets the link and fails the requests that were waiting on it.
func (c *Conn) dropped(err error) {
	c.mu.Lock()
	ws := c.ws
	c.ws = nil
	c.up = make(chan struct{})
	if c.ctx.Err() == nil {
		c.state = StateReconnecting
	}
	waiting := c.waiting
	c.waiting = map[string]*pending{}
	c.mu.Unlock()
	if ws != nil {
		_ = ws.CloseNow()
	}
	for _, p := range waiting {
		if c.ctx.Err() != nil {
			p.done <- result{err: ErrClosed}
			continue
		}
		p.done <- result{err: linkLostError{wire.Errorf(wire.EUNAVAILABLE, "connection to the hub lost")}}
	}
	if c.ctx.Err() == nil {
		c.log.Info("hub link dropped", "err", err)
	}
}

// redial dials until it gets a link, the session closes (nil, nil), or the hub refuses the token
// (nil, err).
func (c *Conn) redial(cause error) (*websocket.Conn, error) {
	backoff := c.opts.MinBackoff
	// Handed over by a node (StatusReconnect): the first dial goes at once (a little jitter
	// spreads a node's clients over the others).
	now := websocket.CloseStatus(cause) == StatusReconnect
	for attempt := 1; ; attempt++ {
		msg := ""
		if cause != nil {
			msg = cause.Error()
		}
		c.emitState(StateEvent{State: StateReconnecting, Err: msg, Attempt: attempt})
		wait := backoff/2 + rand.N(backoff/2+1)
		if now {
			wait, now = rand.N(20*time.Millisecond), false
		}
		select {
		case <-time.After(wait):
		case <-c.ctx.Done():
			return nil, nil
		}
		backoff = min(backoff*2, c.opts.MaxBackoff)
		ctx, cancel := context.WithTimeout(c.ctx, 10*time.Second)
		ws, welcome, err := c.connect(ctx)
		cancel()
		if err == nil {
			c.connected(ws, welcome)
			return ws, nil
		}
		if c.ctx.Err() != nil {
			return nil, nil
		}
		var werr *wire.Error
		if errors.As(err, &werr) && (werr.Code == wire.EUNAUTHORIZED || werr.Code == wire.EFORBIDDEN) {
			c.log.Warn("hub refused the session", "code", werr.Code)
			return nil, werr
		}
		c.log.Debug("reconnect failed", "attempt", attempt, "err", err)
		cause = err
	}
}

// readLoop reads frames until the link fails, routing answers to their requests and events to
// Events.
func (c *Conn) readLoop(ws *websocket.Conn) error {
	pingDone := make(chan struct{})
	defer close(pingDone)
	if c.opts.PingInterval > 0 {
		go c.pinger(ws, pingDone)
	}
	for {
		_, data, err := ws.Read(c.ctx)
		if err != nil {
			return err
		}
		env, err := wire.Decode(data)
		if err != nil {
			c.log.Warn("undecodable frame from hub", "err", err)
			continue
		}
		if !c.route(env) {
			continue
		}
		select {
		case c.events <- env:
		case <-c.ctx.Done():
			return c.ctx.Err()
		}
	}
}

// pinger pings the hub so a dead link is noticed; a missing pong drops the link.
func (c *Conn) pinger(ws *websocket.Conn, done <-chan struct{}) {
	t := time.NewTicker(c.opts.PingInterval)
	defer t.Stop()
	for {
		select {
		case <-done:
			return
		case <-t.C:
			ctx, cancel := context.WithTimeout(c.ctx, 10*time.Second)
			err := ws.Ping(ctx)
			cancel()
			if err != nil && c.ctx.Err() == nil {
				c.log.Info("hub ping failed; reconnecting", "err", err)
				_ = ws.CloseNow()
				return
			}
		}
	}
}

// route handles answers and dedupes replays. It reports whether env goes on Events.
func (c *Conn) route(env wire.Envelope) bool {
	switch env.Type {
	case wire.TypeAck, wire.TypeError:
		if env.RID == "" {
			return env.Type == wire.TypeError // a bad-frame report without a request
		}
		c.mu.Lock()
		p := c.waiting[env.RID]
		delete(c.waiting, env.RID)
		c.mu.Unlock()
		if p == nil {
			return false
		}
		var r result
		if env.Type == wire.TypeAck {
			if len(env.Data) > 0 {
				_ = json.Unmarshal(env.Data, &r.ack)
			}
		} else {
			var werr wire.Error
			if err := env.Unmarshal(&werr); err != nil {
				werr = wire.Error{Code: wire.EINTERNAL, Message: "unreadable error from hub"}
			}
			r.err = &werr
		}
		p.done <- r
		return false
	case wire.TypeChatMessage:
		var m wire.Message
		if err := env.Unmarshal(&m); err != nil {
			return false
		}
		c.mu.Lock()
		defer c.mu.Unlock()
		if env.RID != "" { // part of a History answer
			if p := c.waiting[env.RID]; p != nil {
				p.history = append(p.history, m)
			}
			return false
		}
		if m.Seq <= c.seen[m.Conv] {
			return false // already delivered: a replay after reconnect
		}
		c.seen[m.Conv] = m.Seq
		return true
	}
	return true
}

// newClientID returns a random id for a ChatSend.
func newClientID() string {
	var b [12]byte
	_, _ = crand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// StatusReconnect is the WebSocket close code with which a hub node hands a connection over
// (it is draining, or the organisation's node is gone): the Conn reconnects at once, without
// back-off, and may land on another node.
const StatusReconnect websocket.StatusCode = 4002
