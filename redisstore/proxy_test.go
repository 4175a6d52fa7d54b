package redisstore

import (
	"bytes"
	"net"
	"sync"
	"sync/atomic"
	"testing"
)

// proxy is a TCP proxy to a Redis that can make its subscription connections
// go silent without closing them: the fault a probe exists to find.
type proxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	conns  []*proxyConn
}

type proxyConn struct {
	client, server net.Conn
	sub            atomic.Bool // it sent SSUBSCRIBE
	frozen         atomic.Bool // it drops everything, both ways
}

func startProxy(tb testing.TB, target string) *proxy {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	p := &proxy{ln: ln, target: target}
	tb.Cleanup(p.close)
	go p.accept()
	return p
}

func (p *proxy) addr() string { return p.ln.Addr().String() }

func (p *proxy) accept() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		s, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		pc := &proxyConn{client: c, server: s}
		p.mu.Lock()
		p.conns = append(p.conns, pc)
		p.mu.Unlock()
		go pc.pipe(c, s, true)
		go pc.pipe(s, c, false)
	}
}

func (pc *proxyConn) pipe(from, to net.Conn, fromClient bool) {
	defer from.Close()
	defer to.Close()
	buf := make([]byte, 32<<10)
	for {
		n, err := from.Read(buf)
		if n > 0 {
			if fromClient && bytes.Contains(bytes.ToLower(buf[:n]), []byte("ssubscribe")) {
				pc.sub.Store(true)
			}
			if !pc.frozen.Load() {
				if _, werr := to.Write(buf[:n]); werr != nil {
					return
				}
			}
		}
		if err != nil {
			return // EOF or a closed side: close both
		}
	}
}

// freezeSubscribers silences every connection that has subscribed; it returns
// how many it froze.
func (p *proxy) freezeSubscribers() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, pc := range p.conns {
		if pc.sub.Load() && !pc.frozen.Load() {
			pc.frozen.Store(true)
			n++
		}
	}
	return n
}

func (p *proxy) close() {
	p.ln.Close()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, pc := range p.conns {
		pc.client.Close()
		pc.server.Close()
	}
}
