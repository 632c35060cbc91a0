package hub

import (
	"cmp"
	"slices"
	"time"

	"github.com/parleyhq/parley/hub/store"
	"github.com/parleyhq/parley/wire"
)

// A queue's waiting-time figures over a sliding window: the router adds each event as it
// happens (an answer, an abandonment, a first response, an end of handling) and drops those
// older than the window, keeping running sums, so the figures cost the same however busy the
// queue. The CSV report computes the same figures from the stored visits with the same code.
//
// Definitions (docs/routing.md): service level is the share of the conversations answered or
// abandoned in the window that were answered within the queue's target; abandonment is the share
// abandoned; the average speed of answer is the mean wait of the answered ones. Left messages are
// counted apart and kept out of those three, since their customer chose not to wait.

// figureKind is what a figure event records.
type figureKind uint8

const (
	// figAnswered: an agent took a conversation after ms of waiting.
	figAnswered figureKind = iota + 1
	// figAbandoned: the customer left before any agent took it.
	figAbandoned
	// figFirstResponse: the agent's first message came ms after the conversation joined the
	// queue.
	figFirstResponse
	// figHandled: an agent's handling ended (the conversation ended or moved on) after ms.
	figHandled
)

// figureEvent is one event of a queue's figures.
type figureEvent struct {
	kind  figureKind
	at    int64
	queue wire.QueueID
	ms    int64
	// message marks an answered left message; withCall a handling with an answered call;
	// transferred a handling that ended in a transfer.
	message, withCall, transferred bool
}

// queueFigures are a queue's running sums over a window.
type queueFigures struct {
	// events are the events in the window, oldest first; head is the first one still in it.
	events []figureEvent
	head   int
	// The sums of the events from head on.
	answered, inTarget, abandoned, messages, transferred int
	waitMS                                               int64
	firstN                                               int
	firstMS                                              int64
	withCall, withoutCall                                int
	withCallMS, withoutCallMS                            int64
	// target is the service level the inTarget sum counts against; a new target recounts.
	target wire.ServiceLevel
}

func newQueueFigures() *queueFigures { return &queueFigures{} }

// add counts ev; events come in time order.
func (f *queueFigures) add(ev figureEvent) {
	f.events = append(f.events, ev)
	f.count(ev, 1)
}

// count adds (sign 1) or removes (sign -1) ev from the sums.
func (f *queueFigures) count(ev figureEvent, sign int) {
	switch ev.kind {
	case figAnswered:
		if ev.message {
			f.messages += sign
			return
		}
		f.answered += sign
		f.waitMS += int64(sign) * ev.ms
		if f.target.TargetS > 0 && ev.ms <= int64(f.target.TargetS)*1000 {
			f.inTarget += sign
		}
	case figAbandoned:
		f.abandoned += sign
	case figFirstResponse:
		f.firstN += sign
		f.firstMS += int64(sign) * ev.ms
	case figHandled:
		if ev.transferred {
			f.transferred += sign
		}
		if ev.withCall {
			f.withCall += sign
			f.withCallMS += int64(sign) * ev.ms
		} else {
			f.withoutCall += sign
			f.withoutCallMS += int64(sign) * ev.ms
		}
	}
}

// expire drops the events before since.
func (f *queueFigures) expire(since int64) {
	for f.head < len(f.events) && f.events[f.head].at < since {
		f.count(f.events[f.head], -1)
		f.head++
	}
	// Reclaim the dropped ones once they are most of the slice.
	if f.head > 64 && f.head*2 > len(f.events) {
		f.events = slices.Delete(f.events, 0, f.head)
		f.head = 0
	}
}

// setTarget counts inTarget against sl, recounting when it changed.
func (f *queueFigures) setTarget(sl wire.ServiceLevel) {
	if f.target == sl {
		return
	}
	f.target = sl
	f.inTarget = 0
	for _, ev := range f.events[f.head:] {
		if ev.kind == figAnswered && !ev.message && ev.ms <= int64(sl.TargetS)*1000 {
			f.inTarget++
		}
	}
}

// stats fills the window's figures into st.
func (f *queueFigures) stats(st *wire.QueueStats) {
	st.Answered, st.Abandoned, st.Messages, st.Transferred = f.answered, f.abandoned, f.messages, f.transferred
	st.ServiceLevelPct, st.AbandonPct = -1, -1
	if n := f.answered + f.abandoned; n > 0 {
		st.ServiceLevelPct = pct(f.inTarget, n)
		st.AbandonPct = pct(f.abandoned, n)
	}
	st.ASAMS = avg(f.waitMS, f.answered)
	st.FirstResponseMS = avg(f.firstMS, f.firstN)
	st.WithCall, st.WithoutCall = f.withCall, f.withoutCall
	st.AHTWithCallMS, st.AHTWithoutCallMS = avg(f.withCallMS, f.withCall), avg(f.withoutCallMS, f.withoutCall)
}

// pct is n of total as a percentage with one decimal.
func pct(n, total int) float64 {
	return float64(n*1000/total) / 10
}

func avg(sum int64, n int) int64 {
	if n == 0 {
		return 0
	}
	return sum / int64(n)
}

// visitEvents turns visits into their figure events at or after since, in time order.
func visitEvents(visits []store.Visit, since int64) []figureEvent {
	var out []figureEvent
	add := func(ev figureEvent) {
		if ev.at >= since {
			out = append(out, ev)
		}
	}
	for _, v := range visits {
		if v.AnsweredAt > 0 {
			add(figureEvent{kind: figAnswered, at: v.AnsweredAt, queue: v.Queue, ms: v.AnsweredAt - v.EnteredAt, message: v.Message})
			if v.FirstResponseAt > 0 {
				add(figureEvent{kind: figFirstResponse, at: v.FirstResponseAt, queue: v.Queue, ms: v.FirstResponseAt - v.EnteredAt})
			}
			if v.LeftAt > 0 {
				add(figureEvent{kind: figHandled, at: v.LeftAt, queue: v.Queue, ms: v.LeftAt - v.AnsweredAt, withCall: v.WithCall,
					transferred: v.Outcome == store.VisitTransferred})
			}
		} else if v.Outcome == store.VisitAbandoned && !v.Message {
			add(figureEvent{kind: figAbandoned, at: v.LeftAt, queue: v.Queue})
		}
	}
	slices.SortStableFunc(out, func(a, b figureEvent) int { return cmp.Compare(a.at, b.at) })
	return out
}

// queueStats are the figures of each of org's queues at now, in the admin's order.
func (r *router) queueStats(org *orgState, now time.Time) []wire.QueueStats {
	out := make([]wire.QueueStats, 0, len(org.order))
	index := make(map[*queueState]int, len(org.order))
	since := now.Add(-statsWindow).UnixMilli()
	for _, qs := range org.order {
		qs.figures.expire(since)
		st := wire.QueueStats{Queue: qs.q.ID, Name: qs.q.Name, Target: qs.q.ServiceLevel, SinceMS: since,
			EstimatedWaitMS: qs.estimatedWait(1, now).Milliseconds()}
		qs.figures.stats(&st)
		for _, a := range org.agents {
			if a.online && qs.serves(a) {
				st.AgentsOnline++
				if a.canTake() {
					st.AgentsAvailable++
				}
			}
		}
		index[qs] = len(out)
		out = append(out, st)
	}
	for _, cs := range org.queue {
		i, ok := index[cs.queue]
		if !ok {
			continue
		}
		out[i].Waiting++
		out[i].LongestWaitMS = max(out[i].LongestWaitMS, now.UnixMilli()-cs.conv.QueuedAt)
	}
	return out
}

// unixMilli is t in Unix milliseconds, 0 for the zero time.
func unixMilli(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}
