package hub

import (
	"cmp"
	"context"
	"slices"

	"github.com/parleyhq/parley/hub/store"
	"github.com/parleyhq/parley/wire"
)

// Consult: the assigned agent (or a supervisor) invites a colleague or a supervisor to read
// along in a conversation and write internal notes. Internal notes and internal system lines
// reach the agent and those reading along; the frames below are the only way the router sends a
// conversation's messages and state, and each leaves the internal parts out of what a customer
// connection gets.

// consultant is a member reading along in a conversation.
type consultant struct {
	id   wire.UserID
	name string
}

// customerConv is a conversation as its customer may see it: without what routing keeps for
// members (skills, the transfer note, who reads along, providers).
func customerConv(c wire.Conversation) wire.Conversation {
	c.Skills, c.Transfer, c.Consultants, c.Visual = nil, nil, nil, nil
	c.WrapCode, c.WrapNote, c.WrapMS, c.Preview = "", "", 0, ""
	return c
}

// sendConvState tells everyone in a conversation its state: the customer its customer view,
// the agent and those reading along all of it.
func (r *router) sendConvState(cs *convState) {
	cust := encode(wire.TypeConvState, customerConv(cs.conv))
	for c := range cs.customers {
		c.push(&out{frame: cust})
	}
	r.toMembers(cs, encode(wire.TypeConvState, cs.conv))
}

// sendMessage sends a stored message to everyone in its conversation who may read it: an
// internal one never goes to the customer.
func (r *router) sendMessage(cs *convState, m wire.Message) {
	frame := encode(wire.TypeChatMessage, m)
	if !m.Internal {
		for c := range cs.customers {
			c.push(&out{frame: frame})
		}
	}
	r.toMembers(cs, frame)
	// A message ends its author's typing.
	switch m.Author {
	case wire.AuthorCustomer:
		cs.customerTyping = false
	case wire.AuthorAgent:
		if !m.Internal {
			cs.agentTyping = ""
		}
	}
	r.toFollowers(cs)
}

// toMembers sends a frame to the conversation's agent and those reading along.
func (r *router) toMembers(cs *convState, frame []byte) {
	if a := cs.org.agents[cs.conv.AgentID]; a != nil {
		a.push(frame)
	}
	for id := range cs.consultants {
		if id == cs.conv.AgentID {
			continue
		}
		for c := range cs.org.members[id] {
			c.push(&out{frame: frame})
		}
	}
}

// isConsultant reports whether user reads along in conv.
func (r *router) isConsultant(conv wire.ConversationID, user wire.UserID) bool {
	ok := false
	_ = r.call(func() error {
		if cs := r.convs[conv]; cs != nil {
			_, ok = cs.consultants[user]
		}
		return nil
	})
	return ok
}

// writer finds the conversation c may write a message to: the customer and the assigned agent
// chat; the agent and those reading along write internal notes; nobody else writes.
func (r *router) writer(c *conn, id wire.ConversationID, internal bool) (*convState, error) {
	if c.role == wire.RoleCustomer {
		if internal {
			return nil, wire.Errorf(wire.EFORBIDDEN, "customers do not write internal notes")
		}
		return r.participant(c, id)
	}
	if cs := r.convs[id]; cs != nil && cs.conv.Org == c.org {
		if _, ok := cs.consultants[c.user.ID]; ok && cs.conv.AgentID != c.user.ID {
			if !internal {
				return nil, wire.Errorf(wire.EFORBIDDEN, "those reading along write internal notes only")
			}
			return cs, nil
		}
	}
	return r.participant(c, id)
}

// consultRefs lists those reading along, by name.
func consultRefs(cs *convState) []wire.MemberRef {
	if len(cs.consultants) == 0 {
		return nil
	}
	out := make([]wire.MemberRef, 0, len(cs.consultants))
	for _, k := range cs.consultants {
		out = append(out, wire.MemberRef{ID: k.id, Name: k.name})
	}
	slices.SortFunc(out, func(a, b wire.MemberRef) int { return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.ID, b.ID)) })
	return out
}

// invite adds a member to those reading along in a conversation, at the request of its agent
// (or a supervisor): an internal line records it, and the member is told.
func (r *router) invite(c *conn, rid string, ci wire.ConsultInvite) error {
	return r.call(func() error {
		if c.role == wire.RoleCustomer {
			return ErrConvNotFound
		}
		cs, err := r.open(c, ci.Conv) // an agent invites into their own conversations only
		if err != nil {
			return err
		}
		if cs.conv.State == wire.ConvEnded {
			return ErrConvEnded
		}
		u, ok := cs.org.people[ci.User]
		switch {
		case !ok || u.Role == wire.RoleCustomer:
			return wire.Errorf(wire.ENOTFOUND, "no such member")
		case u.ID == c.user.ID || u.ID == cs.conv.AgentID:
			return wire.Errorf(wire.EINVALID, "they already take part in the conversation")
		case len(cs.org.members[u.ID]) == 0:
			return wire.Errorf(wire.EAGENTUNAVAILABLE, "%s is not signed in", u.DisplayName)
		}
		if _, ok := cs.consultants[u.ID]; ok {
			ack(c, rid, wire.Ack{Conv: cs.conv.ID, Seq: cs.conv.LastSeq})
			return nil
		}
		ctx, cancel := dbctx()
		err = r.s.store.SetConsultant(ctx, store.Consultant{Conv: cs.conv.ID, User: u.ID}, true)
		cancel()
		if err != nil {
			return err
		}
		if cs.consultants == nil {
			cs.consultants = map[wire.UserID]*consultant{}
		}
		cs.consultants[u.ID] = &consultant{id: u.ID, name: u.DisplayName}
		cs.conv.Consultants = consultRefs(cs)
		by := c.user.DisplayName
		r.systemNote(cs, by+" invited "+u.DisplayName+" to read along."+noteSuffix(ci.Note),
			&wire.Event{Kind: wire.EventConsultInvited, Name: by, Target: u.DisplayName, Note: ci.Note})
		r.sendConvState(cs)
		frame := encode(wire.TypeConsult, wire.Consult{Conversation: cs.conv, By: c.user.ID, ByName: by, Note: ci.Note})
		for m := range cs.org.members[u.ID] {
			m.push(&out{frame: frame})
		}
		r.s.metrics.consults.Inc()
		r.s.log.Info("invited to read along", "org", cs.org.id, "conv", cs.conv.ID, "member", u.ID, "by", c.user.ID)
		ack(c, rid, wire.Ack{Conv: cs.conv.ID, Seq: cs.conv.LastSeq})
		return nil
	})
}

// consultLeave is a member who reads along leaving.
func (r *router) consultLeave(c *conn, rid string, id wire.ConversationID) error {
	return r.call(func() error {
		cs := r.convs[id]
		if cs == nil || cs.conv.Org != c.org || c.role == wire.RoleCustomer {
			return ErrConvNotFound
		}
		if _, ok := cs.consultants[c.user.ID]; !ok {
			return ErrConvNotFound
		}
		r.removeConsultant(cs, c.user.ID, true)
		ack(c, rid, wire.Ack{Conv: cs.conv.ID, Seq: cs.conv.LastSeq})
		return nil
	})
}

// removeConsultant stops a member reading along, with an internal line when line is set, and
// tells them.
func (r *router) removeConsultant(cs *convState, id wire.UserID, line bool) {
	k := cs.consultants[id]
	if k == nil {
		return
	}
	ctx, cancel := dbctx()
	if err := r.s.store.SetConsultant(ctx, store.Consultant{Conv: cs.conv.ID, User: id}, false); err != nil {
		r.s.log.Error("forgetting a member reading along", "conv", cs.conv.ID, "err", err)
	}
	cancel()
	frame := encode(wire.TypeConsult, wire.Consult{Conversation: cs.conv, Ended: true})
	for m := range cs.org.members[id] {
		m.push(&out{frame: frame})
	}
	delete(cs.consultants, id)
	cs.conv.Consultants = consultRefs(cs)
	if line {
		r.systemNote(cs, k.name+" stopped reading along.", &wire.Event{Kind: wire.EventConsultLeft, Name: k.name})
	}
	r.sendConvState(cs)
}

// dropConsultants forgets who read along in a conversation that ended (they got its final
// state with everyone else).
func (r *router) dropConsultants(cs *convState) {
	cs.consultants = nil
}

// loadConsultants gives the conversations picked up at start those who read along.
func (r *router) loadConsultants(ctx context.Context) error {
	ks, err := r.s.store.OpenConsultants(ctx)
	if err != nil {
		return err
	}
	for _, k := range ks {
		cs := r.convs[k.Conv]
		if cs == nil {
			continue
		}
		u, ok := cs.org.people[k.User]
		if !ok {
			continue
		}
		if cs.consultants == nil {
			cs.consultants = map[wire.UserID]*consultant{}
		}
		cs.consultants[u.ID] = &consultant{id: u.ID, name: u.DisplayName}
		cs.conv.Consultants = consultRefs(cs)
	}
	return nil
}

// consulting lists the open conversations a member reads along in, oldest first.
func (r *router) consulting(org *orgState, user wire.UserID) []*convState {
	var out []*convState
	for _, cs := range r.convs {
		if cs.org != org {
			continue
		}
		if _, ok := cs.consultants[user]; ok && cs.conv.AgentID != user {
			out = append(out, cs)
		}
	}
	slices.SortFunc(out, func(x, y *convState) int {
		return cmp.Or(cmp.Compare(x.conv.CreatedAt, y.conv.CreatedAt), cmp.Compare(x.conv.ID, y.conv.ID))
	})
	return out
}

// systemNote stores an internal system line and sends it to the conversation's members.
func (r *router) systemNote(cs *convState, text string, ev *wire.Event) {
	m, _, err := r.appendMessage(cs, wire.Message{Conv: cs.conv.ID, Author: wire.AuthorSystem, Text: text, Event: ev, Internal: true})
	if err != nil {
		r.s.log.Error("storing an internal line", "conv", cs.conv.ID, "err", err)
		return
	}
	r.sendMessage(cs, m)
}

// noteSuffix is ": note" for a line's English text, or nothing.
func noteSuffix(note string) string {
	if note == "" {
		return ""
	}
	return " Note: " + note
}
