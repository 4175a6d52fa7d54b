package session

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors. Callers test them with errors.Is; the API maps each to one
// HTTP status in one place.
var (
	ErrNotFound     = errors.New("session not found")
	ErrExists       = errors.New("session already exists")
	ErrConflict     = errors.New("conflict with the session's state")
	ErrVersion      = errors.New("session version does not match If-Match")
	ErrInvalid      = errors.New("invalid request")
	ErrUnavailable  = errors.New("store unavailable")
	ErrOffsetGone   = errors.New("offset no longer retained")
	ErrUnauthorized = errors.New("unauthorized")
	ErrForbidden    = errors.New("forbidden")
)

// Error is a sentinel kind with a message meant for the caller.
type Error struct {
	Kind error
	Msg  string
}

func (e *Error) Error() string { return e.Msg }
func (e *Error) Unwrap() error { return e.Kind }

// Errorf makes an Error of the given kind; the message is shown to API callers,
// so it must say what went wrong and what to do, and never hold internals.
func Errorf(kind error, format string, args ...any) error {
	return &Error{Kind: kind, Msg: fmt.Sprintf(format, args...)}
}

// FieldError is one bad field. Field is the DTO's PascalCase name, as
// ServiceStack's ResponseStatus.Errors carries it.
type FieldError struct {
	Field   string
	Code    string
	Message string
}

// ValidationError lists every bad field of a request; it is ErrInvalid.
type ValidationError struct {
	Fields []FieldError
}

func (e *ValidationError) Error() string {
	msgs := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		msgs[i] = f.Message
	}
	return strings.Join(msgs, "; ")
}

func (e *ValidationError) Is(target error) bool { return target == ErrInvalid }

// Add records a bad field.
func (e *ValidationError) Add(field, code, format string, args ...any) {
	e.Fields = append(e.Fields, FieldError{Field: field, Code: code, Message: fmt.Sprintf(format, args...)})
}

// Err returns e when it holds a field, else nil.
func (e *ValidationError) Err() error {
	if e == nil || len(e.Fields) == 0 {
		return nil
	}
	return e
}

// Field error codes, in the style of ServiceStack's validators.
const (
	CodeRequired = "NotEmpty"
	CodeInvalid  = "InvalidValue"
	CodeTooLong  = "MaximumLength"
	CodeEnum     = "Enum"
)

// Invalid is a shorthand for a one-field ValidationError.
func Invalid(field, code, format string, args ...any) error {
	v := &ValidationError{}
	v.Add(field, code, format, args...)
	return v
}
