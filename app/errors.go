package app

import "github.com/parleyhq/parley/wire"

// Errors the services return themselves; everything else comes from the hub as *wire.Error.
var (
	// ErrNotSignedIn indicates a call that needs a hub connection while signed out.
	ErrNotSignedIn = &wire.Error{Code: wire.EUNAUTHORIZED, Message: "not signed in"}
	// ErrSignedIn indicates a sign-in while already signed in.
	ErrSignedIn = &wire.Error{Code: wire.ECONFLICT, Message: "already signed in"}
	// ErrNoConversation indicates a conversation id the app does not know.
	ErrNoConversation = &wire.Error{Code: wire.ENOTFOUND, Message: "no such conversation"}
	// ErrNoOffer indicates an offer that is not (or no longer) pending.
	ErrNoOffer = &wire.Error{Code: wire.ENOTFOUND, Message: "no such offer"}
	// ErrEmptyMessage indicates a message with nothing but white space.
	ErrEmptyMessage = &wire.Error{Code: wire.EINVALID, Message: "empty message"}
	// ErrHubUnreachable indicates a hub that could not be reached at all.
	ErrHubUnreachable = &wire.Error{Code: wire.EUNAVAILABLE, Message: "hub unreachable"}
)

// asWireError turns any error into the *wire.Error the UI understands, keeping the code of a
// *wire.Error in the chain and hiding the text of anything else.
func asWireError(err error) error {
	if err == nil {
		return nil
	}
	return &wire.Error{Code: wire.ErrorCode(err), Message: wire.ErrorMessage(err)}
}
