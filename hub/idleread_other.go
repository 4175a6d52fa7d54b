//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package hub

// canWaitReadable says whether peekReadable works here: not on this system,
// so readers block in coder/websocket's Read.
const canWaitReadable = false

// peekReadable is never called where canWaitReadable is false.
func peekReadable(fd uintptr) bool { return true }
