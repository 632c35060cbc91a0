package wire

import (
	"errors"
	"fmt"
)

// Error implements the error interface.
func (e *Error) Error() string { return fmt.Sprintf("%s: %s", e.Code, e.Message) }

// Errorf returns an *Error with the code and a formatted message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL for any other error,
// and "" for nil.
func ErrorCode(err error) Code {
	var e *Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &e):
		return e.Code
	default:
		return EINTERNAL
	}
}

// ErrorMessage returns the message of the first *Error in err's chain. Any other error is
// internal: its text may hold details a client must not see, so it reads "internal error".
func ErrorMessage(err error) string {
	var e *Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &e):
		return e.Message
	default:
		return "internal error"
	}
}

// HTTPStatus is the HTTP status that goes with a code.
func (c Code) HTTPStatus() int {
	switch c {
	case EINVALID, EUNKNOWNTYPE, EWEAKPASSWORD:
		return 400
	case EUNAUTHORIZED:
		return 401
	case EFORBIDDEN, EDISABLED, ESSOREQUIRED, EDOMAIN, ENOCONSENT:
		return 403
	case ENOTFOUND:
		return 404
	case ECONFLICT, ELASTADMIN, EQUEUECLOSED, EAGENTUNAVAILABLE:
		return 409
	case ELINKEXPIRED, ELINKUSED:
		return 410
	case ETOOLARGE:
		return 413
	case ERATELIMITED, ETOOMANY:
		return 429
	case EUNAVAILABLE:
		return 503
	default:
		return 500
	}
}
