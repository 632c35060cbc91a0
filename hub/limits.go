package hub

import (
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/parleyhq/parley/wire"
)

// Limits say how fast one connection may send. A customer is anonymous: one browser tab must
// not be able to fill the database or flood its agent, so it gets a person's pace with room for
// bursts. Members are authenticated; their bound only stops a runaway client. A frame over its
// limit is refused with ERATELIMITED and nothing of it is stored or relayed; the connection stays.
// Each limit is a rate per second and a burst (token buckets).
type Limits struct {
	CustomerFrames, CustomerFrameBurst  float64 // any frame but co-browse events
	CustomerSends, CustomerSendBurst    float64 // chat messages
	CustomerVisual, CustomerVisualBurst float64 // co-browse event bytes
	MemberFrames, MemberFrameBurst      float64
	// Off turns the per-connection and per-address limits off: for load tests that run
	// thousands of customers from one machine, never for a public hub. Failed sign-ins stay
	// limited.
	Off bool
}

// DefaultLimits are the limits of a Config that sets none.
var DefaultLimits = Limits{
	CustomerFrames: 30, CustomerFrameBurst: 120,
	CustomerSends: 2, CustomerSendBurst: 12,
	CustomerVisual: 2 << 20, CustomerVisualBurst: 10 << 20,
	MemberFrames: 200, MemberFrameBurst: 600,
}

// limits are one connection's rate limiters; sends and visual are nil for members.
type limits struct {
	frames, sends, visual *rate.Limiter
}

func newLimits(l Limits, role wire.Role) limits {
	if l.Off {
		return limits{}
	}
	if role != wire.RoleCustomer {
		return limits{frames: rate.NewLimiter(rate.Limit(l.MemberFrames), int(l.MemberFrameBurst))}
	}
	return limits{
		frames: rate.NewLimiter(rate.Limit(l.CustomerFrames), int(l.CustomerFrameBurst)),
		sends:  rate.NewLimiter(rate.Limit(l.CustomerSends), int(l.CustomerSendBurst)),
		visual: rate.NewLimiter(rate.Limit(l.CustomerVisual), int(l.CustomerVisualBurst)),
	}
}

// ErrRateLimited refuses a frame sent faster than the connection's limit.
var ErrRateLimited = wire.Errorf(wire.ERATELIMITED, "sending too fast; slow down")

// allow charges one frame of size bytes to the connection's limits.
func (l limits) allow(t wire.Type, size int) error {
	if t == wire.TypeVisualEvent && l.visual != nil {
		// A page's snapshot comes as hundreds of parts at once: charged by bytes, not frames.
		if !l.visual.AllowN(time.Now(), size) {
			return ErrRateLimited
		}
		return nil
	}
	if l.frames != nil && !l.frames.Allow() {
		return ErrRateLimited
	}
	if t == wire.TypeChatSend && l.sends != nil && !l.sends.Allow() {
		return ErrRateLimited
	}
	return nil
}

// Failed sign-ins per account: a few at once, then one every loginRefill, so a password cannot
// be guessed by trying many; a right password is never charged. Keyed by organisation and
// username, not by address: a contact centre's agents share one.
const (
	loginFailBurst = 5
	loginRefill    = 20 * time.Second
)

// New conversations per customer address: an anonymous script must not fill an organisation's
// queue and database. Generous, since an office's customers may share one address.
const (
	startBurst  = 30
	startRefill = 2 * time.Second
)

// keysMax bounds the keys a keyedLimiter remembers; past it, those back at full allowance are
// forgotten (a spray of made-up usernames or addresses cannot grow the map without end).
const keysMax = 10000

// keyedLimiter is a token bucket per key (an account, an address).
type keyedLimiter struct {
	every time.Duration
	burst int

	mu   sync.Mutex
	keys map[string]*rate.Limiter
}

func newKeyedLimiter(every time.Duration, burst int) *keyedLimiter {
	return &keyedLimiter{every: every, burst: burst, keys: map[string]*rate.Limiter{}}
}

// blocked reports whether key has used up its allowance for now, without charging it.
func (k *keyedLimiter) blocked(key string, now time.Time) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	l := k.keys[key]
	return l != nil && l.TokensAt(now) < 1
}

// take charges key once and reports whether it had the allowance.
func (k *keyedLimiter) take(key string, now time.Time) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	l := k.keys[key]
	if l == nil {
		if len(k.keys) >= keysMax {
			for key, v := range k.keys {
				if v.TokensAt(now) >= float64(k.burst) {
					delete(k.keys, key)
				}
			}
		}
		l = rate.NewLimiter(rate.Every(k.every), k.burst)
		k.keys[key] = l
	}
	return l.AllowN(now, 1)
}

func loginKey(org wire.OrgID, username string) string {
	return string(org) + "\x00" + strings.ToLower(strings.TrimSpace(username))
}

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
