package memstore_test

import (
	"testing"

	"github.com/sessionhub/sessionhub/memstore"
	"github.com/sessionhub/sessionhub/storetest"
)

func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T, o storetest.Options) storetest.Backend {
		s := memstore.New(memstore.Config{StreamMax: o.StreamMax, Now: o.Now})
		t.Cleanup(func() { _ = s.Close() })
		return s
	})
}
