package redisstore

import "strings"

// keys builds every key and channel name of DESIGN §4 from one prefix. The
// account's keys share the hash tag {a:<accountId>} so one account lives in one
// Cluster slot and its scripts stay single-slot; a session's id→account key is
// tagged by the session id alone, since it is read before the account is known.
// Ids are validated before they reach here (session.ValidID: no braces), so a
// hostile id can never move a key to another slot.
type keys struct {
	prefix string
}

// sid is p:sid:{<sessionId>}: the session's accountId, written once at create.
func (k keys) sid(sessionID string) string { return k.prefix + ":sid:{" + sessionID + "}" }

// accounts is p:accounts: every account that ever stored a session, for lists
// across all accounts (tokens with accounts ["*"]).
func (k keys) accounts() string { return k.prefix + ":accounts" }

// account is the hash-tagged base p:{a:<acct>} of one account's keys.
func (k keys) account(acct string) string { return k.prefix + ":{a:" + acct + "}" }

// state is p:{a:<acct>}:s:<sessionId>, a hash of v (version) and d (the JSON).
func (k keys) state(acct, sessionID string) string { return k.account(acct) + ":s:" + sessionID }

// statePrefix is what the snapshot script prepends to an id to name its state.
func (k keys) statePrefix(acct string) string { return k.account(acct) + ":s:" }

func (k keys) active(acct string) string { return k.account(acct) + ":active" }
func (k keys) all(acct string) string    { return k.account(acct) + ":all" }
func (k keys) log(acct string) string    { return k.account(acct) + ":log" }
func (k keys) channel(acct string) string {
	return k.account(acct) + ":ch"
}

// epoch is p:{a:<acct>}:epoch, the random string offsets carry so that a Redis
// that lost its data never passes for continuity.
func (k keys) epoch(acct string) string { return k.account(acct) + ":epoch" }

// hashTag is the part of key that Redis Cluster hashes: the text between the
// first '{' and the next '}' when that is not empty, else the whole key.
func hashTag(key string) string {
	if i := strings.IndexByte(key, '{'); i >= 0 {
		if j := strings.IndexByte(key[i+1:], '}'); j > 0 {
			return key[i+1 : i+1+j]
		}
	}
	return key
}

// slot is the Redis Cluster slot of key: CRC16 (XMODEM) of its hash tag, mod 16384.
// The broker groups subscriptions by it, since in Cluster a subscription
// connection serves the node that owns the channel's slot.
func slot(key string) int {
	return int(crc16(hashTag(key)) % 16384)
}

func crc16(s string) uint16 {
	var crc uint16
	for i := 0; i < len(s); i++ {
		crc ^= uint16(s[i]) << 8
		for range 8 {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
	}
	return crc
}
