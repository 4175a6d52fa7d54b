package api

import (
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/sessionhub/sessionhub/auth"
	"github.com/sessionhub/sessionhub/session"
)

// authenticate requires a valid bearer token on every /sessions route. The
// token comes from Authorization: Bearer, or from access_token in the query
// string for callers that cannot set headers (JSONP's script tags).
func (a *api) authenticate(c *gin.Context) {
	h := c.GetHeader("Authorization")
	tok := auth.BearerToken(h)
	if tok == "" && h == "" {
		tok, _ = queryValue(c.Request.URL.Query(), "access_token")
	}
	var err error
	switch {
	case tok == "" && h != "":
		err = session.Errorf(session.ErrUnauthorized, "the Authorization header must be 'Bearer <token>' (create a token with `sessionhub token`).")
	case a.auth == nil:
		err = session.Errorf(session.ErrUnauthorized, "this server has no token verifier configured; no request can be authorised.")
	default:
		var cl auth.Claims
		cl, err = a.auth.Verify(tok)
		if err == nil && a.limit != nil && !a.limit.allow(cl.Subject) {
			err = errRateLimited
		}
		if err == nil {
			c.Set(ctxClaims, cl)
			c.Next()
			return
		}
	}
	a.fail(c, err)
}

// need refuses the request (403) unless the token's role allows p.
func (a *api) need(p auth.Permission) gin.HandlerFunc {
	what := map[auth.Permission]string{
		auth.Read:   "read sessions",
		auth.Write:  "change sessions (PATCH, log); it needs the agent or service role",
		auth.Manage: "create, replace or end sessions; it needs the service role",
	}[p]
	return func(c *gin.Context) {
		cl, _ := claimsOf(c)
		if !cl.Can(p) {
			a.fail(c, session.Errorf(session.ErrForbidden, "%s token may not %s.", withArticle(roleName(cl.Role)), what))
			return
		}
		c.Next()
	}
}

// withArticle puts "a" or "an" before a word (a role, a JSON type).
func withArticle(w string) string {
	if w != "" && strings.ContainsRune("aeiou", rune(w[0])) {
		return "an " + w
	}
	return "a " + w
}

func roleName(r auth.Role) string {
	if r == "" {
		return "role-less"
	}
	return string(r)
}

// claimsOf returns the verified claims of c's token.
func claimsOf(c *gin.Context) (auth.Claims, bool) {
	v, ok := c.Get(ctxClaims)
	if !ok {
		return auth.Claims{}, false
	}
	cl, ok := v.(auth.Claims)
	return cl, ok
}

// notFound is the one answer for a session that does not exist and for one the
// caller may not see, so that a 404 never tells them apart.
func notFound(id string) error {
	return session.Errorf(session.ErrNotFound, "session %s was not found in your token's accounts; check the id.", id)
}

// queryValue looks a query parameter up by name, case-insensitively (the last
// value wins, as with every other field).
func queryValue(q map[string][]string, name string) (string, bool) {
	if v, ok := q[name]; ok && len(v) > 0 {
		return v[len(v)-1], true
	}
	for k, v := range q {
		if strings.EqualFold(k, name) && len(v) > 0 {
			return v[len(v)-1], true
		}
	}
	return "", false
}
