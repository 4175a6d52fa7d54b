package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

const sampleUpdate = `{"type":"update","channel":"account:A1","offset":"e1:1700000000000-3","version":7,"changed":["consoleData"],"session":{"dialState":"None","callState":"Ringing","queueState":"None","accountId":"A1","customerBreadcrumb":[{"id":"crumb","name":"x"}],"channel":"Voice","ended":false,"consoleData":"{\"type\":\"snapshot\",\"version\":99,\"id\":\"evil\"}","holdReason":"None","log":[{"date":"2026-01-01T00:00:00.000Z","message":"callState Ringing -> Hold"}],"members":[{"identity":"id","isOriginalMember":true,"callState":"None","role":"Agent"}],"direction":"Incoming","wasMissed":false,"id":"S-1","dateCreated":"2026-01-01T00:00:00.000Z"}}`

func TestParseHeader(t *testing.T) {
	tests := []struct {
		name    string
		msg     string
		want    header
		wantErr bool
	}{
		{
			name: "update with decoys in nested fields and consoleData",
			msg:  sampleUpdate,
			want: header{Type: []byte("update"), Version: 7, HasVersion: true, Offset: []byte("e1:1700000000000-3"), SessionID: []byte("S-1")},
		},
		{
			name: "fields in another order with spaces",
			msg:  ` { "session" : { "id" : "S-2" } , "version" : 12 , "type" : "update" , "offset" : "o" } `,
			want: header{Type: []byte("update"), Version: 12, HasVersion: true, Offset: []byte("o"), SessionID: []byte("S-2")},
		},
		{
			name: "welcome has no version",
			msg:  `{"type":"welcome","connectionId":"c1","userId":"u","accounts":["A1"],"heartbeatSeconds":25}`,
			want: header{Type: []byte("welcome")},
		},
		{
			name: "escaped strings are decoded",
			msg:  `{"type":"upd\u0061te","offset":"a\"b","version":1,"session":{"id":"S\/3"}}`,
			want: header{Type: []byte("update"), Version: 1, HasVersion: true, Offset: []byte(`a"b`), SessionID: []byte("S/3")},
		},
		{
			name: "escaped key is matched by its value",
			msg:  `{"typ\u0065":"pong"}`,
			want: header{Type: []byte("pong")},
		},
		{
			name: "last duplicate wins",
			msg:  `{"type":"pong","type":"update","version":1,"version":2}`,
			want: header{Type: []byte("update"), Version: 2, HasVersion: true},
		},
		{
			name: "backslash before a closing quote",
			msg:  `{"consoleData":"x\\","type":"update","version":3,"session":{"id":"S"}}`,
			want: header{Type: []byte("update"), Version: 3, HasVersion: true, SessionID: []byte("S")},
		},
		{name: "empty object", msg: `{}`, want: header{}},
		{name: "not an object", msg: `[1,2]`, wantErr: true},
		{name: "empty", msg: ``, wantErr: true},
		{name: "truncated", msg: sampleUpdate[:len(sampleUpdate)-5], wantErr: true},
		{name: "unterminated string", msg: `{"type":"upd`, wantErr: true},
		{name: "fractional version", msg: `{"type":"update","version":1.5}`, wantErr: true},
		{name: "string version", msg: `{"type":"update","version":"1"}`, wantErr: true},
		{name: "numeric type", msg: `{"type":1}`, wantErr: true},
		{name: "trailing garbage", msg: `{"type":"update"} x`, wantErr: true},
		{name: "missing colon", msg: `{"type" "update"}`, wantErr: true},
		{name: "unbalanced nesting", msg: `{"session":{"id":"S"]}`, wantErr: true},
		{name: "huge version", msg: `{"version":99999999999999999999}`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseHeader([]byte(tt.msg))
			if tt.wantErr {
				if err == nil {
					t.Fatalf("parseHeader(%q) = %+v, want an error", tt.msg, got)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseHeader(%q): %v", tt.msg, err)
			}
			if !sameHeader(got, tt.want) {
				t.Errorf("parseHeader(%q)\n got %s\nwant %s", tt.msg, fmtHeader(got), fmtHeader(tt.want))
			}
		})
	}
}

func TestSplitFrame(t *testing.T) {
	tests := []struct {
		frame string
		want  []string
	}{
		{"", nil},
		{"\n", nil},
		{`{"a":1}`, []string{`{"a":1}`}},
		{"{\"a\":1}\n{\"b\":2}", []string{`{"a":1}`, `{"b":2}`}},
		{"{\"a\":1}\n\n{\"b\":2}\n", []string{`{"a":1}`, `{"b":2}`}},
		{"{\"a\":\"x\\ny\"}\n{}", []string{`{"a":"x\ny"}`, `{}`}}, // an escaped \n is not a separator
	}
	for _, tt := range tests {
		var got []string
		err := splitFrame([]byte(tt.frame), func(m []byte) error {
			got = append(got, string(m))
			return nil
		})
		if err != nil {
			t.Fatalf("splitFrame(%q): %v", tt.frame, err)
		}
		if strings.Join(got, "|") != strings.Join(tt.want, "|") || len(got) != len(tt.want) {
			t.Errorf("splitFrame(%q) = %q, want %q", tt.frame, got, tt.want)
		}
	}
}

func TestSplitFrameStopsAtError(t *testing.T) {
	stop := errors.New("stop")
	n := 0
	err := splitFrame([]byte("{}\n{}\n{}"), func([]byte) error {
		n++
		return stop
	})
	if !errors.Is(err, stop) || n != 1 {
		t.Errorf("splitFrame returned %v after %d calls, want the callback's error after 1", err, n)
	}
}

func TestParseHeaderDoesNotAllocate(t *testing.T) {
	msg := []byte(sampleUpdate)
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := parseHeader(msg); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("parseHeader allocates %.0f times per update, want 0 (it is the per-delivery hot path)", allocs)
	}
}

func BenchmarkParseHeader(b *testing.B) {
	msg := []byte(sampleUpdate)
	b.ReportAllocs()
	b.SetBytes(int64(len(msg)))
	for b.Loop() {
		if _, err := parseHeader(msg); err != nil {
			b.Fatal(err)
		}
	}
}

// FuzzParseHeader checks the fast parser against encoding/json on every valid
// JSON object, and that it never panics on anything else.
func FuzzParseHeader(f *testing.F) {
	f.Add([]byte(sampleUpdate))
	f.Add([]byte(`{"type":"welcome","connectionId":"c1","accounts":["A1"]}`))
	f.Add([]byte(`{"type":"snapshot","channel":"account:A","offset":"e:1-0","sessions":[{"version":1,"session":{"id":"S"}}]}`))
	f.Add([]byte(`{"typ\u0065":"upd\"ate","version":-0,"session":{"id":"\\"}}`))
	f.Add([]byte("{\"a\":1}\n{\"type\":\"update\"}"))
	f.Fuzz(func(t *testing.T, frame []byte) {
		_ = splitFrame(frame, func(msg []byte) error {
			got, err := parseHeader(msg)
			if !json.Valid(msg) || !utf8.Valid(msg) {
				return nil // only must not panic
			}
			want, wantErr := referenceHeader(msg)
			if wantErr != nil {
				if err == nil {
					t.Fatalf("parseHeader(%q) = %s, want an error (%v)", msg, fmtHeader(got), wantErr)
				}
				return nil
			}
			if err != nil {
				t.Fatalf("parseHeader(%q): %v, want %s", msg, err, fmtHeader(want))
			}
			if !sameHeader(got, want) {
				t.Fatalf("parseHeader(%q)\n got %s\nwant %s", msg, fmtHeader(got), fmtHeader(want))
			}
			return nil
		})
	})
}

// referenceHeader decodes msg with encoding/json into what parseHeader must
// return, or an error where parseHeader must fail.
func referenceHeader(msg []byte) (header, error) {
	var h header
	var top map[string]json.RawMessage
	if err := json.Unmarshal(msg, &top); err != nil {
		return h, err
	}
	str := func(raw json.RawMessage) ([]byte, error) {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil || raw[0] != '"' {
			return nil, errMalformed
		}
		return []byte(s), nil
	}
	var err error
	if raw, ok := top["type"]; ok {
		if h.Type, err = str(raw); err != nil {
			return h, err
		}
	}
	if raw, ok := top["offset"]; ok {
		if h.Offset, err = str(raw); err != nil {
			return h, err
		}
	}
	if raw, ok := top["version"]; ok {
		if h.Version, err = strconv.ParseInt(string(raw), 10, 64); err != nil {
			return h, err
		}
		h.HasVersion = true
	}
	if raw, ok := top["session"]; ok && raw[0] == '{' {
		var s map[string]json.RawMessage
		if err := json.Unmarshal(raw, &s); err != nil {
			return h, err
		}
		if id, ok := s["id"]; ok {
			if h.SessionID, err = str(id); err != nil {
				return h, err
			}
		}
	}
	return h, nil
}

func sameHeader(a, b header) bool {
	return bytes.Equal(a.Type, b.Type) && a.Version == b.Version && a.HasVersion == b.HasVersion &&
		bytes.Equal(a.Offset, b.Offset) && bytes.Equal(a.SessionID, b.SessionID)
}

func fmtHeader(h header) string {
	return "{type=" + strconv.Quote(string(h.Type)) + " version=" + strconv.FormatInt(h.Version, 10) +
		" hasVersion=" + strconv.FormatBool(h.HasVersion) + " offset=" + strconv.Quote(string(h.Offset)) +
		" session=" + strconv.Quote(string(h.SessionID)) + "}"
}
