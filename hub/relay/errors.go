package relay

import "errors"

var (
	// ErrExpired indicates a TURN username whose expiry time has passed.
	ErrExpired = errors.New("relay: credential expired")

	// ErrBadUsername indicates a TURN username that is not "<expiry-unix>:<id>".
	ErrBadUsername = errors.New("relay: username is not <expiry-unix>:<id>")

	// ErrNoRelay indicates that no configured relay may carry an organisation's media, for example
	// a GCC organisation when no North-American relay is declared. The call must not start: a
	// relay-only policy with no relay cannot connect.
	ErrNoRelay = errors.New("relay: no relay may carry this organisation's media")

	// ErrInvalidConfig indicates a server or relay configuration that cannot work; the wrapping
	// error says which field.
	ErrInvalidConfig = errors.New("relay: invalid configuration")

	// ErrStarted indicates Start called on a server that was already started.
	ErrStarted = errors.New("relay: server already started")

	// ErrClosed indicates an operation on a server that has been closed.
	ErrClosed = errors.New("relay: server closed")
)

var (
	// ErrRevoked indicates a TURN credential whose call has ended.
	ErrRevoked = errors.New("relay: credential revoked")

	// errNoTCPRelay indicates a TCP allocation (RFC 6062), which the relay does not offer.
	errNoTCPRelay = errors.New("relay: TCP relaying is not offered")
)
