package storetest

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sessionhub/sessionhub/session"
)

// ids lists a page's session ids, for messages and comparisons.
func ids(p session.Page) string {
	out := make([]string, len(p.Items))
	for k, v := range p.Items {
		out[k] = v.Info.ID
	}
	return strings.Join(out, ",")
}

// testListFilters: each filter of GET /sessions, alone and combined.
func testListFilters(t *testing.T, e *env) {
	for _, in := range []session.Info{
		{ID: "s1", AccountID: "A1", EndpointID: "E1", CallState: session.CallRinging, QueueState: session.QueueQueued, Channel: session.ChannelVoice},
		{ID: "s2", AccountID: "A1", EndpointID: "E2", CallState: session.CallConnected, QueueState: session.QueueConnected, Channel: session.ChannelChat},
		{ID: "s3", AccountID: "A1", EndpointID: "E3", CallState: session.CallRinging, Channel: session.ChannelFax},
		{ID: "s4", AccountID: "A2", EndpointID: "E1", CallState: session.CallRinging, Channel: session.ChannelVoice},
		{ID: "s5", AccountID: "A3", EndpointID: "E2", CallState: session.CallConnected, Channel: session.ChannelChat},
	} {
		e.create(t, in)
		e.clock.Advance(time.Second)
	}
	ended := e.update(t, "s3", "svc", session.End())
	yes, no := true, false
	for _, tc := range []struct {
		name string
		q    session.Query
		want string
	}{
		{"one account", session.Query{AccountIDs: []string{"A1"}}, "s3,s2,s1"},
		{"two accounts", session.Query{AccountIDs: []string{"A1", "A2"}}, "s4,s3,s2,s1"},
		{"every account", session.Query{}, "s5,s4,s3,s2,s1"},
		{"no account", session.Query{AccountIDs: []string{}}, ""},
		{"unknown account", session.Query{AccountIDs: []string{"Z"}}, ""},
		{"endpoint", session.Query{EndpointIDs: []string{"E1"}}, "s4,s1"},
		{"endpoints in an account", session.Query{AccountIDs: []string{"A1"}, EndpointIDs: []string{"E1", "E3"}}, "s3,s1"},
		{"callState", session.Query{CallStates: []session.CallState{session.CallConnected}}, "s5,s2"},
		{"callStates", session.Query{CallStates: []session.CallState{session.CallRinging, session.CallDisconnected}}, "s4,s3,s1"},
		{"queueState", session.Query{QueueStates: []session.QueueState{session.QueueQueued}}, "s1"},
		{"channel", session.Query{Channels: []session.Channel{session.ChannelChat}}, "s5,s2"},
		{"channels", session.Query{Channels: []session.Channel{session.ChannelFax, session.ChannelVoice}}, "s4,s3,s1"},
		{"ended", session.Query{Ended: &yes}, "s3"},
		{"not ended", session.Query{Ended: &no}, "s5,s4,s2,s1"},
		{"combined", session.Query{AccountIDs: []string{"A1", "A3"}, Ended: &no, Channels: []session.Channel{session.ChannelChat, session.ChannelVoice}, CallStates: []session.CallState{session.CallRinging}}, "s1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := e.b.List(testCtx(t), tc.q)
			if err != nil {
				t.Fatalf("List(%+v): %v", tc.q, err)
			}
			if got := ids(p); got != tc.want {
				t.Fatalf("List(%+v): got [%s], want [%s]", tc.q, got, tc.want)
			}
			if p.Total != len(p.Items) {
				t.Fatalf("List(%+v): got total %d, want %d", tc.q, p.Total, len(p.Items))
			}
		})
	}
	p, err := e.b.List(testCtx(t), session.Query{Ended: &yes})
	if err != nil || len(p.Items) != 1 {
		t.Fatalf("List(ended): %v %v", p, err)
	}
	if got := p.Items[0]; got.Version != ended.Version {
		t.Fatalf("listed ended session: got version %d, want %d", got.Version, ended.Version)
	}
	equalInfo(t, "listed ended session", p.Items[0].Info, ended.Info)
}

// testListPaging: 0-based pages, totals, default page size, both sort fields
// in both orders.
func testListPaging(t *testing.T, e *env) {
	const n = 7
	for i := range n {
		e.create(t, session.Info{ID: fmt.Sprintf("s%d", i), AccountID: "A1"})
		e.clock.Advance(time.Second)
	}
	// Touch sessions so dateLastModified orders them 3, 5, 0 last.
	for _, id := range []string{"s3", "s5", "s0"} {
		e.patch(t, id, "u", session.Patch{ConsoleData: ptr("touched")})
		e.clock.Advance(time.Second)
	}
	acct := []string{"A1"}
	for _, tc := range []struct {
		name  string
		q     session.Query
		want  string
		total int
	}{
		{"first page", session.Query{AccountIDs: acct, PerPage: 3}, "s6,s5,s4", n},
		{"second page", session.Query{AccountIDs: acct, PerPage: 3, Page: 1}, "s3,s2,s1", n},
		{"last page", session.Query{AccountIDs: acct, PerPage: 3, Page: 2}, "s0", n},
		{"past the end", session.Query{AccountIDs: acct, PerPage: 3, Page: 3}, "", n},
		{"default page size", session.Query{AccountIDs: acct}, "s6,s5,s4,s3,s2,s1,s0", n},
		{"ascending", session.Query{AccountIDs: acct, PerPage: 3, Ascending: true}, "s0,s1,s2", n},
		{"dateCreated descending", session.Query{AccountIDs: acct, SortField: session.SortDateCreated, PerPage: 2, Page: 1}, "s4,s3", n},
		{"dateLastModified descending", session.Query{AccountIDs: acct, SortField: session.SortDateLastModified}, "s0,s5,s3,s6,s4,s2,s1", n},
		{"dateLastModified ascending", session.Query{AccountIDs: acct, SortField: session.SortDateLastModified, Ascending: true, PerPage: 4}, "s1,s2,s4,s6", n},
		{"filtered total", session.Query{AccountIDs: acct, CallStates: []session.CallState{session.CallConnected}}, "", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := e.b.List(testCtx(t), tc.q)
			if err != nil {
				t.Fatalf("List(%+v): %v", tc.q, err)
			}
			if got := ids(p); got != tc.want || p.Total != tc.total {
				t.Fatalf("List(%+v): got [%s] total %d, want [%s] total %d", tc.q, got, p.Total, tc.want, tc.total)
			}
			if p.Items == nil {
				t.Fatalf("List(%+v): got nil Items, want an empty slice (it encodes as [])", tc.q)
			}
		})
	}
	p, err := e.b.List(testCtx(t), session.Query{AccountIDs: acct, SortField: session.SortDateLastModified, PerPage: 1})
	if err != nil || len(p.Items) != 1 || p.Items[0].Version != 2 || p.Items[0].Info.ConsoleData != "touched" {
		t.Fatalf("List item: got %+v err %v, want s0 at version 2 with its consoleData", p.Items, err)
	}
}
