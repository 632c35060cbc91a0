package hub

import (
	"time"

	"github.com/parleyhq/parley/hub/store"
	"github.com/parleyhq/parley/wire"
)

// The router's chat path: messages stored in group commits before their ack, then fanned out;
// typing and receipts relayed to the other party.

// authorOf is the author a role writes as.
func authorOf(role wire.Role) wire.Author {
	if role == wire.RoleCustomer {
		return wire.AuthorCustomer
	}
	return wire.AuthorAgent
}

func other(a wire.Author) wire.Author {
	if a == wire.AuthorCustomer {
		return wire.AuthorAgent
	}
	return wire.AuthorCustomer
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
	r.sendMessage(cs, m)
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
	return r.await(req.done)
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
		cs, err := r.writer(req.c, req.m.Conv, req.m.Internal)
		if err != nil {
			req.done <- err
			continue
		}
		msg := wire.Message{Conv: cs.conv.ID, Author: authorOf(req.c.role), Text: req.m.Text, ClientID: req.m.ClientID, Internal: req.m.Internal}
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
			a.cs.conv.ActivityAt = stored.At // stored with the message (store.AppendMessages)
			if stored.Author == wire.AuthorAgent {
				a.cs.answered = true
			}
			if a.cs.conv.ClosesAt != 0 {
				r.armIdle(a.cs, false) // someone wrote: the close waits again
			}
			r.s.metrics.messages.WithLabelValues(string(stored.Author)).Inc()
			if stored.Author == wire.AuthorAgent && !stored.Internal && a.req.c.user.ID == a.cs.conv.AgentID {
				r.firstResponse(a.cs)
			}
			if a.req.c.role == wire.RoleCustomer && a.cs.preview == "" {
				a.cs.preview = truncate(stored.Text, 140)
				r.dirty[a.cs.org] = struct{}{} // the supervisors' waiting list shows it
				if o := a.cs.offer; o != nil {
					// Offered before the customer wrote: the agent sees what it is about.
					o.agent.push(encode(wire.TypeOffer, r.offerFrame(o)))
				}
			}
			r.sendMessage(a.cs, stored)
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
		if t.Author == wire.AuthorCustomer {
			cs.customerTyping = t.Typing
		} else if t.Typing {
			cs.agentTyping = c.user.ID
		} else {
			cs.agentTyping = ""
		}
		r.toFollowers(cs)
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
