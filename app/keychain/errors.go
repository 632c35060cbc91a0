package keychain

import "errors"

// ErrNotFound indicates no secret is stored for the service and account.
var ErrNotFound = errors.New("keychain: no such secret")

// ErrLocked indicates the keychain did not answer in time: it is locked and waiting for an unlock
// prompt nobody can see, or hung. The secret can still be kept for this session only.
var ErrLocked = errors.New("keychain: locked or not answering")

// ErrUnavailable indicates there is no keychain to use (no Secret Service on the session bus, no
// session bus at all, or the keychain refused the request).
var ErrUnavailable = errors.New("keychain: unavailable")

// ErrTooBig indicates a secret larger than the platform's keychain keeps (2560 bytes on Windows).
var ErrTooBig = errors.New("keychain: secret too large")
