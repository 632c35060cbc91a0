// Package chatsim drives customers and agents chatting through a real hub over its real protocol
// (hub/client), and checks what a user would notice: every message each side sent was delivered
// to the other side exactly once, in order, with the sequence number the hub acknowledged. The
// resilience tests (loss, link cuts, SIGKILL) and cmd/parley-load share it.
package chatsim

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parleyhq/parley/hub"
	"github.com/parleyhq/parley/hub/client"
	"github.com/parleyhq/parley/wire"
	"golang.org/x/crypto/bcrypt"
)

// Org is the organisation Seed creates.
const Org wire.OrgID = "sim"

// Password is every seeded agent's password.
const Password = "sim-password"

// AgentName is the username of the i-th seeded agent.
func AgentName(i int) string { return fmt.Sprintf("agent%04d", i) }

// Seed creates the organisation and agents (with the given chat capacity) in the hub database at
// db, through the hub's own Open and member APIs, then closes it so a hub binary can serve it.
func Seed(ctx context.Context, db string, agents, capacity int) error {
	s, err := hub.Open(ctx, hub.Config{DB: db, BcryptCost: bcrypt.MinCost})
	if err != nil {
		return err
	}
	defer s.Close(context.Background())
	if err := s.CreateOrg(ctx, Org, "Simulation"); err != nil {
		return err
	}
	for i := range agents {
		if _, err := s.CreateMember(ctx, Org, AgentName(i), AgentName(i), Password, wire.RoleAgent, capacity); err != nil {
			return err
		}
	}
	return nil
}

// Config tunes a simulation.
type Config struct {
	// URL is the hub's base URL.
	URL string
	// Messages is how many messages each customer, and its agent, send in the conversation.
	Messages int
	// Interval is the mean pause between one party's messages (exponentially distributed); 0 sends
	// back to back.
	Interval time.Duration
	// Client tunes every session (backoff, ping interval).
	Client client.Options
	// Parallel bounds how many customers start their conversation at once (default 50).
	Parallel int
	// Logger receives progress; nil discards it.
	Logger *slog.Logger
}

// Sim is one simulation: its agents, customers and conversations.
type Sim struct {
	cfg Config
	log *slog.Logger

	agents []*client.Conn

	mu sync.Mutex // guards convs and the fields of every Conv
	// convs are the conversations by id.
	convs map[wire.ConversationID]*Conv
	// lat collects send → delivery latencies, and sentAt when each message was sent.
	lat    []time.Duration
	sentAt []time.Time

	// sendErrs counts Sends that failed for good.
	sendErrs atomic.Int64
	// connects counts the sessions' connected events (first connections and reconnections).
	connects atomic.Int64
	// accepted counts conversations an agent took.
	accepted atomic.Int64
	// wg tracks the sending goroutines.
	wg sync.WaitGroup
	// ctx ends the simulation's goroutines.
	ctx    context.Context
	cancel context.CancelFunc
}

// Conv is one conversation's record.
type Conv struct {
	ID       wire.ConversationID
	customer *client.Conn
	// side holds, per author (customer, agent), what it sent and what the other side received.
	side map[wire.Author]*side
	// agentStarted is set when the agent began sending.
	agentStarted bool
	// active is closed once the customer learns an agent took the conversation.
	active chan struct{}
}

// side is what one party sent and what the other received of it.
type side struct {
	// acked maps each sent text to the sequence number its Ack carried.
	acked map[string]int64
	// got maps each text the other party received to how many times, and gotSeq to its seq.
	got    map[string]int
	gotSeq map[string]int64
	// lastSeq is the last sequence number the receiver saw (of any author), to check order.
	lastSeq int64
	// disorder counts messages received with a sequence number not above the previous one.
	disorder int
}

func newSide() *side {
	return &side{acked: map[string]int64{}, got: map[string]int{}, gotSeq: map[string]int64{}}
}

// New returns a simulation against cfg.URL. Call Close when done.
func New(cfg Config) *Sim {
	if cfg.Parallel <= 0 {
		cfg.Parallel = 50
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Client.Logger == nil {
		cfg.Client.Logger = cfg.Logger
	}
	s := &Sim{cfg: cfg, log: cfg.Logger, convs: map[wire.ConversationID]*Conv{}}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	return s
}

// Close ends every session.
func (s *Sim) Close() {
	s.cancel()
	s.mu.Lock()
	conns := slices.Clone(s.agents)
	for _, c := range s.convs {
		conns = append(conns, c.customer)
	}
	s.mu.Unlock()
	var wg sync.WaitGroup
	for _, c := range conns {
		wg.Go(func() { _ = c.Close() })
	}
	wg.Wait()
}

// ConnectAgents signs agents 0..n-1 in. Each takes every offer and, once it has a conversation,
// sends its Messages to it.
func (s *Sim) ConnectAgents(ctx context.Context, n int) error {
	return s.each(n, func(i int) error {
		login, err := client.Login(ctx, s.cfg.URL, Org, AgentName(i), Password)
		if err != nil {
			return fmt.Errorf("login %s: %w", AgentName(i), err)
		}
		c, err := client.Dial(ctx, s.cfg.URL, login.Token, s.cfg.Client)
		if err != nil {
			return fmt.Errorf("dial %s: %w", AgentName(i), err)
		}
		s.mu.Lock()
		s.agents = append(s.agents, c)
		s.mu.Unlock()
		go s.agentLoop(c)
		return nil
	})
}

// each runs f(0..n-1), at most Parallel at a time, and joins their errors.
func (s *Sim) each(n int, f func(i int) error) error {
	sem := make(chan struct{}, s.cfg.Parallel)
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			errs[i] = f(i)
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

func (s *Sim) agentLoop(c *client.Conn) {
	for env := range c.Events() {
		switch env.Type {
		case wire.TypeOffer:
			var o wire.Offer
			if env.Unmarshal(&o) != nil {
				continue
			}
			go func() {
				// An accept whose answer a dropped link swallowed may have been taken: the
				// conversation then shows up active in the next Welcome.
				if _, err := c.Request(s.ctx, wire.TypeOfferAccept, wire.OfferRef{Offer: o.ID}); err != nil {
					s.log.Debug("accept failed", "conv", o.Conv, "err", err)
					return
				}
				s.agentTook(c, o.Conv)
			}()
		case client.TypeState:
			s.countState(env)
			if ev, ok := client.ParseState(env); ok && ev.Welcome != nil {
				for _, cv := range ev.Welcome.Conversations {
					if cv.State == wire.ConvActive {
						s.agentTook(c, cv.ID)
					}
				}
			}
		case wire.TypeChatMessage:
			var m wire.Message
			if env.Unmarshal(&m) == nil && m.Author == wire.AuthorCustomer {
				s.received(m)
			}
		}
	}
}

// agentTook starts the agent's messages in conv, once.
func (s *Sim) agentTook(c *client.Conn, id wire.ConversationID) {
	s.mu.Lock()
	cv := s.conv(id) // the offer may come before the customer's StartConversation answer
	if cv.agentStarted {
		s.mu.Unlock()
		return
	}
	cv.agentStarted = true
	s.mu.Unlock()
	s.accepted.Add(1)
	s.wg.Go(func() { s.sendAll(c, cv, wire.AuthorAgent) })
}

// StartCustomers opens n conversations; each customer sends its Messages once an agent has taken
// the conversation (what was said before is the agent app's History to fetch, not live delivery).
func (s *Sim) StartCustomers(ctx context.Context, n int) error {
	return s.each(n, func(i int) error {
		started, err := client.StartConversation(ctx, s.cfg.URL, Org, fmt.Sprintf("customer%05d", i))
		if err != nil {
			return fmt.Errorf("start conversation %d: %w", i, err)
		}
		s.mu.Lock()
		cv := s.conv(started.Conversation.ID)
		s.mu.Unlock()
		// A new customer has seen nothing: the hub replays whatever the agent already said.
		opts := s.cfg.Client
		opts.Resume = map[wire.ConversationID]int64{cv.ID: 0}
		c, err := client.Dial(ctx, s.cfg.URL, started.Token, opts)
		if err != nil {
			return fmt.Errorf("dial customer %d: %w", i, err)
		}
		s.mu.Lock()
		cv.customer = c
		s.mu.Unlock()
		go s.customerLoop(c, cv)
		s.wg.Go(func() {
			select {
			case <-cv.active:
				s.sendAll(c, cv, wire.AuthorCustomer)
			case <-s.ctx.Done():
			}
		})
		return nil
	})
}

// conv returns the record of conversation id, making it if needed. s.mu must be held.
func (s *Sim) conv(id wire.ConversationID) *Conv {
	cv := s.convs[id]
	if cv == nil {
		cv = &Conv{ID: id, side: map[wire.Author]*side{wire.AuthorCustomer: newSide(), wire.AuthorAgent: newSide()}, active: make(chan struct{})}
		s.convs[id] = cv
	}
	return cv
}

func (s *Sim) customerLoop(c *client.Conn, cv *Conv) {
	activated := false
	activate := func(state wire.ConvState) {
		if state == wire.ConvActive && !activated {
			activated = true
			close(cv.active)
		}
	}
	for env := range c.Events() {
		switch env.Type {
		case client.TypeState:
			s.countState(env)
			if ev, ok := client.ParseState(env); ok && ev.Welcome != nil && len(ev.Welcome.Conversations) > 0 {
				activate(ev.Welcome.Conversations[0].State)
			}
		case wire.TypeConvState:
			var st wire.Conversation
			if env.Unmarshal(&st) == nil && st.ID == cv.ID {
				activate(st.State)
			}
		case wire.TypeChatMessage:
			var m wire.Message
			if env.Unmarshal(&m) == nil && m.Author == wire.AuthorAgent {
				s.received(m)
			}
		}
	}
}

// sendAll sends the party's messages to cv, each "<author>/<i>/<unix ns>".
func (s *Sim) sendAll(c *client.Conn, cv *Conv, author wire.Author) {
	for i := range s.cfg.Messages {
		if s.cfg.Interval > 0 {
			select {
			case <-time.After(time.Duration(rand.ExpFloat64() * float64(s.cfg.Interval))):
			case <-s.ctx.Done():
				return
			}
		}
		text := fmt.Sprintf("%s/%d/%d", author, i, time.Now().UnixNano())
		ack, err := c.Send(s.ctx, cv.ID, text)
		if err != nil {
			if s.ctx.Err() == nil {
				s.sendErrs.Add(1)
				s.log.Warn("send failed", "conv", cv.ID, "author", author, "err", err)
			}
			continue
		}
		s.mu.Lock()
		cv.side[author].acked[text] = ack.Seq
		s.mu.Unlock()
	}
}

// received records a message delivered to the other party of its author.
func (s *Sim) received(m wire.Message) {
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	cv := s.convs[m.Conv]
	if cv == nil {
		return
	}
	sd := cv.side[m.Author]
	if sd == nil {
		return
	}
	sd.got[m.Text]++
	sd.gotSeq[m.Text] = m.Seq
	if m.Seq <= sd.lastSeq {
		sd.disorder++
	}
	sd.lastSeq = m.Seq
	if parts := strings.Split(m.Text, "/"); len(parts) == 3 {
		if ns, err := strconv.ParseInt(parts[2], 10, 64); err == nil {
			s.lat = append(s.lat, now.Sub(time.Unix(0, ns)))
			s.sentAt = append(s.sentAt, time.Unix(0, ns))
		}
	}
}

// WaitSent waits until every sending goroutine has finished (or ctx ends).
func (s *Sim) WaitSent(ctx context.Context) error {
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("senders still running: %w", ctx.Err())
	}
}

// Sent returns how many messages the hub has acknowledged so far.
func (s *Sim) Sent() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, cv := range s.convs {
		for _, sd := range cv.side {
			n += len(sd.acked)
		}
	}
	return n
}

func (s *Sim) countState(env wire.Envelope) {
	if ev, ok := client.ParseState(env); ok && ev.State == client.StateConnected {
		s.connects.Add(1)
	}
}

// Sessions returns how many sessions the simulation has, and how many are connected now.
func (s *Sim) Sessions() (total, connected int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	conns := slices.Clone(s.agents)
	for _, cv := range s.convs {
		if cv.customer != nil {
			conns = append(conns, cv.customer)
		}
	}
	for _, c := range conns {
		if c.State() == client.StateConnected {
			connected++
		}
	}
	return len(conns), connected
}

// Reconnects returns how many times sessions connected again after their first connection.
func (s *Sim) Reconnects() int {
	total, _ := s.Sessions()
	return int(s.connects.Load()) - total
}

// Accepted returns how many conversations an agent took.
func (s *Sim) Accepted() int { return int(s.accepted.Load()) }

// Report is the outcome of a simulation.
type Report struct {
	Convs int
	// Sent is the number of Sends the hub acknowledged; SendErrors those that failed for good.
	Sent, SendErrors int
	// Delivered is how many acknowledged messages reached the other party exactly once.
	Delivered int
	// Lost are acknowledged messages the other party never received; Duplicated received more
	// than once; WrongSeq received with another sequence number than acknowledged; Disorder
	// received out of sequence order; Unacked received but never acknowledged to the sender.
	Lost, Duplicated, WrongSeq, Disorder int
	// Missing are the messages that were never acknowledged (Messages per party minus Sent).
	Missing int
	// Examples describe the first few problems.
	Examples []string
}

// OK reports whether every message was sent and delivered exactly once, in order.
func (r Report) OK() bool {
	return r.Lost == 0 && r.Duplicated == 0 && r.WrongSeq == 0 && r.Disorder == 0 && r.SendErrors == 0 && r.Missing == 0
}

func (r Report) String() string {
	return fmt.Sprintf("%d conversations: %d acknowledged, %d delivered exactly once; lost %d, duplicated %d, wrong seq %d, out of order %d, send errors %d, never acknowledged %d",
		r.Convs, r.Sent, r.Delivered, r.Lost, r.Duplicated, r.WrongSeq, r.Disorder, r.SendErrors, r.Missing)
}

// Check compares what was sent with what was received.
func (s *Sim) Check() Report {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := Report{Convs: len(s.convs), SendErrors: int(s.sendErrs.Load())}
	problem := func(format string, args ...any) {
		if len(r.Examples) < 10 {
			r.Examples = append(r.Examples, fmt.Sprintf(format, args...))
		}
	}
	for _, cv := range s.convs {
		for author, sd := range cv.side {
			r.Sent += len(sd.acked)
			r.Missing += s.cfg.Messages - len(sd.acked)
			r.Disorder += sd.disorder
			if sd.disorder > 0 {
				problem("%s: %d %s messages out of order", cv.ID, sd.disorder, author)
			}
			for text, seq := range sd.acked {
				switch n := sd.got[text]; {
				case n == 0:
					r.Lost++
					problem("%s: %q (seq %d) never delivered", cv.ID, text, seq)
				case n > 1:
					r.Duplicated++
					problem("%s: %q delivered %d times", cv.ID, text, n)
				case sd.gotSeq[text] != seq:
					r.WrongSeq++
					problem("%s: %q acknowledged as seq %d, delivered as %d", cv.ID, text, seq, sd.gotSeq[text])
				default:
					r.Delivered++
				}
			}
			for text, n := range sd.got {
				if _, ok := sd.acked[text]; !ok && n > 1 {
					r.Duplicated++
					problem("%s: unacknowledged %q delivered %d times", cv.ID, text, n)
				}
			}
		}
	}
	return r
}

// WaitDelivered polls Check until every acknowledged message was delivered or ctx ends, and
// returns the last report.
func (s *Sim) WaitDelivered(ctx context.Context) Report {
	for {
		r := s.Check()
		if r.Lost == 0 || ctx.Err() != nil {
			return r
		}
		select {
		case <-time.After(100 * time.Millisecond):
		case <-ctx.Done():
		}
	}
}

// Acked returns every acknowledged message: conversation, sequence number and text.
func (s *Sim) Acked() map[wire.ConversationID]map[int64]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[wire.ConversationID]map[int64]string{}
	for _, cv := range s.convs {
		m := map[int64]string{}
		for _, sd := range cv.side {
			for text, seq := range sd.acked {
				m[seq] = text
			}
		}
		out[cv.ID] = m
	}
	return out
}

// Latencies returns the send → delivery latencies seen so far, sorted.
func (s *Sim) Latencies() []time.Duration { return s.LatenciesSince(time.Time{}) }

// LatenciesSince returns the send → delivery latencies of messages sent at or after t, sorted.
func (s *Sim) LatenciesSince(t time.Time) []time.Duration {
	s.mu.Lock()
	var lat []time.Duration
	for i, d := range s.lat {
		if !s.sentAt[i].Before(t) {
			lat = append(lat, d)
		}
	}
	s.mu.Unlock()
	slices.Sort(lat)
	return lat
}

// Percentile returns the p-th (0..1) value of sorted latencies.
func Percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[min(len(sorted)-1, int(p*float64(len(sorted))))]
}
