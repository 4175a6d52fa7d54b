package redisstore

import (
	"context"
	"fmt"
	"strconv"

	"github.com/sessionhub/sessionhub/session"
)

// AccountSnapshot returns the account's active sessions and the offset they are
// current at, read by one script in the account's slot, so the snapshot and the
// offset agree: every event after the offset is newer than the snapshot.
func (s *Store) AccountSnapshot(ctx context.Context, accountID string) (session.Snapshot, error) {
	if !s.validID(accountID) {
		return session.Snapshot{}, badAccount(accountID)
	}
	keys := []string{s.k.active(accountID), s.k.log(accountID), s.k.epoch(accountID)}
	res, err := s.sc.snapshot.Run(ctx, s.rdb, keys, s.k.statePrefix(accountID), newEpoch()).Slice()
	if err != nil {
		return session.Snapshot{}, s.fail(ctx, "snapshot", err)
	}
	if len(res) < 2 || len(res)%2 != 0 {
		return session.Snapshot{}, s.fail(ctx, "snapshot", fmt.Errorf("snapshot script returned %d values", len(res)))
	}
	epoch, _ := res[0].(string)
	last, _ := res[1].(string)
	snap := session.Snapshot{Offset: epochOffset(epoch, last), Sessions: make([]session.Entry, 0, (len(res)-2)/2)}
	for i := 2; i+1 < len(res); i += 2 {
		ver, _ := res[i].(string)
		data, _ := res[i+1].(string)
		v, err := parseVersion(ver)
		if err != nil || data == "" {
			s.log.Warn("redisstore: skipping an unreadable session in a snapshot", "account", accountID)
			continue
		}
		snap.Sessions = append(snap.Sessions, session.Entry{Version: v, Session: []byte(data)})
	}
	return snap, nil
}

// SessionSnapshot returns one session, ended or not, with its account's offset.
func (s *Store) SessionSnapshot(ctx context.Context, sessionID string) (string, session.Snapshot, error) {
	acct, err := s.accountOf(ctx, sessionID)
	if err != nil {
		return "", session.Snapshot{}, err
	}
	keys := []string{s.k.state(acct, sessionID), s.k.log(acct), s.k.epoch(acct)}
	res, err := s.sc.session.Run(ctx, s.rdb, keys, newEpoch()).Slice()
	if err != nil {
		return "", session.Snapshot{}, s.fail(ctx, "snapshot", err)
	}
	if len(res) != 4 {
		return "", session.Snapshot{}, s.fail(ctx, "snapshot", fmt.Errorf("session script returned %d values", len(res)))
	}
	ver, _ := res[2].(string)
	data, _ := res[3].(string)
	if ver == "" || data == "" {
		if s.recheck(ctx, sessionID, acct) {
			return s.SessionSnapshot(ctx, sessionID)
		}
		return "", session.Snapshot{}, notFound(sessionID)
	}
	v, err := parseVersion(ver)
	if err != nil {
		return "", session.Snapshot{}, s.fail(ctx, "snapshot", err)
	}
	epoch, _ := res[0].(string)
	last, _ := res[1].(string)
	return acct, session.Snapshot{
		Offset:   epochOffset(epoch, last),
		Sessions: []session.Entry{{Version: v, Session: []byte(data)}},
	}, nil
}

// Replay returns the account's events after since, exactly, or
// session.ErrOffsetGone when since is garbage, of another epoch, or when any
// event after it has been trimmed from the stream.
func (s *Store) Replay(ctx context.Context, accountID, since string) ([]session.Event, error) {
	if !s.validID(accountID) {
		return nil, badAccount(accountID)
	}
	off, err := session.ParseOffset(since)
	if err != nil {
		return nil, session.Errorf(session.ErrOffsetGone, "offset %q is not one of this store's offsets: take a fresh snapshot.", trunc(since))
	}
	keys := []string{s.k.log(accountID), s.k.epoch(accountID)}
	res, err := s.sc.replay.Run(ctx, s.rdb, keys, off.Epoch, off.StreamID()).Slice()
	if err != nil {
		return nil, s.fail(ctx, "replay", err)
	}
	if ok, _ := res[0].(int64); ok != 1 || len(res) != 2 {
		return nil, session.Errorf(session.ErrOffsetGone, "the changes after offset %s are no longer all retained: take a fresh snapshot.", trunc(since))
	}
	entries, err := entriesOf(res[1])
	if err != nil {
		return nil, s.fail(ctx, "replay", err)
	}
	out := make([]session.Event, 0, len(entries))
	for _, m := range entries {
		e, err := parseEntry(accountID, off.Epoch, m)
		if err != nil {
			// An entry we cannot read breaks exactness: the caller must resync.
			s.log.Warn("redisstore: unreadable stream entry", "account", accountID, "id", m.id)
			return nil, session.Errorf(session.ErrOffsetGone, "the changes after offset %s cannot all be replayed: take a fresh snapshot.", trunc(since))
		}
		out = append(out, e)
	}
	return out, nil
}

func parseVersion(s string) (int64, error) {
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v < 1 {
		return 0, fmt.Errorf("stored version %q is not a positive number", trunc(s))
	}
	return v, nil
}
