package hub

import (
	"errors"
	"strconv"

	"github.com/parleyhq/parley/hub/relay"
	"github.com/parleyhq/parley/wire"
)

// The customer's network probe (wire.CallProbe): while a call rings, the portal asks for
// credentials to reach the organisation's relays, connects to itself through them and reports
// the round trip. The credentials name a network test's id, so on the embedded relay they relay
// only between the probe's own allocations; they last relay.TestTTL and are revoked when the
// call stops ringing. The agent sees the result, graded here, in call.state.

// maxProbesPerCall bounds the probes one call hands out, whatever the rate limits allow: a
// probe per tab with a retry or two.
const maxProbesPerCall = 6

// probeID is the credential id of a call's n-th probe: a network test's id naming the call.
func probeID(id wire.CallID, n int) string {
	return relay.TestIDPrefix + "probe/" + string(id) + "/" + strconv.Itoa(n)
}

// callProbe hands the customer of a ringing call the relays for a network probe.
func (r *router) callProbe(c *conn, rid string, ref wire.CallRef) error {
	return r.call(func() error {
		cl, err := r.ringingForCustomer(c, ref.Call, "probes their network")
		if err != nil {
			return err
		}
		if len(cl.probes) >= maxProbesPerCall {
			return ErrRateLimited
		}
		if _, err := c.lim.allowProbe(c.addr); err != nil {
			cl.log.Info("network probe refused: rate", "address", c.addr)
			return err
		}
		ice := &wire.ICEConfig{Servers: []wire.ICEServer{}, Policy: string(relay.PolicyRelay)}
		if dir := r.s.relays.Load(); dir != nil {
			id := probeID(cl.call.ID, len(cl.probes)+1)
			plan, err := dir.PlanFor(cl.region, "", id, relay.TestTTL)
			switch {
			case errors.Is(err, relay.ErrNoRelay):
				return ErrNoRelay
			case err != nil:
				return err
			}
			cl.probes = append(cl.probes, id)
			for _, sv := range plan.Servers {
				ice.Servers = append(ice.Servers, wire.ICEServer{URLs: sv.URLs, Username: sv.Username, Credential: sv.Credential})
			}
		}
		cl.log.Info("network probe", "relays", len(ice.Servers), "address", c.addr)
		c.pushFrame(wire.TypeAck, rid, wire.Ack{ICE: ice})
		return nil
	})
}

// gradeProbe is a probe's grade from its figures.
func gradeProbe(p wire.CallProbe) string {
	switch {
	case !p.Reached:
		return wire.ProbeFailed
	case p.RTTMs >= wire.ProbeWeakRTTMs, p.LossPct >= wire.ProbeWeakLossPct, p.Transport != "udp":
		return wire.ProbeWeak
	}
	return wire.ProbeGood
}

// callProbeResult takes the customer's probe figures: checked, graded, and sent to both parties
// in call.state.
func (r *router) callProbeResult(c *conn, rid string, p wire.CallProbe) error {
	switch {
	case p.RTTMs < 0 || p.RTTMs > 60_000:
		return wire.Errorf(wire.EINVALID, "rtt_ms must be 0 to 60000")
	case p.LossPct < 0 || p.LossPct > 100:
		return wire.Errorf(wire.EINVALID, "loss_pct must be 0 to 100")
	case p.Transport != "" && p.Transport != "udp" && p.Transport != "tcp" && p.Transport != "tls":
		return wire.Errorf(wire.EINVALID, "transport must be udp, tcp or tls")
	case p.Reached == (p.Transport == ""):
		return wire.Errorf(wire.EINVALID, "a reached relay has a transport, and only one")
	}
	return r.call(func() error {
		cl, side, err := r.callOf(c, p.Call)
		if err != nil {
			return err
		}
		switch {
		case side != wire.AuthorCustomer:
			return wire.Errorf(wire.EFORBIDDEN, "only the customer reports their network probe")
		case cl.call.State == wire.CallEnded:
			return ErrCallNotFound
		case len(cl.probes) == 0:
			return wire.Errorf(wire.ECONFLICT, "no network probe was handed out for this call")
		}
		p.Status, p.At = gradeProbe(p), r.s.now().UnixMilli()
		cl.call.Probe = &p
		cl.log.Info("network probe result", "status", p.Status, "rtt_ms", p.RTTMs, "loss_pct", p.LossPct, "transport", p.Transport)
		r.callm.probes.WithLabelValues(p.Status).Inc()
		ack(c, rid, wire.Ack{})
		r.sendCallState(cl)
		return nil
	})
}

// revokeProbes ends what a call's probe credentials may do on the embedded relay, once the call
// no longer rings. It closes sockets, so off the routing loop.
func (r *router) revokeProbes(cl *callState) {
	ids := cl.probes
	if len(ids) == 0 || r.s.turn == nil {
		return
	}
	ts := r.s.turn
	go func() {
		for _, id := range ids {
			ts.Revoke(id)
		}
	}()
}
