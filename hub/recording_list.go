package hub

import (
	"cmp"
	"context"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/parleyhq/parley/hub/store"
	"github.com/parleyhq/parley/wire"
)

// The organisation's recorded calls, newest first, a page at a time: where supervisors and admins
// find an ended conversation's recording without the CSV reports (the team view shows open
// conversations only). A call is listed once a file of its recording reached the store; the
// call's record (times, agent) and its conversation (customer, queue) say the rest.
//
// Each request lists the organisation's keys in the recordings store once and reads its ended
// calls once, then the conversations of the page's calls: fine for thousands of recordings; an
// index of recorded calls in the database would be the next step beyond that.

// recordedCallsRoutes adds the list of recorded calls.
func (s *Server) recordedCallsRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/v1/orgs/{org}/recordings", s.handleRecordedCalls)
}

func (s *Server) handleRecordedCalls(w http.ResponseWriter, r *http.Request) {
	org := wire.OrgID(r.PathValue("org"))
	if _, err := s.member(r, org, wire.RoleAdmin, wire.RoleSupervisor); err != nil {
		writeError(w, err)
		return
	}
	q := r.URL.Query()
	limit := wire.DefaultRecordedCalls
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > wire.MaxRecordedCalls {
			writeError(w, wire.Errorf(wire.EINVALID, "limit must be from 1 to %d", wire.MaxRecordedCalls))
			return
		}
		limit = n
	}
	out, err := s.RecordedCalls(r.Context(), org, q.Get("before"), limit, s.baseURL(r))
	s.answer(w, "listing recorded calls", out, err)
}

// recordedCursor is a page's position: the ended time and id of the last call it showed.
type recordedCursor struct {
	ended int64
	call  wire.CallID
}

func parseRecordedCursor(v string) (recordedCursor, error) {
	ms, id, ok := strings.Cut(v, ".")
	n, err := strconv.ParseInt(ms, 10, 64)
	if !ok || err != nil || n <= 0 || !safeID(id) {
		return recordedCursor{}, wire.Errorf(wire.EINVALID, "before must be a cursor from the last page")
	}
	return recordedCursor{ended: n, call: wire.CallID(id)}, nil
}

func (c recordedCursor) String() string { return strconv.FormatInt(c.ended, 10) + "." + string(c.call) }

// before says whether cl comes after the cursor in the newest-first order.
func (c recordedCursor) before(cl store.CallRecord) bool {
	return cl.EndedAt < c.ended || (cl.EndedAt == c.ended && cl.ID < c.call)
}

// RecordedCalls lists org's recorded calls, newest first: limit of them older than the cursor
// before ("" for the first page), with the cursor of the next page. base is the hub's address
// for the playback pages' links.
func (s *Server) RecordedCalls(ctx context.Context, org wire.OrgID, before string, limit int, base string) (wire.RecordedCalls, error) {
	out := wire.RecordedCalls{Calls: []wire.RecordedCall{}}
	until := s.now().UnixMilli() + 1
	var cur *recordedCursor
	if before != "" {
		c, err := parseRecordedCursor(before)
		if err != nil {
			return out, err
		}
		cur, until = &c, c.ended+1
	}
	if s.recs == nil || !safeID(string(org)) {
		return out, nil
	}
	// The calls with a file of their recording: org/conv/call/<track>.
	keys, err := s.recs.List(ctx, string(org)+"/")
	if err != nil {
		return out, err
	}
	recorded := map[wire.CallID]bool{}
	for _, k := range keys {
		parts := strings.Split(k, "/")
		if len(parts) == 4 && slices.Contains(wire.RecordingTracks, wire.RecordingTrack(path.Base(k))) {
			recorded[wire.CallID(parts[2])] = true
		}
	}
	if len(recorded) == 0 {
		return out, nil
	}
	calls, err := s.store.CallsReport(ctx, org, 0, until)
	if err != nil {
		return out, err
	}
	var page []store.CallRecord
	convs := map[wire.ConversationID]wire.Conversation{}
	names := map[wire.UserID]string{}
	for i := len(calls) - 1; i >= 0; i-- {
		cl := calls[i]
		if !recorded[cl.ID] || (cur != nil && !cur.before(cl)) {
			continue
		}
		if len(out.Calls) == limit {
			last := out.Calls[len(out.Calls)-1]
			out.Next = recordedCursor{ended: last.EndedAt, call: last.Call}.String()
			break
		}
		conv, ok := convs[cl.Conv]
		if !ok {
			if conv, err = s.store.Conversation(ctx, cl.Conv); err != nil || conv.Org != org {
				continue // gone (deleted): nothing to play beside
			}
			convs[cl.Conv] = conv
		}
		name, ok := names[cl.Agent]
		if !ok {
			if u, err := s.store.User(ctx, cl.Agent); err == nil {
				name = u.DisplayName
				if name == "" {
					name = u.Username
				}
			}
			names[cl.Agent] = name
		}
		started, dur := cl.CreatedAt, int64(0)
		if cl.AnsweredAt > 0 {
			started, dur = cl.AnsweredAt, max(cl.EndedAt-cl.AnsweredAt, 0)
		}
		out.Calls = append(out.Calls, wire.RecordedCall{Call: cl.ID, Conv: cl.Conv, Kind: cl.Kind, CustomerName: conv.CustomerName,
			Agent: cl.Agent, AgentName: name, StartedAt: started, EndedAt: cl.EndedAt, DurationMS: dur,
			Page: base + "/admin/" + url.PathEscape(string(org)) + "/recordings/" + url.PathEscape(string(cl.Conv))})
		page = append(page, cl)
	}
	s.recordedQueues(ctx, org, out.Calls, page)
	return out, nil
}

// recordedQueues names the queue each of a page's calls was in: its conversation's queue visit
// when the call was placed. Only a name is missing when the visits do not read.
func (s *Server) recordedQueues(ctx context.Context, org wire.OrgID, out []wire.RecordedCall, page []store.CallRecord) {
	if len(page) == 0 {
		return
	}
	since, until := page[0].CreatedAt, page[0].EndedAt+1
	for _, cl := range page {
		since = min(since, cl.CreatedAt)
	}
	visits, err := s.visits(ctx, org, since, until)
	if err != nil {
		s.log.Warn("reading the queue visits of recorded calls; their queues are not named", "org", org, "err", err)
		return
	}
	queues, _ := s.store.Queues(ctx, org)
	name := map[wire.QueueID]string{}
	for _, q := range queues {
		name[q.ID] = q.Name
	}
	for i, cl := range page {
		for _, v := range visits { // oldest first: the last that fits is the call's
			if v.Conv == cl.Conv && v.EnteredAt <= cl.CreatedAt && (v.LeftAt == 0 || v.LeftAt >= cl.CreatedAt) {
				out[i].QueueName = cmp.Or(name[v.Queue], string(v.Queue))
			}
		}
	}
}
