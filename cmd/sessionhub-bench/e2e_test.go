package main

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/sessionhub/sessionhub/api"
	"github.com/sessionhub/sessionhub/auth"
	"github.com/sessionhub/sessionhub/hub"
	"github.com/sessionhub/sessionhub/memstore"
)

const testSecret = "bench-test-secret"

// startHub runs a real sessionhub (memstore, hub, api) on an httptest server.
func startHub(t testing.TB) string {
	t.Helper()
	a, err := auth.New(auth.Config{Secret: []byte(testSecret)})
	if err != nil {
		t.Fatal(err)
	}
	ms := memstore.New(memstore.Config{})
	quiet := slog.New(slog.DiscardHandler)
	h := hub.New(hub.Config{Feed: ms, Broker: ms, Auth: a, Logger: quiet})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.Run(ctx) }()
	srv := httptest.NewServer(api.New(api.Config{Store: ms, Auth: a, Live: h, Logger: quiet}))
	t.Cleanup(func() {
		sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer scancel()
		_ = h.Shutdown(sctx)
		srv.Close()
		cancel()
		if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("hub.Run: %v", err)
		}
		_ = ms.Close()
	})
	return srv.URL
}

// TestBenchAgainstRealHub drives a real in-process hub and checks that every
// PATCH reaches every subscribed connection, in order.
func TestBenchAgainstRealHub(t *testing.T) {
	url := startHub(t)
	var progress bytes.Buffer
	cfg := Config{
		Hubs:             []string{url},
		Secret:           []byte(testSecret),
		Conns:            20,
		Accounts:         2,
		Sessions:         10,
		Rate:             50,
		Duration:         2 * time.Second,
		Warmup:           200 * time.Millisecond,
		Grace:            5 * time.Second,
		SetupTimeout:     30 * time.Second,
		ProgressInterval: 500 * time.Millisecond,
		Progress:         &progress,
		Prefix:           "e2e",
	}
	res, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatalf("Run: %v\nprogress:\n%s", err, progress.String())
	}
	var table bytes.Buffer
	if err := res.WriteTable(&table); err != nil {
		t.Fatal(err)
	}
	t.Logf("result:\n%s", table.String())
	if res.Connected != 20 {
		t.Errorf("connected = %d, want 20", res.Connected)
	}
	if res.Lost != 0 || res.OutOfOrder != 0 || res.Errors != 0 {
		t.Errorf("lost %d, out of order %d, errors %d (%q); want all 0", res.Lost, res.OutOfOrder, res.Errors, res.ErrorSamples)
	}
	// 110 PATCHes over 10 sessions; each account's 5 sessions have 10 watchers.
	wantPatches := int64(50 * 2.2)
	if res.PatchesOK != wantPatches {
		t.Errorf("PATCHes ok = %d, want %d", res.PatchesOK, wantPatches)
	}
	if want := wantPatches * 10; res.Expected != want || res.Received != want {
		t.Errorf("deliveries: received %d, expected %d; want both %d", res.Received, res.Expected, want)
	}
	if res.VersionSkips != 0 || res.UnknownDeliveries != 0 {
		t.Errorf("version skips %d, unknown deliveries %d; want 0", res.VersionSkips, res.UnknownDeliveries)
	}
	// The measured window holds 100 PATCHes, each delivered to 10 connections.
	if got, want := res.DeliveryLatency.Count, uint64(1000); got != want {
		t.Errorf("delivery latency samples = %d, want %d", got, want)
	}
	if got, want := res.PatchLatency.Count, uint64(100); got != want {
		t.Errorf("PATCH latency samples = %d, want %d", got, want)
	}
	if res.Failed() != "" {
		t.Errorf("Failed() = %q, want a pass", res.Failed())
	}
	if !strings.Contains(progress.String(), "connected 20/20") {
		t.Errorf("progress never showed every connection:\n%s", progress.String())
	}
}

// TestRunCommand runs the command's run function against a real hub: flags,
// the table on stdout and the JSON file.
func TestRunCommand(t *testing.T) {
	url := startHub(t)
	jsonPath := t.TempDir() + "/out.json"
	var stdout, stderr bytes.Buffer
	args := []string{"--hub", url, "--conns", "4", "--accounts", "2", "--sessions", "4", "--rate", "20",
		"--duration", "500ms", "--json", jsonPath, "--src-ips", "2", "--quiet"}
	getenv := func(k string) string {
		if k == "SESSIONHUB_AUTH_SECRET" {
			return testSecret
		}
		return ""
	}
	if err := run(context.Background(), args, getenv, &stdout, &stderr); err != nil {
		t.Fatalf("run: %v\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
	}
	for _, want := range []string{"delivery latency", "lost", "out-of-order", "4008 closes"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, stdout.String())
		}
	}
	if stderr.Len() != 0 {
		t.Errorf("--quiet run wrote to stderr: %s", stderr.String())
	}
}

// TestRunFailsWithWrongSecret: a hub that refuses the tokens is a clear error.
func TestRunFailsWithWrongSecret(t *testing.T) {
	url := startHub(t)
	var stdout, stderr bytes.Buffer
	args := []string{"--hub", url, "--secret", "not-the-secret", "--conns", "2", "--accounts", "1", "--sessions", "1", "--quiet"}
	err := run(context.Background(), args, func(string) string { return "" }, &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), "401") {
		t.Errorf("run with a wrong secret: err = %v, want an error naming HTTP 401", err)
	}
}
