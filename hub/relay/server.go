// Package relay carries call media through TURN: an embedded TURN server, short-lived TURN REST
// credentials (coturn's use-auth-secret scheme) and the region policy that picks which relays an
// organisation's calls may use.
package relay

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/turn/v5"
)

// DefaultRealm is the TURN realm when Config.Realm is empty.
const DefaultRealm = "parley"

// Server defaults.
const (
	// DefaultUserQuota is how many allocations one credential id may hold at once: a browser
	// allocates one per TURN URL and network interface, and an ICE restart briefly doubles that.
	DefaultUserQuota = 12
	// DefaultMaxConns bounds the TURN-over-TCP/TLS connections open at once.
	DefaultMaxConns = 4096
	// DefaultMaxConnsPerIP bounds them per client address (an office shares one).
	DefaultMaxConnsPerIP = 64
	// DefaultHandshakeTimeout is how long a TCP/TLS client may stay connected without an
	// allocation: a stranger who connects and says nothing is gone after it.
	DefaultHandshakeTimeout = 30 * time.Second
	// permissionLifetime is RFC 8656's permission lifetime: a peer permission that is not
	// refreshed (the refresh needs a valid credential) stops relaying after it.
	permissionLifetime = 5 * time.Minute
	// allocationIdle is how long an allocated TCP/TLS connection may carry nothing: longer than
	// the allocation lifetime, so only a dead connection meets it.
	allocationIdle = 11 * time.Minute
	// revokedMemory is how long a revoked credential id is remembered; credentials the hub
	// issues last minutes.
	revokedMemory = 24 * time.Hour
)

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
	// AllowPeers are ranges allocations may relay to although the default refuses them (see
	// [Blocked]): an on-premises network whose agents have private addresses. The host's own
	// addresses stay refused except on relay ports. Loopback peers are allowed without it when
	// every listener is on loopback (the relay then serves this machine only).
	AllowPeers []netip.Prefix
	// UserQuota bounds the allocations one credential id holds at once (DefaultUserQuota if 0).
	UserQuota int
	// MaxConns and MaxConnsPerIP bound TCP/TLS client connections, in all and per client address
	// (DefaultMaxConns and DefaultMaxConnsPerIP if 0).
	MaxConns, MaxConnsPerIP int
	// HandshakeTimeout is how long a TCP/TLS client may stay without an allocation
	// (DefaultHandshakeTimeout if 0).
	HandshakeTimeout time.Duration
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

// Stats are the server's counters, for metrics.
type Stats struct {
	// Allocations is the number of allocations open now.
	Allocations int
	// AllocationsTotal counts allocations created since Start.
	AllocationsTotal uint64
	// AuthRefused counts requests refused for expired, malformed or forged credentials.
	AuthRefused uint64
	// PeersRefused counts permissions refused for a peer address the policy forbids, and
	// datagrams dropped on their way to the host's own services.
	PeersRefused uint64
	// QuotaRefused counts allocations refused because their credential id held UserQuota.
	QuotaRefused uint64
	// Revoked counts allocations closed because their call ended (Revoke).
	Revoked uint64
	// Conns is the number of TCP/TLS client connections open now.
	Conns int
	// ConnsRefused counts TCP/TLS connections closed at once for MaxConns or MaxConnsPerIP.
	ConnsRefused uint64
	// ConnsIdle counts TCP/TLS connections closed for saying nothing within their deadline.
	ConnsIdle uint64
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

	mu       sync.Mutex
	turn     *turn.Server          // running server; nil before Start and after Close
	closed   bool                  // Close was called
	udp      net.PacketConn        // TURN-over-UDP socket, if any
	tcp, tls net.Listener          // TURN-over-TCP/TLS listeners, if any
	conns    *connSet              // accepted TCP/TLS connections, closed by Close
	allocs   map[string]Allocation // open allocations by five-tuple key
	policy   *peerPolicy           // which peers may be relayed to; set by Start
	// sockets are the open relay sockets by credential id, so Revoke can close them.
	sockets map[string]map[*countingConn]struct{}
	// ports are the open relay sockets' ports: the only ports of the host's own addresses a
	// datagram may go to.
	ports map[uint16]int
	// pending are allocations the quota admitted and the generator has not made yet, by id,
	// with when they were admitted (an allocation that fails after the quota leaves its entry,
	// which lapses after a few seconds).
	pending map[string][]time.Time
	// revoked are credential ids whose call ended, with when.
	revoked map[string]time.Time

	allocated    atomic.Uint64 // allocations created
	refused      atomic.Uint64 // credentials refused
	fromPeers    atomic.Uint64 // bytes received on relay sockets
	toPeers      atomic.Uint64 // bytes sent from relay sockets
	refusedPeers atomic.Uint64 // permissions and datagrams refused by the peer policy
	quotaRefused atomic.Uint64 // allocations refused by the quota
	revokedAlloc atomic.Uint64 // allocations closed by Revoke
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
	if cfg.UserQuota == 0 {
		cfg.UserQuota = DefaultUserQuota
	}
	if cfg.MaxConns == 0 {
		cfg.MaxConns = DefaultMaxConns
	}
	if cfg.MaxConnsPerIP == 0 {
		cfg.MaxConnsPerIP = DefaultMaxConnsPerIP
	}
	if cfg.HandshakeTimeout <= 0 {
		cfg.HandshakeTimeout = DefaultHandshakeTimeout
	}
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Server{
		cfg:     cfg,
		log:     log.With("component", "turn"),
		allocs:  map[string]Allocation{},
		sockets: map[string]map[*countingConn]struct{}{},
		ports:   map[uint16]int{},
		pending: map[string][]time.Time{},
		revoked: map[string]time.Time{},
	}
	s.conns = &connSet{conns: map[*trackedConn]struct{}{}, perIP: map[netip.Addr]int{},
		max: cfg.MaxConns, maxPerIP: cfg.MaxConnsPerIP, handshake: cfg.HandshakeTimeout, log: s.log}
	return s, nil
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
	var listening []net.Addr
	if s.udp != nil {
		listening = append(listening, s.udp.LocalAddr())
	}
	for _, ln := range []net.Listener{s.tcp, s.tls} {
		if ln != nil {
			listening = append(listening, ln.Addr())
		}
	}
	s.policy = newPeerPolicy(&s.cfg, listening)
	sc.Realm = s.cfg.Realm
	sc.LoggerFactory = LoggerFactory{Log: s.log}
	sc.AuthHandler = s.authenticate
	sc.QuotaHandler = s.quota
	sc.PermissionTimeout = permissionLifetime
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
			a := Allocation{ID: id, Transport: s.conns.allocated(src), Client: src, Relayed: relayed}
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
		"relay_ip", s.cfg.RelayIP, "ports", fmt.Sprintf("%d-%d", s.cfg.MinPort, s.cfg.MaxPort), "realm", s.cfg.Realm,
		"user_quota", s.cfg.UserQuota, "loopback_peers", s.policy.loopbackOnly, "allow_peers", s.cfg.AllowPeers)
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
// whose call has not ended, and returns the key their password derives, so pion can check the
// message integrity.
func (s *Server) authenticate(ra *turn.RequestAttributes) (string, []byte, bool) {
	id, err := CheckUsername(ra.Username, s.cfg.Now())
	if err == nil && s.isRevoked(id) {
		err = fmt.Errorf("%w: %q", ErrRevoked, id)
	}
	if err != nil {
		s.refused.Add(1)
		s.log.Info("TURN credential refused", "reason", err, "client", ra.SrcAddr, "method", ra.Method.String())
		return "", nil, false
	}
	return id, turn.GenerateAuthKey(ra.Username, ra.Realm, Password(s.cfg.Secret, ra.Username)), true
}

// permit is pion's PermissionHandler: may this client's allocation talk to peer?
func (s *Server) permit(client net.Addr, peer net.IP) bool {
	ip, ok := netip.AddrFromSlice(peer)
	if ok && IsTestID(s.allocationID(client)) {
		// A network test's allocation talks to itself (or the test's other allocation) only.
		ok = ip.Unmap() == s.policy.relayIP
	} else if ok {
		ok = s.policy.permit(ip)
	}
	if ok {
		return true
	}
	s.refusedPeers.Add(1)
	s.log.Info("TURN peer refused", "client", client, "peer", peer)
	return false
}

// allocationID returns the credential id of the allocation a client holds ("" for none).
func (s *Server) allocationID(client net.Addr) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, a := range s.allocs {
		if a.Client.String() == client.String() {
			return a.ID
		}
	}
	return ""
}

// testPeer reports whether a network test's allocation (credential id) may send to: only to
// the relayed address of an allocation of the same test.
func (s *Server) testPeer(id string, to net.Addr) bool {
	ap := addrPort(to)
	if ap.Addr().Unmap() != s.policy.relayIP {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.sockets[id] {
		if c.port == ap.Port() {
			return true
		}
	}
	return false
}

// sendAllowed is the check on each datagram an allocation sends: to the host's own addresses
// only on relay ports (another party relayed through this server), never to a TURN listener.
func (s *Server) sendAllowed(to net.Addr) bool {
	ap := addrPort(to)
	if !s.policy.isOwn(ap.Addr()) {
		return true
	}
	if s.policy.listenPorts[ap.Port()] {
		return false
	}
	if s.policy.loopbackOnly && ap.Addr().Unmap().IsLoopback() {
		return true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ports[ap.Port()] > 0
}

// quota is pion's QuotaHandler: an id (one party of one call) may hold UserQuota allocations.
// pion answers a refusal with 486 Allocation Quota Reached.
func (s *Server) quota(id, _ string, client net.Addr) bool {
	s.mu.Lock()
	now := s.cfg.Now()
	p := s.pending[id]
	for len(p) > 0 && now.Sub(p[0]) > 5*time.Second {
		p = p[1:]
	}
	ok := s.cfg.UserQuota < 0 || len(s.sockets[id])+len(p) < s.cfg.UserQuota
	if ok {
		p = append(p, now)
	}
	if len(p) == 0 {
		delete(s.pending, id)
	} else {
		s.pending[id] = p
	}
	s.mu.Unlock()
	if !ok {
		s.quotaRefused.Add(1)
		s.log.Info("TURN allocation refused", "reason", "quota", "id", id, "client", client, "quota", s.cfg.UserQuota)
	}
	return ok
}

// Revoke ends what credentials naming id may do: new requests with them are refused, and the
// allocations made with them close at once (their relay sockets, so nothing more is relayed).
// The hub calls it when a call ends. It returns how many allocations it closed.
func (s *Server) Revoke(id string) int {
	s.mu.Lock()
	now := s.cfg.Now()
	for old, at := range s.revoked {
		if now.Sub(at) > revokedMemory {
			delete(s.revoked, old)
		}
	}
	s.revoked[id] = now
	socks := s.sockets[id]
	delete(s.sockets, id)
	delete(s.pending, id)
	s.mu.Unlock()
	for c := range socks {
		// pion's read loop on the socket ends and deletes the allocation.
		_ = c.Close()
	}
	if n := len(socks); n > 0 {
		s.revokedAlloc.Add(uint64(n))
		s.log.Info("TURN allocations revoked", "id", id, "allocations", n)
	}
	return len(socks)
}

func (s *Server) isRevoked(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.revoked[id]
	return ok
}

// track registers a new relay socket under its credential id.
func (s *Server) track(c *countingConn) {
	port := addrPort(c.LocalAddr()).Port()
	s.mu.Lock()
	defer s.mu.Unlock()
	if p := s.pending[c.id]; len(p) > 0 {
		s.pending[c.id] = p[1:]
	}
	if s.sockets[c.id] == nil {
		s.sockets[c.id] = map[*countingConn]struct{}{}
	}
	s.sockets[c.id][c] = struct{}{}
	s.ports[port]++
	c.port = port
}

// untrack forgets a closed relay socket.
func (s *Server) untrack(c *countingConn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if set := s.sockets[c.id]; set != nil {
		delete(set, c)
		if len(set) == 0 {
			delete(s.sockets, c.id)
		}
	}
	if s.ports[c.port]--; s.ports[c.port] <= 0 {
		delete(s.ports, c.port)
	}
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
	return &countingGenerator{RelayAddressGenerator: g, s: s}
}

// Stats returns the server's counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	n := len(s.allocs)
	s.mu.Unlock()
	conns, connsRefused, connsIdle := s.conns.stats()
	return Stats{
		Allocations:      n,
		AllocationsTotal: s.allocated.Load(),
		AuthRefused:      s.refused.Load(),
		PeersRefused:     s.refusedPeers.Load(),
		QuotaRefused:     s.quotaRefused.Load(),
		Revoked:          s.revokedAlloc.Load(),
		Conns:            conns,
		ConnsRefused:     connsRefused,
		ConnsIdle:        connsIdle,
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

// connSet remembers the accepted TCP and TLS connections, so Close can end them, allocations
// can say which transport their client used, and strangers cannot hold sockets open: it caps
// connections in all and per client address, and closes those that stay silent.
type connSet struct {
	mu        sync.Mutex
	conns     map[*trackedConn]struct{}
	perIP     map[netip.Addr]int // open connections per client address
	closed    bool
	max       int           // connections open at once
	maxPerIP  int           // per client address
	handshake time.Duration // how long a connection may stay without an allocation
	log       *slog.Logger
	refused   uint64 // connections closed for a cap
	idle      uint64 // connections closed for silence
}

// add admits c, or refuses it for a cap (or because the server is closing).
func (cs *connSet) add(c *trackedConn) bool {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if cs.closed {
		return false
	}
	if len(cs.conns) >= cs.max || cs.perIP[c.ip] >= cs.maxPerIP {
		cs.refused++
		cs.log.Info("TURN connection refused", "client", c.RemoteAddr(), "open", len(cs.conns), "from_address", cs.perIP[c.ip])
		return false
	}
	cs.conns[c] = struct{}{}
	cs.perIP[c.ip]++
	return true
}

func (cs *connSet) remove(c *trackedConn) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if _, ok := cs.conns[c]; !ok {
		return
	}
	delete(cs.conns, c)
	if cs.perIP[c.ip]--; cs.perIP[c.ip] <= 0 {
		delete(cs.perIP, c.ip)
	}
}

// allocated marks the connection of a client that made an allocation (it may now stay quiet
// longer) and returns its transport: "tcp" or "tls", or "udp" for a client on no connection.
func (cs *connSet) allocated(client net.Addr) string {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	for c := range cs.conns {
		if c.RemoteAddr().String() == client.String() {
			c.allocated.Store(true)
			return c.transport
		}
	}
	return "udp"
}

func (cs *connSet) stats() (open int, refused, idle uint64) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	return len(cs.conns), cs.refused, cs.idle
}

func (cs *connSet) timedOut(c *trackedConn) {
	cs.mu.Lock()
	cs.idle++
	cs.mu.Unlock()
	cs.log.Info("TURN connection idle, closed", "client", c.RemoteAddr(), "allocated", c.allocated.Load())
}

func (cs *connSet) closeAll() {
	cs.mu.Lock()
	cs.closed = true
	conns := cs.conns
	cs.conns = map[*trackedConn]struct{}{}
	cs.perIP = map[netip.Addr]int{}
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
		tc := &trackedConn{Conn: c, set: l.set, transport: l.transport, ip: addrPort(c.RemoteAddr()).Addr().Unmap()}
		if l.set.add(tc) {
			return tc, nil
		}
		_ = c.Close() // over a cap, or accepted while closing
	}
}

// trackedConn leaves its connSet when closed, and ends itself when it stays silent: each read
// must come within the handshake timeout until the client allocates, then within
// allocationIdle (media and refreshes keep a live one busy).
type trackedConn struct {
	net.Conn
	set       *connSet
	transport string
	ip        netip.Addr
	allocated atomic.Bool
	once      sync.Once
}

func (c *trackedConn) Read(p []byte) (int, error) {
	idle := c.set.handshake
	if c.allocated.Load() {
		idle = allocationIdle
	}
	_ = c.Conn.SetReadDeadline(time.Now().Add(idle))
	n, err := c.Conn.Read(p)
	if ne := net.Error(nil); errors.As(err, &ne) && ne.Timeout() {
		c.set.timedOut(c)
	}
	return n, err
}

func (c *trackedConn) Close() error {
	c.once.Do(func() { c.set.remove(c) })
	return c.Conn.Close()
}

// countingGenerator makes the relay sockets: it refuses TCP relaying (RFC 6062: WebRTC never
// uses it, and it would let a client open connections to any service), registers each UDP
// socket under its credential id for the quota and Revoke, and wraps it to count its bytes and
// check each datagram's destination.
type countingGenerator struct {
	turn.RelayAddressGenerator
	s *Server
}

func (g *countingGenerator) AllocatePacketConn(c turn.AllocateListenerConfig) (net.PacketConn, net.Addr, error) {
	conn, addr, err := g.RelayAddressGenerator.AllocatePacketConn(c)
	if err != nil {
		return nil, nil, err
	}
	cc := &countingConn{PacketConn: conn, s: g.s, id: c.UserID}
	g.s.track(cc)
	return cc, addr, nil
}

func (g *countingGenerator) AllocateListener(turn.AllocateListenerConfig) (net.Listener, net.Addr, error) {
	return nil, nil, errNoTCPRelay
}

func (g *countingGenerator) AllocateConn(turn.AllocateConnConfig) (net.Conn, error) {
	return nil, errNoTCPRelay
}

// countingConn is a relay socket that counts its traffic and drops datagrams to the host's own
// services.
type countingConn struct {
	net.PacketConn
	s    *Server
	id   string // credential id of the allocation
	port uint16 // local port, set by track
	once sync.Once
}

func (c *countingConn) ReadFrom(p []byte) (int, net.Addr, error) {
	n, addr, err := c.PacketConn.ReadFrom(p)
	c.s.fromPeers.Add(uint64(n)) //nolint:gosec // n >= 0
	return n, addr, err
}

func (c *countingConn) WriteTo(p []byte, addr net.Addr) (int, error) {
	if IsTestID(c.id) && !c.s.testPeer(c.id, addr) {
		c.s.refusedPeers.Add(1)
		c.s.log.Debug("TURN datagram of a network test to another peer dropped", "id", c.id, "to", addr)
		return len(p), nil
	}
	if !c.s.sendAllowed(addr) {
		c.s.refusedPeers.Add(1)
		c.s.log.Debug("TURN datagram to an own address dropped", "id", c.id, "to", addr)
		return len(p), nil // dropped, as a firewall would: the client learns nothing
	}
	n, err := c.PacketConn.WriteTo(p, addr)
	c.s.toPeers.Add(uint64(n)) //nolint:gosec // n >= 0
	return n, err
}

func (c *countingConn) Close() error {
	c.once.Do(func() { c.s.untrack(c) })
	return c.PacketConn.Close()
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
