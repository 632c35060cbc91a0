package hub

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// LimitState keeps what the limits count, by key: token buckets for rates, counters of things
// held at once (connections), and failures remembered for a while (sign-ins). One hub keeps it in
// memory ([NewMemoryLimitState]); hubs that serve the same customers together would share one, so
// that a limit holds across them whichever hub a connection reaches.
type LimitState interface {
	// Take charges n tokens to key's bucket, which refills at r per second up to burst, and
	// reports whether it had them; a refused Take charges nothing.
	Take(key string, r rate.Limit, burst, n int, now time.Time) bool
	// Acquire counts one more holder of key if fewer than max hold it, and reports whether it did.
	Acquire(key string, max int) bool
	// Release gives back one Acquire of key.
	Release(key string)
	// Strike records one failure under key and returns how many key has had within forget of
	// the last one, this one included.
	Strike(key string, now time.Time, forget time.Duration) int
	// Strikes returns key's failures and when the last one was (0 once forget has passed).
	Strikes(key string, now time.Time, forget time.Duration) (n int, last time.Time)
	// Clear forgets key's failures.
	Clear(key string)
}

// memoryKeysMax bounds the buckets and failures a memory state remembers; past it, buckets back
// at full allowance and forgotten failures are dropped (a spray of made-up usernames or
// addresses cannot grow the maps without end).
const memoryKeysMax = 100_000

// memoryLimits is the LimitState of one hub.
type memoryLimits struct {
	mu      sync.Mutex
	buckets map[string]*rate.Limiter
	held    map[string]int
	strikes map[string]strikes
}

type strikes struct {
	n    int
	last time.Time
}

// NewMemoryLimitState returns a LimitState kept in this process.
func NewMemoryLimitState() LimitState {
	return &memoryLimits{buckets: map[string]*rate.Limiter{}, held: map[string]int{}, strikes: map[string]strikes{}}
}

func (m *memoryLimits) Take(key string, r rate.Limit, burst, n int, now time.Time) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	l := m.buckets[key]
	if l == nil {
		if len(m.buckets) >= memoryKeysMax {
			for k, v := range m.buckets {
				if v.TokensAt(now) >= float64(v.Burst()) {
					delete(m.buckets, k)
				}
			}
		}
		l = rate.NewLimiter(r, burst)
		m.buckets[key] = l
	}
	return l.AllowN(now, n)
}

func (m *memoryLimits) Acquire(key string, max int) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.held[key] >= max {
		return false
	}
	m.held[key]++
	return true
}

func (m *memoryLimits) Release(key string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.held[key]--; m.held[key] <= 0 {
		delete(m.held, key)
	}
}

func (m *memoryLimits) Strike(key string, now time.Time, forget time.Duration) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	st := m.strikes[key]
	if now.Sub(st.last) > forget {
		st.n = 0
	}
	if st.n == 0 && len(m.strikes) >= memoryKeysMax {
		for k, v := range m.strikes {
			if now.Sub(v.last) > forget {
				delete(m.strikes, k)
			}
		}
	}
	st.n++
	st.last = now
	m.strikes[key] = st
	return st.n
}

func (m *memoryLimits) Strikes(key string, now time.Time, forget time.Duration) (int, time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	st := m.strikes[key]
	if now.Sub(st.last) > forget {
		return 0, time.Time{}
	}
	return st.n, st.last
}

func (m *memoryLimits) Clear(key string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.strikes, key)
}
