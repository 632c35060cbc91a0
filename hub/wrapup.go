package hub

import (
	"context"
	"encoding/json"
	"errors"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/parleyhq/parley/hub/store"
	"github.com/parleyhq/parley/wire"
)

// The wrap-up step (wire/wrapup.go): when a conversation an agent handled ends, the agent picks
// an outcome code and may write a note. Until then, or until the organisation's limit has
// passed, routing offers the agent no new chat. The codes and the limit are an organisation
// setting the admin edits. Wrap-ups in progress live in the router only: a restarted hub frees
// the agents (a late wrap-up is still stored).

// settingWrapUp is the org_settings key of the wrap-up step.
const settingWrapUp = "wrap_up"

// AuditWrapUpUpdate is the audit action of a changed wrap-up setting.
const AuditWrapUpUpdate = "settings.wrapup"

var wrapCodePattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,40}$`)

// wrapState is a conversation its agent is wrapping up.
type wrapState struct {
	conv  wire.Conversation
	until time.Time
	timer Timer
}

// defaultWrapUp is the wrap-up step of an organisation that never set one.
func defaultWrapUp() wire.WrapUpSettings {
	return wire.WrapUpSettings{Codes: slices.Clone(wire.DefaultWrapCodes)}
}

// wrapUpSetting reads an organisation's wrap-up step, the defaults filled in.
func (s *Server) wrapUpSetting(ctx context.Context, org wire.OrgID) (wire.WrapUpSettings, error) {
	raw, err := s.store.OrgSetting(ctx, org, settingWrapUp)
	if errors.Is(err, store.ErrNotFound) {
		return defaultWrapUp(), nil
	}
	if err != nil {
		return defaultWrapUp(), err
	}
	var v wire.WrapUpSettings
	if err := json.Unmarshal([]byte(raw), &v); err != nil {
		return defaultWrapUp(), err
	}
	if len(v.Codes) == 0 {
		v.Codes = slices.Clone(wire.DefaultWrapCodes)
	}
	return v, nil
}

// checkWrapUp refuses a wrap-up setting the agents could not use.
func checkWrapUp(v *wire.WrapUpSettings) error {
	if v.LimitSeconds < 0 || v.LimitSeconds > wire.MaxWrapUpSeconds {
		return wire.Errorf(wire.EINVALID, "limit_s must be from 0 (no hold) to %d seconds", wire.MaxWrapUpSeconds)
	}
	if len(v.Codes) > wire.MaxWrapCodes {
		return wire.Errorf(wire.EINVALID, "at most %d outcome codes", wire.MaxWrapCodes)
	}
	seen := map[string]bool{}
	for i := range v.Codes {
		c := &v.Codes[i]
		c.ID, c.Label = strings.TrimSpace(c.ID), strings.TrimSpace(c.Label)
		if !wrapCodePattern.MatchString(c.ID) {
			return wire.Errorf(wire.EINVALID, "an outcome code's id is 1 to 40 letters, digits, - or _")
		}
		if seen[c.ID] {
			return wire.Errorf(wire.EINVALID, "the outcome code %q is listed twice", c.ID)
		}
		seen[c.ID] = true
		if c.Label == "" || utf8.RuneCountInString(c.Label) > 80 {
			return wire.Errorf(wire.EINVALID, "an outcome code's label is 1 to 80 characters")
		}
	}
	return nil
}

// WrapUpSettings returns an organisation's wrap-up step.
func (s *Server) WrapUpSettings(ctx context.Context, org wire.OrgID) (wire.WrapUpSettings, error) {
	if err := s.checkOrg(ctx, org); err != nil {
		return wire.WrapUpSettings{}, err
	}
	return s.wrapUpSetting(ctx, org)
}

// SetWrapUp checks and stores an organisation's wrap-up step (no codes: the defaults). Agents
// wrapping up keep their time; the next ends use the new setting.
func (s *Server) SetWrapUp(ctx context.Context, by Actor, org wire.OrgID, v wire.WrapUpSettings) error {
	if err := checkWrapUp(&v); err != nil {
		return err
	}
	if err := s.checkOrg(ctx, org); err != nil {
		return err
	}
	ids := make([]string, len(v.Codes))
	for i, c := range v.Codes {
		ids[i] = c.ID
	}
	detail := (time.Duration(v.LimitSeconds) * time.Second).String() + "; codes: " + strings.Join(ids, ", ")
	if err := s.saveOrgSetting(ctx, by, org, settingWrapUp, v, AuditWrapUpUpdate, detail); err != nil {
		return err
	}
	if len(v.Codes) == 0 {
		v.Codes = slices.Clone(wire.DefaultWrapCodes)
	}
	return s.router.call(func() error {
		if o := s.router.orgs[org]; o != nil {
			o.wrap = v
		}
		return nil
	})
}

// wrappingUp is true while the agent has a conversation to wrap up: routing passes them over.
func (a *agentState) wrappingUp() bool {
	return len(a.wrapping) > 0
}

// startWrapUp begins a's wrap-up of the ended conversation c, if the organisation has the step.
func (r *router) startWrapUp(a *agentState, c wire.Conversation) {
	limit := time.Duration(a.org.wrap.LimitSeconds) * time.Second
	if limit <= 0 || !a.online {
		return
	}
	if a.wrapping == nil {
		a.wrapping = map[wire.ConversationID]*wrapState{}
	}
	w := &wrapState{conv: c, until: time.UnixMilli(c.EndedAt).Add(limit)}
	id := c.ID
	w.timer = r.s.cfg.AfterFunc(limit, func() {
		r.post(func() {
			if a.wrapping[id] != w {
				return
			}
			r.s.log.Info("wrap-up time is up", "org", a.org.id, "conv", id, "agent", a.user.ID)
			r.endWrapUp(a, w, "", "")
		})
	})
	a.wrapping[id] = w
}

// endWrapUp stores a's wrap-up of w (a late one keeps the full limit as its time) and offers
// the agent chats again.
func (r *router) endWrapUp(a *agentState, w *wrapState, code, note string) error {
	ms := min(r.s.now().UnixMilli(), w.until.UnixMilli()) - w.conv.EndedAt
	ctx, cancel := dbctx()
	err := r.s.store.SetWrapUp(ctx, w.conv.ID, code, note, max(ms, 0))
	cancel()
	if err != nil {
		r.s.log.Error("storing a wrap-up", "conv", w.conv.ID, "err", err)
		if code != "" {
			return err // the agent tries again
		}
	}
	w.timer.Stop()
	delete(a.wrapping, w.conv.ID)
	if !a.wrappingUp() {
		a.idleSince = r.s.now()
	}
	r.pushAgentState(a)
	r.route(a.org)
	r.dirty[a.org] = struct{}{}
	return nil
}

// wrapUp is the agent's wrap-up of an ended conversation (TypeConvWrapUp). One whose time is up
// (or from before a restart) still gets its code and note; its time stays as it was.
func (r *router) wrapUp(c *conn, rid string, m wire.WrapUpDone) error {
	return r.call(func() error {
		if c.role != wire.RoleAgent {
			return wire.Errorf(wire.EFORBIDDEN, "only the agent of a conversation wraps it up")
		}
		org, err := r.org(c.org)
		if err != nil {
			return err
		}
		a := org.agents[c.user.ID]
		if a == nil {
			return wire.Errorf(wire.EFORBIDDEN, "only the agent of a conversation wraps it up")
		}
		m.Code, m.Note = strings.TrimSpace(m.Code), strings.TrimSpace(m.Note)
		if len(m.Note) > wire.MaxWrapNote || !utf8.ValidString(m.Note) {
			return wire.Errorf(wire.EINVALID, "the note is longer than %d bytes", wire.MaxWrapNote)
		}
		if len(org.wrap.Codes) > 0 && !slices.ContainsFunc(org.wrap.Codes, func(w wire.WrapCode) bool { return w.ID == m.Code }) {
			return wire.Errorf(wire.EINVALID, "choose one of the organisation's outcome codes")
		}
		if w := a.wrapping[m.Conv]; w != nil {
			if err := r.endWrapUp(a, w, m.Code, m.Note); err != nil {
				return err
			}
			r.s.log.Info("conversation wrapped up", "org", org.id, "conv", m.Conv, "agent", a.user.ID, "code", m.Code)
			ack(c, rid, wire.Ack{Conv: m.Conv})
			return nil
		}
		ctx, cancel := dbctx()
		defer cancel()
		conv, err := r.s.store.Conversation(ctx, m.Conv)
		if errors.Is(err, store.ErrNotFound) || (err == nil && (conv.Org != c.org || conv.AgentID != c.user.ID)) {
			return ErrConvNotFound
		}
		if err != nil {
			return err
		}
		if conv.State != wire.ConvEnded {
			return wire.Errorf(wire.EINVALID, "the conversation has not ended")
		}
		if err := r.s.store.SetWrapUp(ctx, conv.ID, m.Code, m.Note, conv.WrapMS); err != nil {
			return err
		}
		r.s.log.Info("conversation wrapped up late", "org", org.id, "conv", m.Conv, "agent", a.user.ID, "code", m.Code)
		ack(c, rid, wire.Ack{Conv: m.Conv})
		return nil
	})
}

// wrapDue lists a's wrap-ups for its agent state, oldest first.
func (a *agentState) wrapDue() []wire.WrapUpDue {
	if len(a.wrapping) == 0 {
		return nil
	}
	out := make([]wire.WrapUpDue, 0, len(a.wrapping))
	for _, w := range a.wrapping {
		out = append(out, wire.WrapUpDue{Conv: w.conv.ID, CustomerName: w.conv.CustomerName, EndedAt: w.conv.EndedAt, Until: w.until.UnixMilli()})
	}
	slices.SortFunc(out, func(x, y wire.WrapUpDue) int {
		if x.EndedAt != y.EndedAt {
			return int(x.EndedAt - y.EndedAt)
		}
		return strings.Compare(string(x.Conv), string(y.Conv))
	})
	return out
}
