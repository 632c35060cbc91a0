// Package relay carries call media through TURN: an embedded TURN server, short-lived TURN REST
// credentials (coturn's use-auth-secret scheme) and the region policy that picks which relays an
// organisation's calls may use.
package relay

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/turn/v5"
)

// DefaultRealm is the TURN realm when Config.Realm is empty.
const DefaultRealm = "parley"

// Config configures the embedded TURN server.
type Config struct {
	// Realm is the TURN realm; DefaultRealm if empty. External relays sharing the secret need not
	// use the same realm: the password does not depend on it.
	Realm string
	// Secret is the TURN REST shared secret (coturn's static-auth-secret). Required.
	Secret string
	// UDP is the address TURN-over-UDP listens on, e.g. ":3478"; empty for none.
	UDP string
	// TCP is the address TURN-over-TCP listens on, e.g. ":3478"; empty for none.
	TCP string
	// TLS is the address TURN-over-TLS (turns:) listens on, e.g. ":5349"; empty for none.
	TLS string
	// TLSConfig holds the certificate for TLS. Required when TLS is set.
	TLSConfig *tls.Config
	// RelayIP is the address advertised to peers in relayed candidates: the server's public IP
	// (loopback in tests). Required.
	RelayIP net.IP
	// RelayBind is the local address relay sockets bind to; "0.0.0.0" (or "::" for an IPv6
	// RelayIP) if empty.
	RelayBind string
	// MinPort and MaxPort bound the relay ports (inclusive); both zero lets the system choose.
	MinPort, MaxPort uint16
	// AllowPeer decides which peer addresses allocations may relay to; nil means DefaultAllowPeer.
	AllowPeer func(peer net.IP) bool
	// Log receives the server's logs and pion's; nil discards them.
	Log *slog.Logger
	// Now is the clock credentials are checked against; time.Now if nil.
	Now func() time.Time
}

func (c *Config) check() error {
	switch {
	case c.Secret == "":
		return fmt.Errorf("%w: no TURN secret", ErrInvalidConfig)
	case c.UDP == "" && c.TCP == "" && c.TLS == "":
		return fmt.Errorf("%w: no TURN listener (UDP, TCP or TLS)", ErrInvalidConfig)
	case c.TLS != "" && c.TLSConfig == nil:
		return fmt.Errorf("%w: TURN over TLS without a certificate", ErrInvalidConfig)
	case c.RelayIP == nil || c.RelayIP.IsUnspecified():
		return fmt.Errorf("%w: no relay IP to advertise", ErrInvalidConfig)
	case (c.MinPort == 0) != (c.MaxPort == 0) || c.MinPort > c.MaxPort:
		return fmt.Errorf("%w: relay port range %d-%d", ErrInvalidConfig, c.MinPort, c.MaxPort)
	}
	return nil
}

// DefaultAllowPeer lets allocations relay to any unicast address except loopback, link-local
// (which holds cloud metadata services) and unspecified ones: a TURN server must not become a way
// into the host it runs on. Private ranges stay allowed for on-premises deployments.
func DefaultAllowPeer(peer net.IP) bool {
	return !peer.IsLoopback() && !peer.IsLinkLocalUnicast() && !peer.IsLinkLocalMulticast() &&
		!peer.IsMulticast() && !peer.IsUnspecified()
}

// Stats are the server's counters, for metrics.
type Stats struct {
	// Allocations is the number of allocations open now.
	Allocations int
	// AllocationsTotal counts allocations created since Start.
	AllocationsTotal uint64
	// AuthRefused counts requests refused for expired, malformed or forged credentials.
	AuthRefused uint64
	// PeersRefused counts permissions refused because AllowPeer denied the peer address.
	PeersRefused uint64
	// BytesFromPeers and BytesToPeers count UDP payload relayed since Start.
	BytesFromPeers, BytesToPeers uint64
}

// Allocation describes one open TURN allocation.
type Allocation struct {
	// ID is the id part of the credential's username, e.g. "<call>/<participant>".
	ID string
	// Transport is how the client reaches the server: "udp", "tcp" or "tls".
	Transport string
	// Client is the client's address as the server sees it.
	Client net.Addr
	// Relayed is the relayed transport address peers send to.
	Relayed net.Addr
}

// Server is the embedded TURN server. Build it with NewServer, then Start and Close it.
type Server struct {
	cfg Config
	log *slog.Logger

	mu           sync.Mutex
	turn         *turn.Server          // running server; nil before Start and after Close
	closed       bool                  // Close was called
	udp          net.PacketConn        // TURN-over-UDP socket, if any
	tcp, tls     net.Listener          // TURN-over-TCP/TLS listeners, if any
	conns        *connSet              // accepted TCP/TLS connections, closed by Close
	allocs       map[string]Allocation // open allocations by five-tuple key
	allocated    atomic.Uint64         // allocations created
	refused      atomic.Uint64         // credentials refused
	fromPeers    atomic.Uint64         // bytes received on relay sockets
	toPeers      atomic.Uint64         // bytes sent from relay sockets
	refusedPeers atomic.Uint64         // permissions refused by AllowPeer
}

// NewServer checks cfg and returns a server that is not listening yet.
func NewServer(cfg Config) (*Server, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	if cfg.Realm == "" {
		cfg.Realm = DefaultRealm
	}
	if cfg.RelayBind == "" {
		cfg.RelayBind = "0.0.0.0"
		if cfg.RelayIP.To4() == nil {
			cfg.RelayBind = "::"
		}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.AllowPeer == nil {
		cfg.AllowPeer = DefaultAllowPeer
	}
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Server{
		cfg:    cfg,
		log:    log.With("component", "turn"),
		conns:  &connSet{conns: map[*trackedConn]struct{}{}},
		allocs: map[string]Allocation{},
	}, nil
}

// Start opens the listeners and serves TURN until Close.
func (s *Server) Start() (err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.closed:
		return ErrClosed
	case s.turn != nil:
		return ErrStarted
	}
	defer func() {
		if err != nil {
			s.closeListeners()
		}
	}()

	var sc turn.ServerConfig
	if s.cfg.UDP != "" {
		if s.udp, err = net.ListenPacket("udp", s.cfg.UDP); err != nil { //nolint:noctx
			return fmt.Errorf("relay: TURN UDP: %w", err)
		}
		sc.PacketConnConfigs = append(sc.PacketConnConfigs, turn.PacketConnConfig{
			PacketConn:            s.udp,
			RelayAddressGenerator: s.generator(),
			PermissionHandler:     s.permit,
		})
	}
	if s.cfg.TCP != "" {
		ln, err := net.Listen("tcp", s.cfg.TCP) //nolint:noctx
		if err != nil {
			return fmt.Errorf("relay: TURN TCP: %w", err)
		}
		s.tcp = &trackingListener{Listener: ln, set: s.conns, transport: "tcp"}
		sc.ListenerConfigs = append(sc.ListenerConfigs, turn.ListenerConfig{
			Listener:              s.tcp,
			RelayAddressGenerator: s.generator(),
			PermissionHandler:     s.permit,
		})
	}
	if s.cfg.TLS != "" {
		ln, err := net.Listen("tcp", s.cfg.TLS) //nolint:noctx
		if err != nil {
			return fmt.Errorf("relay: TURN TLS: %w", err)
		}
		// TLS wraps the tracking listener: pion needs *tls.Conn to see the handshake, Close needs the
		// raw connections.
		s.tls = tls.NewListener(&trackingListener{Listener: ln, set: s.conns, transport: "tls"}, s.cfg.TLSConfig)
		sc.ListenerConfigs = append(sc.ListenerConfigs, turn.ListenerConfig{
			Listener:              s.tls,
			RelayAddressGenerator: s.generator(),
			PermissionHandler:     s.permit,
		})
	}
	sc.Realm = s.cfg.Realm
	sc.LoggerFactory = LoggerFactory{Log: s.log}
	sc.AuthHandler = s.authenticate
	sc.EventHandler = turn.EventHandler{
		OnAuth: func(src, _ net.Addr, _, username, _, method string, ok bool) {
			if !ok {
				// The username was valid but the password was not: someone guessing or a wrong secret.
				s.refused.Add(1)
				s.log.Info("TURN credential refused", "reason", "bad password", "username", username, "client", src, "method", method)
			}
		},
		OnAllocationCreated: func(src, dst net.Addr, proto, id, _ string, relayed net.Addr, _ int) {
			s.allocated.Add(1)
			a := Allocation{ID: id, Transport: s.conns.transport(src), Client: src, Relayed: relayed}
			s.mu.Lock()
			s.allocs[tupleKey(src, dst, proto)] = a
			s.mu.Unlock()
			s.log.Debug("TURN allocation", "id", id, "client", src, "transport", a.Transport, "relayed", relayed)
		},
		OnAllocationDeleted: func(src, dst net.Addr, proto, id, _ string) {
			s.mu.Lock()
			delete(s.allocs, tupleKey(src, dst, proto))
			s.mu.Unlock()
			s.log.Debug("TURN allocation closed", "id", id, "client", src)
		},
	}
	ts, err := turn.NewServer(sc)
	if err != nil {
		return fmt.Errorf("relay: %w", err)
	}
	s.turn = ts
	s.log.Info("TURN server listening", "udp", addrOf(s.udp), "tcp", listenerAddr(s.tcp), "tls", listenerAddr(s.tls),
		"relay_ip", s.cfg.RelayIP, "ports", fmt.Sprintf("%d-%d", s.cfg.MinPort, s.cfg.MaxPort), "realm", s.cfg.Realm)
	return nil
}

// Close stops the server: listeners, client connections and allocations.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	ts := s.turn
	s.turn = nil
	s.mu.Unlock() // pion's callbacks take s.mu while it shuts down

	var err error
	if ts != nil {
		// Closes the UDP socket and the listeners; each allocation manager then closes its relays.
		err = ts.Close()
	}
	// pion does not close accepted TCP connections: their read loops would outlive the server.
	s.conns.closeAll()
	return err
}

// closeListeners undoes a Start that failed half-way.
func (s *Server) closeListeners() {
	for _, c := range []interface{ Close() error }{s.udp, s.tcp, s.tls} {
		if c != nil {
			_ = c.Close()
		}
	}
	s.udp, s.tcp, s.tls = nil, nil, nil
}

// authenticate is pion's AuthHandler: it accepts TURN REST usernames that have not expired and
// returns the key their password derives, so pion can check the message integrity.
func (s *Server) authenticate(ra *turn.RequestAttributes) (string, []byte, bool) {
	id, err := CheckUsername(ra.Username, s.cfg.Now())
	if err != nil {
		s.refused.Add(1)
		s.log.Info("TURN credential refused", "reason", err, "client", ra.SrcAddr, "method", ra.Method.String())
		return "", nil, false
	}
	return id, turn.GenerateAuthKey(ra.Username, ra.Realm, Password(s.cfg.Secret, ra.Username)), true
}

// permit is pion's PermissionHandler: may this client's allocation talk to peer?
func (s *Server) permit(client net.Addr, peer net.IP) bool {
	if s.cfg.AllowPeer(peer) {
		return true
	}
	s.refusedPeers.Add(1)
	s.log.Info("TURN peer refused", "client", client, "peer", peer)
	return false
}

// generator returns a relay address generator for one listener: each allocation gets a socket in
// the port range (or any port), advertised at RelayIP, with its bytes counted.
func (s *Server) generator() turn.RelayAddressGenerator {
	var g turn.RelayAddressGenerator
	if s.cfg.MinPort != 0 {
		g = &turn.RelayAddressGeneratorPortRange{
			RelayAddress: s.cfg.RelayIP, Address: s.cfg.RelayBind,
			MinPort: s.cfg.MinPort, MaxPort: s.cfg.MaxPort, MaxRetries: 50,
		}
	} else {
		g = &turn.RelayAddressGeneratorStatic{RelayAddress: s.cfg.RelayIP, Address: s.cfg.RelayBind}
	}
	return &countingGenerator{RelayAddressGenerator: g, from: &s.fromPeers, to: &s.toPeers}
}

// Stats returns the server's counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	n := len(s.allocs)
	s.mu.Unlock()
	return Stats{
		Allocations:      n,
		AllocationsTotal: s.allocated.Load(),
		AuthRefused:      s.refused.Load(),
		PeersRefused:     s.refusedPeers.Load(),
		BytesFromPeers:   s.fromPeers.Load(),
		BytesToPeers:     s.toPeers.Load(),
	}
}

// Allocations lists the open allocations.
func (s *Server) Allocations() []Allocation {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Allocation, 0, len(s.allocs))
	for _, a := range s.allocs {
		out = append(out, a)
	}
	return out
}

// UDPAddr returns the TURN-over-UDP address once started, or nil.
func (s *Server) UDPAddr() *net.UDPAddr {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.udp == nil {
		return nil
	}
	a, _ := s.udp.LocalAddr().(*net.UDPAddr)
	return a
}

// TCPAddr returns the TURN-over-TCP address once started, or nil.
func (s *Server) TCPAddr() *net.TCPAddr {
	s.mu.Lock()
	defer s.mu.Unlock()
	return tcpAddr(s.tcp)
}

// TLSAddr returns the TURN-over-TLS address once started, or nil.
func (s *Server) TLSAddr() *net.TCPAddr {
	s.mu.Lock()
	defer s.mu.Unlock()
	return tcpAddr(s.tls)
}

// URLs returns the started server's TURN URLs with host as the name clients reach it by (a DNS
// name or the public IP), e.g. "turn:host:3478?transport=udp".
func (s *Server) URLs(host string) []string {
	var urls []string
	if a := s.UDPAddr(); a != nil {
		urls = append(urls, "turn:"+net.JoinHostPort(host, strconv.Itoa(a.Port))+"?transport=udp")
	}
	if a := s.TCPAddr(); a != nil {
		urls = append(urls, "turn:"+net.JoinHostPort(host, strconv.Itoa(a.Port))+"?transport=tcp")
	}
	if a := s.TLSAddr(); a != nil {
		urls = append(urls, "turns:"+net.JoinHostPort(host, strconv.Itoa(a.Port))+"?transport=tcp")
	}
	return urls
}

// Relay describes the started server as a relay in region, reached at host, for a Directory.
func (s *Server) Relay(id string, region Region, host string) Relay {
	return Relay{ID: id, Region: region, URLs: s.URLs(host), Secret: s.cfg.Secret}
}

func tupleKey(src, dst net.Addr, proto string) string {
	return proto + " " + src.String() + " " + dst.String()
}

func tcpAddr(ln net.Listener) *net.TCPAddr {
	if ln == nil {
		return nil
	}
	a, _ := ln.Addr().(*net.TCPAddr)
	return a
}

func addrOf(c net.PacketConn) any {
	if c == nil {
		return nil
	}
	return c.LocalAddr().String()
}

func listenerAddr(ln net.Listener) any {
	if ln == nil {
		return nil
	}
	return ln.Addr().String()
}

// connSet remembers the accepted TCP and TLS connections, so Close can end them and allocations
// can say which transport their client used.
type connSet struct {
	mu     sync.Mutex
	conns  map[*trackedConn]struct{}
	closed bool
}

func (cs *connSet) add(c *trackedConn) bool {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if cs.closed {
		return false
	}
	cs.conns[c] = struct{}{}
	return true
}

func (cs *connSet) remove(c *trackedConn) {
	cs.mu.Lock()
	delete(cs.conns, c)
	cs.mu.Unlock()
}

// transport returns "tcp" or "tls" for a connected client's address, "udp" for any other.
func (cs *connSet) transport(client net.Addr) string {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	for c := range cs.conns {
		if c.RemoteAddr().String() == client.String() {
			return c.transport
		}
	}
	return "udp"
}

func (cs *connSet) closeAll() {
	cs.mu.Lock()
	cs.closed = true
	conns := cs.conns
	cs.conns = map[*trackedConn]struct{}{}
	cs.mu.Unlock()
	for c := range conns {
		_ = c.Close()
	}
}

// trackingListener adds each accepted connection to a connSet.
type trackingListener struct {
	net.Listener
	set       *connSet
	transport string // "tcp" or "tls"
}

func (l *trackingListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		tc := &trackedConn{Conn: c, set: l.set, transport: l.transport}
		if l.set.add(tc) {
			return tc, nil
		}
		_ = c.Close() // accepted while closing
	}
}

// trackedConn leaves its connSet when closed.
type trackedConn struct {
	net.Conn
	set       *connSet
	transport string
	once      sync.Once
}

func (c *trackedConn) Close() error {
	c.once.Do(func() { c.set.remove(c) })
	return c.Conn.Close()
}

// countingGenerator counts the bytes that pass through UDP relay sockets.
type countingGenerator struct {
	turn.RelayAddressGenerator
	from, to *atomic.Uint64
}

func (g *countingGenerator) AllocatePacketConn(c turn.AllocateListenerConfig) (net.PacketConn, net.Addr, error) {
	conn, addr, err := g.RelayAddressGenerator.AllocatePacketConn(c)
	if err != nil {
		return nil, nil, err
	}
	return &countingConn{PacketConn: conn, from: g.from, to: g.to}, addr, nil
}

// countingConn is a relay socket that counts its traffic.
type countingConn struct {
	net.PacketConn
	from, to *atomic.Uint64
}

func (c *countingConn) ReadFrom(p []byte) (int, net.Addr, error) {
	n, addr, err := c.PacketConn.ReadFrom(p)
	c.from.Add(uint64(n)) //nolint:gosec // n >= 0
	return n, addr, err
}

func (c *countingConn) WriteTo(p []byte, addr net.Addr) (int, error) {
	n, err := c.PacketConn.WriteTo(p, addr)
	c.to.Add(uint64(n)) //nolint:gosec // n >= 0
	return n, err
}

// ParsePortRange parses a relay port range flag such as "49152-65535"; "" means any port (0, 0).
func ParsePortRange(s string) (minPort, maxPort uint16, err error) {
	if s == "" {
		return 0, 0, nil
	}
	lo, hi, ok := strings.Cut(s, "-")
	a, errA := strconv.ParseUint(lo, 10, 16)
	b, errB := strconv.ParseUint(hi, 10, 16)
	if !ok || errA != nil || errB != nil || a == 0 || a > b {
		return 0, 0, fmt.Errorf("%w: port range %q is not MIN-MAX", ErrInvalidConfig, s)
	}
	return uint16(a), uint16(b), nil
}
