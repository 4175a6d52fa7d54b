package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// Result is what a run measured; it is printed as a table and written as JSON.
type Result struct {
	Hubs        []string `json:"hubs"`
	Conns       int      `json:"conns"`
	Accounts    int      `json:"accounts"`
	Sessions    int      `json:"sessions"`
	Rate        float64  `json:"ratePerSec"` // 0 for an idle run
	DurationSec float64  `json:"durationSec"`
	WarmupSec   float64  `json:"warmupSec"`
	SrcIPs      int      `json:"srcIPs"`

	Connected   int64 `json:"connected"`   // subscribed in setup
	SetupFailed int64 `json:"setupFailed"` // connections that never subscribed

	PatchesSent     int64   `json:"patchesSent"`
	PatchesOK       int64   `json:"patchesOK"`
	PatchesFailed   int64   `json:"patchesFailed"`
	PatchRate       float64 `json:"patchRatePerSec"` // measured PATCHes answered 200, per second
	PatchLatency    Latency `json:"patchLatency"`    // scheduled send → 200 (includes queueing)
	PatchService    Latency `json:"patchServiceTime"`
	DeliveryLatency Latency `json:"deliveryLatency"` // scheduled send → received by a client
	DeliveryRate    float64 `json:"deliveriesPerSec"`

	Expected          int64    `json:"expectedDeliveries"`
	Received          int64    `json:"receivedDeliveries"`
	Lost              int64    `json:"lost"`
	OutOfOrder        int64    `json:"outOfOrder"`
	VersionSkips      int64    `json:"versionSkips"`      // a PATCH reply's version was not the predicted next one
	UnknownDeliveries int64    `json:"unknownDeliveries"` // updates for sessions the bench did not make
	Resnapshots       int64    `json:"resnapshots"`
	Reconnects        int64    `json:"reconnects"`
	Closes4008        int64    `json:"closes4008"`
	OtherCloses       int64    `json:"otherCloses"`
	ProtocolErrors    int64    `json:"protocolErrors"`
	Errors            int64    `json:"errors"`
	ErrorSamples      []string `json:"errorSamples,omitempty"`

	Server *ProcStats `json:"server,omitempty"` // the --pid processes
	Client *ProcStats `json:"client,omitempty"` // the bench itself
}

// Latency is a histogram's summary in milliseconds.
type Latency struct {
	Count uint64  `json:"count"`
	P50   float64 `json:"p50ms"`
	P90   float64 `json:"p90ms"`
	P99   float64 `json:"p99ms"`
	P999  float64 `json:"p999ms"`
	Max   float64 `json:"maxms"`
}

func summarize(h *Histogram) Latency {
	ms := func(ns int64) float64 { return float64(ns) / 1e6 }
	return Latency{
		Count: h.Count(),
		P50:   ms(h.Percentile(50)),
		P90:   ms(h.Percentile(90)),
		P99:   ms(h.Percentile(99)),
		P999:  ms(h.Percentile(99.9)),
		Max:   ms(h.Max()),
	}
}

// ProcStats is the memory and CPU of some processes over the run.
type ProcStats struct {
	Pids             []int   `json:"pids"`
	RSSBeforeMB      float64 `json:"rssBeforeMB"`
	RSSConnectedMB   float64 `json:"rssConnectedMB"`
	RSSEndMB         float64 `json:"rssEndMB"`
	RSSPerConnKB     float64 `json:"rssPerConnKB"` // (connected − before) / connections
	CPUSeconds       float64 `json:"cpuSeconds"`   // during the measured window
	CPUCores         float64 `json:"cpuCores"`     // CPU seconds per second
	CPUPerConnPerSec float64 `json:"cpuSecondsPerConnPerSec"`
}

// procStats turns samples (before setup, after setup, measure start, measure
// end) into per-connection figures.
func procStats(pids []int, s [4]procSample, conns int64, measured time.Duration) *ProcStats {
	mb := func(b int64) float64 { return float64(b) / (1 << 20) }
	p := &ProcStats{
		Pids:           pids,
		RSSBeforeMB:    mb(s[0].RSSBytes),
		RSSConnectedMB: mb(s[1].RSSBytes),
		RSSEndMB:       mb(s[3].RSSBytes),
		CPUSeconds:     s[3].CPUSeconds - s[2].CPUSeconds,
	}
	if conns > 0 {
		p.RSSPerConnKB = float64(s[1].RSSBytes-s[0].RSSBytes) / 1024 / float64(conns)
	}
	if sec := measured.Seconds(); sec > 0 {
		p.CPUCores = p.CPUSeconds / sec
		if conns > 0 {
			p.CPUPerConnPerSec = p.CPUCores / float64(conns)
		}
	}
	return p
}

func (r *Result) fillConfig(c Config) {
	r.Hubs = c.Hubs
	r.Conns, r.Accounts, r.Sessions = c.Conns, c.Accounts, c.Sessions
	r.Rate = c.Rate
	if c.Idle {
		r.Rate = 0
	}
	r.DurationSec, r.WarmupSec = c.Duration.Seconds(), c.Warmup.Seconds()
	r.SrcIPs = len(c.SrcIPs)
}

// collect fills the measured figures.
func (b *Bench) collect(r *Result, measured time.Duration) {
	r.Connected = b.ready.Load()
	r.SetupFailed = b.setupFailed.Load()
	r.PatchesSent, r.PatchesOK, r.PatchesFailed = b.patchSent.Load(), b.patchOK.Load(), b.patchFailed.Load()
	pl, dl := b.patchLat.Snapshot(), b.deliverLat.Snapshot()
	r.PatchLatency, r.PatchService, r.DeliveryLatency = summarize(pl), summarize(b.patchSvc.Snapshot()), summarize(dl)
	if sec := measured.Seconds(); sec > 0 {
		r.PatchRate = float64(pl.Count()) / sec
		r.DeliveryRate = float64(dl.Count()) / sec
	}
	r.Expected, r.Received, r.OutOfOrder = b.expectedAndReceived()
	r.Lost = max(0, r.Expected-r.Received)
	r.VersionSkips = b.versionSkips.Load()
	r.UnknownDeliveries = b.unknownDeliveries.Load()
	r.Resnapshots, r.Reconnects = b.resnapshots.Load(), b.reconnects.Load()
	r.Closes4008, r.OtherCloses = b.closes4008.Load(), b.otherCloses.Load()
	r.ProtocolErrors = b.protocolErrors.Load()
	r.Errors, r.ErrorSamples = b.errors()
}

// Failed says why the run should fail as a check, or "" if it passed.
func (r *Result) Failed() string {
	var why []string
	if r.Lost > 0 {
		why = append(why, fmt.Sprintf("%d deliveries lost", r.Lost))
	}
	if r.OutOfOrder > 0 {
		why = append(why, fmt.Sprintf("%d out of order", r.OutOfOrder))
	}
	if r.Errors > 0 {
		why = append(why, fmt.Sprintf("%d errors", r.Errors))
	}
	if r.PatchesOK == 0 && r.Rate > 0 {
		why = append(why, "no PATCH succeeded")
	}
	return strings.Join(why, ", ")
}

// fmtNanos renders a latency compactly.
func fmtNanos(ns int64) string {
	d := time.Duration(ns)
	switch {
	case d < time.Millisecond:
		return fmt.Sprintf("%.0fµs", float64(d)/1e3)
	case d < time.Second:
		return fmt.Sprintf("%.2fms", float64(d)/1e6)
	}
	return fmt.Sprintf("%.2fs", d.Seconds())
}

// WriteTable prints the human summary.
func (r *Result) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	p := func(format string, args ...any) { fmt.Fprintf(tw, format+"\n", args...) }
	p("hubs\t%s", strings.Join(r.Hubs, ", "))
	src := "the OS's source address"
	if r.SrcIPs > 0 {
		src = fmt.Sprintf("%d source addresses", r.SrcIPs)
	}
	rate := fmt.Sprintf("%.0f PATCH/s", r.Rate)
	if r.Rate == 0 {
		rate = "idle (no PATCHes)"
	}
	p("load\t%d conns (%d subscribed, %d failed), %d accounts, %d sessions, %s for %gs after %gs warmup, %s",
		r.Conns, r.Connected, r.SetupFailed, r.Accounts, r.Sessions, rate, r.DurationSec, r.WarmupSec, src)
	p("")
	p("\tcount\tp50\tp90\tp99\tp99.9\tmax")
	lat := func(name string, l Latency) {
		f := func(ms float64) string { return fmtNanos(int64(ms * 1e6)) }
		p("%s\t%d\t%s\t%s\t%s\t%s\t%s", name, l.Count, f(l.P50), f(l.P90), f(l.P99), f(l.P999), f(l.Max))
	}
	lat("PATCH latency", r.PatchLatency)
	lat("PATCH service time", r.PatchService)
	lat("delivery latency", r.DeliveryLatency)
	p("")
	p("PATCH/s achieved\t%.1f\t(sent %d, ok %d, failed %d)", r.PatchRate, r.PatchesSent, r.PatchesOK, r.PatchesFailed)
	p("deliveries/s\t%.1f", r.DeliveryRate)
	p("deliveries\t%d of %d expected", r.Received, r.Expected)
	p("lost\t%d", r.Lost)
	p("out-of-order\t%d", r.OutOfOrder)
	p("4008 closes\t%d\t(other closes %d, reconnects %d, fresh snapshots %d)", r.Closes4008, r.OtherCloses, r.Reconnects, r.Resnapshots)
	p("errors\t%d\t(protocol %d, unexpected versions %d, unknown sessions %d)", r.Errors, r.ProtocolErrors, r.VersionSkips, r.UnknownDeliveries)
	proc := func(name string, s *ProcStats) {
		if s == nil {
			return
		}
		p("%s RSS\t%.1f MB before, %.1f MB connected, %.1f MB at end: %.1f KB per connection", name, s.RSSBeforeMB, s.RSSConnectedMB, s.RSSEndMB, s.RSSPerConnKB)
		p("%s CPU\t%.2f cores (%.1f s): %.3g CPU-s per connection per second", name, s.CPUCores, s.CPUSeconds, s.CPUPerConnPerSec)
	}
	proc("server", r.Server)
	proc("bench", r.Client)
	for _, e := range r.ErrorSamples {
		p("error sample\t%s", e)
	}
	return tw.Flush()
}

// WriteJSON writes r as indented JSON.
func (r *Result) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}
