package hub

import (
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/sessionhub/sessionhub/session"
)

// chanKind says what a channel follows.
type chanKind uint8

const (
	kindAccount chanKind = iota + 1 // account:<accountId>: the account's active sessions
	kindSession                     // session:<sessionId>: one session, ended or not
)

// chanKey names a channel. It is a comparable struct rather than the channel's
// string so that the broadcast path can look a channel up without building
// "account:"+id.
type chanKey struct {
	kind chanKind
	id   string
}

func (k chanKey) prefix() string {
	if k.kind == kindAccount {
		return "account:"
	}
	return "session:"
}

// String is the channel's name on the wire.
func (k chanKey) String() string { return k.prefix() + k.id }

// parseChannel reads "account:<id>" or "session:<id>".
func parseChannel(name string, maxID int) (chanKey, error) {
	kind, id, ok := strings.Cut(name, ":")
	if name == "" {
		return chanKey{}, fmt.Errorf("missing channel: want account:<accountId> or session:<sessionId>")
	}
	var k chanKey
	switch {
	case ok && kind == "account":
		k = chanKey{kindAccount, id}
	case ok && kind == "session":
		k = chanKey{kindSession, id}
	default:
		return chanKey{}, fmt.Errorf("channel %q: want account:<accountId> or session:<sessionId>", clip(name))
	}
	if !session.ValidID(id, maxID) {
		return chanKey{}, fmt.Errorf("channel %q: the id must be 1 to %d characters of A-Z a-z 0-9 . _ : @ -", clip(name), maxID)
	}
	return k, nil
}

// clip shortens client input quoted back in an error message.
func clip(s string) string {
	if len(s) > 64 {
		return s[:64] + "..."
	}
	return s
}

// wants reports whether channel k carries event e. An account channel follows
// the account's active sessions: it carries every change of a session that has
// not ended, and the change that ends one, but not later changes of an ended
// session (wrap-up notes); a session channel carries every change of its session.
func (k chanKey) wants(e *session.Event) bool {
	if k.kind == kindSession {
		return e.SessionID == k.id
	}
	return e.AccountID == k.id && (!e.Ended || e.Version == 1 || slices.Contains(e.Changed, "ended"))
}

// numShards splits the channel table so that events of different accounts and
// subscribes on different channels rarely contend for one lock.
const numShards = 64

// shard is one part of the channel table.
type shard struct {
	mu       sync.RWMutex
	channels map[chanKey]*channel
}

// channel is one channel's local subscribers.
type channel struct {
	account string // whose events feed the channel
	subs    []*sub // guarded by the shard's lock
}

// shardFor picks k's shard by an FNV-1a hash of its name; it does not allocate.
func (h *Hub) shardFor(k chanKey) *shard {
	x := uint32(2166136261) ^ uint32(k.kind)
	for i := 0; i < len(k.id); i++ {
		x ^= uint32(k.id[i])
		x *= 16777619
	}
	return &h.shards[x%numShards]
}

// addSub registers s with its channel. s starts buffering (not live): events
// that arrive before its snapshot is sent wait in s.pending.
func (h *Hub) addSub(s *sub) {
	sh := h.shardFor(s.key)
	sh.mu.Lock()
	ch := sh.channels[s.key]
	if ch == nil {
		ch = &channel{account: s.account}
		sh.channels[s.key] = ch
		h.stats.channels.Add(1)
	}
	s.idx = len(ch.subs)
	ch.subs = append(ch.subs, s)
	sh.mu.Unlock()
	h.stats.subscriptions.Add(1)
}

// removeSub unregisters s; once it returns no new event reaches s.
func (h *Hub) removeSub(s *sub) {
	sh := h.shardFor(s.key)
	sh.mu.Lock()
	ch := sh.channels[s.key]
	if ch != nil && s.idx < len(ch.subs) && ch.subs[s.idx] == s {
		last := len(ch.subs) - 1
		ch.subs[s.idx] = ch.subs[last]
		ch.subs[s.idx].idx = s.idx
		ch.subs[last] = nil
		ch.subs = ch.subs[:last]
		if len(ch.subs) == 0 {
			delete(sh.channels, s.key)
			h.stats.channels.Add(-1)
		}
		h.stats.subscriptions.Add(-1)
	}
	sh.mu.Unlock()
}

// HandleEvent fans one stored change out to the local subscribers of its
// account's channel and of its session's channel. Each channel's `update` is
// encoded once and the same bytes are queued to every subscriber; queueing never
// blocks, so a slow connection never delays the others.
func (h *Hub) HandleEvent(e session.Event) {
	h.stats.events.Add(1)
	ak := chanKey{kindAccount, e.AccountID}
	if ak.wants(&e) {
		h.publish(ak, &e)
	}
	h.publish(chanKey{kindSession, e.SessionID}, &e)
}

func (h *Hub) publish(k chanKey, e *session.Event) {
	sh := h.shardFor(k)
	sh.mu.RLock()
	ch := sh.channels[k]
	if ch == nil || len(ch.subs) == 0 {
		sh.mu.RUnlock()
		return
	}
	msg := encodeUpdate(k, e)
	for _, s := range ch.subs {
		s.c.deliver(s, e.SessionID, e.Offset, msg)
	}
	sh.mu.RUnlock()
}

// subsOf returns the channels fed by account's events and a copy of their
// subscribers, for a resync.
func (h *Hub) subsOf(account string) map[chanKey][]*sub {
	out := map[chanKey][]*sub{}
	for i := range h.shards {
		sh := &h.shards[i]
		sh.mu.RLock()
		for k, ch := range sh.channels {
			if ch.account == account && len(ch.subs) > 0 {
				out[k] = slices.Clone(ch.subs)
			}
		}
		sh.mu.RUnlock()
	}
	return out
}
