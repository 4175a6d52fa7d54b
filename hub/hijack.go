package hub

import (
	"bufio"
	"bytes"
	"errors"
	"net"
	"net/http"
	"sync"
)

// An upgraded connection keeps the bufio.Reader and bufio.Writer that its
// Hijack returns for as long as it lives: net/http's are 4 KiB each, most of
// an idle WebSocket's memory. slimWriter hands coder/websocket tiny ones
// instead (bufio's minimum). Clients send little (commands of a few hundred
// bytes), so a tiny read buffer costs a read or two per command and nothing
// between them; reads larger than the buffer go straight into the caller's
// slice. On the write side frameWriter keeps one write per data frame.
const (
	readBufSize  = 16
	writeBufSize = 16 // above the largest frame header a server writes (10 bytes)
)

// slimWriter wraps the upgrade's ResponseWriter so that Hijack returns small
// buffers. ic and fw are set once Hijack has run.
type slimWriter struct {
	http.ResponseWriter
	ic *idleConn
	fw *frameWriter
}

// errNoHijack says the server cannot hand the connection over.
var errNoHijack = errors.New("hub: the http.ResponseWriter cannot be hijacked: serve /ws over HTTP/1.1")

// WriteHeaderNow passes on Gin's way of sending a status that it otherwise
// defers: coder/websocket calls it so that the 101 goes out before Hijack.
func (w *slimWriter) WriteHeaderNow() {
	if n, ok := w.ResponseWriter.(interface{ WriteHeaderNow() }); ok {
		n.WriteHeaderNow()
	}
}

// Hijack takes the connection over from net/http and returns it with small
// buffers. Bytes net/http had read ahead are read first.
func (w *slimWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	hj, ok := underlyingHijacker(w.ResponseWriter)
	if !ok {
		return nil, nil, errNoHijack
	}
	nc, brw, err := hj.Hijack()
	if err != nil {
		return nil, nil, err
	}
	if err := brw.Writer.Flush(); err != nil { // net/http has flushed the 101; a wrapper may not have
		nc.Close()
		return nil, nil, err
	}
	// The client's first frames may have come with the handshake: idleConn
	// returns them first. br buffers nothing, so coder/websocket, which
	// rereads what br has buffered and then the returned conn, reads every
	// byte through idleConn.
	var ahead []byte
	if n := brw.Reader.Buffered(); n > 0 {
		b, _ := brw.Reader.Peek(n)
		ahead = bytes.Clone(b)
	}
	w.ic = newIdleConn(nc, ahead)
	w.fw = &frameWriter{conn: nc}
	return w.ic, bufio.NewReadWriter(bufio.NewReaderSize(w.ic, readBufSize), bufio.NewWriterSize(w.fw, writeBufSize)), nil
}

// underlyingHijacker finds the Hijacker under rw, following Unwrap as
// http.ResponseController does.
func underlyingHijacker(rw http.ResponseWriter) (http.Hijacker, bool) {
	for {
		switch t := rw.(type) {
		case http.Hijacker:
			return t, true
		case interface{ Unwrap() http.ResponseWriter }:
			rw = t.Unwrap()
		default:
			return nil, false
		}
	}
}

// frameWriter is the io.Writer under the connection's tiny bufio.Writer. A
// frame larger than the buffer reaches it as a full buffer (the header and the
// payload's first bytes) followed by the rest. While the connection's writer
// is writing a data frame (between begin and release), frameWriter holds a
// full buffer back and sends it with the next write in one writev, so a data
// frame costs one write. Control frames that coder/websocket writes on its own
// (pongs, closes) are rare and go out as they come.
type frameWriter struct {
	conn net.Conn

	mu      sync.Mutex // the connection's writer and coder/websocket's pong replies both write
	framing bool       // the connection's writer is writing a data frame
	held    int
	hold    [writeBufSize]byte
	vec     [2][]byte
	bufs    net.Buffers // kept here so that writev does not allocate
}

func (f *frameWriter) Write(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.held == 0 {
		if f.framing && len(p) == writeBufSize {
			f.held = copy(f.hold[:], p)
			return len(p), nil
		}
		return f.conn.Write(p)
	}
	held := f.held
	f.held = 0
	f.vec[0], f.vec[1] = f.hold[:held], p
	f.bufs = f.vec[:]
	n, err := f.bufs.WriteTo(f.conn)
	f.vec, f.bufs = [2][]byte{}, nil // keep no reference to p
	return max(int(n)-held, 0), err
}

// begin starts a data frame: full buffers may be held until release.
func (f *frameWriter) begin() {
	f.mu.Lock()
	f.framing = true
	f.mu.Unlock()
}

// release ends the data frame and sends a held buffer: a frame that ended on
// exactly a full buffer.
func (f *frameWriter) release() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.framing = false
	if f.held == 0 {
		return nil
	}
	n := f.held
	f.held = 0
	_, err := f.conn.Write(f.hold[:n])
	return err
}
