package redisstore

import (
	"testing"
	"time"

	"github.com/sessionhub/sessionhub/storetest"
)

// TestContract holds the Redis store to the contract suite every store passes.
func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T, o storetest.Options) storetest.Backend {
		return openStore(t, Config{StreamMax: o.StreamMax, Now: o.Now, ProbeInterval: 200 * time.Millisecond})
	})
}
