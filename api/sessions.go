package api

import (
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/sessionhub/sessionhub/auth"
	"github.com/sessionhub/sessionhub/session"
)

// getSession is GET /sessions/{sessionId}.
func (a *api) getSession(c *gin.Context) {
	id, ok := a.pathID(c)
	if !ok {
		return
	}
	cl, _ := claimsOf(c)
	v, err := a.store.Get(c.Request.Context(), id)
	if err == nil && !cl.HasAccount(v.Info.AccountID) {
		err = notFound(id)
	}
	if err != nil {
		a.fail(c, hideNotFound(err, id))
		return
	}
	a.sendSession(c, http.StatusOK, v)
}

// createSession is POST /sessions: a SessionInfo whose id is optional and whose
// callState defaults to Ringing.
func (a *api) createSession(c *gin.Context) {
	cl, _ := claimsOf(c)
	in, err := readInput(c, a.maxBody)
	if err != nil {
		a.fail(c, err)
		return
	}
	info, err := bindInfo(in, a.limits)
	if err != nil {
		a.fail(c, err)
		return
	}
	if info.ID == "" {
		info.ID = a.newID()
	}
	if !in.has("callstate") {
		info.CallState = session.CallRinging
	}
	// Validation first: a malformed request is a 400 whoever sends it.
	s, err := session.New(info, cl.Subject, a.now(), a.limits)
	if err != nil {
		a.fail(c, err)
		return
	}
	if !cl.HasAccount(s.AccountID) {
		// The account is the caller's own input: saying so leaks nothing.
		a.fail(c, session.Errorf(session.ErrForbidden, "your token does not cover account %s; use a token for that account.", s.AccountID))
		return
	}
	v, err := a.store.Create(c.Request.Context(), s)
	if errors.Is(err, session.ErrExists) {
		err = session.Errorf(session.ErrExists, "session %s already exists; change it with PATCH or PUT, or create it under another id.", s.ID)
	}
	if err != nil {
		a.fail(c, err)
		return
	}
	a.sendSession(c, http.StatusOK, v)
}

// patchSession is the seed's PATCH /sessions/{sessionId}.
func (a *api) patchSession(c *gin.Context) {
	a.write(c, func(in *input) (session.Mutation, error) {
		p, err := bindPatch(in, a.limits)
		return p.Mutation(), err
	})
}

// putSession is PUT /sessions/{sessionId}: the full state.
func (a *api) putSession(c *gin.Context) {
	a.write(c, func(in *input) (session.Mutation, error) {
		info, err := bindInfo(in, a.limits)
		return session.Replace(info), err
	})
}

// appendLog is POST /sessions/{sessionId}/log.
func (a *api) appendLog(c *gin.Context) {
	a.write(c, func(in *input) (session.Mutation, error) {
		msg, err := bindLog(in, a.limits)
		return session.AppendLog(msg), err
	})
}

// deleteSession is DELETE /sessions/{sessionId}: it ends the session as a PATCH
// to Disconnected would; ending an ended session is a success that changes nothing.
func (a *api) deleteSession(c *gin.Context) {
	id, ok := a.pathID(c)
	if !ok {
		return
	}
	cond, err := a.ifMatch(c, id)
	if err != nil {
		a.fail(c, err)
		return
	}
	end := session.End()
	v, err := a.update(c, id, cond, func(cur *session.Info, now string) error {
		if cur.Ended {
			return nil
		}
		return end(cur, now)
	})
	if err != nil {
		a.fail(c, err)
		return
	}
	setHeader(c, "ETag", etag(v.Version))
	c.Status(http.StatusNoContent)
}

// write runs a body-carrying write on the session the path names.
func (a *api) write(c *gin.Context, bind func(*input) (session.Mutation, error)) {
	id, ok := a.pathID(c)
	if !ok {
		return
	}
	cond, err := a.ifMatch(c, id)
	if err != nil {
		a.fail(c, err)
		return
	}
	in, err := readInput(c, a.maxBody)
	if err != nil {
		a.fail(c, err)
		return
	}
	m, err := bind(in)
	if err != nil {
		a.fail(c, err)
		return
	}
	v, err := a.update(c, id, cond, m)
	if err != nil {
		a.fail(c, err)
		return
	}
	a.sendSession(c, http.StatusOK, v)
}

// update applies m to session id for the caller. The account check runs inside
// the write, on the state being written, so it costs no extra read; a 412 is
// only told to a caller who may see the session.
func (a *api) update(c *gin.Context, id string, cond session.Cond, m session.Mutation) (session.Versioned, error) {
	cl, _ := claimsOf(c)
	ctx := c.Request.Context()
	guarded := func(cur *session.Info, now string) error {
		if !cl.HasAccount(cur.AccountID) {
			return notFound(id)
		}
		return m(cur, now)
	}
	v, err := a.store.Update(ctx, id, cond, cl.Subject, guarded)
	if errors.Is(err, session.ErrVersion) && !cl.AllAccounts() {
		// The version is checked before the mutation runs: make sure the caller
		// may see the session before confirming that it exists.
		if cur, gerr := a.store.Get(ctx, id); gerr == nil && !cl.HasAccount(cur.Info.AccountID) {
			err = notFound(id)
		}
	}
	return v, hideNotFound(err, id)
}

// hideNotFound gives every "not found" the one message of notFound.
func hideNotFound(err error, id string) error {
	if errors.Is(err, session.ErrNotFound) {
		return notFound(id)
	}
	return err
}

// pathID validates the path's session id; on error it has answered c.
func (a *api) pathID(c *gin.Context) (string, bool) {
	id := c.Param("sessionId")
	if err := session.CheckID("SessionId", id, a.limits); err != nil {
		a.fail(c, err)
		return "", false
	}
	return id, true
}

// sendSession answers with a session and its version as the ETag.
func (a *api) sendSession(c *gin.Context, status int, v session.Versioned) {
	setHeader(c, "ETag", etag(v.Version))
	a.writeJSON(c, status, v.Marshal())
}

func etag(version int64) string { return `"` + strconv.FormatInt(version, 10) + `"` }

// maxIfMatchTags bounds the entity tags one If-Match may list.
const maxIfMatchTags = 16

// parseIfMatch reads If-Match: absent or * (the write needs the session to
// exist, which every write does: nil), or the versions of a list of strong
// ETags ("3" or "3", "4", as RFC 9110 allows).
func parseIfMatch(values []string) ([]int64, error) {
	h := strings.TrimSpace(strings.Join(values, ","))
	if h == "" || h == "*" {
		return nil, nil
	}
	var out []int64
	for _, tag := range strings.Split(h, ",") {
		tag = strings.TrimSpace(tag)
		switch {
		case strings.HasPrefix(tag, "W/"):
			return nil, badHeader(`If-Match needs the strong ETag this API sends, such as "3"; a weak W/ tag cannot match a write.`)
		case len(out) == maxIfMatchTags:
			return nil, badHeader("If-Match lists more than %d ETags; send the one you hold.", maxIfMatchTags)
		}
		n, err := int64(0), error(nil)
		if len(tag) >= 3 && tag[0] == '"' && tag[len(tag)-1] == '"' {
			n, err = strconv.ParseInt(tag[1:len(tag)-1], 10, 64)
		}
		if n <= 0 || err != nil {
			return nil, badHeader(`If-Match must be * or ETags as this API sent them, such as "3".`)
		}
		out = append(out, n)
	}
	return out, nil
}

// condFor turns If-Match's versions into a write's condition. One version is
// checked by the store; with several, the one the session is at now is the
// condition if listed (so the store still refuses a change in between), else 412.
func (a *api) condFor(c *gin.Context, id string, versions []int64) (session.Cond, error) {
	switch len(versions) {
	case 0:
		return session.Cond{}, nil
	case 1:
		return session.Cond{Version: versions[0]}, nil
	}
	cl, _ := claimsOf(c)
	cur, err := a.store.Get(c.Request.Context(), id)
	if err == nil && !cl.HasAccount(cur.Info.AccountID) {
		err = notFound(id)
	}
	if err != nil {
		return session.Cond{}, hideNotFound(err, id)
	}
	if !slices.Contains(versions, cur.Version) {
		return session.Cond{}, session.Errorf(session.ErrVersion, "session %s is at version %d, which If-Match does not list: reload it and try again.", id, cur.Version)
	}
	return session.Cond{Version: cur.Version}, nil
}

// ifMatch reads c's If-Match into the condition of a write on session id.
func (a *api) ifMatch(c *gin.Context, id string) (session.Cond, error) {
	versions, err := parseIfMatch(c.Request.Header.Values("If-Match"))
	if err != nil {
		return session.Cond{}, err
	}
	return a.condFor(c, id, versions)
}

// listSessions is GET /sessions.
func (a *api) listSessions(c *gin.Context) {
	cl, _ := claimsOf(c)
	q, none, err := parseListQuery(c.Request.URL.RawQuery, cl)
	if err != nil {
		a.fail(c, err)
		return
	}
	page := session.Page{Items: []session.Versioned{}}
	if !none {
		page, err = a.store.List(c.Request.Context(), q)
		if err != nil {
			a.fail(c, err)
			return
		}
	}
	a.writeJSON(c, http.StatusOK, listBody(page, q))
}

// maxPerPage and maxPage bound a list request.
const (
	defaultPerPage = 25
	maxPerPage     = 1000
	maxPage        = 1_000_000
)

// parseListQuery reads GET /sessions's filters. The accounts are narrowed to
// the token's; none reports that no account is left, so nothing can match.
func parseListQuery(rawQuery string, cl auth.Claims) (q session.Query, none bool, err error) {
	pairs, perr := queryPairs(rawQuery)
	if perr != nil {
		return q, false, newError(errBadRequest, "the query string is malformed: %s", perr)
	}
	vals := map[string][]string{}
	for i := 0; i+1 < len(pairs); i += 2 {
		k := strings.ToLower(pairs[i])
		for _, item := range strings.Split(pairs[i+1], ",") {
			if item = strings.TrimSpace(item); item != "" {
				vals[k] = append(vals[k], item)
			}
		}
	}
	last := func(k string) (string, bool) {
		v := vals[k]
		if len(v) == 0 {
			return "", false
		}
		return v[len(v)-1], true
	}
	verr := &session.ValidationError{}
	q.PerPage = defaultPerPage
	q.SortField = session.SortDateCreated
	q.EndpointIDs = vals["endpointids"]
	q.CallStates = parseEach(vals["callstate"], "CallState", session.ParseCallState, verr)
	q.QueueStates = parseEach(vals["queuestate"], "QueueState", session.ParseQueueState, verr)
	q.Channels = parseEach(vals["channel"], "Channel", session.ParseChannel, verr)
	if s, ok := last("ended"); ok {
		b, err := strconv.ParseBool(s)
		if err != nil {
			verr.Add("Ended", session.CodeInvalid, "'Ended' must be true or false.")
		}
		q.Ended = &b
	}
	if s, ok := last("page"); ok {
		n, ok := pageNumber(s, maxPage)
		if !ok {
			verr.Add("Page", session.CodeInvalid, "'Page' must be a page number from 0 (the first).")
		}
		q.Page = n
	}
	if s, ok := last("countperpage"); ok {
		// As AutoQuery's MaxLimit: more than the maximum is capped, not refused;
		// 0 is an unset int, so the default.
		n, ok := pageNumber(s, maxPerPage)
		if !ok {
			verr.Add("CountPerPage", session.CodeInvalid, "'CountPerPage' must be a number from 1 to %d (default %d).", maxPerPage, defaultPerPage)
		}
		if n == 0 {
			n = defaultPerPage
		}
		q.PerPage = n
	}
	if s, ok := last("sortfield"); ok {
		switch {
		case strings.EqualFold(s, session.SortDateCreated):
			q.SortField = session.SortDateCreated
		case strings.EqualFold(s, session.SortDateLastModified):
			q.SortField = session.SortDateLastModified
		default:
			verr.Add("SortField", session.CodeInvalid, "'SortField' must be dateCreated or dateLastModified.")
		}
	}
	if s, ok := last("sortorder"); ok {
		switch strings.ToLower(s) {
		case "ascend", "ascending", "asc":
			q.Ascending = true
		case "descend", "descending", "desc":
		default:
			verr.Add("SortOrder", session.CodeInvalid, "'SortOrder' must be Ascend or Descend (default Descend).")
		}
	}
	if err := verr.Err(); err != nil {
		return session.Query{}, false, err
	}

	// A viewer sees only its accounts: a filter naming others is narrowed.
	asked := vals["accountids"]
	if slices.Contains(asked, "*") {
		asked = nil // "*" is no account id: it asks for every account the token covers
	}
	switch {
	case cl.AllAccounts():
		q.AccountIDs = asked // nil: every account
	case len(asked) == 0:
		q.AccountIDs = append([]string(nil), cl.Accounts...)
	default:
		for _, acct := range asked {
			if cl.HasAccount(acct) {
				q.AccountIDs = append(q.AccountIDs, acct)
			}
		}
	}
	return q, !cl.AllAccounts() && len(q.AccountIDs) == 0, nil
}

// pageNumber reads a non-negative whole number, capped at max (so a huge one,
// even past int64, is max). ok is false for anything else.
func pageNumber(s string, max int) (n int, ok bool) {
	if s == "" || strings.TrimLeft(s, "0123456789") != "" {
		return 0, false
	}
	n, err := strconv.Atoi(s)
	if err != nil || n > max {
		return max, true // only digits: the error is ErrRange
	}
	return n, true
}

// listBody renders a page as {items, totalCount, totalPages, hasMorePages}.
func listBody(p session.Page, q session.Query) []byte {
	per := q.PerPage
	if per <= 0 {
		per = defaultPerPage
	}
	items := make([]session.Info, len(p.Items))
	for i, v := range p.Items {
		items[i] = v.Info
	}
	return mustMarshal(struct {
		Items        []session.Info `json:"items"`
		TotalCount   int            `json:"totalCount"`
		TotalPages   int            `json:"totalPages"`
		HasMorePages bool           `json:"hasMorePages"`
	}{items, p.Total, (p.Total + per - 1) / per, (q.Page+1)*per < p.Total})
}

// parseEach parses every value of a list filter, recording the first bad one as
// a field error.
func parseEach[T any](vals []string, field string, parse func(string) (T, error), verr *session.ValidationError) []T {
	var out []T
	for _, s := range vals {
		v, err := parse(s)
		if err != nil {
			verr.Add(field, session.CodeEnum, "'%s' is invalid: %s", field, err)
			return out
		}
		out = append(out, v)
	}
	return out
}
