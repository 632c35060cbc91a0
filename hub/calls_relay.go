package hub

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net"
	"net/netip"
	"time"

	"github.com/parleyhq/parley/hub/relay"
	"github.com/parleyhq/parley/wire"
	"github.com/prometheus/client_golang/prometheus"
)

// The relays calls may use: the embedded TURN server (Config.TURNUDP, TURNTCP) and the external
// ones (Config.Relays). Each call's parties get a plan from them (relay.Directory.Plan) chosen by
// the organisation's region: a government ("gcc") organisation is relay-only through
// North-American relays.

// embeddedRelayID names the embedded TURN server in plans and logs.
const embeddedRelayID = "embedded"

// TURNLimits bound what a call's credentials can do. A customer's credentials reach the
// customer's browser, so they are handed out only once the customer accepts, last minutes, are
// renewed while the call runs, and stop working on the embedded relay the moment it ends.
type TURNLimits struct {
	// CredentialTTL is how long issued TURN credentials last (default relay.DefaultTTL). A call
	// that runs longer gets fresh ones after two thirds of it, and its parties restart ICE with
	// them; external relays honour old ones until they expire.
	CredentialTTL time.Duration
	// UserQuota bounds the allocations one party of one call holds on the embedded relay at once
	// (default relay.DefaultUserQuota; negative for none).
	UserQuota int
	// AllowPeers are ranges the embedded relay may relay to although they are private
	// (on-premises agents); the default refuses private, loopback, link-local and CGNAT peers.
	AllowPeers []netip.Prefix
	// MaxConns and MaxConnsPerIP bound TURN-over-TCP connections (defaults in package relay).
	MaxConns, MaxConnsPerIP int
}

func (l TURNLimits) ttl() time.Duration {
	if l.CredentialTTL > 0 {
		return l.CredentialTTL
	}
	return relay.DefaultTTL
}

// startRelays starts the embedded TURN server when it is configured, and publishes the directory
// the calls draw their ICE servers from. The secret is never logged.
func (s *Server) startRelays() error {
	relays := append([]relay.Relay(nil), s.cfg.Relays...)
	if s.cfg.TURNUDP != "" || s.cfg.TURNTCP != "" || s.cfg.TLS.TURNTLS != "" {
		secret := s.cfg.TURNSecret
		if secret == "" && s.cluster != nil {
			// Every node of a cluster derives the same secret from the cluster's (in the store),
			// so credentials one node issued work on every node's relay: a party whose call
			// moved to another node renews there.
			secret = s.cluster.turnSecret()
		}
		if secret == "" {
			var b [32]byte
			_, _ = rand.Read(b[:])
			secret = base64.RawURLEncoding.EncodeToString(b[:])
		}
		host := s.cfg.TURNPublicIP
		if host == "" {
			host = "127.0.0.1"
			s.log.Warn("the embedded TURN server advertises 127.0.0.1; set -turn-public-ip for clients on other machines")
		}
		ip := net.ParseIP(host)
		if ip == nil {
			return fmt.Errorf("hub: TURN public IP %q is not an IP address", host)
		}
		minPort, maxPort, err := relay.ParsePortRange(s.cfg.TURNPorts)
		if err != nil {
			return err
		}
		// Loopback peers are allowed only when the relay listens on loopback alone (the relay
		// decides from its listeners, not from the address it advertises).
		l := s.cfg.TURN
		cfg := relay.Config{Secret: secret, UDP: s.cfg.TURNUDP, TCP: s.cfg.TURNTCP, TLS: s.cfg.TLS.TURNTLS, TLSConfig: s.tlsConf, RelayIP: ip, MinPort: minPort, MaxPort: maxPort,
			AllowPeers: l.AllowPeers, UserQuota: l.UserQuota, MaxConns: l.MaxConns, MaxConnsPerIP: l.MaxConnsPerIP, Log: s.log, Now: s.now}
		ts, err := relay.NewServer(cfg)
		if err != nil {
			return err
		}
		if err := ts.Start(); err != nil {
			return err
		}
		region := relay.Region(s.cfg.TURNRegion)
		if region == "" {
			region = relay.NorthAmerica
		}
		s.turn = ts
		s.registerTURNMetrics(ts)
		embedded := ts.Relay(embeddedRelayID, region, host)
		embedded.URLs = s.withTURNName(embedded.URLs) // turns: by the certificate's name
		relays = append([]relay.Relay{embedded}, relays...)
		s.log.Info("embedded TURN server listening", "udp", ts.UDPAddr(), "tcp", ts.TCPAddr(), "region", region, "advertised", host)
	}
	if len(relays) == 0 {
		return nil
	}
	dir, err := relay.NewDirectory(relays, s.cfg.TURN.ttl(), s.now)
	if err != nil {
		s.closeRelays()
		return err
	}
	s.relays.Store(dir)
	return nil
}

// closeRelays stops the embedded TURN server.
func (s *Server) closeRelays() {
	if s.turn != nil {
		if err := s.turn.Close(); err != nil {
			s.log.Warn("closing the TURN server", "err", err)
		}
	}
}

// revokeCall ends what a finished call's credentials can do on the embedded relay: its
// allocations close and the credentials are refused. It runs off the routing loop (it closes
// sockets).
func (s *Server) revokeCall(id wire.CallID) {
	ts := s.turn
	if ts == nil {
		return
	}
	go func() {
		for _, side := range []wire.Author{wire.AuthorAgent, wire.AuthorCustomer} {
			ts.Revoke(turnID(id, side))
		}
	}()
}

// turnID is the id a party's TURN credentials name: the call and the party.
func turnID(id wire.CallID, side wire.Author) string { return string(id) + "/" + string(side) }

// TURN returns the embedded TURN server, nil when none runs.
func (s *Server) TURN() *relay.Server { return s.turn }

// registerTURNMetrics exports the embedded TURN server's counters on the hub's /metrics.
func (s *Server) registerTURNMetrics(ts *relay.Server) {
	const refusedHelp = "What the embedded relay refused, by reason: peer (an address the policy forbids), quota (a party's allocations), conn_cap (a TCP connection over a cap), idle (a silent TCP connection closed)."
	const relayedHelp = "UDP payload relayed by the embedded relay."
	for _, m := range []struct {
		gauge      bool // a level rather than a running total
		name, help string
		labels     prometheus.Labels
		read       func(relay.Stats) float64
	}{
		{true, "parley_hub_turn_allocations", "TURN allocations open on the embedded relay.", nil,
			func(st relay.Stats) float64 { return float64(st.Allocations) }},
		{false, "parley_hub_turn_allocations_total", "TURN allocations made by the embedded relay.", nil,
			func(st relay.Stats) float64 { return float64(st.AllocationsTotal) }},
		{false, "parley_hub_turn_auth_refused_total", "TURN requests refused for expired, malformed or forged credentials.", nil,
			func(st relay.Stats) float64 { return float64(st.AuthRefused) }},
		{false, "parley_hub_turn_refused_total", refusedHelp, prometheus.Labels{"reason": "peer"},
			func(st relay.Stats) float64 { return float64(st.PeersRefused) }},
		{false, "parley_hub_turn_refused_total", refusedHelp, prometheus.Labels{"reason": "quota"},
			func(st relay.Stats) float64 { return float64(st.QuotaRefused) }},
		{false, "parley_hub_turn_refused_total", refusedHelp, prometheus.Labels{"reason": "conn_cap"},
			func(st relay.Stats) float64 { return float64(st.ConnsRefused) }},
		{false, "parley_hub_turn_refused_total", refusedHelp, prometheus.Labels{"reason": "idle"},
			func(st relay.Stats) float64 { return float64(st.ConnsIdle) }},
		{false, "parley_hub_turn_revoked_total", "TURN allocations the embedded relay closed because their call ended.", nil,
			func(st relay.Stats) float64 { return float64(st.Revoked) }},
		{true, "parley_hub_turn_connections", "TURN-over-TCP connections open on the embedded relay.", nil,
			func(st relay.Stats) float64 { return float64(st.Conns) }},
		{false, "parley_hub_turn_relayed_bytes_total", relayedHelp, prometheus.Labels{"direction": "from_peers"},
			func(st relay.Stats) float64 { return float64(st.BytesFromPeers) }},
		{false, "parley_hub_turn_relayed_bytes_total", relayedHelp, prometheus.Labels{"direction": "to_peers"},
			func(st relay.Stats) float64 { return float64(st.BytesToPeers) }},
	} {
		read := m.read
		value := func() float64 { return read(ts.Stats()) }
		var c prometheus.Collector
		if m.gauge {
			c = prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: m.name, Help: m.help, ConstLabels: m.labels}, value)
		} else {
			c = prometheus.NewCounterFunc(prometheus.CounterOpts{Name: m.name, Help: m.help, ConstLabels: m.labels}, value)
		}
		if err := s.metrics.reg.Register(c); err != nil {
			s.log.Warn("TURN metrics", "err", err)
		}
	}
}
