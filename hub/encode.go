package hub

import (
	"bytes"
	"encoding/json"
	"strconv"
	"unicode/utf8"

	"github.com/sessionhub/sessionhub/session"
)

// The server's messages are built by appending to a byte slice rather than by
// encoding/json: an update is encoded once per channel and its bytes shared by
// every subscriber, and the session's stored JSON is spliced in as it is.

// appendString appends s as a JSON string, escaping as encoding/json does
// (HTML characters excepted: these messages are never embedded in markup).
func appendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	dst = appendStringBody(dst, s)
	return append(dst, '"')
}

// appendStringBody appends s escaped for a JSON string, without the quotes.
func appendStringBody(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		// U+2028 and U+2029 end lines in JavaScript source; escape them as
		// encoding/json does so a message is safe anywhere.
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hex[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	return append(dst, s[start:]...)
}

// appendChannel appends the channel's name as a JSON string.
func appendChannel(dst []byte, k chanKey) []byte {
	// Ids are validated to [A-Za-z0-9._:@-] before a channel exists, so the
	// name needs no escaping; appendString keeps that true for any input.
	dst = append(dst, '"')
	dst = append(dst, k.prefix()...)
	dst = appendStringBody(dst, k.id)
	return append(dst, '"')
}

// compactJSON returns raw without newlines: messages of a frame are separated
// by "\n", so a stored session must not carry one outside a string (inside a
// string JSON escapes it). Stores write compact JSON; this is a guard.
func compactJSON(raw json.RawMessage) json.RawMessage {
	if len(raw) == 0 {
		return json.RawMessage("null")
	}
	if bytes.IndexByte(raw, '\n') < 0 && bytes.IndexByte(raw, '\r') < 0 {
		return raw
	}
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		return json.RawMessage("null")
	}
	return b.Bytes()
}

// encodeUpdate builds one `update` message for channel k. It allocates once:
// the returned slice is what every subscriber of the channel is sent.
func encodeUpdate(k chanKey, e *session.Event) []byte {
	raw := compactJSON(e.Session)
	n := 96 + len(k.id) + len(e.Offset) + len(raw)
	for _, c := range e.Changed {
		n += len(c) + 3
	}
	b := make([]byte, 0, n)
	b = append(b, `{"type":"update","channel":`...)
	b = appendChannel(b, k)
	b = append(b, `,"offset":`...)
	b = appendString(b, e.Offset)
	b = append(b, `,"version":`...)
	b = strconv.AppendInt(b, e.Version, 10)
	b = append(b, `,"changed":[`...)
	for i, c := range e.Changed {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, c)
	}
	b = append(b, `],"session":`...)
	b = append(b, raw...)
	return append(b, '}')
}

// encodeSnapshot builds one `snapshot` message for channel k.
func encodeSnapshot(k chanKey, s session.Snapshot) []byte {
	n := 64 + len(k.id) + len(s.Offset)
	for _, e := range s.Sessions {
		n += len(e.Session) + 40
	}
	b := make([]byte, 0, n)
	b = append(b, `{"type":"snapshot","channel":`...)
	b = appendChannel(b, k)
	b = append(b, `,"offset":`...)
	b = appendString(b, s.Offset)
	b = append(b, `,"sessions":[`...)
	for i, e := range s.Sessions {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"version":`...)
		b = strconv.AppendInt(b, e.Version, 10)
		b = append(b, `,"session":`...)
		b = append(b, compactJSON(e.Session)...)
		b = append(b, '}')
	}
	return append(b, "]}"...)
}

// encodeSubscribed builds the reply to a subscribe.
func encodeSubscribed(id string, k chanKey, recovered bool) []byte {
	b := make([]byte, 0, 64+len(id)+len(k.id))
	b = append(b, `{"type":"subscribed","id":`...)
	b = appendString(b, id)
	b = append(b, `,"channel":`...)
	b = appendChannel(b, k)
	b = append(b, `,"recovered":`...)
	b = strconv.AppendBool(b, recovered)
	return append(b, '}')
}

// encodeUnsubscribed builds the reply to an unsubscribe.
func encodeUnsubscribed(id string, channel string) []byte {
	b := make([]byte, 0, 48+len(id)+len(channel))
	b = append(b, `{"type":"unsubscribed","id":`...)
	b = appendString(b, id)
	b = append(b, `,"channel":`...)
	b = appendString(b, channel)
	return append(b, '}')
}

// encodePong builds the reply to a ping.
func encodePong(id string) []byte {
	b := make([]byte, 0, 24+len(id))
	b = append(b, `{"type":"pong","id":`...)
	b = appendString(b, id)
	return append(b, '}')
}

// encodeError builds an error reply; code is one of the Code constants.
func encodeError(id, code, msg string) []byte {
	b := make([]byte, 0, 48+len(id)+len(code)+len(msg))
	b = append(b, `{"type":"error","id":`...)
	b = appendString(b, id)
	b = append(b, `,"code":`...)
	b = appendString(b, code)
	b = append(b, `,"message":`...)
	b = appendString(b, msg)
	return append(b, '}')
}

// encodeWelcome builds the first message of a connection.
func encodeWelcome(connID, userID string, accounts []string, heartbeatSeconds int) []byte {
	b := make([]byte, 0, 96+len(connID)+len(userID))
	b = append(b, `{"type":"welcome","connectionId":`...)
	b = appendString(b, connID)
	b = append(b, `,"userId":`...)
	b = appendString(b, userID)
	b = append(b, `,"accounts":[`...)
	for i, a := range accounts {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, a)
	}
	b = append(b, `],"heartbeatSeconds":`...)
	b = strconv.AppendInt(b, int64(heartbeatSeconds), 10)
	return append(b, '}')
}
