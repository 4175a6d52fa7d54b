// Package redisstore keeps sessionhub's sessions in Redis (>= 7) and carries
// their changes to every hub: a session.Store, session.Feed and session.Broker on
// one go-redis UniversalClient, so the same code serves standalone, Sentinel and
// Cluster.
//
// # Keys
//
// With prefix p (Config.Prefix, default "sessionhub"), as DESIGN §4 lays out:
//
//	p:sid:{<sessionId>}         string  the session's accountId; written once at create
//	                                     (SET NX), expires with the ended session
//	p:{a:<acct>}:s:<sessionId>  hash    v = version, d = the SessionInfo JSON
//	p:{a:<acct>}:active         zset    ids of sessions not ended, by dateCreated (ms)
//	p:{a:<acct>}:all            zset    every retained id, by dateCreated (ms)
//	p:{a:<acct>}:log            stream  the account's events, XADD MAXLEN ~ StreamMax
//	p:{a:<acct>}:ch             shard channel (SPUBLISH / SSUBSCRIBE)
//
// and two additions:
//
//	p:{a:<acct>}:epoch          string  a random epoch, created by the scripts when
//	                                     missing: offsets are "<epoch>:<stream id>",
//	                                     so offsets from a Redis that lost its data
//	                                     never match again
//	p:accounts                  set     every account that stored a session, for
//	                                     lists across all accounts ("*" tokens)
//
// An account's keys share the hash tag {a:<acct>}, so they live in one Cluster
// slot and each script touches one slot (the snapshot script builds state keys
// from that tagged prefix). Ids are validated (session.ValidID) before they
// become part of a key, so no id can carry a brace.
//
// # Writes
//
// Create reserves the id (SET NX on the sid key, SADD to p:accounts, one
// pipeline) and then runs cas.lua expecting no state. A sid key that names the
// same account but has no state (a create that died in between) is reused.
// Update is session.RunUpdate over an HMGET and cas.lua: two round trips per
// PATCH once the id's account is in the in-process cache (bounded, two
// generations). cas.lua compares the version, stores the state, maintains
// active/all, appends the event to the stream (its id with the epoch is the
// offset) and SPUBLISHes it, atomically. A write that leaves the session ended
// sets the state's expiry (Retention) in the script and the sid key's in one
// more round trip (it lives in another slot). Lists drop ids whose state has
// expired from the all index as they meet them.
//
// # Events
//
// A stream entry has fields h ("<version> <ended 0|1> <sessionId> <changed,...>")
// and d (the session JSON as stored). The published message is
// "e <epoch> <stream id> <h>\n<d>": a subscriber builds a session.Event, offset
// included, without decoding the session. Messages starting "p " are probes.
//
// # Feed
//
// AccountSnapshot and SessionSnapshot read their sessions and the last stream
// id in one script, so the offset is exact. Replay recovers only when the
// epoch matches, the offset is not past the newest event, and nothing after it
// can have been trimmed: either the stream never lost an entry (XINFO STREAM
// entries-added = length, max-deleted-entry-id at or before it) or the offset's
// own entry is still retained (Redis does not move max-deleted-entry-id when
// MAXLEN trims). MAXLEN ~ keeps at least the newest StreamMax events, so an
// offset among them always recovers; one exactly at the trim edge is answered
// ErrOffsetGone (a snapshot), never with a gap. Garbage is ErrOffsetGone too.
//
// # Broker
//
// Subscriptions are grouped per connection: one PubSub on standalone and
// Sentinel, one per slot on Cluster. Each group has one reader goroutine, so
// an account's events reach the handler in stored order. Subscribe returns
// once Redis confirms the SSUBSCRIBE. When a connection fails, the group
// reconnects with a capped backoff, subscribes every wanted channel again and
// calls HandleReset for each account as its confirmation arrives, before any of
// its new events. Two checks find a connection that stays open but no longer
// delivers. The echo watch: every write by this Store publishes its event on
// the account's channel, so when the account is confirmed on a connection and
// that connection hears nothing at all for EchoTimeout (default 1s) after the
// write began, while its reader is waiting on it (a reader busy in the handler
// has the event in its buffer), the connection is restarted. It costs a write
// two short locks and a few atomics, and a timer per EchoTimeout at most. The
// probe, for quiet accounts: a group silent for ProbeInterval publishes a probe
// on one of its channels; if nothing comes back within a third of the
// interval, the connection is restarted. Ready reports false while any wanted
// subscription is not confirmed, so from a restart until the resubscription.
//
// On a Cluster, a failed subscription connection also has the client reload
// its slot map, so a resharded account's subscription follows its slot to the
// new owner at once (Redis drops shard subscriptions of a slot that moves). On
// Sentinel, go-redis moves commands to a promoted master but not an open
// subscription, which stays on the old master and hears nothing while that
// server is up. The first write stored on the new master is then not heard
// back, and the echo watch resubscribes on the new master about EchoTimeout
// later, with a reset; without writes the probe (published through the
// command path) does the same. Left alone, the subscription would recover
// silently once Sentinel makes the old master a replica (published events
// replicate), but the events in between would be lost without a reset. The
// watch only asks that something arrive after the write, so a demotion within
// EchoTimeout of the first write on the new master can still hide that gap.
//
// # Errors
//
// Redis failures are session.ErrUnavailable with a message free of addresses and
// internals (the cause is logged and reachable with errors.Is/As); a missing key
// is session.ErrNotFound.
package redisstore
