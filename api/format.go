package api

import (
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/sessionhub/sessionhub/session"
)

// Context keys the middleware leaves for the handlers.
const (
	ctxCallback  = "api.callback"  // the JSONP callback, when the response is wrapped
	ctxClaims    = "api.claims"    // the caller's auth.Claims
	ctxErrorCode = "api.errorCode" // the ResponseStatus code of a failed request, for the log
)

// maxCallback bounds a JSONP callback name.
const maxCallback = 128

// callbackRE is a plain JavaScript identifier path: nothing else may be echoed
// into a script.
var callbackRE = regexp.MustCompile(`^[A-Za-z_$][\w$]*(\.[A-Za-z_$][\w$]*)*$`)

// formatSuffixes are the extensions ServiceStack reads as a format. On an API
// path they always select a format, never belong to an id; only json is served.
var formatSuffixes = session.FormatSuffixes

// splitFormatSuffix takes a format extension off an API path. It returns the
// path without it and the format named ("" when there was none).
func splitFormatSuffix(p string) (string, string) {
	if !isAPIPath(p) {
		return p, ""
	}
	for _, s := range formatSuffixes {
		if len(p) > len(s) && strings.EqualFold(p[len(p)-len(s):], s) {
			return p[:len(p)-len(s)], strings.ToLower(s[1:])
		}
	}
	return p, ""
}

// isAPIPath reports whether p belongs to the REST API (its errors are
// ResponseStatus bodies; it is never the dashboard's).
func isAPIPath(p string) bool {
	return p == "/sessions" || strings.HasPrefix(p, "/sessions/") || strings.HasPrefix(p, "/sessions.")
}

// negotiate is the API's format middleware: JSON only (by suffix, ?format= or
// Accept), optionally wrapped in a JSONP callback.
func (a *api) negotiate(c *gin.Context) {
	c.Header("Vary", "Accept")
	if err := a.negotiateFormat(c); err != nil {
		a.fail(c, err)
		return
	}
	c.Next()
}

// negotiateFormat decides the format for c; on error the response goes out as
// plain JSON unless a valid callback was already chosen.
func (a *api) negotiateFormat(c *gin.Context) error {
	q := c.Request.URL.Query()
	if cb, ok := queryValue(q, "callback"); ok && cb != "" {
		if len(cb) > maxCallback || !callbackRE.MatchString(cb) {
			return badParam("'callback' must be a JavaScript identifier path such as myCallback or app.onData, at most %d characters.", maxCallback)
		}
		c.Set(ctxCallback, cb)
	}
	explicit := false
	if f := reqInfoOf(c.Request).suffix; f != "" {
		if f != "json" {
			return newError(errNotAcceptable, "the .%s format is not supported: this API answers in JSON only (use .json, ?format=json or Accept: application/json).", f)
		}
		explicit = true
	}
	if f, ok := queryValue(q, "format"); ok && f != "" {
		if !strings.EqualFold(f, "json") {
			return newError(errNotAcceptable, "format %s is not supported: this API answers in JSON only (use ?format=json).", strconv.Quote(truncate(f, 20)))
		}
		explicit = true
	}
	if !explicit && !acceptsJSON(c.Request.Header.Values("Accept")) {
		return newError(errNotAcceptable, "the Accept header excludes JSON: this API answers in application/json only (send Accept: application/json, or use .json or ?format=json).")
	}
	return nil
}

// acceptsJSON reports whether the Accept headers allow application/json. A
// missing header, or one with no media range it can read, allows anything.
func acceptsJSON(headers []string) bool {
	readable := false
	for _, h := range headers {
		for _, part := range strings.Split(h, ",") {
			mt, params, _ := strings.Cut(strings.TrimSpace(part), ";")
			mt = strings.ToLower(strings.TrimSpace(mt))
			if !strings.Contains(mt, "/") {
				continue
			}
			readable = true
			if qValue(params) <= 0 {
				continue
			}
			switch mt {
			case "*/*", "application/*", "application/json", "application/javascript", "text/javascript":
				return true
			}
		}
	}
	return !readable
}

// qValue reads the q parameter of a media range (1 when absent or unreadable).
func qValue(params string) float64 {
	for _, p := range strings.Split(params, ";") {
		k, v, ok := strings.Cut(strings.TrimSpace(p), "=")
		if ok && strings.EqualFold(strings.TrimSpace(k), "q") {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil {
				return 1
			}
			return f
		}
	}
	return 1
}

// setHeader sets a response header spelled as the RFCs and ServiceStack spell
// it ("ETag", "WWW-Authenticate"), not as Go canonicalises it ("Etag",
// "Www-Authenticate"): names are case-insensitive, but people grep curl -i.
func setHeader(c *gin.Context, name, value string) {
	h := c.Writer.Header()
	h.Del(name)
	h[name] = []string{value}
}

// writeJSON sends body (JSON) with status, wrapped as JSONP when a callback was
// chosen: then the status is always 200, as ServiceStack does, so a script tag
// still runs the callback for an error.
func (a *api) writeJSON(c *gin.Context, status int, body []byte) {
	c.Header("X-Content-Type-Options", "nosniff")
	if cb := c.GetString(ctxCallback); cb != "" {
		c.Header("Content-Type", "application/javascript; charset=utf-8")
		c.Status(http.StatusOK)
		out := make([]byte, 0, len(cb)+len(body)+3)
		out = append(out, cb...)
		out = append(out, '(')
		out = appendScriptSafe(out, body)
		out = append(out, ')')
		_, _ = c.Writer.Write(out)
		return
	}
	c.Header("Content-Type", "application/json; charset=utf-8")
	c.Status(status)
	_, _ = c.Writer.Write(body)
}

// appendScriptSafe appends JSON with <, > and & escaped as \u003c, \u003e and
// \u0026: in JSON those bytes occur only inside strings, so the value is the
// same, and a JSONP body can never carry markup.
func appendScriptSafe(dst, js []byte) []byte {
	for _, b := range js {
		switch b {
		case '<':
			dst = append(dst, `\u003c`...)
		case '>':
			dst = append(dst, `\u003e`...)
		case '&':
			dst = append(dst, `\u0026`...)
		default:
			dst = append(dst, b)
		}
	}
	return dst
}

// mustMarshal encodes v, whose types cannot fail to encode. U+2028 and U+2029
// stay escaped, which keeps JSONP bodies valid JavaScript; JSONP is loaded with
// <script src>, never inlined, so < > & need no escaping (ServiceStack leaves them).
func mustMarshal(v any) []byte { return session.MarshalJSON(v) }

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}
