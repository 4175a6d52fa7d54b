package hub

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/sessionhub/sessionhub/session"
)

// Error codes of the `error` message.
const (
	CodeBadRequest   = "BadRequest"   // malformed or impossible command
	CodeUnauthorized = "Unauthorized" // refresh with a bad token
	CodeForbidden    = "Forbidden"    // the token does not cover the account
	CodeNotFound     = "NotFound"     // no such session (or not one of the token's accounts)
	CodeUnavailable  = "Unavailable"  // the store could not answer; try again
)

// Bounds of command fields.
const (
	maxCommandID = 128 // characters of a command id
	maxOffset    = 200 // characters of a since offset
)

// commandTimeout bounds the store calls one command makes. The reader runs
// commands, and pongs are only read between commands, so it stays well under
// the default PongTimeout: a slow store must not make a live client look dead.
const commandTimeout = 5 * time.Second

// command is any client message; which fields matter depends on Type.
type command struct {
	Type    string `json:"type"`
	ID      string `json:"id"`
	Channel string `json:"channel"`
	Since   string `json:"since"`
	Token   string `json:"token"`
}

// handle runs one command. A failed command gets an `error` and the
// connection stays open.
func (c *conn) handle(line []byte) {
	var cmd command
	if err := json.Unmarshal(line, &cmd); err != nil {
		c.sendError(idOf(line), CodeBadRequest, "invalid command: "+describeJSONError(err)+`; send one JSON object such as {"type":"subscribe","id":"1","channel":"account:ACC1"}`)
		return
	}
	if len(cmd.ID) > maxCommandID {
		c.sendError("", CodeBadRequest, fmt.Sprintf("id is longer than %d characters", maxCommandID))
		return
	}
	switch cmd.Type {
	case "subscribe":
		c.subscribe(cmd)
	case "unsubscribe":
		c.unsubscribe(cmd)
	case "ping":
		if cmd.ID == "" {
			c.sendError("", CodeBadRequest, `ping needs an "id"`)
			return
		}
		c.send(encodePong(cmd.ID))
	case "refresh":
		c.refresh(cmd)
	case "":
		c.sendError(cmd.ID, CodeBadRequest, `missing "type": want subscribe, unsubscribe, ping or refresh`)
	default:
		c.sendError(cmd.ID, CodeBadRequest, fmt.Sprintf("unknown type %q: want subscribe, unsubscribe, ping or refresh", clip(cmd.Type)))
	}
}

// idOf recovers a command's id from a command that failed to decode as a
// whole, so the client can match the error to its request.
// A numeric id (`"id":7`) comes back as its digits, so the client can still
// match the error that says ids are strings.
func idOf(line []byte) string {
	var v struct {
		ID json.RawMessage `json:"id"`
	}
	if json.Unmarshal(line, &v) != nil {
		return ""
	}
	var id string
	if json.Unmarshal(v.ID, &id) != nil {
		var n json.Number
		if json.Unmarshal(v.ID, &n) != nil {
			return ""
		}
		id = n.String()
	}
	if len(id) > maxCommandID {
		return ""
	}
	return id
}

func describeJSONError(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field != "" {
		return fmt.Sprintf("%q must be a %s", te.Field, "string")
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return "not valid JSON"
	}
	return "not a JSON object"
}

func (c *conn) sendError(id, code, msg string) {
	c.send(encodeError(id, code, msg))
}

// subscribe checks the channel and the token, registers the subscription
// (buffering), subscribes the account at the Broker, and catches up.
func (c *conn) subscribe(cmd command) {
	h := c.h
	if cmd.ID == "" {
		c.sendError("", CodeBadRequest, `subscribe needs an "id"`)
		return
	}
	k, err := parseChannel(cmd.Channel, h.cfg.Limits.MaxIDLength)
	if err != nil {
		c.sendError(cmd.ID, CodeBadRequest, err.Error())
		return
	}
	if len(cmd.Since) > maxOffset {
		c.sendError(cmd.ID, CodeBadRequest, fmt.Sprintf("since is longer than %d characters: send the offset of the last message you received", maxOffset))
		return
	}
	if c.subs.get(k) != nil {
		c.sendError(cmd.ID, CodeBadRequest, fmt.Sprintf("already subscribed to %s: unsubscribe first to subscribe again", k))
		return
	}
	if c.subs.len() >= h.cfg.MaxSubscriptions {
		c.sendError(cmd.ID, CodeBadRequest, fmt.Sprintf("a connection may hold %d subscriptions: unsubscribe from one first", h.cfg.MaxSubscriptions))
		return
	}
	if h.storeFailing() && (k.kind == kindSession || c.hasAccount(k.id)) {
		// The store just failed another command: answer at once (outage.go).
		c.sendError(cmd.ID, CodeUnavailable, fmt.Sprintf("%s: the store is not answering; try again shortly", k))
		return
	}
	ctx, cancel := context.WithTimeout(h.ctx, h.storeTimeout())
	defer cancel()

	account := k.id
	switch k.kind {
	case kindAccount:
		if !c.hasAccount(account) {
			c.sendError(cmd.ID, CodeForbidden, fmt.Sprintf("your token does not cover account %s", account))
			return
		}
	case kindSession:
		acct, _, err := h.cfg.Feed.SessionSnapshot(ctx, k.id)
		if err == nil && !c.hasAccount(acct) {
			err = session.ErrNotFound // never tell a session of another account exists
		}
		if err != nil {
			c.sendStoreError(cmd.ID, k, err)
			return
		}
		account = acct
	}

	s := &sub{c: c, key: k, account: account, subscribing: true}
	c.subs.add(s)
	h.addSub(s)
	if err := h.acquire(ctx, account); err != nil {
		h.removeSub(s)
		c.subs.remove(k)
		c.sendStoreError(cmd.ID, k, err)
		return
	}
	if err := h.catchUp(ctx, s, cmd.ID, cmd.Since); err != nil {
		c.dropSub(s)
		c.sendStoreError(cmd.ID, k, err)
	}
}

// sendStoreError answers a command that a store error failed.
func (c *conn) sendStoreError(id string, k chanKey, err error) {
	switch {
	case errors.Is(err, session.ErrNotFound):
		c.sendError(id, CodeNotFound, fmt.Sprintf("%s: no such session", k))
	default:
		c.h.noteStoreError(err)
		c.h.log.Warn("hub: subscribe failed", "conn", c.id, "channel", k.String(), "err", err)
		c.sendError(id, CodeUnavailable, fmt.Sprintf("%s: the store is not answering; try again shortly", k))
	}
}

// unsubscribe drops a subscription. It is idempotent: unsubscribing from a
// channel the connection does not hold is answered `unsubscribed` too.
func (c *conn) unsubscribe(cmd command) {
	if cmd.ID == "" {
		c.sendError("", CodeBadRequest, `unsubscribe needs an "id"`)
		return
	}
	k, err := parseChannel(cmd.Channel, c.h.cfg.Limits.MaxIDLength)
	if err != nil {
		c.sendError(cmd.ID, CodeBadRequest, err.Error())
		return
	}
	if s := c.subs.get(k); s != nil {
		c.dropSub(s)
	}
	// Sent after dropSub: every update queued before it is for the
	// subscription, none after it.
	c.send(encodeUnsubscribed(cmd.ID, k.String()))
}

// dropSub ends a subscription: no event reaches it once it returns.
func (c *conn) dropSub(s *sub) {
	c.h.removeSub(s)
	c.mu.Lock()
	s.removed = true
	s.pending, s.pendingBytes = nil, 0
	c.mu.Unlock()
	c.subs.remove(s.key)
	c.h.release(s.account)
}

// refresh replaces the connection's token before it expires. The new token
// must be valid, name the same user and cover every account the connection is
// subscribed to; otherwise the refresh fails with an error and the old token
// stays in force (and closes the connection with 4001 when it expires). A
// successful refresh has no reply.
func (c *conn) refresh(cmd command) {
	if cmd.Token == "" {
		c.sendError(cmd.ID, CodeBadRequest, `refresh needs a "token"`)
		return
	}
	claims, err := c.h.cfg.Auth.Verify(cmd.Token)
	if err != nil {
		c.sendError(cmd.ID, CodeUnauthorized, "refresh refused: "+err.Error())
		return
	}
	if claims.Subject != c.user {
		c.sendError(cmd.ID, CodeForbidden, "refresh refused: the token is for another user; reconnect to switch users")
		return
	}
	for _, s := range c.subs.list() {
		if !claims.HasAccount(s.account) {
			c.sendError(cmd.ID, CodeForbidden, fmt.Sprintf("refresh refused: the token does not cover account %s; unsubscribe from %s first", s.account, s.key))
			return
		}
	}
	c.accounts = claims.Accounts
	c.expires.Store(claims.Expires.UnixNano())
}
