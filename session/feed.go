package session

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// Event is one stored change as the live side carries it. Session holds the
// session's JSON exactly as stored, so a hub can splice it into its messages
// without decoding and re-encoding it.
type Event struct {
	AccountID string
	SessionID string
	Version   int64
	Offset    string
	Changed   []string
	Ended     bool
	Session   json.RawMessage
}

// Entry is one session of a snapshot.
type Entry struct {
	Version int64           `json:"version"`
	Session json.RawMessage `json:"session"`
}

// Snapshot is a consistent view of a channel and the offset it was taken at:
// every event after Offset is newer than the snapshot.
type Snapshot struct {
	Offset   string
	Sessions []Entry
}

// Feed is the read side of a store that the live hub needs.
type Feed interface {
	// AccountSnapshot returns the account's active (not ended) sessions.
	AccountSnapshot(ctx context.Context, accountID string) (Snapshot, error)
	// SessionSnapshot returns one session, ended or not, with its account's offset.
	SessionSnapshot(ctx context.Context, sessionID string) (accountID string, s Snapshot, err error)
	// Replay returns the account's events after since, in order, or
	// ErrOffsetGone when they are no longer all retained or since is not one of
	// this store's offsets (another epoch, or garbage).
	Replay(ctx context.Context, accountID, since string) ([]Event, error)
}

// EventHandler receives what a Broker hears. Calls for one account come in the
// stored order from one goroutine; they must not block.
type EventHandler interface {
	// HandleEvent delivers one stored change.
	HandleEvent(e Event)
	// HandleReset says continuity was lost for the account (the subscription
	// dropped and was restored): every subscriber needs a fresh snapshot.
	HandleReset(accountID string)
}

// Broker carries live events from the store to the hub.
type Broker interface {
	// Run delivers events to h until ctx ends.
	Run(ctx context.Context, h EventHandler) error
	// Subscribe starts the account's events; it returns once they flow, so a
	// snapshot taken after it misses nothing. Calls are counted by the hub, not here.
	Subscribe(ctx context.Context, accountID string) error
	// Unsubscribe stops them.
	Unsubscribe(ctx context.Context, accountID string) error
}

// Offset is a position in an account's change log: a store epoch (it changes
// when the store loses its data) and a stream id (ms-seq).
type Offset struct {
	Epoch string
	Ms    uint64
	Seq   uint64
}

// String renders the offset as clients carry it: "<epoch>:<ms>-<seq>".
func (o Offset) String() string {
	return o.Epoch + ":" + strconv.FormatUint(o.Ms, 10) + "-" + strconv.FormatUint(o.Seq, 10)
}

// StreamID is the ms-seq part.
func (o Offset) StreamID() string {
	return strconv.FormatUint(o.Ms, 10) + "-" + strconv.FormatUint(o.Seq, 10)
}

// Less orders offsets of one epoch.
func (o Offset) Less(p Offset) bool {
	return o.Ms < p.Ms || (o.Ms == p.Ms && o.Seq < p.Seq)
}

// ParseOffset reads "<epoch>:<ms>-<seq>".
func ParseOffset(s string) (Offset, error) {
	epoch, id, ok := strings.Cut(s, ":")
	if !ok || epoch == "" || len(s) > 200 {
		return Offset{}, fmt.Errorf("offset %q: want <epoch>:<ms>-<seq>", trunc(s))
	}
	o, err := ParseStreamID(id)
	o.Epoch = epoch
	return o, err
}

// ParseStreamID reads a stream id "ms-seq".
func ParseStreamID(id string) (Offset, error) {
	msS, seqS, ok := strings.Cut(id, "-")
	if !ok {
		return Offset{}, fmt.Errorf("stream id %q: want <ms>-<seq>", trunc(id))
	}
	ms, err1 := strconv.ParseUint(msS, 10, 64)
	seq, err2 := strconv.ParseUint(seqS, 10, 64)
	if err1 != nil || err2 != nil {
		return Offset{}, fmt.Errorf("stream id %q: want <ms>-<seq>", trunc(id))
	}
	return Offset{Ms: ms, Seq: seq}, nil
}

func trunc(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}
