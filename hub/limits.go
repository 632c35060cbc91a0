package hub

import (
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
