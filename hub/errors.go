package hub

import (
	"time"

	"github.com/parleyhq/parley/wire"
)

// ErrBadLogin indicates a wrong organisation, username or password. It does not say which, so a
// caller cannot probe for usernames.
var ErrBadLogin = &wire.Error{Code: wire.EUNAUTHORIZED, Message: "wrong organisation, username or password"}

// ErrLoginLimited refuses a sign-in to an account with too many recent failed attempts from
// the same address.
var ErrLoginLimited = &wire.Error{Code: wire.ERATELIMITED, Message: "too many failed sign-ins; wait a minute"}

// loginLimited is ErrLoginLimited with how long to wait (the HTTP answer's Retry-After).
type loginLimited struct{ wait time.Duration }

func (e *loginLimited) Error() string { return ErrLoginLimited.Error() }

// Unwrap makes errors.As find the *wire.Error.
func (e *loginLimited) Unwrap() error { return ErrLoginLimited }

// ErrTokenInvalid indicates a token the hub never issued, or one that expired.
var ErrTokenInvalid = &wire.Error{Code: wire.EUNAUTHORIZED, Message: "token is unknown or expired"}

// ErrConvNotFound indicates a conversation that does not exist or that the caller may not see.
// Both read the same, so ids of other organisations reveal nothing.
var ErrConvNotFound = &wire.Error{Code: wire.ENOTFOUND, Message: "no such conversation"}

// ErrOrgNotFound indicates an organisation that does not exist.
var ErrOrgNotFound = &wire.Error{Code: wire.ENOTFOUND, Message: "no such organisation"}

// errNotOpen is the router's answer about a conversation it does not hold open: ended, or never
// there. It reads as ErrConvNotFound unless conn.notOpen, off the routing loop, finds it ended
// and visible to the caller (ErrConvEnded).
type errNotOpen struct{ conv wire.ConversationID }

func (e *errNotOpen) Error() string { return ErrConvNotFound.Error() }
func (e *errNotOpen) Unwrap() error { return ErrConvNotFound }

// ErrConvEnded indicates a request on a conversation that has ended.
var ErrConvEnded = &wire.Error{Code: wire.ECONFLICT, Message: "the conversation has ended"}

// ErrClosed indicates an operation on a Server after Close.
var ErrClosed = &wire.Error{Code: wire.EUNAVAILABLE, Message: "the hub is shutting down"}

// ErrSSORequired refuses a password sign-in to an organisation that signs in with its identity
// provider only.
var ErrSSORequired = &wire.Error{Code: wire.ESSOREQUIRED, Message: "this organisation signs in with its identity provider"}
