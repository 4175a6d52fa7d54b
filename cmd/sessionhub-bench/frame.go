package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
)

// splitFrame calls fn for each message of a text frame. DESIGN §3: a frame
// carries one or more compact JSON messages separated by "\n"; empty pieces
// (a trailing newline) are skipped. It stops at the first error fn returns.
func splitFrame(frame []byte, fn func(msg []byte) error) error {
	for len(frame) > 0 {
		var msg []byte
		if i := bytes.IndexByte(frame, '\n'); i >= 0 {
			msg, frame = frame[:i], frame[i+1:]
		} else {
			msg, frame = frame, nil
		}
		if len(bytes.TrimSpace(msg)) == 0 {
			continue
		}
		if err := fn(msg); err != nil {
			return err
		}
	}
	return nil
}

// header is what the bench needs of one server message, read without decoding
// the session. The byte slices point into the message (valid until the frame
// buffer is reused); strings that contained escapes are unescaped into fresh
// memory, which the server's own ids and offsets never need.
type header struct {
	Type       []byte // "update", "snapshot", ...
	Version    int64
	HasVersion bool
	Offset     []byte // the offset string's value
	SessionID  []byte // session.id
}

var errMalformed = errors.New("malformed message")

// parseHeader reads the top-level "type", "version" and "offset" of a message
// and the "id" of its top-level "session" object, skipping everything else
// without decoding it. Keys are matched exactly (as a JSON decoder into a map
// would) and only at their own nesting level, so a member's or a breadcrumb's
// "id", or text inside consoleData, can never be mistaken for them. When a key
// repeats, the last one wins, as in encoding/json. It never panics; on input
// that is not a JSON object it returns errMalformed.
func parseHeader(msg []byte) (header, error) {
	var h header
	i := skipSpace(msg, 0)
	if i >= len(msg) || msg[i] != '{' {
		return h, errMalformed
	}
	i, err := scanObject(msg, i, func(key []byte, v []byte) error {
		switch string(key) {
		case "type":
			s, err := stringValue(v)
			if err != nil {
				return err
			}
			h.Type = s
		case "version":
			n, err := strconv.ParseInt(string(v), 10, 64)
			if err != nil {
				return errMalformed
			}
			h.Version, h.HasVersion = n, true
		case "offset":
			s, err := stringValue(v)
			if err != nil {
				return err
			}
			h.Offset = s
		case "session":
			if len(v) == 0 || v[0] != '{' {
				h.SessionID = nil
				return nil
			}
			var id []byte
			_, err := scanObject(v, 0, func(k, sv []byte) error {
				if string(k) == "id" {
					s, err := stringValue(sv)
					if err != nil {
						return err
					}
					id = s
				}
				return nil
			})
			if err != nil {
				return err
			}
			h.SessionID = id
		}
		return nil
	})
	if err != nil {
		return header{}, err
	}
	if skipSpace(msg, i) != len(msg) {
		return header{}, errMalformed
	}
	return h, nil
}

// scanObject walks the object that starts at b[i] ('{'), calling fn with each
// key (unescaped) and its raw value, and returns the index after the '}'.
func scanObject(b []byte, i int, fn func(key, val []byte) error) (int, error) {
	i++ // '{'
	i = skipSpace(b, i)
	if i < len(b) && b[i] == '}' {
		return i + 1, nil
	}
	for {
		i = skipSpace(b, i)
		if i >= len(b) || b[i] != '"' {
			return 0, errMalformed
		}
		end, err := skipString(b, i)
		if err != nil {
			return 0, err
		}
		key, err := stringValue(b[i:end])
		if err != nil {
			return 0, err
		}
		i = skipSpace(b, end)
		if i >= len(b) || b[i] != ':' {
			return 0, errMalformed
		}
		i = skipSpace(b, i+1)
		vend, err := skipValue(b, i)
		if err != nil {
			return 0, err
		}
		if err := fn(key, b[i:vend]); err != nil {
			return 0, err
		}
		i = skipSpace(b, vend)
		if i >= len(b) {
			return 0, errMalformed
		}
		switch b[i] {
		case ',':
			i++
		case '}':
			return i + 1, nil
		default:
			return 0, errMalformed
		}
	}
}

// skipValue returns the index just after the JSON value that starts at b[i].
func skipValue(b []byte, i int) (int, error) {
	if i >= len(b) {
		return 0, errMalformed
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		return skipNested(b, i)
	}
	// A number or a literal: it runs up to the next delimiter.
	j := i
	for j < len(b) {
		switch b[j] {
		case ',', '}', ']', ' ', '\t', '\r', '\n':
			if j == i {
				return 0, errMalformed
			}
			return j, nil
		case '"', '{', '[', ':':
			return 0, errMalformed
		}
		j++
	}
	if j == i {
		return 0, errMalformed
	}
	return j, nil
}

// skipNested returns the index after the object or array that starts at b[i],
// counting brackets outside strings.
func skipNested(b []byte, i int) (int, error) {
	depth := 0
	for i < len(b) {
		switch b[i] {
		case '"':
			end, err := skipString(b, i)
			if err != nil {
				return 0, err
			}
			i = end
			continue
		case '{', '[':
			depth++
		case '}', ']':
			depth--
			if depth == 0 {
				return i + 1, nil
			}
			if depth < 0 {
				return 0, errMalformed
			}
		}
		i++
	}
	return 0, errMalformed
}

// skipString returns the index after the closing quote of the string that
// starts at b[i]. It jumps from quote to quote (bytes.IndexByte is vectorised)
// and treats a quote preceded by an odd number of backslashes as escaped.
func skipString(b []byte, i int) (int, error) {
	j := i + 1
	for {
		k := bytes.IndexByte(b[j:], '"')
		if k < 0 {
			return 0, errMalformed
		}
		q := j + k
		n := 0
		for p := q - 1; p > i && b[p] == '\\'; p-- {
			n++
		}
		if n%2 == 0 {
			return q + 1, nil
		}
		j = q + 1
	}
}

// stringValue returns the contents of a raw JSON string (quotes included in
// raw). Without escapes it is a subslice; with them it is decoded.
func stringValue(raw []byte) ([]byte, error) {
	if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' {
		return nil, errMalformed
	}
	inner := raw[1 : len(raw)-1]
	if bytes.IndexByte(inner, '\\') < 0 {
		return inner, nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, errMalformed
	}
	return []byte(s), nil
}

func skipSpace(b []byte, i int) int {
	for i < len(b) {
		switch b[i] {
		case ' ', '\t', '\r', '\n':
			i++
		default:
			return i
		}
	}
	return i
}
