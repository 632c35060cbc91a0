package hub

import (
	"slices"
	"strings"

	"github.com/parleyhq/parley/hub/store"
	"github.com/parleyhq/parley/wire"
)

// Transfer: the assigned agent (or a supervisor) moves a conversation to a queue or to a named
// agent, with a note the next agent reads first. The conversation stays the same: its id,
// transcript, sequence numbers, the customer's connections and any active co-browse or screen
// share. It waits again (at the front of the queue it goes to: its customer has waited once
// already), is offered like any other, and the customer reads one line about it.
//
// A call cannot move with it: the call ends for the first agent and the next one is asked to call
// back (TransferInfo.CallBack). A live call handed over would take the next agent's whole
// capacity before they accepted anything, and their app would have to join media negotiated with
// someone else; calling back takes one click and the customer's browser rings as for any call.

// ErrQueueClosed refuses a transfer to a queue outside its working hours.
var ErrQueueClosed = &wire.Error{Code: wire.EQUEUECLOSED, Message: "the queue is closed now (outside its working hours)"}

// ErrAgentUnavailable refuses a transfer to an agent who cannot take it now.
var ErrAgentUnavailable = &wire.Error{Code: wire.EAGENTUNAVAILABLE, Message: "the agent is not available"}

// transfer moves a conversation; nothing moves when it is refused.
func (r *router) transfer(c *conn, rid string, t wire.Transfer) error {
	return r.call(func() error {
		if c.role == wire.RoleCustomer {
			return ErrConvNotFound
		}
		cs, err := r.open(c, t.Conv) // an agent transfers their own conversations only
		if err != nil {
			return err
		}
		org := cs.org
		if cs.conv.State == wire.ConvWaiting && c.role == wire.RoleAgent {
			return ErrConvNotFound
		}
		now := r.s.now()
		// Where to: check everything before anything moves.
		dest, target, to := cs.queue, (*agentState)(nil), ""
		if t.Queue != "" {
			if dest = org.queues[t.Queue]; dest == nil {
				return wire.Errorf(wire.ENOTFOUND, "no such queue")
			}
			if !dest.isOpen(now) {
				return ErrQueueClosed
			}
			to = dest.q.Name
		} else {
			target = org.agents[t.Agent]
			switch {
			case target == nil:
				return wire.Errorf(wire.ENOTFOUND, "no such agent")
			case target.user.ID == cs.conv.AgentID:
				return wire.Errorf(wire.EINVALID, "the conversation is already theirs")
			case !target.online || target.presence != wire.PresenceAvailable:
				return wire.Errorf(wire.EAGENTUNAVAILABLE, "%s is %s", target.user.DisplayName, target.effectivePresence())
			case target.load()+unitsChat > target.user.Capacity:
				return wire.Errorf(wire.EAGENTUNAVAILABLE, "%s has no free capacity", target.user.DisplayName)
			}
			to = target.user.DisplayName
		}
		from := org.agents[cs.conv.AgentID]
		prev := cs.conv
		info := &wire.TransferInfo{From: c.user.ID, FromName: c.user.DisplayName, To: to, Note: t.Note, At: now.UnixMilli()}
		if cl := cs.call; cl != nil {
			info.CallBack = cl.call.Kind
			if cl.call.Outcome == wire.OutcomeAcceptedVideo {
				info.CallBack = wire.CallVideo
			} else if cl.call.AnsweredAt > 0 {
				info.CallBack = wire.CallVoice
			}
		}
		cs.conv.State, cs.conv.AgentID, cs.conv.AgentName, cs.conv.AcceptedAt = wire.ConvWaiting, "", "", 0
		cs.conv.QueuedAt, cs.conv.Transfer = now.UnixMilli(), info
		ctx, cancel := dbctx()
		err = r.s.store.UpdateConversation(ctx, cs.conv)
		cancel()
		if err != nil {
			cs.conv = prev
			return err
		}

		// The first agent lets go: their call ends (its line goes to them too), the co-browse
		// stays for the next agent, and they learn the conversation is no longer theirs.
		moved := cs.conv
		cs.conv = prev
		r.endConvCall(cs, wire.AuthorAgent, "transferred")
		r.keepVisuals(cs)
		cs.conv = moved
		if from != nil {
			from.push(encode(wire.TypeConvState, cs.conv))
			delete(from.convs, cs.conv.ID)
			from.idleSince = now
			r.pushAgentState(from)
		}
		if o := cs.offer; o != nil {
			r.revoke(o, "assigned")
		}

		// A new visit, in the queue it goes to.
		fromQueue := cs.queue.q.ID
		r.visitLeft(cs, store.VisitTransferred)
		cs.visit = store.Visit{Conv: cs.conv.ID, N: cs.visit.N + 1, Org: org.id, Queue: dest.q.ID, EnteredAt: now.UnixMilli()}
		if dest != cs.queue {
			cs.conv.Skills = needs(dest, nil) // the first answer's skills were for the first queue
		}
		r.applyQueue(cs, dest)
		r.saveRouting(cs)
		if i := slices.Index(org.queue, cs); i >= 0 {
			org.queue = slices.Delete(org.queue, i, i+1)
		}
		org.queue = slices.Insert(org.queue, 0, cs)
		cs.target, cs.skip = target, nil
		if from != nil && target == nil {
			// Like an agent who declined, the first agent is passed over for a while: it went
			// to the queue for someone else (it comes back to them if nobody else takes it).
			cs.passOver(from, now.Add(r.s.cfg.OfferTimeout))
			r.retryLater(org)
		}
		cs.sentPos, cs.sentWait = 0, 0
		r.watchWait(cs)
		r.watchAbandon(cs)
		r.armIdle(cs, false) // waiting: no close for inactivity

		// One line for the customer; the details for members.
		if target == nil {
			r.systemEvent(cs, "Transferring you to "+dest.q.Name+".", &wire.Event{Kind: wire.EventTransferred, Queue: dest.q.Name})
		} else {
			r.systemEvent(cs, "Transferring you to another agent.", &wire.Event{Kind: wire.EventTransferred})
		}
		r.systemNote(cs, c.user.DisplayName+" transferred the conversation to "+to+"."+noteSuffix(t.Note),
			&wire.Event{Kind: wire.EventTransferNote, Name: c.user.DisplayName, Target: to, Note: t.Note})
		r.sendConvState(cs)

		kind := "queue"
		if target != nil {
			kind = "agent"
			if o := target.offer; o != nil {
				// They were considering another conversation: it goes to someone else, and the
				// transfer is offered to them now.
				o.conv.passOver(target, now.Add(r.s.cfg.OfferTimeout))
				r.revoke(o, "assigned")
				r.retryLater(org)
			}
		}
		r.s.metrics.transfers.WithLabelValues(string(org.id), string(fromQueue), kind).Inc()
		r.s.log.Info("conversation transferred", "org", org.id, "conv", cs.conv.ID, "by", c.user.ID, "from_queue", fromQueue,
			"queue", dest.q.ID, "agent", t.Agent, "call_back", info.CallBack)
		r.route(org)
		r.dirty[org] = struct{}{}
		ack(c, rid, wire.Ack{Conv: cs.conv.ID, Seq: cs.conv.LastSeq})
		return nil
	})
}

// keepVisuals keeps a conversation's active built-in co-browse for the agent who takes it next,
// with control back to the customer (they granted it to the first agent). Anything else ends:
// an invitation carries the first agent's PIN, a screen share's media runs to the first agent's
// app, and an external provider's session is signed in as the first agent.
func (r *router) keepVisuals(cs *convState) {
	for _, vs := range r.visuals {
		if vs.cs != cs {
			continue
		}
		if vs.v.State != wire.VisualActive || vs.v.Provider != wire.ProviderBuiltinCobrowse {
			r.endVisual(vs, wire.AuthorSystem, "transferred")
			continue
		}
		vs.v.Control = false
		r.publishVisual(vs)
	}
}

// handVisualsTo tells the conversation's new agent about the co-browse it takes over; the
// customer's recorder sends a fresh snapshot when it sees the new agent.
func (r *router) handVisualsTo(cs *convState) {
	for _, vs := range r.visuals {
		if vs.cs == cs && vs.v.State == wire.VisualActive {
			r.publishVisual(vs)
		}
	}
}

// routingRequest checks a transfer, an invitation to read along, a reader leaving, or a customer
// leaving a message, and hands it to the router.
func (c *conn) routingRequest(env wire.Envelope) error {
	switch env.Type {
	case wire.TypeConvTransfer:
		return decode(env, func(t wire.Transfer) error {
			if (t.Queue == "") == (t.Agent == "") {
				return wire.Errorf(wire.EINVALID, "a transfer names a queue or an agent")
			}
			t.Note = strings.TrimSpace(t.Note)
			if err := checkText("note", t.Note, wire.MaxNoteBytes, false); err != nil {
				return err
			}
			return c.s.router.transfer(c, env.RID, t)
		})
	case wire.TypeConvInvite:
		return decode(env, func(ci wire.ConsultInvite) error {
			ci.Note = strings.TrimSpace(ci.Note)
			if err := checkText("note", ci.Note, wire.MaxNoteBytes, false); err != nil {
				return err
			}
			return c.s.router.invite(c, env.RID, ci)
		})
	case wire.TypeConvConsultLeave:
		return decode(env, func(ref wire.ConvRef) error {
			return c.s.router.consultLeave(c, env.RID, ref.Conv)
		})
	default: // wire.TypeConvMessage
		return decode(env, func(lm wire.LeaveMessage) error {
			lm.Contact = strings.TrimSpace(lm.Contact)
			if err := checkText("contact", lm.Contact, 2*wire.MaxNameBytes, false); err != nil {
				return err
			}
			return c.s.router.leaveMessage(c, env.RID, lm)
		})
	}
}
