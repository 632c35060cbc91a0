package hub

import (
	"cmp"
	"slices"
	"time"

	"github.com/parleyhq/parley/wire"
)

// What the router sends after each command: queue positions and the supervisor snapshot with its
// figures.

// position is a conversation's place in its queue (0 when not waiting).
func (r *router) position(cs *convState) int {
	pos := 0
	for _, w := range cs.org.queue {
		if w.queue == cs.queue {
			pos++
		}
		if w == cs {
			return pos
		}
	}
	return 0
}

// flush sends what the last command changed: queue positions and supervisor snapshots.
func (r *router) flush() {
	now := r.s.now()
	for org := range r.dirty {
		staffed := r.staffing(org)
		for cs, pos := range queuePositions(org) {
			qp := r.positionFrame(cs, pos, now)
			qp.NobodyAvailable = cs.queue != nil && !staffed[cs.queue]
			if cs.sentPos != pos || cs.sentWait != qp.EstimatedWaitMS || cs.sentOverflow != qp.Overflow || cs.sentNobody != qp.NobodyAvailable {
				cs.sentPos, cs.sentWait, cs.sentOverflow, cs.sentNobody = pos, qp.EstimatedWaitMS, qp.Overflow, qp.NobodyAvailable
				frame := encode(wire.TypeQueuePosition, qp)
				for c := range cs.customers {
					c.push(&out{frame: frame})
				}
			}
		}
		r.s.metrics.queue.WithLabelValues(string(org.id)).Set(float64(len(org.queue)))
		if len(org.watchers) > 0 {
			frame := encode(wire.TypeSupervisorSnapshot, r.snapshot(org))
			for c := range org.watchers {
				c.push(&out{frame: frame})
			}
		}
		delete(r.dirty, org)
	}
}

// staffed is true when an agent of qs is online and available.
func (o *orgState) staffed(qs *queueState) bool {
	if qs == nil {
		return true
	}
	for _, a := range o.agents {
		if a.online && a.presence == wire.PresenceAvailable && qs.serves(a) {
			return true
		}
	}
	return false
}

// staffing finds which of org's queues have an agent online and available, and tells each
// signed-in agent who is not available how many customers wait in their queues when that changed.
func (r *router) staffing(org *orgState) map[*queueState]bool {
	staffed, waiting := make(map[*queueState]bool, len(org.order)), make(map[*queueState]int, len(org.order))
	for _, cs := range org.queue {
		if cs.queue != nil {
			waiting[cs.queue]++
		}
	}
	for _, a := range org.agents {
		if !a.online && len(a.conns) == 0 {
			continue
		}
		n, available := 0, a.online && a.presence == wire.PresenceAvailable
		for _, qs := range org.order {
			if !qs.serves(a) {
				continue
			}
			if available {
				staffed[qs] = true
			} else {
				n += waiting[qs] // an available agent is offered them instead
			}
		}
		if n != a.waiting {
			a.waiting = n
			r.pushAgentState(a)
		}
	}
	return staffed
}

// snapshot is the supervisor view of org: agents by name, then waiting conversations in queue
// order followed by active ones, oldest first.
func (r *router) snapshot(org *orgState) wire.Snapshot {
	snap := wire.Snapshot{Agents: []wire.AgentSummary{}, Conversations: []wire.Conversation{}}
	var active []*convState
	for _, a := range org.agents {
		snap.Agents = append(snap.Agents, wire.AgentSummary{ID: a.user.ID, DisplayName: a.user.DisplayName, Presence: a.effectivePresence(),
			Load: a.load(), Capacity: a.user.Capacity, Online: a.online, OnCall: a.call != nil,
			Queues: org.queuesOf(a), Skills: skillList(a.skills), IdleSinceMS: unixMilli(a.idleSince), Setup: a.setup})
		for _, cs := range a.convs {
			active = append(active, cs)
		}
	}
	slices.SortFunc(snap.Agents, func(x, y wire.AgentSummary) int {
		return cmp.Or(cmp.Compare(x.DisplayName, y.DisplayName), cmp.Compare(x.ID, y.ID))
	})
	positions := queuePositions(org)
	for _, cs := range org.queue {
		conv := cs.conv
		conv.QueuePosition = positions[cs]
		conv.Preview = cs.preview
		snap.Conversations = append(snap.Conversations, conv)
	}
	slices.SortFunc(active, func(x, y *convState) int {
		return cmp.Or(cmp.Compare(x.conv.AcceptedAt, y.conv.AcceptedAt), cmp.Compare(x.conv.ID, y.conv.ID))
	})
	for _, cs := range active {
		conv := cs.conv
		conv.Preview = cs.preview
		snap.Conversations = append(snap.Conversations, conv)
	}
	snap.Stats = r.orgStats(org)
	snap.Queues = r.queueStats(org, r.s.now())
	return snap
}

// The supervisor's figures (handle time with and without calls) travel in the snapshot.

// statsWindow is how far back the supervisor's figures reach.
const statsWindow = 24 * time.Hour

// statsMaxAge is how long the router reuses an organisation's figures before reading them again
// (so the window moves); an ended conversation or call clears them at once.
const statsMaxAge = time.Minute

// orgStats returns the organisation's figures for the supervisor snapshot. When they are missing
// or stale it starts reading them off the loop and returns what it has (empty figures at first);
// the read's result marks the organisation dirty, so its watchers get a snapshot with it. A store
// failure is logged and leaves the figures as they were.
func (r *router) orgStats(org *orgState) wire.Stats {
	now := r.s.now()
	if org.stats != nil && now.Sub(org.statsAt) < statsMaxAge {
		return *org.stats
	}
	if !org.statsReading {
		org.statsReading = true
		gen := org.statsGen
		go func() {
			ctx, cancel := dbctx()
			st, err := r.s.store.Stats(ctx, org.id, now.Add(-statsWindow).UnixMilli())
			cancel()
			r.post(func() {
				org.statsReading = false
				if err != nil {
					r.s.log.Warn("reading supervisor figures", "org", org.id, "err", err)
					return // the next snapshot tries again
				}
				if gen == org.statsGen {
					org.stats, org.statsAt = &st, now
				}
				r.dirty[org] = struct{}{} // the snapshot with them, or (dropped meanwhile) the next read
			})
		}()
	}
	if org.stats != nil {
		return *org.stats
	}
	return wire.Stats{SinceMS: now.Add(-statsWindow).UnixMilli(), Calls: map[wire.CallOutcome]int{}}
}

// dropStats makes the next snapshot read the figures again (a conversation or call ended). The
// figures read so far stay in the snapshots until then.
func (o *orgState) dropStats() {
	o.statsGen++
	o.statsAt = time.Time{}
}
