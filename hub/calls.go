package hub

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/parleyhq/parley/hub/relay"
	"github.com/parleyhq/parley/hub/store"
	"github.com/parleyhq/parley/wire"
)

// Calls: the agent escalates a chat to a voice or video call. The hub rings the customer, relays
// SDP, candidates and mute/video state between the two parties of the conversation, holds the
// agent's capacity while the call rings or runs, writes the transcript's call lines, and keeps
// each call's record for the handle-time metrics. Media never passes through the hub itself: it
// goes peer to peer, or through the TURN relays each party is handed in call.state.

// Call defaults.
const (
	// DefaultRingTimeout is how long a call rings before it is missed.
	DefaultRingTimeout = 45 * time.Second
	// DefaultCallGrace is how long a call survives a party having no connection left.
	DefaultCallGrace = 15 * time.Second
)

// Limits of relayed candidates.
const (
	maxCandidateBytes = 1024
	maxSDPMidBytes    = 64
	maxMLineIndex     = 64
)

// ErrCallNotFound indicates a call that does not exist, has ended, or belongs to a conversation
// the caller is not a party of. All read the same.
var ErrCallNotFound = &wire.Error{Code: wire.ENOTFOUND, Message: "no such call"}

// ErrCallBusy indicates an invite while the conversation already has a call ringing or running
// (including two invites crossing).
var ErrCallBusy = &wire.Error{Code: wire.ECONFLICT, Message: "the conversation already has a call"}

// ErrAgentOnCall indicates an invite by an agent who is already on a call in another
// conversation.
var ErrAgentOnCall = &wire.Error{Code: wire.ECONFLICT, Message: "you are already on a call"}

// ErrCallNotRinging indicates an accept or decline of a call that is no longer ringing.
var ErrCallNotRinging = &wire.Error{Code: wire.ECONFLICT, Message: "the call is not ringing"}

// ErrCallKindNotAllowed indicates a call kind the conversation's setting does not allow, e.g.
// video in a voice-only organisation.
var ErrCallKindNotAllowed = &wire.Error{Code: wire.EFORBIDDEN, Message: "this kind of call is not allowed here"}

// ErrNoRelay indicates an organisation whose calls must go through relays the hub does not have
// (a government organisation needs one in North America).
var ErrNoRelay = &wire.Error{Code: wire.EUNAVAILABLE, Message: "no relay may carry this organisation's calls"}

// callState is a ringing or active call, owned by the router goroutine.
type callState struct {
	// call is the state both parties see, without ICE (each gets their own).
	call wire.Call
	cs   *convState
	// agent is the agent who invited; the call holds their capacity.
	agent *agentState
	// ice are each party's ICE servers and policy. The customer's are issued on accept: a
	// ringing call hands a stranger no relay credentials.
	ice map[wire.Author]*wire.ICEConfig
	// region is the organisation's region at the invite: the call keeps its plan to the end.
	region relay.Region
	// media is each party's last mute/video state, resent to the other after a reconnect.
	media map[wire.Author]*wire.CallMedia
	// ring fires RingTimeout after the invite; nil once answered.
	ring Timer
	// gone fires CallGrace after a party lost its last connection; a reconnect stops it.
	gone map[wire.Author]Timer
	// renew fires when the parties' TURN credentials need renewing (renewICE); nil when none
	// are pending.
	renew Timer
	// manifest is set once the call's consent record is on disk (recording.go).
	manifest bool
	// mon is the supervisor's leg on the call (monitor.go); nil when none.
	mon *monitorState
	// probes are the credential ids of the customer's network probes (calls_probe.go), revoked
	// when the call stops ringing.
	probes []string
	log    *slog.Logger
}

func (s *Server) ringTimeout() time.Duration {
	if s.cfg.RingTimeout > 0 {
		return s.cfg.RingTimeout
	}
	return DefaultRingTimeout
}

func (s *Server) callGrace() time.Duration {
	if s.cfg.CallGrace > 0 {
		return s.cfg.CallGrace
	}
	return DefaultCallGrace
}

// callsAllowed is the organisation's call setting; a queue may override it (convState.callsAllowed).
func (o *orgState) callsAllowed() wire.CallsAllowed {
	if o.rec.Calls == "" {
		return wire.CallsVoiceVideo
	}
	return o.rec.Calls
}

// permits reports whether the setting allows a call of kind (or, for accept, video).
func permits(allowed wire.CallsAllowed, kind wire.CallKind) bool {
	switch allowed {
	case wire.CallsNone:
		return false
	case wire.CallsVoiceOnly:
		return kind == wire.CallVoice
	default:
		return true
	}
}

// callRequest decodes and checks a call message, then hands it to the router.
func (c *conn) callRequest(env wire.Envelope) error {
	switch env.Type {
	case wire.TypeCallInvite:
		return decode(env, func(ci wire.CallInvite) error {
			if ci.Kind != wire.CallVoice && ci.Kind != wire.CallVideo {
				return wire.Errorf(wire.EINVALID, "call kind must be voice or video")
			}
			return c.s.router.callInvite(c, env.RID, ci)
		})
	case wire.TypeCallAccept:
		return decode(env, func(ca wire.CallAccept) error {
			return c.s.router.callAccept(c, env.RID, ca)
		})
	case wire.TypeCallAnswering:
		return decode(env, func(ca wire.CallAnswering) error {
			if len(ca.Problem) > 40 {
				return wire.Errorf(wire.EINVALID, "problem is too long")
			}
			return c.s.router.callAnswering(c, env.RID, ca)
		})
	case wire.TypeCallDecline, wire.TypeCallEnd:
		return decode(env, func(ref wire.CallRef) error {
			return c.s.router.callHangUp(c, env.RID, ref.Call, env.Type == wire.TypeCallDecline)
		})
	case wire.TypeCallSignal:
		return decode(env, func(sig wire.CallSignal) error {
			if err := checkSignal(sig); err != nil {
				return err
			}
			return c.s.router.callSignal(c, env.RID, sig)
		})
	case wire.TypeCallMedia:
		return decode(env, func(cm wire.CallMedia) error {
			return c.s.router.callMedia(c, env.RID, cm)
		})
	case wire.TypeCallRecord:
		return decode(env, func(cr wire.CallRecord) error {
			return c.s.router.callRecord(c, env.RID, cr)
		})
	case wire.TypeCallProbe:
		return decode(env, func(ref wire.CallRef) error {
			return c.s.router.callProbe(c, env.RID, ref)
		})
	case wire.TypeCallProbeResult:
		return decode(env, func(p wire.CallProbe) error {
			return c.s.router.callProbeResult(c, env.RID, p)
		})
	default: // call.state is the hub's to send
		return wire.Errorf(wire.EINVALID, "%s is sent by the hub only", env.Type)
	}
}

// checkSignal checks a call.signal lightly: the hub relays SDP and candidates without
// understanding them, but it refuses what no browser or pion peer would send, so garbage never
// reaches the other party's WebRTC stack.
func checkSignal(sig wire.CallSignal) error {
	return checkSDPOrCandidate(sig.SDP, sig.Candidate)
}

// checkSDPOrCandidate checks one SDP description or one ICE candidate, as call.signal and the
// built-in screen share's visual.signal carry them.
func checkSDPOrCandidate(sdp *wire.SDP, candidate *wire.ICECandidate) error {
	if (sdp == nil) == (candidate == nil) {
		return wire.Errorf(wire.EINVALID, "a signal carries one sdp or one candidate")
	}
	if d := sdp; d != nil {
		if len(d.SDP) > wire.MaxSDPBytes {
			return wire.Errorf(wire.ETOOLARGE, "sdp is over %d bytes", wire.MaxSDPBytes)
		}
		switch d.Type {
		case "offer", "answer", "pranswer":
			return checkSDP(d.SDP)
		case "rollback":
			return nil
		default:
			return wire.Errorf(wire.EINVALID, "sdp type must be offer, answer, pranswer or rollback")
		}
	}
	cand := candidate
	switch {
	case len(cand.Candidate) > maxCandidateBytes:
		return wire.Errorf(wire.ETOOLARGE, "candidate is over %d bytes", maxCandidateBytes)
	case cand.Candidate != "" && !strings.HasPrefix(cand.Candidate, "candidate:"):
		return wire.Errorf(wire.EINVALID, "candidate must start with \"candidate:\"")
	case !printable(cand.Candidate):
		return wire.Errorf(wire.EINVALID, "candidate has characters that are not allowed")
	case cand.SDPMid != nil && (len(*cand.SDPMid) > maxSDPMidBytes || !printable(*cand.SDPMid)):
		return wire.Errorf(wire.EINVALID, "sdpMid is not a short media id")
	case cand.SDPMLineIndex != nil && (*cand.SDPMLineIndex < 0 || *cand.SDPMLineIndex >= maxMLineIndex):
		return wire.Errorf(wire.EINVALID, "sdpMLineIndex is out of range")
	}
	return nil
}

// checkSDP parses an SDP minimally: "v=0" first, then only "x=value" lines (RFC 8866 §5), with
// an origin and at least one media section.
func checkSDP(sdp string) error {
	if !utf8.ValidString(sdp) {
		return wire.Errorf(wire.EINVALID, "sdp is not UTF-8")
	}
	lines := strings.Split(strings.ReplaceAll(sdp, "\r\n", "\n"), "\n")
	for len(lines) > 0 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	if len(lines) == 0 || lines[0] != "v=0" {
		return wire.Errorf(wire.EINVALID, "sdp must start with v=0")
	}
	var origin, media bool
	for i, l := range lines {
		if len(l) < 2 || l[1] != '=' || l[0] < 'a' || l[0] > 'z' || strings.ContainsFunc(l, func(r rune) bool { return r < 0x20 && r != '\t' }) {
			return wire.Errorf(wire.EINVALID, "sdp line %d is not type=value", i+1)
		}
		origin = origin || l[0] == 'o'
		media = media || l[0] == 'm'
	}
	if !origin || !media {
		return wire.Errorf(wire.EINVALID, "sdp has no origin or no media section")
	}
	return nil
}

func printable(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f })
}

// callOf finds the call id names for c, who must be one of its parties: the conversation's
// customer, or the agent on the call. Anyone else gets ErrCallNotFound.
func (r *router) callOf(c *conn, id wire.CallID) (*callState, wire.Author, error) {
	if id == "" {
		return nil, "", wire.Errorf(wire.EINVALID, "call is missing")
	}
	cl := r.calls[id]
	switch {
	case cl == nil || cl.cs.conv.Org != c.org:
	case c.role == wire.RoleCustomer && c.conv == cl.cs.conv.ID:
		return cl, wire.AuthorCustomer, nil
	case c.role == wire.RoleAgent && c.user.ID == cl.agent.user.ID:
		return cl, wire.AuthorAgent, nil
	}
	return nil, "", ErrCallNotFound
}

// callInvite starts ringing the customer of an active conversation of c's agent.
func (r *router) callInvite(c *conn, rid string, ci wire.CallInvite) error {
	return r.call(func() error {
		if c.role != wire.RoleAgent {
			if c.role == wire.RoleCustomer && ci.Conv == c.conv {
				return wire.Errorf(wire.EFORBIDDEN, "only the agent starts calls")
			}
			return ErrConvNotFound
		}
		cs, err := r.open(c, ci.Conv) // ENOTFOUND unless the conversation is this agent's
		if err != nil {
			return err
		}
		a := cs.org.agents[c.user.ID]
		allowed := cs.callsAllowed()
		switch {
		case cs.conv.State != wire.ConvActive || a == nil:
			return ErrConvNotFound
		case cs.call != nil:
			return ErrCallBusy
		case a.call != nil:
			return ErrAgentOnCall
		case !permits(allowed, ci.Kind):
			return wire.Errorf(wire.EFORBIDDEN, "%s calls are not allowed in this organisation (setting %s)", ci.Kind, allowed)
		}
		now := r.s.now()
		id := wire.CallID(newID("call"))
		cl := &callState{
			call: wire.Call{ID: id, Conv: cs.conv.ID, Kind: ci.Kind, State: wire.CallRinging, Allowed: allowed, CreatedAt: now.UnixMilli(),
				Record: cs.recordMode()},
			cs:     cs,
			agent:  a,
			ice:    map[wire.Author]*wire.ICEConfig{},
			media:  map[wire.Author]*wire.CallMedia{},
			gone:   map[wire.Author]Timer{},
			region: relay.Region(cs.org.rec.Region),
			log:    r.s.log.With("org", cs.org.id, "conv", cs.conv.ID, "call", id),
		}
		// The agent's peer connection is made now (its offer goes out while it rings); the
		// customer's credentials wait for the accept.
		ice, err := r.s.icePlan(cl.region, id, wire.AuthorAgent)
		if err != nil {
			cl.log.Warn("call refused: no relay plan", "err", err)
			return err
		}
		cl.ice[wire.AuthorAgent] = ice
		if err := r.saveCall(cl); err != nil {
			return err
		}
		r.calls[id], cs.call, a.call = cl, cl, cl
		r.ringFor(cl, r.s.ringTimeout())
		if len(cs.customers) == 0 {
			r.watchCallParty(cl, wire.AuthorCustomer)
		}
		r.callm.invites.WithLabelValues(string(ci.Kind)).Inc()
		cl.log.Info("call invited", "kind", ci.Kind, "agent", a.user.ID, "policy", cl.ice[wire.AuthorAgent].Policy)
		// Routing offers an agent on a call no new conversation, so a chat they were still
		// considering goes at once to another agent or back to the queue (the call now holds
		// their capacity, so routing passes them by).
		if o := a.offer; o != nil {
			r.withdraw(o, "call")
		}
		c.pushFrame(wire.TypeAck, rid, wire.Ack{Conv: cs.conv.ID, Call: id})
		r.sendCallState(cl)
		r.capacityChanged(a)
		return nil
	})
}

// ringFor lets cl ring for d: then, unanswered, it is missed.
func (r *router) ringFor(cl *callState, d time.Duration) {
	id := cl.call.ID
	cl.ring = r.s.cfg.AfterFunc(d, func() {
		r.post(func() {
			if r.calls[id] == cl && cl.call.State == wire.CallRinging {
				cl.log.Info("call not answered in time")
				r.endCall(cl, wire.OutcomeMissed, "ring_timeout", "")
			}
		})
	})
}

// icePlan is the ICE configuration one party of a call gets: the relays the organisation's
// region allows, with credentials naming the call and the party.
func (s *Server) icePlan(region relay.Region, id wire.CallID, side wire.Author) (*wire.ICEConfig, error) {
	dir := s.relays.Load()
	if dir == nil {
		if region.Government() {
			return nil, ErrNoRelay
		}
		return &wire.ICEConfig{Servers: []wire.ICEServer{}, Policy: string(relay.PolicyAll)}, nil
	}
	plan, err := dir.Plan(region, "", turnID(id, side))
	if errors.Is(err, relay.ErrNoRelay) {
		return nil, ErrNoRelay
	}
	if err != nil {
		return nil, err
	}
	ice := &wire.ICEConfig{Servers: make([]wire.ICEServer, 0, len(plan.Servers)), Policy: string(plan.Policy)}
	for _, sv := range plan.Servers {
		ice.Servers = append(ice.Servers, wire.ICEServer{URLs: sv.URLs, Username: sv.Username, Credential: sv.Credential})
	}
	return ice, nil
}

// answerTimeout is how long a customer who answered may take to give the browser the devices
// (or pick audio after a refused camera) before the call ends as failed.
const answerTimeout = 2 * time.Minute

// ringingForCustomer is call id while it rings, when c is its customer; doing names what only the
// customer does, for the refusal ("answers a call").
func (r *router) ringingForCustomer(c *conn, id wire.CallID, doing string) (*callState, error) {
	cl, side, err := r.callOf(c, id)
	switch {
	case err != nil:
		return nil, err
	case side != wire.AuthorCustomer:
		return nil, wire.Errorf(wire.EFORBIDDEN, "only the customer %s", doing)
	case cl.call.State != wire.CallRinging:
		return nil, ErrCallNotRinging
	}
	return cl, nil
}

// callAnswering is the customer picking audio or video while it rings: they have answered, so
// the ring timeout stops (a customer reading the browser's prompt is no missed call), and the
// agent is told what holds it up, e.g. a blocked camera.
func (r *router) callAnswering(c *conn, rid string, ca wire.CallAnswering) error {
	return r.call(func() error {
		cl, err := r.ringingForCustomer(c, ca.Call, "answers a call")
		if err != nil {
			return err
		}
		if !cl.call.Answering {
			if cl.ring != nil {
				cl.ring.Stop()
			}
			id := cl.call.ID
			cl.ring = r.s.cfg.AfterFunc(answerTimeout, func() {
				r.post(func() {
					if r.calls[id] == cl && cl.call.State == wire.CallRinging {
						cl.log.Info("call answered but never joined")
						r.endCall(cl, wire.OutcomeFailed, "answer_timeout", wire.AuthorCustomer)
					}
				})
			})
		}
		cl.call.Answering, cl.call.Problem = true, ca.Problem
		cl.log.Info("call answering", "video", ca.Video, "problem", ca.Problem)
		ack(c, rid, wire.Ack{})
		r.sendCallState(cl)
		return nil
	})
}

// callAccept answers a ringing call: the customer only.
func (r *router) callAccept(c *conn, rid string, ca wire.CallAccept) error {
	return r.call(func() error {
		cl, err := r.ringingForCustomer(c, ca.Call, "answers a call")
		if err != nil {
			return err
		}
		switch {
		case ca.Video && !permits(cl.call.Allowed, wire.CallVideo):
			return ErrCallKindNotAllowed
		case cl.call.Record == wire.RecordingAlways && !ca.Record:
			// Told the call is recorded, the customer answers with their consent, or declines
			// and keeps chatting.
			return ErrNoConsent
		}
		ice, err := r.s.icePlan(cl.region, cl.call.ID, wire.AuthorCustomer)
		if err != nil {
			return err
		}
		prev := cl.call
		cl.call.State, cl.call.AnsweredAt = wire.CallActive, r.s.now().UnixMilli()
		cl.call.Answering, cl.call.Problem = false, ""
		cl.call.Outcome = wire.OutcomeAcceptedAudio
		cl.call.Consent = ca.Record && cl.call.Record != ""
		kind, text := wire.CallVoice, "Voice call started"
		if ca.Video {
			cl.call.Outcome, kind, text = wire.OutcomeAcceptedVideo, wire.CallVideo, "Video call started"
		}
		if err := r.saveCall(cl); err != nil {
			cl.call = prev
			return err
		}
		if cl.ring != nil {
			cl.ring.Stop()
			cl.ring = nil
		}
		r.revokeProbes(cl)          // the probe was for while it rang
		cl.cs.visit.WithCall = true // the queue's handle time with calls (saved when the visit ends)
		cl.ice[wire.AuthorCustomer] = ice
		r.scheduleRenewal(cl)
		r.callm.outcomes.WithLabelValues(string(cl.call.Outcome)).Inc()
		cl.log.Info("call answered", "video", ca.Video, "recording_consent", cl.call.Consent)
		if cl.call.Record == wire.RecordingAlways {
			if err := r.startRecording(cl, store.User{}); err != nil {
				cl.log.Error("the call runs unrecorded", "err", err)
			}
		}
		// The state (with the customer's ICE servers) before the ack: the portal builds its peer
		// connection when the ack arrives.
		r.sendCallState(cl)
		ack(c, rid, wire.Ack{})
		r.systemEvent(cl.cs, text, &wire.Event{Kind: wire.EventCallStarted, CallKind: kind})
		if cl.call.Recording {
			r.recordingStartedLine(cl, store.User{})
		}
		return nil
	})
}

// scheduleRenewal arranges fresh TURN credentials for both parties before theirs expire, after
// two thirds of their lifetime. Each party's client applies them with an ICE restart (the agent
// offers it), so a long call keeps its relay while a credential copied out of a browser stops
// working minutes after the call.
func (r *router) scheduleRenewal(cl *callState) {
	if cl.renew != nil {
		cl.renew.Stop()
	}
	cl.renew = r.s.cfg.AfterFunc(r.s.cfg.TURN.ttl()*2/3, func() {
		r.post(func() {
			if r.calls[cl.call.ID] != cl || cl.call.State != wire.CallActive {
				return
			}
			cl.renew = nil
			renewed := false
			for _, side := range []wire.Author{wire.AuthorAgent, wire.AuthorCustomer} {
				ice, err := r.s.icePlan(cl.region, cl.call.ID, side)
				if err != nil {
					cl.log.Warn("renewing TURN credentials", "party", side, "err", err)
					continue
				}
				renewed = renewed || hasCredentials(ice)
				cl.ice[side] = ice
			}
			if !renewed {
				return // no TURN relay: nothing expires
			}
			cl.log.Info("TURN credentials renewed")
			r.sendCallState(cl)
			r.scheduleRenewal(cl)
		})
	})
}

func hasCredentials(ice *wire.ICEConfig) bool {
	for _, sv := range ice.Servers {
		if sv.Credential != "" {
			return true
		}
	}
	return false
}

// callHangUp is call.decline (the customer refusing a ringing call) or call.end (either party
// hanging up; the agent cancelling a ringing call; the customer ending one that rings is a
// decline).
func (r *router) callHangUp(c *conn, rid string, id wire.CallID, decline bool) error {
	return r.call(func() error {
		cl, side, err := r.callOf(c, id)
		if err != nil {
			return err
		}
		ringing := cl.call.State == wire.CallRinging
		switch {
		case decline && side != wire.AuthorCustomer:
			return wire.Errorf(wire.EFORBIDDEN, "only the customer declines a call; agents end it")
		case decline && !ringing:
			return ErrCallNotRinging
		case ringing && side == wire.AuthorCustomer:
			r.endCall(cl, wire.OutcomeDeclined, "declined", side)
		case ringing:
			r.endCall(cl, wire.OutcomeCancelled, "cancelled", side)
		default:
			r.endCall(cl, "", "hangup", side)
		}
		ack(c, rid, wire.Ack{})
		return nil
	})
}

// callSignal relays an SDP description or an ICE candidate to the other party.
func (r *router) callSignal(c *conn, rid string, sig wire.CallSignal) error {
	return r.relayToOtherParty(c, rid, sig.Call, func(_ *callState, side wire.Author) []byte {
		sig.From = side
		return encode(wire.TypeCallSignal, sig)
	})
}

// callMedia relays a party's mute and video state to the other, and keeps it for reconnects.
func (r *router) callMedia(c *conn, rid string, cm wire.CallMedia) error {
	return r.relayToOtherParty(c, rid, cm.Call, func(cl *callState, side wire.Author) []byte {
		cm.From = side
		cl.media[side] = &cm
		return encode(wire.TypeCallMedia, cm)
	})
}

// relayToOtherParty runs on the loop: it finds c's side of call id, sends the other party the
// frame that frame makes for that side, and acks rid.
func (r *router) relayToOtherParty(c *conn, rid string, id wire.CallID, frame func(cl *callState, side wire.Author) []byte) error {
	return r.call(func() error {
		cl, side, err := r.callOf(c, id)
		if err != nil {
			return err
		}
		r.toCallParty(cl, other(side), frame(cl, side))
		ack(c, rid, wire.Ack{})
		return nil
	})
}

// endCall ends a call: stores how it went, writes its transcript line, frees the agent and tells
// both parties. outcome "" keeps the answered outcome; by is "" when nobody hung up (a timeout).
func (r *router) endCall(cl *callState, outcome wire.CallOutcome, reason string, by wire.Author) {
	now := r.s.now().UnixMilli()
	if outcome != "" {
		cl.call.Outcome = outcome
	}
	cl.call.State, cl.call.EndedAt, cl.call.EndedBy, cl.call.Reason = wire.CallEnded, now, by, reason
	if cl.mon != nil {
		r.endMonitor(cl.mon, "call_ended")
	}
	r.stopRecording(cl, store.User{})
	if cl.ring != nil {
		cl.ring.Stop()
		cl.ring = nil
	}
	for side, t := range cl.gone {
		t.Stop()
		delete(cl.gone, side)
	}
	if cl.renew != nil {
		cl.renew.Stop()
		cl.renew = nil
	}
	// The embedded relay stops relaying for this call now, whoever still holds its credentials.
	r.s.revokeCall(cl.call.ID)
	if cl.call.AnsweredAt == 0 {
		r.revokeProbes(cl) // an answered call's went at the answer
	}
	if err := r.saveCall(cl); err != nil {
		cl.log.Error("storing the ended call", "err", err) // the call ends for the parties anyway
	}
	delete(r.calls, cl.call.ID)
	if cl.cs.call == cl {
		cl.cs.call = nil
	}
	if cl.agent.call == cl {
		cl.agent.call = nil
	}
	cl.cs.org.dropStats()
	if outcome != "" && outcome != wire.OutcomeAcceptedAudio && outcome != wire.OutcomeAcceptedVideo {
		r.callm.outcomes.WithLabelValues(string(outcome)).Inc()
	}
	var dur int64
	if cl.call.AnsweredAt > 0 {
		dur = now - cl.call.AnsweredAt
		r.callm.seconds.WithLabelValues(string(cl.call.Kind)).Observe(float64(dur) / 1000)
	}
	cl.log.Info("call ended", "outcome", cl.call.Outcome, "reason", reason, "by", by, "duration", time.Duration(dur)*time.Millisecond)
	r.sendCallState(cl)
	text, ev := callLine(cl.call, dur)
	r.systemEvent(cl.cs, text, ev)
	cl.agent.idleSince = r.s.now()
	r.capacityChanged(cl.agent)
	r.touch(cl.cs) // the end of a call is activity: the close for inactivity waits from now

}

// callLine is the transcript line for an ended call.
func callLine(c wire.Call, dur int64) (string, *wire.Event) {
	ev := &wire.Event{CallKind: c.Kind}
	var text string
	switch {
	case c.AnsweredAt > 0:
		ev.Kind, ev.DurationMS = wire.EventCallEnded, dur
		if c.Outcome == wire.OutcomeAcceptedVideo {
			ev.CallKind = wire.CallVideo
		} else {
			ev.CallKind = wire.CallVoice
		}
		text = "Call ended · " + clockDuration(dur)
	case c.Outcome == wire.OutcomeDeclined:
		ev.Kind, text = wire.EventCallDeclined, "Call declined"
	case c.Outcome == wire.OutcomeMissed:
		ev.Kind, text = wire.EventCallMissed, "Missed call"
	case c.Outcome == wire.OutcomeCancelled:
		ev.Kind, text = wire.EventCallCancelled, "Call cancelled"
	default:
		ev.Kind, text = wire.EventCallFailed, "Call failed"
	}
	return text, ev
}

// clockDuration formats milliseconds as m:ss, or h:mm:ss from an hour.
func clockDuration(ms int64) string {
	s := ms / 1000
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
	}
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}

// saveCall stores the call's record.
func (r *router) saveCall(cl *callState) error {
	ctx, cancel := dbctx()
	defer cancel()
	return r.s.store.SaveCall(ctx, store.CallRecord{Call: cl.call, Org: cl.cs.org.id, Agent: cl.agent.user.ID})
}

// capacityChanged tells the agent and the supervisors that the agent's load moved (a call took
// or gave back their capacity), and routes: a freed agent may be offered a chat now.
func (r *router) capacityChanged(a *agentState) {
	r.pushAgentState(a)
	org := r.orgs[a.user.Org]
	if org == nil {
		return
	}
	r.route(org)
	r.dirty[org] = struct{}{}
}

// sendCallState sends the call's state to both parties, each with their own ICE servers.
func (r *router) sendCallState(cl *callState) {
	for _, side := range []wire.Author{wire.AuthorAgent, wire.AuthorCustomer} {
		r.toCallParty(cl, side, r.callFrame(cl, side))
	}
	if cl.cs.conv.ClosesAt != 0 {
		r.armIdle(cl.cs, false) // a call in progress never closes for inactivity
	}
}

func (r *router) callFrame(cl *callState, side wire.Author) []byte {
	st := cl.call
	if st.State != wire.CallEnded {
		st.ICE = cl.ice[side]
	}
	return encode(wire.TypeCallState, st)
}

// toCallParty sends a frame to one party of a call: the customer's connections, or those of the
// agent on the call.
func (r *router) toCallParty(cl *callState, side wire.Author, frame []byte) {
	if side == wire.AuthorCustomer {
		for c := range cl.cs.customers {
			c.push(&out{frame: frame})
		}
		return
	}
	cl.agent.push(frame)
}

// watchCallParty ends the call if side has no connection for CallGrace: a closed tab or a
// crashed agent app must not leave the call (and the agent's capacity) hanging.
func (r *router) watchCallParty(cl *callState, side wire.Author) {
	if cl.gone[side] != nil {
		return
	}
	var t Timer
	t = r.s.cfg.AfterFunc(r.s.callGrace(), func() {
		r.post(func() {
			if r.calls[cl.call.ID] != cl || cl.gone[side] != t {
				return
			}
			delete(cl.gone, side)
			cl.log.Info("call party gone past the grace period", "party", side)
			outcome := wire.CallOutcome("")
			if cl.call.State == wire.CallRinging {
				outcome = wire.OutcomeFailed
			}
			r.endCall(cl, outcome, "disconnected", side)
		})
	})
	cl.gone[side] = t
}

// callPartyLeft runs when a connection of a conversation's customer, or of an agent, went.
func (r *router) callPartyLeft(cs *convState, a *agentState) {
	switch {
	case cs != nil && cs.call != nil && len(cs.customers) == 0:
		r.watchCallParty(cs.call, wire.AuthorCustomer)
	case a != nil && a.call != nil && len(a.conns) == 0:
		r.watchCallParty(a.call, wire.AuthorAgent)
	}
}

// pushCalls tells a (re)connected party about its call: the state, with its ICE servers, and
// the other party's last mute/video state. It stops the party's grace timer.
func (r *router) pushCalls(c *conn) {
	var cl *callState
	var side wire.Author
	switch c.role {
	case wire.RoleCustomer:
		if cs := r.convs[c.conv]; cs != nil {
			cl, side = cs.call, wire.AuthorCustomer
		}
	case wire.RoleAgent:
		if org := r.orgs[c.org]; org != nil {
			if a := org.agents[c.user.ID]; a != nil {
				cl, side = a.call, wire.AuthorAgent
			}
		}
	}
	if cl == nil {
		return
	}
	if t := cl.gone[side]; t != nil {
		t.Stop()
		delete(cl.gone, side)
	}
	c.push(&out{frame: r.callFrame(cl, side)})
	if m := cl.media[other(side)]; m != nil {
		c.push(&out{frame: encode(wire.TypeCallMedia, *m)})
	}
}

// endConvCall ends the call of a conversation that is ending (or moving to another agent).
func (r *router) endConvCall(cs *convState, by wire.Author, reason string) {
	cs.org.dropStats()
	cl := cs.call
	if cl == nil {
		return
	}
	outcome := wire.CallOutcome("")
	if cl.call.State == wire.CallRinging {
		outcome = wire.OutcomeFailed
		if by == wire.AuthorAgent {
			outcome = wire.OutcomeCancelled
		}
	}
	r.endCall(cl, outcome, reason, by)
}

// systemEvent stores and broadcasts a line from the hub with its machine-readable event.
func (r *router) systemEvent(cs *convState, text string, ev *wire.Event) {
	m, _, err := r.appendMessage(cs, wire.Message{Conv: cs.conv.ID, Author: wire.AuthorSystem, Text: text, Event: ev})
	if err != nil {
		r.s.log.Error("storing a system message", "conv", cs.conv.ID, "err", err)
		return
	}
	r.sendMessage(cs, m)
}

// endCallsAtStart closes the calls a stopped hub left ringing or active: none survives a
// restart (the parties' signalling went with it).
func (r *router) endCallsAtStart() error {
	ctx, cancel := dbctx()
	defer cancel()
	n, err := r.s.store.EndOpenCalls(ctx, r.s.now().UnixMilli(), "hub_restart")
	if n > 0 {
		r.s.log.Info("calls left open by the last run ended", "calls", n)
	}
	return err
}

// adoptCalls keeps the calls in progress of an organisation this cluster node took over from a
// node that died or drained (adopt). A call's media runs between the parties (peer to peer, or
// through a TURN relay), not through a hub, so it outlives its signalling node: the call is
// rebuilt from its stored record and holds its agent's capacity again, each party gets fresh ICE
// servers from this node when it reconnects (pushCalls), and each has CallGrace to come back.
//
// A call still ringing is kept too. While it rings the agent's app has already sent its offer,
// which the customer's page holds until they answer, and the customer has no relay credentials
// yet (they come with the answer): nothing of the ringing lives only on the dead node but its
// ring timer. The call rings on for what is left of its ring time, and at least CallGrace: the
// store does not say whether the customer was already answering (in the browser's device
// prompt), so a call about to be missed gets the time to come back and be answered here.
//
// A call whose conversation or agent is gone ends as at a restart. What the stored record does
// not hold starts afresh: the parties' mute and video state (each client sends it again on a
// change), whether the customer was answering, and whether a recording runs (the agent's app
// records on).
func (r *router) adoptCalls(calls []store.CallRecord) {
	for _, rec := range calls {
		if r.calls[rec.ID] != nil {
			continue
		}
		cs := r.convs[rec.Conv]
		var a *agentState
		if cs != nil {
			a = cs.org.agents[rec.Agent]
		}
		log := r.s.log.With("org", rec.Org, "conv", rec.Conv, "call", rec.ID)
		ringing := rec.State == wire.CallRinging
		keep := (rec.State == wire.CallActive || ringing) && cs != nil && a != nil && cs.call == nil && a.call == nil &&
			cs.conv.State == wire.ConvActive && cs.conv.AgentID == a.user.ID
		cl := &callState{call: rec.Call, cs: cs, agent: a, ice: map[wire.Author]*wire.ICEConfig{},
			media: map[wire.Author]*wire.CallMedia{}, gone: map[wire.Author]Timer{}, log: log}
		if keep {
			cl.region = relay.Region(cs.org.rec.Region)
			sides := []wire.Author{wire.AuthorAgent, wire.AuthorCustomer}
			if ringing {
				sides = sides[:1] // the customer's credentials come with the answer
			}
			for _, side := range sides {
				ice, err := r.s.icePlan(cl.region, rec.ID, side)
				if err != nil {
					log.Warn("a call the last node left: no relay plan", "err", err)
					keep = false
					break
				}
				cl.ice[side] = ice
			}
		}
		if !keep {
			cl.call.State, cl.call.EndedAt, cl.call.Reason = wire.CallEnded, r.s.now().UnixMilli(), "hub_restart"
			if cl.call.AnsweredAt == 0 {
				cl.call.Outcome = wire.OutcomeFailed
			}
			ctx, cancel := dbctx()
			err := r.s.store.SaveCall(ctx, store.CallRecord{Call: cl.call, Org: rec.Org, Agent: rec.Agent})
			cancel()
			if err != nil {
				log.Error("ending a call the last node left", "err", err)
			} else {
				log.Info("a call the last node left ended", "state", rec.State)
			}
			continue
		}
		cl.call.Allowed, cl.call.Record = cs.callsAllowed(), cs.recordMode()
		r.calls[rec.ID], cs.call, a.call = cl, cl, cl
		if ringing {
			cl.call.Answering, cl.call.Problem = false, ""
			left := time.Duration(rec.CreatedAt+r.s.ringTimeout().Milliseconds()-r.s.now().UnixMilli()) * time.Millisecond
			r.ringFor(cl, max(left, r.s.callGrace()))
		} else {
			cs.visit.WithCall = true
			r.scheduleRenewal(cl)
		}
		// Each party has the grace period to reconnect; pushCalls stops its timer.
		r.watchCallParty(cl, wire.AuthorAgent)
		r.watchCallParty(cl, wire.AuthorCustomer)
		r.callm.adopted.Inc()
		log.Info("call kept from the organisation's last node", "agent", a.user.ID, "kind", rec.Kind, "state", rec.State)
	}
}

// stopCallTimers stops every call's and screen share's timers (the router is stopping).
func (r *router) stopCallTimers() {
	for _, cl := range r.calls {
		if cl.ring != nil {
			cl.ring.Stop()
		}
		for _, t := range cl.gone {
			t.Stop()
		}
		if cl.renew != nil {
			cl.renew.Stop()
		}
	}
	for _, vs := range r.visuals {
		if vs.renew != nil {
			vs.renew.Stop()
		}
	}
}

// SetOrgCalls changes an organisation's call setting and region (e.g. "gcc" for the government
// cloud). Calls already ringing or running keep their plan; the next ones follow the new
// setting, and agents see each open conversation's new setting.
func (s *Server) SetOrgCalls(ctx context.Context, org wire.OrgID, allowed wire.CallsAllowed, region relay.Region) error {
	switch allowed {
	case wire.CallsVoiceVideo, wire.CallsVoiceOnly, wire.CallsNone:
	default:
		return wire.Errorf(wire.EINVALID, "calls must be voice_video, voice or none")
	}
	if region != "" && !region.Government() && region.Geo() == "" {
		return wire.Errorf(wire.EINVALID, "region %q names no geography", region)
	}
	rec, err := s.store.Org(ctx, org)
	if errors.Is(err, store.ErrNotFound) {
		return ErrOrgNotFound
	}
	if err != nil {
		return err
	}
	rec.Calls, rec.Region = allowed, string(region)
	if err := s.store.UpdateOrg(ctx, rec); err != nil {
		return err
	}
	s.orgChanged(rec)
	return nil
}
