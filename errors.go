package haven

import (
	"errors"
	"fmt"
)

// Kind classifies an Error. The set is closed: HTTP surfaces map each kind
// to one status code and never show the wrapped cause to the client.
type Kind int

// The kinds of error Haven reports.
const (
	KindInternal        Kind = iota // a bug or an unexpected failure; details are logged, not shown
	KindInvalid                     // the input is wrong; the message says what and where
	KindNotFound                    // no such record, or the actor may not know it exists
	KindConflict                    // the record exists already or its state forbids the change
	KindUnauthenticated             // no valid credentials
	KindForbidden                   // authenticated, but the role does not allow it
	KindUnavailable                 // a dependency is down; retrying later may work
	KindTooLarge                    // the input exceeds a configured limit
	KindIntegrity                   // stored data failed an integrity check
	KindLocked                      // the account is locked until an administrator releases it
	KindReauth                      // the action needs a recent re-authentication
)

var kindNames = [...]string{
	KindInternal:        "internal",
	KindInvalid:         "invalid",
	KindNotFound:        "not_found",
	KindConflict:        "conflict",
	KindUnauthenticated: "unauthenticated",
	KindForbidden:       "forbidden",
	KindUnavailable:     "unavailable",
	KindTooLarge:        "too_large",
	KindIntegrity:       "integrity",
	KindLocked:          "locked",
	KindReauth:          "reauth_required",
}

// String returns the kind's stable, lower-case name.
func (k Kind) String() string {
	if k < 0 || int(k) >= len(kindNames) {
		return "internal"
	}
	return kindNames[k]
}

// Error is the one error type of Haven. Message is safe to show to the
// caller: it never contains an identifying value of a victim, reporter or
// offender. Err, when set, is the cause and is only ever logged.
type Error struct {
	Kind    Kind
	Message string
	Field   string // the input field at fault, for KindInvalid
	Err     error
}

// Error implements the error interface.
func (e *Error) Error() string {
	msg := e.Message
	if msg == "" {
		msg = e.Kind.String()
	}
	if e.Err != nil {
		return msg + ": " + e.Err.Error()
	}
	return msg
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error of the given kind with a formatted safe message.
func Errorf(kind Kind, format string, args ...any) *Error {
	return &Error{Kind: kind, Message: fmt.Sprintf(format, args...)}
}

// Invalidf returns a KindInvalid error naming the field at fault.
func Invalidf(field, format string, args ...any) *Error {
	return &Error{Kind: KindInvalid, Field: field, Message: fmt.Sprintf(format, args...)}
}

// ErrNotFound is the error returned for a record that does not exist or that
// the actor may not see; the two are deliberately indistinguishable.
var ErrNotFound = &Error{Kind: KindNotFound, Message: "not found"}

// ErrForbidden is returned when the actor's role does not allow the action.
var ErrForbidden = &Error{Kind: KindForbidden, Message: "your role does not allow this action"}

// ErrReauth is returned when a sensitive action needs a fresh sign-in.
var ErrReauth = &Error{Kind: KindReauth, Message: "confirm your password and code to continue"}

// ErrorKind returns the kind of err: the Kind of the first *Error in its
// chain, or KindInternal when there is none.
func ErrorKind(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return KindInternal
}

// ErrorMessage returns the safe message of err, or a generic message when err
// is not an *Error. It never returns the text of a wrapped cause.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) && e.Message != "" {
		return e.Message
	}
	return "an internal error occurred"
}

// IsKind reports whether err is of the given kind.
func IsKind(err error, kind Kind) bool { return err != nil && ErrorKind(err) == kind }

// ErrorMessageOrError returns the safe message of an *Error, and otherwise
// the error's own text. For operators at the command line, who may see
// causes; never for HTTP responses.
func ErrorMessageOrError(err error) string {
	var e *Error
	if errors.As(err, &e) && e.Kind != KindInternal {
		if e.Field != "" && e.Message != "" {
			return e.Field + ": " + e.Message
		}
		return e.Error()
	}
	return err.Error()
}
