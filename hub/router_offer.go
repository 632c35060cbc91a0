package hub

import (
	"cmp"

	"github.com/parleyhq/parley/wire"
)

// The router's offers: presence, choosing an agent for each waiting conversation, and an offer's
// life (answered, expired, revoked).

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
