package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sessionhub/sessionhub/auth"
)

func selfPid() int { return os.Getpid() }

// mintTokens makes the service token (writes) and one viewer token per account
// (connections), or uses --token for everything.
func (b *Bench) mintTokens() error {
	b.viewer = make([]string, len(b.accounts))
	if len(b.cfg.Secret) == 0 {
		b.svcToken = b.cfg.Token
		for i := range b.viewer {
			b.viewer[i] = b.cfg.Token
		}
		return nil
	}
	now := time.Now()
	exp := now.Add(b.cfg.SetupTimeout + b.cfg.Warmup + b.cfg.Duration + time.Hour)
	tok, err := auth.Sign(b.cfg.Secret, auth.Claims{
		Subject: "bench-service", Name: "sessionhub-bench", Accounts: []string{"*"}, Role: auth.RoleService,
	}, exp, now)
	if err != nil {
		return fmt.Errorf("mint service token: %w", err)
	}
	b.svcToken = tok
	for i := range b.accounts {
		b.viewer[i], err = auth.Sign(b.cfg.Secret, auth.Claims{
			Subject: "bench-viewer", Name: "sessionhub-bench", Accounts: []string{b.accounts[i].id}, Role: auth.RoleViewer,
		}, exp, now)
		if err != nil {
			return fmt.Errorf("mint viewer token: %w", err)
		}
	}
	return nil
}

// hub returns the base URL for the i-th request or connection.
func (b *Bench) hub(i int) string { return b.cfg.Hubs[i%len(b.cfg.Hubs)] }

// createSessions POSTs every session (service token), PatchWorkers at a time.
// A session that already exists (a rerun with the same --prefix) is adopted
// if it has not ended.
func (b *Bench) createSessions(ctx context.Context) error {
	stop := b.progressLoop(ctx, b.setupLine)
	defer stop()
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var wg sync.WaitGroup
	next := make(chan int)
	for range b.cfg.PatchWorkers {
		wg.Go(func() {
			for i := range next {
				if err := b.createSession(ctx, i); err != nil {
					cancel(err)
				}
			}
		})
	}
	for i := range b.sessions {
		select {
		case next <- i:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
	}
	close(next)
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return fmt.Errorf("setup: create sessions: %w", err)
	}
	return nil
}

func (b *Bench) createSession(ctx context.Context, i int) error {
	s := &b.sessions[i]
	body, _ := json.Marshal(map[string]any{
		"id":          s.id,
		"accountId":   b.accounts[s.acct].id,
		"channel":     "Voice",
		"direction":   "Incoming",
		"displayName": "bench " + strconv.Itoa(i),
	})
	v, status, err := b.do(ctx, http.MethodPost, b.hub(i)+"/sessions", body)
	if err == nil && status == http.StatusConflict {
		v, status, err = b.do(ctx, http.MethodGet, b.hub(i)+"/sessions/"+url.PathEscape(s.id), nil)
	}
	if err != nil {
		return fmt.Errorf("session %s: %w", s.id, err)
	}
	if status != http.StatusOK {
		return fmt.Errorf("session %s: HTTP %d", s.id, status)
	}
	s.base = v
	s.known.Store(v)
	s.log.init(v)
	b.accounts[s.acct].versionSum.Add(v)
	b.sessionsCreated.Add(1)
	return nil
}

// do sends one REST request with the service token and returns the version
// from the ETag. A non-2xx status is returned with the server's message in err
// only when it is not 409 (which createSession handles).
func (b *Bench) do(ctx context.Context, method, u string, body []byte) (version int64, status int, err error) {
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, r)
	if err != nil {
		return 0, 0, err
	}
	req.Header.Set("Authorization", "Bearer "+b.svcToken)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := b.http.Do(req)
	if err != nil {
		return 0, 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusConflict {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 300))
		return 0, resp.StatusCode, fmt.Errorf("%s %s: HTTP %d: %s", method, u, resp.StatusCode, bytes.TrimSpace(msg))
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK {
		return 0, resp.StatusCode, nil
	}
	v, err := parseETag(resp.Header.Get("ETag"))
	if err != nil {
		return 0, resp.StatusCode, fmt.Errorf("%s %s: %w", method, u, err)
	}
	return v, resp.StatusCode, nil
}

// parseETag reads the strong ETag `"<version>"` of DESIGN §2.
func parseETag(tag string) (int64, error) {
	s, ok := strings.CutPrefix(tag, `"`)
	s, ok2 := strings.CutSuffix(s, `"`)
	v, err := strconv.ParseInt(s, 10, 64)
	if !ok || !ok2 || err != nil || v < 1 {
		return 0, fmt.Errorf("ETag %q: want \"<version>\" (DESIGN §2)", tag)
	}
	return v, nil
}

// connectAll starts every client and waits until each has subscribed and
// received its snapshot, or failed, or setupCtx ends. Clients keep running
// under runCtx; wg tracks them.
func (b *Bench) connectAll(setupCtx, runCtx context.Context, wg *sync.WaitGroup) {
	stop := b.progressLoop(setupCtx, b.setupLine)
	defer stop()
	transports := b.dialClients()
	sem := make(chan struct{}, b.cfg.DialConcurrency)
	var setupWG sync.WaitGroup
	b.clients = make([]*client, b.cfg.Conns)
	for i := range b.clients {
		a := i % len(b.accounts)
		c := &client{
			b: b, idx: i, acct: a,
			url:   wsURL(b.hub(i)),
			http:  transports[i%len(transports)],
			token: b.viewer[a],
			last:  make([]int64, len(b.accounts[a].sessions)),
		}
		b.clients[i] = c
	}
	for _, c := range b.clients {
		select {
		case sem <- struct{}{}:
		case <-setupCtx.Done():
			b.noteError("setup: timed out after %s before every connection was started: raise --setup-timeout or lower --conns", b.cfg.SetupTimeout)
			b.setupFailed.Add(int64(len(b.clients) - c.idx))
			setupWG.Wait()
			return
		}
		setupWG.Add(1)
		wg.Go(func() {
			c.run(setupCtx, runCtx, func() { <-sem; setupWG.Done() })
		})
	}
	setupWG.Wait()
}

// wsURL turns a hub's base URL into its WebSocket endpoint.
func wsURL(base string) string {
	if rest, ok := strings.CutPrefix(base, "https://"); ok {
		return "wss://" + rest + "/ws"
	}
	return "ws://" + strings.TrimPrefix(base, "http://") + "/ws"
}

// setupLine is the setup phase's progress line.
func (b *Bench) setupLine(elapsed time.Duration, _ bool) string {
	n, _ := b.errors()
	return fmt.Sprintf("setup %4.0fs: sessions %d/%d, connected %d/%d, subscribed %d, failed %d, errors %d",
		elapsed.Seconds(), b.sessionsCreated.Load(), len(b.sessions), b.connected.Load(), b.cfg.Conns,
		b.ready.Load(), b.setupFailed.Load(), n)
}

// progressLoop prints line(elapsed, false) every ProgressInterval until stop
// is called, which prints line(elapsed, true) once more.
func (b *Bench) progressLoop(ctx context.Context, line func(elapsed time.Duration, final bool) string) (stop func()) {
	if b.cfg.Progress == nil {
		return func() {}
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	began := time.Now()
	go func() {
		defer close(done)
		t := time.NewTicker(b.cfg.ProgressInterval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				fmt.Fprintln(b.cfg.Progress, line(time.Since(began), false))
			}
		}
	}()
	return func() {
		cancel()
		<-done
		fmt.Fprintln(b.cfg.Progress, line(time.Since(began), true))
	}
}
