package hub

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/parleyhq/parley/hub/store"
	"github.com/parleyhq/parley/wire"
)

// Routing's administration: checking and storing queues, members' queues and skills and the
// pre-chat question (the admin page's HTTP API and `parley-hub queue`), and telling the running
// router, which applies each change at once.

// slugRE is the shape of queue ids, skill names, pre-chat answer ids and quick-reply shortcuts.
var slugRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,31}$`)

// languages are the languages the portal speaks.
var languages = []string{"en", "es"}

// clockMinutes reads "HH:MM" (00:00 to 24:00) as minutes since midnight.
func clockMinutes(s string) (int, bool) {
	var h, m int
	if len(s) != 5 || s[2] != ':' {
		return 0, false
	}
	if _, err := fmt.Sscanf(s, "%02d:%02d", &h, &m); err != nil || h < 0 || m < 0 || m > 59 || h > 24 || (h == 24 && m != 0) {
		return 0, false
	}
	return h*60 + m, true
}

// checkText refuses text that is missing (when need), too long, not UTF-8 or with control
// characters other than line breaks.
func checkText(field, s string, maxBytes int, need bool) error {
	switch {
	case need && strings.TrimSpace(s) == "":
		return wire.Errorf(wire.EINVALID, "%s is missing", field)
	case len(s) > maxBytes:
		return wire.Errorf(wire.ETOOLARGE, "%s is over %d bytes", field, maxBytes)
	case !utf8.ValidString(s) || strings.ContainsFunc(s, func(r rune) bool { return isControl(r) && r != '\n' }):
		return wire.Errorf(wire.EINVALID, "%s has characters that are not allowed", field)
	}
	return nil
}

// CheckSkills refuses a skill list with bad names, levels out of 1..MaxSkillLevel, repeats, or
// more than MaxSkills.
func CheckSkills(skills []wire.Skill) error {
	if len(skills) > wire.MaxSkills {
		return wire.Errorf(wire.ETOOLARGE, "more than %d skills", wire.MaxSkills)
	}
	seen := map[string]bool{}
	for _, s := range skills {
		switch {
		case !slugRE.MatchString(s.Name):
			return wire.Errorf(wire.EINVALID, "skill %.40q: names are lower-case letters, digits, - and _", s.Name)
		case s.Level < 1 || s.Level > wire.MaxSkillLevel:
			return wire.Errorf(wire.EINVALID, "skill %s: level must be 1 to %d", s.Name, wire.MaxSkillLevel)
		case seen[s.Name]:
			return wire.Errorf(wire.EINVALID, "skill %s is listed twice", s.Name)
		}
		seen[s.Name] = true
	}
	return nil
}

// CheckQueue refuses queue settings that cannot work (EINVALID) or are oversized (ETOOLARGE).
func CheckQueue(q wire.Queue) error {
	if !slugRE.MatchString(string(q.ID)) {
		return wire.Errorf(wire.EINVALID, "queue id %.40q: use lower-case letters, digits, - and _ (up to 32)", q.ID)
	}
	if err := checkText("name", q.Name, wire.MaxNameBytes, true); err != nil {
		return err
	}
	switch q.Calls {
	case "", wire.CallsVoiceVideo, wire.CallsVoiceOnly, wire.CallsNone:
	default:
		return wire.Errorf(wire.EINVALID, "calls must be voice_video, voice, none or empty")
	}
	switch q.Recording {
	case "", wire.RecordingOff, wire.RecordingAsk, wire.RecordingAlways:
	default:
		return wire.Errorf(wire.EINVALID, "recording must be off, ask, always or empty")
	}
	if q.Visual != nil {
		if err := CheckVisualSettings(*q.Visual); err != nil {
			return err
		}
	}
	if q.Language != "" && !slices.Contains(languages, q.Language) {
		return wire.Errorf(wire.EINVALID, "language must be one of %s, or empty", strings.Join(languages, ", "))
	}
	if q.Hours.TimeZone != "" {
		if _, err := time.LoadLocation(q.Hours.TimeZone); err != nil || len(q.Hours.TimeZone) > 64 {
			return wire.Errorf(wire.EINVALID, "time zone %.64q is not an IANA zone such as Europe/Madrid", q.Hours.TimeZone)
		}
	}
	if len(q.Hours.Intervals) > 50 {
		return wire.Errorf(wire.ETOOLARGE, "more than 50 opening intervals")
	}
	for _, iv := range q.Hours.Intervals {
		from, ok1 := clockMinutes(iv.From)
		to, ok2 := clockMinutes(iv.To)
		switch {
		case iv.Day < 0 || iv.Day > 6:
			return wire.Errorf(wire.EINVALID, "day must be 0 (Sunday) to 6 (Saturday)")
		case !ok1 || !ok2:
			return wire.Errorf(wire.EINVALID, "opening times are HH:MM, e.g. 09:00")
		case from >= to:
			return wire.Errorf(wire.EINVALID, "an opening interval ends after it starts (%s-%s); split a night in two", iv.From, iv.To)
		}
	}
	if err := checkText("closed message", q.ClosedMessage, wire.MaxQueueMessageBytes, false); err != nil {
		return err
	}
	if err := CheckSkills(q.Skills); err != nil {
		return err
	}
	switch {
	case q.MaxWaitS < 0 || q.MaxWaitS > 24*3600:
		return wire.Errorf(wire.EINVALID, "max wait must be 0 (none) to 86400 seconds")
	case q.WidenAfterS < 0 || q.WidenAfterS > 3600:
		return wire.Errorf(wire.EINVALID, "widen after must be 0 (default) to 3600 seconds")
	case q.ServiceLevel.TargetS < 0 || q.ServiceLevel.TargetS > 3600:
		return wire.Errorf(wire.EINVALID, "the service level target must be 0 (default) to 3600 seconds")
	case q.ServiceLevel.Percent < 0 || q.ServiceLevel.Percent > 100:
		return wire.Errorf(wire.EINVALID, "the service level percent must be 0 (default) to 100")
	case q.AutoCloseS != 0 && (q.AutoCloseS < wire.MinAutoCloseSeconds || q.AutoCloseS > wire.MaxAutoCloseSeconds):
		return wire.Errorf(wire.EINVALID, "auto close must be 0 (the organisation's) or %d to %d seconds", wire.MinAutoCloseSeconds, wire.MaxAutoCloseSeconds)
	}
	return nil
}

// orgExists maps a missing organisation to ErrOrgNotFound.
func (s *Server) orgExists(ctx context.Context, org wire.OrgID) error {
	_, err := s.store.Org(ctx, org)
	if errors.Is(err, store.ErrNotFound) {
		return ErrOrgNotFound
	}
	return err
}

// Queues returns an organisation's queues: the default one alone until an admin makes any.
func (s *Server) Queues(ctx context.Context, org wire.OrgID) ([]wire.Queue, error) {
	if err := s.orgExists(ctx, org); err != nil {
		return nil, err
	}
	qs, err := s.store.Queues(ctx, org)
	if err != nil {
		return nil, err
	}
	if len(qs) == 0 {
		return []wire.Queue{defaultQueueOf()}, nil
	}
	hasDefault := false
	for i := range qs {
		qs[i] = normalizeQueue(qs[i])
		hasDefault = hasDefault || qs[i].Default
	}
	if !hasDefault {
		qs[0].Default = true
	}
	return qs, nil
}

// SaveQueue checks and stores a queue (new or changed). The first queue an organisation saves
// becomes its default unless it already had the implicit one stored.
func (s *Server) SaveQueue(ctx context.Context, by Actor, org wire.OrgID, q wire.Queue) (wire.Queue, error) {
	q.Name = strings.TrimSpace(q.Name)
	if err := CheckQueue(q); err != nil {
		return q, err
	}
	if (q.Recording == wire.RecordingAsk || q.Recording == wire.RecordingAlways) && s.recordingsDir() == "" {
		return q, errNoRecordings
	}
	existing, err := s.Queues(ctx, org)
	if err != nil {
		return q, err
	}
	stored, err := s.store.Queues(ctx, org)
	if err != nil {
		return q, err
	}
	i := slices.IndexFunc(existing, func(x wire.Queue) bool { return x.ID == q.ID })
	if i < 0 && len(existing) >= wire.MaxQueues {
		return q, wire.Errorf(wire.ETOOLARGE, "an organisation has at most %d queues", wire.MaxQueues)
	}
	if i >= 0 && existing[i].Default && !q.Default {
		return q, wire.Errorf(wire.ECONFLICT, "an organisation always has a default queue: make another one the default instead")
	}
	if len(stored) == 0 && q.ID != DefaultQueue {
		// The implicit default queue becomes a stored one, so the organisation keeps it.
		if err := s.store.SaveQueue(ctx, org, defaultQueueOf()); err != nil {
			return q, err
		}
	}
	if len(stored) == 0 && q.ID == DefaultQueue {
		q.Default = true
	}
	if err := s.store.SaveQueue(ctx, org, q); err != nil {
		return q, err
	}
	q = normalizeQueue(q)
	detail := "changed"
	if i < 0 {
		detail = "created"
	}
	if q.Default {
		detail += ", default"
	}
	s.routingAudit(ctx, by.entry(org, AuditQueueSave, string(q.ID), detail))
	s.router.queueSaved(org, q)
	return q, nil
}

// DeleteQueue removes a queue; its waiting conversations move to the default queue. The default
// queue, and a queue the pre-chat question sends customers to, cannot be removed (ECONFLICT).
func (s *Server) DeleteQueue(ctx context.Context, by Actor, org wire.OrgID, id wire.QueueID) error {
	qs, err := s.Queues(ctx, org)
	if err != nil {
		return err
	}
	i := slices.IndexFunc(qs, func(x wire.Queue) bool { return x.ID == id })
	if i < 0 {
		return wire.Errorf(wire.ENOTFOUND, "no such queue")
	}
	if qs[i].Default {
		return wire.Errorf(wire.ECONFLICT, "the default queue cannot be removed: make another one the default first")
	}
	p, err := s.prechat(ctx, org)
	if err != nil {
		return err
	}
	for _, ch := range p.Choices {
		if ch.Queue == id {
			return wire.Errorf(wire.ECONFLICT, "the pre-chat answer %q sends customers to this queue", ch.Label)
		}
	}
	if err := s.store.DeleteQueue(ctx, org, id); err != nil {
		return err
	}
	s.routingAudit(ctx, by.entry(org, AuditQueueDelete, string(id), ""))
	s.router.queueDeleted(org, id)
	return nil
}

// SetMemberRouting checks and stores a member's queues and skills.
func (s *Server) SetMemberRouting(ctx context.Context, by Actor, org wire.OrgID, m wire.MemberRouting) error {
	u, err := s.store.User(ctx, m.User)
	if errors.Is(err, store.ErrNotFound) || (err == nil && u.Org != org) {
		return wire.Errorf(wire.ENOTFOUND, "no such member")
	}
	if err != nil {
		return err
	}
	if err := CheckSkills(m.Skills); err != nil {
		return err
	}
	qs, err := s.Queues(ctx, org)
	if err != nil {
		return err
	}
	seen := map[wire.QueueID]bool{}
	for _, id := range m.Queues {
		if !slices.ContainsFunc(qs, func(q wire.Queue) bool { return q.ID == id }) {
			return wire.Errorf(wire.ENOTFOUND, "no queue %.40q", id)
		}
		if seen[id] {
			return wire.Errorf(wire.EINVALID, "queue %s is listed twice", id)
		}
		seen[id] = true
	}
	if stored, err := s.store.Queues(ctx, org); err != nil {
		return err
	} else if len(stored) == 0 && len(m.Queues) > 0 {
		if err := s.store.SaveQueue(ctx, org, defaultQueueOf()); err != nil {
			return err
		}
	}
	if m.Queues == nil {
		m.Queues = []wire.QueueID{}
	}
	if m.Skills == nil {
		m.Skills = []wire.Skill{}
	}
	if err := s.store.SetMemberRouting(ctx, org, m); err != nil {
		return err
	}
	s.routingAudit(ctx, by.entry(org, AuditMemberRouting, u.Username, describeRouting(m)))
	s.router.memberRoutingChanged(org, m)
	return nil
}

// SetPrechat checks and stores the pre-chat question; no choices means none is asked.
func (s *Server) SetPrechat(ctx context.Context, by Actor, org wire.OrgID, p wire.Prechat) error {
	p.Question = strings.TrimSpace(p.Question)
	if len(p.Choices) > 0 {
		if err := checkText("question", p.Question, 200, true); err != nil {
			return err
		}
	}
	if len(p.Choices) > 12 {
		return wire.Errorf(wire.ETOOLARGE, "at most 12 answers")
	}
	qs, err := s.Queues(ctx, org)
	if err != nil {
		return err
	}
	seen := map[string]bool{}
	p.Choices = slices.Clone(p.Choices) // trimmed here, never in the caller's slice
	for i, ch := range p.Choices {
		p.Choices[i].Label = strings.TrimSpace(ch.Label)
		switch {
		case !slugRE.MatchString(ch.ID):
			return wire.Errorf(wire.EINVALID, "answer id %.40q: use lower-case letters, digits, - and _", ch.ID)
		case seen[ch.ID]:
			return wire.Errorf(wire.EINVALID, "answer %s is listed twice", ch.ID)
		case !slices.ContainsFunc(qs, func(q wire.Queue) bool { return q.ID == ch.Queue }):
			return wire.Errorf(wire.ENOTFOUND, "answer %s: no queue %.40q", ch.ID, ch.Queue)
		}
		if err := checkText("answer", p.Choices[i].Label, wire.MaxNameBytes, true); err != nil {
			return err
		}
		if err := CheckSkills(ch.Skills); err != nil {
			return err
		}
		seen[ch.ID] = true
	}
	if p.Choices == nil {
		p.Choices = []wire.PrechatChoice{}
	}
	raw, err := json.Marshal(p)
	if err != nil {
		return err
	}
	if err := s.store.SetOrgSetting(ctx, org, settingPrechat, string(raw)); err != nil {
		return err
	}
	s.routingAudit(ctx, by.entry(org, AuditPrechat, "", fmt.Sprintf("%d answers", len(p.Choices))))
	s.router.prechatChanged(org, p)
	return nil
}

// Routing returns what the admin's routing page edits.
func (s *Server) Routing(ctx context.Context, org wire.OrgID) (wire.Routing, error) {
	qs, err := s.Queues(ctx, org)
	if err != nil {
		return wire.Routing{}, err
	}
	users, err := s.store.Users(ctx, org)
	if err != nil {
		return wire.Routing{}, err
	}
	mrs, err := s.store.MemberRoutings(ctx, org)
	if err != nil {
		return wire.Routing{}, err
	}
	byUser := map[wire.UserID]wire.MemberRouting{}
	for _, m := range mrs {
		byUser[m.User] = m
	}
	out := wire.Routing{Queues: qs, Members: []wire.RoutingMember{}}
	for _, u := range users {
		m := byUser[u.ID]
		rm := wire.RoutingMember{User: u.ID, Queues: m.Queues, Skills: m.Skills, Username: u.Username, DisplayName: u.DisplayName, Role: u.Role, Capacity: u.Capacity}
		if rm.Queues == nil {
			rm.Queues = []wire.QueueID{}
		}
		if rm.Skills == nil {
			rm.Skills = []wire.Skill{}
		}
		out.Members = append(out.Members, rm)
	}
	out.Prechat, err = s.prechat(ctx, org)
	return out, err
}

// The router side of the changes above.

// queueSaved applies a queue's new settings; its waiting conversations follow them.
func (r *router) queueSaved(org wire.OrgID, q wire.Queue) {
	if r == nil {
		return // seeding, before the router runs
	}
	_ = r.call(func() error {
		o := r.orgs[org]
		if o == nil {
			return nil // read with the new settings on first use
		}
		qs := r.putQueue(o, q)
		for _, cs := range r.convs {
			if cs.queue != qs {
				continue
			}
			r.applyQueue(cs, qs)
			if cs.conv.State == wire.ConvWaiting {
				r.watchWait(cs)
			} else {
				r.armIdle(cs, false) // the queue's auto-close time may have changed
				r.toMembers(cs, encode(wire.TypeConvState, cs.conv))
			}
		}
		r.route(o)
		r.dirty[o] = struct{}{}
		return nil
	})
}

// queueDeleted moves a removed queue's conversations to the default queue.
func (r *router) queueDeleted(org wire.OrgID, id wire.QueueID) {
	if r == nil {
		return // seeding, before the router runs
	}
	_ = r.call(func() error {
		o := r.orgs[org]
		if o == nil || o.queues[id] == nil || o.queues[id] == o.def {
			return nil
		}
		r.dropQueue(o, o.queues[id])
		r.route(o)
		r.dirty[o] = struct{}{}
		return nil
	})
}

// dropQueue removes a queue from o; its conversations move to the default queue.
func (r *router) dropQueue(o *orgState, gone *queueState) {
	delete(o.queues, gone.q.ID)
	o.order = slices.DeleteFunc(o.order, func(x *queueState) bool { return x == gone })
	for _, cs := range r.convs {
		if cs.queue != gone {
			continue
		}
		r.applyQueue(cs, o.def)
		cs.visit.Queue = o.def.q.ID
		r.saveRouting(cs)
		if cs.conv.State == wire.ConvWaiting {
			r.watchWait(cs)
		}
		r.toMembers(cs, encode(wire.TypeConvState, cs.conv))
	}
}

// memberRoutingChanged applies a member's new queues and skills.
func (r *router) memberRoutingChanged(org wire.OrgID, m wire.MemberRouting) {
	if r == nil {
		return // seeding, before the router runs
	}
	_ = r.call(func() error {
		o := r.orgs[org]
		if o == nil {
			return nil
		}
		r.applyMemberRouting(o, m)
		r.route(o)
		r.dirty[o] = struct{}{}
		return nil
	})
}

// prechatChanged applies a new pre-chat question.
func (r *router) prechatChanged(org wire.OrgID, p wire.Prechat) {
	if r == nil {
		return // seeding, before the router runs
	}
	_ = r.call(func() error {
		if o := r.orgs[org]; o != nil {
			o.prechat = p
		}
		return nil
	})
}

// widget is what the portal learns about an organisation's queues: the queue asked for (the
// default one when it is unknown, with a warning in the log) and, when the widget named none, the
// pre-chat question with each answer's queue.
func (r *router) widget(org wire.OrgID, queue wire.QueueID) (wire.QueueInfo, *wire.PrechatQuestion, error) {
	var info wire.QueueInfo
	var pq *wire.PrechatQuestion
	err := r.call(func() error {
		o, err := r.org(org)
		if err != nil {
			return err
		}
		now := r.s.now()
		qs, _ := r.queueFor(o, queue, "")
		info = qs.info(now)
		info.NobodyAvailable = !o.staffed(qs)
		if queue != "" || len(o.prechat.Choices) == 0 {
			return nil
		}
		pq = &wire.PrechatQuestion{Question: o.prechat.Question, Choices: []wire.PrechatOption{}}
		for _, ch := range o.prechat.Choices {
			if qs := o.queues[ch.Queue]; qs != nil {
				qi := qs.info(now)
				qi.NobodyAvailable = !o.staffed(qs)
				pq.Choices = append(pq.Choices, wire.PrechatOption{ID: ch.ID, Label: ch.Label, Queue: qi})
			}
		}
		return nil
	})
	return info, pq, err
}

// admission is where a new conversation goes.
type admission struct {
	queue  *queueState
	info   wire.QueueInfo
	skills []wire.Skill
}

// admit resolves the queue and skills of a conversation about to start.
func (r *router) admit(org wire.OrgID, queue wire.QueueID, choice string) (admission, error) {
	var a admission
	err := r.call(func() error {
		o, err := r.org(org)
		if err != nil {
			return err
		}
		qs, extra := r.queueFor(o, queue, choice)
		a = admission{queue: qs, info: qs.info(r.s.now()), skills: needs(qs, extra)}
		return nil
	})
	return a, err
}

// routingRoutes adds the routing admin API.
func (s *Server) routingRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/v1/orgs/{org}/routing", s.handleGetRouting)
	mux.HandleFunc("PUT /api/v1/orgs/{org}/routing/queues/{queue}", s.admin(s.handlePutQueue))
	mux.HandleFunc("DELETE /api/v1/orgs/{org}/routing/queues/{queue}", s.admin(s.handleDeleteQueue))
	mux.HandleFunc("PUT /api/v1/orgs/{org}/routing/members/{user}", s.admin(s.handlePutMemberRouting))
	mux.HandleFunc("PUT /api/v1/orgs/{org}/routing/prechat", s.admin(s.handlePutPrechat))
	mux.HandleFunc("GET /api/v1/orgs/{org}/reports/queues.csv", s.handleQueuesCSV)
	s.quickReplyRoutes(mux)
}

func (s *Server) handleGetRouting(w http.ResponseWriter, r *http.Request) {
	org := wire.OrgID(r.PathValue("org"))
	// Agents read it too: the app's transfer dialog lists the queues and colleagues.
	if _, err := s.member(r, org, wire.RoleAdmin, wire.RoleSupervisor, wire.RoleAgent); err != nil {
		writeError(w, err)
		return
	}
	rt, err := s.Routing(r.Context(), org)
	if err != nil {
		if wire.ErrorCode(err) == wire.EINTERNAL {
			s.log.Error("reading routing", "org", org, "err", err)
		}
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, rt)
}

func (s *Server) handlePutQueue(w http.ResponseWriter, r *http.Request, a adminCtx) {
	var q wire.Queue
	if err := readJSON(r, &q); err != nil {
		writeError(w, err)
		return
	}
	if q.ID == "" {
		q.ID = wire.QueueID(r.PathValue("queue"))
	}
	if string(q.ID) != r.PathValue("queue") {
		writeError(w, wire.Errorf(wire.EINVALID, "the body's id is not the path's"))
		return
	}
	q, err := s.SaveQueue(r.Context(), a.by, a.org, q)
	s.answer(w, "saving a queue", q, err)
}

func (s *Server) handleDeleteQueue(w http.ResponseWriter, r *http.Request, a adminCtx) {
	if err := s.DeleteQueue(r.Context(), a.by, a.org, wire.QueueID(r.PathValue("queue"))); err != nil {
		s.answer(w, "removing a queue", nil, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) handlePutMemberRouting(w http.ResponseWriter, r *http.Request, a adminCtx) {
	var m wire.MemberRouting
	if err := readJSON(r, &m); err != nil {
		writeError(w, err)
		return
	}
	m.User = wire.UserID(r.PathValue("user"))
	err := s.SetMemberRouting(r.Context(), a.by, a.org, m)
	s.answer(w, "saving a member's queues and skills", m, err)
}

func (s *Server) handlePutPrechat(w http.ResponseWriter, r *http.Request, a adminCtx) {
	var p wire.Prechat
	if err := readJSON(r, &p); err != nil {
		writeError(w, err)
		return
	}
	if err := s.SetPrechat(r.Context(), a.by, a.org, p); err != nil {
		s.answer(w, "saving the pre-chat question", nil, err)
		return
	}
	p, err := s.prechat(r.Context(), a.org)
	s.answer(w, "reading the pre-chat question", p, err)
}

// Audit actions of routing's administration.
const (
	AuditQueueSave     = "routing.queue_save"
	AuditQueueDelete   = "routing.queue_delete"
	AuditMemberRouting = "routing.member"
	AuditPrechat       = "routing.prechat"
	AuditQuickReply    = "routing.quick_reply"
)

// routingAudit writes an audit entry for a routing change already made. The change stands if the
// entry cannot be written (logged): a hub sharing the database then misses it until it restarts.
func (s *Server) routingAudit(ctx context.Context, e store.AuditEntry) {
	if err := s.store.Apply(ctx, store.Change{Audit: []store.AuditEntry{e}}); err != nil {
		s.log.Error("writing a routing change to the audit log", "org", e.Org, "action", e.Action, "err", err)
	}
}

// describeRouting is an audit entry's detail for a member's queues and skills.
func describeRouting(m wire.MemberRouting) string {
	qs := make([]string, len(m.Queues))
	for i, q := range m.Queues {
		qs[i] = string(q)
	}
	sk := make([]string, len(m.Skills))
	for i, x := range m.Skills {
		sk[i] = fmt.Sprintf("%s:%d", x.Name, x.Level)
	}
	return "queues " + strings.Join(qs, ",") + "; skills " + strings.Join(sk, ",")
}

// reloadRouting reads an organisation's routing from the store and hands it to the router: how
// a hub applies changes another process (parley-hub queue) made to its database.
func (s *Server) reloadRouting(ctx context.Context, org wire.OrgID) {
	queues, err := s.store.Queues(ctx, org)
	if err != nil {
		s.log.Warn("reloading routing", "org", org, "err", err)
		return
	}
	members, err := s.store.MemberRoutings(ctx, org)
	if err != nil {
		s.log.Warn("reloading routing", "org", org, "err", err)
		return
	}
	p, err := s.prechat(ctx, org)
	if err != nil {
		s.log.Warn("reloading routing", "org", org, "err", err)
		return
	}
	s.router.routingReloaded(org, queues, members, p)
}

// routingReloaded applies an organisation's routing as stored.
func (r *router) routingReloaded(org wire.OrgID, queues []wire.Queue, members []wire.MemberRouting, p wire.Prechat) {
	if r == nil {
		return
	}
	_ = r.call(func() error {
		o := r.orgs[org]
		if o == nil {
			return nil
		}
		keep := map[wire.QueueID]bool{}
		for _, q := range queues {
			r.putQueue(o, q)
			keep[q.ID] = true
		}
		if len(queues) > 0 {
			for _, qs := range slices.Clone(o.order) {
				if !keep[qs.q.ID] && qs != o.def {
					r.dropQueue(o, qs)
				}
			}
		}
		had := map[wire.UserID]bool{}
		for _, m := range members {
			r.applyMemberRouting(o, m)
			had[m.User] = true
		}
		for id, a := range o.agents {
			if !had[id] && (len(a.skills) > 0 || len(o.queuesOf(a)) < len(o.order)) {
				r.applyMemberRouting(o, wire.MemberRouting{User: id})
			}
		}
		o.prechat = p
		for _, cs := range r.convs {
			if cs.org == o {
				r.applyQueue(cs, cs.queue)
				if cs.conv.State == wire.ConvWaiting {
					r.watchWait(cs)
				}
			}
		}
		r.route(o)
		r.dirty[o] = struct{}{}
		return nil
	})
}
