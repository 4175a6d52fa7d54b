package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/sessionhub/sessionhub/auth"
	"github.com/sessionhub/sessionhub/memstore"
	"github.com/sessionhub/sessionhub/session"
)

func TestETagAndIfMatch(t *testing.T) {
	e := newEnv(t)
	tok := bearer(e.token(t, auth.RoleService, "A"))
	e.seed(t, "s1", "A")

	r := e.req(t, "GET", "/sessions/s1", "", tok)
	if got := r.header.Get("ETag"); got != `"1"` {
		t.Fatalf("ETag %q, want \"1\"", got)
	}
	r = e.req(t, "PATCH", "/sessions/s1", `{"consoleData":"a"}`, tok, `If-Match: "1"`)
	wantStatus(t, r, 200)
	if got := r.header.Get("ETag"); got != `"2"` {
		t.Errorf("ETag after PATCH %q, want \"2\"", got)
	}
	// A stale If-Match is a 412 and changes nothing.
	r = e.req(t, "PATCH", "/sessions/s1", `{"consoleData":"b"}`, tok, `If-Match: "1"`)
	wantStatus(t, r, 412)
	wantContains(t, r.body, "PreconditionFailed")
	if got := e.get(t, "s1"); got.Version != 2 || got.Info.ConsoleData != "a" {
		t.Errorf("412 changed the session: version %d consoleData %q", got.Version, got.Info.ConsoleData)
	}
	for _, method := range []string{"PUT", "DELETE"} {
		wantStatus(t, e.req(t, method, "/sessions/s1", `{}`, tok, `If-Match: "9"`), 412)
	}
	wantStatus(t, e.req(t, "POST", "/sessions/s1/log", `{"message":"m"}`, tok, `If-Match: "9"`), 412)
	if got := e.get(t, "s1").Version; got != 2 {
		t.Errorf("version %d after refused writes, want 2", got)
	}
	// * needs the session to exist.
	wantStatus(t, e.req(t, "PATCH", "/sessions/s1", `{"consoleData":"c"}`, tok, "If-Match: *"), 200)
	wantStatus(t, e.req(t, "PATCH", "/sessions/none", `{"consoleData":"c"}`, tok, "If-Match: *"), 404)
	// Malformed or weak If-Match is a 400.
	for _, h := range []string{`W/"3"`, `3`, `"x"`, `"0"`, `"-1"`, `"3", W/"4"`, `"3",`, `"`, strings.Repeat(`"1",`, 20) + `"1"`} {
		r = e.req(t, "PATCH", "/sessions/s1", `{"consoleData":"d"}`, tok, "If-Match: "+h)
		if r.status != 400 {
			t.Errorf("If-Match %s: status %d, want 400", h, r.status)
		}
	}
	// A list of ETags (RFC 9110) matches when it names the current version.
	r = e.req(t, "PATCH", "/sessions/s1", `{"consoleData":"e"}`, tok, `If-Match: "1", "2"`)
	wantStatus(t, r, 412)
	wantContains(t, r.body, "PreconditionFailed")
	r = e.req(t, "PATCH", "/sessions/s1", `{"consoleData":"e"}`, tok, `If-Match: "1", "3"`)
	wantStatus(t, r, 200)
	if got := r.header.Get("ETag"); got != `"4"` {
		t.Errorf("ETag after a listed If-Match %q, want \"4\"", got)
	}
	wantStatus(t, e.req(t, "PATCH", "/sessions/none", `{"consoleData":"e"}`, tok, `If-Match: "1", "2"`), 404)
	other := bearer(e.token(t, auth.RoleService, "B"))
	wantStatus(t, e.req(t, "PATCH", "/sessions/s1", `{"consoleData":"e"}`, other, `If-Match: "1", "4"`), 404)
	// DELETE sends the ended version's ETag.
	r = e.req(t, "DELETE", "/sessions/s1", "", tok, `If-Match: "4"`)
	wantStatus(t, r, 204)
	if r.header.Get("ETag") != `"5"` || r.body != "" {
		t.Errorf("DELETE: ETag %q body %q, want \"5\" and no body", r.header.Get("ETag"), r.body)
	}
}

func TestCreate(t *testing.T) {
	e := newEnv(t)
	tok := bearer(e.token(t, auth.RoleService, "A"))

	r := e.req(t, "POST", "/sessions", `{"accountId":"A","members":[{"identity":"x","role":"Caller"}],"log":[{"message":"seeded"}],
		"customerBreadcrumb":[{"id":"c1"}],"dateCreated":"1999-01-01T00:00:00Z","createdBy":"forged"}`, tok)
	wantStatus(t, r, 200)
	var got session.Info
	if err := json.Unmarshal([]byte(r.body), &got); err != nil {
		t.Fatal(err)
	}
	if got.ID != "gen-a" || got.CallState != session.CallRinging || got.CreatedBy != "u-service" || got.DateCreated == "1999-01-01T00:00:00.000Z" ||
		len(got.Members) != 1 || got.Members[0].Role != session.RoleCaller || len(got.Log) != 1 || len(got.CustomerBreadcrumb) != 1 {
		t.Errorf("created %+v", got)
	}
	if r.header.Get("ETag") != `"1"` {
		t.Errorf("ETag %q, want \"1\"", r.header.Get("ETag"))
	}
	// Query and form carry scalar fields; an explicit callState is kept.
	r = e.req(t, "POST", "/sessions?id=q1&displayName=Q", "accountId=A&callState=Connected&channel=Chat&wasMissed=true", tok,
		"Content-Type: application/x-www-form-urlencoded")
	wantStatus(t, r, 200)
	for _, s := range []string{`"id":"q1"`, `"displayName":"Q"`, `"callState":"Connected"`, `"channel":"Chat"`, `"wasMissed":true`} {
		wantContains(t, r.body, s)
	}
	r = e.req(t, "POST", "/sessions", `{"id":"q1","accountId":"A"}`, tok)
	wantStatus(t, r, 409)
	wantContains(t, r.body, `"errorCode":"Conflict"`)
	r = e.req(t, "POST", "/sessions", `{"id":"d1","accountId":"A","callState":"Disconnected"}`, tok)
	wantContains(t, r.body, `"ended":true`)
	r = e.req(t, "POST", "/sessions", `{"id":"bad/id","accountId":"A"}`, tok)
	wantStatus(t, r, 400)
	wantContains(t, r.body, `"fieldName":"Id"`)
}

func TestPutAndLogAndDelete(t *testing.T) {
	e := newEnv(t)
	tok := bearer(e.token(t, auth.RoleService, "A"))
	e.req(t, "POST", "/sessions", `{"id":"s1","accountId":"A","displayName":"D","consoleData":"c"}`, tok)

	r := e.req(t, "PUT", "/sessions/s1", `{"id":"other","accountId":"B","callState":"Connected","members":[{"identity":"m"}],"answeredById":"x"}`, tok)
	wantStatus(t, r, 200)
	for _, s := range []string{`"id":"s1"`, `"accountId":"A"`, `"answeredById":"x"`, `"identity":"m"`} {
		wantContains(t, r.body, s)
	}
	if strings.Contains(r.body, "displayName") || strings.Contains(r.body, "consoleData") {
		t.Errorf("PUT kept fields it omitted: %s", r.body)
	}
	wantStatus(t, e.req(t, "PUT", "/sessions/none", `{}`, tok), 404)

	r = e.req(t, "POST", "/sessions/s1/log?message=from-query", "", tok)
	wantStatus(t, r, 200)
	wantContains(t, r.body, `"message":"from-query"`)

	wantStatus(t, e.req(t, "DELETE", "/sessions/s1", "", tok), 204)
	v := e.get(t, "s1")
	if !v.Info.Ended || v.Info.CallState != session.CallDisconnected || v.Info.DateCompleted == "" {
		t.Errorf("after DELETE: %+v", v.Info)
	}
	wantStatus(t, e.req(t, "DELETE", "/sessions/s1", "", tok), 204)
	if got := e.get(t, "s1").Version; got != v.Version {
		t.Errorf("second DELETE moved the version %d -> %d", v.Version, got)
	}
	// A session created ended in a live call state still deletes idempotently.
	e.req(t, "POST", "/sessions", `{"id":"s2","accountId":"A","ended":true,"callState":"Connected"}`, tok)
	wantStatus(t, e.req(t, "DELETE", "/sessions/s2", "", tok), 204)
}

func TestConcurrentPatchesKeepEveryField(t *testing.T) {
	e := newEnv(t)
	tok := bearer(e.token(t, auth.RoleAgent, "A"))
	e.seed(t, "s1", "A")
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			body := `{"consoleData":"c"}`
			if i%2 == 1 {
				body = `{"queueState":"Queued"}`
			}
			e.req(t, "PATCH", "/sessions/s1", body, tok)
		}()
	}
	wg.Wait()
	if got := e.get(t, "s1").Info; got.ConsoleData != "c" || got.QueueState != session.QueueQueued {
		t.Errorf("a concurrent PATCH was lost: consoleData %q queueState %s", got.ConsoleData, got.QueueState)
	}
}

func TestList(t *testing.T) {
	e := newEnv(t)
	svc := bearer(e.token(t, auth.RoleService, "*"))
	for i := range 5 {
		e.req(t, "POST", "/sessions", fmt.Sprintf(`{"id":"a%d","accountId":"A","endpointId":"e%d","channel":%d}`, i, i%2, i%3), svc)
	}
	e.req(t, "POST", "/sessions", `{"id":"b1","accountId":"B","callState":"Connected"}`, svc)
	e.req(t, "DELETE", "/sessions/a4", "", svc)
	viewerA := bearer(e.token(t, auth.RoleViewer, "A"))

	type page struct {
		Items        []session.Info `json:"items"`
		TotalCount   int            `json:"totalCount"`
		TotalPages   int            `json:"totalPages"`
		HasMorePages bool           `json:"hasMorePages"`
	}
	list := func(q, tok string) (page, resp) {
		t.Helper()
		r := e.req(t, "GET", "/sessions"+q, "", tok)
		var p page
		if r.status == 200 {
			if err := json.Unmarshal([]byte(r.body), &p); err != nil {
				t.Fatal(err)
			}
		}
		return p, r
	}
	ids := func(p page) string {
		var out []string
		for _, s := range p.Items {
			out = append(out, s.ID)
		}
		return strings.Join(out, ",")
	}
	tests := []struct {
		q, tok, want string
		total        int
	}{
		{"", svc, "b1,a4,a3,a2,a1,a0", 6},
		{"?sortOrder=ascend", svc, "a0,a1,a2,a3,a4,b1", 6},
		{"?SORTORDER=Ascend&sortField=DATELASTMODIFIED", svc, "a0,a1,a2,a3,b1,a4", 6},
		{"?accountIds=B", svc, "b1", 1},
		{"", viewerA, "a4,a3,a2,a1,a0", 5},
		{"?accountIds=B", viewerA, "", 0},
		{"?accountIds=A,B", viewerA, "a4,a3,a2,a1,a0", 5},
		{"?accountIds=B&accountIds=A", viewerA, "a4,a3,a2,a1,a0", 5},
		{"?accountIds=*", viewerA, "a4,a3,a2,a1,a0", 5},
		{"?accountIds=*", svc, "b1,a4,a3,a2,a1,a0", 6},
		{"?endpointIds=e1", svc, "a3,a1", 2},
		{"?callState=Connected,Disconnected", svc, "b1,a4", 2},
		{"?callState=1", svc, "a3,a2,a1,a0", 4},
		{"?channel=chat,FAX", svc, "a4,a2,a1", 3},
		{"?ended=true", svc, "a4", 1},
		{"?ended=false&queueState=None", svc, "b1,a3,a2,a1,a0", 5},
		{"?countPerPage=2&page=1&sortOrder=Ascend", svc, "a2,a3", 6},
		{"?countPerPage=2&page=9", svc, "", 6},
	}
	for _, tt := range tests {
		p, r := list(tt.q, tt.tok)
		if r.status != 200 || ids(p) != tt.want || p.TotalCount != tt.total {
			t.Errorf("GET /sessions%s: %d items %q total %d, want %q total %d (%s)", tt.q, r.status, ids(p), p.TotalCount, tt.want, tt.total, r.body)
		}
	}
	p, _ := list("?countPerPage=4", svc)
	if p.TotalPages != 2 || !p.HasMorePages {
		t.Errorf("paging: totalPages %d hasMorePages %v, want 2 true", p.TotalPages, p.HasMorePages)
	}
	p, _ = list("?countPerPage=4&page=1", svc)
	if p.HasMorePages {
		t.Error("the last page says it has more")
	}
	if _, r := list("?accountIds=B", viewerA); !strings.Contains(r.body, `"items":[]`) {
		t.Errorf("empty list body %s, want items: []", r.body)
	}
	// As AutoQuery's MaxLimit, a page size past the maximum is capped, not refused;
	// 0 is the default; a page past the end (however far) is empty.
	for _, tt := range []struct {
		q          string
		per, pages int
		items      int
	}{
		{"?countPerPage=0", 25, 1, 6},
		{"?countPerPage=1001", 1000, 1, 6},
		{"?countPerPage=99999999999999999999999", 1000, 1, 6},
		{"?countPerPage=5&page=99999999999", 5, 2, 0},
		{"?page=99999999999999999999999", 25, 1, 0},
	} {
		p, r := list(tt.q, svc)
		if r.status != 200 || p.TotalPages != tt.pages || len(p.Items) != tt.items || p.HasMorePages {
			t.Errorf("GET /sessions%s: %d, %d items, %d pages, more %v; want 200, %d items, %d pages (%d per page)", tt.q, r.status, len(p.Items), p.TotalPages, p.HasMorePages, tt.items, tt.pages, tt.per)
		}
	}
	for _, q := range []string{"?countPerPage=-1", "?countPerPage=x", "?countPerPage=2.5", "?countPerPage=%2B3", "?page=-1", "?page=x", "?page=1e3",
		"?sortField=name", "?sortOrder=up", "?callState=Dancing", "?queueState=9", "?channel=Pigeon", "?ended=maybe"} {
		if _, r := list(q, svc); r.status != 400 || !strings.Contains(r.body, `"fieldName"`) {
			t.Errorf("GET /sessions%s: %d %s, want a 400 naming the field", q, r.status, r.body)
		}
	}
}

// faultStore fails every call with err.
type faultStore struct {
	session.Store
	err error
}

func (f faultStore) Get(context.Context, string) (session.Versioned, error) {
	return session.Versioned{}, f.err
}
func (f faultStore) List(context.Context, session.Query) (session.Page, error) {
	return session.Page{}, f.err
}
func (f faultStore) Create(context.Context, session.Info) (session.Versioned, error) {
	return session.Versioned{}, f.err
}
func (f faultStore) Update(context.Context, string, session.Cond, string, session.Mutation) (session.Versioned, error) {
	return session.Versioned{}, f.err
}

func TestStoreFailures(t *testing.T) {
	unavailable := fmt.Errorf("redisstore: get s1: %w: dial tcp 10.1.2.3:6379: connection refused", session.ErrUnavailable)
	internal := errors.New("redisstore: script NOSCRIPT at 10.1.2.3:6379 secret-detail")
	for _, tt := range []struct {
		err    error
		status int
	}{{unavailable, 503}, {internal, 500}} {
		e := newEnv(t, func(c *Config) { c.Store = faultStore{Store: c.Store, err: tt.err} })
		tok := bearer(e.token(t, auth.RoleService, "*"))
		for _, rq := range []struct{ method, path, body string }{
			{"GET", "/sessions/s1", ""}, {"GET", "/sessions", ""}, {"POST", "/sessions", `{"accountId":"A"}`},
			{"PATCH", "/sessions/s1", `{}`}, {"PUT", "/sessions/s1", `{}`}, {"POST", "/sessions/s1/log", `{"message":"m"}`}, {"DELETE", "/sessions/s1", ""},
		} {
			r := e.req(t, rq.method, rq.path, rq.body, tok)
			if r.status != tt.status {
				t.Errorf("%s %s with %v: status %d, want %d", rq.method, rq.path, tt.err, r.status, tt.status)
			}
			if strings.Contains(r.body, "10.1.2.3") || strings.Contains(r.body, "secret-detail") {
				t.Errorf("%s %s: body shows internals: %s", rq.method, rq.path, r.body)
			}
			if tt.status == 503 && r.header.Get("Retry-After") != "1" {
				t.Errorf("%s %s: 503 Retry-After %q, want 1", rq.method, rq.path, r.header.Get("Retry-After"))
			}
			if tt.status == 500 {
				wantContains(t, r.body, "internal error (request id "+r.header.Get("X-Request-Id")+")")
			}
		}
		if tt.status == 500 {
			wantContains(t, e.logs.String(), "secret-detail")
		}
	}
}

// BenchmarkPatchHandler measures one PATCH through the whole handler (routing,
// auth, binding, memstore write, encoding), without a network.
func BenchmarkPatchHandler(b *testing.B) {
	authn, _ := auth.New(auth.Config{Secret: testSecret})
	store := memstore.New(memstore.Config{})
	defer store.Close()
	h := New(Config{Store: store, Auth: authn, Logger: discardLogger()})
	s, _ := session.New(session.Info{ID: "s1", AccountID: "A", CallState: session.CallConnected}, "u", nowForBench(), session.Limits{})
	if _, err := store.Create(context.Background(), s); err != nil {
		b.Fatal(err)
	}
	tok := (&testEnv{}).token(b, auth.RoleAgent, "A")
	// consoleData only: a state move would grow the session's log to 200 entries and
	// measure the encoding of that log rather than the handler.
	bodies := []string{`{"consoleData":"a"}`, `{"consoleData":"b"}`}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		r := httptest.NewRequest(http.MethodPatch, "/sessions/s1", strings.NewReader(bodies[i%2]))
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set("Authorization", "Bearer "+tok)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != 200 {
			b.Fatalf("status %d: %s", w.Code, w.Body)
		}
	}
}
