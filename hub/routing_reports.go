package hub

import (
	"net/http"
	"strconv"
	"time"

	"github.com/parleyhq/parley/wire"
)

// The queues report: each queue's waiting-time figures over a window, in one row per queue, or
// one per queue and interval (?interval=1h) for a day's shape. It reads the stored visits and sums
// them with the same code as the live figures (routing_figures.go).

// queuesHeader are the columns of queues.csv.
var queuesHeader = []string{"queue", "name", "from", "to", "answered", "abandoned", "messages", "transferred",
	"service_level_pct", "target_s", "target_pct", "asa_s", "abandon_pct", "first_response_s",
	"handled_with_call", "aht_with_call_s", "handled_without_call", "aht_without_call_s"}

// handleQueuesCSV serves queues.csv.
func (s *Server) handleQueuesCSV(w http.ResponseWriter, r *http.Request) {
	org, since, until, err := s.reportWindow(r)
	if err != nil {
		writeError(w, err)
		return
	}
	step := until.Sub(since)
	if v := r.URL.Query().Get("interval"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 15*time.Minute || until.Sub(since)/d > 24*62 {
			writeError(w, wire.Errorf(wire.EINVALID, "interval must be a duration of at least 15m (e.g. 1h), at most 1,488 intervals"))
			return
		}
		step = d
	}
	queues, err := s.Queues(r.Context(), org)
	if err != nil {
		writeError(w, err)
		return
	}
	visits, err := s.visits(r.Context(), org, since.UnixMilli(), until.UnixMilli())
	if err != nil {
		s.log.Error("queues report", "org", org, "err", err)
		writeError(w, err)
		return
	}
	events := visitEvents(visits, since.UnixMilli())
	var rows [][]string
	for _, q := range queues {
		for from := since; from.Before(until); from = from.Add(step) {
			to := from.Add(step)
			if to.After(until) {
				to = until
			}
			f := newQueueFigures()
			f.setTarget(q.ServiceLevel)
			for _, ev := range events {
				if ev.queue == q.ID && ev.at >= from.UnixMilli() && ev.at < to.UnixMilli() {
					f.add(ev)
				}
			}
			var st wire.QueueStats
			f.stats(&st)
			rows = append(rows, []string{string(q.ID), q.Name, msTime(from.UnixMilli()), msTime(to.UnixMilli()),
				strconv.Itoa(st.Answered), strconv.Itoa(st.Abandoned), strconv.Itoa(st.Messages), strconv.Itoa(st.Transferred),
				share(st.ServiceLevelPct), strconv.Itoa(q.ServiceLevel.TargetS), strconv.Itoa(q.ServiceLevel.Percent), seconds(st.ASAMS),
				share(st.AbandonPct), seconds(st.FirstResponseMS), strconv.Itoa(st.WithCall), seconds(st.AHTWithCallMS),
				strconv.Itoa(st.WithoutCall), seconds(st.AHTWithoutCallMS)})
		}
	}
	writeCSV(w, "queues-"+string(org)+".csv", queuesHeader, rows)
}

// share is a percentage for a report: empty when there was nothing to count.
func share(pct float64) string {
	if pct < 0 {
		return ""
	}
	return strconv.FormatFloat(pct, 'f', 1, 64)
}
