package hub

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"slices"
	"time"
	_ "time/tzdata" // queues' working hours name IANA zones; a hub without the system's zoneinfo still knows them

	"github.com/parleyhq/parley/hub/store"
	"github.com/parleyhq/parley/wire"
)

// Queues and skills in the router: each organisation's queues (at least its default one), who
// serves each, when each is open, and how routing picks the best agent for a conversation.
// Everything here lives in the router's memory: a routing decision reads nothing from the store.

// Routing defaults.
const (
	// DefaultQueue is the id of the queue an organisation has before an admin makes any.
	DefaultQueue wire.QueueID = "general"
	// defaultWidenAfter is how long a conversation waits for an agent with its skills before any
	// member of its queue may take it.
	defaultWidenAfter = 60 * time.Second
	// defaultSLTarget and defaultSLPercent are a queue's service level unless set: 80 % within 30 s.
	defaultSLTarget, defaultSLPercent = 30, 80
	// ewtWindow is how far back answers count towards a queue's handling rate; with fewer than
	// ewtMinAnswers in it, the estimated wait is unknown ("a few minutes").
	ewtWindow     = 30 * time.Minute
	ewtMinAnswers = 3
	// ewtSamples bounds the answer times a queue keeps for its rate.
	ewtSamples = 30
	// ewtMax caps an estimated wait.
	ewtMax = 4 * time.Hour
)

// settingPrechat is the org_settings key of the pre-chat question.
const settingPrechat = "prechat"

// queueState is one queue's live state, owned by the router goroutine.
type queueState struct {
	q wire.Queue
	// loc is the time zone of the working hours; open lists each weekday's open minutes.
	loc  *time.Location
	open [7][][2]int
	// members are the agents who take its conversations; an empty set means every agent of the
	// organisation (so a fresh organisation's default queue needs no set-up).
	members map[wire.UserID]struct{}
	// answers are when its latest conversations were answered, oldest first (the handling rate
	// behind the estimated wait).
	answers []int64
	// figures are its waiting-time figures over the last statsWindow.
	figures *queueFigures
}

// newQueueState builds a queue's state from its (checked) settings.
func newQueueState(q wire.Queue) *queueState {
	qs := &queueState{members: map[wire.UserID]struct{}{}, figures: newQueueFigures()}
	qs.set(q)
	return qs
}

// set applies new settings, keeping members and figures.
func (qs *queueState) set(q wire.Queue) {
	q = normalizeQueue(q)
	qs.q = q
	qs.loc = time.UTC
	if q.Hours.TimeZone != "" {
		if loc, err := time.LoadLocation(q.Hours.TimeZone); err == nil {
			qs.loc = loc
		}
	}
	qs.open = [7][][2]int{}
	for _, iv := range q.Hours.Intervals {
		from, _ := clockMinutes(iv.From)
		to, _ := clockMinutes(iv.To)
		qs.open[iv.Day] = append(qs.open[iv.Day], [2]int{from, to})
	}
	qs.figures.setTarget(q.ServiceLevel)
}

// isOpen reports whether the queue takes chats at t.
func (qs *queueState) isOpen(t time.Time) bool {
	if len(qs.q.Hours.Intervals) == 0 {
		return true
	}
	lt := t.In(qs.loc)
	m := lt.Hour()*60 + lt.Minute()
	for _, span := range qs.open[lt.Weekday()] {
		if m >= span[0] && m < span[1] {
			return true
		}
	}
	return false
}

// serves reports whether a is one of the queue's members.
func (qs *queueState) serves(a *agentState) bool {
	if len(qs.members) == 0 {
		return true
	}
	_, ok := qs.members[a.user.ID]
	return ok
}

// info is the queue as the portal sees it at now.
func (qs *queueState) info(now time.Time) wire.QueueInfo {
	return wire.QueueInfo{ID: qs.q.ID, Name: qs.q.Name, Language: qs.q.Language, Open: qs.isOpen(now), ClosedMessage: qs.q.ClosedMessage}
}

// answered remembers an answer at at for the handling rate.
func (qs *queueState) answered(at int64) {
	qs.answers = append(qs.answers, at)
	if len(qs.answers) > ewtSamples {
		qs.answers = slices.Delete(qs.answers, 0, len(qs.answers)-ewtSamples)
	}
}

// estimatedWait is how long the conversation at position pos may wait, from the rate at which
// the queue's conversations were answered in the last ewtWindow; 0 when that is too little to go
// on. The rate counts the answers since the oldest of them, so one burst does not promise a
// fast queue for half an hour.
func (qs *queueState) estimatedWait(pos int, now time.Time) time.Duration {
	since := now.Add(-ewtWindow).UnixMilli()
	i, _ := slices.BinarySearch(qs.answers, since)
	recent := qs.answers[i:]
	if len(recent) < ewtMinAnswers || pos < 1 {
		return 0
	}
	span := max(now.UnixMilli()-recent[0], int64(time.Minute/time.Millisecond))
	perAnswer := time.Duration(span/int64(len(recent))) * time.Millisecond
	return min(time.Duration(pos)*perAnswer, ewtMax)
}

// normalizeQueue fills a queue's unset settings with their defaults.
func normalizeQueue(q wire.Queue) wire.Queue {
	if q.WidenAfterS <= 0 {
		q.WidenAfterS = int(defaultWidenAfter / time.Second)
	}
	if q.ServiceLevel.TargetS <= 0 {
		q.ServiceLevel.TargetS = defaultSLTarget
	}
	if q.ServiceLevel.Percent <= 0 {
		q.ServiceLevel.Percent = defaultSLPercent
	}
	if q.Skills == nil {
		q.Skills = []wire.Skill{}
	}
	return q
}

// defaultQueueOf is the queue an organisation has until an admin makes one.
func defaultQueueOf() wire.Queue {
	return normalizeQueue(wire.Queue{ID: DefaultQueue, Name: "General", Default: true})
}

// loadRouting reads an organisation's queues, its members' queues and skills, the pre-chat
// question and the last statsWindow of queue visits into o. It runs once, when the router first
// needs the organisation.
func (r *router) loadRouting(ctx context.Context, o *orgState) error {
	queues, err := r.s.store.Queues(ctx, o.id)
	if err != nil {
		return err
	}
	o.queues = map[wire.QueueID]*queueState{}
	for _, q := range queues {
		r.putQueue(o, q)
	}
	if o.def == nil {
		if len(o.order) > 0 { // none marked: the first one serves as the default
			o.def = o.order[0]
			o.def.q.Default = true
		} else {
			r.putQueue(o, defaultQueueOf())
		}
	}
	members, err := r.s.store.MemberRoutings(ctx, o.id)
	if err != nil {
		return err
	}
	for _, m := range members {
		r.applyMemberRouting(o, m)
	}
	o.prechat, err = r.s.prechat(ctx, o.id)
	if err != nil {
		return err
	}
	now := r.s.now()
	visits, err := r.s.visits(ctx, o.id, now.Add(-statsWindow).UnixMilli(), now.UnixMilli()+1)
	if err != nil {
		return err
	}
	if !r.loaded { // the open conversations are being picked up: they take their open visits
		o.openVisits = map[wire.ConversationID]store.Visit{}
		for _, v := range visits {
			if v.LeftAt == 0 {
				o.openVisits[v.Conv] = v
			}
		}
	}
	for _, ev := range visitEvents(visits, now.Add(-statsWindow).UnixMilli()) {
		if qs := o.queues[ev.queue]; qs != nil {
			qs.figures.add(ev)
			if ev.kind == figAnswered {
				qs.answered(ev.at)
			}
		}
	}
	return nil
}

// putQueue adds or updates a queue of o.
func (r *router) putQueue(o *orgState, q wire.Queue) *queueState {
	qs := o.queues[q.ID]
	if qs == nil {
		qs = newQueueState(q)
		o.queues[q.ID] = qs
		o.order = append(o.order, qs)
	} else {
		qs.set(q)
	}
	if q.Default {
		if o.def != nil && o.def != qs {
			o.def.q.Default = false
		}
		o.def = qs
	}
	return qs
}

// applyMemberRouting sets a member's queues and skills.
func (r *router) applyMemberRouting(o *orgState, m wire.MemberRouting) {
	for _, qs := range o.queues {
		delete(qs.members, m.User)
	}
	for _, id := range m.Queues {
		if qs := o.queues[id]; qs != nil {
			qs.members[m.User] = struct{}{}
		}
	}
	if a := o.agents[m.User]; a != nil {
		a.skills = skillMap(m.Skills)
	} else {
		if o.skills == nil {
			o.skills = map[wire.UserID]map[string]int{}
		}
		o.skills[m.User] = skillMap(m.Skills) // not an agent (yet): kept for when they become one
	}
}

func skillMap(skills []wire.Skill) map[string]int {
	m := make(map[string]int, len(skills))
	for _, s := range skills {
		m[s.Name] = s.Level
	}
	return m
}

// queueFor resolves the queue a new conversation asks for: the pre-chat answer's, else the
// named one, else the default. An unknown queue or answer is not an error the customer should
// meet: it goes to the default queue with a warning in the log.
func (r *router) queueFor(o *orgState, id wire.QueueID, choice string) (*queueState, []wire.Skill) {
	if choice != "" {
		for _, ch := range o.prechat.Choices {
			if ch.ID == choice {
				if qs := o.queues[ch.Queue]; qs != nil {
					return qs, ch.Skills
				}
			}
		}
		r.s.log.Warn("unknown pre-chat answer; using the default queue", "org", o.id, "choice", truncate(choice, 64), "queue", o.def.q.ID)
		return o.def, nil
	}
	if id == "" {
		return o.def, nil
	}
	if qs := o.queues[id]; qs != nil {
		return qs, nil
	}
	r.s.log.Warn("unknown queue asked for; using the default queue", "org", o.id, "queue", truncate(string(id), 64), "default", o.def.q.ID)
	return o.def, nil
}

// needs is what an agent must have to take cs before it widens: the queue's skills and the
// pre-chat answer's, the higher level of each.
func needs(qs *queueState, extra []wire.Skill) []wire.Skill {
	out := slices.Clone(qs.q.Skills)
	for _, s := range extra {
		if i := slices.IndexFunc(out, func(x wire.Skill) bool { return x.Name == s.Name }); i >= 0 {
			out[i].Level = max(out[i].Level, s.Level)
		} else {
			out = append(out, s)
		}
	}
	slices.SortFunc(out, func(a, b wire.Skill) int { return cmp.Compare(a.Name, b.Name) })
	return out
}

// hasSkills reports whether a has every skill of need at its level or above.
func (a *agentState) hasSkills(need []wire.Skill) bool {
	for _, s := range need {
		if a.skills[s.Name] < s.Level {
			return false
		}
	}
	return true
}

// free is the capacity a has left.
func (a *agentState) free() int { return a.user.Capacity - a.load() }

// canTake reports whether routing may offer a a chat now.
func (a *agentState) canTake() bool {
	return a.online && a.presence == wire.PresenceAvailable && a.offer == nil && a.load()+unitsChat <= a.user.Capacity && !a.wrappingUp()
}

// pick chooses the agent to offer cs among free (the agents who can take a chat now): one the
// conversation may go to (its transfer target only, while it has one; else a member of its
// queue not passed over), with its skills unless it has waited long enough to widen; among them
// the skilled first, then the most free capacity, then the one idle longest.
func (r *router) pick(cs *convState, free []*agentState, now time.Time) *agentState {
	var best *agentState
	bestSkilled := false
	for _, a := range free {
		if until, ok := cs.skip[a.user.ID]; ok && now.Before(until) {
			continue
		}
		if cs.target != nil {
			if a == cs.target {
				return a
			}
			continue
		}
		if !cs.queue.serves(a) {
			continue
		}
		skilled := a.hasSkills(cs.conv.Skills)
		if !skilled && !cs.widened {
			continue
		}
		if best == nil || betterFor(skilled, a, bestSkilled, best) {
			best, bestSkilled = a, skilled
		}
	}
	return best
}

// betterFor orders candidates for one conversation: the skilled first, then better.
func betterFor(aSkilled bool, a *agentState, bSkilled bool, b *agentState) bool {
	if aSkilled != bSkilled {
		return aSkilled
	}
	return better(a, b)
}

// watchWait starts a waiting conversation's timers: widening to the whole queue after its
// WidenAfterS (when it needs skills), and the offer to leave a message after MaxWaitS.
func (r *router) watchWait(cs *convState) {
	r.stopWaitTimers(cs)
	q := cs.queue.q
	waited := r.s.now().Sub(time.UnixMilli(cs.conv.QueuedAt))
	cs.widened = len(cs.conv.Skills) == 0 || waited >= time.Duration(q.WidenAfterS)*time.Second
	if !cs.widened {
		cs.widenTimer = r.s.cfg.AfterFunc(time.Duration(q.WidenAfterS)*time.Second-waited, func() {
			r.post(func() {
				if r.convs[cs.conv.ID] != cs || cs.conv.State != wire.ConvWaiting || cs.widened {
					return
				}
				cs.widened = true
				r.s.log.Info("no agent with the skills took it; offering it to the whole queue", "org", cs.org.id, "conv", cs.conv.ID, "queue", q.ID)
				r.route(cs.org)
				r.dirty[cs.org] = struct{}{}
			})
		})
	}
	cs.overflow = q.MaxWaitS > 0 && waited >= time.Duration(q.MaxWaitS)*time.Second && !cs.conv.Message
	if q.MaxWaitS > 0 && !cs.overflow && !cs.conv.Message {
		cs.maxWaitTimer = r.s.cfg.AfterFunc(time.Duration(q.MaxWaitS)*time.Second-waited, func() {
			r.post(func() {
				if r.convs[cs.conv.ID] != cs || cs.conv.State != wire.ConvWaiting || cs.conv.Message {
					return
				}
				cs.overflow = true
				r.dirty[cs.org] = struct{}{}
			})
		})
	}
}

// stopWaitTimers stops a conversation's waiting timers (it was taken, moved or ended).
func (r *router) stopWaitTimers(cs *convState) {
	if cs.widenTimer != nil {
		cs.widenTimer.Stop()
		cs.widenTimer = nil
	}
	if cs.maxWaitTimer != nil {
		cs.maxWaitTimer.Stop()
		cs.maxWaitTimer = nil
	}
}

// applyQueue makes qs the conversation's queue: its name, call setting and providers.
func (r *router) applyQueue(cs *convState, qs *queueState) {
	cs.queue = qs
	cs.conv.Queue, cs.conv.QueueName = qs.q.ID, qs.q.Name
	cs.conv.Calls = cs.callsAllowed()
	cs.conv.Visual = qs.q.Visual
}

// callsAllowed is the conversation's call setting: its queue's, or the organisation's.
func (cs *convState) callsAllowed() wire.CallsAllowed {
	if cs.queue != nil && cs.queue.q.Calls != "" {
		return cs.queue.q.Calls
	}
	return cs.org.callsAllowed()
}

// routing is what the store keeps of cs's routing.
func (cs *convState) routing() store.ConvRouting {
	return store.ConvRouting{Queue: cs.conv.Queue, QueuedAt: cs.conv.QueuedAt, Skills: cs.conv.Skills, Message: cs.conv.Message,
		Contact: cs.conv.Contact, Transfer: cs.conv.Transfer, Visit: cs.visit.N}
}

// saveRouting stores cs's routing and current visit. A failure is logged: the conversation goes on
// (its figures may be off), as a chat must not stop for a report.
func (r *router) saveRouting(cs *convState) {
	ctx, cancel := dbctx()
	defer cancel()
	if err := r.s.store.SaveConvRouting(ctx, cs.conv.ID, cs.routing()); err != nil {
		r.s.log.Error("storing a conversation's routing", "conv", cs.conv.ID, "err", err)
	}
	r.saveVisit(cs)
}

// saveVisit hands cs's current visit to the visit writer, which stores it off the loop.
func (r *router) saveVisit(cs *convState) {
	if cs.visit.N > 0 {
		r.visits.save(cs.visit)
	}
}

// visitAnswered records that an agent took cs now.
func (r *router) visitAnswered(cs *convState, a *agentState) {
	now := r.s.now().UnixMilli()
	if cs.visit.N == 0 || cs.visit.AnsweredAt > 0 {
		return
	}
	cs.visit.AnsweredAt, cs.visit.Agent = now, a.user.ID
	cs.visit.Message = cs.conv.Message
	r.saveVisit(cs)
	if qs := cs.queue; qs != nil {
		ev := figureEvent{kind: figAnswered, at: now, queue: qs.q.ID, ms: now - cs.visit.EnteredAt, message: cs.conv.Message}
		qs.figures.add(ev)
		r.s.metrics.queueWait.WithLabelValues(string(cs.org.id), string(qs.q.ID)).Observe(float64(ev.ms) / 1000)
		r.s.metrics.queueAnswered.WithLabelValues(string(cs.org.id), string(qs.q.ID), inTarget(ev.ms, qs.q.ServiceLevel)).Inc()
		if !cs.conv.Message {
			qs.answered(now)
		}
	}
}

// visitLeft closes cs's current visit with outcome.
func (r *router) visitLeft(cs *convState, outcome store.VisitOutcome) {
	if cs.visit.N == 0 || cs.visit.LeftAt > 0 {
		return
	}
	now := r.s.now().UnixMilli()
	cs.visit.LeftAt, cs.visit.Outcome = now, outcome
	if cs.visit.AnsweredAt == 0 && outcome == store.VisitEnded && !cs.conv.Message {
		// The customer left before any agent took it.
		cs.visit.Outcome = store.VisitAbandoned
	}
	cs.visit.Message = cs.visit.Message || cs.conv.Message
	r.saveVisit(cs)
	qs := cs.queue
	if qs == nil {
		return
	}
	for _, ev := range visitEvents([]store.Visit{cs.visit}, now) {
		if ev.kind == figAnswered || ev.kind == figFirstResponse {
			continue // counted when they happened
		}
		qs.figures.add(ev)
		if ev.kind == figAbandoned {
			r.s.metrics.queueAbandoned.WithLabelValues(string(cs.org.id), string(qs.q.ID)).Inc()
		}
	}
}

// firstResponse records the agent's first message in cs's current visit.
func (r *router) firstResponse(cs *convState) {
	v := &cs.visit
	if v.N == 0 || v.AnsweredAt == 0 || v.FirstResponseAt > 0 || v.LeftAt > 0 {
		return
	}
	v.FirstResponseAt = r.s.now().UnixMilli()
	r.saveVisit(cs)
	if qs := cs.queue; qs != nil {
		qs.figures.add(figureEvent{kind: figFirstResponse, at: v.FirstResponseAt, queue: qs.q.ID, ms: v.FirstResponseAt - v.EnteredAt})
		r.dirty[cs.org] = struct{}{}
	}
}

// inTarget labels a wait by the queue's service level.
func inTarget(ms int64, sl wire.ServiceLevel) string {
	if ms <= int64(sl.TargetS)*1000 {
		return "yes"
	}
	return "no"
}

// prechat returns an organisation's pre-chat question (none when never set).
func (s *Server) prechat(ctx context.Context, org wire.OrgID) (wire.Prechat, error) {
	raw, err := s.store.OrgSetting(ctx, org, settingPrechat)
	if errors.Is(err, store.ErrNotFound) {
		return wire.Prechat{Choices: []wire.PrechatChoice{}}, nil
	}
	if err != nil {
		return wire.Prechat{}, err
	}
	var p wire.Prechat
	if err := json.Unmarshal([]byte(raw), &p); err != nil {
		return wire.Prechat{}, err
	}
	if p.Choices == nil {
		p.Choices = []wire.PrechatChoice{}
	}
	return p, nil
}

// queuePositions are, for each waiting conversation of org, its place in its own queue.
func queuePositions(org *orgState) map[*convState]int {
	counts := make(map[*queueState]int, len(org.order))
	pos := make(map[*convState]int, len(org.queue))
	for _, cs := range org.queue {
		counts[cs.queue]++
		pos[cs] = counts[cs.queue]
	}
	return pos
}

// positionFrame is what a waiting customer is told about their place.
func (r *router) positionFrame(cs *convState, pos int, now time.Time) wire.QueuePosition {
	qp := wire.QueuePosition{Conv: cs.conv.ID, Position: pos, Overflow: cs.overflow}
	if cs.queue != nil {
		qp.Queue = cs.queue.q.ID
		// Rounded up to whole minutes, so the number a customer reads only changes when it
		// should.
		if ewt := cs.queue.estimatedWait(pos, now); ewt > 0 {
			qp.EstimatedWaitMS = int64((ewt + time.Minute - 1) / time.Minute * time.Minute / time.Millisecond)
		}
	}
	return qp
}

// queuesOf lists the queues a takes conversations from, in the admin's order.
func (o *orgState) queuesOf(a *agentState) []wire.QueueID {
	var out []wire.QueueID
	for _, qs := range o.order {
		if qs.serves(a) {
			out = append(out, qs.q.ID)
		}
	}
	return out
}

// skillList is a skill map as a sorted list.
func skillList(m map[string]int) []wire.Skill {
	out := make([]wire.Skill, 0, len(m))
	for name, level := range m {
		out = append(out, wire.Skill{Name: name, Level: level})
	}
	slices.SortFunc(out, func(a, b wire.Skill) int { return cmp.Compare(a.Name, b.Name) })
	return out
}

// restoreRouting gives a conversation picked up at start its queue, skills, transfer and
// current visit as stored (a conversation from before queues goes to the default queue).
func (r *router) restoreRouting(cs *convState, cr store.ConvRouting) {
	o := cs.org
	qs := o.queues[cr.Queue]
	if qs == nil {
		qs = o.def
	}
	cs.conv.QueuedAt, cs.conv.Skills, cs.conv.Message, cs.conv.Contact, cs.conv.Transfer = cr.QueuedAt, cr.Skills, cr.Message, cr.Contact, cr.Transfer
	if cs.conv.QueuedAt == 0 {
		cs.conv.QueuedAt = cs.conv.CreatedAt
	}
	r.applyQueue(cs, qs)
	if v, ok := o.openVisits[cs.conv.ID]; ok && v.N == cr.Visit {
		cs.visit = v
		cs.visit.Queue = qs.q.ID
	} else {
		cs.visit = store.Visit{Conv: cs.conv.ID, N: max(cr.Visit, 1), Org: o.id, Queue: qs.q.ID, EnteredAt: cs.conv.QueuedAt}
		if cs.conv.State == wire.ConvActive {
			cs.visit.AnsweredAt, cs.visit.Agent = cs.conv.AcceptedAt, cs.conv.AgentID
		}
	}
	delete(o.openVisits, cs.conv.ID)
}

// leaveMessage turns a customer's waiting conversation into a left message: it keeps its place
// for the next agent, and no longer ends when the customer goes.
func (r *router) leaveMessage(c *conn, rid string, lm wire.LeaveMessage) error {
	return r.call(func() error {
		if c.role != wire.RoleCustomer {
			return wire.Errorf(wire.EFORBIDDEN, "only the customer leaves a message")
		}
		cs, err := r.participant(c, lm.Conv)
		if err != nil {
			return err
		}
		if cs.conv.State != wire.ConvWaiting {
			return wire.Errorf(wire.ECONFLICT, "an agent has already taken the conversation")
		}
		if !cs.conv.Message {
			cs.conv.Message, cs.conv.Contact = true, lm.Contact
			cs.visit.Message = true
			cs.overflow = false
			r.stopWaitTimers(cs)
			if !cs.widened { // the skills still matter; the wait for them goes on
				r.watchWait(cs)
			}
			if cs.abandon != nil {
				cs.abandon.Stop()
				cs.abandon = nil
			}
			r.saveRouting(cs)
			r.systemEvent(cs, "The customer left a message.", &wire.Event{Kind: wire.EventMessageLeft})
			r.sendConvState(cs)
			if o := cs.offer; o != nil {
				o.agent.push(encode(wire.TypeOffer, r.offerFrame(o)))
			}
			r.s.log.Info("the customer left a message", "org", cs.org.id, "conv", cs.conv.ID, "queue", cs.conv.Queue)
			r.dirty[cs.org] = struct{}{}
		} else if lm.Contact != "" && lm.Contact != cs.conv.Contact {
			cs.conv.Contact = lm.Contact
			r.saveRouting(cs)
			r.sendConvState(cs)
		}
		ack(c, rid, wire.Ack{Conv: cs.conv.ID, Seq: cs.conv.LastSeq})
		return nil
	})
}

// requeued starts a new visit for a conversation that went back to its queue because its agent
// became unavailable (the last visit counts as handled and moved on).
func (r *router) requeued(cs *convState) {
	r.visitLeft(cs, store.VisitTransferred)
	now := r.s.now().UnixMilli()
	cs.conv.QueuedAt = now
	cs.visit = store.Visit{Conv: cs.conv.ID, N: cs.visit.N + 1, Org: cs.org.id, Queue: cs.queue.q.ID, EnteredAt: now}
	cs.sentPos, cs.sentWait = 0, 0
	r.saveRouting(cs)
	r.watchWait(cs)
}
