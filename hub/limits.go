package hub

import (
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
	if !l.frames.Allow() {
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
	// loginKeysMax bounds the accounts remembered; past it, those back at full allowance are
	// forgotten (a spray of made-up usernames cannot grow the map without end).
	loginKeysMax = 10000
)

// loginGuard counts failed sign-ins per account.
type loginGuard struct {
	mu   sync.Mutex
	fail map[string]*rate.Limiter
}

func loginKey(org wire.OrgID, username string) string {
	return string(org) + "\x00" + strings.ToLower(strings.TrimSpace(username))
}

// blocked reports whether the account has used up its failed attempts for now.
func (g *loginGuard) blocked(key string, now time.Time) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	l := g.fail[key]
	return l != nil && l.TokensAt(now) < 1
}

// failed charges one failed attempt to the account.
func (g *loginGuard) failed(key string, now time.Time) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.fail == nil {
		g.fail = map[string]*rate.Limiter{}
	}
	l := g.fail[key]
	if l == nil {
		if len(g.fail) >= loginKeysMax {
			for k, v := range g.fail {
				if v.TokensAt(now) >= loginFailBurst {
					delete(g.fail, k)
				}
			}
		}
		l = rate.NewLimiter(rate.Every(loginRefill), loginFailBurst)
		g.fail[key] = l
	}
	l.AllowN(now, 1)
}
