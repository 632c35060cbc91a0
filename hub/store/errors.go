package store

import "github.com/parleyhq/parley/wire"

// ErrNotFound indicates that the row asked for does not exist.
var ErrNotFound = &wire.Error{Code: wire.ENOTFOUND, Message: "not found"}

// ErrConflict indicates that a row with the same unique key already exists.
var ErrConflict = &wire.Error{Code: wire.ECONFLICT, Message: "already exists"}
