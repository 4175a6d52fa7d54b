package redistest

import (
	"context"
	"testing"
)

func TestStartKillRestart(t *testing.T) {
	s := Start(t)
	c := s.Client(t)
	ctx := context.Background()
	if err := c.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatalf("set: %v", err)
	}
	s.Kill()
	if err := c.Ping(ctx).Err(); err == nil {
		t.Fatal("ping after kill succeeded, want an error")
	}
	s.Restart(t)
	if got, err := c.Get(ctx, "k").Result(); err == nil {
		t.Fatalf("get after restart = %q, want the key gone with the data", got)
	}
}

func TestURLGivesDistinctPrefixes(t *testing.T) {
	u, p1 := URL(t)
	t.Logf("shared Redis: %s", u)
	_, p2 := URL(t)
	if p1 == p2 {
		t.Fatalf("prefixes %q and %q are equal, want one per call", p1, p2)
	}
}
