package hub

import (
	"cmp"
	"slices"
	"time"

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
				a.waiting = 0 // offered them instead
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

// route offers waiting conversations, in queue order, to the agents who can take a chat now:
// for each, the best of them for it (routing.go, pick). An agent gets one offer at a time, so
// each offer takes its agent out of the running for the rest of this pass.
func (r *router) route(org *orgState) {
	start := time.Now()
	defer func() { r.s.metrics.routeSeconds.Observe(time.Since(start).Seconds()) }()
	free := org.free[:0]
	for _, a := range org.agents {
		if a.canTake() {
			free = append(free, a)
		}
	}
	defer func() { clear(free); org.free = free[:0] }()
	if len(free) == 0 {
		return
	}
	now := r.s.now()
	for _, cs := range org.queue {
		if cs.offer != nil {
			continue
		}
		if best := r.pick(cs, free, now); best != nil {
			r.offer(cs, best)
			i := slices.Index(free, best)
			free = slices.Delete(free, i, i+1)
			if len(free) == 0 {
				return
			}
		}
	}
}

// better orders candidate agents: most free capacity, then idle longest, then by id.
func better(a, b *agentState) bool {
	if c := cmp.Compare(a.free(), b.free()); c != 0 {
		return c > 0
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
	c := o.conv.conv
	return wire.Offer{ID: o.id, Conv: c.ID, CustomerName: c.CustomerName, Preview: o.conv.preview, ExpiresAt: o.expires.UnixMilli(),
		Queue: c.Queue, QueueName: c.QueueName, Transfer: c.Transfer, Message: c.Message}
}

// expire moves a lapsed offer on to the next agent.
func (r *router) expire(id wire.OfferID) {
	o := r.offers[id]
	if o == nil {
		return
	}
	o.conv.passOver(o.agent, r.s.now().Add(r.s.cfg.OfferTimeout))
	r.withdraw(o, "timeout")
	r.s.metrics.offers.WithLabelValues("timeout").Inc()
	r.retryLater(o.conv.org)
	r.dirty[o.conv.org] = struct{}{}
}

// withdraw takes an offer back from its agent, routes the conversation again (the caller has
// made sure that agent is not picked) and tells the agent why and, truthfully, where it went:
// Next is "agent" when another agent was offered it now, "queue" when it waits for one.
func (r *router) withdraw(o *offerState, reason string) {
	r.clearOffer(o)
	r.route(o.conv.org)
	next := "queue"
	if o.conv.offer != nil {
		next = "agent"
	}
	o.agent.push(encode(wire.TypeOfferRevoked, wire.OfferRevoked{Offer: o.id, Reason: reason, Next: next}))
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
	if o.conv.target == o.agent {
		// A transfer names its agent for one offer: taken or not, the conversation is its
		// queue's again.
		o.conv.target = nil
	}
	if o.agent.offer == o {
		o.agent.offer = nil
	}
}

func (r *router) agentState(a *agentState) wire.AgentState {
	return wire.AgentState{Presence: a.effectivePresence(), Load: a.load(), Capacity: a.user.Capacity, OnCall: a.call != nil,
		WrapUp: a.wrapDue(), WrapCodes: a.org.wrap.Codes, Waiting: a.waiting}
}

func (r *router) pushAgentState(a *agentState) {
	frame := encode(wire.TypeAgentState, r.agentState(a))
	a.push(frame)
}
