package hub

import "github.com/parleyhq/parley/wire"

// Following a conversation live: a supervisor reading a conversation's transcript (the app's team
// view) follows it, and the router tells that connection who is typing and the seq of the last
// message at once and on every change, so the transcript shows "… is typing" and new lines as
// they happen. A connection follows one conversation at a time; what it follows ends with the
// conversation or the connection.

// watch starts or stops c following a conversation of its organisation.
func (r *router) watch(c *conn, rid string, w wire.Watch) error {
	return r.call(func() error {
		if c.role != wire.RoleSupervisor && c.role != wire.RoleAdmin {
			return wire.Errorf(wire.EFORBIDDEN, "only supervisors follow conversations")
		}
		r.unwatch(c)
		if !w.On {
			ack(c, rid, wire.Ack{})
			return nil
		}
		cs, err := r.open(c, w.Conv)
		if err != nil {
			return err
		}
		if cs.followers == nil {
			cs.followers = map[*conn]struct{}{}
		}
		cs.followers[c] = struct{}{}
		r.following[c] = cs
		ack(c, rid, wire.Ack{Conv: cs.conv.ID, Seq: cs.conv.LastSeq})
		c.pushFrame(wire.TypeSupervisorWatched, "", watched(cs))
		return nil
	})
}

// unwatch stops c following whatever it follows.
func (r *router) unwatch(c *conn) {
	if cs := r.following[c]; cs != nil {
		delete(cs.followers, c)
		delete(r.following, c)
	}
}

// watched is cs's live state as its followers see it. The agent types only while the member
// whose indicator said so is still its agent (one moved on, or signed out mid-word, does not).
func watched(cs *convState) wire.Watched {
	return wire.Watched{
		Conv:           cs.conv.ID,
		CustomerTyping: cs.customerTyping && len(cs.customers) > 0,
		AgentTyping:    cs.agentTyping != "" && cs.agentTyping == cs.conv.AgentID,
		LastSeq:        cs.conv.LastSeq,
	}
}

// toFollowers tells those following cs its live state.
func (r *router) toFollowers(cs *convState) {
	if len(cs.followers) == 0 {
		return
	}
	frame := encode(wire.TypeSupervisorWatched, watched(cs))
	for c := range cs.followers {
		c.push(&out{frame: frame})
	}
}

// dropFollowers tells the followers of an ending conversation that nobody types any more and
// lets go of them.
func (r *router) dropFollowers(cs *convState) {
	cs.customerTyping, cs.agentTyping = false, ""
	r.toFollowers(cs)
	for c := range cs.followers {
		delete(r.following, c)
	}
	cs.followers = nil
}
