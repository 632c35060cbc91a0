package hub

import (
	"errors"

	"github.com/coder/websocket"
	"github.com/parleyhq/parley/wire"
)

// The router's connections: registering a welcomed connection (welcome, replays, the state it
// must know) and forgetting one that has gone.

// register adds a welcomed connection and queues its Welcome, the replay of what it missed, and
// the state it must know (agent state, pending offer, receipts, snapshot). A customer whose
// conversation has ended is welcomed with it as stored, read here and not on the routing loop.
func (r *router) register(c *conn, resume map[wire.ConversationID]int64) error {
	err := r.register1(c, resume, nil)
	var no *errNotOpen
	if !errors.As(err, &no) {
		return err
	}
	ctx, cancel := dbctx()
	conv, err := r.s.store.Conversation(ctx, c.conv)
	cancel()
	if err != nil {
		return err
	}
	return r.register1(c, resume, &conv)
}

// register1 is register on the loop, given the customer's conversation as stored when it is no
// longer open (nil: errNotOpen asks for it).
func (r *router) register1(c *conn, resume map[wire.ConversationID]int64, ended *wire.Conversation) error {
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
				conv := customerConv(cs.conv)
				conv.QueuePosition = r.position(cs)
				follow(conv)
			} else {
				if ended == nil {
					return &errNotOpen{conv: c.conv}
				}
				follow(*ended)
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
			for _, cs := range r.consulting(org, c.user.ID) {
				follow(cs.conv)
			}
		default:
			u := c.user.Wire()
			welcome.User = &u
			org.watchers[c] = struct{}{}
			for _, cs := range r.consulting(org, c.user.ID) {
				follow(cs.conv)
			}
		}
		if c.role != wire.RoleCustomer {
			if org.members[c.user.ID] == nil {
				org.members[c.user.ID] = map[*conn]struct{}{}
			}
			org.members[c.user.ID][c] = struct{}{}
		}
		r.conns[c] = struct{}{}
		c.pushFrame(wire.TypeWelcome, "", welcome)
		if len(replays) > 0 {
			c.push(&out{replay: replays})
		}
		if len(welcome.Conversations) > 0 {
			ids := make([]wire.ConversationID, len(welcome.Conversations))
			for i, conv := range welcome.Conversations {
				ids[i] = conv.ID
			}
			c.push(&out{receipts: ids}) // the writer reads them, after the replay
		}
		r.pushCalls(c)
		r.pushVisuals(c, welcome.Conversations)
		switch {
		case c.role == wire.RoleCustomer:
			if cs := r.convs[c.conv]; cs != nil && welcome.Conversations[0].State == wire.ConvWaiting {
				qp := r.positionFrame(cs, welcome.Conversations[0].QueuePosition, r.s.now())
				qp.NobodyAvailable = !cs.org.staffed(cs.queue)
				c.pushFrame(wire.TypeQueuePosition, "", qp)
			}
			if cs := r.convs[c.conv]; cs != nil {
				// After the welcome and the replay, so a customer who comes back gets the line live.
				r.customerChanged(cs, false)
			}
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

// unregister forgets a connection that has gone.
func (r *router) unregister(c *conn) {
	_ = r.call(func() error {
		if _, ok := r.conns[c]; !ok {
			return nil
		}
		delete(r.conns, c)
		r.unwatch(c)
		if m := r.monitoring[c]; m != nil {
			r.endMonitor(m, "supervisor_gone") // the call goes on
		}
		org := r.orgs[c.org]
		if c.role != wire.RoleCustomer {
			delete(org.members[c.user.ID], c)
			if len(org.members[c.user.ID]) == 0 {
				delete(org.members, c.user.ID)
			}
		}
		switch c.role {
		case wire.RoleCustomer:
			if cs := r.convs[c.conv]; cs != nil {
				delete(cs.customers, c)
				delete(cs.hidden, c)
				if len(cs.customers) == 0 && cs.customerTyping {
					// Gone mid-word: those reading along stop seeing them type.
					cs.customerTyping = false
					r.toFollowers(cs)
				}
				r.watchAbandon(cs)
				r.customerChanged(cs, false)
				r.callPartyLeft(cs, nil)
			}
		case wire.RoleAgent:
			a := org.agents[c.user.ID]
			if a == nil {
				return nil // no longer an agent (disabled, or given another role)
			}
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
						// Gone for good: their offer, call and chats go to others.
						r.release(org, a, "offline")
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
		code, reason := websocket.StatusGoingAway, "hub shutting down"
		if r.s.cluster != nil { // another node takes over: come back at once
			code, reason = StatusReconnect, "hub node draining"
		}
		for c := range r.conns {
			go func() {
				_ = c.ws.Close(code, reason)
				c.kill()
			}()
		}
		return nil
	})
}
