package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

// client is one WebSocket connection subscribed to one account's channel. One
// goroutine reads it; the counters are atomics so progress can read them.
type client struct {
	b     *Bench
	idx   int
	acct  int
	url   string
	http  *http.Client
	token string

	// Reader-goroutine state.
	last    []int64 // newest version seen, per session of the account (local index)
	offset  []byte  // newest offset seen, for resuming with since
	isReady bool

	// startSum is the sum of the account's versions at this client's first
	// snapshot: it expects (versionSum at the end − startSum) deliveries.
	startSum   atomic.Int64
	counted    atomic.Bool  // subscribed in setup, so it counts toward expected
	received   atomic.Int64 // in-order deliveries, plus versions a later snapshot covered
	outOfOrder atomic.Int64
}

// maxMessageBytes bounds a message the bench will read (snapshots of a large
// account can be big).
const maxMessageBytes = 256 << 20

// dialClients returns one HTTP client per source address (or one without a
// fixed source), each dialling from its address so that many connections to
// one hub do not run out of ephemeral ports.
func (b *Bench) dialClients() []*http.Client {
	mk := func(local net.Addr) *http.Client {
		d := &net.Dialer{LocalAddr: local, Timeout: b.cfg.RequestTimeout, KeepAlive: 30 * time.Second}
		return &http.Client{Transport: &http.Transport{
			DialContext:         d.DialContext,
			TLSHandshakeTimeout: b.cfg.RequestTimeout,
			DisableKeepAlives:   true, // each handshake's connection becomes the WebSocket
		}}
	}
	if len(b.cfg.SrcIPs) == 0 {
		return []*http.Client{mk(nil)}
	}
	out := make([]*http.Client, len(b.cfg.SrcIPs))
	for i, ip := range b.cfg.SrcIPs {
		out[i] = mk(&net.TCPAddr{IP: ip.AsSlice()})
	}
	return out
}

// run connects, subscribes and reads until runCtx ends. setupDone is called
// exactly once: when the first snapshot is in, or when setup failed. After
// setup, a dropped connection (4008 slow consumer, 1001 going away, network)
// reconnects and resumes with since, as a dashboard would.
func (c *client) run(setupCtx, runCtx context.Context, setupDone func()) {
	b := c.b
	first := true
	finishSetup := func(ok bool) {
		if !first {
			return
		}
		first = false
		if ok {
			c.counted.Store(true)
			b.ready.Add(1)
		} else {
			b.setupFailed.Add(1)
		}
		setupDone()
	}
	backoff := 100 * time.Millisecond
	for {
		ctx := runCtx
		if first {
			ctx = setupCtx
		}
		err := c.connect(ctx, runCtx, finishSetup)
		if runCtx.Err() != nil {
			finishSetup(false)
			return
		}
		if first {
			b.noteError("connection %d: %v", c.idx, err)
			finishSetup(false)
			return
		}
		switch code := websocket.CloseStatus(err); code {
		case 4008:
			b.closes4008.Add(1)
		case -1:
			b.noteError("connection %d dropped: %v", c.idx, err)
		default:
			b.otherCloses.Add(1)
		}
		b.reconnects.Add(1)
		select {
		case <-time.After(backoff):
		case <-runCtx.Done():
			return
		}
		backoff = min(2*backoff, 2*time.Second)
	}
}

// connect runs one WebSocket connection: dial, welcome, subscribe (with since
// when resuming), then read. dialCtx bounds everything up to the snapshot.
func (c *client) connect(dialCtx, runCtx context.Context, finishSetup func(bool)) error {
	b := c.b
	dctx, cancel := context.WithTimeout(dialCtx, b.cfg.RequestTimeout)
	defer cancel()
	conn, resp, err := websocket.Dial(dctx, c.url, &websocket.DialOptions{
		HTTPClient: c.http,
		HTTPHeader: http.Header{"Authorization": {"Bearer " + c.token}},
	})
	if err != nil {
		if resp != nil {
			return fmt.Errorf("dial %s: HTTP %d: %w", c.url, resp.StatusCode, err)
		}
		return fmt.Errorf("dial %s: %w", c.url, err)
	}
	defer conn.CloseNow()
	conn.SetReadLimit(maxMessageBytes)
	if !c.isReady {
		b.connected.Add(1)
	}
	sub := map[string]string{"type": "subscribe", "id": "1", "channel": "account:" + b.accounts[c.acct].id}
	if c.isReady && len(c.offset) > 0 {
		sub["since"] = string(c.offset)
	}
	msg, _ := json.Marshal(sub)
	if err := conn.Write(dctx, websocket.MessageText, msg); err != nil {
		return fmt.Errorf("subscribe: %w", err)
	}
	// Until the subscription is confirmed, reads are bounded by the setup
	// deadline; after it, only by the run.
	readCtx := dctx
	subscribed := false
	for {
		typ, r, err := conn.Reader(readCtx)
		if err != nil {
			return err
		}
		if typ != websocket.MessageText {
			b.protocolErrors.Add(1)
			b.noteError("connection %d: binary message; DESIGN §3 uses text frames", c.idx)
			_, _ = io.Copy(io.Discard, r)
			continue
		}
		bp := b.bufPool.Get().(*[]byte)
		buf, err := readAll(r, (*bp)[:0])
		now := b.now()
		if err == nil {
			err = splitFrame(buf, func(m []byte) error { return c.handle(m, now, &subscribed) })
		}
		if cap(buf) <= 1<<20 {
			*bp = buf
			b.bufPool.Put(bp)
		}
		if err != nil {
			return err
		}
		if subscribed && readCtx == dctx {
			readCtx = runCtx
			finishSetup(true)
		}
	}
}

// errSetupRefused is returned when the hub answers the subscribe with an error.
var errSetupRefused = errors.New("subscribe refused")

// handle processes one message. The update path is the hot one: it reads only
// the header fields, looks the session up, checks order and records latency.
func (c *client) handle(m []byte, now int64, subscribed *bool) error {
	b := c.b
	h, err := parseHeader(m)
	if err != nil {
		b.protocolErrors.Add(1)
		b.noteError("connection %d: unreadable message %.120q: %v", c.idx, m, err)
		return nil
	}
	switch string(h.Type) {
	case "update":
		c.update(h, now)
	case "snapshot":
		if err := c.snapshot(m); err != nil {
			return err
		}
		*subscribed = true
	case "subscribed":
		var s struct {
			Recovered bool `json:"recovered"`
		}
		if err := json.Unmarshal(m, &s); err != nil {
			return fmt.Errorf("subscribed: %w", err)
		}
		if s.Recovered {
			*subscribed = true // the missed updates follow; no snapshot
		}
	case "error":
		b.protocolErrors.Add(1)
		b.noteError("connection %d: server error: %.200s", c.idx, m)
		if !*subscribed {
			return fmt.Errorf("%w: %.200s", errSetupRefused, m)
		}
	case "welcome", "pong", "unsubscribed":
	default:
		// Unknown types are allowed by the protocol's spirit: ignore.
	}
	return nil
}

func (c *client) update(h header, now int64) {
	b := c.b
	gi, ok := b.sessIndex[string(h.SessionID)]
	if !ok || b.sessions[gi].acct != c.acct || !h.HasVersion {
		b.unknownDeliveries.Add(1)
		return
	}
	s := &b.sessions[gi]
	if h.Version <= c.last[s.local] {
		c.outOfOrder.Add(1)
		return
	}
	c.last[s.local] = h.Version
	c.offset = append(c.offset[:0], h.Offset...)
	c.received.Add(1)
	if sent := s.log.get(h.Version); sent > 0 && sent >= b.measureFrom.Load() {
		b.deliverLat.Record(c.idx, now-sent)
	}
}

// snapshot takes the versions of a (first or fresh) snapshot. A fresh one in
// the middle of a run stands in for the versions it jumps over: they are
// counted as received, since the client's view is exact again.
func (c *client) snapshot(m []byte) error {
	b := c.b
	var snap struct {
		Offset   string `json:"offset"`
		Sessions []struct {
			Version int64 `json:"version"`
			Session struct {
				ID string `json:"id"`
			} `json:"session"`
		} `json:"sessions"`
	}
	if err := json.Unmarshal(m, &snap); err != nil {
		return fmt.Errorf("snapshot: %w", err)
	}
	c.offset = append(c.offset[:0], snap.Offset...)
	seen := make([]bool, len(c.last))
	for _, e := range snap.Sessions {
		gi, ok := b.sessIndex[e.Session.ID]
		if !ok || b.sessions[gi].acct != c.acct {
			continue // another run's session in the same account
		}
		l := b.sessions[gi].local
		seen[l] = true
		switch {
		case !c.isReady:
			c.last[l] = e.Version
		case e.Version > c.last[l]:
			c.received.Add(e.Version - c.last[l])
			c.last[l] = e.Version
		}
	}
	if !c.isReady {
		var sum int64
		for l, gi := range b.accounts[c.acct].sessions {
			if !seen[l] {
				b.noteError("connection %d: session %s missing from the account snapshot", c.idx, b.sessions[gi].id)
				c.last[l] = b.sessions[gi].base
			}
			sum += c.last[l]
		}
		c.startSum.Store(sum)
		c.isReady = true
	} else {
		b.resnapshots.Add(1)
	}
	return nil
}

// readAll reads r to the end into buf, growing it as needed.
func readAll(r io.Reader, buf []byte) ([]byte, error) {
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}
