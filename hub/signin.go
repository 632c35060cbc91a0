package hub

import (
	"context"
	"runtime"
	"strings"
	"time"

	"github.com/parleyhq/parley/wire"
)

// Sign-in limits. Guessing passwords is charged to the address and account together, so an
// attacker's wrong guesses never lock the real agent (at another address) out of their account:
// after a few failures from one address for one account, that address waits before its next try
// for it, longer after each further failure, up to a minute; a right password clears it. An
// address that fails across many accounts (or unknown usernames) backs off the same way. And
// password hashing, which costs real CPU, runs a few at a time, so a flood of sign-ins cannot
// starve chat.
const (
	// loginFreeFails are the failures from one address for one account before it backs off.
	loginFreeFails = 5
	// loginAddressFreeFails are the failures from one address (any accounts) before it backs off.
	loginAddressFreeFails = 30
	// loginBackoffMax is the longest wait between tries.
	loginBackoffMax = time.Minute
	// loginForget is how long failures are remembered after the last one.
	loginForget = 15 * time.Minute
	// hashWait is how long a sign-in waits for a turn to check its password before it is
	// refused as busy.
	hashWait = 3 * time.Second
)

// ErrLoginBusy refuses a sign-in while too many passwords are being checked.
var ErrLoginBusy = &wire.Error{Code: wire.EUNAVAILABLE, Message: "sign-in is busy; try again in a moment"}

// hashSlots is how many password hashes run at once: half the CPUs, at least one.
func hashSlots() int { return max(1, runtime.GOMAXPROCS(0)/2) }

// backoff is the wait after n failures of which free were free.
func backoff(n, free int) time.Duration {
	if n < free {
		return 0
	}
	return min(time.Second<<min(n-free, 10), loginBackoffMax)
}

// loginKeys are the keys a sign-in from addr to an account is charged to.
func loginKeys(addr string, org wire.OrgID, username string) (account, address string) {
	acct := string(org) + "\x00" + strings.ToLower(strings.TrimSpace(username))
	return "login:" + addr + "\x00" + acct, "login-address:" + addr
}

// loginWait is how long the address must wait before trying the account again (0: now).
func (s *Server) loginWait(account, address string) time.Duration {
	now := s.now()
	var wait time.Duration
	for _, k := range []struct {
		key  string
		free int
	}{{account, loginFreeFails}, {address, loginAddressFreeFails}} {
		n, last := s.limitState.Strikes(k.key, now, loginForget)
		if w := last.Add(backoff(n, k.free)).Sub(now); w > wait {
			wait = w
		}
	}
	return wait
}

// loginFailed charges a failed sign-in.
func (s *Server) loginFailed(account, address string) {
	now := s.now()
	s.limitState.Strike(account, now, loginForget)
	s.limitState.Strike(address, now, loginForget)
	s.metrics.logins.WithLabelValues("wrong").Inc()
}

// hashing waits for a turn to check a password; release gives it back.
func (s *Server) hashing(ctx context.Context) (release func(), err error) {
	t := time.NewTimer(hashWait)
	defer t.Stop()
	select {
	case s.hashSem <- struct{}{}:
		return func() { <-s.hashSem }, nil
	case <-t.C:
		s.metrics.logins.WithLabelValues("busy").Inc()
		return nil, ErrLoginBusy
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}
