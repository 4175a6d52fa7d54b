package hub

import (
	"bytes"
	"encoding/json"
	"testing"
	"unicode/utf8"
)

// FuzzCommandLine feeds arbitrary client lines through what the reader does
// with them before touching any state: decode the command, recover its id,
// parse its channel, and encode the replies that quote client input. Every reply
// must stay one compact JSON object on one line (frames are split on "\n"), and
// a channel that parses must name itself back exactly.
func FuzzCommandLine(f *testing.F) {
	for _, s := range []string{
		`{"type":"subscribe","id":"1","channel":"account:ACC1"}`,
		`{"type":"subscribe","id":"2","channel":"session:call-1","since":"ab12:1764170504120-0"}`,
		`{"type":"unsubscribe","id":"3","channel":"account:ACC1"}`,
		`{"type":"ping","id":"4"}`,
		`{"type":"refresh","token":"x.y.z"}`,
		`{"type":"subscribe","id":"\n\u2028</script>","channel":"account:\"x"}`,
		`{"type":1}`, `[]`, `null`, `{`, "\xff\xfe", `{"id":{"a":1}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		var cmd command
		_ = json.Unmarshal(line, &cmd)
		id := idOf(line)
		if len(id) > maxCommandID {
			t.Fatalf("idOf kept a %d-character id, want at most %d", len(id), maxCommandID)
		}
		msg := "ok"
		k, err := parseChannel(cmd.Channel, 128)
		if err != nil {
			msg = err.Error()
		} else if k.String() != cmd.Channel {
			t.Fatalf("parseChannel(%q).String() = %q", cmd.Channel, k.String())
		}
		for _, out := range [][]byte{
			encodeError(id, CodeBadRequest, msg),
			encodeError(cmd.ID, CodeBadRequest, "unknown type "+clip(cmd.Type)),
			encodePong(cmd.ID),
			encodeUnsubscribed(cmd.ID, cmd.Channel),
		} {
			if bytes.IndexByte(out, '\n') >= 0 {
				t.Fatalf("reply holds a raw newline: %q", out)
			}
			var m map[string]any
			if err := json.Unmarshal(out, &m); err != nil {
				t.Fatalf("reply is not JSON: %v: %q", err, out)
			}
			if _, ok := m["type"].(string); !ok {
				t.Fatalf("reply has no type: %q", out)
			}
			if utf8.Valid([]byte(cmd.ID)) {
				if got, _ := m["id"].(string); got != cmd.ID && got != id && m["id"] != nil {
					t.Fatalf("reply id = %q, want the command's %q", got, cmd.ID)
				}
			}
		}
	})
}
