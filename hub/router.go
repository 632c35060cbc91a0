package hub

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"time"

	"github.com/coder/websocket"
	"github.com/parleyhq/parley/hub/store"
	"github.com/parleyhq/parley/wire"
)

// Capacity units each kind of work costs. An agent carries work while the units in use stay within
// their capacity. A call takes all the capacity the agent has left (agentState.load).
const unitsChat = 1

// router owns the hub's live state: organisations, queues, agents' presence and load, offers, and
// which connections follow which conversation. One goroutine (run) owns it; everything else reaches
// it through cmds, so the maps below need no locks. Every field after done is touched only by that
// goroutine (and by load, before it starts).
type router struct {
	s *Server
	// cmds carries work for the run goroutine.
	cmds chan func()
	// sends carries chat messages, which the run goroutine stores in batches.
	sends chan *sendReq
	// quit is closed by stop; run returns.
	quit chan struct{}
	// done is closed when run has returned.
	done chan struct{}

	// orgs are the organisations seen so far, with their members.
	orgs map[wire.OrgID]*orgState
	// convs are the open (waiting or active) conversations.
	convs map[wire.ConversationID]*convState
	// offers are the offers awaiting an answer.
	offers map[wire.OfferID]*offerState
	// conns are the registered connections.
	conns map[*conn]struct{}
	// dirty are the organisations whose queue positions and supervisor snapshot must be sent
	// after the current command.
	dirty map[*orgState]struct{}
	// calls are the ringing and active calls (hub/calls.go).
	calls map[wire.CallID]*callState
	// callm are the call metrics.
	callm *callMetrics
	// visuals are the open (invited or active) visual engagements (hub/visual.go); nil until the
	// first.
	visuals map[wire.VisualID]*visualState
}

// orgState is one organisation's live state.
type orgState struct {
	id wire.OrgID
	// queue holds the waiting conversations, oldest first; position 1 is queue[0].
	queue []*convState
	// agents are the organisation's members with the agent role, by id.
	agents map[wire.UserID]*agentState
	// watchers are the connected supervisors and admins, who get snapshots.
	watchers map[*conn]struct{}
	// rec is the stored organisation: its region and call setting.
	rec store.Org
	// stats are the supervisor's figures, read at statsAt; nil when they must be read again.
	stats   *wire.Stats
	statsAt time.Time
}

// agentState is one agent's presence, load and connections.
type agentState struct {
	user store.User
	// presence is what the agent chose; the agent is offline whatever it says when online is false.
	presence wire.Presence
	// online is true while the agent has a connection, or lost the last one less than
	// OfflineGrace ago.
	online bool
	// conns are the agent's connections (the app, a second window, the headless agent...).
	conns map[*conn]struct{}
	// grace fires OfflineGrace after the last connection went.
	grace Timer
	// convs are the active conversations assigned to the agent.
	convs map[wire.ConversationID]*convState
	// offer is the offer the agent is considering; an agent gets one at a time.
	offer *offerState
	// idleSince is when the agent's load last dropped or they came online; the longest idle agent
	// is offered first among equally loaded ones.
	idleSince time.Time
	// call is the agent's ringing or active call; it takes their remaining capacity.
	call *callState
}

// push queues frame for every connection of the agent (the app, a second window, parley-agent).
func (a *agentState) push(frame []byte) {
	for c := range a.conns {
		c.push(&out{frame: frame})
	}
}

// load is the capacity units in use. A call takes all that is left, so routing offers nothing
// while it lasts (a supervisor can still assign, which may take the load over capacity).
func (a *agentState) load() int {
	if a.call != nil {
		return max(len(a.convs)*unitsChat, a.user.Capacity)
	}
	return len(a.convs) * unitsChat
}

// effectivePresence is the presence others see.
func (a *agentState) effectivePresence() wire.Presence {
	if !a.online {
		return wire.PresenceOffline
	}
	return a.presence
}

// convState is an open conversation.
type convState struct {
	conv wire.Conversation
	org  *orgState
	// customers are the customer's connections (tabs).
	customers map[*conn]struct{}
	// offer is the pending offer, if any.
	offer *offerState
	// skip holds agents who declined or let an offer lapse, until when they are passed over
	// (nil until one does).
	skip map[wire.UserID]time.Time
	// preview is the customer's first message, shown in offers.
	preview string
	// sentPos is the queue position last sent to the customer.
	sentPos int
	// abandon fires AbandonAfter after a waiting conversation lost its last customer connection
	// (or never had one); nil while the customer is connected.
	abandon Timer
	// call is the conversation's ringing or active call.
	call *callState
}

// passOver skips a for this conversation until until.
func (cs *convState) passOver(a *agentState, until time.Time) {
	if cs.skip == nil {
		cs.skip = map[wire.UserID]time.Time{}
	}
	cs.skip[a.user.ID] = until
}

// offerState is an offer awaiting an answer.
type offerState struct {
	id      wire.OfferID
	conv    *convState
	agent   *agentState
	expires time.Time
	timer   Timer
}

func newRouter(s *Server) *router {
	return &router{
		s:      s,
		cmds:   make(chan func(), 64),
		sends:  make(chan *sendReq, maxBatch),
		quit:   make(chan struct{}),
		done:   make(chan struct{}),
		orgs:   map[wire.OrgID]*orgState{},
		convs:  map[wire.ConversationID]*convState{},
		offers: map[wire.OfferID]*offerState{},
		conns:  map[*conn]struct{}{},
		dirty:  map[*orgState]struct{}{},
		calls:  map[wire.CallID]*callState{},
		callm:  newCallMetrics(s.metrics.reg),
	}
}

// load picks up the conversations that were open when the hub last stopped. It runs before run.
func (r *router) load(ctx context.Context) error {
	if err := r.endCallsAtStart(); err != nil {
		return err
	}
	convs, err := r.s.store.OpenConversations(ctx)
	if err != nil {
		return err
	}
	for _, c := range convs {
		org, err := r.org(c.Org)
		if err != nil {
			return err
		}
		cs := &convState{conv: c, org: org, customers: map[*conn]struct{}{}}
		cs.conv.Calls = org.callsAllowed()
		r.convs[c.ID] = cs
		if a := org.agents[c.AgentID]; c.State == wire.ConvActive && a != nil {
			a.convs[c.ID] = cs
			continue
		}
		// Waiting, or active with an agent who no longer exists: back to the queue.
		cs.conv.State, cs.conv.AgentID, cs.conv.AgentName = wire.ConvWaiting, "", ""
		org.queue = append(org.queue, cs)
		r.watchAbandon(cs)
	}
	return nil
}

// run executes commands until stop.
func (r *router) run() {
	defer close(r.done)
	for {
		select {
		case f := <-r.cmds:
			f()
			r.flush()
		case req := <-r.sends:
			batch := []*sendReq{req}
		drain:
			for len(batch) < maxBatch {
				select {
				case req := <-r.sends:
					batch = append(batch, req)
				default:
					break drain
				}
			}
			r.chatBatch(batch)
			r.flush()
		case <-r.quit:
			for _, o := range r.offers {
				o.timer.Stop()
			}
			r.stopCallTimers()
			for _, cs := range r.convs {
				if cs.abandon != nil {
					cs.abandon.Stop()
				}
			}
			for _, org := range r.orgs {
				for _, a := range org.agents {
					if a.grace != nil {
						a.grace.Stop()
					}
				}
			}
			return
		}
	}
}

// stop ends run.
func (r *router) stop() {
	select {
	case <-r.quit:
	default:
		close(r.quit)
	}
	<-r.done
}

// call runs f on the router goroutine and returns its error.
func (r *router) call(f func() error) error {
	res := make(chan error, 1)
	select {
	case r.cmds <- func() { res <- f() }:
	case <-r.quit:
		return ErrClosed
	}
	return <-res
}

// post queues f for the router goroutine without waiting (timers use it).
func (r *router) post(f func()) {
	go func() {
		select {
		case r.cmds <- f:
		case <-r.quit:
		}
	}()
}

// alive reports whether the router answers before ctx ends.
func (r *router) alive(ctx context.Context) bool {
	ok := make(chan struct{})
	select {
	case r.cmds <- func() { close(ok) }:
	case <-ctx.Done():
		return false
	case <-r.quit:
		return false
	}
	select {
	case <-ok:
		return true
	case <-ctx.Done():
		return false
	}
}

// dbctx bounds one store call made by the router.
func dbctx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), 5*time.Second)
}

// org returns an organisation's state, loading its members on first use.
func (r *router) org(id wire.OrgID) (*orgState, error) {
	if o := r.orgs[id]; o != nil {
		return o, nil
	}
	ctx, cancel := dbctx()
	defer cancel()
	rec, err := r.s.store.Org(ctx, id)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, ErrOrgNotFound
		}
		return nil, err
	}
	users, err := r.s.store.Users(ctx, id)
	if err != nil {
		return nil, err
	}
	o := &orgState{id: id, rec: rec, agents: map[wire.UserID]*agentState{}, watchers: map[*conn]struct{}{}}
	for _, u := range users {
		r.addAgent(o, u)
	}
	r.orgs[id] = o
	return o, nil
}

// addAgent adds a member to o if it is an agent.
func (r *router) addAgent(o *orgState, u store.User) *agentState {
	if u.Role != wire.RoleAgent {
		return nil
	}
	if a := o.agents[u.ID]; a != nil {
		return a
	}
	a := &agentState{user: u, presence: wire.PresenceAvailable, conns: map[*conn]struct{}{}, convs: map[wire.ConversationID]*convState{}}
	o.agents[u.ID] = a
	return a
}

// memberAdded tells the router about a member created while it runs.
func (r *router) memberAdded(u store.User) {
	_ = r.call(func() error {
		if o := r.orgs[u.Org]; o != nil {
			r.addAgent(o, u)
			r.dirty[o] = struct{}{}
		}
		return nil
	})
}

// enqueue puts a new conversation in its organisation's queue and returns its position.
func (r *router) enqueue(c wire.Conversation) (int, error) {
	pos := 0
	err := r.call(func() error {
		org, err := r.org(c.Org)
		if err != nil {
			return err
		}
		cs := &convState{conv: c, org: org, customers: map[*conn]struct{}{}}
		cs.conv.Calls = org.callsAllowed()
		r.convs[c.ID] = cs
		org.queue = append(org.queue, cs)
		r.watchAbandon(cs)
		r.s.metrics.conversations.WithLabelValues("started").Inc()
		r.route(org)
		pos = slices.Index(org.queue, cs) + 1
		cs.sentPos = pos
		r.dirty[org] = struct{}{}
		return nil
	})
	return pos, err
}

// register adds a welcomed connection and queues its Welcome, the replay of what it missed, and
// the state it must know (agent state, pending offer, receipts, snapshot).
func (r *router) register(c *conn, resume map[wire.ConversationID]int64) error {
	return r.call(func() error {
		org, err := r.org(c.org)
		if err != nil {
			return err
		}
		welcome := wire.Welcome{Role: c.role, Conversations: []wire.Conversation{}, MaxTextBytes: wire.MaxTextBytes, ServerTime: r.s.now().UnixMilli()}
		var replays []replay
		follow := func(conv wire.Conversation) {
			welcome.Conversations = append(welcome.Conversations, conv)
			if after, ok := resume[conv.ID]; ok && after < conv.LastSeq {
				replays = append(replays, replay{conv: conv.ID, after: max(after, 0), upTo: conv.LastSeq})
			}
		}
		var agent *agentState
		switch c.role {
		case wire.RoleCustomer:
			if cs := r.convs[c.conv]; cs != nil {
				cs.customers[c] = struct{}{}
				if cs.abandon != nil {
					cs.abandon.Stop()
					cs.abandon = nil
				}
				conv := cs.conv
				conv.QueuePosition = r.position(cs)
				follow(conv)
			} else {
				ctx, cancel := dbctx()
				conv, err := r.s.store.Conversation(ctx, c.conv)
				cancel()
				if err != nil {
					return err
				}
				follow(conv)
			}
		case wire.RoleAgent:
			agent = org.agents[c.user.ID]
			if agent == nil {
				agent = r.addAgent(org, c.user)
			}
			u := c.user.Wire()
			welcome.User = &u
			if len(agent.conns) == 0 && !agent.online {
				agent.idleSince = r.s.now()
			}
			agent.conns[c] = struct{}{}
			agent.online = true
			if agent.grace != nil {
				agent.grace.Stop()
				agent.grace = nil
			}
			for _, cs := range sortedConvs(agent.convs) {
				follow(cs.conv)
			}
		default:
			u := c.user.Wire()
			welcome.User = &u
			org.watchers[c] = struct{}{}
		}
		r.conns[c] = struct{}{}
		c.pushFrame(wire.TypeWelcome, "", welcome)
		if len(replays) > 0 {
			c.push(&out{replay: replays})
		}
		r.pushReceipts(c, welcome.Conversations)
		r.pushCalls(c)
		r.pushVisuals(c, welcome.Conversations)
		switch {
		case c.role == wire.RoleCustomer && welcome.Conversations[0].State == wire.ConvWaiting:
			c.pushFrame(wire.TypeQueuePosition, "", wire.QueuePosition{Conv: c.conv, Position: welcome.Conversations[0].QueuePosition})
		case agent != nil:
			c.pushFrame(wire.TypeAgentState, "", r.agentState(agent))
			if o := agent.offer; o != nil {
				c.pushFrame(wire.TypeOffer, "", r.offerFrame(o))
			}
			r.route(org)
		case c.role == wire.RoleSupervisor || c.role == wire.RoleAdmin:
			c.pushFrame(wire.TypeSupervisorSnapshot, "", r.snapshot(org))
		}
		r.dirty[org] = struct{}{}
		return nil
	})
}

// pushReceipts sends c the delivery markers the other side set in convs.
func (r *router) pushReceipts(c *conn, convs []wire.Conversation) {
	for _, conv := range convs {
		ctx, cancel := dbctx()
		rs, err := r.s.store.Receipts(ctx, conv.ID)
		cancel()
		if err != nil {
			c.log.Warn("reading receipts", "err", err)
			continue
		}
		for _, rc := range rs {
			if rc.By != authorOf(c.role) {
				c.pushFrame(wire.TypeChatReceipt, "", wire.Receipt{Conv: conv.ID, Seq: rc.Seq, Kind: rc.Kind, By: rc.By})
			}
		}
	}
}

// watchAbandon ends cs as left if it is still waiting with no customer connection after
// AbandonAfter, so agents are not offered chats whose customer has gone.
func (r *router) watchAbandon(cs *convState) {
	if cs.conv.State != wire.ConvWaiting || len(cs.customers) > 0 || cs.abandon != nil {
		return
	}
	var t Timer
	t = r.s.cfg.AfterFunc(r.s.cfg.AbandonAfter, func() {
		r.post(func() {
			if cs.abandon != t || r.convs[cs.conv.ID] != cs || len(cs.customers) > 0 || cs.conv.State != wire.ConvWaiting {
				return
			}
			cs.abandon = nil
			r.s.log.Info("waiting customer gone; ending the conversation", "org", cs.org.id, "conv", cs.conv.ID)
			if err := r.finish(cs, wire.AuthorCustomer, "The customer left the conversation."); err != nil {
				r.s.log.Error("ending an abandoned conversation", "conv", cs.conv.ID, "err", err)
			}
		})
	})
	cs.abandon = t
}

// unregister forgets a connection that has gone.
func (r *router) unregister(c *conn) {
	_ = r.call(func() error {
		if _, ok := r.conns[c]; !ok {
			return nil
		}
		delete(r.conns, c)
		org := r.orgs[c.org]
		switch c.role {
		case wire.RoleCustomer:
			if cs := r.convs[c.conv]; cs != nil {
				delete(cs.customers, c)
				r.watchAbandon(cs)
				r.callPartyLeft(cs, nil)
			}
		case wire.RoleAgent:
			a := org.agents[c.user.ID]
			delete(a.conns, c)
			r.callPartyLeft(nil, a)
			if len(a.conns) == 0 {
				// Offline only after a grace period, so a reconnect does not bounce presence.
				var t Timer
				t = r.s.cfg.AfterFunc(r.s.cfg.OfflineGrace, func() {
					r.post(func() {
						if a.grace != t || len(a.conns) > 0 {
							return
						}
						a.grace, a.online = nil, false
						if o := a.offer; o != nil {
							r.revoke(o, "timeout")
							r.route(org)
						}
						r.dirty[org] = struct{}{}
					})
				})
				a.grace = t
			}
		default:
			delete(org.watchers, c)
		}
		return nil
	})
}

// closeAll tells every client the hub is going away.
func (r *router) closeAll() {
	_ = r.call(func() error {
		for c := range r.conns {
			go func() {
				_ = c.ws.Close(websocket.StatusGoingAway, "hub shutting down")
				c.kill()
			}()
		}
		return nil
	})
}

// authorOf is the author a role writes as.
func authorOf(role wire.Role) wire.Author {
	if role == wire.RoleCustomer {
		return wire.AuthorCustomer
	}
	return wire.AuthorAgent
}

// open finds an open conversation c may take part in. Conversations of other organisations, and
// ones an agent is not assigned, are ErrConvNotFound; closed ones the caller could see are
// ErrConvEnded.
func (r *router) open(c *conn, id wire.ConversationID) (*convState, error) {
	if id == "" {
		return nil, wire.Errorf(wire.EINVALID, "conv is missing")
	}
	if c.role == wire.RoleCustomer && id != c.conv {
		return nil, ErrConvNotFound
	}
	cs := r.convs[id]
	if cs == nil {
		ctx, cancel := dbctx()
		defer cancel()
		conv, err := r.s.store.Conversation(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			return nil, ErrConvNotFound
		}
		if err != nil {
			return nil, err
		}
		if conv.Org != c.org || (c.role == wire.RoleAgent && conv.AgentID != c.user.ID) {
			return nil, ErrConvNotFound
		}
		return nil, ErrConvEnded
	}
	if cs.conv.Org != c.org || (c.role == wire.RoleAgent && cs.conv.AgentID != c.user.ID) {
		return nil, ErrConvNotFound
	}
	return cs, nil
}

// participant is open for the two parties of a chat: the customer, and the assigned agent.
func (r *router) participant(c *conn, id wire.ConversationID) (*convState, error) {
	cs, err := r.open(c, id)
	if err != nil {
		return nil, err
	}
	if c.role != wire.RoleCustomer && c.role != wire.RoleAgent {
		return nil, wire.Errorf(wire.EFORBIDDEN, "only the customer and the assigned agent write in a conversation")
	}
	return cs, nil
}

// broadcast sends a frame to everyone in a conversation: the customer's connections and the
// assigned agent's.
func (r *router) broadcast(cs *convState, frame []byte, except *conn) {
	for c := range cs.customers {
		if c != except {
			c.push(&out{frame: frame})
		}
	}
	if a := cs.org.agents[cs.conv.AgentID]; a != nil {
		for c := range a.conns {
			if c != except {
				c.push(&out{frame: frame})
			}
		}
	}
}

// toParty sends a frame to one side of a conversation: the customer's or the agent's connections.
func (r *router) toParty(cs *convState, side wire.Author, frame []byte) {
	if side == wire.AuthorCustomer {
		for c := range cs.customers {
			c.push(&out{frame: frame})
		}
		return
	}
	if a := cs.org.agents[cs.conv.AgentID]; a != nil {
		a.push(frame)
	}
}

func other(a wire.Author) wire.Author {
	if a == wire.AuthorCustomer {
		return wire.AuthorAgent
	}
	return wire.AuthorCustomer
}

func encode(t wire.Type, payload any) []byte {
	frame, _ := wire.Encode(t, "", payload)
	return frame
}

func ack(c *conn, rid string, a wire.Ack) {
	if rid != "" {
		c.pushFrame(wire.TypeAck, rid, a)
	}
}

// appendMessage stores a message and sends it to the conversation.
func (r *router) appendMessage(cs *convState, m wire.Message) (wire.Message, bool, error) {
	ctx, cancel := dbctx()
	start := time.Now()
	stored, dup, err := r.s.store.AppendMessage(ctx, m)
	r.s.metrics.storeSeconds.Observe(time.Since(start).Seconds())
	cancel()
	if err != nil || dup {
		return stored, dup, err
	}
	cs.conv.LastSeq = stored.Seq
	r.s.metrics.messages.WithLabelValues(string(stored.Author)).Inc()
	return stored, false, nil
}

// systemMessage stores and broadcasts a line from the hub, e.g. "Agent One joined".
func (r *router) systemMessage(cs *convState, text string) {
	m, _, err := r.appendMessage(cs, wire.Message{Conv: cs.conv.ID, Author: wire.AuthorSystem, Text: text})
	if err != nil {
		r.s.log.Error("storing a system message", "conv", cs.conv.ID, "err", err)
		return
	}
	r.broadcast(cs, encode(wire.TypeChatMessage, m), nil)
}

// sendReq is a chat message waiting for the router.
type sendReq struct {
	c   *conn
	rid string
	m   wire.ChatSend
	// start is when its frame was read.
	start time.Time
	// done receives the refusal, or nil once the message is stored, acknowledged and sent.
	done chan error
}

// maxBatch bounds how many queued messages the router stores in one transaction.
const maxBatch = 128

// chatSend stores a message before acknowledging it, then sends it to the conversation. A resend
// with a ClientID already stored is acknowledged with the original sequence number.
func (r *router) chatSend(c *conn, rid string, m wire.ChatSend) error {
	req := &sendReq{c: c, rid: rid, m: m, start: time.Now(), done: make(chan error, 1)}
	select {
	case r.sends <- req:
	case <-r.quit:
		return ErrClosed
	}
	return <-req.done
}

// chatBatch stores the messages queued together in one transaction (group commit: under load
// one commit carries many messages, so the router keeps up), then acknowledges and sends each,
// in order.
func (r *router) chatBatch(reqs []*sendReq) {
	type accepted struct {
		req *sendReq
		cs  *convState
	}
	var ok []accepted
	var msgs []wire.Message
	for _, req := range reqs {
		cs, err := r.participant(req.c, req.m.Conv)
		if err != nil {
			req.done <- err
			continue
		}
		msg := wire.Message{Conv: cs.conv.ID, Author: authorOf(req.c.role), Text: req.m.Text, ClientID: req.m.ClientID}
		if req.c.role == wire.RoleCustomer {
			msg.AuthorName = cs.conv.CustomerName
		} else {
			msg.AuthorName = req.c.user.DisplayName
		}
		ok = append(ok, accepted{req, cs})
		msgs = append(msgs, msg)
	}
	if len(ok) == 0 {
		return
	}
	ctx, cancel := dbctx()
	start := time.Now()
	res, err := r.s.store.AppendMessages(ctx, msgs)
	r.s.metrics.storeSeconds.Observe(time.Since(start).Seconds())
	cancel()
	for i, a := range ok {
		if err != nil {
			a.req.done <- err
			continue
		}
		stored := res[i].Message
		a.req.c.pushFrame(wire.TypeAck, a.req.rid, wire.Ack{Conv: stored.Conv, Seq: stored.Seq})
		if !res[i].Dup {
			a.cs.conv.LastSeq = stored.Seq
			r.s.metrics.messages.WithLabelValues(string(stored.Author)).Inc()
			if a.req.c.role == wire.RoleCustomer && a.cs.preview == "" {
				a.cs.preview = truncate(stored.Text, 140)
				if o := a.cs.offer; o != nil {
					// Offered before the customer wrote: the agent sees what it is about.
					o.agent.push(encode(wire.TypeOffer, r.offerFrame(o)))
				}
			}
			r.broadcast(a.cs, encode(wire.TypeChatMessage, stored), nil)
		}
		r.s.metrics.handleSeconds.Observe(time.Since(a.req.start).Seconds())
		a.req.done <- nil
	}
}

// truncate cuts s to at most n bytes on a rune boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }

// typing relays a typing indicator to the other party.
func (r *router) typing(c *conn, rid string, t wire.Typing) error {
	return r.call(func() error {
		cs, err := r.participant(c, t.Conv)
		if err != nil {
			return err
		}
		t.Author = authorOf(c.role)
		r.toParty(cs, other(t.Author), encode(wire.TypeChatTyping, t))
		ack(c, rid, wire.Ack{})
		return nil
	})
}

// receipt remembers a delivery marker and relays it to the other party.
func (r *router) receipt(c *conn, rid string, rc wire.Receipt) error {
	return r.call(func() error {
		cs, err := r.participant(c, rc.Conv)
		if err != nil {
			return err
		}
		if rc.Seq > cs.conv.LastSeq {
			return wire.Errorf(wire.EINVALID, "receipt for message %d, but the conversation has %d", rc.Seq, cs.conv.LastSeq)
		}
		rc.By = authorOf(c.role)
		ctx, cancel := dbctx()
		err = r.s.store.SetReceipt(ctx, rc.Conv, store.Receipt{By: rc.By, Kind: rc.Kind, Seq: rc.Seq})
		cancel()
		if err != nil {
			return err
		}
		r.toParty(cs, other(rc.By), encode(wire.TypeChatReceipt, rc))
		ack(c, rid, wire.Ack{})
		return nil
	})
}

// end closes a conversation: the agent's End (conv.end) or the customer leaving (conv.leave).
func (r *router) end(c *conn, rid string, t wire.Type, id wire.ConversationID) error {
	return r.call(func() error {
		switch {
		case t == wire.TypeConvLeave && c.role != wire.RoleCustomer:
			return wire.Errorf(wire.EFORBIDDEN, "only the customer leaves; agents end")
		case t == wire.TypeConvEnd && c.role == wire.RoleCustomer:
			return wire.Errorf(wire.EFORBIDDEN, "customers leave; agents end")
		}
		cs, err := r.open(c, id)
		if err != nil {
			return err
		}
		by, text := wire.AuthorCustomer, "The customer left the conversation."
		if t == wire.TypeConvEnd {
			by, text = wire.AuthorAgent, c.user.DisplayName+" ended the conversation."
		}
		if err := r.finish(cs, by, text); err != nil {
			return err
		}
		ack(c, rid, wire.Ack{Conv: cs.conv.ID, Seq: cs.conv.LastSeq})
		return nil
	})
}

// finish ends a conversation, frees the agent, and tells everyone.
func (r *router) finish(cs *convState, by wire.Author, text string) error {
	org := cs.org
	prev := cs.conv
	cs.conv.State, cs.conv.EndedAt, cs.conv.EndedBy = wire.ConvEnded, r.s.now().UnixMilli(), by
	ctx, cancel := dbctx()
	err := r.s.store.UpdateConversation(ctx, cs.conv)
	cancel()
	if err != nil {
		cs.conv = prev
		return err
	}
	r.endVisuals(cs, "conversation_ended")
	r.endConvCall(cs, by, "conversation_ended")
	r.systemEvent(cs, text, convEndEvent(cs, by))
	r.broadcast(cs, encode(wire.TypeConvState, cs.conv), nil)
	if o := cs.offer; o != nil {
		r.revoke(o, "left")
	}
	if i := slices.Index(org.queue, cs); i >= 0 {
		org.queue = slices.Delete(org.queue, i, i+1)
	}
	if a := org.agents[cs.conv.AgentID]; a != nil {
		delete(a.convs, cs.conv.ID)
		a.idleSince = r.s.now()
		r.pushAgentState(a)
	}
	if cs.abandon != nil {
		cs.abandon.Stop()
		cs.abandon = nil
	}
	delete(r.convs, cs.conv.ID)
	r.s.metrics.conversations.WithLabelValues("ended").Inc()
	r.s.log.Info("conversation ended", "org", org.id, "conv", cs.conv.ID, "by", by)
	r.route(org)
	r.dirty[org] = struct{}{}
	return nil
}

// setPresence changes an agent's presence.
func (r *router) setPresence(c *conn, rid string, p wire.Presence) error {
	return r.call(func() error {
		if c.role != wire.RoleAgent {
			return wire.Errorf(wire.EFORBIDDEN, "only agents have a presence")
		}
		org := r.orgs[c.org]
		a := org.agents[c.user.ID]
		if a.presence != p {
			a.presence = p
			if p == wire.PresenceAvailable {
				a.idleSince = r.s.now()
			}
			r.pushAgentState(a)
			r.route(org)
			r.dirty[org] = struct{}{}
		}
		ack(c, rid, wire.Ack{})
		return nil
	})
}

// answerOffer accepts or declines an offer made to c's agent.
func (r *router) answerOffer(c *conn, rid string, id wire.OfferID, accept bool) error {
	return r.call(func() error {
		o := r.offers[id]
		if o == nil || c.role != wire.RoleAgent || o.agent.user.ID != c.user.ID {
			return wire.Errorf(wire.ENOTFOUND, "no such offer (it may have expired)")
		}
		cs, a := o.conv, o.agent
		if !accept {
			r.revoke(o, "declined")
			r.s.metrics.offers.WithLabelValues("declined").Inc()
			cs.passOver(a, r.s.now().Add(r.s.cfg.OfferTimeout))
			r.retryLater(cs.org)
			r.route(cs.org)
			r.dirty[cs.org] = struct{}{}
			ack(c, rid, wire.Ack{})
			return nil
		}
		r.clearOffer(o)
		if err := r.assignTo(cs, a); err != nil {
			return err
		}
		r.s.metrics.offers.WithLabelValues("accepted").Inc()
		ack(c, rid, wire.Ack{Conv: cs.conv.ID, Seq: cs.conv.LastSeq})
		return nil
	})
}

// assign is a supervisor giving a conversation to an agent, whatever the agent's load.
func (r *router) assign(c *conn, rid string, as wire.Assign) error {
	return r.call(func() error {
		if c.role != wire.RoleSupervisor && c.role != wire.RoleAdmin {
			return wire.Errorf(wire.EFORBIDDEN, "only supervisors assign conversations")
		}
		cs, err := r.open(c, as.Conv)
		if err != nil {
			return err
		}
		a := cs.org.agents[as.Agent]
		if a == nil {
			return wire.Errorf(wire.ENOTFOUND, "no such agent")
		}
		if cs.conv.AgentID == a.user.ID {
			ack(c, rid, wire.Ack{Conv: cs.conv.ID})
			return nil
		}
		if o := cs.offer; o != nil {
			r.revoke(o, "assigned")
		}
		if err := r.assignTo(cs, a); err != nil {
			return err
		}
		r.s.log.Info("supervisor assigned a conversation", "org", cs.org.id, "conv", cs.conv.ID, "agent", a.user.ID, "by", c.user.ID)
		ack(c, rid, wire.Ack{Conv: cs.conv.ID, Seq: cs.conv.LastSeq})
		return nil
	})
}

// assignTo makes a the agent of cs, taking it from the queue or from its previous agent.
func (r *router) assignTo(cs *convState, a *agentState) error {
	org := cs.org
	prev := cs.conv
	old := org.agents[cs.conv.AgentID]
	if old != nil && old != a {
		r.endConvCall(cs, wire.AuthorAgent, "reassigned")
	}
	if old != nil && old != a {
		r.endVisuals(cs, "reassigned")
	}
	cs.conv.State, cs.conv.AgentID, cs.conv.AgentName, cs.conv.AcceptedAt = wire.ConvActive, a.user.ID, a.user.DisplayName, r.s.now().UnixMilli()
	ctx, cancel := dbctx()
	err := r.s.store.UpdateConversation(ctx, cs.conv)
	cancel()
	if err != nil {
		cs.conv = prev
		return err
	}
	if old != nil {
		// The previous agent learns the conversation is no longer theirs.
		frame := encode(wire.TypeConvState, cs.conv)
		old.push(frame)
		delete(old.convs, cs.conv.ID)
		old.idleSince = r.s.now()
		r.pushAgentState(old)
	}
	if i := slices.Index(org.queue, cs); i >= 0 {
		org.queue = slices.Delete(org.queue, i, i+1)
	}
	a.convs[cs.conv.ID] = cs
	if cs.abandon != nil { // an active conversation is the agent's to end
		cs.abandon.Stop()
		cs.abandon = nil
	}
	r.broadcast(cs, encode(wire.TypeConvState, cs.conv), nil)
	r.systemEvent(cs, a.user.DisplayName+" joined the conversation.", &wire.Event{Kind: wire.EventJoined, Name: a.user.DisplayName})
	r.pushAgentState(a)
	r.s.metrics.conversations.WithLabelValues("assigned").Inc()
	r.s.log.Info("conversation assigned", "org", org.id, "conv", cs.conv.ID, "agent", a.user.ID)
	r.route(org)
	r.dirty[org] = struct{}{}
	return nil
}

// route offers waiting conversations, oldest first, to available agents with free capacity: the
// least loaded first, then the one idle longest.
func (r *router) route(org *orgState) {
	now := r.s.now()
	for _, cs := range org.queue {
		if cs.offer != nil {
			continue
		}
		var best *agentState
		for _, a := range org.agents {
			if !a.online || a.presence != wire.PresenceAvailable || a.offer != nil || a.load()+unitsChat > a.user.Capacity {
				continue
			}
			if until, ok := cs.skip[a.user.ID]; ok && now.Before(until) {
				continue
			}
			if best == nil || better(a, best) {
				best = a
			}
		}
		if best != nil {
			r.offer(cs, best)
		}
	}
}

// better orders candidate agents: least loaded, then idle longest, then by id.
func better(a, b *agentState) bool {
	if c := cmp.Compare(a.load(), b.load()); c != 0 {
		return c < 0
	}
	if !a.idleSince.Equal(b.idleSince) {
		return a.idleSince.Before(b.idleSince)
	}
	return a.user.ID < b.user.ID
}

// offer offers cs to a until OfferTimeout.
func (r *router) offer(cs *convState, a *agentState) {
	id := wire.OfferID(newID("o"))
	o := &offerState{id: id, conv: cs, agent: a, expires: r.s.now().Add(r.s.cfg.OfferTimeout)}
	o.timer = r.s.cfg.AfterFunc(r.s.cfg.OfferTimeout, func() { r.post(func() { r.expire(id) }) })
	r.offers[id], cs.offer, a.offer = o, o, o
	frame := encode(wire.TypeOffer, r.offerFrame(o))
	a.push(frame)
	r.s.metrics.offers.WithLabelValues("offered").Inc()
	r.s.log.Debug("offer made", "org", cs.org.id, "conv", cs.conv.ID, "agent", a.user.ID, "offer", id)
}

func (r *router) offerFrame(o *offerState) wire.Offer {
	return wire.Offer{ID: o.id, Conv: o.conv.conv.ID, CustomerName: o.conv.conv.CustomerName, Preview: o.conv.preview, ExpiresAt: o.expires.UnixMilli()}
}

// expire moves a lapsed offer on to the next agent.
func (r *router) expire(id wire.OfferID) {
	o := r.offers[id]
	if o == nil {
		return
	}
	r.revoke(o, "timeout")
	r.s.metrics.offers.WithLabelValues("timeout").Inc()
	o.conv.passOver(o.agent, r.s.now().Add(r.s.cfg.OfferTimeout))
	r.retryLater(o.conv.org)
	r.route(o.conv.org)
	r.dirty[o.conv.org] = struct{}{}
}

// retryLater routes org again once passed-over agents may be offered again.
func (r *router) retryLater(org *orgState) {
	r.s.cfg.AfterFunc(r.s.cfg.OfferTimeout, func() { r.post(func() { r.route(org) }) })
}

// revoke withdraws an offer and tells the agent why.
func (r *router) revoke(o *offerState, reason string) {
	r.clearOffer(o)
	frame := encode(wire.TypeOfferRevoked, wire.OfferRevoked{Offer: o.id, Reason: reason})
	o.agent.push(frame)
	if reason == "assigned" || reason == "left" {
		r.s.metrics.offers.WithLabelValues("revoked").Inc()
	}
}

func (r *router) clearOffer(o *offerState) {
	o.timer.Stop()
	delete(r.offers, o.id)
	if o.conv.offer == o {
		o.conv.offer = nil
	}
	if o.agent.offer == o {
		o.agent.offer = nil
	}
}

func (r *router) agentState(a *agentState) wire.AgentState {
	return wire.AgentState{Presence: a.effectivePresence(), Load: a.load(), Capacity: a.user.Capacity, OnCall: a.call != nil}
}

func (r *router) pushAgentState(a *agentState) {
	frame := encode(wire.TypeAgentState, r.agentState(a))
	a.push(frame)
}

// position is a conversation's place in its queue (0 when not waiting).
func (r *router) position(cs *convState) int {
	return slices.Index(cs.org.queue, cs) + 1
}

// flush sends what the last command changed: queue positions and supervisor snapshots.
func (r *router) flush() {
	for org := range r.dirty {
		for i, cs := range org.queue {
			if pos := i + 1; cs.sentPos != pos {
				cs.sentPos = pos
				frame := encode(wire.TypeQueuePosition, wire.QueuePosition{Conv: cs.conv.ID, Position: pos})
				for c := range cs.customers {
					c.push(&out{frame: frame})
				}
			}
		}
		r.s.metrics.queue.WithLabelValues(string(org.id)).Set(float64(len(org.queue)))
		if len(org.watchers) > 0 {
			frame := encode(wire.TypeSupervisorSnapshot, r.snapshot(org))
			for c := range org.watchers {
				c.push(&out{frame: frame})
			}
		}
		delete(r.dirty, org)
	}
}

// snapshot is the supervisor view of org: agents by name, then waiting conversations in queue
// order followed by active ones, oldest first.
func (r *router) snapshot(org *orgState) wire.Snapshot {
	snap := wire.Snapshot{Agents: []wire.AgentSummary{}, Conversations: []wire.Conversation{}}
	var active []*convState
	for _, a := range org.agents {
		snap.Agents = append(snap.Agents, wire.AgentSummary{ID: a.user.ID, DisplayName: a.user.DisplayName, Presence: a.effectivePresence(),
			Load: a.load(), Capacity: a.user.Capacity, Online: a.online, OnCall: a.call != nil})
		for _, cs := range a.convs {
			active = append(active, cs)
		}
	}
	slices.SortFunc(snap.Agents, func(x, y wire.AgentSummary) int {
		return cmp.Or(cmp.Compare(x.DisplayName, y.DisplayName), cmp.Compare(x.ID, y.ID))
	})
	for i, cs := range org.queue {
		conv := cs.conv
		conv.QueuePosition = i + 1
		snap.Conversations = append(snap.Conversations, conv)
	}
	slices.SortFunc(active, func(x, y *convState) int {
		return cmp.Or(cmp.Compare(x.conv.AcceptedAt, y.conv.AcceptedAt), cmp.Compare(x.conv.ID, y.conv.ID))
	})
	for _, cs := range active {
		snap.Conversations = append(snap.Conversations, cs.conv)
	}
	snap.Stats = r.orgStats(org)
	return snap
}

// sortedConvs returns convs oldest first.
func sortedConvs(convs map[wire.ConversationID]*convState) []*convState {
	list := make([]*convState, 0, len(convs))
	for _, cs := range convs {
		list = append(list, cs)
	}
	slices.SortFunc(list, func(x, y *convState) int {
		return cmp.Or(cmp.Compare(x.conv.CreatedAt, y.conv.CreatedAt), cmp.Compare(x.conv.ID, y.conv.ID))
	})
	return list
}
