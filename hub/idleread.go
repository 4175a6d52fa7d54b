package hub

import (
	"errors"
	"net"
	"sync/atomic"
	"syscall"
)

// An idle connection's memory is mostly its reader goroutine's stack: a
// goroutine blocked in coder/websocket's Read sits about 2 KiB deep, so its
// stack is 4 KiB, and Go never shrinks a 4 KiB stack whose goroutine uses
// more than a few hundred bytes of it. idleConn lets the reader wait for the
// client's next message in a shallow frame instead: Read, called by
// coder/websocket between messages, returns errReadIdle rather than block,
// and the reader waits until the socket is readable (waitReadable, about
// 0.5 KiB deep) before reading again on a short-lived goroutine. The
// goroutine that stays is then a 2 KiB one.
//
// coder/websocket returns a failed frame-header read to the caller of Read
// without closing the connection or changing its state, so Read may be called
// again once bytes arrive. idleConn only says "idle" when that is safe: when
// every byte read so far belongs to a finished frame and no fragmented
// message is open (frameTracker), so coder/websocket is about to read the
// first byte of a new message. TestIdleReaderBetweenMessages pins that
// behaviour of coder/websocket: a version that closes the connection on such
// an error fails it.

// errReadIdle ends a read between messages, unless the reader has just seen
// the socket readable.
var errReadIdle = errors.New("hub: no message waiting")

// idleConn is the net.Conn that coder/websocket reads from. It first returns
// the bytes net/http read ahead of the upgrade, then reads the socket.
type idleConn struct {
	net.Conn
	prefix []byte          // read-ahead bytes not yet returned
	rc     syscall.RawConn // nil: the connection cannot be waited on; reads always block

	// armed is set while the connection's reader is in Read and may take
	// errReadIdle; closing is set before the writer's close handshake, whose
	// reads must block for the client's reply as they always have.
	armed   atomic.Bool
	closing atomic.Bool

	track frameTracker // only touched by reads, which coder/websocket serialises

	// woke is set by the reader when waitReadable returns, before the read
	// goroutine starts, and cleared by that goroutine's first read between
	// messages: that read goes to the socket instead of saying idle.
	woke bool
}

// newIdleConn wraps nc, which has read ahead the bytes of prefix.
func newIdleConn(nc net.Conn, prefix []byte) *idleConn {
	ic := &idleConn{Conn: nc, prefix: prefix}
	if canWaitReadable {
		if sc, ok := nc.(syscall.Conn); ok {
			if rc, err := sc.SyscallConn(); err == nil {
				ic.rc = rc
			}
		}
	}
	return ic
}

func (ic *idleConn) Read(p []byte) (int, error) {
	if len(ic.prefix) > 0 {
		n := copy(p, ic.prefix)
		ic.track.feed(p[:n])
		ic.prefix = ic.prefix[n:]
		if len(ic.prefix) == 0 {
			ic.prefix = nil
		}
		return n, nil
	}
	if ic.track.idle() && ic.armed.Load() && !ic.closing.Load() {
		if !ic.woke {
			return 0, errReadIdle
		}
		ic.woke = false // the socket is readable: this read will not block
	}
	n, err := ic.Conn.Read(p)
	ic.track.feed(p[:n])
	return n, err
}

// waitReadable blocks until the socket has a byte to read, is at its end or
// failed. It is called from a shallow frame on purpose.
func (ic *idleConn) waitReadable() error {
	if err := ic.rc.Read(peekReadable); err != nil {
		return err
	}
	ic.woke = true
	return nil
}

// frameTracker follows the frame boundaries of a client's byte stream.
type frameTracker struct {
	hdr     [14]byte // the header being read: at most 2 + 8 (length) + 4 (mask) bytes
	hdrLen  int
	payload uint64 // payload bytes of the current frame still to come
	msgOpen bool   // a data frame without FIN came and the message's last frame has not ended
}

// idle reports whether the bytes so far end a frame and no message is open.
func (t *frameTracker) idle() bool {
	return t.hdrLen == 0 && t.payload == 0 && !t.msgOpen
}

// feed moves the tracker past b.
func (t *frameTracker) feed(b []byte) {
	for len(b) > 0 {
		if t.hdrLen == 0 && t.payload > 0 {
			n := uint64(len(b))
			if n > t.payload {
				n = t.payload
			}
			t.payload -= n
			b = b[n:]
			continue
		}
		t.hdr[t.hdrLen] = b[0]
		t.hdrLen++
		b = b[1:]
		if t.hdrLen < 2 || t.hdrLen < frameHeaderLen(t.hdr[1]) {
			continue
		}
		if op := t.hdr[0] & 0x0f; op < 8 { // a data or continuation frame; control frames leave a message as it was
			t.msgOpen = t.hdr[0]&0x80 == 0
		}
		switch n := t.hdr[1] & 0x7f; n {
		case 126:
			t.payload = uint64(t.hdr[2])<<8 | uint64(t.hdr[3])
		case 127:
			t.payload = 0
			for _, c := range t.hdr[2:10] {
				t.payload = t.payload<<8 | uint64(c)
			}
		default:
			t.payload = uint64(n)
		}
		t.hdrLen = 0
	}
}

// frameHeaderLen returns the length of a frame header from its second byte.
func frameHeaderLen(b1 byte) int {
	n := 2
	switch b1 & 0x7f {
	case 126:
		n += 2
	case 127:
		n += 8
	}
	if b1&0x80 != 0 {
		n += 4
	}
	return n
}
