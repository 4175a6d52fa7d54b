package api

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"
)

// reqInfo is what the outer handler learns about a request before Gin routes it.
type reqInfo struct {
	id     string    // X-Request-Id: the caller's when well-formed, else a new one
	path   string    // the path as sent, before a format suffix was taken off
	method string    // the method as sent, before X-Http-Method-Override
	suffix string    // the format a path suffix named ("json", "xml", ...), or ""
	start  time.Time // when the request arrived
}

type reqInfoKey struct{}

// reqInfoOf returns r's reqInfo (an empty one outside the API handler).
func reqInfoOf(r *http.Request) *reqInfo {
	if ri, ok := r.Context().Value(reqInfoKey{}).(*reqInfo); ok {
		return ri
	}
	return &reqInfo{}
}

func withReqInfo(r *http.Request, ri *reqInfo) *http.Request {
	return r.WithContext(context.WithValue(r.Context(), reqInfoKey{}, ri))
}

// requestID is the id of c's request, as logs and 500 messages name it.
func requestID(c *gin.Context) string { return reqInfoOf(c.Request).id }

// maxRequestID bounds a caller's X-Request-Id.
const maxRequestID = 128

// cleanRequestID keeps a caller's request id only when it is short and made of
// characters that are safe in logs and headers; otherwise it returns "".
func cleanRequestID(s string) string {
	if s == "" || len(s) > maxRequestID {
		return ""
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case c == '-', c == '_', c == '.', c == ':', c == '@', c == '/', c == '+', c == '=':
		default:
			return ""
		}
	}
	return s
}

func newRequestID() string { return uuid.NewString() }

// observe logs and measures every request. It logs the path without its query
// string, and no header: access_token and Authorization never reach the log.
func (a *api) observe(c *gin.Context) {
	c.Next()
	ri := reqInfoOf(c.Request)
	status := c.Writer.Status()
	route := routeLabel(c, ri)
	d := time.Since(ri.start)
	a.metrics.observe(route, c.Request.Method, status, d)

	level := slog.LevelInfo
	switch {
	case route == "/healthz" || route == "/readyz" || route == "/metrics":
		level = slog.LevelDebug
	case status >= 500:
		level = slog.LevelWarn
	}
	if !a.log.Enabled(c.Request.Context(), level) {
		return
	}
	attrs := []slog.Attr{
		slog.String("request_id", ri.id),
		slog.String("method", ri.method),
		slog.String("path", truncate(ri.path, 256)),
		slog.String("route", route),
		slog.Int("status", status),
		slog.Duration("duration", d),
		slog.Int("bytes", max(c.Writer.Size(), 0)),
	}
	if c.Request.Method != ri.method {
		attrs = append(attrs, slog.String("override", c.Request.Method))
	}
	if cl, ok := claimsOf(c); ok {
		attrs = append(attrs, slog.String("user", cl.Subject))
	}
	if code := c.GetString(ctxErrorCode); code != "" {
		attrs = append(attrs, slog.String("error_code", code))
	}
	a.log.LogAttrs(c.Request.Context(), level, "request", attrs...)
}

// routeLabel names c's route by its template, never its raw path, so metrics
// keep a bounded number of series.
func routeLabel(c *gin.Context, ri *reqInfo) string {
	if r := c.FullPath(); r != "" {
		return r
	}
	if !isAPIPath(c.Request.URL.Path) && (c.Request.Method == http.MethodGet || c.Request.Method == http.MethodHead) && c.Writer.Status() != http.StatusMethodNotAllowed {
		return "ui"
	}
	return "unmatched"
}

// recoverPanic turns a handler's panic into a logged 500 that shows nothing of it.
func (a *api) recoverPanic(c *gin.Context) {
	defer func() {
		p := recover()
		if p == nil {
			return
		}
		if p == http.ErrAbortHandler {
			panic(p)
		}
		a.log.LogAttrs(c.Request.Context(), slog.LevelError, "handler panic",
			slog.String("request_id", requestID(c)), slog.String("panic", fmt.Sprint(p)), slog.String("stack", string(debug.Stack())))
		if !c.Writer.Written() {
			a.fail(c, fmt.Errorf("panic: %v", p))
		}
	}()
	c.Next()
}
