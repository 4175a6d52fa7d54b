package hub

import "sync/atomic"

// Stats is a point-in-time view of the hub for metrics. Gauges are current
// values; counters only grow.
type Stats struct {
	Connections   int64 // open WebSockets (gauge)
	Subscriptions int64 // subscriptions over all connections (gauge)
	Channels      int64 // channels with at least one local subscriber (gauge)
	Accounts      int64 // accounts the Broker is subscribed to (gauge)

	EventsReceived uint64 // events from the Broker
	MessagesSent   uint64 // messages written to clients
	FramesSent     uint64 // WebSocket frames written (several messages each)
	BytesSent      uint64 // payload bytes written
	Coalesced      uint64 // queued updates replaced by a newer one of the same session
	SlowClosed     uint64 // connections closed with 4008
	Expired        uint64 // connections closed with 4001
	PingTimeouts   uint64 // connections closed for a missing pong
	WriteTimeouts  uint64 // connections closed because a frame write took longer than WriteTimeout
	Resets         uint64 // resyncs after the Broker lost continuity
	Rejected       uint64 // upgrades refused (401, 503)
}

// counters are the atomics behind Stats.
type counters struct {
	connections, subscriptions, channels, accounts atomic.Int64

	events, messagesSent, framesSent, bytesSent  atomic.Uint64
	coalesced, slowClosed, expired, pingTimeouts atomic.Uint64
	resets, rejected, writeTimeouts              atomic.Uint64
}

// Stats returns the hub's current figures.
func (h *Hub) Stats() Stats {
	s := &h.stats
	return Stats{
		Connections:    s.connections.Load(),
		Subscriptions:  s.subscriptions.Load(),
		Channels:       s.channels.Load(),
		Accounts:       s.accounts.Load(),
		EventsReceived: s.events.Load(),
		MessagesSent:   s.messagesSent.Load(),
		FramesSent:     s.framesSent.Load(),
		BytesSent:      s.bytesSent.Load(),
		Coalesced:      s.coalesced.Load(),
		SlowClosed:     s.slowClosed.Load(),
		Expired:        s.expired.Load(),
		PingTimeouts:   s.pingTimeouts.Load(),
		WriteTimeouts:  s.writeTimeouts.Load(),
		Resets:         s.resets.Load(),
		Rejected:       s.rejected.Load(),
	}
}
