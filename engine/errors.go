package engine

import (
	"errors"
	"fmt"
)

// Error codes. Each maps to one HTTP status in the web layer.
const (
	EINVALID      = "invalid"      // the caller sent something wrong (400)
	ENOTFOUND     = "not_found"    // the thing does not exist (404)
	ECONFLICT     = "conflict"     // the change conflicts with the current state (409)
	EUNAUTHORIZED = "unauthorized" // no or wrong credentials (401)
	EMETHOD       = "method"       // HTTP method not allowed (405)
	EFORBIDDEN    = "forbidden"    // credentials fine, action refused (403)
	ETOOLARGE     = "too_large"    // over a configured size limit (413)
	EUNSUPPORTED  = "unsupported"  // unsupported media type (415)
	ETOOMANY      = "too_many"     // throttled (429)
	EUNAVAILABLE  = "unavailable"  // shutting down or overloaded (503)
	ETIMEOUT      = "timeout"      // the work took longer than allowed (504)
	EINTERNAL     = "internal"     // a bug or an infrastructure failure (500)
)

// Error is Hookflow's one error type for failures a caller can act on.
// Message is safe to show to users and third parties.
type Error struct {
	Code    string
	Message string
}

func (e *Error) Error() string { return e.Message }

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL
// for any other non-nil error, and "" for nil.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the safe message of the first *Error in err's chain, or
// a generic message for internal errors, whose details must not leak.
func ErrorMessage(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}

func asError[T error](err error, target *T) bool { return errors.As(err, target) }
