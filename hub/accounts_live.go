package hub

import (
	"context"
	"slices"
	"time"

	"github.com/parleyhq/parley/hub/client"
	"github.com/parleyhq/parley/hub/store"
	"github.com/parleyhq/parley/wire"
)

// How account changes reach the running hub: the change is stored first (with its audit entry),
// then the router is told. Changes another process made (parley-hub's subcommands on the same
// database) reach it through the audit log, which the hub reads every Config.AuditPoll; and every
// Config.SessionCheck it checks that each member's connection still has a live session, so an
// expired or ended one closes even when nobody said so.

// StatusSessionEnded is the WebSocket close code of a connection whose session ended (signed
// out, ended by an admin, disabled, expired): clients must not reconnect with the same token.
const StatusSessionEnded = client.StatusSessionEnded

// orgChanged hands the router an organisation's new record.
func (s *Server) orgChanged(rec store.Org) {
	if s.router == nil {
		return // seeding, before the router runs
	}
	_ = s.router.call(func() error {
		o := s.router.orgs[rec.ID]
		if o == nil {
			return nil // loaded with the new record on first use
		}
		o.rec = rec
		for _, cs := range s.router.convs {
			if cs.org != o || cs.conv.Calls == cs.callsAllowed() {
				continue
			}
			cs.conv.Calls = cs.callsAllowed()
			if cs.conv.State == wire.ConvActive {
				s.router.toParty(cs, wire.AuthorAgent, encode(wire.TypeConvState, cs.conv))
			}
		}
		s.router.dirty[o] = struct{}{}
		return nil
	})
}

// memberChanged hands the router a member's new record: a new agent can be offered
// conversations, a changed one routes with their new name and capacity, and one who is no
// longer an active agent (disabled, or given another role) stops being offered any and hands
// back the conversations they hold.
func (s *Server) memberChanged(u store.User) {
	if s.router == nil {
		return // seeding, before the router runs
	}
	_ = s.router.call(func() error {
		r := s.router
		o := r.orgs[u.Org]
		if o == nil {
			return nil // loaded as stored on first use
		}
		a := o.agents[u.ID]
		active := u.Role == wire.RoleAgent && !u.Disabled
		switch {
		case a == nil && active:
			r.addAgent(o, u)
		case a != nil && active:
			a.user = u
			r.pushAgentState(a)
		case a != nil:
			r.removeAgent(o, a)
		}
		for c := range r.conns {
			if c.user.ID == u.ID {
				c.user = u
			}
		}
		r.route(o)
		r.dirty[o] = struct{}{}
		return nil
	})
}

// removeAgent takes a from routing: its offer is withdrawn and its conversations go back to the
// front of the queue (they waited already) with a system line, so another agent picks them up.
func (r *router) removeAgent(o *orgState, a *agentState) {
	if a.offer != nil {
		r.revoke(a.offer, "unavailable")
	}
	r.requeueAll(o, a, "agent unavailable")
	if a.grace != nil {
		a.grace.Stop()
	}
	delete(o.agents, a.user.ID)
	if o.skills == nil {
		o.skills = map[wire.UserID]map[string]int{}
	}
	o.skills[a.user.ID] = a.skills // kept for if they become an agent again
	a.online = false
	r.dirty[o] = struct{}{}
}

// sessionsEnded closes the connections of one of a member's sessions (id), or of all of them
// (id empty), telling each why.
func (s *Server) sessionsEnded(user wire.UserID, id, reason string) {
	if s.router == nil {
		return // seeding, before the router runs
	}
	_ = s.router.call(func() error {
		for c := range s.router.conns {
			if c.role != wire.RoleCustomer && c.user.ID == user && (id == "" || c.session == id) {
				s.router.endConn(c, reason)
			}
		}
		return nil
	})
}

// endConn tells a member's connection its session ended, then closes it.
func (r *router) endConn(c *conn, reason string) {
	c.pushError("", wire.Errorf(wire.EUNAUTHORIZED, "session ended: %s", reason))
	c.log.Info("session ended", "reason", reason)
	go func() {
		_ = c.ws.Close(StatusSessionEnded, "session ended: "+reason)
		c.kill()
	}()
}

// watchAccounts runs until the server closes: every AuditPoll it reads the audit entries other
// processes wrote and applies the members they name; every SessionCheck it checks the sessions
// of every connected member.
func (s *Server) watchAccounts() {
	ctx := s.ctx
	last, err := s.store.LastAuditID(ctx)
	if err != nil && ctx.Err() == nil {
		s.log.Warn("reading the audit log", "err", err)
	}
	poll := time.NewTicker(s.cfg.AuditPoll)
	defer poll.Stop()
	check := time.NewTicker(s.cfg.SessionCheck)
	defer check.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-poll.C:
			last = s.applyAudit(ctx, last)
		case <-check.C:
			s.checkSessions(ctx, nil)
		}
	}
}

// applyAudit applies the audit entries after last and returns the newest ID seen.
func (s *Server) applyAudit(ctx context.Context, last int64) int64 {
	es, err := s.store.AuditSince(ctx, last, 500)
	if err != nil {
		if ctx.Err() == nil {
			s.log.Warn("reading the audit log", "err", err)
		}
		return last
	}
	members := map[wire.OrgID]map[string]bool{}
	routing := map[wire.OrgID]bool{}
	for _, e := range es {
		last = e.ID
		switch e.Action {
		case AuditQueueSave, AuditQueueDelete, AuditMemberRouting, AuditPrechat:
			routing[e.Org] = true
		case AuditOrgUpdate:
			if o, err := s.store.Org(ctx, e.Org); err == nil {
				s.orgChanged(o)
			}
		case AuditMemberInvite, AuditMemberUpdate, AuditMemberDisable, AuditMemberEnable, AuditMemberReset, AuditPasswordSet, AuditSessionEnd, AuditSignOut:
			if members[e.Org] == nil {
				members[e.Org] = map[string]bool{}
			}
			members[e.Org][e.Target] = true
		}
	}
	for org := range routing {
		s.reloadRouting(ctx, org)
	}
	var users []wire.UserID
	for org, names := range members {
		for name := range names {
			u, err := s.store.UserByName(ctx, org, name)
			if err != nil {
				continue
			}
			s.memberChanged(u)
			users = append(users, u.ID)
		}
	}
	if len(users) > 0 {
		s.checkSessions(ctx, users)
	}
	return last
}

// checkSessions closes the connections of members (all connected members when users is nil)
// whose session no longer exists or has expired.
func (s *Server) checkSessions(ctx context.Context, users []wire.UserID) {
	type live struct {
		c       *conn
		session string
	}
	byUser := map[wire.UserID][]live{}
	_ = s.router.call(func() error {
		for c := range s.router.conns {
			if c.role == wire.RoleCustomer {
				continue
			}
			if users == nil || slices.Contains(users, c.user.ID) {
				byUser[c.user.ID] = append(byUser[c.user.ID], live{c, c.session})
			}
		}
		return nil
	})
	now := s.now()
	for user, conns := range byUser {
		ts, err := s.store.Sessions(ctx, user, now)
		if err != nil {
			if ctx.Err() == nil {
				s.log.Warn("checking sessions", "err", err)
			}
			return
		}
		alive := map[string]bool{}
		for _, t := range ts {
			alive[t.ID] = true
		}
		for _, l := range conns {
			if !alive[l.session] {
				s.sessionsEnded(user, l.session, "expired or ended")
			}
		}
	}
}
