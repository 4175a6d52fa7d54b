package redisstore

import (
	"strconv"
	"testing"

	"github.com/sessionhub/sessionhub/session"
)

// BenchmarkPatch measures the PATCH path on Redis: a cached account lookup, the
// HMGET, the rules, and the compare-and-set script (store, index, stream, publish).
func BenchmarkPatch(b *testing.B) {
	s := openStore(b, Config{})
	mustCreate(b, s, "s1", "A1")
	ctx := testCtx(b)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		c := "note " + strconv.Itoa(i)
		if _, err := s.Update(ctx, "s1", session.Cond{}, "agent", session.Patch{ConsoleData: &c}.Mutation()); err != nil {
			b.Fatal(err)
		}
	}
}
