package hub

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sessionhub/sessionhub/session"
)

// vanishing is a backend whose sessions can be made to disappear, as after
// retention or a Redis that lost its data.
type vanishing struct {
	backend
	gone atomic.Bool
}

func (v *vanishing) SessionSnapshot(ctx context.Context, id string) (string, session.Snapshot, error) {
	if v.gone.Load() {
		return "", session.Snapshot{}, session.ErrNotFound
	}
	return v.backend.SessionSnapshot(ctx, id)
}

// TestResetOfVanishedSessionKeepsAnOffset: a session channel whose session is
// gone at a reset gets an empty snapshot that still carries its account's
// offset, so the client can resume from it like from any other.
func TestResetOfVanishedSessionKeepsAnOffset(t *testing.T) {
	st := &vanishing{backend: openMemstore(t)}
	e := newEnv(t, st, testConfig())
	mustCreate(t, st, "s1", "A")
	c := e.dial(t, token(t, "u1", []string{"A"}, time.Hour))
	c.welcome()
	if snap, _ := c.subscribe("1", "session:s1", ""); len(snap.Sessions) != 1 {
		t.Fatalf("first snapshot holds %d sessions, want 1", len(snap.Sessions))
	}
	st.gone.Store(true)
	e.hub.HandleReset("A")
	snap := c.expect("snapshot")
	if len(snap.Sessions) != 0 {
		t.Fatalf("snapshot after the session vanished holds %d sessions, want 0", len(snap.Sessions))
	}
	if _, err := session.ParseOffset(snap.Offset); err != nil {
		t.Fatalf("snapshot offset %q: %v; want the account's offset", snap.Offset, err)
	}
}
