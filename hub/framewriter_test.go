package hub

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"testing"
)

// recordConn is a net.Conn that records what is written to it.
type recordConn struct {
	net.Conn
	writes [][]byte
}

func (r *recordConn) Write(p []byte) (int, error) {
	r.writes = append(r.writes, bytes.Clone(p))
	return len(p), nil
}

// TestFrameWriter writes data frames the way coder/websocket does (a header,
// the payload, a flush) through the tiny bufio.Writer: every byte arrives in
// order, and nothing stays held once the frame is released.
func TestFrameWriter(t *testing.T) {
	for _, size := range []int{0, 1, 6, 13, 14, 15, 16, 17, 30, 31, 32, 33, 100, 125, 126, 127, 128, 1000, 70000} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			rc := &recordConn{}
			fw := &frameWriter{conn: rc}
			bw := bufio.NewWriterSize(fw, writeBufSize)
			var want []byte
			for i := range 3 {
				header := []byte{0x81, byte(i), 2, 3}[:2+i]
				payload := bytes.Repeat([]byte{byte('a' + i)}, size)
				want = append(append(want, header...), payload...)
				fw.begin()
				if _, err := bw.Write(header); err != nil {
					t.Fatal(err)
				}
				if _, err := bw.Write(payload); err != nil {
					t.Fatal(err)
				}
				if err := bw.Flush(); err != nil {
					t.Fatal(err)
				}
				if err := fw.release(); err != nil {
					t.Fatal(err)
				}
				if fw.held != 0 {
					t.Fatalf("frame %d: got %d bytes held after release, want 0", i, fw.held)
				}
			}
			if got := bytes.Join(rc.writes, nil); !bytes.Equal(got, want) {
				t.Fatalf("got %d bytes written, want the %d bytes of the frames in order", len(got), len(want))
			}
		})
	}
}

// TestControlFramesAreNeverHeld: a frame written outside begin and release,
// as coder/websocket writes pongs and closes, goes out at once.
func TestControlFramesAreNeverHeld(t *testing.T) {
	for _, size := range []int{0, 14, 30, 125} {
		rc := &recordConn{}
		fw := &frameWriter{conn: rc}
		bw := bufio.NewWriterSize(fw, writeBufSize)
		_, _ = bw.Write([]byte{0x8a, byte(size)})
		_, _ = bw.Write(bytes.Repeat([]byte{'p'}, size))
		if err := bw.Flush(); err != nil {
			t.Fatal(err)
		}
		if got := bytes.Join(rc.writes, nil); fw.held != 0 || len(got) != 2+size {
			t.Errorf("payload %d: got %d bytes held and %d written, want all %d written", size, fw.held, len(got), 2+size)
		}
	}
}
