package hub

import (
	"cmp"
	"slices"
	"time"

	"github.com/parleyhq/parley/hub/store"
	"github.com/parleyhq/parley/wire"
)

// The router's conversations: queueing, who may take part, ending, abandonment, and assignment
// (by an accepted offer or a supervisor).

// enqueue puts a new conversation in its queue (c.Queue, the default one if it went) and
// returns its position there and the conversation as the router keeps it.
func (r *router) enqueue(c wire.Conversation, visit store.Visit, preview string) (wire.QueuePosition, wire.Conversation, error) {
	var qp wire.QueuePosition
	err := r.call(func() error {
		org, err := r.org(c.Org)
		if err != nil {
			return err
		}
		cs := &convState{conv: c, org: org, customers: map[*conn]struct{}{}, visit: visit, preview: preview}
		qs := org.queues[c.Queue]
		if qs == nil {
			qs = org.def
		}
		r.applyQueue(cs, qs)
		// Not connected yet: away until the portal connects (a moment later), gone if it never does.
		cs.conv.Customer, cs.conv.CustomerSince, cs.presenceAt = wire.CustomerAway, c.CreatedAt, r.s.now()
		if cs.conv.ActivityAt == 0 {
			cs.conv.ActivityAt = c.CreatedAt
		}
		r.watchGone(cs, r.s.cfg.CustomerGoneAfter)
		r.convs[c.ID] = cs
		org.queue = append(org.queue, cs)
		r.watchAbandon(cs)
		r.watchWait(cs)
		r.s.metrics.conversations.WithLabelValues("started").Inc()
		r.route(org)
		now := r.s.now()
		qp = r.positionFrame(cs, r.position(cs), now)
		qp.NobodyAvailable = !org.staffed(cs.queue)
		cs.sentPos, cs.sentWait, cs.sentOverflow, cs.sentNobody = qp.Position, qp.EstimatedWaitMS, qp.Overflow, qp.NobodyAvailable
		c = cs.conv
		r.dirty[org] = struct{}{}
		return nil
	})
	return qp, c, err
}

// watchAbandon ends cs as left if it is still waiting with no customer connection after
// AbandonAfter, so agents are not offered chats whose customer has gone.
func (r *router) watchAbandon(cs *convState) {
	if cs.conv.State != wire.ConvWaiting || len(cs.customers) > 0 || cs.abandon != nil || cs.conv.Message {
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
			if err := r.finish(cs, ending{by: wire.AuthorCustomer, reason: wire.EndAbandoned, text: "The customer left the conversation.",
				ev: &wire.Event{Kind: wire.EventLeft}}); err != nil {
				r.s.log.Error("ending an abandoned conversation", "conv", cs.conv.ID, "err", err)
			}
		})
	})
	cs.abandon = t
}

// open finds an open conversation c may take part in. Conversations of other organisations, and
// ones an agent is not assigned, are ErrConvNotFound. One the router does not hold is errNotOpen:
// the connection's own goroutine tells an ended one the caller could see (ErrConvEnded) from the
// rest (conn.notOpen), so the routing loop never reads the store for it.
func (r *router) open(c *conn, id wire.ConversationID) (*convState, error) {
	if id == "" {
		return nil, wire.Errorf(wire.EINVALID, "conv is missing")
	}
	if c.role == wire.RoleCustomer && id != c.conv {
		return nil, ErrConvNotFound
	}
	cs := r.convs[id]
	if cs == nil {
		return nil, &errNotOpen{conv: id}
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
		if t == wire.TypeConvEnd && cs.conv.AgentID != c.user.ID {
			// A supervisor's End would be stored as the agent's: closing someone else's
			// conversation is the team view's Close (supervisor.close), logged as theirs.
			return wire.Errorf(wire.EFORBIDDEN, "only the assigned agent ends a conversation; supervisors close it from the team view")
		}
		e := ending{by: wire.AuthorCustomer, reason: wire.EndByCustomer, text: "The customer left the conversation.", ev: &wire.Event{Kind: wire.EventLeft}}
		if t == wire.TypeConvEnd {
			e = ending{by: wire.AuthorAgent, reason: wire.EndByAgent, text: c.user.DisplayName + " ended the conversation.",
				ev: &wire.Event{Kind: wire.EventEnded, Name: cs.conv.AgentName}}
		}
		if cs.conv.State == wire.ConvWaiting && e.reason == wire.EndByCustomer {
			e.reason = wire.EndAbandoned // left the queue before an agent took it
		}
		if err := r.finish(cs, e); err != nil {
			return err
		}
		ack(c, rid, wire.Ack{Conv: cs.conv.ID, Seq: cs.conv.LastSeq})
		return nil
	})
}

// finish ends a conversation as e says, frees the agent, and tells everyone.
func (r *router) finish(cs *convState, e ending) error {
	org := cs.org
	prev := cs.conv
	by := e.by
	cs.conv.State, cs.conv.EndedAt, cs.conv.EndedBy = wire.ConvEnded, r.s.now().UnixMilli(), by
	cs.conv.EndReason, cs.conv.Outcome = e.reason, e.outcome(cs)
	cs.conv.ClosesAt, cs.conv.CloseWarning = 0, false
	ctx, cancel := dbctx()
	err := r.s.store.UpdateConversation(ctx, cs.conv)
	cancel()
	if err != nil {
		cs.conv = prev
		return err
	}
	r.endVisuals(cs, "conversation_ended")
	r.endConvCall(cs, by, "conversation_ended")
	r.visitLeft(cs, store.VisitEnded)
	r.stopWaitTimers(cs)
	r.systemEvent(cs, e.text, e.ev)
	r.sendConvState(cs)
	r.dropConsultants(cs)
	if o := cs.offer; o != nil {
		r.revoke(o, "left")
	}
	if i := slices.Index(org.queue, cs); i >= 0 {
		org.queue = slices.Delete(org.queue, i, i+1)
	}
	if a := org.agents[cs.conv.AgentID]; a != nil {
		delete(a.convs, cs.conv.ID)
		a.idleSince = r.s.now()
		if prev.State == wire.ConvActive {
			r.startWrapUp(a, cs.conv)
		}
		r.pushAgentState(a)
	}
	if cs.abandon != nil {
		cs.abandon.Stop()
		cs.abandon = nil
	}
	cs.stopIdleTimers()
	r.dropFollowers(cs)
	delete(r.convs, cs.conv.ID)
	r.s.metrics.conversations.WithLabelValues("ended").Inc()
	r.s.log.Info("conversation ended", "org", org.id, "conv", cs.conv.ID, "by", by, "reason", e.reason, "outcome", cs.conv.Outcome)
	r.route(org)
	r.dirty[org] = struct{}{}
	return nil
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
		if !a.online { // nobody would see it: the customer would wait on an empty desk
			return wire.Errorf(wire.EAGENTUNAVAILABLE, "%s is offline", a.user.DisplayName)
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
	now := r.s.now().UnixMilli()
	// Taking a conversation is activity: the close for inactivity waits from now.
	cs.conv.State, cs.conv.AgentID, cs.conv.AgentName, cs.conv.AcceptedAt, cs.conv.ActivityAt = wire.ConvActive, a.user.ID, a.user.DisplayName, now, now
	// The new state and the line that tells the parties go to disk in one commit, all or nothing:
	// the loop waits for each commit, and a durable one costs an fsync.
	joined := wire.Message{Conv: cs.conv.ID, Author: wire.AuthorSystem, Text: a.user.DisplayName + " joined the conversation.",
		Event: &wire.Event{Kind: wire.EventJoined, Name: a.user.DisplayName}}
	ctx, cancel := dbctx()
	start := time.Now()
	stored, err := r.s.store.UpdateConversationWith(ctx, cs.conv, []wire.Message{joined})
	r.s.metrics.storeSeconds.Observe(time.Since(start).Seconds())
	cancel()
	if err != nil {
		cs.conv = prev
		return err
	}
	joined = stored[0].Message
	if prev.State == wire.ConvWaiting {
		r.visitAnswered(cs, a)
	} else if cs.visit.N > 0 {
		cs.visit.Agent = a.user.ID
	}
	r.stopWaitTimers(cs)
	cs.target, cs.overflow, cs.widened = nil, false, false
	if _, ok := cs.consultants[a.user.ID]; ok { // whoever read along and now takes it is its agent
		r.removeConsultant(cs, a.user.ID, false)
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
	r.sendConvState(cs)
	// The parties get the line after the state, as any line stored after it; LastSeq moves only
	// now, so the state frames above carry the seq they carried before the line was stored.
	cs.conv.LastSeq = joined.Seq
	r.s.metrics.messages.WithLabelValues(string(joined.Author)).Inc()
	r.sendMessage(cs, joined)
	r.armIdle(cs, false) // a customer who went while waiting: the close is due from now on
	r.handVisualsTo(cs)
	r.pushAgentState(a)
	r.s.metrics.conversations.WithLabelValues("assigned").Inc()
	r.s.log.Info("conversation assigned", "org", org.id, "conv", cs.conv.ID, "agent", a.user.ID)
	r.route(org)
	r.dirty[org] = struct{}{}
	return nil
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
