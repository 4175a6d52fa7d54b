package hub

import (
	"context"
	"errors"
	"time"

	"github.com/sessionhub/sessionhub/session"
)

// A connection's reader runs its commands, and the client's pongs are read
// only between commands. While the store is down every subscribe waits out its
// timeout, so a client that sends several commands at once (a dashboard that
// resubscribes its channels) would keep the reader from its pongs for longer
// than PongTimeout, and the heartbeat would close a healthy WebSocket: DESIGN
// §3 says an outage must not. Two things keep the reader responsive: store
// calls of one command are bounded by storeTimeout (at most half of
// PongTimeout), and once a store call has failed for unavailability, commands
// fail fast with Unavailable for storeTimeout instead of waiting again.

// storeTimeout bounds the store calls of one command: commandTimeout, or half
// of PongTimeout when that is shorter.
func (h *Hub) storeTimeout() time.Duration {
	return min(commandTimeout, h.cfg.PongTimeout/2)
}

// noteStoreError opens the fail-fast window when err says the store is not
// answering. Errors of the command itself (not found, forbidden) do not count.
func (h *Hub) noteStoreError(err error) {
	if errors.Is(err, session.ErrUnavailable) || errors.Is(err, context.DeadlineExceeded) {
		h.storeDownUntil.Store(time.Now().Add(h.storeTimeout()).UnixNano())
	}
}

// storeFailing reports whether a store call failed for unavailability within
// the last storeTimeout: a command should fail fast rather than wait again.
func (h *Hub) storeFailing() bool {
	return time.Now().UnixNano() < h.storeDownUntil.Load()
}
