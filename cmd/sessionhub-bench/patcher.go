package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"
)

// patchJob is one scheduled PATCH: which session, its sequence number in the
// run, and when it was due (ns since the bench started).
type patchJob struct {
	sess     int
	seq      int64
	intended int64
}

// load drives PATCHes at Rate for Warmup+Duration, open loop: PATCH i is due
// at start + i/Rate whatever happened to the ones before it, and its latency
// counts from that due time, so a stalled server shows up as latency instead
// of a lower send rate hiding it (coordinated omission). Each session belongs
// to one worker, so its PATCHes are sent one at a time and the version each
// will make is known before it is sent. onMeasure is called when warmup ends;
// onEnd with the measured duration once every PATCH has been answered.
func (b *Bench) load(ctx context.Context, onMeasure func(), onEnd func(time.Duration)) error {
	cfg := b.cfg
	stop := b.progressLoop(ctx, b.runLine())
	defer stop()

	jobs := make([]chan patchJob, cfg.PatchWorkers)
	var wg sync.WaitGroup
	for w := range jobs {
		jobs[w] = make(chan patchJob, 64)
		wg.Go(func() { b.patchWorker(ctx, jobs[w]) })
	}

	start := b.now()
	measureFrom := start + int64(cfg.Warmup)
	end := measureFrom + int64(cfg.Duration)
	total := int64(math.Round(cfg.Rate * (cfg.Warmup + cfg.Duration).Seconds()))
	if cfg.Idle {
		total = 0
	}
	if cfg.Warmup == 0 {
		b.measureFrom.Store(measureFrom)
		onMeasure()
	}
	due := func(i int64) int64 { return start + int64(float64(i)*1e9/cfg.Rate) }
	var i int64
schedule:
	for i < total {
		now := b.now()
		if now >= measureFrom && b.measureFrom.Load() != measureFrom {
			b.measureFrom.Store(measureFrom)
			onMeasure()
		}
		for ; i < total && due(i) <= now; i++ {
			j := patchJob{sess: int(i % int64(len(b.sessions))), seq: i, intended: due(i)}
			select {
			case jobs[j.sess%len(jobs)] <- j:
			case <-ctx.Done():
				break schedule
			}
		}
		if i < total {
			wait := time.Duration(due(i) - b.now())
			if mf := time.Duration(measureFrom - b.now()); mf > 0 && mf < wait {
				wait = mf
			}
			if wait > 0 {
				t := time.NewTimer(wait)
				select {
				case <-t.C:
				case <-ctx.Done():
					t.Stop()
					break schedule
				}
			}
		}
	}
	if b.measureFrom.Load() != measureFrom {
		b.measureFrom.Store(measureFrom)
		onMeasure()
	}
	if cfg.Idle {
		t := time.NewTimer(time.Duration(end - b.now()))
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
		}
	}
	for _, ch := range jobs {
		close(ch)
	}
	wg.Wait()
	measured := time.Duration(max(b.now(), end) - measureFrom)
	onEnd(measured)
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("run interrupted: %w", err)
	}
	return nil
}

// patchWorker sends its sessions' PATCHes one at a time.
func (b *Bench) patchWorker(ctx context.Context, jobs <-chan patchJob) {
	var body []byte
	for j := range jobs {
		if ctx.Err() != nil {
			continue // drain
		}
		body = b.patch(ctx, j, body[:0])
	}
}

// patch sends one PATCH that sets consoleData to a value no earlier PATCH of
// the run used, so that every PATCH is a change and makes a new version.
func (b *Bench) patch(ctx context.Context, j patchJob, body []byte) []byte {
	s := &b.sessions[j.sess]
	predicted := s.known.Load() + 1
	s.log.set(predicted, j.intended)
	body = append(body, `{"consoleData":"bench `...)
	body = strconv.AppendInt(body, j.seq, 10)
	body = append(body, `"}`...)
	u := b.hub(int(j.seq)) + "/sessions/" + url.PathEscape(s.id)
	req, err := http.NewRequestWithContext(ctx, http.MethodPatch, u, bytes.NewReader(body))
	if err != nil {
		b.patchFailed.Add(1)
		b.noteError("PATCH %s: %v", u, err)
		return body
	}
	req.Header.Set("Authorization", "Bearer "+b.svcToken)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	b.patchSent.Add(1)
	sentAt := b.now()
	resp, err := b.http.Do(req)
	if err != nil {
		// It may or may not have been stored: the next reply or a GET at the end tells.
		s.uncertain = true
		b.patchFailed.Add(1)
		if ctx.Err() == nil {
			b.noteError("PATCH %s: %v", u, err)
		}
		return body
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	done := b.now()
	if resp.StatusCode != http.StatusOK {
		b.patchFailed.Add(1)
		b.noteError("PATCH %s: HTTP %d", u, resp.StatusCode)
		if resp.StatusCode >= 500 {
			s.uncertain = true
		}
		return body
	}
	v, err := parseETag(resp.Header.Get("ETag"))
	if err != nil {
		s.uncertain = true
		b.patchFailed.Add(1)
		b.noteError("PATCH %s: %v", u, err)
		return body
	}
	if v != predicted && !s.uncertain {
		// Another writer touched the session, or the hub skipped a version.
		b.versionSkips.Add(1)
		if s.log.get(v) == 0 {
			s.log.set(v, j.intended)
		}
	}
	s.uncertain = false
	b.setKnown(s, v)
	b.patchOK.Add(1)
	if j.intended >= b.measureFrom.Load() {
		b.patchLat.Record(j.sess, done-j.intended)
		b.patchSvc.Record(j.sess, done-sentAt)
	}
	return body
}

// setKnown records a session's confirmed version and keeps its account's sum.
func (b *Bench) setKnown(s *benchSession, v int64) {
	if old := s.known.Load(); v > old {
		s.known.Store(v)
		b.accounts[s.acct].versionSum.Add(v - old)
	}
}

// resolveUncertain GETs every session whose last PATCH had no clear answer,
// so that the expected delivery count is exact.
func (b *Bench) resolveUncertain(ctx context.Context) {
	for i := range b.sessions {
		s := &b.sessions[i]
		if !s.uncertain {
			continue
		}
		v, _, err := b.do(ctx, http.MethodGet, b.hub(i)+"/sessions/"+url.PathEscape(s.id), nil)
		if err != nil {
			b.noteError("GET %s after a failed PATCH: %v (the lost count may be off)", s.id, err)
			continue
		}
		s.uncertain = false
		b.setKnown(s, v)
	}
}

// expectedAndReceived sums, over the clients that subscribed in setup, the
// deliveries they should have had so far and those they had.
func (b *Bench) expectedAndReceived() (expected, received, outOfOrder int64) {
	for _, c := range b.clients {
		if c == nil {
			continue
		}
		outOfOrder += c.outOfOrder.Load()
		if !c.counted.Load() {
			continue
		}
		expected += b.accounts[c.acct].versionSum.Load() - c.startSum.Load()
		received += c.received.Load()
	}
	return expected, received, outOfOrder
}

// waitTail waits up to Grace for the last deliveries to arrive.
func (b *Bench) waitTail(ctx context.Context) {
	deadline := time.Now().Add(b.cfg.Grace)
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	for time.Now().Before(deadline) {
		if e, r, _ := b.expectedAndReceived(); r >= e {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// runLine returns the run phase's progress line function: rates are per
// interval (over the whole phase on the final line), latencies cumulative
// over the measured window.
func (b *Bench) runLine() func(time.Duration, bool) string {
	var lastOK, lastRecv int64
	var lastT time.Duration
	return func(elapsed time.Duration, final bool) string {
		ok := b.patchOK.Load()
		exp, recv, ooo := b.expectedAndReceived()
		if final {
			lastOK, lastRecv, lastT = 0, 0, 0
		}
		dt := (elapsed - lastT).Seconds()
		if dt <= 0 {
			dt = 1
		}
		patchRate := float64(ok-lastOK) / dt
		recvRate := float64(recv-lastRecv) / dt
		lastOK, lastRecv, lastT = ok, recv, elapsed
		n, _ := b.errors()
		phase := "run"
		if final {
			phase = "done"
		} else if b.measureFrom.Load() > b.now() {
			phase = "warmup"
		}
		return fmt.Sprintf("%-6s %4.0fs: PATCH %7.0f/s (ok %d, failed %d), deliveries %8.0f/s, p99 PATCH %s e2e %s, behind %d, out-of-order %d, 4008 %d, errors %d",
			phase, elapsed.Seconds(), patchRate, ok, b.patchFailed.Load(), recvRate,
			fmtNanos(b.patchLat.Snapshot().Percentile(99)), fmtNanos(b.deliverLat.Snapshot().Percentile(99)),
			exp-recv, ooo, b.closes4008.Load(), n)
	}
}
