package redisstore

import (
	_ "embed"

	"github.com/redis/go-redis/v9"
)

// The Lua scripts. go-redis's Script.Run sends EVALSHA and falls back to EVAL on
// NOSCRIPT, so a restarted or failed-over Redis reloads them on first use.
var (
	//go:embed cas.lua
	casSrc string
	//go:embed snapshot.lua
	snapshotSrc string
	//go:embed session.lua
	sessionSrc string
	//go:embed replay.lua
	replaySrc string
)

// scripts holds one compiled handle per script; each Store has its own.
type scripts struct {
	cas, snapshot, session, replay *redis.Script
}

func newScripts() scripts {
	return scripts{
		cas:      redis.NewScript(casSrc),
		snapshot: redis.NewScript(snapshotSrc),
		session:  redis.NewScript(sessionSrc),
		replay:   redis.NewScript(replaySrc),
	}
}
