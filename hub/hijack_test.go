package hub

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sessionhub/sessionhub/memstore"
)

// maskedText builds one masked client text frame of payload (< 126 bytes).
func maskedText(tb testing.TB, payload string) []byte {
	tb.Helper()
	if len(payload) >= 126 {
		tb.Fatalf("maskedText: payload of %d bytes needs an extended length", len(payload))
	}
	key := [4]byte{0x12, 0x34, 0x56, 0x78}
	b := []byte{0x81, 0x80 | byte(len(payload)), key[0], key[1], key[2], key[3]}
	for i := 0; i < len(payload); i++ {
		b = append(b, payload[i]^key[i%4])
	}
	return b
}

// readServerFrame reads one unmasked, unfragmented server frame's payload.
func readServerFrame(tb testing.TB, r *bufio.Reader) (opcode byte, payload []byte) {
	tb.Helper()
	var h [2]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		tb.Fatalf("reading a frame header: %v", err)
	}
	n := int(h[1] & 0x7f)
	switch n {
	case 126:
		var ext [2]byte
		if _, err := io.ReadFull(r, ext[:]); err != nil {
			tb.Fatal(err)
		}
		n = int(ext[0])<<8 | int(ext[1])
	case 127:
		tb.Fatal("readServerFrame: frame too large for this test")
	}
	payload = make([]byte, n)
	if _, err := io.ReadFull(r, payload); err != nil {
		tb.Fatalf("reading a frame payload: %v", err)
	}
	return h[0] & 0x0f, payload
}

// TestUpgradeKeepsReadAheadBytes sends the upgrade request and the first
// command in one TCP write, so net/http has read the command's frame along
// with the headers when the connection is hijacked. Those bytes must reach
// the WebSocket reader: losing even one turns the frame into garbage (the
// server then closes with 1002, or waits forever for the rest).
func TestUpgradeKeepsReadAheadBytes(t *testing.T) {
	st := memstore.New(memstore.Config{})
	t.Cleanup(func() { st.Close() })
	env := newEnv(t, st, testConfig())

	nc, err := net.Dial("tcp", strings.TrimPrefix(env.srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	_ = nc.SetDeadline(time.Now().Add(10 * time.Second))

	var req bytes.Buffer
	req.WriteString("GET /ws HTTP/1.1\r\nHost: " + strings.TrimPrefix(env.srv.URL, "http://") + "\r\n")
	req.WriteString("Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n")
	req.WriteString("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n")
	req.WriteString("Authorization: Bearer " + token(t, "u1", []string{"A"}, time.Hour) + "\r\n\r\n")
	req.Write(maskedText(t, `{"type":"ping","id":"early"}`))
	if _, err := nc.Write(req.Bytes()); err != nil {
		t.Fatal(err)
	}

	br := bufio.NewReader(nc)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("reading the upgrade response: %v", err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("got status %d, want 101", resp.StatusCode)
	}
	var got []string
	for len(got) < 2 {
		op, p := readServerFrame(t, br)
		if op == 0x8 {
			t.Fatalf("server closed the connection: % x (messages so far %q)", p, got)
		}
		if op != 0x1 {
			continue
		}
		got = append(got, strings.Split(string(p), "\n")...)
	}
	if !strings.Contains(got[0], `"type":"welcome"`) || got[1] != `{"type":"pong","id":"early"}` {
		t.Fatalf("got messages %q, want welcome then the pong of the command sent with the upgrade", got)
	}
}
