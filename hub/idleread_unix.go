//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package hub

import "syscall"

// canWaitReadable says whether peekReadable works here.
const canWaitReadable = true

// peekReadable reports whether the socket fd has a byte to read, is at its
// end or has failed, without taking anything from it: a false makes
// syscall.RawConn.Read wait until the socket is readable and ask again. The
// socket is non-blocking, as Go's sockets are.
func peekReadable(fd uintptr) bool {
	var b [1]byte
	for {
		_, _, err := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK)
		if err == syscall.EINTR {
			continue
		}
		return err != syscall.EAGAIN && err != syscall.EWOULDBLOCK
	}
}
