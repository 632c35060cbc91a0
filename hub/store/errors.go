package store

import "github.com/parleyhq/parley/wire"

// ErrNotFound indicates that the row asked for does not exist.
var ErrNotFound = &wire.Error{Code: wire.ENOTFOUND, Message: "not found"}

// ErrConflict indicates that a row with the same unique key already exists.
var ErrConflict = &wire.Error{Code: wire.ECONFLICT, Message: "already exists"}

// ErrLinkExpired indicates a setup link used after it expired.
var ErrLinkExpired = &wire.Error{Code: wire.ELINKEXPIRED, Message: "the setup link has expired"}

// ErrLinkUsed indicates a setup link used a second time.
var ErrLinkUsed = &wire.Error{Code: wire.ELINKUSED, Message: "the setup link was already used"}

// ErrDisabled indicates a member an admin disabled.
var ErrDisabled = &wire.Error{Code: wire.EDISABLED, Message: "the account is disabled"}

// ErrLastAdmin indicates a change that would leave an organisation without an active admin.
var ErrLastAdmin = &wire.Error{Code: wire.ELASTADMIN, Message: "the organisation would have no active admin"}
