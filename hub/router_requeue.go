package hub

import (
	"github.com/parleyhq/parley/wire"
)

// An agent who signs out, or whose last connection stays gone past OfflineGrace, leaves their
// customers with nobody. Their conversations go back to the front of the queue (they were already
// being served), each with a system line the customer reads, and routing offers them to the next
// available agent. A call of theirs ends; an offer they were considering moves on. An agent an
// admin disables (removeAgent) takes the same path.

// signOut is an agent signing out (agent.sign_out): they are offline at once, and their
// conversations go back to the queue.
func (r *router) signOut(c *conn, rid string) error {
	return r.call(func() error {
		if c.role != wire.RoleAgent {
			return wire.Errorf(wire.EFORBIDDEN, "only agents sign out of routing")
		}
		org := r.orgs[c.org]
		a := org.agents[c.user.ID]
		if a == nil {
			return wire.Errorf(wire.ENOTFOUND, "no such agent")
		}
		a.online = false
		if a.grace != nil {
			a.grace.Stop()
			a.grace = nil
		}
		n := len(a.convs)
		r.release(org, a, "signed_out")
		r.s.log.Info("agent signed out", "org", org.id, "agent", a.user.ID, "requeued", n)
		ack(c, rid, wire.Ack{})
		return nil
	})
}

// release hands back everything an agent who went offline held: their offer, their calls, their
// conversations (to the front of the queue, oldest first), then routes them.
func (r *router) release(o *orgState, a *agentState, why string) {
	if a.offer != nil {
		r.revoke(a.offer, why)
	}
	r.requeueAll(o, a, why)
	r.pushAgentState(a)
	r.route(o)
	r.dirty[o] = struct{}{}
}

// requeueAll puts every conversation of a back at the front of the queue (they waited already),
// each with its call and visual sessions ended and a system line everyone in it reads.
func (r *router) requeueAll(o *orgState, a *agentState, why string) {
	requeued := make([]*convState, 0, len(a.convs))
	for _, cs := range sortedConvs(a.convs) {
		id := cs.conv.ID
		r.endConvCall(cs, wire.AuthorAgent, why)
		r.endVisuals(cs, "reassigned")
		prev := cs.conv
		cs.conv.State, cs.conv.AgentID, cs.conv.AgentName, cs.conv.AcceptedAt = wire.ConvWaiting, "", "", 0
		ctx, cancel := dbctx()
		err := r.s.store.UpdateConversation(ctx, cs.conv)
		cancel()
		if err != nil {
			// Stored as still the agent's: a restarted hub requeues it (the agent is gone).
			r.s.log.Error("requeueing a conversation", "conv", id, "err", err)
			cs.conv = prev
			continue
		}
		delete(a.convs, id)
		requeued = append(requeued, cs)
		// The agent's other windows (and a reconnecting app) learn it is no longer theirs.
		a.push(encode(wire.TypeConvState, cs.conv))
		r.requeued(cs)
		r.sendConvState(cs)
		r.systemEvent(cs, a.user.DisplayName+" is no longer available; the conversation is back in the queue.",
			&wire.Event{Kind: wire.EventRequeued, Name: a.user.DisplayName})
		r.watchAbandon(cs)
		r.armIdle(cs, false) // waiting: no close for inactivity
		r.s.metrics.conversations.WithLabelValues("requeued").Inc()
		r.s.log.Info("conversation back in the queue", "org", o.id, "conv", id, "agent", a.user.ID, "why", why)
	}
	o.queue = append(requeued, o.queue...)
}
