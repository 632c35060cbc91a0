package hub

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"github.com/prometheus/client_golang/prometheus"
	"net"

	"github.com/parleyhq/parley/hub/relay"
)

// The relays calls may use: the embedded TURN server (Config.TURNUDP, TURNTCP) and the external
// ones (Config.Relays). Each call's parties get a plan from them (relay.Directory.Plan) chosen by
// the organisation's region: a government ("gcc") organisation is relay-only through
// North-American relays.

// embeddedRelayID names the embedded TURN server in plans and logs.
const embeddedRelayID = "embedded"

// startRelays starts the embedded TURN server when it is configured, and publishes the directory
// the calls draw their ICE servers from. The secret is never logged.
func (s *Server) startRelays() error {
	relays := append([]relay.Relay(nil), s.cfg.Relays...)
	if s.cfg.TURNUDP != "" || s.cfg.TURNTCP != "" {
		secret := s.cfg.TURNSecret
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
		cfg := relay.Config{Secret: secret, UDP: s.cfg.TURNUDP, TCP: s.cfg.TURNTCP, RelayIP: ip, MinPort: minPort, MaxPort: maxPort, Log: s.log, Now: s.now}
		if ip.IsLoopback() {
			// A relay on loopback serves this machine only (development, tests): let it relay to
			// loopback peers, which the default refuses.
			cfg.AllowPeer = func(peer net.IP) bool { return peer.IsLoopback() || relay.DefaultAllowPeer(peer) }
		}
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
		relays = append([]relay.Relay{ts.Relay(embeddedRelayID, region, host)}, relays...)
		s.log.Info("embedded TURN server listening", "udp", ts.UDPAddr(), "tcp", ts.TCPAddr(), "region", region, "advertised", host)
	}
	if len(relays) == 0 {
		return nil
	}
	dir, err := relay.NewDirectory(relays, 0, s.now)
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

// TURN returns the embedded TURN server, nil when none runs.
func (s *Server) TURN() *relay.Server { return s.turn }

// registerTURNMetrics exports the embedded TURN server's counters on the hub's /metrics.
func (s *Server) registerTURNMetrics(ts *relay.Server) {
	stat := func(f func(relay.Stats) float64) func() float64 {
		return func() float64 { return f(ts.Stats()) }
	}
	for _, c := range []prometheus.Collector{
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "parley_hub_turn_allocations",
			Help: "TURN allocations open on the embedded relay."},
			stat(func(st relay.Stats) float64 { return float64(st.Allocations) })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "parley_hub_turn_allocations_total",
			Help: "TURN allocations made by the embedded relay."},
			stat(func(st relay.Stats) float64 { return float64(st.AllocationsTotal) })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "parley_hub_turn_auth_refused_total",
			Help: "TURN requests refused for expired, malformed or forged credentials."},
			stat(func(st relay.Stats) float64 { return float64(st.AuthRefused) })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "parley_hub_turn_relayed_bytes_total",
			Help: "UDP payload relayed by the embedded relay.", ConstLabels: prometheus.Labels{"direction": "from_peers"}},
			stat(func(st relay.Stats) float64 { return float64(st.BytesFromPeers) })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "parley_hub_turn_relayed_bytes_total",
			Help: "UDP payload relayed by the embedded relay.", ConstLabels: prometheus.Labels{"direction": "to_peers"}},
			stat(func(st relay.Stats) float64 { return float64(st.BytesToPeers) })),
	} {
		if err := s.metrics.reg.Register(c); err != nil {
			s.log.Warn("TURN metrics", "err", err)
		}
	}
}
