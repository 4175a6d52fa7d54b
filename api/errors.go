package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/sessionhub/sessionhub/auth"
	"github.com/sessionhub/sessionhub/session"
)

// Errors of the HTTP layer itself. The session package's sentinels and the auth
// package's errors cover the rest; statusOf maps them all.
var (
	errNotAcceptable    = errors.New("not acceptable")
	errMethodNotAllowed = errors.New("method not allowed")
	errRouteNotFound    = errors.New("no such route")
	errTooLarge         = errors.New("request body too large")
	errUnsupportedMedia = errors.New("unsupported media type")
	errBadRequest       = errors.New("bad request")
	errRateLimited      = errors.New("too many requests")
	errTimeout          = errors.New("request timeout")
)

// httpError carries a message meant for the caller with one of the errors above.
type httpError struct {
	kind error
	code string // the ResponseStatus errorCode, when not the kind's default
	msg  string
}

func (e *httpError) Error() string { return e.msg }
func (e *httpError) Unwrap() error { return e.kind }

func newError(kind error, format string, args ...any) error {
	return &httpError{kind: kind, msg: fmt.Sprintf(format, args...)}
}

// badHeader is a 400 for a request header that cannot be read.
func badHeader(format string, args ...any) error {
	return &httpError{kind: errBadRequest, code: session.CodeInvalid, msg: fmt.Sprintf(format, args...)}
}

// badParam is a 400 for a query parameter that is not a DTO field (callback).
func badParam(format string, args ...any) error { return badHeader(format, args...) }

// ResponseStatus is ServiceStack's error body.
type ResponseStatus struct {
	ErrorCode string          `json:"errorCode"`
	Message   string          `json:"message"`
	Errors    []ResponseError `json:"errors"` // [] when no field is named, as ServiceStack's CreateResponseStatus makes it
}

// ResponseError is one bad field of a ResponseStatus.
type ResponseError struct {
	ErrorCode string `json:"errorCode"`
	FieldName string `json:"fieldName"`
	Message   string `json:"message"`
}

// errorBody is what an error response carries.
type errorBody struct {
	ResponseStatus ResponseStatus `json:"responseStatus"`
}

// statusOf is the one place that maps an error to an HTTP status and the
// ResponseStatus a caller sees. internal reports a 500, whose real cause is
// logged and never shown; headers lists what the status requires.
func statusOf(err error) (status int, rs ResponseStatus, headers [][2]string) {
	msg := func(def string) string {
		var se *session.Error
		var he *httpError
		switch {
		case errors.As(err, &he):
			return he.msg
		case errors.As(err, &se):
			return se.Msg
		}
		return def
	}
	var ve *session.ValidationError
	switch {
	case errors.As(err, &ve) && len(ve.Fields) > 0:
		rs = ResponseStatus{ErrorCode: ve.Fields[0].Code, Message: ve.Fields[0].Message}
		for _, f := range ve.Fields {
			rs.Errors = append(rs.Errors, ResponseError{ErrorCode: f.Code, FieldName: f.Field, Message: f.Message})
		}
		return http.StatusBadRequest, rs, nil
	case errors.Is(err, errBadRequest), errors.Is(err, session.ErrInvalid):
		return http.StatusBadRequest, ResponseStatus{ErrorCode: codeOf(err, "SerializationException"), Message: msg("the request could not be read")}, nil
	case errors.Is(err, auth.ErrMissing):
		return http.StatusUnauthorized, ResponseStatus{ErrorCode: "Unauthorized", Message: auth.ErrMissing.Error()},
			[][2]string{{"WWW-Authenticate", `Bearer`}}
	case errors.Is(err, auth.ErrExpired), errors.Is(err, auth.ErrInvalid):
		m := "the bearer token was rejected: " + err.Error() + "; get a new one (sessionhub token)"
		if errors.Is(err, auth.ErrExpired) {
			m = auth.ErrExpired.Error()
		}
		return http.StatusUnauthorized, ResponseStatus{ErrorCode: "Unauthorized", Message: m},
			[][2]string{{"WWW-Authenticate", `Bearer error="invalid_token"`}}
	case errors.Is(err, session.ErrUnauthorized):
		// No bearer token at all (another scheme, or none can be verified): RFC 6750
		// §3.1 says the challenge then carries no error code.
		return http.StatusUnauthorized, ResponseStatus{ErrorCode: "Unauthorized", Message: msg("send Authorization: Bearer <token>")},
			[][2]string{{"WWW-Authenticate", `Bearer`}}
	case errors.Is(err, session.ErrForbidden):
		return http.StatusForbidden, ResponseStatus{ErrorCode: "Forbidden", Message: msg("your token's role does not allow this")}, nil
	case errors.Is(err, session.ErrNotFound), errors.Is(err, errRouteNotFound):
		return http.StatusNotFound, ResponseStatus{ErrorCode: "NotFound", Message: msg("not found")}, nil
	case errors.Is(err, errMethodNotAllowed):
		return http.StatusMethodNotAllowed, ResponseStatus{ErrorCode: "MethodNotAllowed", Message: msg("method not allowed")}, nil
	case errors.Is(err, errNotAcceptable):
		return http.StatusNotAcceptable, ResponseStatus{ErrorCode: "NotAcceptable", Message: msg("this API answers in JSON only")}, nil
	case errors.Is(err, session.ErrExists), errors.Is(err, session.ErrConflict):
		return http.StatusConflict, ResponseStatus{ErrorCode: "Conflict", Message: msg(err.Error())}, nil
	case errors.Is(err, session.ErrVersion):
		return http.StatusPreconditionFailed, ResponseStatus{ErrorCode: "PreconditionFailed", Message: msg("the session's version does not match If-Match: reload it and try again")}, nil
	case errors.Is(err, errTooLarge):
		return http.StatusRequestEntityTooLarge, ResponseStatus{ErrorCode: "RequestEntityTooLarge", Message: msg("the request body is too large")}, nil
	case errors.Is(err, errTimeout):
		return http.StatusRequestTimeout, ResponseStatus{ErrorCode: "RequestTimeout", Message: msg("the request took too long to arrive")},
			[][2]string{{"Connection", "close"}}
	case errors.Is(err, errUnsupportedMedia):
		return http.StatusUnsupportedMediaType, ResponseStatus{ErrorCode: "UnsupportedMediaType", Message: msg("unsupported Content-Type")}, nil
	case errors.Is(err, errRateLimited):
		return http.StatusTooManyRequests, ResponseStatus{ErrorCode: "TooManyRequests", Message: msg("too many requests: slow down and retry")},
			[][2]string{{"Retry-After", "1"}}
	case errors.Is(err, session.ErrUnavailable), errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		// A canceled request's caller has gone; the answer only has to be honest.
		return http.StatusServiceUnavailable, ResponseStatus{ErrorCode: "ServiceUnavailable", Message: "the session store is unavailable; retry shortly"},
			[][2]string{{"Retry-After", "1"}}
	}
	return http.StatusInternalServerError, ResponseStatus{ErrorCode: "InternalServerError"}, nil
}

// codeOf returns the errorCode an httpError asks for, else def.
func codeOf(err error, def string) string {
	var he *httpError
	if errors.As(err, &he) && he.code != "" {
		return he.code
	}
	return def
}

// fail answers c with err as a ResponseStatus in the negotiated format. A 500's
// cause is logged with the request id, and the caller sees only that id.
func (a *api) fail(c *gin.Context, err error) {
	status, rs, headers := statusOf(err)
	rid := requestID(c)
	if status == http.StatusInternalServerError {
		rs.Message = "internal error (request id " + rid + ")"
		a.log.LogAttrs(c.Request.Context(), slog.LevelError, "request failed",
			slog.String("request_id", rid), slog.String("route", c.FullPath()), slog.String("error", err.Error()))
	} else if status == http.StatusServiceUnavailable {
		a.log.LogAttrs(c.Request.Context(), slog.LevelWarn, "store unavailable",
			slog.String("request_id", rid), slog.String("error", err.Error()))
	}
	for _, h := range headers {
		setHeader(c, h[0], h[1])
	}
	if rs.Errors == nil {
		rs.Errors = []ResponseError{}
	}
	c.Set(ctxErrorCode, rs.ErrorCode)
	a.writeJSON(c, status, mustMarshal(errorBody{ResponseStatus: rs}))
	c.Abort()
}
