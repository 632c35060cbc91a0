package hub

import (
	"crypto/rand"
	"crypto/subtle"
	"fmt"
	"math/big"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/parleyhq/parley/hub/relay"
	"github.com/parleyhq/parley/wire"
)

// Visual engagement (co-browse, screen share): the hub invites, checks the PIN, keeps each
// engagement's state and relays its frames between the two parties of the conversation. It never
// looks inside co-browse events beyond their size: the customer's browser masks them first and the
// agent's app replays them sandboxed.

// ErrVisualNotFound indicates an engagement that does not exist or belongs to a conversation the
// caller is not part of. Both read the same.
var ErrVisualNotFound = &wire.Error{Code: wire.ENOTFOUND, Message: "no such visual engagement"}

// ErrPINWrong indicates a PIN that does not match the invitation's.
var ErrPINWrong = &wire.Error{Code: wire.EUNAUTHORIZED, Message: "the PIN is wrong"}

// ErrPINExpired indicates a PIN past its expiry; the invitation has ended.
var ErrPINExpired = &wire.Error{Code: wire.ECONFLICT, Message: "the PIN has expired"}

// ErrVisualNotActive indicates a frame for an engagement that is not (or no longer) active.
var ErrVisualNotActive = &wire.Error{Code: wire.ECONFLICT, Message: "the visual engagement is not active"}

// ErrNoControl indicates a co-browse command while the customer has not granted control.
var ErrNoControl = &wire.Error{Code: wire.EFORBIDDEN, Message: "the customer has not granted control"}

// visualState is one engagement, owned by the router goroutine.
type visualState struct {
	v  wire.Visual
	cs *convState
	// pin is what the customer must type ("" when none); pinExpires is zero when it never expires.
	pin        string
	pinExpires time.Time
	// attempts counts wrong PINs.
	attempts int
	// region is the organisation's region at the invite; ice are each party's ICE servers for a
	// built-in screen share, issued once the customer accepts (the same plan as a call's: a
	// government organisation's screen goes through a North-American relay only).
	region relay.Region
	ice    map[wire.Author]*wire.ICEConfig
	// renew fires when the parties' TURN credentials need renewing; nil when none are pending.
	renew Timer
}

// view is the engagement as side sees it: only the agent sees the PIN; each side its ICE.
func (vs *visualState) view(side wire.Author) wire.Visual {
	v := vs.v
	if side == wire.AuthorAgent {
		v.PIN = vs.pin
	}
	if v.State == wire.VisualActive {
		v.ICE = vs.ice[side]
	}
	return v
}

// visualICE issues both parties' ICE servers for an active built-in screen share, named by the
// engagement and the party (so the relay can revoke them when it ends).
func (r *router) visualICE(vs *visualState) error {
	ice := map[wire.Author]*wire.ICEConfig{}
	for _, side := range []wire.Author{wire.AuthorAgent, wire.AuthorCustomer} {
		plan, err := r.s.icePlan(vs.region, wire.CallID(vs.v.ID), side)
		if err != nil {
			return err
		}
		ice[side] = plan
	}
	vs.ice = ice
	return nil
}

// scheduleVisualRenewal gives a long screen share's parties fresh TURN credentials before theirs
// expire; the customer's browser (the offerer) restarts ICE with them.
func (r *router) scheduleVisualRenewal(vs *visualState) {
	if vs.renew != nil {
		vs.renew.Stop()
	}
	vs.renew = r.s.cfg.AfterFunc(r.s.cfg.TURN.ttl()*2/3, func() {
		r.post(func() {
			if r.visuals[vs.v.ID] != vs || vs.v.State != wire.VisualActive {
				return
			}
			vs.renew = nil
			if err := r.visualICE(vs); err != nil {
				r.s.log.Warn("renewing a screen share's TURN credentials", "visual", vs.v.ID, "err", err)
				return
			}
			if !hasCredentials(vs.ice[wire.AuthorCustomer]) && !hasCredentials(vs.ice[wire.AuthorAgent]) {
				return
			}
			r.publishVisual(vs)
			r.scheduleVisualRenewal(vs)
		})
	})
}

// publish sends the engagement's state to both parties.
func (r *router) publishVisual(vs *visualState) {
	r.toParty(vs.cs, wire.AuthorAgent, encode(wire.TypeVisualState, vs.view(wire.AuthorAgent)))
	r.toParty(vs.cs, wire.AuthorCustomer, encode(wire.TypeVisualState, vs.view(wire.AuthorCustomer)))
	if vs.cs.conv.ClosesAt != 0 {
		r.armIdle(vs.cs, false) // a co-browse in progress never closes for inactivity
	}
}

// newPIN returns a uniformly random 6-digit PIN.
func newPIN() string {
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		// crypto/rand does not fail on supported platforms; a fixed PIN would be worse than none.
		n = big.NewInt(0).SetBytes([]byte(newID("p")))
		n.Mod(n, big.NewInt(1_000_000))
	}
	return fmt.Sprintf("%06d", n.Int64())
}

// visual checks one visual engagement frame and hands it to the router.
func (c *conn) visual(env wire.Envelope) error {
	switch env.Type {
	case wire.TypeVisualInvite:
		return decode(env, func(m wire.VisualInvite) error {
			if m.Kind != wire.VisualCobrowse && m.Kind != wire.VisualScreenShare {
				return wire.Errorf(wire.EINVALID, "kind must be cobrowse or screenshare")
			}
			if len(m.PIN) > 64 || len(m.Session) > 256 || !utf8.ValidString(m.PIN) || !utf8.ValidString(m.Session) {
				return wire.Errorf(wire.EINVALID, "pin or session is too long")
			}
			return c.s.router.visualInvite(c, env.RID, m)
		})
	case wire.TypeVisualAccept:
		return decode(env, func(m wire.VisualAccept) error {
			if len(m.PIN) > 64 {
				return ErrPINWrong
			}
			return c.s.router.visualAccept(c, env.RID, m)
		})
	case wire.TypeVisualDecline, wire.TypeVisualStop:
		return decode(env, func(m wire.VisualRef) error {
			return c.s.router.visualStop(c, env.RID, m.Visual, env.Type == wire.TypeVisualDecline)
		})
	case wire.TypeVisualControl:
		return decode(env, func(m wire.VisualControl) error {
			return c.s.router.visualControl(c, env.RID, m)
		})
	case wire.TypeVisualEvent:
		return decode(env, func(m wire.VisualEvent) error {
			if len(m.Data) > wire.MaxVisualEventBytes {
				return wire.Errorf(wire.ETOOLARGE, "event data is over %d bytes", wire.MaxVisualEventBytes)
			}
			if m.Seq < 1 || m.Parts < 1 || m.Parts > wire.MaxVisualParts || m.Part < 0 || m.Part >= m.Parts {
				return wire.Errorf(wire.EINVALID, "event seq, part or parts out of range")
			}
			return c.s.router.visualRelay(c, env.RID, m.Visual, wire.TypeVisualEvent, m)
		})
	case wire.TypeVisualPointer:
		return decode(env, func(m wire.VisualPointer) error {
			if !(m.X >= 0 && m.X <= 1 && m.Y >= 0 && m.Y <= 1) { // also refuses NaN
				return wire.Errorf(wire.EINVALID, "pointer x and y must be within 0..1")
			}
			return c.s.router.visualRelay(c, env.RID, m.Visual, wire.TypeVisualPointer, m)
		})
	case wire.TypeVisualCommand:
		return decode(env, func(m wire.VisualCommand) error {
			if err := checkCommand(m); err != nil {
				return err
			}
			return c.s.router.visualRelay(c, env.RID, m.Visual, wire.TypeVisualCommand, m)
		})
	case wire.TypeVisualResult:
		return decode(env, func(m wire.VisualResult) error {
			switch m.Action {
			case wire.ActionClick, wire.ActionType, wire.ActionScroll, wire.ActionNavigate:
			default:
				return wire.Errorf(wire.EINVALID, "action must be click, type, scroll or navigate")
			}
			switch m.Code {
			case wire.EFORBIDDEN, wire.ENOTFOUND, wire.EINVALID:
			default:
				return wire.Errorf(wire.EINVALID, "a result code is EFORBIDDEN, ENOTFOUND or EINVALID")
			}
			return c.s.router.visualRelay(c, env.RID, m.Visual, wire.TypeVisualResult, m)
		})
	case wire.TypeVisualSignal:
		return decode(env, func(m wire.VisualSignal) error {
			// The same checks as call signalling: garbage never reaches the other party's WebRTC stack.
			if err := checkSDPOrCandidate(m.SDP, m.Candidate); err != nil {
				return err
			}
			m.From = authorOf(c.role)
			return c.s.router.visualRelay(c, env.RID, m.Visual, wire.TypeVisualSignal, m)
		})
	}
	return wire.Errorf(wire.EUNKNOWNTYPE, "unknown message type %.40q", env.Type)
}

// checkCommand refuses commands that are malformed or too large. The customer's browser checks
// again (masked fields, control) before it executes anything.
func checkCommand(m wire.VisualCommand) error {
	switch m.Action {
	case wire.ActionClick, wire.ActionScroll:
	case wire.ActionType:
		if len(m.Text) > wire.MaxVisualTextBytes {
			return wire.Errorf(wire.ETOOLARGE, "text is over %d bytes", wire.MaxVisualTextBytes)
		}
		if !utf8.ValidString(m.Text) {
			return wire.Errorf(wire.EINVALID, "text is not UTF-8")
		}
	case wire.ActionNavigate:
		if len(m.URL) > wire.MaxVisualURLBytes {
			return wire.Errorf(wire.ETOOLARGE, "url is over %d bytes", wire.MaxVisualURLBytes)
		}
		if err := checkWebURL(m.URL); err != nil {
			return err
		}
	default:
		return wire.Errorf(wire.EINVALID, "action must be click, type, scroll or navigate")
	}
	return nil
}

// checkWebURL accepts absolute http and https URLs only (no javascript:, data: or file:).
func checkWebURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return wire.Errorf(wire.EINVALID, "url must be an absolute http or https URL")
	}
	return nil
}

// visualFor finds an engagement the caller takes part in: the customer of its conversation, or
// the conversation's assigned agent. Anything else reads as not found.
func (r *router) visualFor(c *conn, id wire.VisualID) (*visualState, error) {
	vs := r.visuals[id]
	if vs == nil || id == "" {
		return nil, ErrVisualNotFound
	}
	cs, err := r.participant(c, vs.cs.conv.ID)
	if err != nil || cs != vs.cs {
		return nil, ErrVisualNotFound
	}
	return vs, nil
}

// visualInvite starts an engagement: the agent's Ack carries its id, both parties get its state.
func (r *router) visualInvite(c *conn, rid string, m wire.VisualInvite) error {
	return r.call(func() error {
		if c.role != wire.RoleAgent {
			return wire.Errorf(wire.EFORBIDDEN, "only the agent invites")
		}
		cs, err := r.participant(c, m.Conv)
		if err != nil {
			return err
		}
		if cs.conv.State != wire.ConvActive {
			return wire.Errorf(wire.ECONFLICT, "the conversation is not active")
		}
		for _, vs := range r.visuals {
			if vs.cs == cs {
				return wire.Errorf(wire.ECONFLICT, "a visual engagement is already open in this conversation")
			}
		}
		var settings wire.VisualSettings
		if cs.queue != nil && cs.queue.q.Visual != nil { // the queue's own providers
			settings = *cs.queue.q.Visual
		} else {
			ctx, cancel := dbctx()
			settings, err = r.s.visualSettings(ctx, cs.conv.Org)
			cancel()
			if err != nil {
				return err
			}
		}
		pc := settings.Cobrowse
		if m.Kind == wire.VisualScreenShare {
			pc = settings.ScreenShare
		}
		now := r.s.now()
		vs := &visualState{cs: cs, v: wire.Visual{ID: wire.VisualID(newID("v")), Conv: cs.conv.ID, Kind: m.Kind,
			Provider: pc.Provider, State: wire.VisualInvited, CreatedAt: now.UnixMilli()}}
		switch pc.Provider {
		case wire.ProviderNone:
			return wire.Errorf(wire.EFORBIDDEN, "the organisation offers no %s provider", m.Kind)
		case wire.ProviderExternal:
			vs.v.ProviderName = pc.External.Name
			vs.v.JoinURL = strings.ReplaceAll(pc.External.JoinURL, "{session}", url.PathEscape(m.Session))
			vs.pin = m.PIN
		default:
			vs.v.ProviderName = "Parley"
			vs.pin = newPIN()
			vs.pinExpires = now.Add(PINTTL)
			vs.v.PINExpiresAt = vs.pinExpires.UnixMilli()
		}
		vs.region = relay.Region(cs.org.rec.Region)
		if pc.Provider == wire.ProviderBuiltinScreenShare {
			// Refused now, not after the customer accepted, when the organisation's screen must go
			// through a relay the hub does not have.
			if _, err := r.s.icePlan(vs.region, wire.CallID(vs.v.ID), wire.AuthorAgent); err != nil {
				return err
			}
		}
		vs.v.PINRequired = vs.pin != ""
		if r.visuals == nil {
			r.visuals = map[wire.VisualID]*visualState{}
		}
		r.visuals[vs.v.ID] = vs
		c.pushFrame(wire.TypeAck, rid, wire.Ack{Conv: cs.conv.ID, Visual: vs.v.ID})
		r.publishVisual(vs)
		r.s.log.Info("visual engagement invited", "org", cs.org.id, "conv", cs.conv.ID, "visual", vs.v.ID, "kind", m.Kind, "provider", pc.Provider)
		return nil
	})
}

// PINTTL is how long a built-in provider's PIN is accepted.
const PINTTL = wire.PINTTLSeconds * time.Second

// visualAccept checks the customer's PIN and makes the engagement active.
func (r *router) visualAccept(c *conn, rid string, m wire.VisualAccept) error {
	return r.call(func() error {
		if c.role != wire.RoleCustomer {
			return wire.Errorf(wire.EFORBIDDEN, "only the customer accepts")
		}
		vs, err := r.visualFor(c, m.Visual)
		if err != nil {
			return err
		}
		if vs.v.State != wire.VisualInvited {
			return wire.Errorf(wire.ECONFLICT, "the invitation is no longer open")
		}
		now := r.s.now()
		if !vs.pinExpires.IsZero() && !now.Before(vs.pinExpires) {
			r.endVisual(vs, wire.AuthorSystem, "pin_expired")
			return ErrPINExpired
		}
		if vs.pin != "" && subtle.ConstantTimeCompare([]byte(strings.TrimSpace(m.PIN)), []byte(vs.pin)) != 1 {
			vs.attempts++
			if vs.attempts >= wire.MaxPINAttempts {
				r.endVisual(vs, wire.AuthorSystem, "pin_attempts")
			}
			return ErrPINWrong
		}
		if vs.v.Provider == wire.ProviderBuiltinScreenShare {
			if err := r.visualICE(vs); err != nil {
				return err
			}
			r.scheduleVisualRenewal(vs)
		}
		vs.v.State, vs.v.AcceptedAt = wire.VisualActive, now.UnixMilli()
		// The state (with each party's ICE servers) before the ack, as for calls.
		r.publishVisual(vs)
		ack(c, rid, wire.Ack{Conv: vs.v.Conv, Visual: vs.v.ID})
		r.s.log.Info("visual engagement accepted", "org", vs.cs.org.id, "conv", vs.v.Conv, "visual", vs.v.ID)
		return nil
	})
}

// visualStop ends an engagement: a decline (customer, while invited) or a stop (either side).
func (r *router) visualStop(c *conn, rid string, id wire.VisualID, decline bool) error {
	return r.call(func() error {
		if decline && c.role != wire.RoleCustomer {
			return wire.Errorf(wire.EFORBIDDEN, "only the customer declines")
		}
		vs, err := r.visualFor(c, id)
		if err != nil {
			return err
		}
		reason := "stopped"
		if decline {
			if vs.v.State != wire.VisualInvited {
				return wire.Errorf(wire.ECONFLICT, "the invitation is no longer open")
			}
			reason = "declined"
		}
		r.endVisual(vs, authorOf(c.role), reason)
		ack(c, rid, wire.Ack{Conv: vs.v.Conv, Visual: vs.v.ID})
		return nil
	})
}

// visualControl records the customer granting or taking back control of a co-browsed page.
func (r *router) visualControl(c *conn, rid string, m wire.VisualControl) error {
	return r.call(func() error {
		if c.role != wire.RoleCustomer {
			return wire.Errorf(wire.EFORBIDDEN, "only the customer grants control")
		}
		vs, err := r.visualFor(c, m.Visual)
		if err != nil {
			return err
		}
		if vs.v.State != wire.VisualActive {
			return ErrVisualNotActive
		}
		if m.Granted && vs.v.Kind != wire.VisualCobrowse {
			return wire.Errorf(wire.EINVALID, "control is for co-browse only")
		}
		if vs.v.Control != m.Granted {
			vs.v.Control = m.Granted
			r.publishVisual(vs)
		}
		ack(c, rid, wire.Ack{Conv: vs.v.Conv, Visual: vs.v.ID})
		return nil
	})
}

// visualRelay forwards an active engagement's frame to the other party, checking who may send
// it: events come from the customer, pointers and commands from the agent (commands only with
// control), signals from either side of a built-in screen share.
func (r *router) visualRelay(c *conn, rid string, id wire.VisualID, t wire.Type, payload any) error {
	return r.call(func() error {
		vs, err := r.visualFor(c, id)
		if err != nil {
			return err
		}
		from := authorOf(c.role)
		switch t {
		case wire.TypeVisualEvent, wire.TypeVisualResult:
			if from != wire.AuthorCustomer || vs.v.Kind != wire.VisualCobrowse || vs.v.Provider != wire.ProviderBuiltinCobrowse {
				return wire.Errorf(wire.EFORBIDDEN, "events and results come from the customer of a built-in co-browse")
			}
		case wire.TypeVisualPointer:
			if from != wire.AuthorAgent || vs.v.Provider == wire.ProviderExternal {
				return wire.Errorf(wire.EFORBIDDEN, "the pointer is the agent's, in a built-in engagement")
			}
		case wire.TypeVisualCommand:
			if from != wire.AuthorAgent || vs.v.Provider != wire.ProviderBuiltinCobrowse {
				return wire.Errorf(wire.EFORBIDDEN, "commands come from the agent of a built-in co-browse")
			}
		case wire.TypeVisualSignal:
			if vs.v.Provider != wire.ProviderBuiltinScreenShare {
				return wire.Errorf(wire.EFORBIDDEN, "signals belong to a built-in screen share")
			}
		}
		if vs.v.State != wire.VisualActive {
			return ErrVisualNotActive
		}
		if t == wire.TypeVisualCommand && !vs.v.Control {
			return ErrNoControl
		}
		r.toParty(vs.cs, other(from), encode(t, payload))
		ack(c, rid, wire.Ack{})
		return nil
	})
}

// visualSettingsChanged sends an organisation's agents its new providers.
func (r *router) visualSettingsChanged(org wire.OrgID, v wire.VisualSettings) {
	_ = r.call(func() error {
		o := r.orgs[org]
		if o == nil {
			return nil
		}
		frame := encode(wire.TypeVisualSettings, v)
		for _, a := range o.agents {
			a.push(frame)
		}
		return nil
	})
}

// endVisual ends an engagement and tells both parties why.
func (r *router) endVisual(vs *visualState, by wire.Author, reason string) {
	if vs.v.State == wire.VisualEnded {
		return
	}
	vs.v.State, vs.v.EndedBy, vs.v.Reason, vs.v.EndedAt, vs.v.Control = wire.VisualEnded, by, reason, r.s.now().UnixMilli(), false
	delete(r.visuals, vs.v.ID)
	if vs.renew != nil {
		vs.renew.Stop()
		vs.renew = nil
	}
	if vs.ice != nil {
		r.s.revokeCall(wire.CallID(vs.v.ID)) // the embedded relay stops relaying for it now
	}
	r.publishVisual(vs)
	r.touch(vs.cs) // the end of a co-browse is activity
	r.s.log.Info("visual engagement ended", "org", vs.cs.org.id, "conv", vs.v.Conv, "visual", vs.v.ID, "by", by, "reason", reason)
}

// endVisuals ends the engagements of a conversation that ended or changed agent.
func (r *router) endVisuals(cs *convState, reason string) {
	for _, vs := range r.visuals {
		if vs.cs == cs {
			r.endVisual(vs, wire.AuthorSystem, reason)
		}
	}
}

// pushVisuals sends a (re)connecting party the open engagements of its conversations, and an
// agent the organisation's providers.
func (r *router) pushVisuals(c *conn, convs []wire.Conversation) {
	if c.role == wire.RoleAgent {
		ctx, cancel := dbctx()
		settings, err := r.s.visualSettings(ctx, c.org)
		cancel()
		if err != nil {
			c.log.Warn("reading visual settings", "err", err)
		} else {
			c.pushFrame(wire.TypeVisualSettings, "", settings)
		}
	}
	side := authorOf(c.role)
	for _, vs := range r.visuals {
		for _, conv := range convs {
			if vs.v.Conv == conv.ID {
				c.pushFrame(wire.TypeVisualState, "", vs.view(side))
			}
		}
	}
}
