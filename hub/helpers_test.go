package hub_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley/hub"
	"github.com/parleyhq/parley/hub/client"
	"github.com/parleyhq/parley/hub/postgres"
	"github.com/parleyhq/parley/internal/pgtest"
	"github.com/parleyhq/parley/wire"
	"golang.org/x/crypto/bcrypt"
)

// clock is a settable clock for token expiry.
type clock struct {
	mu     sync.Mutex
	offset time.Duration
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.offset += d
	c.mu.Unlock()
}

// testDB is a fresh database for one test's hub: a SQLite file, or with PARLEY_TEST_DB=postgres
// a schema in the test binary's own PostgreSQL cluster (make test-hub-postgres runs the hub's
// tests that way).
func testDB(t testing.TB) string {
	if os.Getenv("PARLEY_TEST_DB") == "postgres" {
		return pgtest.DSN(t)
	}
	return t.TempDir() + "/hub.db"
}

// startHub runs a demo hub on loopback with a fresh database.
func startHub(t testing.TB, tweak ...func(*hub.Config)) *hub.Server {
	t.Helper()
	cfg := hub.Config{
		Addr:         "127.0.0.1:0",
		DB:           testDB(t),
		Demo:         true,
		OfferTimeout: 5 * time.Second,
		OfflineGrace: 200 * time.Millisecond,
		BcryptCost:   bcrypt.MinCost,
	}
	if postgres.IsDSN(cfg.DB) {
		cfg.RecordingsDir = filepath.Join(t.TempDir(), "recordings") // no default beside a PostgreSQL address
	}
	for _, f := range tweak {
		f(&cfg)
	}
	s, err := hub.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// Close waits for HTTP requests in flight. 5 s was once too short in CI for
		// TestMonitorCall on PostgreSQL with the whole package running in parallel; a request
		// that never ends still fails here.
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if err := s.Close(ctx); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

func ctx(t testing.TB) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return c
}

// peer is a connected client with its events collected in order.
type peer struct {
	t    *testing.T
	name string
	conn *client.Conn
}

func dial(t *testing.T, s *hub.Server, token, name string) *peer {
	t.Helper()
	c, err := client.Dial(ctx(t), s.URL(), token, client.Options{MinBackoff: 20 * time.Millisecond, MaxBackoff: 200 * time.Millisecond})
	if err != nil {
		t.Fatalf("Dial %s: %v", name, err)
	}
	t.Cleanup(func() { c.Close() })
	return &peer{t: t, name: name, conn: c}
}

// member signs a demo member in and connects.
func member(t *testing.T, s *hub.Server, username string) *peer {
	t.Helper()
	login, err := client.Login(ctx(t), s.URL(), hub.DemoOrg, username, hub.DemoPassword)
	if err != nil {
		t.Fatalf("Login %s: %v", username, err)
	}
	return dial(t, s, login.Token, username)
}

// acmeSupervisor adds a second organisation, acme, with a supervisor, sam, to s and returns sam's
// token: a member signed in whom the demo organisation's data stays hidden from.
func acmeSupervisor(t *testing.T, s *hub.Server) string {
	t.Helper()
	if _, _, err := s.CreateOrganisation(ctx(t), hub.CommandLine, hub.NewOrg{ID: "acme", Name: "Acme Support"}, nil, s.URL()); err != nil {
		t.Fatal(err)
	}
	if _, err := s.InviteMember(ctx(t), hub.CommandLine, "acme", hub.NewMember{Username: "sam", Role: wire.RoleSupervisor, Password: goodPassword}, s.URL()); err != nil {
		t.Fatal(err)
	}
	sam, err := client.Login(ctx(t), s.URL(), "acme", "sam", goodPassword)
	if err != nil {
		t.Fatal(err)
	}
	return sam.Token
}

// customer starts a demo conversation and connects to it.
func customer(t *testing.T, s *hub.Server, name string) (*peer, wire.Conversation) {
	t.Helper()
	started, err := client.StartConversation(ctx(t), s.URL(), hub.DemoOrg, name)
	if err != nil {
		t.Fatalf("StartConversation: %v", err)
	}
	return dial(t, s, started.Token, name), started.Conversation
}

// next returns the next event of type typ, skipping others, within 5 s.
func (p *peer) next(typ wire.Type, v any) wire.Envelope {
	p.t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case env, ok := <-p.conn.Events():
			if !ok {
				p.t.Fatalf("%s: events closed while waiting for %s", p.name, typ)
			}
			if env.Type != typ {
				continue
			}
			if v != nil {
				if err := json.Unmarshal(env.Data, v); err != nil {
					p.t.Fatalf("%s: %s payload: %v", p.name, typ, err)
				}
			}
			return env
		case <-deadline:
			p.t.Fatalf("%s: no %s within 5s", p.name, typ)
		}
	}
}

// until returns the first event of type typ (any type when "") for which match is true.
func (p *peer) until(typ wire.Type, match func(wire.Envelope) bool) wire.Envelope {
	p.t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case env, ok := <-p.conn.Events():
			if !ok {
				p.t.Fatalf("%s: events closed while waiting for %s", p.name, typ)
			}
			if (typ == "" || env.Type == typ) && match(env) {
				return env
			}
		case <-deadline:
			p.t.Fatalf("%s: no matching %s within 5s", p.name, typ)
		}
	}
}

// untilData waits, as until does, for an event of type typ whose payload, decoded as a T, match
// accepts, and returns that payload.
func untilData[T any](p *peer, typ wire.Type, match func(T) bool) T {
	p.t.Helper()
	var v T
	p.until(typ, func(env wire.Envelope) bool {
		v = *new(T)
		_ = json.Unmarshal(env.Data, &v)
		return match(v)
	})
	return v
}

// none checks that no event of type typ arrives within d.
func (p *peer) none(typ wire.Type, d time.Duration) {
	p.t.Helper()
	deadline := time.After(d)
	for {
		select {
		case env, ok := <-p.conn.Events():
			if !ok {
				return
			}
			if env.Type == typ {
				p.t.Fatalf("%s: unexpected %s: %s", p.name, typ, env.Data)
			}
		case <-deadline:
			return
		}
	}
}

// offer waits for an offer of conv.
func (p *peer) offer(conv wire.ConversationID) wire.Offer {
	p.t.Helper()
	var o wire.Offer
	p.until(wire.TypeOffer, func(env wire.Envelope) bool {
		_ = json.Unmarshal(env.Data, &o)
		return o.Conv == conv
	})
	return o
}

// accept waits for an offer of conv and accepts it.
func (p *peer) accept(conv wire.ConversationID) {
	p.t.Helper()
	o := p.offer(conv)
	if _, err := p.conn.Request(ctx(p.t), wire.TypeOfferAccept, wire.OfferRef{Offer: o.ID}); err != nil {
		p.t.Fatalf("%s: accept %s: %v", p.name, conv, err)
	}
}

// message waits for a chat message in conv with text.
func (p *peer) message(conv wire.ConversationID, text string) wire.Message {
	p.t.Helper()
	var m wire.Message
	p.until(wire.TypeChatMessage, func(env wire.Envelope) bool {
		_ = json.Unmarshal(env.Data, &m)
		return m.Conv == conv && m.Text == text
	})
	return m
}

// httpDo sends one request with a Bearer token and returns the status, body and headers.
func httpDo(t *testing.T, method, url, token string, body io.Reader, hdr map[string]string) (int, string, http.Header) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx(t), method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	return res.StatusCode, string(b), res.Header
}

// settingsAPI calls the demo organisation's setting API, /api/v1/orgs/demo/settings/ and the
// setting's name, with token and, unless it is nil, body as JSON; it returns the status and the
// answer.
func settingsAPI(t *testing.T, s *hub.Server, method, setting, token string, body any) (int, string) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	status, answer, _ := httpDo(t, method, s.URL()+"/api/v1/orgs/demo/settings/"+setting, token, rd, nil)
	return status, answer
}

// wantCode checks err is a *wire.Error with code.
func wantCode(t *testing.T, what string, err error, code wire.Code) {
	t.Helper()
	if got := wire.ErrorCode(err); got != code {
		t.Errorf("%s: error code = %q (%v); want %q", what, got, err, code)
	}
}

// fakeTimers schedules the hub's timers and fires them when the test says, so timeouts are
// tested without waiting for them.
type fakeTimers struct {
	mu      sync.Mutex
	pending []*fakeTimer
}

type fakeTimer struct {
	ft      *fakeTimers
	d       time.Duration
	f       func()
	stopped bool
}

func (ft *fakeTimers) AfterFunc(d time.Duration, f func()) hub.Timer {
	ft.mu.Lock()
	defer ft.mu.Unlock()
	t := &fakeTimer{ft: ft, d: d, f: f}
	ft.pending = append(ft.pending, t)
	return t
}

func (t *fakeTimer) Stop() bool {
	t.ft.mu.Lock()
	defer t.ft.mu.Unlock()
	was := !t.stopped
	t.stopped = true
	return was
}

// fire runs every pending timer of duration d and returns how many ran.
func (ft *fakeTimers) fire(d time.Duration) int {
	ft.mu.Lock()
	var due []*fakeTimer
	for _, t := range ft.pending {
		if t.d == d && !t.stopped {
			t.stopped = true
			due = append(due, t)
		}
	}
	ft.mu.Unlock()
	for _, t := range due {
		t.f()
	}
	return len(due)
}
