package hub

import (
	"net/http"
	"net/netip"
	"strings"
	"time"

	"golang.org/x/time/rate"

	"github.com/parleyhq/parley/wire"
)

// Limits say how much one customer, one account and one address may do. A customer is anonymous:
// one person must not be able to fill the database, flood their agent or hold the hub's sockets,
// however many tabs or connections they open, so every limit is charged to the customer's
// conversation (all its connections together) or to their address, never to one connection.
// Members are authenticated; their bounds only stop a runaway client. A frame over its limit is
// refused with ERATELIMITED and nothing of it is stored or relayed; the connection stays. A
// connection over a cap is refused at its Hello with ETOOMANY. Rates are per second with a burst
// (token buckets).
type Limits struct {
	// Per customer conversation.
	CustomerFrames, CustomerFrameBurst             float64 // any frame but co-browse events
	CustomerSends, CustomerSendBurst               float64 // chat messages
	CustomerVisual, CustomerVisualBurst            float64 // co-browse event bytes
	CustomerVisualFrames, CustomerVisualFrameBurst float64 // co-browse event frames (a snapshot is hundreds)
	CustomerProbes, CustomerProbeBurst             float64 // network probes while a call rings (call.probe)
	// Per customer address: network probes of all its customers together.
	AddressProbes, AddressProbeBurst float64
	// Per member account.
	MemberFrames, MemberFrameBurst float64
	// CustomerConns is how many connections one conversation's customer may hold (tabs).
	CustomerConns int
	// MemberConns is how many connections one account may hold (the app, a second window, the
	// headless agent).
	MemberConns int
	// AddressConns is how many customer connections one client address may hold (members count
	// per account: an office's agents share one address).
	AddressConns int
	// PendingConns is how many connections one address may hold that have not said Hello yet
	// (they have HelloTimeout to do it).
	PendingConns int
	// HelloTimeout is how long a new connection has to send its request's headers, and a
	// WebSocket as long again to say Hello; past it the connection is closed (a slow-loris
	// stranger holds nothing for long).
	HelloTimeout time.Duration
	// IdleTimeout: a WebSocket that has sent nothing for this long is pinged, and closed if it
	// does not answer within as long again (a vanished client, a half-open socket); a keep-alive
	// HTTP connection that sends no request for twice as long is closed.
	IdleTimeout time.Duration
	// Off turns the customer, member and address limits off: for load tests that run thousands
	// of customers from one machine, never for a public hub. Sign-ins stay limited, and slow
	// and idle connections are still closed.
	Off bool
}

// DefaultLimits are the limits of a Config that sets none.
var DefaultLimits = Limits{
	CustomerFrames: 30, CustomerFrameBurst: 120,
	CustomerSends: 2, CustomerSendBurst: 12,
	CustomerVisual: 2 << 20, CustomerVisualBurst: 10 << 20,
	CustomerVisualFrames: 600, CustomerVisualFrameBurst: 1200,
	CustomerProbes: 1.0 / 10, CustomerProbeBurst: 3,
	AddressProbes: 1, AddressProbeBurst: 30,
	MemberFrames: 200, MemberFrameBurst: 600,
	CustomerConns: 5, MemberConns: 10, AddressConns: 100, PendingConns: 50,
	HelloTimeout: 10 * time.Second, IdleTimeout: 60 * time.Second,
}

// withDefaults fills the zero fields from DefaultLimits.
func (l Limits) withDefaults() Limits {
	d := DefaultLimits
	set := func(v *float64, def float64) {
		if *v == 0 {
			*v = def
		}
	}
	set(&l.CustomerFrames, d.CustomerFrames)
	set(&l.CustomerFrameBurst, d.CustomerFrameBurst)
	set(&l.CustomerSends, d.CustomerSends)
	set(&l.CustomerSendBurst, d.CustomerSendBurst)
	set(&l.CustomerVisual, d.CustomerVisual)
	set(&l.CustomerVisualBurst, d.CustomerVisualBurst)
	set(&l.CustomerVisualFrames, d.CustomerVisualFrames)
	set(&l.CustomerVisualFrameBurst, d.CustomerVisualFrameBurst)
	set(&l.CustomerProbes, d.CustomerProbes)
	set(&l.CustomerProbeBurst, d.CustomerProbeBurst)
	set(&l.AddressProbes, d.AddressProbes)
	set(&l.AddressProbeBurst, d.AddressProbeBurst)
	set(&l.MemberFrames, d.MemberFrames)
	set(&l.MemberFrameBurst, d.MemberFrameBurst)
	if l.CustomerConns == 0 {
		l.CustomerConns = d.CustomerConns
	}
	if l.MemberConns == 0 {
		l.MemberConns = d.MemberConns
	}
	if l.AddressConns == 0 {
		l.AddressConns = d.AddressConns
	}
	if l.PendingConns == 0 {
		l.PendingConns = d.PendingConns
	}
	if l.HelloTimeout == 0 {
		l.HelloTimeout = d.HelloTimeout
	}
	if l.IdleTimeout == 0 {
		l.IdleTimeout = d.IdleTimeout
	}
	return l
}

// ErrRateLimited refuses a frame sent faster than its customer's or account's limit.
var ErrRateLimited = wire.Errorf(wire.ERATELIMITED, "sending too fast; slow down")

// ErrTooManyConns refuses a connection over a cap (per conversation, account or address).
var ErrTooManyConns = wire.Errorf(wire.ETOOMANY, "too many connections at once; close one")

// limiter charges one connection's frames to the buckets of who is behind it: its customer's
// conversation or its member's account, in the hub's LimitState.
type limiter struct {
	state LimitState
	l     Limits
	// key names the customer's conversation or the member's account; "" when limits are off.
	key      string
	customer bool
	now      func() time.Time
}

func (s *Server) limiterFor(role wire.Role, conv wire.ConversationID, user wire.UserID) limiter {
	if s.cfg.Limits.Off {
		return limiter{}
	}
	if role == wire.RoleCustomer {
		return limiter{state: s.limitState, l: s.cfg.Limits, key: "conv:" + string(conv), customer: true, now: s.now}
	}
	return limiter{state: s.limitState, l: s.cfg.Limits, key: "user:" + string(user), now: s.now}
}

// allow charges one frame of size bytes and says which limit refused it ("" when none did).
func (l limiter) allow(t wire.Type, size int) (string, error) {
	if l.key == "" {
		return "", nil
	}
	now := l.now()
	if !l.customer {
		if !l.state.Take(l.key+"/frames", rate.Limit(l.l.MemberFrames), int(l.l.MemberFrameBurst), 1, now) {
			return "frames", ErrRateLimited
		}
		return "", nil
	}
	if t == wire.TypeVisualEvent {
		// A page's snapshot comes as hundreds of parts at once: co-browse events have their own
		// frame limit, so a snapshot neither waits for nor starves the chat, and a byte budget.
		if !l.state.Take(l.key+"/visual-frames", rate.Limit(l.l.CustomerVisualFrames), int(l.l.CustomerVisualFrameBurst), 1, now) {
			return "frames", ErrRateLimited
		}
		if !l.state.Take(l.key+"/visual", rate.Limit(l.l.CustomerVisual), int(l.l.CustomerVisualBurst), size, now) {
			return "visual", ErrRateLimited
		}
		return "", nil
	}
	if !l.state.Take(l.key+"/frames", rate.Limit(l.l.CustomerFrames), int(l.l.CustomerFrameBurst), 1, now) {
		return "frames", ErrRateLimited
	}
	if t == wire.TypeChatSend && !l.state.Take(l.key+"/sends", rate.Limit(l.l.CustomerSends), int(l.l.CustomerSendBurst), 1, now) {
		return "sends", ErrRateLimited
	}
	return "", nil
}

// allowProbe charges a network probe (call.probe) to the customer's conversation and to their
// address, and says which limit refused it ("" when none did).
func (l limiter) allowProbe(addr string) (string, error) {
	if l.key == "" {
		return "", nil
	}
	now := l.now()
	if !l.state.Take(l.key+"/probes", rate.Limit(l.l.CustomerProbes), int(l.l.CustomerProbeBurst), 1, now) {
		return "probes", ErrRateLimited
	}
	if !l.state.Take("probes-address:"+addr, rate.Limit(l.l.AddressProbes), int(l.l.AddressProbeBurst), 1, now) {
		return "address_probes", ErrRateLimited
	}
	return "", nil
}

// New conversations per customer address: an anonymous script must not fill an organisation's
// queue and database. Generous, since an office's customers may share one address.
const (
	startBurst  = 30
	startRefill = 2 * time.Second
)

// clientAddress is who sent r, as limits count it: clientIP, with IPv6 addresses by /64 (one
// customer's network) and IPv4 by address.
func clientAddress(r *http.Request, trusted []netip.Prefix) string {
	addr, ok := clientIP(r, trusted)
	if !ok {
		return r.RemoteAddr
	}
	if addr.Is6() {
		p, _ := addr.Prefix(64)
		return p.String()
	}
	return addr.String()
}

// clientIP is who sent r: the connection's address, or, when that is a trusted reverse proxy,
// the nearest address in X-Forwarded-For that is not one. ok is false when r.RemoteAddr is not an
// address and port.
func clientIP(r *http.Request, trusted []netip.Prefix) (addr netip.Addr, ok bool) {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}, false
	}
	addr = ap.Addr().Unmap()
	isTrusted := func(a netip.Addr) bool {
		for _, p := range trusted {
			if p.Contains(a) {
				return true
			}
		}
		return false
	}
	if isTrusted(addr) {
		hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
		for i := len(hops) - 1; i >= 0; i-- {
			a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
			if err != nil {
				break
			}
			addr = a.Unmap()
			if !isTrusted(addr) {
				break
			}
		}
	}
	return addr, true
}
