package hub

import (
	"errors"
	"time"

	"github.com/parleyhq/parley/hub/store"
	"github.com/parleyhq/parley/wire"
)

// The router's customer presence and closing after inactivity (wire/presence.go). The customer is
// here while one of their connections shows the chat, away while all hide it or just after the
// last one went, and gone once no connection came back for CustomerGoneAfter. While the customer
// of an active conversation is gone and nobody writes, the conversation closes after the
// organisation's auto-close time, with a warning to the agent a little before. Presence and the
// last activity are stored, so a restarted hub rebuilds every deadline.

// presenceEvery bounds how often a customer's tab visibility is passed on to the agent and the
// supervisors, so a tab toggled in a loop floods nobody.
const presenceEvery = time.Second

// ending is how a conversation ends: who ended it, why, and the transcript's line.
type ending struct {
	by     wire.Author
	reason wire.EndReason
	text   string
	ev     *wire.Event
}

// outcome is how cs ended, for the reports: the agent's End resolves it; otherwise it is
// resolved when the agent had answered and abandoned when not.
func (e ending) outcome(cs *convState) wire.ConvOutcome {
	if e.reason == wire.EndByAgent || cs.answered {
		return wire.OutcomeResolved
	}
	return wire.OutcomeAbandoned
}

// customerChanged works out the customer's presence after a connection came, went, or said its
// tab is hidden or shown (visibility), and passes a change on.
func (r *router) customerChanged(cs *convState, visibility bool) {
	now := r.s.now()
	if len(cs.customers) == 0 {
		// The last connection went: away at once (last seen now), gone if none comes back.
		stopTimer(&cs.presenceLater)
		if cs.conv.Customer == wire.CustomerGone || cs.gone != nil {
			return
		}
		r.watchGone(cs, r.s.cfg.CustomerGoneAfter) // scheduled before anyone hears of it
		r.setCustomer(cs, wire.CustomerAway, now, true)
		return
	}
	connected := stopTimer(&cs.gone) || cs.conv.Customer == wire.CustomerGone || cs.conv.Customer == ""
	p := wire.CustomerAway
	for c := range cs.customers {
		if _, hidden := cs.hidden[c]; !hidden {
			p = wire.CustomerHere
			break
		}
	}
	if connected {
		// Back from no connection: passed on at once, and stored (the hub must not count a
		// customer who came back as gone after a restart).
		stopTimer(&cs.presenceLater)
		r.setCustomer(cs, p, now, true)
		return
	}
	if p == cs.conv.Customer {
		stopTimer(&cs.presenceLater)
		return
	}
	if wait := presenceEvery - now.Sub(cs.presenceAt); visibility && wait > 0 {
		if cs.presenceLater == nil {
			var t Timer
			t = r.s.cfg.AfterFunc(wait, func() {
				r.post(func() {
					if cs.presenceLater != t || r.convs[cs.conv.ID] != cs {
						return
					}
					cs.presenceLater = nil
					r.customerChanged(cs, true)
				})
			})
			cs.presenceLater = t
		}
		return
	}
	r.setCustomer(cs, p, now, false)
}

// watchGone makes the customer gone after d with no connection.
func (r *router) watchGone(cs *convState, d time.Duration) {
	var t Timer
	t = r.s.cfg.AfterFunc(d, func() {
		r.post(func() {
			if cs.gone != t || r.convs[cs.conv.ID] != cs || len(cs.customers) > 0 {
				return
			}
			cs.gone = nil
			// Gone since they were last seen, not since the grace ran out.
			r.setCustomer(cs, wire.CustomerGone, time.UnixMilli(cs.conv.CustomerSince), true)
		})
	})
	cs.gone = t
}

// setCustomer records the customer's presence p since since, stores it when save is set, writes
// the transcript line when an active conversation's customer goes or comes back, and tells the
// agent and the supervisors.
func (r *router) setCustomer(cs *convState, p wire.CustomerPresence, since time.Time, save bool) {
	prev := cs.conv.Customer
	cs.conv.Customer, cs.conv.CustomerSince = p, since.UnixMilli()
	cs.presenceAt = r.s.now()
	if save {
		r.saveConv(cs)
	}
	if cs.conv.State == wire.ConvActive {
		switch {
		case p == wire.CustomerGone && prev != wire.CustomerGone:
			r.systemEvent(cs, "The customer has left the chat.", &wire.Event{Kind: wire.EventCustomerGone})
		case prev == wire.CustomerGone && p != wire.CustomerGone:
			r.systemEvent(cs, "The customer is back.", &wire.Event{Kind: wire.EventCustomerBack})
		}
	}
	r.s.log.Debug("customer presence", "org", cs.org.id, "conv", cs.conv.ID, "customer", p)
	r.armIdle(cs, true)
}

// saveConv stores cs's conversation as the router holds it; a failure is logged (the state in
// memory stays right, and the next save carries it).
func (r *router) saveConv(cs *convState) {
	ctx, cancel := dbctx()
	err := r.s.store.UpdateConversation(ctx, cs.conv)
	cancel()
	if err != nil {
		r.s.log.Error("storing a conversation", "conv", cs.conv.ID, "err", err)
	}
}

// customerPresence is the customer's tab saying whether it is hidden.
func (r *router) customerPresence(c *conn, rid string, m wire.CustomerPresenceSet) error {
	return r.call(func() error {
		if c.role != wire.RoleCustomer {
			return wire.Errorf(wire.EFORBIDDEN, "only the customer reports their presence")
		}
		cs, err := r.open(c, m.Conv)
		if err != nil {
			return err
		}
		if _, ok := cs.customers[c]; !ok {
			return nil // the connection is going
		}
		if m.Hidden {
			if cs.hidden == nil {
				cs.hidden = map[*conn]struct{}{}
			}
			cs.hidden[c] = struct{}{}
		} else {
			delete(cs.hidden, c)
		}
		r.customerChanged(cs, true)
		ack(c, rid, wire.Ack{})
		return nil
	})
}

// autoCloseAfter is how long cs stays open with its customer gone and nobody writing: its queue's
// setting, else the organisation's, else the hub's default.
func (r *router) autoCloseAfter(cs *convState) time.Duration {
	if cs.queue != nil && cs.queue.q.AutoCloseS > 0 {
		return time.Duration(cs.queue.q.AutoCloseS) * time.Second
	}
	if d := cs.org.autoClose; d > 0 {
		return d
	}
	return r.s.cfg.AutoCloseAfter
}

// closeWarning is how long before the close the agent is warned: AutoCloseWarning, at most half
// of the auto-close time.
func (r *router) closeWarning(after time.Duration) time.Duration {
	return min(r.s.cfg.AutoCloseWarning, after/2)
}

// busy says whether cs has a call or a visual engagement in progress: it never closes then.
func (r *router) busy(cs *convState) bool {
	if cs.call != nil {
		return true
	}
	for _, vs := range r.visuals {
		if vs.cs == cs && vs.v.State != wire.VisualEnded {
			return true
		}
	}
	return false
}

// armIdle schedules (or cancels) cs's close for inactivity from what the router knows now, and
// tells the agent and the supervisors when the schedule or the warning changed (or always, when
// tell is set and the conversation changed otherwise).
func (r *router) armIdle(cs *convState, tell bool) {
	stopTimer(&cs.idle)
	var closesAt, warnAt time.Time
	if cs.conv.State == wire.ConvActive && cs.conv.Customer == wire.CustomerGone && !r.busy(cs) {
		after := r.autoCloseAfter(cs)
		from := time.UnixMilli(max(cs.conv.CustomerSince, cs.conv.ActivityAt))
		closesAt = from.Add(after)
		if floor := r.loadedAt.Add(r.s.cfg.CustomerGoneAfter); closesAt.Before(floor) {
			// Restarted after the deadline: give the customer the time to reconnect first.
			closesAt = floor
		}
		warnAt = closesAt.Add(-r.closeWarning(after))
	}
	now := r.s.now()
	var at int64
	if !closesAt.IsZero() {
		at = closesAt.UnixMilli()
	}
	warn := at > 0 && !now.Before(warnAt)
	if cs.conv.ClosesAt != at || cs.conv.CloseWarning != warn {
		cs.conv.ClosesAt, cs.conv.CloseWarning, tell = at, warn, true
		if warn {
			r.s.log.Info("conversation closes soon for inactivity", "org", cs.org.id, "conv", cs.conv.ID, "at", closesAt)
		}
	}
	if tell {
		// Told after the timer is set (below), so whoever hears of it can count on it.
		defer func() {
			r.toMembers(cs, encode(wire.TypeConvState, cs.conv)) // the agent and any consultants
			r.dirty[cs.org] = struct{}{}
		}()
	}
	if at == 0 {
		return
	}
	next := closesAt
	if !warn {
		next = warnAt
	}
	var t Timer
	t = r.s.cfg.AfterFunc(max(next.Sub(now), 0), func() {
		r.post(func() {
			if cs.idle != t || r.convs[cs.conv.ID] != cs {
				return
			}
			cs.idle = nil
			if r.s.now().Before(closesAt) || r.busy(cs) || cs.conv.State != wire.ConvActive || cs.conv.Customer != wire.CustomerGone {
				r.armIdle(cs, false) // the warning; or a call started, or the chat went back to the queue
				return
			}
			r.s.log.Info("closing a conversation after inactivity", "org", cs.org.id, "conv", cs.conv.ID, "agent", cs.conv.AgentID)
			if err := r.finish(cs, ending{by: wire.AuthorSystem, reason: wire.EndInactivity, text: "Closed after inactivity.",
				ev: &wire.Event{Kind: wire.EventIdleClosed}}); err != nil {
				r.s.log.Error("closing a conversation after inactivity", "conv", cs.conv.ID, "err", err)
				r.armIdle(cs, false)
			}
		})
	})
	cs.idle = t
}

// touch records activity in cs now (the agent kept it open, a call or co-browse ended) and
// schedules its close again.
func (r *router) touch(cs *convState) {
	if r.convs[cs.conv.ID] != cs || cs.conv.State != wire.ConvActive {
		return
	}
	cs.conv.ActivityAt = r.s.now().UnixMilli()
	r.saveConv(cs)
	r.armIdle(cs, false)
}

// keepOpen is the agent's answer to the warning: the conversation stays, and the wait starts
// again.
func (r *router) keepOpen(c *conn, rid string, id wire.ConversationID) error {
	return r.call(func() error {
		if c.role != wire.RoleAgent {
			return wire.Errorf(wire.EFORBIDDEN, "only the agent keeps a conversation open")
		}
		cs, err := r.open(c, id)
		if err != nil {
			return err
		}
		r.touch(cs)
		r.s.log.Info("agent kept a conversation open", "org", cs.org.id, "conv", cs.conv.ID, "agent", c.user.ID)
		ack(c, rid, wire.Ack{Conv: cs.conv.ID})
		return nil
	})
}

// supervisorClose is a supervisor ending an open conversation, e.g. one whose customer has gone.
func (r *router) supervisorClose(c *conn, rid string, id wire.ConversationID) error {
	return r.call(func() error {
		if c.role != wire.RoleSupervisor && c.role != wire.RoleAdmin {
			return wire.Errorf(wire.EFORBIDDEN, "only supervisors close conversations")
		}
		cs, err := r.open(c, id)
		if err != nil {
			return err
		}
		name := c.user.DisplayName
		if err := r.finish(cs, ending{by: wire.AuthorSystem, reason: wire.EndBySupervisor, text: name + " (supervisor) closed the conversation.",
			ev: &wire.Event{Kind: wire.EventSupervisorClosed, Name: name}}); err != nil {
			return err
		}
		r.s.log.Info("supervisor closed a conversation", "org", cs.org.id, "conv", cs.conv.ID, "by", c.user.ID)
		ack(c, rid, wire.Ack{Conv: cs.conv.ID, Seq: cs.conv.LastSeq})
		return nil
	})
}

// loadPresence sets up a conversation the hub found open at start: no customer is connected yet.
// One already gone keeps the time they left, and the close is scheduled from it. One away (their
// last connection went, or the hub stopped gracefully under them) was last seen then. One whose
// presence is unknown (the hub stopped without saying goodbye, or the conversation predates
// presence) was last seen, as far as the hub knows, when someone last wrote. Either way they have
// CustomerGoneAfter to reconnect before they count as gone, and no chat closes before that.
func (r *router) loadPresence(cs *convState) error {
	ctx, cancel := dbctx()
	_, err := r.s.store.FirstMessage(ctx, cs.conv.ID, wire.AuthorAgent)
	cancel()
	switch {
	case err == nil:
		cs.answered = true
	case !errors.Is(err, store.ErrNotFound):
		return err
	}
	if cs.conv.ActivityAt == 0 {
		cs.conv.ActivityAt = cs.conv.CreatedAt
	}
	switch cs.conv.Customer {
	case wire.CustomerGone:
	case wire.CustomerAway:
		// Last seen when the last connection went (a graceful stop records it for everyone).
		r.watchGone(cs, r.s.cfg.CustomerGoneAfter)
	default:
		cs.conv.Customer, cs.conv.CustomerSince = wire.CustomerAway, min(cs.conv.ActivityAt, r.loadedAt.UnixMilli())
		r.watchGone(cs, r.s.cfg.CustomerGoneAfter)
	}
	r.armIdle(cs, false)
	return nil
}

// stopIdleTimers stops cs's presence and inactivity timers (it ended, or the router stops).
func (cs *convState) stopIdleTimers() {
	stopTimer(&cs.gone)
	stopTimer(&cs.idle)
	stopTimer(&cs.presenceLater)
}

// stopTimer stops *t if set, clears it, and reports whether one was set.
func stopTimer(t *Timer) bool {
	if *t == nil {
		return false
	}
	(*t).Stop()
	*t = nil
	return true
}
