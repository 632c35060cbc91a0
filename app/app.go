// Package app holds the agent app's services: session, presence, offers, conversations and the
// supervisor view. They are bound to the Wails UI by main.go, and run without a window in
// cmd/parley-agent and in tests: they reach the UI only through an [Emitter].
package app

//go:generate go run ./cmd/viewgen -o ../frontend/src/api/app.gen.ts

import (
	"context"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/parleyhq/parley/app/policy"
	"github.com/parleyhq/parley/hub/client"
	"github.com/parleyhq/parley/wire"
)

// Config holds the services' dependencies.
type Config struct {
	// Emitter receives the events for the UI; nil drops them.
	Emitter Emitter
	// Logger receives the services' logs; nil discards them.
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Prefill is what the sign-in form starts with.
	Prefill Prefill
	// Devices says where calls take their camera and microphone from; "" means DevicesSystem.
	Devices DeviceMode
	// Keychain keeps visual engagement providers' credentials; nil means the OS keychain.
	Keychain KeychainStore
	// Policy is this machine's policy (policy.LoadMachine); the zero Policy is unmanaged.
	Policy policy.Policy
	// PolicyErr is why the policy file was refused; the app then shows it and refuses to sign in.
	PolicyErr error
	// PolicyPath is where this machine's policy file lives, for the About box.
	PolicyPath string
	// OpenURL opens a page in the system browser (single sign-on); nil means there is none.
	OpenURL func(url string) error
	// StateDir is where the app remembers the last hub, organisation and username; empty
	// remembers nothing.
	StateDir string
	// Client says what signs in, in the member's session list: "app" (default) or "agent".
	Client string
	// WindowTimeout is how long a reloaded window may take to come back after its page crashed;
	// 0 means WindowTimeout.
	WindowTimeout time.Duration
}

// Services are the services bound to the UI. They share one hub connection.
type Services struct {
	Session       *Session
	Presence      *Presence
	Offers        *Offers
	Conversations *Conversations
	Supervisor    *Supervisor
	Calls         *Calls
	Visual        *Visual
	Settings      *Settings
	Window        *Window
	Setup         *Setup

	core *core
}

// New builds the services, signed out.
func New(cfg Config) *Services {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Client == "" {
		cfg.Client = "app"
	}
	c := &core{
		events:  newEvents(cfg.Emitter),
		log:     cfg.Logger,
		now:     cfg.Now,
		prefill: policyPrefill(cfg.Policy, startPrefill(cfg.Prefill, remembered(cfg.StateDir))),

		openURL:     cfg.OpenURL,
		stateDir:    cfg.StateDir,
		clientLabel: cfg.Client,

		policy:     cfg.Policy,
		policyErr:  cfg.PolicyErr,
		policyPath: cfg.PolicyPath,
	}
	c.calls = newCallManager(c, cfg.Devices)
	c.monitor = &monitors{c: c}
	c.visual = newVisual(c, cfg.Keychain)
	c.setup = newSetup(c)
	c.reset()
	return &Services{
		Session:       &Session{c: c},
		Presence:      &Presence{c: c},
		Offers:        &Offers{c: c},
		Conversations: &Conversations{c: c},
		Supervisor:    &Supervisor{c: c},
		Calls:         &Calls{m: c.calls},
		Visual:        c.visual,
		Settings:      &Settings{c: c},
		Window:        newWindow(c, cfg.WindowTimeout),
		Setup:         c.setup,
		core:          c,
	}
}

// Close signs out, ends any call and releases the connection.
func (s *Services) Close() error {
	err := s.Session.SignOut()
	s.core.setup.Stop()
	s.core.calls.close()
	return err
}

// Bindings lists the services for wails.Run's Bind option.
func (s *Services) Bindings() []any {
	return []any{s.Session, s.Presence, s.Offers, s.Conversations, s.Supervisor, s.Calls, s.Visual, s.Settings, s.Window, s.Setup}
}

// requestTimeout bounds every request to the hub.
const requestTimeout = 10 * time.Second

// conv is what the app knows about one conversation.
type conv struct {
	wire.Conversation
	// msgs are the messages in sequence order, without gaps the app knows of.
	msgs []MessageView
	// unread counts customer messages that arrived while the conversation was not active.
	unread int
	// customerTyping is true between the customer's typing on and off.
	customerTyping bool
	// delivered and read are the customer's receipts for the agent's messages.
	delivered, read int64
	// moved is true once the conversation is no longer this agent's (ConversationView.Moved).
	moved bool
	// consulting is true while this member reads along in someone else's conversation.
	consulting bool
	// described is set once the hub has sent the conversation itself (upsertConv); until then
	// msgs hold only what was pushed live (an invitation to read along comes before the
	// conversation), not its history.
	described bool
}

// core is the state the services share. One goroutine (run) reads the hub connection; the
// bound methods run on the UI's goroutines; mu guards everything below it.
//
// Lock order, outermost first (a goroutine holding one may take only those after it):
//
//	core.signMu → core.mu → callManager.mu | Setup.mu | Visual.mu → screenShares.mu → ScreenShare.mu → events.mu → ops.Queue.mu
//
// callSession state is owned by its ops.Queue goroutine and needs no lock. Nothing is emitted
// directly: every event goes through events, queued under the lock of the state it shows and
// delivered by one goroutine that holds no lock (app/events.go).
type core struct {
	events  *events      // the one path to the UI
	log     *slog.Logger // the services' log
	now     func() time.Time
	prefill Prefill
	calls   *callManager // the agent's calls
	monitor *monitors    // a supervisor's leg on an agent's call (monitor.go)
	visual  *Visual      // visual engagement (co-browse, screen share)
	setup   *Setup       // "Test my setup" (setup.go)

	// policy is this machine's policy and policyErr why its file was refused; both fixed at New.
	policy     policy.Policy
	policyErr  error
	policyPath string

	// signMu serialises sign-in and sign-out, which block on the network.
	signMu sync.Mutex

	mu       sync.Mutex
	link     *client.Conn       // the hub connection; nil when signed out
	stop     context.CancelFunc // stops run
	done     chan struct{}      // closed when run returns
	session  SessionView
	offset   int64 // hub clock minus local clock, ms
	agent    wire.AgentState
	offers   []OfferView
	convs    map[wire.ConversationID]*conv
	active   wire.ConversationID
	snapshot *wire.Snapshot
	// watching is the conversation the supervisor follows live ("" when none); followed again
	// after a reconnect.
	watching wire.ConversationID
	snapAt   int64
	token    string // the login token, for the hub's HTTP API (reports); memory only
	// tokenExp is when token expires unless renewed.
	tokenExp time.Time
	// ssoCancel stops a single sign-on waiting in the browser.
	ssoCancel context.CancelFunc

	// openURL, stateDir and clientLabel are fixed at New (Config).
	openURL     func(string) error
	stateDir    string
	clientLabel string
	// prefsMu serialises writes of the agent's settings (settings.json); memPrefs holds them
	// when there is no stateDir.
	prefsMu  sync.Mutex
	memPrefs *prefs
}

// reset forgets everything about the last session. Callers hold mu (or own c exclusively).
func (c *core) reset() {
	c.calls.drop() // the hub ends a call whose agent went
	c.monitor.drop()
	if c.visual != nil {
		c.visual.drop()
	}
	if c.setup != nil {
		c.setup.drop() // devices and the network test's allocations close
	}
	c.link = nil
	c.stop = nil
	c.done = nil
	c.session = SessionView{Connection: ConnOffline, MaxTextBytes: wire.MaxTextBytes}
	c.offset = 0
	c.agent = wire.AgentState{Presence: wire.PresenceOffline}
	c.offers = nil
	c.convs = map[wire.ConversationID]*conv{}
	c.active = ""
	c.snapshot = nil
	c.snapAt = 0
	c.token = ""
	c.tokenExp = time.Time{}
}

// nowMs is the local clock in Unix milliseconds.
func (c *core) nowMs() int64 { return c.now().UnixMilli() }

// unlockEmit queues what the locked section collected and releases mu: queued under mu, the
// events are numbered in the order the state changed, whichever goroutine changed it. Each
// snapshot event carries the whole state of its domain, so one that overtook a newer one would
// undo it.
func (c *core) unlockEmit(out []emission) {
	c.events.emitAll(out)
	c.mu.Unlock()
}

// currentLink returns the hub connection, or ErrNotSignedIn.
func (c *core) currentLink() (*client.Conn, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.link == nil {
		return nil, ErrNotSignedIn
	}
	return c.link, nil
}

// request sends one request to the hub and waits for its answer.
func (c *core) request(t wire.Type, payload any) (wire.Ack, error) {
	l, err := c.currentLink()
	if err != nil {
		return wire.Ack{}, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), requestTimeout)
	defer cancel()
	ack, err := l.Request(ctx, t, payload)
	if err != nil {
		c.log.Debug("request failed", "type", t, "code", wire.ErrorCode(err), "err", wire.ErrorMessage(err))
		return wire.Ack{}, asWireError(err)
	}
	return ack, nil
}

// run applies the hub's events until the connection closes or stop is called.
func (c *core) run(ctx context.Context, l *client.Conn, done chan struct{}) {
	defer close(done)
	events := l.Events()
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-events:
			if !ok {
				c.lost(l, "")
				return
			}
			if st, isState := client.ParseState(ev); isState && st.State == client.StateClosed {
				c.lost(l, st.Err)
				return
			}
			c.mu.Lock()
			if c.link != l {
				c.mu.Unlock()
				return
			}
			out, followUp := c.apply(ev)
			c.unlockEmit(out)
			c.async(followUp)
		}
	}
}

// async sends follow-up requests (receipts, history) in order, off the goroutine that reads
// the connection: waiting for their answers there could stall the very reader that delivers them.
func (c *core) async(followUp []func()) {
	if len(followUp) == 0 {
		return
	}
	go func() {
		for _, f := range followUp {
			f()
		}
	}()
}

// lost handles a connection that closed for good (the client gave up reconnecting, or the hub
// refused the token): the agent is signed out and told why.
func (c *core) lost(l *client.Conn, why string) {
	c.mu.Lock()
	if c.link != l {
		c.mu.Unlock()
		return
	}
	c.log.Warn("hub connection closed", "err", why)
	c.reset()
	code := wire.EUNAVAILABLE
	if strings.HasPrefix(why, string(wire.EUNAUTHORIZED)) {
		code = wire.EUNAUTHORIZED
	}
	out := []emission{
		{EventSession, c.session},
		{EventNotice, Notice{Kind: NoticeConnectionLost, Code: code}},
		{EventAgent, c.agent},
		{EventOffers, []OfferView{}},
		{EventConversations, []ConversationView{}},
	}
	c.unlockEmit(out)
	go l.Close() // from the run goroutine, which the client's Close waits on indirectly
}

// apply changes the state for one event from the hub, under mu. It returns the events for the
// UI and the requests to send once mu is released (receipts, syncs).
func (c *core) apply(ev wire.Envelope) (out []emission, followUp []func()) {
	st, ok := client.ParseState(ev)
	if !ok {
		return c.event(ev)
	}
	switch {
	case st.State == client.StateReconnecting && c.session.Connection != ConnReconnecting:
		c.log.Info("reconnecting to the hub", "err", st.Err)
		c.session.Connection = ConnReconnecting
		c.monitor.drop() // the hub ends a supervisor's leg with their connection
		out = append(out, emission{EventSession, c.session})
	case st.State == client.StateConnected && st.Welcome != nil:
		return c.welcome(*st.Welcome)
	}
	return out, followUp
}

// welcome applies the hub's Welcome, at sign-in and after every reconnect.
func (c *core) welcome(w wire.Welcome) (out []emission, followUp []func()) {
	c.offset = w.ServerTime - c.nowMs()
	c.session.Connection = ConnOnline
	if w.User != nil {
		c.session.User = w.User
	}
	if w.MaxTextBytes > 0 {
		c.session.MaxTextBytes = w.MaxTextBytes
	}
	mine := map[wire.ConversationID]bool{}
	for _, wc := range w.Conversations {
		mine[wc.ID] = true
		followUp = append(followUp, c.upsertConv(wc)...)
	}
	// An agent back after a long drop: open chats the hub no longer lists went to others.
	if w.Role == wire.RoleAgent {
		for id, cv := range c.convs {
			if !mine[id] && cv.State == wire.ConvActive {
				cv.moved = true
			}
		}
	}
	out = append(out, emission{EventSession, c.session}, emission{EventConversations, c.convViews()})
	if id := c.watching; id != "" { // the hub forgot it with the old connection
		followUp = append(followUp, func() {
			if _, err := c.request(wire.TypeSupervisorWatch, wire.Watch{Conv: id, On: true}); err != nil {
				c.log.Debug("following again failed", "conv", id, "code", wire.ErrorCode(err))
			}
		})
	}
	return out, followUp
}

// event applies one event the hub sent.
func (c *core) event(ev wire.Envelope) (out []emission, followUp []func()) {
	switch ev.Type {
	case wire.TypeAgentState:
		var st wire.AgentState
		if ev.Unmarshal(&st) != nil {
			break
		}
		// Wrap-up deadlines on the local clock, for the countdown.
		st.WrapUp = slices.Clone(st.WrapUp)
		for i := range st.WrapUp {
			st.WrapUp[i].EndedAt, st.WrapUp[i].Until = c.local(st.WrapUp[i].EndedAt), c.local(st.WrapUp[i].Until)
		}
		c.agent = st
		out = append(out, emission{EventAgent, st})

	case wire.TypeOffer:
		var o wire.Offer
		if ev.Unmarshal(&o) != nil {
			break
		}
		received := c.nowMs()
		for _, old := range c.offers {
			if old.ID == o.ID { // the same offer again, now with the customer's first message
				received = old.ReceivedAt
			}
		}
		if c.removeOffer(o.ID) {
			c.log.Info("offer updated", "offer", o.ID, "conv", o.Conv)
		} else {
			c.log.Info("offer", "offer", o.ID, "conv", o.Conv)
		}
		c.offers = append(c.offers, OfferView{
			ID: o.ID, Conv: o.Conv, CustomerName: o.CustomerName, Preview: o.Preview,
			ReceivedAt: received, ExpiresAt: o.ExpiresAt - c.offset,
			QueueName: o.QueueName, Transfer: o.Transfer, Message: o.Message,
		})
		out = append(out, emission{EventOffers, c.offerViews()})

	case wire.TypeOfferRevoked:
		var r wire.OfferRevoked
		if ev.Unmarshal(&r) != nil {
			break
		}
		if c.removeOffer(r.Offer) {
			c.log.Info("offer revoked", "offer", r.Offer, "reason", r.Reason)
			out = append(out, emission{EventOffers, c.offerViews()},
				emission{EventNotice, Notice{Kind: NoticeOfferRevoked, Reason: r.Reason, Next: r.Next}})
		}

	case wire.TypeConvState:
		var wc wire.Conversation
		if ev.Unmarshal(&wc) != nil {
			break
		}
		followUp = append(followUp, c.upsertConv(wc)...)
		// An offer for a conversation that someone else took, or that ended, is void.
		if wc.State != wire.ConvWaiting {
			for _, o := range c.offers {
				if o.Conv == wc.ID {
					c.removeOffer(o.ID)
					out = append(out, emission{EventOffers, c.offerViews()})
					break
				}
			}
		}
		out = append(out, emission{EventConversations, c.convViews()})

	case wire.TypeConsult:
		var k wire.Consult
		if ev.Unmarshal(&k) != nil {
			break
		}
		if k.Ended {
			// No longer reading along (left, or the conversation moved on): it leaves the list.
			delete(c.convs, k.Conversation.ID)
			if c.active == k.Conversation.ID {
				c.active = ""
				out = append(out, emission{EventActive, c.active})
			}
		} else {
			c.log.Info("invited to read along", "conv", k.Conversation.ID, "by", k.By)
			followUp = append(followUp, c.upsertConv(k.Conversation)...)
		}
		out = append(out, emission{EventConversations, c.convViews()})

	case wire.TypeChatMessage:
		var m wire.Message
		if ev.Unmarshal(&m) != nil {
			break
		}
		mv, isNew, f := c.addMessage(m)
		followUp = append(followUp, f...)
		if isNew {
			out = append(out, emission{EventMessage, mv}, emission{EventConversations, c.convViews()})
		}

	case wire.TypeChatTyping:
		var t wire.Typing
		if ev.Unmarshal(&t) != nil || t.Author != wire.AuthorCustomer {
			break
		}
		if cv, ok := c.convs[t.Conv]; ok && cv.customerTyping != t.Typing {
			cv.customerTyping = t.Typing
			out = append(out, emission{EventConversations, c.convViews()})
		}

	case wire.TypeChatReceipt:
		var r wire.Receipt
		if ev.Unmarshal(&r) != nil || r.By != wire.AuthorCustomer {
			break
		}
		cv, ok := c.convs[r.Conv]
		if !ok {
			break
		}
		changed := false
		if r.Seq > cv.delivered {
			cv.delivered, changed = r.Seq, true
		}
		if r.Kind == wire.ReceiptRead && r.Seq > cv.read {
			cv.read, changed = r.Seq, true
		}
		if changed {
			out = append(out, emission{EventConversations, c.convViews()})
		}

	case wire.TypeSupervisorSnapshot:
		var s wire.Snapshot
		if ev.Unmarshal(&s) != nil {
			break
		}
		c.snapshot, c.snapAt = &s, c.nowMs()
		out = append(out, emission{EventSupervisor, c.supervisorView()})

	case wire.TypeSupervisorWatched:
		var w wire.Watched
		if ev.Unmarshal(&w) != nil || w.Conv != c.watching {
			break
		}
		out = append(out, emission{EventWatched, w})

	case wire.TypeCallState, wire.TypeCallSignal, wire.TypeCallMedia:
		c.calls.onHub(ev)

	case wire.TypeMonitorState, wire.TypeMonitorSignal:
		c.onMonitorEvent(ev)

	case wire.TypeVisualSettings, wire.TypeVisualState, wire.TypeVisualEvent, wire.TypeVisualPointer,
		wire.TypeVisualCommand, wire.TypeVisualResult, wire.TypeVisualSignal:
		c.visual.onHub(ev)

	case wire.TypeError:
		var e wire.Error
		if ev.Unmarshal(&e) == nil {
			c.log.Warn("hub error", "code", e.Code, "message", e.Message)
		}
	}
	return out, followUp
}

// upsertConv records a conversation's new state. When it is the agent's and the app lacks
// messages, it returns a sync request to send.
func (c *core) upsertConv(wc wire.Conversation) (followUp []func()) {
	cv, ok := c.convs[wc.ID]
	if !ok {
		cv = &conv{}
		c.convs[wc.ID] = cv
	}
	cv.Conversation = wc
	if wc.State == wire.ConvEnded {
		cv.customerTyping = false
	}
	// Back in the queue, or someone else's now: the agent may read it, not write in it.
	me := wire.UserID("")
	if c.session.User != nil {
		me = c.session.User.ID
	}
	// Invited to read along (consult.go): someone else's, but open to notes.
	cv.consulting = me != "" && wc.AgentID != me && slices.ContainsFunc(wc.Consultants, func(m wire.MemberRef) bool { return m.ID == me })
	cv.moved = c.session.User != nil && c.session.User.Role == wire.RoleAgent && !cv.consulting &&
		(wc.State == wire.ConvWaiting || (wc.State == wire.ConvActive && wc.AgentID != me))
	have := cv.lastSeq()
	if !cv.described {
		have = 0 // what came live may be only the end of it: the history from the start
		cv.described = true
	}
	if wc.LastSeq > have {
		id, after := wc.ID, have
		followUp = append(followUp, func() { c.history(id, after) })
	}
	return followUp
}

// history fetches the messages of a conversation after seq that the app lacks (those from
// before the agent took it, or from before sign-in), and adds them.
func (c *core) history(id wire.ConversationID, after int64) {
	l, err := c.currentLink()
	if err != nil {
		return
	}
	for range 100 { // pages; bounded
		ctx, cancel := context.WithTimeout(context.Background(), requestTimeout)
		msgs, err := l.History(ctx, id, after)
		cancel()
		if err != nil {
			c.log.Warn("history failed", "conv", id, "code", wire.ErrorCode(err))
			return
		}
		if len(msgs) == 0 {
			return
		}
		var out []emission
		var followUp []func()
		c.mu.Lock()
		if c.link != l {
			c.mu.Unlock()
			return
		}
		for _, m := range msgs {
			mv, isNew, f := c.addMessage(m)
			followUp = append(followUp, f...)
			if isNew {
				out = append(out, emission{EventMessage, mv})
			}
			after = max(after, m.Seq)
		}
		out = append(out, emission{EventConversations, c.convViews()})
		c.unlockEmit(out)
		// The follow-ups are receipts, each covering everything before it: the last one will do.
		if n := len(followUp); n > 0 {
			followUp[n-1]()
		}
	}
}

// lastSeq is the newest sequence number the app holds.
func (cv *conv) lastSeq() int64 {
	if len(cv.msgs) == 0 {
		return 0
	}
	return cv.msgs[len(cv.msgs)-1].Seq
}

// addMessage stores a message once. A customer message gets a delivered receipt, or a read one
// when its conversation is open.
func (c *core) addMessage(m wire.Message) (mv MessageView, isNew bool, followUp []func()) {
	cv, ok := c.convs[m.Conv]
	if !ok {
		cv = &conv{Conversation: wire.Conversation{ID: m.Conv, State: wire.ConvActive}}
		c.convs[m.Conv] = cv
	}
	mv = MessageView{Conv: m.Conv, Seq: m.Seq, Author: m.Author, AuthorName: m.AuthorName, Text: m.Text, At: m.At - c.offset, Event: m.Event, Internal: m.Internal}
	i := sort.Search(len(cv.msgs), func(i int) bool { return cv.msgs[i].Seq >= m.Seq })
	if i < len(cv.msgs) && cv.msgs[i].Seq == m.Seq {
		return mv, false, nil
	}
	cv.msgs = append(cv.msgs, MessageView{})
	copy(cv.msgs[i+1:], cv.msgs[i:])
	cv.msgs[i] = mv
	if m.Seq > cv.LastSeq {
		cv.LastSeq = m.Seq
	}
	if m.Author == wire.AuthorCustomer && cv.consulting {
		// Reading along: the agent's receipts are the agent's to send.
		cv.customerTyping = false
		if c.active != m.Conv {
			cv.unread++
		}
	} else if m.Author == wire.AuthorCustomer {
		cv.customerTyping = false
		kind := wire.ReceiptDelivered
		if c.active == m.Conv {
			kind = wire.ReceiptRead
		} else {
			cv.unread++
		}
		followUp = append(followUp, c.receipt(m.Conv, m.Seq, kind))
	}
	return mv, true, followUp
}

// receipt returns a request that marks the customer's messages up to seq.
func (c *core) receipt(id wire.ConversationID, seq int64, kind wire.ReceiptKind) func() {
	return func() {
		if _, err := c.request(wire.TypeChatReceipt, wire.Receipt{Conv: id, Seq: seq, Kind: kind}); err != nil {
			c.log.Debug("receipt failed", "conv", id, "code", wire.ErrorCode(err))
		}
	}
}

// removeOffer drops a pending offer, reporting whether it was there.
func (c *core) removeOffer(id wire.OfferID) bool {
	for i, o := range c.offers {
		if o.ID == id {
			c.offers = append(c.offers[:i:i], c.offers[i+1:]...)
			return true
		}
	}
	return false
}

// offerViews copies the pending offers, oldest first.
func (c *core) offerViews() []OfferView {
	return append([]OfferView{}, c.offers...)
}

// view builds a conversation's line for the UI.
func (c *core) view(cv *conv) ConversationView {
	v := ConversationView{
		ID: cv.ID, State: cv.State, CustomerName: cv.CustomerName, AgentID: cv.AgentID, AgentName: cv.AgentName,
		LastSeq: cv.LastSeq, CreatedAt: c.local(cv.CreatedAt), AcceptedAt: c.local(cv.AcceptedAt),
		EndedAt: c.local(cv.EndedAt), EndedBy: cv.EndedBy, Unread: cv.unread,
		CustomerTyping: cv.customerTyping, DeliveredSeq: cv.delivered, ReadSeq: cv.read, Calls: cv.Calls,
		Customer: cv.Customer, CustomerSince: c.local(cv.CustomerSince), ClosesAt: c.local(cv.ClosesAt),
		CloseWarning: cv.CloseWarning, EndReason: cv.EndReason, Queue: cv.Queue, QueueName: cv.QueueName,
		Transfer: cv.Transfer, Moved: cv.moved, Consulting: cv.consulting, Consultants: cv.Consultants,
		WrapCode: cv.WrapCode, WrapNote: cv.WrapNote, Preview: cv.Preview,
	}
	if n := len(cv.msgs); n > 0 {
		v.LastText, v.LastAt = cv.msgs[n-1].Text, cv.msgs[n-1].At
	}
	return v
}

// local converts a hub time to the local clock, keeping zero as "not yet".
func (c *core) local(ms int64) int64 {
	if ms == 0 {
		return 0
	}
	return ms - c.offset
}

// convViews lists the conversations: open ones first, then by newest activity.
func (c *core) convViews() []ConversationView {
	vs := make([]ConversationView, 0, len(c.convs))
	for _, cv := range c.convs {
		vs = append(vs, c.view(cv))
	}
	sort.Slice(vs, func(i, j int) bool {
		ei, ej := vs[i].State == wire.ConvEnded, vs[j].State == wire.ConvEnded
		if ei != ej {
			return !ei
		}
		ti, tj := max(vs[i].LastAt, vs[i].AcceptedAt, vs[i].CreatedAt), max(vs[j].LastAt, vs[j].AcceptedAt, vs[j].CreatedAt)
		if ti != tj {
			return ti > tj
		}
		return vs[i].ID < vs[j].ID
	})
	return vs
}

// supervisorView converts the last snapshot for the UI.
func (c *core) supervisorView() SupervisorView {
	v := SupervisorView{Agents: []wire.AgentSummary{}, Conversations: []ConversationView{}, UpdatedAt: c.snapAt,
		Stats: wire.Stats{Calls: map[wire.CallOutcome]int{}}, Queues: []wire.QueueStats{}}
	if c.snapshot == nil {
		return v
	}
	v.Queues = append(v.Queues, c.snapshot.Queues...)
	v.Agents = append(v.Agents, c.snapshot.Agents...)
	v.Stats = statsView(c.snapshot.Stats)
	for _, wc := range c.snapshot.Conversations {
		v.Conversations = append(v.Conversations, c.view(&conv{Conversation: wc}))
	}
	return v
}
