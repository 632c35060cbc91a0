package hub

import (
	"context"
	"errors"
	"time"

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
	// visits stores queue visits for it, off the loop.
	visits *visitWriter

	// orgs are the organisations seen so far, with their members.
	orgs map[wire.OrgID]*orgState
	// convs are the open (waiting or active) conversations.
	convs map[wire.ConversationID]*convState
	// offers are the offers awaiting an answer.
	offers map[wire.OfferID]*offerState
	// conns are the registered connections.
	conns map[*conn]struct{}
	// following maps a supervisor's connection to the conversation it follows live
	// (router_watch.go).
	following map[*conn]*convState
	// monitors are the supervisors' legs on calls by id, monitoring the same by the supervisor's
	// connection (monitor.go).
	monitors   map[wire.MonitorID]*monitorState
	monitoring map[*conn]*monitorState
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
	// loadedAt is when the router picked up the open conversations: no conversation closes for
	// inactivity before its customer had CustomerGoneAfter to reconnect (router_idle.go).
	loadedAt time.Time
	// loaded is set once load has picked up the open conversations.
	loaded bool
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
	// queues are its queues by id, order them as the admin does, def is the default one
	// (routing.go); prechat is the question asked before a chat.
	queues  map[wire.QueueID]*queueState
	order   []*queueState
	def     *queueState
	prechat wire.Prechat
	// skills are the skills of members who are not agents (kept for if they become one).
	skills map[wire.UserID]map[string]int
	// members are the connections of every signed-in member by user, for those reading along
	// (routing_consult.go).
	members map[wire.UserID]map[*conn]struct{}
	// people are the organisation's members of every role, by id (names of those reading along).
	people map[wire.UserID]store.User
	// openVisits are the stored open queue visits, until load gives them to their conversations.
	openVisits map[wire.ConversationID]store.Visit
	// free is route's scratch list of the agents who can take a chat, kept to spare an
	// allocation per pass.
	free []*agentState
	// stats are the supervisor's figures, read at statsAt; nil when they must be read again.
	// They are read off the loop (router_snapshot.go): statsGen counts the times they were
	// dropped, so a read that started before a drop is not kept; statsReading is set while one runs.
	stats        *wire.Stats
	statsAt      time.Time
	statsGen     uint64
	statsReading bool
	// autoClose is the organisation's auto-close time; 0 means the hub's default.
	autoClose time.Duration
	// wrap is the organisation's wrap-up step (wrapup.go).
	wrap wire.WrapUpSettings
	// recording is the organisation's recording setting (recording.go).
	recording wire.RecordingSettings
	// monitoring is the organisation's monitoring setting (monitor_notice.go).
	monitoring wire.MonitoringSettings
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
	// skills are the agent's skills and their levels.
	skills map[string]int
	// org is the agent's organisation.
	org *orgState
	// wrapping are the ended conversations the agent is wrapping up (wrapup.go).
	wrapping map[wire.ConversationID]*wrapState
	// waiting is how many customers wait in the agent's queues, as last sent.
	waiting int
	// setup is the agent's last "Test my setup" (nettest.go); nil for none.
	setup *wire.SetupResult
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
	// hidden are the customer's connections whose tab is hidden (router_idle.go).
	hidden map[*conn]struct{}
	// gone fires CustomerGoneAfter after the customer's last connection went: they are gone.
	gone Timer
	// presenceLater passes on a visibility change that came too soon after the last one.
	presenceLater Timer
	// presenceAt is when the customer's presence last changed.
	presenceAt time.Time
	// idle fires at the inactivity warning, then at the close; nil while none is due.
	idle Timer
	// answered is true once the agent wrote: an end other than the agent's is then resolved.
	answered bool

	// queue is the queue it waits in (or was taken from); visit is its current stay there.
	queue *queueState
	visit store.Visit
	// widened is true once it may go to agents without its skills; overflow once it waited
	// the queue's maximum. widenTimer and maxWaitTimer set them.
	widened, overflow        bool
	widenTimer, maxWaitTimer Timer
	// target is the agent a transfer named: only they are offered it, once.
	target *agentState
	// consultants are the members reading along, with who invited them.
	consultants map[wire.UserID]*consultant
	// followers are the supervisors' connections following it live (router_watch.go); nil
	// until one does.
	followers map[*conn]struct{}
	// customerTyping is the customer's last typing indicator; agentTyping names the member whose
	// last indicator said they type ("" when nobody does).
	customerTyping bool
	agentTyping    wire.UserID
	// sentWait and sentOverflow are the estimate and overflow last sent to the customer.
	sentWait     int64
	sentOverflow bool
	// sentNobody is the NobodyAvailable last sent to the customer.
	sentNobody bool
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
	r := &router{
		s:          s,
		cmds:       make(chan func(), 64),
		sends:      make(chan *sendReq, maxBatch),
		quit:       make(chan struct{}),
		done:       make(chan struct{}),
		orgs:       map[wire.OrgID]*orgState{},
		convs:      map[wire.ConversationID]*convState{},
		offers:     map[wire.OfferID]*offerState{},
		conns:      map[*conn]struct{}{},
		dirty:      map[*orgState]struct{}{},
		following:  map[*conn]*convState{},
		monitors:   map[wire.MonitorID]*monitorState{},
		monitoring: map[*conn]*monitorState{},
		calls:      map[wire.CallID]*callState{},
		callm:      newCallMetrics(s.metrics.reg),
		visits:     newVisitWriter(s.store, s.log),
	}
	s.metrics.reg.MustRegister(newQueueCollector(r))
	return r
}

// load picks up the conversations that were open when the hub last stopped. It runs before run.
func (r *router) load(ctx context.Context) error {
	if r.s.cluster != nil {
		// A cluster node loads each organisation when it takes it (adopt).
		r.loadedAt, r.loaded = r.s.now(), true
		return nil
	}
	if err := r.endCallsAtStart(); err != nil {
		return err
	}
	r.loadedAt = r.s.now()
	convs, err := r.s.store.OpenConversations(ctx)
	if err != nil {
		return err
	}
	return r.restore(ctx, convs)
}

// orgLoader is what a cluster node's store offers to load one organisation (hub/postgres).
type orgLoader interface {
	OpenConversationsOf(ctx context.Context, org wire.OrgID) ([]wire.Conversation, error)
	OpenCallsOf(ctx context.Context, org wire.OrgID) ([]store.CallRecord, error)
}

// adopt loads org's open conversations, as load does at start, when a cluster node takes the
// organisation over, and keeps its calls in progress (adoptCalls): their media runs between the
// parties, who reconnect their signalling to this node.
func (r *router) adopt(org wire.OrgID) error {
	ol, ok := r.s.store.(orgLoader)
	if !ok {
		return errors.New("hub: the store cannot load one organisation")
	}
	return r.call(func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		convs, err := ol.OpenConversationsOf(ctx, org)
		if err != nil {
			return err
		}
		calls, err := ol.OpenCallsOf(ctx, org)
		if err != nil {
			return err
		}
		if _, err := r.org(org); err != nil {
			return err
		}
		fresh := convs[:0]
		for _, c := range convs {
			if r.convs[c.ID] == nil {
				fresh = append(fresh, c)
			}
		}
		r.loadedAt = r.s.now()
		if err := r.restore(ctx, fresh); err != nil {
			return err
		}
		r.adoptCalls(calls)
		return nil
	})
}

// restore picks up open conversations from the store: the active ones back with their agents,
// the others in their queues.
func (r *router) restore(ctx context.Context, convs []wire.Conversation) error {
	ids := make([]wire.ConversationID, len(convs))
	for i, c := range convs {
		ids[i] = c.ID
	}
	routings, err := r.s.store.ConvRoutings(ctx, ids)
	if err != nil {
		return err
	}
	for _, c := range convs {
		org, err := r.org(c.Org)
		if err != nil {
			return err
		}
		cs := &convState{conv: c, org: org, customers: map[*conn]struct{}{}}
		r.restoreRouting(cs, routings[c.ID])
		r.convs[c.ID] = cs
		if a := org.agents[c.AgentID]; c.State == wire.ConvActive && a != nil {
			a.convs[c.ID] = cs
		} else {
			// Waiting, or active with an agent who no longer exists: back to the queue.
			cs.conv.State, cs.conv.AgentID, cs.conv.AgentName = wire.ConvWaiting, "", ""
			org.queue = append(org.queue, cs)
			r.watchAbandon(cs)
			r.watchWait(cs)
		}
		if err := r.loadPresence(cs); err != nil {
			return err
		}
	}
	for _, o := range r.orgs {
		o.openVisits = nil
	}
	r.loaded = true
	return r.loadConsultants(ctx)
}

// run executes commands until stop.
func (r *router) run() {
	defer close(r.done)
	for {
		select {
		case f := <-r.cmds:
			start := time.Now()
			f()
			r.flush()
			r.s.metrics.routerBusy.Add(time.Since(start).Seconds())
		case req := <-r.sends:
			start := time.Now()
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
			r.s.metrics.routerBusy.Add(time.Since(start).Seconds())
		case <-r.quit:
			for _, o := range r.offers {
				o.timer.Stop()
			}
			r.stopCallTimers()
			for _, cs := range r.convs {
				if cs.abandon != nil {
					cs.abandon.Stop()
				}
				cs.stopIdleTimers()
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

// call runs f on the router goroutine and returns its error, or ErrClosed when the router ends
// first (a command still in the buffer when it stops is never run).
func (r *router) call(f func() error) error {
	res := make(chan error, 1)
	select {
	case r.cmds <- func() { res <- f() }:
	case <-r.quit:
		return ErrClosed
	}
	return r.await(res)
}

// await returns what res receives, or ErrClosed when the router has ended without answering.
func (r *router) await(res <-chan error) error {
	select {
	case err := <-res:
		return err
	case <-r.done:
		select {
		case err := <-res:
			return err
		default:
			return ErrClosed
		}
	}
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
	setups, err := r.s.store.SetupResults(ctx, id)
	if err != nil {
		r.s.log.Warn("reading the agents' last setup checks; the team view shows none until the next", "org", id, "err", err)
	}
	autoClose, err := r.s.autoCloseSetting(ctx, id)
	if err != nil {
		r.s.log.Warn("reading the auto-close setting; the default applies", "org", id, "err", err)
	}
	wrap, err := r.s.wrapUpSetting(ctx, id)
	if err != nil {
		r.s.log.Warn("reading the wrap-up setting; the default applies", "org", id, "err", err)
	}
	recording, err := r.s.recordingSettings(ctx, id)
	if err != nil {
		r.s.log.Warn("reading the recording setting; calls are not recorded", "org", id, "err", err)
	}
	monitoring, err := r.s.monitoringSettings(ctx, id)
	if err != nil {
		r.s.log.Warn("reading the monitoring setting; legs are told as without a notice", "org", id, "err", err)
	}
	o := &orgState{id: id, rec: rec, agents: map[wire.UserID]*agentState{}, watchers: map[*conn]struct{}{}, autoClose: autoClose, wrap: wrap,
		recording: recording, monitoring: monitoring,
		members: map[wire.UserID]map[*conn]struct{}{}, people: map[wire.UserID]store.User{}}
	for _, u := range users {
		o.people[u.ID] = u
		if a := r.addAgent(o, u); a != nil {
			if res, ok := setups[u.ID]; ok {
				a.setup = &res
			}
		}
	}
	if err := r.loadRouting(ctx, o); err != nil {
		return nil, err
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
	a := &agentState{user: u, presence: wire.PresenceAvailable, conns: map[*conn]struct{}{}, convs: map[wire.ConversationID]*convState{},
		skills: o.skills[u.ID], org: o}
	if a.skills == nil {
		a.skills = map[string]int{}
	}
	delete(o.skills, u.ID)
	o.agents[u.ID] = a
	return a
}

// memberAdded tells the router about a member created while it runs.
func (r *router) memberAdded(u store.User) {
	_ = r.call(func() error {
		if o := r.orgs[u.Org]; o != nil {
			o.people[u.ID] = u
			r.addAgent(o, u)
			r.dirty[o] = struct{}{}
		}
		return nil
	})
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

func encode(t wire.Type, payload any) []byte {
	frame, _ := wire.Encode(t, "", payload)
	return frame
}

func ack(c *conn, rid string, a wire.Ack) {
	if rid != "" {
		c.pushFrame(wire.TypeAck, rid, a)
	}
}
