package main

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/sessionhub/sessionhub/hub"
)

// newMetrics returns the registry the hub's metrics go to (Go runtime, process,
// build info and the live hub's figures; api adds its HTTP metrics) and the
// /metrics handler that serves it.
func newMetrics(h interface{ Stats() hub.Stats }) (*prometheus.Registry, http.Handler) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name:        "sessionhub_build_info",
			Help:        "Always 1; the version label says which sessionhub runs.",
			ConstLabels: prometheus.Labels{"version": buildVersion()},
		}, func() float64 { return 1 }),
		&hubCollector{hub: h},
	)
	return reg, promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg})
}

// hubCollector turns one hub.Stats per scrape into gauges and counters, so the
// figures of one scrape are read together.
type hubCollector struct {
	hub interface{ Stats() hub.Stats }
}

type hubMetric struct {
	desc  *prometheus.Desc
	kind  prometheus.ValueType
	value func(hub.Stats) float64
}

func hubDesc(name, help string) *prometheus.Desc {
	return prometheus.NewDesc("sessionhub_hub_"+name, help, nil, nil)
}

var hubMetrics = []hubMetric{
	{hubDesc("connections", "Open WebSocket connections."), prometheus.GaugeValue, func(s hub.Stats) float64 { return float64(s.Connections) }},
	{hubDesc("subscriptions", "Channel subscriptions over all connections."), prometheus.GaugeValue, func(s hub.Stats) float64 { return float64(s.Subscriptions) }},
	{hubDesc("channels", "Channels with at least one local subscriber."), prometheus.GaugeValue, func(s hub.Stats) float64 { return float64(s.Channels) }},
	{hubDesc("accounts", "Accounts this hub listens to on the broker."), prometheus.GaugeValue, func(s hub.Stats) float64 { return float64(s.Accounts) }},
	{hubDesc("events_received_total", "Change events received from the broker."), prometheus.CounterValue, func(s hub.Stats) float64 { return float64(s.EventsReceived) }},
	{hubDesc("messages_sent_total", "Messages written to WebSocket clients."), prometheus.CounterValue, func(s hub.Stats) float64 { return float64(s.MessagesSent) }},
	{hubDesc("frames_sent_total", "WebSocket frames written (each may carry several messages)."), prometheus.CounterValue, func(s hub.Stats) float64 { return float64(s.FramesSent) }},
	{hubDesc("bytes_sent_total", "Payload bytes written to WebSocket clients."), prometheus.CounterValue, func(s hub.Stats) float64 { return float64(s.BytesSent) }},
	{hubDesc("coalesced_total", "Queued updates replaced by a newer one of the same session (slow clients)."), prometheus.CounterValue, func(s hub.Stats) float64 { return float64(s.Coalesced) }},
	{hubDesc("slow_closed_total", "Connections closed with 4008 for falling too far behind."), prometheus.CounterValue, func(s hub.Stats) float64 { return float64(s.SlowClosed) }},
	{hubDesc("expired_total", "Connections closed with 4001 when their token expired."), prometheus.CounterValue, func(s hub.Stats) float64 { return float64(s.Expired) }},
	{hubDesc("ping_timeouts_total", "Connections closed for a missing pong."), prometheus.CounterValue, func(s hub.Stats) float64 { return float64(s.PingTimeouts) }},
	{hubDesc("write_timeouts_total", "Connections closed because a frame write took longer than the write timeout."), prometheus.CounterValue, func(s hub.Stats) float64 { return float64(s.WriteTimeouts) }},
	{hubDesc("resets_total", "Resyncs (fresh snapshots) after the broker lost continuity."), prometheus.CounterValue, func(s hub.Stats) float64 { return float64(s.Resets) }},
	{hubDesc("rejected_total", "WebSocket upgrades refused."), prometheus.CounterValue, func(s hub.Stats) float64 { return float64(s.Rejected) }},
}

func (c *hubCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, m := range hubMetrics {
		ch <- m.desc
	}
}

func (c *hubCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.hub.Stats()
	for _, m := range hubMetrics {
		ch <- prometheus.MustNewConstMetric(m.desc, m.kind, m.value(s))
	}
}
