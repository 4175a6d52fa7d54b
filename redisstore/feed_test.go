package redisstore

import (
	"errors"
	"fmt"
	"testing"

	"github.com/sessionhub/sessionhub/internal/redistest"
	"github.com/sessionhub/sessionhub/session"
)

// TestReplayAfterTrim: once events after an offset are trimmed, Replay from it
// is ErrOffsetGone; an offset inside the retained window still replays exactly.
func TestReplayAfterTrim(t *testing.T) {
	s := openStore(t, Config{StreamMax: 20})
	snap0, err := s.AccountSnapshot(testCtx(t), "A1")
	if err != nil {
		t.Fatal(err)
	}
	mustCreate(t, s, "s1", "A1")
	evs, err := s.Replay(testCtx(t), "A1", snap0.Offset)
	if err != nil || len(evs) != 1 || evs[0].Version != 1 || evs[0].SessionID != "s1" {
		t.Fatalf("Replay before trimming: got %+v, %v; want the create", evs, err)
	}
	// MAXLEN ~ trims whole stream nodes, keeping at least the newest 20; write
	// far past that, and take an offset 11 events from the end.
	var mid string
	for i := range 250 {
		if i == 240 {
			snap, err := s.AccountSnapshot(testCtx(t), "A1")
			if err != nil {
				t.Fatal(err)
			}
			mid = snap.Offset
		}
		mustPatch(t, s, "s1", fmt.Sprint(i))
	}
	for _, since := range []string{snap0.Offset, evs[0].Offset} {
		if _, err := s.Replay(testCtx(t), "A1", since); !errors.Is(err, session.ErrOffsetGone) {
			t.Fatalf("Replay(%s) after trimming: got %v, want ErrOffsetGone", since, err)
		}
	}
	got, err := s.Replay(testCtx(t), "A1", mid)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 10 || got[0].Version != 242 || got[9].Version != 251 {
		t.Fatalf("Replay of the retained tail: got %d events, want versions 242..251", len(got))
	}
	for k := 1; k < len(got); k++ {
		a, _ := session.ParseOffset(got[k-1].Offset)
		b, _ := session.ParseOffset(got[k].Offset)
		if !a.Less(b) {
			t.Fatalf("offsets out of order: %s then %s", got[k-1].Offset, got[k].Offset)
		}
	}
}

// TestReplayBadOffsets: garbage, another epoch, or an offset past the newest
// event are ErrOffsetGone, never an error of another kind nor a recovery.
func TestReplayBadOffsets(t *testing.T) {
	s := openStore(t, Config{})
	mustCreate(t, s, "s1", "A1")
	snap, err := s.AccountSnapshot(testCtx(t), "A1")
	if err != nil {
		t.Fatal(err)
	}
	off, _ := session.ParseOffset(snap.Offset)
	future := off
	future.Ms += 1_000_000
	other := off
	other.Epoch += "x"
	for _, since := range []string{"", "garbage", "x:y", ":1-0", "e:1", "e:-1-0", "e:1-x", off.StreamID(), other.String(), future.String(), "e:99999999999999999999999-0"} {
		if _, err := s.Replay(testCtx(t), "A1", since); !errors.Is(err, session.ErrOffsetGone) {
			t.Errorf("Replay(%q): got %v, want ErrOffsetGone", since, err)
		}
	}
	if evs, err := s.Replay(testCtx(t), "A1", snap.Offset); err != nil || len(evs) != 0 {
		t.Fatalf("Replay from the newest offset: got %d events, %v; want none", len(evs), err)
	}
}

// TestEpochAfterDataLoss: a Redis that lost its data gives the account a new
// epoch, so old offsets are ErrOffsetGone rather than a false recovery.
func TestEpochAfterDataLoss(t *testing.T) {
	url, p := redistest.URL(t)
	s := openURL(t, url, Config{Prefix: p})
	mustCreate(t, s, "s1", "A1")
	snap, err := s.AccountSnapshot(testCtx(t), "A1")
	if err != nil {
		t.Fatal(err)
	}
	rc := rawClient(t, url)
	keys := rc.Keys(testCtx(t), p+":*").Val()
	rc.Del(testCtx(t), keys...)
	mustCreate(t, s, "s1", "A2") // the id is free again, in another account
	if _, err := s.Replay(testCtx(t), "A1", snap.Offset); !errors.Is(err, session.ErrOffsetGone) {
		t.Fatalf("Replay across data loss: got %v, want ErrOffsetGone", err)
	}
	// The cache said A1; the store finds the session where it now lives.
	acct, _, err := s.SessionSnapshot(testCtx(t), "s1")
	if err != nil || acct != "A2" {
		t.Fatalf("SessionSnapshot after the id moved: got %q, %v; want A2", acct, err)
	}
}

// TestEventFormat: events round-trip through the published and stored forms.
func TestEventFormat(t *testing.T) {
	h := eventHeader(7, true, "s-1", []string{"callState", "ended"})
	e, err := parseMessage("A1", "e ep 12-3 "+h+"\n{\"id\":\"s-1\"}")
	if err != nil {
		t.Fatal(err)
	}
	if e.AccountID != "A1" || e.SessionID != "s-1" || e.Version != 7 || !e.Ended || e.Offset != "ep:12-3" ||
		len(e.Changed) != 2 || e.Changed[1] != "ended" || string(e.Session) != `{"id":"s-1"}` {
		t.Fatalf("parseMessage: got %+v", e)
	}
	for _, bad := range []string{"", "p probe", "e ep 12-3", "e ep x-3 " + h + "\n{}", "e ep 1-1 x 0 s \n{}", "e ep 1-1 1 2 s \n{}", "e ep 1-1 1 0 s x\n"} {
		if _, err := parseMessage("A1", bad); err == nil {
			t.Errorf("parseMessage(%q): got no error", bad)
		}
	}
}
