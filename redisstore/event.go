package redisstore

import (
	"errors"
	"strconv"
	"strings"

	"github.com/sessionhub/sessionhub/session"
)

// The event wire format. The script stores each change in the account's stream as
// two fields, h (the header) and d (the session JSON exactly as stored), and
// publishes "e <epoch> <stream id> <header>\n<json>" on the account's channel.
// The header is "<version> <ended 0|1> <sessionId> <changed,fields>": ids are
// validated to hold no space or comma, so splitting is unambiguous, and the
// subscriber splices the JSON into its messages without decoding it.
const (
	eventTag = "e "
	probeTag = "p "
)

var errBadEvent = errors.New("malformed event")

// eventHeader renders the header of a change.
func eventHeader(version int64, ended bool, sessionID string, changed []string) string {
	var b strings.Builder
	b.Grow(32 + len(sessionID) + 16*len(changed))
	b.WriteString(strconv.FormatInt(version, 10))
	if ended {
		b.WriteString(" 1 ")
	} else {
		b.WriteString(" 0 ")
	}
	b.WriteString(sessionID)
	b.WriteByte(' ')
	for i, c := range changed {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(c)
	}
	return b.String()
}

// parseHeader fills e's Version, Ended, SessionID and Changed from a header.
func parseHeader(h string, e *session.Event) error {
	ver, rest, ok1 := strings.Cut(h, " ")
	ended, rest, ok2 := strings.Cut(rest, " ")
	id, changed, ok3 := strings.Cut(rest, " ")
	if !ok1 || !ok2 || !ok3 || id == "" || (ended != "0" && ended != "1") {
		return errBadEvent
	}
	v, err := strconv.ParseInt(ver, 10, 64)
	if err != nil || v < 1 {
		return errBadEvent
	}
	e.Version, e.Ended, e.SessionID = v, ended == "1", id
	e.Changed = nil
	if changed != "" {
		e.Changed = strings.Split(changed, ",")
	}
	return nil
}

// parseMessage decodes a published event of account acct.
func parseMessage(acct, payload string) (session.Event, error) {
	e := session.Event{AccountID: acct}
	rest, ok := strings.CutPrefix(payload, eventTag)
	if !ok {
		return e, errBadEvent
	}
	epoch, rest, ok1 := strings.Cut(rest, " ")
	id, rest, ok2 := strings.Cut(rest, " ")
	head, body, ok3 := strings.Cut(rest, "\n")
	if !ok1 || !ok2 || !ok3 || epoch == "" || len(body) == 0 {
		return e, errBadEvent
	}
	if _, err := session.ParseStreamID(id); err != nil {
		return e, errBadEvent
	}
	if err := parseHeader(head, &e); err != nil {
		return e, err
	}
	e.Offset = epoch + ":" + id
	e.Session = []byte(body)
	return e, nil
}

// parseEntry decodes one stream entry of account acct in epoch.
func parseEntry(acct, epoch string, m redisEntry) (session.Event, error) {
	e := session.Event{AccountID: acct, Offset: epoch + ":" + m.id}
	if m.head == "" || m.body == "" {
		return e, errBadEvent
	}
	if err := parseHeader(m.head, &e); err != nil {
		return e, err
	}
	e.Session = []byte(m.body)
	return e, nil
}

// redisEntry is a stream entry as replay.lua returns it.
type redisEntry struct {
	id, head, body string
}

// entriesOf reads XRANGE's reply ([[id, [field, value, ...]], ...]).
func entriesOf(v any) ([]redisEntry, error) {
	list, ok := v.([]any)
	if !ok {
		return nil, errBadEvent
	}
	out := make([]redisEntry, 0, len(list))
	for _, item := range list {
		pair, ok := item.([]any)
		if !ok || len(pair) != 2 {
			return nil, errBadEvent
		}
		id, _ := pair[0].(string)
		fields, _ := pair[1].([]any)
		ent := redisEntry{id: id}
		for i := 0; i+1 < len(fields); i += 2 {
			k, _ := fields[i].(string)
			val, _ := fields[i+1].(string)
			switch k {
			case "h":
				ent.head = val
			case "d":
				ent.body = val
			}
		}
		out = append(out, ent)
	}
	return out, nil
}
